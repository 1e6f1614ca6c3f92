package rpc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// The other bank's line of the exposure test: figures no response to
// this bank may carry. The cap of the example policy is 500000, so this
// leaves room of 20000.37: the cap binds and the limit rounds to 20000.
const (
	otherLimit = "479999.63"
	otherDrawn = "123457.89"
	otherRoom  = "20000.37"
)

func TestLookupCustomer(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := lendingEnv(t, st)
		ctx := context.Background()
		req := validCreate(t, villageA)
		idNumber := req.Household.HeadIdNumber
		h, err := e.client.CreateHousehold(e.as("clerk-a"), req)
		require.NoError(t, err)
		_, hid, err := household.ParseName(h.Name, "name")
		require.NoError(t, err)
		hhP := "hh-" + hid
		e.addPrincipal(t, hhP, access.Household, access.Scope{Household: hid}, false)
		submitAndApprove(t, e, listingReq(e, h.Name, sanzhiv1.EvidenceKind_EVIDENCE_KIND_STAR_RATING))

		lookup := func(who, bank, id, purpose string) (*sanzhiv1.LookupCustomerResponse, error) {
			return e.credit.LookupCustomer(e.as(who), &sanzhiv1.LookupCustomerRequest{Bank: bank, IdNumber: id, Purpose: purpose})
		}
		records := func() []string {
			_, err := e.log.Publish(ctx)
			require.NoError(t, err)
			recs, err := e.consents.ListQueryRecords(e.as(hhP), &sanzhiv1.ListQueryRecordsRequest{Parent: h.Name})
			require.NoError(t, err)
			var out []string
			for _, r := range recs.Records {
				if r.Method == credit.MethodLookup {
					out = append(out, r.Outcome+"/"+r.Basis)
				}
			}
			return out
		}

		// No consent: refused, naming neither the person nor the household;
		// an unregistered number gets the very same refusal.
		_, err = lookup("officer", bankName, idNumber, "assessment")
		noConsent := requireRefused(t, err, idNumber, h.Name)
		unknown := unregisteredID(t, idNumber)
		_, err = lookup("officer", bankName, unknown, "assessment")
		assert.Equal(t, noConsent, requireRefused(t, err, unknown, h.Name), "unknown and unconsented look alike")
		assert.Equal(t, []string{"denied/"}, records(), "the refused look-up is the household's query record")

		// Bad input: the field is named, the number never echoed.
		bad := idNumber[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", idNumber[17])+1)%11])
		_, err = lookup("officer", bankName, bad, "assessment")
		requireInvalid(t, err, "id_number")
		assert.NotContains(t, err.Error(), bad)
		_, err = lookup("officer", bankName, idNumber, "marketing")
		requireInvalid(t, err, "purpose")

		// Who may ask: the bank's own officer only.
		_, err = lookup("officer-other", bankName, idNumber, "assessment")
		assert.Equal(t, codes.PermissionDenied, status.Code(err))
		assert.NotContains(t, err.Error(), "live consent", "refused before the rule is asked")
		for _, who := range []string{"risk-1", "clerk-a", "regulator", hhP} {
			_, err = lookup(who, bankName, idNumber, "assessment")
			assert.Equal(t, codes.PermissionDenied, status.Code(err), who)
		}
		assert.Equal(t, []string{"denied/"}, records(), "a refused caller leaves no look-up")

		// A line at another bank, then consent and an assessment here.
		otherBankLine(t, st, h.Name)
		counterConsent(t, e, h.Name, hhP, sha)
		// The other bank has no consent: still refused there.
		_, err = lookup("officer-other", "banks/other-bank", idNumber, "assessment")
		requireRefused(t, err, idNumber, h.Name)
		_, err = e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: product, Household: h.Name})
		require.NoError(t, err)

		res, err := lookup("officer", bankName, strings.ToLower(idNumber), "assessment")
		require.NoError(t, err)
		assert.Equal(t, h.Name, res.Household)
		assert.Equal(t, "consent", res.Basis)
		assert.Contains(t, res.HeadIdNumberMasked, "*")
		require.Len(t, res.Lines, 1)
		line := res.Lines[0]
		assert.Equal(t, "20000.00", line.Limit, "held to the total exposure cap")

		// Why this limit: the exposure cap binds, its figures withheld.
		require.NotEmpty(t, line.LimitSteps)
		var binding []*sanzhiv1.LimitStep
		for _, s := range line.LimitSteps {
			assert.NotEmpty(t, s.ZhCn)
			assert.NotEmpty(t, s.En)
			if s.Binding {
				binding = append(binding, s)
			}
		}
		require.Len(t, binding, 1)
		assert.Equal(t, "cap", binding[0].Step)
		assert.Equal(t, credit.CapTotalExposure, binding[0].Id)
		assert.True(t, binding[0].Withheld)
		assert.Empty(t, binding[0].Amount)
		assert.Empty(t, binding[0].Result)
		last := line.LimitSteps[len(line.LimitSteps)-1]
		assert.Equal(t, "20000.00", last.Result, "the outcome is shown")
		assert.Equal(t, "base", line.LimitSteps[0].Step)
		assert.NotEmpty(t, line.LimitSteps[0].Amount, "the bank's own figures are shown")

		// The attacker's test: nothing in the response is another bank's
		// figure, or the room they leave, in any spelling.
		raw, err := protojson.Marshal(res)
		require.NoError(t, err)
		for _, fig := range append(leakSpellings(otherLimit, otherDrawn), otherRoom) {
			assert.NotContains(t, string(raw), fig)
		}
		assert.NotContains(t, string(raw), idNumber, "the number is never echoed")
		got, err := e.credit.GetCreditLine(e.as("officer"), &sanzhiv1.GetCreditLineRequest{Product: product, Household: h.Name, Purpose: "assessment",
			View: sanzhiv1.CreditLineView_CREDIT_LINE_VIEW_FULL})
		require.NoError(t, err)
		raw, err = protojson.Marshal(got)
		require.NoError(t, err)
		for _, fig := range append(leakSpellings(otherLimit, otherDrawn), otherRoom) {
			assert.NotContains(t, string(raw), fig)
		}
		assert.Equal(t, len(line.LimitSteps), len(got.LimitSteps), "the line read and the look-up agree")

		// The other bank's refused look-up is the household's to see too.
		assert.Equal(t, []string{"denied/", "denied/", "allowed/consent"}, records())
	})
}

