package rpc_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/sanzhi/sanzhi/adapters/merklelog"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/audit"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// TestAuditColumnRewrite is the attacker of issue 12 §3: with the
// triggers disabled, the plain subject and actor columns of a household's
// credit.query rows are rewritten to another household (and its
// principal). The rewrite may hide the rows from their household, but
// never show them to the other one, and verify names the leaf and column.
func TestAuditColumnRewrite(t *testing.T) {
	t.Parallel()
	storetest.IntruderBackends(t, func(t *testing.T, b storetest.Intruder) {
		st := b.Store
		e := newEnv(t, st)
		e.noonTomorrow()
		activateCounty(t, e)
		lend := newLendingFixture(t, e)
		hhB, hhBP := newHousehold(t, e, villageB, true)
		for range 3 { // query records of the first household
			_, err := e.credit.GetCreditLine(e.as("officer"), &sanzhiv1.GetCreditLineRequest{Product: lend.product, Household: lend.hh, Purpose: "post_loan"})
			require.NoError(t, err)
		}
		_, err := e.log.Publish(context.Background())
		require.NoError(t, err)

		before, err := e.consents.ListQueryRecords(e.as(lend.hhP), &sanzhiv1.ListQueryRecordsRequest{Parent: lend.hh})
		require.NoError(t, err)
		var moved []uint64
		for _, r := range before.Records {
			l, err := st.Leaf(context.Background(), r.AuditSeq)
			require.NoError(t, err)
			en, err := audit.ParseEntry(l.Data)
			require.NoError(t, err)
			if en.Action == "credit.query" {
				moved = append(moved, r.AuditSeq)
			}
		}
		require.GreaterOrEqual(t, len(moved), 2, "the fixture writes query records")
		moved = moved[:2]

		b.DisableAuditGuards(t) // as a DDL attacker must first
		for _, seq := range moved {
			b.Exec(t, `UPDATE audit_leaves SET subject = $1, actor = $2 WHERE seq = $3`, hhB, e.ids[hhBP], int64(seq))
		}

		// The other household sees none of the moved rows, by query
		// records or by the audit list (where the rewritten actor would
		// make them "its own").
		for _, who := range []string{hhBP, "regulator"} {
			recs, err := e.consents.ListQueryRecords(e.as(who), &sanzhiv1.ListQueryRecordsRequest{Parent: hhB})
			require.NoError(t, err)
			for _, r := range recs.Records {
				assert.NotContains(t, moved, r.AuditSeq, "%s sees a moved query record of %s", who, hhB)
			}
		}
		seen := listAll(t, e, e.as(hhBP), 3, &sanzhiv1.ListEntriesRequest{})
		for _, seq := range moved {
			assert.NotContains(t, seen, seq, "the other household lists a moved entry")
		}
		bySubject := listAll(t, e, e.as("regulator"), 50, &sanzhiv1.ListEntriesRequest{Subject: hhB})
		for _, seq := range moved {
			assert.NotContains(t, bySubject, seq, "a subject filter answers with a rewritten column")
		}
		// Its own household no longer finds them by the column: hidden,
		// not shown to the wrong person; the other rows are still there.
		after, err := e.consents.ListQueryRecords(e.as(lend.hhP), &sanzhiv1.ListQueryRecordsRequest{Parent: lend.hh})
		require.NoError(t, err)
		assert.Len(t, after.Records, len(before.Records)-len(moved))
		for _, r := range after.Records {
			assert.NotContains(t, moved, r.AuditSeq)
		}

		// Verify calls it tamper, naming the first rewritten leaf and the
		// column.
		v, err := note.NewVerifier(e.log.VerifierKey())
		require.NoError(t, err)
		_, err = merklelog.Verify(context.Background(), st, v, nil, nil)
		var te *audit.TamperError
		require.True(t, errors.As(err, &te), "verify: %v", err)
		assert.Equal(t, moved[0], te.Index)
		assert.Contains(t, te.Object, "column subject")
	})
}
