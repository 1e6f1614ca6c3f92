package rpc_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/lending/credit"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// TestReassessRun drives a batch re-assessment started through the API
// with the bulk path: every household with a live consent of the bank is
// assessed once, the others are left alone, a frozen line stays frozen, a
// run stopped between pages or in the middle of one resumes from its
// cursor without assessing anyone twice, and progress is reported.
func TestReassessRun(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := lendingEnv(t, st)
		ctx := context.Background()
		// The bank records a paper form; the village clerk countersigns it
		// (a bank-recorded consent is pending until then).
		record := func(hh string, purposes ...string) *sanzhiv1.Consent {
			c, err := e.consents.GrantConsent(e.as("officer"), &sanzhiv1.GrantConsentRequest{Parent: hh, Bank: bankName,
				Purposes: purposes, Channel: "paper", AuthorisationHash: sha})
			require.NoError(t, err)
			return c
		}
		grant := func(hh string, purposes ...string) *sanzhiv1.Consent {
			c, err := e.consents.CountersignConsent(e.as("clerk-a"), &sanzhiv1.CountersignConsentRequest{
				Name: record(hh, purposes...).Name, AuthorisationHash: sha})
			require.NoError(t, err)
			return c
		}
		var live, skipped []string
		for i := range 15 {
			hh, _ := newHousehold(t, e, villageA, false)
			switch {
			case i == 0: // no consent
				skipped = append(skipped, hh)
			case i == 1: // revoked
				c := grant(hh, "assessment")
				_, err := e.consents.RevokeConsent(e.as("officer"), &sanzhiv1.RevokeConsentRequest{Name: c.Name})
				require.NoError(t, err)
				skipped = append(skipped, hh)
			case i == 3: // recorded by the bank, never confirmed: pending
				record(hh, "assessment", "post_loan")
				skipped = append(skipped, hh)
			case i == 2: // post-loan only: still a live consent of the bank
				grant(hh, "post_loan")
				live = append(live, hh)
			default:
				grant(hh, "assessment", "post_loan")
				live = append(live, hh)
			}
		}
		// Two households already have lines; one of them is frozen.
		var lines = map[string]*sanzhiv1.CreditLine{}
		for _, hh := range live[1:3] {
			res, err := e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: product, Household: hh})
			require.NoError(t, err)
			lines[hh] = res.Line
		}
		frozenHH := live[2]
		submitAndApprove(t, e, listingReq(e, frozenHH, sanzhiv1.EvidenceKind_EVIDENCE_KIND_BLACK_LIST))
		require.Equal(t, "frozen", getLine(t, e, frozenHH).Status)
		before := map[string]int{}
		for _, hh := range append(slices.Clone(live), skipped...) {
			before[hh] = len(decisionsOf(t, e, hh))
		}

		run, err := e.credit.StartReassessment(e.as("risk-1"), &sanzhiv1.StartReassessmentRequest{Product: product})
		require.NoError(t, err)
		assert.Equal(t, "running", run.State)
		assert.Equal(t, int64(len(live)), run.Total)
		again, err := e.credit.StartReassessment(e.as("risk-1"), &sanzhiv1.StartReassessmentRequest{Product: product})
		require.NoError(t, err)
		assert.Equal(t, run.Name, again.Name, "a running run is returned, not doubled")
		_, _, id, err := credit.ParseRunName(run.Name, "name")
		require.NoError(t, err)

		e.lending.SetRunPage(2)
		t.Cleanup(func() { e.lending.SetRunPage(0) })

		// Stopped after two pages.
		cctx, cancel := context.WithCancel(ctx)
		var seen []int64
		err = e.lending.ContinueRun(cctx, id, 2, func(r *credit.Run) {
			seen = append(seen, r.Done)
			if len(seen) == 2 {
				cancel()
			}
		})
		cancel()
		require.ErrorIs(t, err, context.Canceled)
		// A page already writing when the cancel came may still commit
		// (even when its commit reports the cancel): the store has at
		// least what progress reported, in whole pages.
		require.GreaterOrEqual(t, len(seen), 2)
		for i, d := range seen {
			assert.Equal(t, int64(2*(i+1)), d)
		}
		got, err := e.credit.GetReassessment(e.as("officer"), &sanzhiv1.GetReassessmentRequest{Name: run.Name})
		require.NoError(t, err)
		assert.Equal(t, "running", got.State)
		assert.GreaterOrEqual(t, got.Done, seen[len(seen)-1], "progress through the API")
		assert.Zero(t, got.Done%2)
		assert.Less(t, got.Done, int64(len(live)))
		assert.Equal(t, int64(len(live)), got.Total)

		// Stopped at arbitrary instants (between statements of a page, too)
		// and resumed until done.
		interrupted := 0
		for attempt := 0; ; attempt++ {
			require.Less(t, attempt, 100, "the run never finished")
			// Growing limits: the first attempts stop it anywhere, the
			// later ones let it finish.
			tctx, cancel := context.WithTimeout(ctx, time.Duration(2+attempt*attempt)*time.Millisecond)
			err := e.lending.ContinueRun(tctx, id, 2, nil)
			cancel()
			if err == nil {
				break
			}
			require.True(t, errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled), "got %v", err)
			interrupted++
		}
		t.Logf("interrupted %d times", interrupted)
		got, err = e.credit.GetReassessment(e.as("officer"), &sanzhiv1.GetReassessmentRequest{Name: run.Name})
		require.NoError(t, err)
		assert.Equal(t, "done", got.State)
		assert.Equal(t, int64(len(live)), got.Done)
		assert.Equal(t, got.Total, got.Done)
		require.NoError(t, e.lending.ContinueRun(ctx, id, 2, nil), "a done run is left alone")

		for _, hh := range live {
			ds := decisionsOf(t, e, hh)
			require.Len(t, ds, before[hh]+1, "%s: assessed exactly once by the run", hh)
			assert.Equal(t, credit.ActorService, ds[0].DecidedBy)
			l := getLine(t, e, hh)
			assert.Equal(t, credit.DecisionName("tongxiang-rcb", "sanzhi-xindai", ds[0].ID), l.Decision, "the line rests on the run's decision")
			if prev := lines[hh]; prev != nil {
				assert.Equal(t, prev.Name, l.Name, "the line is updated, not replaced")
			}
			if hh == frozenHH {
				assert.Equal(t, "frozen", l.Status, "a frozen line stays frozen")
				assert.Equal(t, "blacklisted", l.FreezeReason)
			} else {
				assert.Equal(t, "active", l.Status)
			}
		}
		for _, hh := range skipped {
			assert.Empty(t, decisionsOf(t, e, hh), "%s has no live consent", hh)
		}

		// One audit record per committed page, covering every household once.
		pages := pageRecords(t, st, run.Name)
		total := 0
		var firsts []string
		for _, p := range pages {
			n, err := strconv.Atoi(p["households"])
			require.NoError(t, err)
			total += n
			firsts = append(firsts, p["first_household"])
			assert.Len(t, p["decisions_sha256"], 64)
		}
		assert.Equal(t, len(live), total, "no household in two committed pages")
		assert.True(t, slices.IsSorted(firsts))
		// Each page's hash covers its decisions: those of its households
		// decided at decided_at, in household order.
		ids := map[string]string{}
		for _, hh := range live {
			_, id, err := household.ParseName(hh, "household")
			require.NoError(t, err)
			ids[id] = hh
		}
		for _, p := range pages {
			decidedAt, err := time.Parse(time.RFC3339Nano, p["decided_at"])
			require.NoError(t, err)
			var inPage []string
			for id := range ids {
				if id >= p["first_household"] && id <= p["last_household"] {
					inPage = append(inPage, id)
				}
			}
			slices.Sort(inPage)
			h := sha256.New()
			n := 0
			for _, id := range inPage {
				for _, d := range decisionsOf(t, e, ids[id]) {
					if d.Time.Equal(decidedAt) {
						fmt.Fprintf(h, "%s %s\n", d.ID, d.InputHash)
						n++
					}
				}
			}
			assert.Equal(t, p["decisions"], strconv.Itoa(n))
			assert.Equal(t, p["decisions_sha256"], hex.EncodeToString(h.Sum(nil)), "page from %s", p["first_household"])
		}

		// The next run starts afresh.
		next, err := e.credit.StartReassessment(e.as("risk-1"), &sanzhiv1.StartReassessmentRequest{Product: product})
		require.NoError(t, err)
		assert.NotEqual(t, run.Name, next.Name)
		_, _, nextID, err := credit.ParseRunName(next.Name, "name")
		require.NoError(t, err)
		require.NoError(t, e.lending.ContinueRun(ctx, nextID, 1, nil))
		for _, hh := range live {
			assert.Len(t, decisionsOf(t, e, hh), before[hh]+2, hh)
		}

		// A run stores outcomes; reasons and counterfactuals are replayed
		// when read, and are those a single assessment stores.
		hh := live[4]
		stored := decisionsOf(t, e, hh)[0]
		assert.Empty(t, stored.Explanation.Reasons, "stored without reasons")
		read := getLine(t, e, hh)
		require.NotEmpty(t, read.Reasons, "replayed on read")
		listed, err := e.credit.ListDecisions(e.as("officer"), &sanzhiv1.ListDecisionsRequest{Household: hh, Bank: bankName})
		require.NoError(t, err)
		require.NotEmpty(t, listed.Decisions)
		assert.Equal(t, explanationTexts(read.Reasons), explanationTexts(listed.Decisions[0].Reasons))
		single, err := e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: product, Household: hh})
		require.NoError(t, err)
		assert.Equal(t, explanationTexts(single.Line.Reasons), explanationTexts(read.Reasons))
		assert.Equal(t, explanationTexts(single.Line.Counterfactuals), explanationTexts(read.Counterfactuals))
		assert.Equal(t, explanationTexts(single.Line.KnockOuts), explanationTexts(read.KnockOuts))
		assert.Equal(t, read.Limit, single.Line.Limit)
	})
}

