package main

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/internal/cli"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
)

// TestAuditReplay: every decision of the demo county (a batch run over
// its consenting households) replays IDENTICAL, singly and as a range; a
// decision altered in the database is reported with the field, and the
// command fails.
func TestAuditReplay(t *testing.T) {
	db := demoCopy(t)
	ctx := context.Background()
	st, err := server.OpenStore(ctx, db)
	require.NoError(t, err)
	var refs []credit.HouseholdRef
	require.NoError(t, st.Store().Conn().ReadOne(ctx, func(q sqlstore.Querier) error {
		rows, err := q.Query(ctx, `SELECT id, village_code FROM households ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r credit.HouseholdRef
			if err := rows.Scan(&r.ID, &r.Village); err != nil {
				return err
			}
			refs = append(refs, r)
		}
		return rows.Err()
	}))
	// A consent from one household in six: the run then decides about
	// five hundred households besides the book, enough to replay in bulk
	// at a sixth of the cost under the race detector.
	var some []credit.HouseholdRef
	for i, r := range refs {
		if i%6 == 0 {
			some = append(some, r)
		}
	}
	refs = some
	now := time.Now().UTC()
	require.NoError(t, st.Store().Lending().Write(ctx, func(tx credit.Writer) error {
		for i, r := range refs {
			c := &lending.Consent{ID: "cli-" + r.ID, Household: r.Name(), Bank: "tongxiang-rcb",
				Purposes: []lending.Purpose{lending.PurposeAssessment}, GrantTime: now.Add(-time.Hour),
				Expires: now.AddDate(1, 0, 0), Channel: lending.ChannelCounter, AuthorisationHash: fmt.Sprintf("%064x", i),
				RecordedBy: "test", State: lending.ConsentGranted}
			if err := tx.InsertConsent(ctx, c); err != nil {
				return err
			}
		}
		return nil
	}))
	st.Close()
	out, err := run(t, "reassess", "--database", db, "--bank", "tongxiang-rcb", "--no-progress", "--lang", "en")
	require.NoError(t, err, out)

	// Every decision: the run's, one per household, and the demo bank's
	// book (its lines' decisions since they were opened, with the loan
	// statuses the bank reported in their inputs).
	st, err = server.OpenStore(ctx, db)
	require.NoError(t, err)
	var all, recent int
	require.NoError(t, st.Store().Conn().ReadOne(ctx, func(q sqlstore.Querier) error {
		return q.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM credit_decisions),
			(SELECT COUNT(*) FROM credit_decisions WHERE time >= $1)`, now.Add(-time.Hour).Format("2006-01-02T15:04:05.000000Z")).Scan(&all, &recent)
	}))
	st.Close()
	require.GreaterOrEqual(t, recent, len(refs))
	const prod = "banks/tongxiang-rcb/products/sanzhi-xindai"
	replay := func(key string, args ...string) (string, error) {
		return run(t, append([]string{"audit", "replay", "--database", db, "--lang", "en", "--no-progress", "--key", key}, args...)...)
	}
	out, err = replay("sz_demo_regulator", "--product", prod)
	require.NoError(t, err, out)
	assert.Regexp(t, fmt.Sprintf(`(?m)^%d decisions: %d identical, 0 different, 0 unreplayable`, all, all), out)
	// The bank replays its own product by date range too.
	out, err = replay("sz_demo_bank_risk", "--product", prod, "--from", now.Add(-time.Hour).Format(time.RFC3339), "--to", "2099-01-01")
	require.NoError(t, err, out)
	assert.Regexp(t, fmt.Sprintf(`(?m)^%d decisions: %d identical, 0 different, 0 unreplayable`, recent, recent), out)
	// ... but not every bank's decisions, nor another bank's.
	_, err = replay("sz_demo_bank_risk", "--from", "2020-01-01")
	require.Error(t, err)
	_, err = replay("sz_demo_bank_risk", "--product", "banks/other-bank/products/x")
	require.ErrorContains(t, err, "outside the scope")

	// One decision, by name.
	st, err = server.OpenStore(ctx, db)
	require.NoError(t, err)
	var id string
	require.NoError(t, st.Store().Conn().ReadOne(ctx, func(q sqlstore.Querier) error {
		return q.QueryRow(ctx, `SELECT id FROM credit_decisions ORDER BY id LIMIT 1`).Scan(&id)
	}))
	name := prod + "/decisions/" + id
	out, err = replay("sz_demo_regulator", name)
	require.NoError(t, err, out)
	assert.Contains(t, out, "IDENTICAL "+name)
	assert.Regexp(t, regexp.MustCompile(`output hash \(stored\)\s+[0-9a-f]{64}`), out)
	_, err = replay("sz_demo_operator", name)
	require.ErrorContains(t, err, "may not", "an operator does not replay")
	assert.Equal(t, cli.ExitFailure, cli.Code(err), "refused is not a failed verification")

	// Altered in the database: the field is named and the command fails.
	require.NoError(t, st.Store().Conn().WriteTx(ctx, func(q sqlstore.Querier) error {
		_, err := q.Exec(ctx, `UPDATE credit_decisions SET eligible = NOT eligible WHERE id = $1`, id)
		return err
	}))
	st.Close()
	out, err = replay("sz_demo_regulator", name)
	require.Error(t, err)
	assert.Equal(t, cli.ExitVerifyFailed, cli.Code(err))
	assert.Contains(t, out, "DIFFERENT "+name)
	assert.Contains(t, out, "field eligible: stored")
	out, err = replay("sz_demo_regulator", "--product", prod)
	require.Error(t, err)
	assert.Equal(t, cli.ExitVerifyFailed, cli.Code(err))
	assert.Regexp(t, fmt.Sprintf(`(?m)^%d decisions: %d identical, 1 different, 0 unreplayable`, all, all-1), out)
	assert.Contains(t, out, "DIFFERENT "+name)
}
