package rpc_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/idnum"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

var seq atomic.Int64

// personID returns a fresh valid 身份证号 born on birth (YYYYMMDD).
func personID(t testing.TB, birth string) string {
	t.Helper()
	first17 := fmt.Sprintf("330483%s%03d", birth, seq.Add(1)%1000)
	c, err := idnum.CheckDigit(first17)
	require.NoError(t, err)
	return first17 + string(c)
}

func validFacts() *sanzhiv1.HouseholdFacts {
	return &sanzhiv1.HouseholdFacts{
		Members: 4, Labourers: 2, AnnualIncome: "86000.50", LandAreaMu: "3.20", CollectiveShares: "10",
		ExistingBankDebt: "0", Source: "村委会登记", AsOfDate: "2026-01-15",
	}
}

func validCreate(t testing.TB, village string) *sanzhiv1.CreateHouseholdRequest {
	return &sanzhiv1.CreateHouseholdRequest{
		Parent: "villages/" + village,
		Household: &sanzhiv1.Household{
			HeadName: "沈建国", HeadIdNumber: personID(t, "19680315"), Group: 3,
			Address: "南阳村3组27号", RegisteredDate: "2001-05-01", Facts: validFacts(),
		},
		RequestId: fmt.Sprintf("req-%d", seq.Add(1)),
	}
}

func TestHouseholds(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		t.Run("HappyPath", func(t *testing.T) { testHappyPath(t, e) })
		t.Run("BadInput", func(t *testing.T) { testBadInput(t, e) })
		t.Run("Paging", func(t *testing.T) { testPaging(t, e) })
	})
}

func testHappyPath(t *testing.T, e *env) {
	ctx := e.as("clerk-a")
	req := validCreate(t, villageA)
	raw := req.Household.HeadIdNumber
	h, err := e.client.CreateHousehold(ctx, req)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(h.Name, "villages/"+villageA+"/households/"))
	assert.Empty(t, h.HeadIdNumber, "the raw number is never returned")
	assert.Equal(t, raw[:6]+"********"+raw[14:], h.HeadIdNumberMasked)
	assert.NotContains(t, prototext.Format(h), raw)
	assert.Equal(t, "86000.50", h.Facts.AnnualIncome)
	assert.Equal(t, "0.00", h.Facts.ExistingBankDebt)
	assert.Equal(t, int64(1), h.Facts.Version)
	assert.Equal(t, e.ids["clerk-a"], h.Facts.RecordedBy)

	again, err := e.client.CreateHousehold(ctx, req)
	require.NoError(t, err, "a retried request is idempotent")
	assert.Equal(t, h.Name, again.Name)

	got, err := e.client.GetHousehold(e.as("reviewer-a"), &sanzhiv1.GetHouseholdRequest{Name: h.Name})
	require.NoError(t, err)
	assert.True(t, proto.Equal(h, got), "get returns what create returned")
	_, err = e.client.GetHousehold(e.as("regulator"), &sanzhiv1.GetHouseholdRequest{Name: h.Name})
	require.NoError(t, err, "regulators read every village")

	found, err := e.client.LookupHousehold(ctx, &sanzhiv1.LookupHouseholdRequest{Parent: "villages/" + villageA, HeadIdNumber: raw})
	require.NoError(t, err)
	assert.Equal(t, h.Name, found.Name)

	f2 := validFacts()
	f2.AnnualIncome = "120000"
	f2.ExistingBankDebt = "50000.00"
	up, err := e.client.UpdateHousehold(ctx, &sanzhiv1.UpdateHouseholdRequest{
		Household:  &sanzhiv1.Household{Name: h.Name, Address: "南阳村3组28号", Facts: f2},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"address", "facts"}},
	})
	require.NoError(t, err)
	assert.Equal(t, "南阳村3组28号", up.Address)
	assert.Equal(t, h.HeadName, up.HeadName, "fields outside the mask are kept")
	assert.Equal(t, int64(2), up.Facts.Version)
	assert.Equal(t, "120000.00", up.Facts.AnnualIncome)

	hist, err := e.client.ListHouseholdFacts(ctx, &sanzhiv1.ListHouseholdFactsRequest{Parent: h.Name})
	require.NoError(t, err)
	require.Len(t, hist.Facts, 2)
	assert.Equal(t, int64(2), hist.Facts[0].Version)
	assert.Equal(t, "86000.50", hist.Facts[1].AnnualIncome, "history keeps the old version unchanged")

	// A household principal reads its own record and nothing else.
	id := strings.TrimPrefix(h.Name, "villages/"+villageA+"/households/")
	e.addPrincipal(t, "hh-"+id, access.Household, access.Scope{Household: id}, false)
	_, err = e.client.GetHousehold(e.as("hh-"+id), &sanzhiv1.GetHouseholdRequest{Name: h.Name})
	require.NoError(t, err)
}

