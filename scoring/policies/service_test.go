package policies_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/sqlite"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/policies"
)

const (
	bank    = "tongxiang-rcb"
	product = "sanzhi-xindai"
	parent  = "banks/" + bank + "/products/" + product
)

// check is a stand-in for scoring/policy's checker: it reads "key: value"
// lines and wants bank, product and version; other keys are kept as text.
func check(doc []byte) (policies.Meta, error) {
	m := policies.Meta{EffectiveDate: "2026-04-01"}
	for i, line := range strings.Split(string(doc), "\n") {
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			return policies.Meta{}, fmt.Errorf("line %d: want key: value", i+1)
		}
		switch k {
		case "bank":
			m.Bank = v
		case "product":
			m.Product = v
		case "version":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return policies.Meta{}, fmt.Errorf("line %d: version must be a positive number", i+1)
			}
			m.Version = n
		case "effective_date":
			m.EffectiveDate = v
		}
	}
	if m.Bank == "" || m.Product == "" || m.Version == 0 {
		return policies.Meta{}, errors.New("bank, product and version are required")
	}
	sum := sha256.Sum256(doc)
	m.ContentHash = hex.EncodeToString(sum[:])
	return m, nil
}

func doc(bank, product string, n int, extra string) []byte {
	return fmt.Appendf(nil, "bank: %s\nproduct: %s\nversion: %d\n%s", bank, product, n, extra)
}

type fixture struct {
	st    *sqlstore.Store
	svc   *policies.Service
	clock time.Time
	// records is how many audit records the test expects queued.
	records int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "p.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, db.Migrate(context.Background()))
	f := &fixture{st: db.Store(), clock: time.Date(2026, 3, 2, 1, 0, 0, 123456789, time.UTC)}
	f.svc = policies.NewService(f.st.Policies(), check, func() time.Time {
		f.clock = f.clock.Add(time.Minute)
		return f.clock
	})
	return f
}

// recorded asserts that the audit queue grew by n since the last call.
func (f *fixture) recorded(t *testing.T, n int64, msg string) {
	t.Helper()
	f.records += n
	got, err := f.st.QueueLength(context.Background())
	require.NoError(t, err)
	assert.Equal(t, f.records, got, "audit records after %s", msg)
}

func reason(err error) string {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return fe.Reason
	}
	return ""
}

var (
	maker    = &access.Principal{ID: "risk-1", Role: access.BankRisk, Scope: access.Scope{Bank: bank}}
	checker  = &access.Principal{ID: "risk-2", Role: access.BankRisk, Scope: access.Scope{Bank: bank}}
	operator = &access.Principal{ID: "risk-3", Role: access.BankRisk, Scope: access.Scope{Bank: bank}}
)

