package rpc_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	"google.golang.org/grpc/codes"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/lending/credit"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// TestBatchDecisionReceipts: after a batch re-assessment, every
// household's decision has its own audit leaf, whose receipt verifies with
// our code and with golang.org/x/mod/sumdb/tlog, binds the outcome
// (eligible, grade, limit, rate: a receipt with any of them altered fails
// both), is a query record the household sees and no other household
// does, and the decision replays IDENTICAL to the output hash the leaf
// binds.
func TestBatchDecisionReceipts(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := lendingEnv(t, st)
		ctx := context.Background()
		type member struct{ hh, p string }
		var hhs []member
		for i := range 5 {
			hh, p := newHousehold(t, e, villageA, true)
			if i%2 == 0 {
				submitAndApprove(t, e, listingReq(e, hh, sanzhiv1.EvidenceKind_EVIDENCE_KIND_STAR_RATING))
			}
			counterConsent(t, e, hh, p, sha)
			hhs = append(hhs, member{hh, p})
		}
		// A household with no consent of the bank: not in the run.
		bystander, bystanderP := newHousehold(t, e, villageA, true)

		e.lending.SetRunPage(2) // three pages
		t.Cleanup(func() { e.lending.SetRunPage(0) })
		run, err := e.credit.StartReassessment(e.as("risk-1"), &sanzhiv1.StartReassessmentRequest{Product: product})
		require.NoError(t, err)
		_, _, id, err := credit.ParseRunName(run.Name, "name")
		require.NoError(t, err)
		require.NoError(t, e.lending.ContinueRun(ctx, id, 2, nil))
		// The page records are still written (the run's progress), one per
		// page, beside a record per decision.
		assert.Len(t, pageRecords(t, st, run.Name), 3)
		_, err = e.log.Publish(ctx)
		require.NoError(t, err)
		cp, err := e.audit.GetCheckpoint(e.as("regulator"), &sanzhiv1.GetCheckpointRequest{})
		require.NoError(t, err)
		ours, err := audit.NewVerifier(cp.VerifierKey)
		require.NoError(t, err)

		for _, m := range hhs {
			ds := decisionsOf(t, e, m.hh)
			require.Len(t, ds, 1, "the run decided %s once", m.hh)
			d := ds[0]
			require.Equal(t, credit.ActorService, d.DecidedBy)
			name := credit.DecisionName(d.Bank, d.Product, d.ID)

			// The household, the deciding bank and a regulator get the
			// same receipt, and it verifies both ways.
			var receipt string
			for _, who := range []string{m.p, "officer", "risk-1", "regulator"} {
				got, err := e.audit.GetDecisionReceipt(e.as(who), &sanzhiv1.GetDecisionReceiptRequest{Decision: name})
				require.NoError(t, err, who)
				if receipt == "" {
					receipt = got.Entry.Receipt
				}
				assert.Equal(t, receipt, got.Entry.Receipt, who)
			}
			var r audit.Receipt
			require.NoError(t, json.Unmarshal([]byte(receipt), &r))
			en, _, err := audit.VerifyReceipt(r, cp.Origin, ours)
			require.NoError(t, err)
			independentCheck(t, receipt, cp.VerifierKey, cp.Origin)
			require.NoError(t, tlogCheck(receipt, cp.VerifierKey))

			// Its own leaf: the decision's record, naming the run and
			// binding the outcome.
			assert.Equal(t, credit.ActionAssess, en.Action)
			assert.Equal(t, m.hh, en.Subject)
			assert.Equal(t, credit.ActorService, en.Actor)
			assert.Equal(t, name, en.Payload["decision"])
			assert.Equal(t, run.Name, en.Payload["run"])
			assert.Equal(t, credit.MethodReassessRun, en.Payload["method"])
			assert.Equal(t, "tongxiang-rcb", en.Payload["bank"])
			assert.Equal(t, strconv.FormatBool(d.Eligible), en.Payload["eligible"])
			assert.Equal(t, d.Grade, en.Payload["grade"])
			assert.Equal(t, d.Limit.StringFixed(2), en.Payload["limit"])
			assert.Equal(t, d.Rate.StringFixed(6), en.Payload["rate"])
			assert.Equal(t, d.InputHash, en.RequestHash)
			assert.Equal(t, credit.OutputHash(d), en.ResultHash)

			// Replay answers IDENTICAL, and the output hash it reproduces is
			// the one the receipt binds.
			rp, err := e.audit.ReplayDecision(e.as("regulator"), &sanzhiv1.ReplayDecisionRequest{Decision: name})
			require.NoError(t, err)
			assert.Equal(t, sanzhiv1.ReplayResult_REPLAY_RESULT_IDENTICAL, rp.Result, "%v", rp.Diffs)
			assert.Equal(t, en.ResultHash, rp.StoredOutputHash)
			assert.Equal(t, en.ResultHash, rp.OutputHash)
			assert.Equal(t, en.RequestHash, rp.InputHash)

			// Alter any bound field of the outcome and the receipt fails,
			// with our verifier and with tlog.
			for field, forged := range map[string]string{"eligible": strconv.FormatBool(!d.Eligible), "grade": d.Grade + "A",
				"limit": d.Limit.Add(decimal.NewFromInt(1000)).StringFixed(2), "rate": d.Rate.Add(decimal.RequireFromString("0.0001")).StringFixed(6),
				"result_hash": strings.Repeat("0", 64)} {
				alt := en
				alt.Payload = maps.Clone(en.Payload)
				if field == "result_hash" {
					alt.ResultHash = forged
				} else {
					require.NotEqual(t, en.Payload[field], forged, field)
					alt.Payload[field] = forged
				}
				bad := r
				bad.Entry = alt.Canonical()
				_, _, err := audit.VerifyReceipt(bad, cp.Origin, ours)
				assert.Error(t, err, "a receipt with %s altered verifies", field)
				raw, err := json.Marshal(bad)
				require.NoError(t, err)
				assert.Error(t, tlogCheck(string(raw), cp.VerifierKey), "tlog accepts a receipt with %s altered", field)
			}

			// The household sees the decision among its query records,
			// with its audit seq, bank and method.
			recs, err := e.consents.ListQueryRecords(e.as(m.p), &sanzhiv1.ListQueryRecordsRequest{Parent: m.hh})
			require.NoError(t, err)
			var found *sanzhiv1.QueryRecord
			for _, q := range recs.Records {
				if q.AuditSeq == en.Seq {
					found = q
				}
			}
			require.NotNil(t, found, "%s does not see its batch decision", m.hh)
			assert.Equal(t, credit.MethodReassessRun, found.Method)
			assert.Equal(t, bankName, found.Bank)
			assert.Equal(t, credit.ActorService, found.Actor)
			assert.Equal(t, "allowed", found.Outcome)
			assert.Equal(t, "consent", found.Basis)
			assert.Equal(t, name, found.Decision)
			assert.Equal(t, run.Name, found.Run)

			// Another household sees neither the record nor the receipt,
			// nor the entry; nor do another bank or the village clerk.
			_, err = e.consents.ListQueryRecords(e.as(bystanderP), &sanzhiv1.ListQueryRecordsRequest{Parent: m.hh})
			requireCode(t, err, codes.PermissionDenied, "", "")
			_, err = e.audit.GetDecisionReceipt(e.as(bystanderP), &sanzhiv1.GetDecisionReceiptRequest{Decision: name})
			requireCode(t, err, codes.NotFound, "", "")
			entry := "entries/" + strconv.FormatUint(en.Seq, 10)
			_, err = e.audit.GetEntry(e.as(m.p), &sanzhiv1.GetEntryRequest{Name: entry})
			require.NoError(t, err, "the household reads its decision's entry")
			_, err = e.audit.GetEntry(e.as("officer"), &sanzhiv1.GetEntryRequest{Name: entry})
			require.NoError(t, err, "the deciding bank reads it")
			for _, who := range []string{bystanderP, "officer-other", "clerk-a"} {
				_, err = e.audit.GetEntry(e.as(who), &sanzhiv1.GetEntryRequest{Name: entry})
				requireCode(t, err, codes.NotFound, "", "")
			}
		}

		// The bystander's own query records hold no decision of the run.
		recs, err := e.consents.ListQueryRecords(e.as(bystanderP), &sanzhiv1.ListQueryRecordsRequest{Parent: bystander})
		require.NoError(t, err)
		for _, q := range recs.Records {
			assert.NotEqual(t, credit.MethodReassessRun, q.Method)
			assert.Empty(t, q.Decision)
		}
	})
}