// testBadInput: every case fails with the right code and field, and none
// of them writes anything.
func testBadInput(t *testing.T, e *env) {
	existing, err := e.client.CreateHousehold(e.as("clerk-a"), validCreate(t, villageA))
	require.NoError(t, err)
	existingReq := validCreate(t, villageA)
	_, err = e.client.CreateHousehold(e.as("clerk-a"), existingReq)
	require.NoError(t, err)
	before := countAll(t, e)

	future := time.Now().AddDate(0, 0, 3).Format("2006-01-02")
	futureBirth := time.Now().AddDate(0, 0, 3).Format("20060102")
	create := func(mut func(r *sanzhiv1.CreateHouseholdRequest)) func() error {
		return func() error {
			r := validCreate(t, villageA)
			mut(r)
			_, err := e.client.CreateHousehold(e.as("clerk-a"), r)
			return err
		}
	}
	createAs := func(who string) func() error {
		return func() error {
			_, err := e.client.CreateHousehold(e.as(who), validCreate(t, villageA))
			return err
		}
	}
	update := func(who string, r *sanzhiv1.UpdateHouseholdRequest) func() error {
		return func() error { _, err := e.client.UpdateHousehold(e.as(who), r); return err }
	}
	get := func(who, name string) func() error {
		return func() error {
			_, err := e.client.GetHousehold(e.as(who), &sanzhiv1.GetHouseholdRequest{Name: name})
			return err
		}
	}
	list := func(r *sanzhiv1.ListHouseholdsRequest) func() error {
		return func() error { _, err := e.client.ListHouseholds(e.as("clerk-a"), r); return err }
	}
	badCheck := existingReq.Household.HeadIdNumber[:17] + "0"
	if badCheck == existingReq.Household.HeadIdNumber {
		badCheck = existingReq.Household.HeadIdNumber[:17] + "1"
	}
	otherVillageName := strings.Replace(existing.Name, villageA, villageB, 1)
	mask := func(p ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: p} }

	cases := []struct {
		name  string
		call  func() error
		code  codes.Code
		field string
		desc  string
	}{
		{"parent missing", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Parent = "" }), codes.InvalidArgument, "parent", ""},
		{"parent short code", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Parent = "villages/33048310220" }), codes.InvalidArgument, "parent", "12 digits"},
		{"parent wrong collection", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Parent = "towns/" + villageA }), codes.InvalidArgument, "parent", ""},
		{"parent is a town", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Parent = "villages/330483102000" }), codes.InvalidArgument, "parent", ""},
		{"household missing", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Household = nil }), codes.InvalidArgument, "household", ""},
		{"head name empty", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Household.HeadName = "" }), codes.InvalidArgument, "household.head_name", "required"},
		{"head name too long", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Household.HeadName = strings.Repeat("沈", 65) }), codes.InvalidArgument, "household.head_name", ""},
		{"id number empty", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Household.HeadIdNumber = "" }), codes.InvalidArgument, "household.head_id_number", "required"},
		{"id number check digit", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Household.HeadIdNumber = badCheck }), codes.InvalidArgument, "household.head_id_number", "check digit is"},
		{"id number 15 chars", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Household.HeadIdNumber = "330483680315123" }), codes.InvalidArgument, "household.head_id_number", "18 characters"},
		{"id number bad month", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Household.HeadIdNumber = personID(t, "19681315") }), codes.InvalidArgument, "household.head_id_number", "not a valid date"},
		{"id number unknown province", create(func(r *sanzhiv1.CreateHouseholdRequest) {
			id := personID(t, "19680315")
			first := "99" + id[2:17]
			c, _ := idnum.CheckDigit(first)
			r.Household.HeadIdNumber = first + string(c)
		}), codes.InvalidArgument, "household.head_id_number", "province"},
		{"id number born in future", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Household.HeadIdNumber = personID(t, futureBirth) }), codes.InvalidArgument, "household.head_id_number", "future"},
		{"id number letters", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Household.HeadIdNumber = "33048319680315A23X" }), codes.InvalidArgument, "household.head_id_number", "digit"},
		{"group zero", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Household.Group = 0 }), codes.InvalidArgument, "household.group", "between 1 and 99"},
		{"group 100", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Household.Group = 100 }), codes.InvalidArgument, "household.group", ""},
		{"registered not a date", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Household.RegisteredDate = "2020-13-01" }), codes.InvalidArgument, "household.registered_date", ""},
		{"registered wrong format", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Household.RegisteredDate = "20200101" }), codes.InvalidArgument, "household.registered_date", ""},
		{"registered in future", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Household.RegisteredDate = future }), codes.InvalidArgument, "household.registered_date", "future"},
		{"facts missing", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Household.Facts = nil }), codes.InvalidArgument, "household.facts", "required"},
		{"members zero", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Household.Facts.Members = 0 }), codes.InvalidArgument, "household.facts.members", ""},
		{"labourers exceed members", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Household.Facts.Labourers = 5 }), codes.InvalidArgument, "household.facts.labourers", "members (4)"},
		{"income negative", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Household.Facts.AnnualIncome = "-5" }), codes.InvalidArgument, "household.facts.annual_income", ""},
		{"income exponent", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Household.Facts.AnnualIncome = "1e5" }), codes.InvalidArgument, "household.facts.annual_income", ""},
		{"income three decimals", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Household.Facts.AnnualIncome = "12.345" }), codes.InvalidArgument, "household.facts.annual_income", ""},
		{"debt empty", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Household.Facts.ExistingBankDebt = "" }), codes.InvalidArgument, "household.facts.existing_bank_debt", ""},
		{"facts source empty", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Household.Facts.Source = "" }), codes.InvalidArgument, "household.facts.source", ""},
		{"facts as-of in future", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.Household.Facts.AsOfDate = future }), codes.InvalidArgument, "household.facts.as_of_date", "future"},
		{"request id empty", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.RequestId = "" }), codes.InvalidArgument, "request_id", ""},
		{"same head twice", create(func(r *sanzhiv1.CreateHouseholdRequest) {
			r.Household.HeadIdNumber = existingReq.Household.HeadIdNumber
		}), codes.AlreadyExists, "", ""},
		{"request id reused", create(func(r *sanzhiv1.CreateHouseholdRequest) { r.RequestId = existingReq.RequestId }), codes.AlreadyExists, "", ""},
		{"clerk of another village", func() error {
			_, err := e.client.CreateHousehold(e.as("clerk-b"), validCreate(t, villageA))
			return err
		}, codes.PermissionDenied, "", ""},
		{"reviewer may not create", createAs("reviewer-a"), codes.PermissionDenied, "", ""},
		{"bank may not create", createAs("bank"), codes.PermissionDenied, "", ""},
		{"operator may not create", createAs("operator"), codes.PermissionDenied, "", ""},
		{"no credentials", func() error {
			_, err := e.client.CreateHousehold(context.Background(), validCreate(t, villageA))
			return err
		}, codes.Unauthenticated, "", ""},
		{"unknown key", func() error {
			ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer sz_nope")
			_, err := e.client.CreateHousehold(ctx, validCreate(t, villageA))
			return err
		}, codes.Unauthenticated, "", ""},
		{"not a bearer token", func() error {
			ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Basic abc")
			_, err := e.client.CreateHousehold(ctx, validCreate(t, villageA))
			return err
		}, codes.Unauthenticated, "", ""},
		{"revoked key", createAs("revoked"), codes.Unauthenticated, "", ""},
		{"demo key outside demo mode", createAs("demo-clerk"), codes.Unauthenticated, "", ""},
		{"get malformed name", get("clerk-a", "households/x"), codes.InvalidArgument, "name", ""},
		{"get id not a uuid", get("clerk-a", "villages/"+villageA+"/households/42"), codes.InvalidArgument, "name", "UUID"},
		{"get unknown id", get("clerk-a", "villages/"+villageA+"/households/0190a000-0000-7000-8000-000000000000"), codes.NotFound, "", ""},
		{"get under the wrong village", get("clerk-b", otherVillageName), codes.NotFound, "", ""},
		{"get out of scope", get("clerk-b", existing.Name), codes.PermissionDenied, "", ""},
		{"bank may not read without consent", get("bank", existing.Name), codes.PermissionDenied, "", ""},
		{"list page size negative", list(&sanzhiv1.ListHouseholdsRequest{Parent: "villages/" + villageA, PageSize: -1}), codes.InvalidArgument, "page_size", ""},
		{"list page size too big", list(&sanzhiv1.ListHouseholdsRequest{Parent: "villages/" + villageA, PageSize: 1001}), codes.InvalidArgument, "page_size", ""},
		{"list bad token", list(&sanzhiv1.ListHouseholdsRequest{Parent: "villages/" + villageA, PageToken: "!!"}), codes.InvalidArgument, "page_token", ""},
		{"list out of scope", list(&sanzhiv1.ListHouseholdsRequest{Parent: "villages/" + villageB}), codes.PermissionDenied, "", ""},
		{"update empty mask", update("clerk-a", &sanzhiv1.UpdateHouseholdRequest{Household: &sanzhiv1.Household{Name: existing.Name}, UpdateMask: mask()}), codes.InvalidArgument, "update_mask", ""},
		{"update id number", update("clerk-a", &sanzhiv1.UpdateHouseholdRequest{Household: &sanzhiv1.Household{Name: existing.Name}, UpdateMask: mask("head_id_number")}), codes.InvalidArgument, "update_mask", "cannot be changed"},
		{"update unknown path", update("clerk-a", &sanzhiv1.UpdateHouseholdRequest{Household: &sanzhiv1.Household{Name: existing.Name}, UpdateMask: mask("village_code")}), codes.InvalidArgument, "update_mask", "not an updatable"},
		{"update facts missing", update("clerk-a", &sanzhiv1.UpdateHouseholdRequest{Household: &sanzhiv1.Household{Name: existing.Name}, UpdateMask: mask("facts")}), codes.InvalidArgument, "household.facts", ""},
		{"update bad facts", update("clerk-a", &sanzhiv1.UpdateHouseholdRequest{Household: &sanzhiv1.Household{Name: existing.Name, Facts: &sanzhiv1.HouseholdFacts{Members: 2, Labourers: 3, AnnualIncome: "1", LandAreaMu: "1", CollectiveShares: "1", ExistingBankDebt: "1", Source: "x", AsOfDate: "2026-01-01"}}, UpdateMask: mask("facts")}), codes.InvalidArgument, "household.facts.labourers", ""},
		{"update unknown household", update("clerk-a", &sanzhiv1.UpdateHouseholdRequest{Household: &sanzhiv1.Household{Name: "villages/" + villageA + "/households/0190a000-0000-7000-8000-000000000000", Address: "x"}, UpdateMask: mask("address")}), codes.NotFound, "", ""},
		{"update out of scope", update("clerk-b", &sanzhiv1.UpdateHouseholdRequest{Household: &sanzhiv1.Household{Name: existing.Name, Address: "x"}, UpdateMask: mask("address")}), codes.PermissionDenied, "", ""},
		{"lookup bad id number", func() error {
			_, err := e.client.LookupHousehold(e.as("clerk-a"), &sanzhiv1.LookupHouseholdRequest{Parent: "villages/" + villageA, HeadIdNumber: badCheck})
			return err
		}, codes.InvalidArgument, "head_id_number", "check digit"},
		{"lookup registered elsewhere", func() error {
			_, err := e.client.LookupHousehold(e.as("clerk-b"), &sanzhiv1.LookupHouseholdRequest{Parent: "villages/" + villageB, HeadIdNumber: existingReq.Household.HeadIdNumber})
			return err
		}, codes.NotFound, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			requireCode(t, tc.call(), tc.code, tc.field, tc.desc)
		})
	}
	require.GreaterOrEqual(t, len(cases), 30)
	assert.Equal(t, before, countAll(t, e), "bad input writes nothing")
}

