package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
)

func TestReassess(t *testing.T) {
	db := demoCopy(t)

	// Seven demo households consent to the demo bank, besides those of the
	// demo bank's book (its lines and decisions are there before the run).
	ctx := context.Background()
	st, err := server.OpenStore(ctx, db)
	require.NoError(t, err)
	var book, lines0, decisions0 int64
	require.NoError(t, st.Store().Conn().ReadOne(ctx, func(q sqlstore.Querier) error {
		return q.QueryRow(ctx, `SELECT (SELECT COUNT(DISTINCT household_id) FROM consents), (SELECT COUNT(*) FROM credit_lines),
			(SELECT COUNT(*) FROM credit_decisions)`).Scan(&book, &lines0, &decisions0)
	}))
	n := book + 7
	var ids, villages []string
	require.NoError(t, st.Store().Conn().ReadOne(ctx, func(q sqlstore.Querier) error {
		ids, villages = nil, nil
		rows, err := q.Query(ctx, `SELECT id, village_code FROM households ORDER BY id LIMIT 7`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, v string
			if err := rows.Scan(&id, &v); err != nil {
				return err
			}
			ids, villages = append(ids, id), append(villages, v)
		}
		return rows.Err()
	}))
	now := time.Now().UTC()
	require.NoError(t, st.Store().Lending().Write(ctx, func(tx credit.Writer) error {
		for i, id := range ids {
			c := &lending.Consent{ID: "cli-" + id, Household: credit.HouseholdRef{Village: villages[i], ID: id}.Name(),
				Bank: "tongxiang-rcb", Purposes: []lending.Purpose{lending.PurposeAssessment}, GrantTime: now.Add(-time.Hour),
				Expires: now.AddDate(1, 0, 0), Channel: lending.ChannelCounter, AuthorisationHash: fmt.Sprintf("%064x", i),
				RecordedBy: "test", State: lending.ConsentGranted}
			if err := tx.InsertConsent(ctx, c); err != nil {
				return err
			}
		}
		return nil
	}))
	st.Close()

	reassess := func(extra ...string) (string, error) {
		return run(t, append([]string{"reassess", "--database", db, "--bank", "tongxiang-rcb", "--no-progress",
			"--lang", "en", "--page-size", "3"}, extra...)...)
	}
	out, err := reassess()
	require.NoError(t, err, out)
	assert.Contains(t, out, "started banks/tongxiang-rcb/products/sanzhi-xindai/reassessments/")
	assert.Contains(t, out, fmt.Sprintf("policy version 1, %d households", n))
	assert.Regexp(t, fmt.Sprintf(`: done, %d of %d households in `, n, n), out)

	counts := tableCounts(t, db)
	st, err = server.OpenStore(ctx, db)
	require.NoError(t, err)
	var lines, decisions, pages int64
	require.NoError(t, st.Store().Conn().ReadOne(ctx, func(q sqlstore.Querier) error {
		return q.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM credit_lines), (SELECT COUNT(*) FROM credit_decisions),
			(SELECT COUNT(*) FROM audit_queue WHERE action = 'credit.reassess_page')`).Scan(&lines, &decisions, &pages)
	}))
	st.Close()
	assert.Equal(t, []int64{lines0 + 7, decisions0 + n, (n + 2) / 3}, []int64{lines, decisions, pages},
		"a line for each of the seven, a decision for every consenting household; pages of 3")
	assert.NotZero(t, counts["audit_queue"])

	// A second run starts afresh; the lines are updated, not duplicated.
	out, err = reassess("--key", "sz_demo_bank_risk")
	require.NoError(t, err, out)
	assert.Regexp(t, fmt.Sprintf(`: done, %d of %d households in `, n, n), out)

	// Refusals: a principal the table does not allow, a product without a
	// policy, a bank without products.
	out, err = reassess("--key", "sz_demo_clerk_nanyang")
	require.Error(t, err, out)
	assert.Contains(t, err.Error(), "may not call")
	_, err = reassess("--product", "no-such-product")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no active credit policy")
	_, err = run(t, "reassess", "--database", db, "--bank", "no-such-bank", "--no-progress")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no product with an active policy")
}
