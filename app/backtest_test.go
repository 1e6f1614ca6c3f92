package app_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/sqlite"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/app"
	policyexamples "github.com/sanzhi/sanzhi/examples/policies"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/modelrisk"
	"github.com/sanzhi/sanzhi/scoring/policies"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

const (
	btBank    = "tongxiang-rcb"
	btProduct = "sanzhi-xindai"
	btVillage = "330483102201"
	btName    = "banks/tongxiang-rcb/products/sanzhi-xindai/policies/1"
)

type btFixture struct {
	st  *sqlstore.Store
	a   *app.App
	pol *rules.Policy
}

func btPID(t *testing.T, birth string, seq int) idnum.PersonID {
	first := fmt.Sprintf("330483%s%03d", birth, seq)
	c, err := idnum.CheckDigit(first)
	require.NoError(t, err)
	id, err := idnum.ParsePersonIDAt(first+string(c), time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	return id
}

// newBacktestFixture stores the example policy as version 1 and n
// decisions of it about n households (a tenth of them declined), each
// approved one drawn and a third of those gone bad a month later.
func newBacktestFixture(t *testing.T, n int, edit ...func(i int, d *credit.Decision)) *btFixture {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir()+"/bt.db")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, db.Migrate(ctx))
	st := db.Store()
	secret, key := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(secret)
	_, _ = rand.Read(key)
	kr, err := pii.NewKeyring(secret, "k1", key)
	require.NoError(t, err)
	now := func() time.Time { return time.Date(2026, 6, 30, 4, 0, 0, 0, time.UTC) }
	a, err := app.New(app.Deps{Store: st, Keyring: kr, Now: now})
	require.NoError(t, err)
	doc, err := policyexamples.FS.ReadFile(policyexamples.TongxiangFile)
	require.NoError(t, err)
	pol, err := rules.Parse(doc, nil)
	require.NoError(t, err)
	require.NoError(t, st.Policies().Write(ctx, func(tx policies.Writer) error {
		return tx.InsertPolicyVersion(ctx, &policies.Version{Bank: btBank, Product: btProduct, Version: 1, Document: string(doc),
			ContentHash: pol.Hash(), EffectiveDate: string(pol.EffectiveDate), State: policies.Draft, UploadedBy: "risk-1", UploadTime: now()})
	}))
	sealer := pii.Sealer{Keyring: kr}
	spec := modelrisk.SpecOf(pol)
	for i := range n {
		hid := uuid.Must(uuid.NewV7()).String()
		pid := btPID(t, fmt.Sprintf("19%02d0101", 50+i%40), i+1)
		sealed, err := sealer.Seal(hid, pid)
		require.NoError(t, err)
		idx := sha256.Sum256(fmt.Appendf(nil, "bt-%d", i))
		sealed.Index = idx[:]
		h := &household.Household{ID: hid, Village: btVillage, HeadName: "户主", HeadIDMasked: "330483********0000",
			HeadID: sealed, Group: 1, Address: "南阳村", Registered: "2020-01-02", CreateTime: now(), UpdateTime: now(),
			Facts: household.Facts{Version: 1, Members: 1, Labourers: 1, AnnualIncome: decimal.NewFromInt(60000),
				LandAreaMu: decimal.NewFromInt(3), CollectiveShares: decimal.Zero, ExistingDebt: decimal.Zero,
				Source: "test", AsOf: "2024-01-01", RecordedBy: "p1", RecordTime: now()},
			Members: []household.Member{{Number: 1, Name: "户主", Relation: household.Head, IDMasked: "330483********0000",
				ID: sealed, Labour: household.Labourer}}}
		require.NoError(t, st.Households().Write(ctx, func(tx household.Writer) error {
			return tx.InsertHousehold(ctx, h, "req-"+hid, "hash-"+hid)
		}))
		eligible := i%10 != 0
		bins := make([]int, len(spec.Characteristics))
		d := &credit.Decision{ID: uuid.Must(uuid.NewV7()).String(), Bank: btBank, Product: btProduct, Village: btVillage,
			HouseholdID: hid, Kind: credit.Automated, PolicyVersion: 1, PolicyHash: pol.Hash(), InputHash: "x",
			On: "2025-01-15", ValidUntil: "2026-01-15", ApplicantMember: 1, Eligible: eligible,
			Score: spec.MinScore + (i*7)%(spec.MaxScore-spec.MinScore+1), Bins: bins, Grade: "A",
			Limit: decimal.Zero, Rate: decimal.Zero, ExposureCap: decimal.NewFromInt(500000), Input: "{}",
			DecidedBy: "system", Time: now()}
		if eligible {
			d.Limit, d.Rate = decimal.NewFromInt(50000), decimal.RequireFromString("0.0425")
		}
		for _, e := range edit {
			e(i, d)
		}
		require.NoError(t, st.Lending().Write(ctx, func(tx credit.Writer) error {
			if err := tx.InsertDecision(ctx, d); err != nil {
				return err
			}
			if !eligible {
				return nil
			}
			l := &credit.Line{Line: lending.Line{ID: uuid.Must(uuid.NewV7()).String(), Bank: btBank, Limit: d.Limit,
				Drawn: decimal.NewFromInt(1000), Rate: d.Rate, Status: lending.StatusActive, ValidUntil: d.ValidUntil,
				DecisionID: d.ID, Version: 1}, Product: btProduct, Village: btVillage, HouseholdID: hid, ApplicantMember: 1,
				ExposureCap: d.ExposureCap, OpenTime: now(), UpdateTime: now()}
			if err := tx.InsertLine(ctx, l); err != nil {
				return err
			}
			if err := tx.InsertTransaction(ctx, &credit.Transaction{Bank: btBank, ID: "TX-" + hid, LineID: l.ID, Kind: credit.Drawdown,
				Amount: decimal.NewFromInt(1000), Use: lending.UseAgriculture, RequestHash: "h", DrawnAfter: decimal.NewFromInt(1000),
				RecordedBy: "officer", Time: time.Date(2025, 1, 20, 0, 0, 0, 0, time.UTC)}); err != nil {
				return err
			}
			if i%3 != 0 {
				return nil
			}
			return tx.InsertLoanStatus(ctx, &credit.LoanStatus{StatusReport: lending.StatusReport{AsOf: "2025-06-01", DaysPastDue: 120,
				OverduePrincipal: decimal.NewFromInt(1000), OverdueInterest: decimal.Zero, Class: lending.ClassSubstandard},
				LineID: l.ID, Seq: 1, Bank: btBank, EventID: "EV-" + hid, Village: btVillage, HouseholdID: hid,
				RequestHash: "h", RecordedBy: "officer", Time: now()})
		}))
	}
	return &btFixture{st: st, a: a, pol: pol}
}