// countAll counts households and facts versions of both villages, as the
// regulator sees them.
func countAll(t *testing.T, e *env) [2]int {
	t.Helper()
	var n [2]int
	for _, v := range []string{villageA, villageB} {
		token := ""
		for {
			resp, err := e.client.ListHouseholds(e.as("regulator"), &sanzhiv1.ListHouseholdsRequest{Parent: "villages/" + v, PageSize: 1000, PageToken: token})
			require.NoError(t, err)
			for _, h := range resp.Households {
				n[0]++
				n[1] += int(h.Facts.Version)
			}
			if token = resp.NextPageToken; token == "" {
				break
			}
		}
	}
	return n
}

func testPaging(t *testing.T, e *env) {
	ctx := e.as("clerk-b")
	var want []string
	for range 7 {
		h, err := e.client.CreateHousehold(ctx, validCreate(t, villageB))
		require.NoError(t, err)
		want = append(want, h.Name)
	}
	var got []string
	token := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10)
		resp, err := e.client.ListHouseholds(ctx, &sanzhiv1.ListHouseholdsRequest{Parent: "villages/" + villageB, PageSize: 3, PageToken: token})
		require.NoError(t, err)
		assert.LessOrEqual(t, len(resp.Households), 3)
		for _, h := range resp.Households {
			got = append(got, h.Name)
		}
		if token = resp.NextPageToken; token == "" {
			break
		}
		// A token is bound to its query: reusing it for another village fails.
		_, err = e.client.ListHouseholds(e.as("regulator"), &sanzhiv1.ListHouseholdsRequest{Parent: "villages/" + villageA, PageToken: token})
		requireCode(t, err, codes.InvalidArgument, "page_token", "")
	}
	assert.Equal(t, want, got)
}
