package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/modelrisk"
	"github.com/sanzhi/sanzhi/scoring/policies"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

// Back-testing (issue 16 §3): the observation decisions of a policy
// version with their outcome computed in SQL from the loan status reports
// by the policy's bad definition, and the reference population of the
// version's latest gate report.

// btRow is what a test keeps of a streamed row (the cursor reuses it).
type btRow struct {
	Village, HouseholdID string
	On                   household.Date
	Eligible             bool
	Score                int
	Bins                 []int
	Input                string
	Limit, Rate          int64
	KeyID                string
	Cipher               []byte
	Outcome              modelrisk.Outcome
}

func backtestRows(t *testing.T, s Store, q sqlstore.BacktestQuery) map[string]btRow {
	t.Helper()
	out := map[string]btRow{}
	require.NoError(t, s.BacktestDecisions(context.Background(), q, func(r *sqlstore.BacktestRow) error {
		_, dup := out[r.HouseholdID]
		require.False(t, dup, "one observation decision per household and applicant")
		out[r.HouseholdID] = btRow{Village: r.Village, HouseholdID: r.HouseholdID, On: r.On, Eligible: r.Eligible,
			Score: r.Score, Bins: append([]int(nil), r.Bins...), Input: r.Input, Limit: r.Limit, Rate: r.Rate,
			KeyID: r.ApplicantID.KeyID, Cipher: append([]byte(nil), r.ApplicantID.Ciphertext...), Outcome: r.Outcome}
		return nil
	}))
	return out
}

func backtestQuery(asOf household.Date) sqlstore.BacktestQuery {
	b := rules.DefaultBacktest()
	return sqlstore.BacktestQuery{Bank: bankA, Product: productA, Version: 3, AsOf: asOf, WindowMonths: b.WindowMonths, Bad: b.Bad}
}