func (f *btFixture) queued(t *testing.T) int64 {
	n, err := f.st.QueueLength(context.Background())
	require.NoError(t, err)
	return n
}

func asPrincipal(p *access.Principal) context.Context {
	return access.WithPrincipal(context.Background(), p)
}

var (
	btRisk      = &access.Principal{ID: "risk-1", Role: access.BankRisk, Scope: access.Scope{Bank: btBank}}
	btRegulator = &access.Principal{ID: "reg-1", Role: access.Regulator}
)

func TestBacktestReport(t *testing.T) {
	f := newBacktestFixture(t, 40)
	q0 := f.queued(t)
	res, err := f.a.Backtester.Backtest(asPrincipal(btRegulator), app.BacktestRequest{Name: btName, AsOf: "2026-06-30", Format: "html", English: true})
	require.NoError(t, err)
	r := res.Report
	assert.Equal(t, int64(40), r.Decisions)
	// 36 approved and drawn: 12 bad (i%3 == 0 among them), 24 good; the 4
	// declined have no outcome.
	assert.Equal(t, int64(36), r.Outcomes)
	assert.Equal(t, int64(12), r.Bads)
	assert.Equal(t, int64(24), r.Goods)
	assert.True(t, r.Performance.Measured)
	assert.False(t, r.HasReference, "no gate report yet")
	assert.True(t, res.Full, "a regulator's view")
	assert.Contains(t, string(res.Rendered), "<!DOCTYPE html>")
	assert.Contains(t, string(res.Rendered), "<svg")
	var sexes []string
	for _, d := range r.Fairness.Dimensions {
		if d.Name == modelrisk.BySex {
			for _, g := range d.Groups {
				sexes = append(sexes, g.Key)
			}
		}
	}
	assert.NotContains(t, sexes, modelrisk.Unknown, "every applicant's number was opened")
	assert.Equal(t, q0+1, f.queued(t), "one audit entry")

	// The bank's own risk manager, as CSV: the same counts.
	res, err = f.a.Backtester.Backtest(asPrincipal(btRisk), app.BacktestRequest{Name: btName, AsOf: "2026-06-30", Format: "csv"})
	require.NoError(t, err)
	assert.Equal(t, int64(36), res.Report.Outcomes)
	assert.False(t, res.Full)
	assert.True(t, strings.HasPrefix(string(res.Rendered), "section,"), "CSV sections")

	// As of a day before the decisions: a report of zero counts, not an error.
	res, err = f.a.Backtester.Backtest(asPrincipal(btRisk), app.BacktestRequest{Name: btName, AsOf: "2024-12-31"})
	require.NoError(t, err)
	assert.Zero(t, res.Report.Decisions)
	assert.False(t, res.Report.Performance.Measured)
	assert.Nil(t, res.Rendered)
	// As of before the window has passed: the goods are not good yet.
	res, err = f.a.Backtester.Backtest(asPrincipal(btRisk), app.BacktestRequest{Name: btName, AsOf: "2025-12-31"})
	require.NoError(t, err)
	assert.Equal(t, int64(12), res.Report.Outcomes, "only the bads")
	assert.Equal(t, q0+4, f.queued(t))
}