func explanationTexts(es []*sanzhiv1.Explanation) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Code+" "+e.ZhCn+" "+e.En)
	}
	return out
}

// decisionsOf lists the household's decisions at the bank, newest first.
func decisionsOf(t *testing.T, e *env, hh string) []*credit.Decision {
	t.Helper()
	_, id, err := household.ParseName(hh, "household")
	require.NoError(t, err)
	var out []*credit.Decision
	require.NoError(t, e.st.Lending().Read(context.Background(), func(tx credit.Reader) error {
		var err error
		out, err = tx.Decisions(context.Background(), id, "tongxiang-rcb", "", 100)
		return err
	}))
	return out
}

// pageRecords returns the payloads of the run's page records, queued or
// already in the log.
func pageRecords(t *testing.T, st *sqlstore.Store, runName string) []map[string]string {
	t.Helper()
	ctx := context.Background()
	var out []map[string]string
	require.NoError(t, st.Conn().ReadOne(ctx, func(q sqlstore.Querier) error {
		out = nil
		rows, err := q.Query(ctx, `SELECT payload FROM audit_queue WHERE action = $1 AND subject = $2 ORDER BY id`,
			credit.ActionReassessPage, runName)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var payload string
			if err := rows.Scan(&payload); err != nil {
				return err
			}
			var p map[string]string
			if err := json.Unmarshal([]byte(payload), &p); err != nil {
				return err
			}
			out = append(out, p)
		}
		return rows.Err()
	}))
	return out
}