func name(n int) string { return parent + "/policies/" + strconv.Itoa(n) }

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)

	// Upload stores a draft.
	d1 := doc(bank, product, 1, "max_amount: 100000\nrate: 4.35\n")
	v1, err := f.svc.Upload(ctx, maker, parent, d1)
	require.NoError(t, err)
	assert.Equal(t, policies.Draft, v1.State)
	assert.Equal(t, name(1), v1.Name())
	assert.Equal(t, maker.ID, v1.UploadedBy)
	assert.Equal(t, "2026-04-01", v1.EffectiveDate)
	want, _ := check(d1)
	assert.Equal(t, want.ContentHash, v1.ContentHash)
	assert.Nil(t, v1.ApproveTime)
	f.recorded(t, 1, "upload")

	// The same text again returns what is stored, and records nothing.
	again, err := f.svc.Upload(ctx, operator, parent, d1)
	require.NoError(t, err)
	assert.Equal(t, maker.ID, again.UploadedBy, "the stored version, not a new one")
	assert.True(t, v1.UploadTime.Equal(again.UploadTime))
	f.recorded(t, 0, "the same upload again")

	// Other text under the same version number is refused.
	_, err = f.svc.Upload(ctx, maker, parent, doc(bank, product, 1, "max_amount: 200000\n"))
	assert.True(t, fault.Is(err, fault.AlreadyExists), "got %v", err)
	assert.Equal(t, "POLICY_VERSION_EXISTS", reason(err))

	// The document must be uploaded under its own bank product.
	_, err = f.svc.Upload(ctx, maker, "banks/"+bank+"/products/other-product", d1)
	assert.True(t, fault.Is(err, fault.Invalid), "got %v", err)
	_, err = f.svc.Upload(ctx, maker, parent, doc("haining-rcb", product, 2, ""))
	assert.True(t, fault.Is(err, fault.Invalid), "got %v", err)

	// An invalid document is Invalid and says so.
	_, err = f.svc.Upload(ctx, maker, parent, []byte("no colon here\n"))
	assert.True(t, fault.Is(err, fault.Invalid), "got %v", err)
	assert.ErrorIs(t, err, policies.ErrInvalidDocument)
	assert.Equal(t, "POLICY_INVALID", reason(err))
	f.recorded(t, 0, "refused uploads")

	// A draft cannot be activated.
	_, err = f.svc.Activate(ctx, checker, name(1))
	assert.True(t, fault.Is(err, fault.FailedPrecondition), "got %v", err)
	assert.Equal(t, "POLICY_NOT_APPROVED", reason(err))

	// Maker-checker: the uploader cannot approve.
	_, err = f.svc.Approve(ctx, maker, name(1))
	assert.True(t, fault.Is(err, fault.FailedPrecondition), "got %v", err)
	assert.Equal(t, "MAKER_CHECKER", reason(err))
	f.recorded(t, 0, "refused steps")

	v1, err = f.svc.Approve(ctx, checker, name(1))
	require.NoError(t, err)
	assert.Equal(t, policies.Approved, v1.State)
	assert.Equal(t, checker.ID, v1.ApprovedBy)
	require.NotNil(t, v1.ApproveTime)
	f.recorded(t, 1, "approve")

	// Approving again returns it and records nothing.
	again, err = f.svc.Approve(ctx, operator, name(1))
	require.NoError(t, err)
	assert.Equal(t, checker.ID, again.ApprovedBy)
	f.recorded(t, 0, "approve again")

	_, err = f.svc.Get(ctx, parent+"/policies/active")
	assert.True(t, fault.Is(err, fault.NotFound), "nothing active yet, got %v", err)

	v1, err = f.svc.Activate(ctx, operator, name(1))
	require.NoError(t, err)
	assert.Equal(t, policies.Active, v1.State)
	assert.Equal(t, operator.ID, v1.ActivatedBy)
	require.NotNil(t, v1.ActivateTime)
	f.recorded(t, 1, "activate")

	active, err := f.svc.Get(ctx, parent+"/policies/active")
	require.NoError(t, err)
	assert.Equal(t, 1, active.Version)
	assert.Equal(t, string(d1), active.Document)
	assert.Equal(t, checker.ID, active.ApprovedBy, "the stored approval")

	// Activating the active version again returns it.
	_, err = f.svc.Activate(ctx, checker, name(1))
	require.NoError(t, err)
	f.recorded(t, 0, "activate again")

	// Version 2 replaces version 1, which becomes superseded.
	d2 := doc(bank, product, 2, "max_amount: 150000\nrate: 4.35\n")
	_, err = f.svc.Upload(ctx, maker, parent, d2)
	require.NoError(t, err)
	f.recorded(t, 1, "upload v2")
	_, err = f.svc.Approve(ctx, checker, name(2))
	require.NoError(t, err)
	f.recorded(t, 1, "approve v2")
	v2, err := f.svc.Activate(ctx, operator, name(2))
	require.NoError(t, err)
	assert.Equal(t, policies.Active, v2.State)
	f.recorded(t, 1, "activate v2")

	old, err := f.svc.Get(ctx, name(1))
	require.NoError(t, err)
	assert.Equal(t, policies.Superseded, old.State)
	require.NotNil(t, old.SupersedeTime)
	require.NotNil(t, old.ActivateTime, "a superseded version keeps its activation")
	assert.True(t, v2.ActivateTime.Equal(*old.SupersedeTime), "superseded as the next was activated")
	active, err = f.svc.Get(ctx, parent+"/policies/active")
	require.NoError(t, err)
	assert.Equal(t, 2, active.Version)

	// A superseded version cannot come back.
	_, err = f.svc.Activate(ctx, operator, name(1))
	assert.True(t, fault.Is(err, fault.FailedPrecondition), "got %v", err)
	assert.Equal(t, "POLICY_SUPERSEDED", reason(err))

	// Nor can an approved version older than the active one.
	_, err = f.svc.Upload(ctx, maker, parent, doc(bank, product, 4, "max_amount: 300000\n"))
	require.NoError(t, err)
	_, err = f.svc.Upload(ctx, maker, parent, doc(bank, product, 3, "max_amount: 250000\n"))
	require.NoError(t, err)
	f.recorded(t, 2, "two uploads")
	for _, n := range []int{3, 4} {
		_, err = f.svc.Approve(ctx, checker, name(n))
		require.NoError(t, err)
	}
	f.recorded(t, 2, "two approvals")
	_, err = f.svc.Activate(ctx, operator, name(4))
	require.NoError(t, err)
	f.recorded(t, 1, "activate v4")
	_, err = f.svc.Activate(ctx, operator, name(3))
	assert.True(t, fault.Is(err, fault.FailedPrecondition), "got %v", err)
	assert.Equal(t, "POLICY_OLDER_THAN_ACTIVE", reason(err))
	v3, err := f.svc.Get(ctx, name(3))
	require.NoError(t, err)
	assert.Equal(t, policies.Approved, v3.State, "the refused activation changed nothing")
	active, err = f.svc.Get(ctx, parent+"/policies/active")
	require.NoError(t, err)
	assert.Equal(t, 4, active.Version)

	// An active or superseded version is not approved again.
	_, err = f.svc.Approve(ctx, operator, name(2))
	assert.True(t, fault.Is(err, fault.FailedPrecondition), "got %v", err)
	assert.Equal(t, "POLICY_NOT_DRAFT", reason(err))
	f.recorded(t, 0, "refused steps")

	_, err = f.svc.Get(ctx, name(9))
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
	_, err = f.svc.Approve(ctx, checker, name(9))
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
	_, err = f.svc.Approve(ctx, checker, parent+"/policies/active")
	assert.True(t, fault.Is(err, fault.Invalid), "steps name a number, got %v", err)
}