func TestBacktestRefusals(t *testing.T) {
	f := newBacktestFixture(t, 2)
	q0 := f.queued(t)
	officer := &access.Principal{ID: "off-1", Role: access.BankOfficer, Scope: access.Scope{Bank: btBank}}
	otherRisk := &access.Principal{ID: "risk-2", Role: access.BankRisk, Scope: access.Scope{Bank: "haining-rcb"}}
	clerk := &access.Principal{ID: "clerk", Role: access.VillageClerk, Scope: access.Scope{Villages: []string{btVillage}}}
	for _, c := range []struct {
		name  string
		ctx   context.Context
		req   app.BacktestRequest
		kind  fault.Kind
		field string
	}{
		{"bad name", asPrincipal(btRisk), app.BacktestRequest{Name: "banks/tongxiang-rcb/policies/1"}, fault.Invalid, "name"},
		{"bad version", asPrincipal(btRisk), app.BacktestRequest{Name: "banks/tongxiang-rcb/products/sanzhi-xindai/policies/x"}, fault.Invalid, "name"},
		{"malformed as_of", asPrincipal(btRisk), app.BacktestRequest{Name: btName, AsOf: "2026-13-01"}, fault.Invalid, "as_of"},
		{"future as_of", asPrincipal(btRisk), app.BacktestRequest{Name: btName, AsOf: "2026-07-01"}, fault.Invalid, "as_of"},
		{"bad format", asPrincipal(btRisk), app.BacktestRequest{Name: btName, Format: "pdf"}, fault.Invalid, "format"},
		{"an officer", asPrincipal(officer), app.BacktestRequest{Name: btName}, fault.PermissionDenied, ""},
		{"another bank", asPrincipal(otherRisk), app.BacktestRequest{Name: btName}, fault.PermissionDenied, ""},
		{"another bank's version", asPrincipal(btRisk), app.BacktestRequest{Name: "banks/haining-rcb/products/sanzhi-xindai/policies/1"}, fault.PermissionDenied, ""},
		{"a clerk", asPrincipal(clerk), app.BacktestRequest{Name: btName}, fault.PermissionDenied, ""},
		{"nobody", context.Background(), app.BacktestRequest{Name: btName}, fault.Unauthenticated, ""},
		{"no such version", asPrincipal(btRisk), app.BacktestRequest{Name: "banks/tongxiang-rcb/products/sanzhi-xindai/policies/9"}, fault.NotFound, ""},
	} {
		_, err := f.a.Backtester.Backtest(c.ctx, c.req)
		require.Error(t, err, c.name)
		assert.True(t, fault.Is(err, c.kind), "%s: got %v", c.name, err)
		if c.field != "" {
			var fe *fault.Error
			require.ErrorAs(t, err, &fe, c.name)
			require.NotEmpty(t, fe.Violations, c.name)
			assert.Equal(t, c.field, fe.Violations[0].Field, c.name)
		}
	}
	assert.Equal(t, q0, f.queued(t), "nothing recorded on a refusal")
}

