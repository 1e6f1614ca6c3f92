package rpc_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

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

// independentCheck verifies a decision receipt with code that shares
// nothing with ours but the wire formats: golang.org/x/mod/sumdb/note
// opens the checkpoint with the verifier key, the body is read by hand
// as C2SP tlog-checkpoint text, and golang.org/x/mod/sumdb/tlog checks the
// RFC 6962 inclusion proof of the entry's bytes. It returns the entry as
// a plain JSON object.
func independentCheck(t *testing.T, receiptJSON, vkey, origin string) map[string]any {
	t.Helper()
	var r struct {
		Entry      json.RawMessage `json:"entry"`
		LeafIndex  string          `json:"leaf_index"`
		Proof      []string        `json:"inclusion_proof"`
		Checkpoint string          `json:"checkpoint"`
	}
	require.NoError(t, json.Unmarshal([]byte(receiptJSON), &r))
	v, err := note.NewVerifier(vkey)
	require.NoError(t, err)
	n, err := note.Open([]byte(r.Checkpoint), note.VerifierList(v))
	require.NoError(t, err, "our checkpoint is a signed note note.Open accepts with our verifier key")
	lines := strings.Split(n.Text, "\n")
	require.GreaterOrEqual(t, len(lines), 4)
	require.Equal(t, origin, lines[0])
	size, err := strconv.ParseInt(lines[1], 10, 64)
	require.NoError(t, err)
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	require.NoError(t, err)
	var root tlog.Hash
	require.Len(t, rootBytes, len(root))
	copy(root[:], rootBytes)
	index, err := strconv.ParseInt(r.LeafIndex, 10, 64)
	require.NoError(t, err)
	proof := make(tlog.RecordProof, len(r.Proof))
	for i, p := range r.Proof {
		b, err := base64.StdEncoding.DecodeString(p)
		require.NoError(t, err)
		require.Len(t, b, len(proof[i]))
		copy(proof[i][:], b)
	}
	// The entry bytes as stored (the receipt embeds them; encoding/json
	// would only have escaped HTML characters, which ids never hold).
	require.NoError(t, tlog.CheckRecord(proof, size, root, index, tlog.RecordHash(r.Entry)))
	var entry map[string]any
	require.NoError(t, json.Unmarshal(r.Entry, &entry))
	return entry
}

func TestDecisionReceipt(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := lendingEnv(t, st)
		ctx := context.Background()
		w := seedReplay(t, e)
		_, err := e.log.Publish(ctx)
		require.NoError(t, err)
		cp, err := e.audit.GetCheckpoint(e.as("regulator"), &sanzhiv1.GetCheckpointRequest{})
		require.NoError(t, err)
		ours, err := audit.NewVerifier(cp.VerifierKey)
		require.NoError(t, err)

		// Every decision: its receipt verifies with ours and with the
		// independent implementation, and its entry names the decision.
		actions := map[string]int{}
		for _, name := range w.decisions {
			got, err := e.audit.GetDecisionReceipt(e.as("regulator"), &sanzhiv1.GetDecisionReceiptRequest{Decision: name})
			require.NoError(t, err, name)
			var r audit.Receipt
			require.NoError(t, json.Unmarshal([]byte(got.Entry.Receipt), &r))
			en, _, err := audit.VerifyReceipt(r, cp.Origin, ours)
			require.NoError(t, err)
			entry := independentCheck(t, got.Entry.Receipt, cp.VerifierKey, cp.Origin)
			assert.Equal(t, en.Action, entry["action"])
			actions[en.Action]++
			_, _, id, err := credit.ParseDecisionName(name, "decision")
			require.NoError(t, err)
			switch en.Action {
			case credit.ActionAssess:
				// A single assessment's or a batch run's decision: its own
				// entry, about its household.
				assert.Equal(t, name, en.Payload["decision"])
				var hh string
				require.NoError(t, st.Conn().ReadTx(ctx, func(q sqlstore.Querier) error {
					return q.QueryRow(ctx, `SELECT household_id FROM credit_decisions WHERE id = $1`, id).Scan(&hh)
				}))
				assert.True(t, strings.HasSuffix(en.Subject, "/households/"+hh), en.Subject)
				if en.Payload["run"] != "" {
					actions["run"]++
				}
			case "credit.override":
				assert.Equal(t, w.override, name)
				assert.Equal(t, name, en.Payload["override_decision"])
			default:
				t.Fatalf("%s is recorded by %s", name, en.Action)
			}
		}

		assert.Equal(t, 1, actions["credit.override"])
		assert.Positive(t, actions[credit.ActionAssess])
		assert.Positive(t, actions["run"], "batch decisions have receipts of their own")

		// The deciding bank and the household it is about get it too.
		for _, who := range []string{"officer", "risk-1", w.hhP} {
			got, err := e.audit.GetDecisionReceipt(e.as(who), &sanzhiv1.GetDecisionReceiptRequest{Decision: w.replaced})
			require.NoError(t, err, who)
			independentCheck(t, got.Entry.Receipt, cp.VerifierKey, cp.Origin)
		}
		// Another household, another bank, an unknown decision.
		other := w.decisions[0]
		if other == w.replaced {
			other = w.decisions[1]
		}
		_, err = e.audit.GetDecisionReceipt(e.as(w.hhP), &sanzhiv1.GetDecisionReceiptRequest{Decision: other})
		requireCode(t, err, codes.NotFound, "", "")
		_, err = e.audit.GetDecisionReceipt(e.as("officer-other"), &sanzhiv1.GetDecisionReceiptRequest{Decision: w.replaced})
		requireCode(t, err, codes.PermissionDenied, "", "")
		_, _, id, err := credit.ParseDecisionName(w.replaced, "decision")
		require.NoError(t, err)
		_, err = e.audit.GetDecisionReceipt(e.as("officer-other"), &sanzhiv1.GetDecisionReceiptRequest{Decision: otherProd + "/decisions/" + id})
		requireCode(t, err, codes.NotFound, "", "")
		_, err = e.audit.GetDecisionReceipt(e.as("regulator"), &sanzhiv1.GetDecisionReceiptRequest{Decision: product + "/decisions/" + missing()})
		requireCode(t, err, codes.NotFound, "", "")
		_, err = e.audit.GetDecisionReceipt(e.as("clerk-a"), &sanzhiv1.GetDecisionReceiptRequest{Decision: w.replaced})
		requireCode(t, err, codes.PermissionDenied, "", "")

		// A decision whose record is not sequenced yet is not refused as
		// unknown: the caller is told to ask again.
		_, _, fresh := consented(t, e)
		_, err = e.audit.GetDecisionReceipt(e.as("officer"), &sanzhiv1.GetDecisionReceiptRequest{Decision: fresh.Decision})
		requireCode(t, err, codes.FailedPrecondition, "", "")
		_, err = e.log.Publish(ctx)
		require.NoError(t, err)
		got, err := e.audit.GetDecisionReceipt(e.as("officer"), &sanzhiv1.GetDecisionReceiptRequest{Decision: fresh.Decision})
		require.NoError(t, err)
		independentCheck(t, got.Entry.Receipt, cp.VerifierKey, cp.Origin)
	})
}
