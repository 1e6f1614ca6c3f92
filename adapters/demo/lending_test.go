package demo_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/demo"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/adapters/sqlite"
	"github.com/sanzhi/sanzhi/adapters/sqlite/sqlitetest"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// bookCounty is a private copy of the demo county with the bank's book,
// as `sanzhi demo seed` makes it (the template `make test` seeds once for
// every test binary; built here when there is none).
func bookCounty(t *testing.T) (*sqlite.DB, demo.LendingResult) {
	t.Helper()
	if underRace && os.Getenv("SANZHI_TEST_TEMPLATES") == "" {
		t.Skip("seeds a county with its book: run by `make test`, which seeds it once without -race")
	}
	ctx := context.Background()
	var book demo.LendingResult
	path := sqlitetest.Copy(t, "demo", "demo.db", func(path string) error {
		kr, err := server.LoadKeyring(server.Config{Database: "sqlite://" + path, Demo: true})
		if err != nil {
			return err
		}
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			return err
		}
		defer db.Close()
		if err := db.Migrate(ctx); err != nil {
			return err
		}
		st := db.Store()
		a, err := app.New(app.Deps{Store: st, Keyring: kr})
		if err != nil {
			return err
		}
		res, err := demo.Seed(ctx, a.Households, st, time.Now)
		if err != nil {
			return err
		}
		start := time.Now()
		book, err = demo.SeedLending(ctx, a.Households, func(clock func() time.Time) *credit.Service {
			return app.NewLending(st, kr, a.Catalogues, clock)
		}, app.NewActivePolicies(st.Policies()), res, time.Now)
		t.Logf("seeded the bank's book in %v: %+v", time.Since(start), book)
		return err
	})
	db, err := sqlite.Open(ctx, path)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db, book
}

// bookLine is one line of the demo book as stored: the decision that
// opened it (the household's first automated decision), its latest
// decision, its reports (newest first) and whether money was drawn.
type bookLine struct {
	line          *credit.Line
	first, latest *credit.Decision
	statuses      []*credit.LoanStatus
	drawn         bool
}

func readBook(t *testing.T, db *sqlite.DB) []bookLine {
	t.Helper()
	ctx := context.Background()
	var out []bookLine
	require.NoError(t, db.Store().Lending().Read(ctx, func(tx credit.Reader) error {
		after := ""
		for {
			ls, err := tx.Lines(ctx, credit.ListQuery{Bank: demo.Bank, Product: demo.Product, AfterID: after, Limit: 500})
			if err != nil || len(ls) == 0 {
				return err
			}
			for _, l := range ls {
				after = l.ID
				ds, err := tx.Decisions(ctx, l.HouseholdID, demo.Bank, "", 100)
				if err != nil {
					return err
				}
				bl := bookLine{line: l}
				for _, d := range ds { // newest first
					if d.Kind == credit.Automated {
						bl.first = d
					}
				}
				if bl.latest, err = tx.Decision(ctx, l.DecisionID); err != nil {
					return err
				}
				if bl.statuses, err = tx.LineStatuses(ctx, l.ID, 0, 100); err != nil {
					return err
				}
				if bl.drawn, err = tx.DrawnSince(ctx, l.ID, time.Time{}); err != nil {
					return err
				}
				out = append(out, bl)
			}
		}
	}))
	return out
}

// outcome is the back-test's: "bad" when within 12 months after the
// decision a report of the line is 90 days or more past due, 次级 or
// worse, in default or written off; "good" when the decision is at least
// 12 months old, money was drawn and none of that happened; "" otherwise.
func (bl *bookLine) outcome(today household.Date) string {
	end := bl.first.On.AddMonths(12)
	for _, s := range bl.statuses {
		if s.AsOf > bl.first.On && s.AsOf <= end && (s.DaysPastDue >= 90 || s.Class.NonPerforming() || s.Defaulted || s.WrittenOff) {
			return "bad"
		}
	}
	if end <= today && bl.drawn {
		return "good"
	}
	return ""
}

// The demo bank's book tells a story a regulator can back-test: some
// hundreds of lines old enough for a whole year of outcomes, a few dozen
// of them bad, the bad rate among the lowest-scored third of the
// decisions clearly above that among the highest-scored third; the bad
// loans default, some are written off, some cure; the households in
// arrears are knocked out by today's re-assessment; households whose head
// is past the policy's age borrow through a working-age member.
func TestBookShowsTheScoreSignal(t *testing.T) {
	db, res := bookCounty(t)
	lines := readBook(t, db)
	if res.Lines > 0 { // built here, not copied from make test's template
		assert.Len(t, lines, res.Lines)
	}
	today := household.Today(time.Now())
	type obs struct {
		score int
		id    string
		bad   bool
	}
	var seen []obs
	var throughMember, knockedOut, writtenOff, cured, settled int
	for i := range lines {
		bl := &lines[i]
		require.NotNil(t, bl.first, "line %s has its opening decision", bl.line.ID)
		if bl.first.ApplicantMember > 1 && bl.first.Eligible {
			throughMember++
		}
		ko := slices.ContainsFunc(bl.latest.Explanation.KnockOuts, func(t credit.Text) bool { return t.Code == "bad_credit_record" })
		if ko {
			knockedOut++
		}
		for j, s := range bl.statuses {
			writtenOff += btoi(s.WrittenOff)
			settled += btoi(s.Settled)
			if j+1 < len(bl.statuses) && bl.statuses[j+1].Defaulted && !s.Defaulted {
				cured++
			}
		}
		if len(bl.statuses) > 0 && bl.statuses[0].Defaulted {
			assert.True(t, ko, "line %s: in default, knocked out today", bl.line.ID)
		}
		switch bl.outcome(today) {
		case "bad":
			seen = append(seen, obs{bl.first.Score, bl.first.ID, true})
		case "good":
			seen = append(seen, obs{bl.first.Score, bl.first.ID, false})
		}
	}
	bads := 0
	for _, o := range seen {
		bads += btoi(o.bad)
	}
	t.Logf("%d lines, %d with an outcome, %d bad; %d written off, %d cured, %d settled, %d knocked out, %d through a member",
		len(lines), len(seen), bads, writtenOff, cured, settled, knockedOut, throughMember)
	assert.Greater(t, len(seen), 150, "some hundreds of outcomes")
	assert.GreaterOrEqual(t, bads, 15, "a few dozen bad")
	rate := float64(bads) / float64(len(seen))
	assert.True(t, rate > 0.04 && rate < 0.2, "a plausible bad rate, got %.3f", rate)
	assert.Positive(t, writtenOff)
	assert.Positive(t, cured)
	assert.Positive(t, settled)
	assert.Positive(t, knockedOut)
	assert.Positive(t, throughMember)

	slices.SortFunc(seen, func(a, b obs) int {
		if a.score != b.score {
			return a.score - b.score
		}
		return strings.Compare(a.id, b.id)
	})
	third := len(seen) / 3
	badRate := func(os []obs) float64 {
		n := 0
		for _, o := range os {
			n += btoi(o.bad)
		}
		return float64(n) / float64(len(os))
	}
	low, high := badRate(seen[:third]), badRate(seen[len(seen)-third:])
	t.Logf("bad rate: lowest-scored third %.3f (scores %d-%d), highest-scored third %.3f (scores %d-%d)",
		low, seen[0].score, seen[third-1].score, high, seen[len(seen)-third].score, seen[len(seen)-1].score)
	assert.Greater(t, low, 1.3*high, "the lower the score, the more bad loans")
	assert.Greater(t, low-high, 0.03)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