func TestList(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	for n := 1; n <= 5; n++ {
		_, err := f.svc.Upload(ctx, maker, parent, doc(bank, product, n, fmt.Sprintf("max_amount: %d\n", n*10000)))
		require.NoError(t, err)
	}
	other := "banks/" + bank + "/products/nongjia-dai"
	_, err := f.svc.Upload(ctx, maker, other, doc(bank, "nongjia-dai", 6, ""))
	require.NoError(t, err)
	f.recorded(t, 6, "uploads")

	var got []int
	token := ""
	pages := 0
	for {
		page, err := f.svc.List(ctx, parent, 2, token)
		require.NoError(t, err)
		pages++
		assert.LessOrEqual(t, len(page.Versions), 2)
		for _, v := range page.Versions {
			got = append(got, v.Version)
			assert.Empty(t, v.Document, "lists leave the text out")
			assert.NotEmpty(t, v.ContentHash)
		}
		if page.NextToken == "" {
			break
		}
		token = page.NextToken
		require.Less(t, pages, 10)
	}
	assert.Equal(t, []int{5, 4, 3, 2, 1}, got, "newest first, this product only")
	assert.Equal(t, 3, pages)

	// Exactly one full page has no next token.
	page, err := f.svc.List(ctx, parent, 5, "")
	require.NoError(t, err)
	assert.Len(t, page.Versions, 5)
	assert.Empty(t, page.NextToken)

	// A token belongs to its list.
	first, err := f.svc.List(ctx, parent, 2, "")
	require.NoError(t, err)
	_, err = f.svc.List(ctx, other, 2, first.NextToken)
	assert.True(t, fault.Is(err, fault.Invalid), "got %v", err)
	_, err = f.svc.List(ctx, parent, -1, "")
	assert.True(t, fault.Is(err, fault.Invalid), "got %v", err)
	_, err = f.svc.List(ctx, "banks/x", 2, "")
	assert.True(t, fault.Is(err, fault.Invalid), "got %v", err)
}

func TestDiff(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	_, err := f.svc.Upload(ctx, maker, parent, doc(bank, product, 1, "max_amount: 100000\nrate: 4.35\nterm: 12\n"))
	require.NoError(t, err)
	_, err = f.svc.Upload(ctx, maker, parent, doc(bank, product, 2, "max_amount: 150000\nrate: 4.35\nterm: 12\ngrace: 3\n"))
	require.NoError(t, err)
	_, err = f.svc.Approve(ctx, checker, name(1))
	require.NoError(t, err)
	_, err = f.svc.Activate(ctx, checker, name(1))
	require.NoError(t, err)

	out, err := f.svc.Diff(ctx, parent+"/policies/active", name(2))
	require.NoError(t, err)
	// The active version is named by its number.
	assert.Equal(t, "--- "+name(1)+"\n+++ "+name(2)+"\n"+
		"@@ -1,6 +1,7 @@\n"+
		" bank: tongxiang-rcb\n product: sanzhi-xindai\n"+
		"-version: 1\n-max_amount: 100000\n+version: 2\n+max_amount: 150000\n"+
		" rate: 4.35\n term: 12\n+grace: 3\n", out)

	same, err := f.svc.Diff(ctx, name(1), name(1))
	require.NoError(t, err)
	assert.Empty(t, same)

	_, err = f.svc.Upload(ctx, maker, "banks/"+bank+"/products/nongjia-dai", doc(bank, "nongjia-dai", 1, ""))
	require.NoError(t, err)
	_, err = f.svc.Diff(ctx, name(1), "banks/"+bank+"/products/nongjia-dai/policies/1")
	assert.True(t, fault.Is(err, fault.Invalid), "different products, got %v", err)
	_, err = f.svc.Diff(ctx, name(1), name(7))
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
}