// requireRefused checks err is the lawful-basis refusal naming neither
// the number nor the household, and returns its message.
func requireRefused(t *testing.T, err error, idNumber, hh string) string {
	t.Helper()
	require.Error(t, err)
	assert.Equal(t, codes.PermissionDenied, status.Code(err))
	assert.Equal(t, lending.ReasonConsentRequired, errorReason(err))
	msg := status.Convert(err).Message()
	for _, secret := range []string{idNumber, hh, idNumber[6:14]} {
		assert.NotContains(t, msg, secret)
	}
	return msg
}

// unregisteredID is a valid number no household is headed by: id with
// another sequence number and its check digit.
func unregisteredID(t *testing.T, id string) string {
	t.Helper()
	seqDigit := byte('0' + (id[16]-'0'+1)%10)
	return personIDFrom(t, id[:16]+string(seqDigit))
}

// otherBankLine stores a line of the household at another bank, as that
// bank's assessment would have: the figures the exposure test hides.
func otherBankLine(t *testing.T, st *sqlstore.Store, hh string) {
	t.Helper()
	village, hid, err := household.ParseName(hh, "name")
	require.NoError(t, err)
	now := time.Now().UTC().Truncate(time.Microsecond)
	d := &credit.Decision{ID: uuid.NewString(), Bank: "other-bank", Product: "sanzhi-xindai", Village: village,
		HouseholdID: hid, Kind: credit.Automated, PolicyVersion: 1, PolicyHash: strings.Repeat("a", 64),
		InputHash: strings.Repeat("b", 64), On: household.Today(now), ValidUntil: household.Today(now.AddDate(1, 0, 0)),
		Eligible: true, Score: 700, Grade: "AA", Limit: decimal.RequireFromString(otherLimit),
		Rate: decimal.RequireFromString("0.0425"), ExposureCap: decimal.Zero, Input: "{}", DecidedBy: "other", Time: now,
		// Explained as stored, so no read replays it under a policy this
		// test does not have.
		Explanation: credit.Explanation{Reasons: []credit.Text{{Code: "other", ZH: "他行的理由", EN: "the other bank's reason"}},
			LimitSteps: []credit.StoredStep{{Step: "base", ID: "AA", Amount: otherLimit, Result: otherLimit}}}}
	l := &credit.Line{Line: lending.Line{ID: uuid.NewString(), Household: hh, Bank: d.Bank, Limit: d.Limit,
		Drawn: decimal.RequireFromString(otherDrawn), Rate: d.Rate, Status: lending.StatusActive,
		ValidUntil: d.ValidUntil, DecisionID: d.ID, Version: 1},
		Product: d.Product, Village: village, HouseholdID: hid, OpenTime: now, UpdateTime: now}
	require.NoError(t, st.Lending().Write(context.Background(), func(tx credit.Writer) error {
		if err := tx.InsertDecision(context.Background(), d); err != nil {
			return err
		}
		return tx.InsertLine(context.Background(), l)
	}))
}

// leakSpellings are the ways a figure may be written: as stored, whole
// yuan, with thousands separators. (The room's whole yuan are the limit
// itself, which the bank is told: only its exact figure is a leak.)
func leakSpellings(figs ...string) []string {
	var out []string
	for _, f := range figs {
		whole, _, _ := strings.Cut(f, ".")
		out = append(out, f, whole, withCommas(whole))
	}
	return out
}

func withCommas(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func errorReason(err error) string {
	for _, d := range status.Convert(err).Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok {
			return i.Reason
		}
	}
	return ""
}

// requireInvalid checks err is INVALID_ARGUMENT with a violation of field.
func requireInvalid(t *testing.T, err error, field string) {
	t.Helper()
	st := status.Convert(err)
	require.Equal(t, codes.InvalidArgument, st.Code(), "%v", err)
	var fields []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.FieldViolations {
				fields = append(fields, v.Field)
			}
		}
	}
	assert.Contains(t, fields, field)
}

// personIDFrom completes 17 digits with their check digit.
func personIDFrom(t *testing.T, first17 string) string {
	t.Helper()
	c, err := idnum.CheckDigit(first17)
	require.NoError(t, err)
	return first17 + string(c)
}