// tlogCheck is independentCheck answering an error instead of failing:
// the signed checkpoint opened with golang.org/x/mod/sumdb/note and the
// entry's inclusion checked with golang.org/x/mod/sumdb/tlog.
func tlogCheck(receiptJSON, vkey string) error {
	var r struct {
		Entry      json.RawMessage `json:"entry"`
		LeafIndex  string          `json:"leaf_index"`
		Proof      []string        `json:"inclusion_proof"`
		Checkpoint string          `json:"checkpoint"`
	}
	if err := json.Unmarshal([]byte(receiptJSON), &r); err != nil {
		return err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return err
	}
	n, err := note.Open([]byte(r.Checkpoint), note.VerifierList(v))
	if err != nil {
		return err
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 3 {
		return errors.New("short checkpoint")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return err
	}
	var root tlog.Hash
	b, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(b) != len(root) {
		return errors.New("bad root")
	}
	copy(root[:], b)
	index, err := strconv.ParseInt(r.LeafIndex, 10, 64)
	if err != nil {
		return err
	}
	proof := make(tlog.RecordProof, len(r.Proof))
	for i, p := range r.Proof {
		b, err := base64.StdEncoding.DecodeString(p)
		if err != nil || len(b) != len(proof[i]) {
			return errors.New("bad proof hash")
		}
		copy(proof[i][:], b)
	}
	return tlog.CheckRecord(proof, size, root, index, tlog.RecordHash(r.Entry))
}