func testBacktestOutcomes(t *testing.T, s Store) {
	type report struct {
		bank  string // "" is bankA
		asOf  household.Date
		dpd   int
		class lending.Class
		def   bool
	}
	type scenario struct {
		on       household.Date
		eligible bool
		draw     bool
		reports  []report
		want     modelrisk.Outcome
	}
	scenarios := map[string]scenario{
		// The window ends on the decision day plus 12 months: a report on
		// that day counts, the next day's does not.
		"bad on the window's last day": {on: "2025-03-15", eligible: true, draw: true,
			reports: []report{{asOf: "2025-06-30", class: lending.ClassNormal}, {asOf: "2026-03-15", dpd: 95, class: lending.ClassSubstandard}},
			want:    modelrisk.Bad},
		"bad a day after the window": {on: "2025-03-15", eligible: true, draw: true,
			reports: []report{{asOf: "2026-03-16", dpd: 95, class: lending.ClassSubstandard}}, want: modelrisk.Good},
		// 29 February plus a year is 28 February (clamped, not 1 March).
		"bad a day after a clamped window": {on: "2024-02-29", eligible: true, draw: true,
			reports: []report{{asOf: "2025-03-01", dpd: 100, class: lending.ClassSubstandard}}, want: modelrisk.Good},
		"young and performing": {on: "2027-01-10", eligible: true, draw: true,
			reports: []report{{asOf: "2027-03-01", class: lending.ClassNormal}}, want: modelrisk.NoOutcome},
		"young and already bad": {on: "2027-01-10", eligible: true, draw: true,
			reports: []report{{asOf: "2027-03-01", class: lending.ClassDoubtful}}, want: modelrisk.Bad},
		"declined": {on: "2025-01-10", eligible: false, draw: true,
			reports: []report{{asOf: "2025-05-01", dpd: 200, class: lending.ClassSubstandard, def: true}}, want: modelrisk.NoOutcome},
		"another bank's reports": {on: "2025-01-10", eligible: true, draw: true,
			reports: []report{{bank: bankB, asOf: "2025-05-01", dpd: 200, class: lending.ClassLoss, def: true}}, want: modelrisk.Good},
		"never drawn": {on: "2025-01-10", eligible: true, want: modelrisk.NoOutcome},
		"bad after the report's date": {on: "2025-01-10", eligible: true, draw: true,
			reports: []report{{asOf: "2027-07-15", dpd: 120, class: lending.ClassSubstandard}}, want: modelrisk.Good},
		"defaulted only": {on: "2025-01-10", eligible: true, draw: true,
			reports: []report{{asOf: "2025-04-01", dpd: 10, class: lending.ClassSpecialMention, def: true}}, want: modelrisk.Bad},
	}
	const asOf household.Date = "2027-06-30"
	ids := map[string]string{} // household id → scenario
	n := 0
	for name, sc := range scenarios {
		n++
		h := withMembers(newHousehold(t, villageA, n), 2)
		insert(t, s, h)
		ids[h.ID] = name
		d := newDecision(t, h, bankA, productA)
		d.On, d.Eligible, d.ApplicantMember = sc.on, sc.eligible, 2
		if !sc.eligible {
			d.Limit, d.Rate = decimal.Zero, decimal.Zero
		}
		lines := map[string]*credit.Line{}
		require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error {
			if err := tx.InsertDecision(ctx, d); err != nil {
				return err
			}
			for _, bank := range []string{bankA, bankB} {
				ld := *d
				ld.Bank = bank
				if bank != bankA {
					ld.ID = newID(t)
					if err := tx.InsertDecision(ctx, &ld); err != nil {
						return err
					}
				}
				l := newLine(t, &ld)
				lines[bank] = l
				if err := tx.InsertLine(ctx, l); err != nil {
					return err
				}
			}
			if sc.draw {
				day, _ := time.Parse(time.DateOnly, string(sc.on))
				if err := tx.InsertTransaction(ctx, &credit.Transaction{Bank: bankA, ID: "TX-" + d.ID, LineID: lines[bankA].ID,
					Kind: credit.Drawdown, Amount: decimal.RequireFromString("1000"), Use: lending.UseAgriculture, RequestHash: hashOf(9),
					DrawnAfter: decimal.RequireFromString("1000"), RecordedBy: "officer-a", Time: day.Add(30 * time.Hour)}); err != nil {
					return err
				}
			}
			return nil
		}))
		for i, r := range sc.reports {
			bank := r.bank
			if bank == "" {
				bank = bankA
			}
			st := newStatus(lines[bank], i+1, fmt.Sprintf("EV-%s-%d", d.ID, i), r.asOf, r.dpd, "0", "0", r.class, r.def)
			require.NoError(t, insertStatuses(s, st))
		}
	}

	got := backtestRows(t, s, backtestQuery(asOf))
	require.Len(t, got, len(scenarios))
	for hid, r := range got {
		name := ids[hid]
		assert.Equal(t, scenarios[name].want, r.Outcome, name)
		assert.Equal(t, villageA, r.Village, name)
		assert.Equal(t, []int{2, 0, 1}, r.Bins, name)
		assert.Empty(t, r.Input, "%s: bins stored, so no input", name)
		assert.Equal(t, "k1", r.KeyID, "%s: the applicant member's sealed number", name)
		assert.Equal(t, []byte{9, 1}, r.Cipher, name)
		if scenarios[name].eligible {
			assert.Equal(t, int64(12345678), r.Limit, name)
			assert.Equal(t, int64(43500), r.Rate, name)
		} else {
			assert.Zero(t, r.Limit, name)
			assert.Zero(t, r.Rate, name)
		}
	}

	// Another definition: only 损失 is bad, so the substandard report on
	// the window's last day is not.
	q := backtestQuery(asOf)
	q.Bad = rules.BadDefinition{Classifications: []string{"loss"}}
	for hid, r := range backtestRows(t, s, q) {
		switch ids[hid] {
		case "bad on the window's last day":
			assert.Equal(t, modelrisk.Good, r.Outcome)
		case "defaulted only":
			assert.Equal(t, modelrisk.Good, r.Outcome, "default is not part of this definition")
		}
	}

	// As of an earlier day the young decisions do not exist yet, and the
	// others' windows have not all passed.
	early := backtestRows(t, s, backtestQuery("2026-03-15"))
	for hid, r := range early {
		name := ids[hid]
		assert.NotEqual(t, "young and performing", name)
		if name == "bad on the window's last day" {
			assert.Equal(t, modelrisk.Bad, r.Outcome)
		}
		if name == "bad a day after the window" {
			assert.Equal(t, modelrisk.Good, r.Outcome, "the window ended on the report's date")
		}
	}
	assert.Len(t, early, len(scenarios)-2)

	// Nothing of another version, product or bank; an empty version
	// streams nothing.
	q = backtestQuery(asOf)
	q.Version = 4
	assert.Empty(t, backtestRows(t, s, q))
	q = backtestQuery(asOf)
	q.Bank = "nobody"
	assert.Empty(t, backtestRows(t, s, q))
}