func TestBacktestAgainstReference(t *testing.T) {
	f := newBacktestFixture(t, 20)
	ctx := context.Background()
	// The version's reference population, as the activation gate stores
	// it: here the back-test's own population, so every PSI is 0.
	tally, err := modelrisk.NewTally(modelrisk.SpecOf(f.pol), modelrisk.DefaultConfig("2026-06-30"))
	require.NoError(t, err)
	spec := modelrisk.SpecOf(f.pol)
	for i := range 20 {
		require.NoError(t, tally.Add(&modelrisk.Decision{Score: spec.MinScore + (i*7)%(spec.MaxScore-spec.MinScore+1),
			Bins: make([]int, len(spec.Characteristics)), Applicant: modelrisk.Applicant{Village: btVillage}}))
	}
	ref := tally.Reference()
	raw, err := jsonOf(ref)
	require.NoError(t, err)
	require.NoError(t, f.st.Conn().WriteTx(ctx, func(q sqlstore.Querier) error {
		_, err := q.Exec(ctx, `INSERT INTO policy_gate_reports (bank, product, version, seq, policy_hash, against_version, as_of,
			households, passed, checks, summary, reference, evaluated_by, time)
			VALUES ($1, $2, 1, 1, $3, 0, '2026-01-01', 20, 1, '[]', '{}', $4, 'risk-1', '2026-01-01T00:00:00Z')`,
			btBank, btProduct, f.pol.Hash(), raw)
		return err
	}))
	res, err := f.a.Backtester.Backtest(asPrincipal(btRegulator), app.BacktestRequest{Name: btName, AsOf: "2026-06-30"})
	require.NoError(t, err)
	assert.True(t, res.Report.HasReference)
	assert.Equal(t, int64(20), res.Report.ReferenceDecisions)
	assert.InDelta(t, 0, res.Report.Score.Value, 1e-12)
	assert.Equal(t, modelrisk.Stable, res.Report.Score.Level)
	require.Len(t, res.Report.Characteristics, len(spec.Characteristics))
}

func jsonOf(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// A decision stored before decisions kept their bins is scored again from
// its stored input under the same version on the same day.
func TestBacktestOlderDecisionsScoredAgain(t *testing.T) {
	var in rules.Input
	in.Applicant.Age = 45
	in.Facts.Members, in.Facts.Labourers = 4, 2
	f := newBacktestFixture(t, 1, func(_ int, d *credit.Decision) {
		d.Bins, d.Input = nil, string(in.Canonical())
	})
	want := rules.Outcome(f.pol, in, "2025-01-15").Bins
	require.NotEmpty(t, want)
	spec := modelrisk.SpecOf(f.pol)
	tally, err := modelrisk.NewTally(spec, modelrisk.DefaultConfig("2026-06-30"))
	require.NoError(t, err)
	require.NoError(t, tally.Add(&modelrisk.Decision{Score: spec.MinScore, Bins: want, Applicant: modelrisk.Applicant{Village: btVillage}}))
	raw, err := jsonOf(tally.Reference())
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, f.st.Conn().WriteTx(ctx, func(q sqlstore.Querier) error {
		_, err := q.Exec(ctx, `INSERT INTO policy_gate_reports (bank, product, version, seq, policy_hash, against_version, as_of,
			households, passed, checks, summary, reference, evaluated_by, time)
			VALUES ($1, $2, 1, 1, $3, 0, '2026-01-01', 1, 1, '[]', '{}', $4, 'risk-1', '2026-01-01T00:00:00Z')`,
			btBank, btProduct, f.pol.Hash(), raw)
		return err
	}))
	res, err := f.a.Backtester.Backtest(asPrincipal(btRegulator), app.BacktestRequest{Name: btName, AsOf: "2026-06-30"})
	require.NoError(t, err)
	require.Len(t, res.Report.Characteristics, len(want))
	for c, cp := range res.Report.Characteristics {
		assert.InDelta(t, 0, cp.Value, 1e-12, "%s: the re-scored bin is the reference's", cp.ID)
		assert.Equal(t, int64(1), cp.Bins[want[c]].Count, cp.ID)
	}
}