func testBacktestObservationDecision(t *testing.T, s Store) {
	ctx := context.Background()
	h := withMembers(newHousehold(t, villageB, 1), 3)
	insert(t, s, h)
	first := newDecision(t, h, bankA, productA)
	first.On, first.ApplicantMember = "2026-01-05", 1
	again := newDecision(t, h, bankA, productA) // a later decision about the same applicant
	again.On, again.ApplicantMember, again.Score = "2026-02-05", 1, 50
	override := newDecision(t, h, bankA, productA)
	override.Kind, override.Overrides, override.Justification = credit.Override, first.ID, "复核"
	override.ApplicantMember = 3
	spouse := newDecision(t, h, bankA, productA) // another applicant of the household
	spouse.On, spouse.ApplicantMember = "2026-02-06", 2
	old := newDecision(t, h, bankA, productA) // stored before bins were kept
	old.On, old.ApplicantMember, old.Bins = "2026-02-07", 4, nil
	later := newDecision(t, h, bankA, productA) // after the report's date
	later.On, later.ApplicantMember = "2026-06-01", 5
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error {
		for _, d := range []*credit.Decision{first, again, override, spouse, old, later} {
			if err := tx.InsertDecision(ctx, d); err != nil {
				return err
			}
		}
		return nil
	}))
	rows := map[string]btRow{}
	require.NoError(t, s.BacktestDecisions(ctx, backtestQuery("2026-05-31"), func(r *sqlstore.BacktestRow) error {
		rows[r.ID] = btRow{Score: r.Score, Bins: append([]int(nil), r.Bins...), Input: r.Input, KeyID: r.ApplicantID.KeyID,
			Cipher: append([]byte(nil), r.ApplicantID.Ciphertext...)}
		return nil
	}))
	require.ElementsMatch(t, []string{first.ID, spouse.ID, old.ID}, slices.Collect(maps.Keys(rows)),
		"the first automated decision per applicant, none after the date")
	assert.Equal(t, []byte{1, 2, 3, 1}, rows[first.ID].Cipher, "member 1 is the head")
	assert.Equal(t, []byte{9, 1}, rows[spouse.ID].Cipher, "member 2")
	assert.Empty(t, rows[old.ID].Bins, "no stored bins")
	assert.Equal(t, old.Input, rows[old.ID].Input, "the stored input, to score again")
	assert.Empty(t, rows[old.ID].KeyID, "member 4 is not in the household's facts: unknown")
	assert.Equal(t, 87, rows[first.ID].Score)

	// The callback's error stops the walk and comes back as is.
	stop := assert.AnError
	calls := 0
	err := s.BacktestDecisions(ctx, backtestQuery("2026-05-31"), func(*sqlstore.BacktestRow) error { calls++; return stop })
	assert.ErrorIs(t, err, stop)
	assert.Equal(t, 1, calls)
}

func testPolicyGateReference(t *testing.T, b Intruder) {
	ctx := context.Background()
	s := b.Store
	ref, err := s.PolicyGateReference(ctx, bankA, productA, 1)
	require.NoError(t, err)
	assert.Nil(t, ref, "no gate report: no reference")

	require.NoError(t, s.Policies().Write(ctx, func(tx policies.Writer) error { return tx.InsertPolicyVersion(ctx, newPolicy(bankA, productA, 1)) }))
	older := modelrisk.Reference{PolicyHash: "h1", Decisions: 1, Scores: []modelrisk.ScoreCount{{Score: 10, N: 1}}, Bins: [][]int64{{1}}}
	newer := modelrisk.Reference{PolicyHash: "h1", Decisions: 2, Scores: []modelrisk.ScoreCount{{Score: 12, N: 2}}, Bins: [][]int64{{2}}}
	passed := "true"
	if b.Dialect == "sqlite" {
		passed = "1"
	}
	for seq, r := range []modelrisk.Reference{older, newer} {
		raw, err := json.Marshal(r)
		require.NoError(t, err)
		b.Exec(t, `INSERT INTO policy_gate_reports (bank, product, version, seq, policy_hash, against_version, as_of,
			households, passed, checks, summary, reference, evaluated_by, time)
			VALUES ($1, $2, 1, $3, 'h1', 0, '2026-03-01', 2, `+passed+`, '[]', '{}', $4, 'risk-1', '2026-03-01T00:00:00Z')`,
			bankA, productA, seq+1, string(raw))
	}
	ref, err = s.PolicyGateReference(ctx, bankA, productA, 1)
	require.NoError(t, err)
	require.NotNil(t, ref)
	assert.Equal(t, newer, *ref, "the latest report's reference")
	ref, err = s.PolicyGateReference(ctx, bankB, productA, 1)
	require.NoError(t, err)
	assert.Nil(t, ref, "another bank's version has none")

	require.NoError(t, s.Policies().Write(ctx, func(tx policies.Writer) error { return tx.InsertPolicyVersion(ctx, newPolicy(bankA, productA, 2)) }))
	b.Exec(t, `INSERT INTO policy_gate_reports (bank, product, version, seq, policy_hash, against_version, as_of,
		households, passed, checks, summary, reference, evaluated_by, time)
		VALUES ($1, $2, 2, 1, 'h2', 1, '2026-03-01', 2, `+passed+`, '[]', '{}', '{not json', 'risk-1', '2026-03-01T00:00:00Z')`, bankA, productA)
	_, err = s.PolicyGateReference(ctx, bankA, productA, 2)
	assert.Error(t, err, "a reference that does not decode is an error, not a missing reference")
}
