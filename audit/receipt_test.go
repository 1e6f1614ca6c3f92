package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"
)

type receiptFixture struct {
	log     *memLog
	signer  note.Signer
	v       note.Verifier
	signed  []byte
	entries []Entry
}

// newReceiptFixture makes a log of 20 entries whose payloads have the
// characters encoding/json escapes by default, and a checkpoint for it.
func newReceiptFixture(t *testing.T) *receiptFixture {
	f := &receiptFixture{log: newMemLog(t)}
	f.signer, f.v = testKeys(t, testOrigin)
	for i := uint64(0); i < 20; i++ {
		e := Entry{Seq: i, Record: Record{
			Time:    time.Date(2026, 5, 1, 9, 0, 0, int(i)*1000, time.UTC),
			Actor:   "principals/bank-officer-7",
			Action:  "decision.create",
			Subject: fmt.Sprintf("banks/b1/decisions/%d", i),
			Payload: map[string]string{"grade": "A", "limit": "50000.00", "why": "<收入> & 信用\u2028良好"},
		}}
		f.entries = append(f.entries, e)
		f.log.add(t, e.Canonical())
	}
	root, err := f.log.app.Root()
	require.NoError(t, err)
	f.signed, err = Sign(Checkpoint{Origin: testOrigin, Size: 20, Root: root}, f.signer)
	require.NoError(t, err)
	return f
}

func (f *receiptFixture) receipt(t *testing.T, index uint64) Receipt {
	p, err := InclusionProof(index, 20, f.log.read)
	require.NoError(t, err)
	return Receipt{Entry: f.log.data[index], LeafIndex: index, Proof: p, Checkpoint: string(f.signed)}
}

func TestReceiptRoundTrip(t *testing.T) {
	f := newReceiptFixture(t)
	r := f.receipt(t, 7)

	marshal := map[string]func(Receipt) ([]byte, error){
		"json.Marshal": func(r Receipt) ([]byte, error) { return json.Marshal(r) },
		"json.MarshalIndent": func(r Receipt) ([]byte, error) {
			return json.MarshalIndent(map[string]any{"receipt": r}, "", "  ")
		},
		"Encoder without HTML escaping": func(r Receipt) ([]byte, error) {
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			err := enc.Encode(r)
			return b.Bytes(), err
		},
	}
	for name, m := range marshal {
		t.Run(name, func(t *testing.T) {
			data, err := m(r)
			require.NoError(t, err)
			assert.Contains(t, string(data), `"leaf_index":`)
			if name != "Encoder without HTML escaping" {
				// encoding/json rewrote the embedded entry; it must still verify.
				assert.Contains(t, string(data), `\u003c收入\u003e \u0026 信用\u2028良好`)
			}
			var back Receipt
			if strings.Contains(name, "Indent") {
				var wrapped struct{ Receipt Receipt }
				require.NoError(t, json.Unmarshal(data, &wrapped))
				back = wrapped.Receipt
			} else {
				require.NoError(t, json.Unmarshal(data, &back))
			}
			e, c, err := VerifyReceipt(back, testOrigin, f.v)
			require.NoError(t, err)
			assert.Equal(t, f.entries[7].Canonical(), e.Canonical())
			assert.Equal(t, uint64(20), c.Size)
		})
	}
	t.Run("entry kept byte for byte without HTML escaping", func(t *testing.T) {
		data, err := marshal["Encoder without HTML escaping"](r)
		require.NoError(t, err)
		assert.Contains(t, string(data), `"entry":`+string(f.log.data[7])+`,`)
		assert.Contains(t, string(data), `"leaf_index":"7"`)
	})
	t.Run("origin from the key name", func(t *testing.T) {
		_, _, err := VerifyReceipt(r, "", f.v)
		require.NoError(t, err)
		_, _, err = VerifyReceipt(r, "other.example/audit", f.v)
		assert.ErrorContains(t, err, `receipt: checkpoint is for the log "sanzhi.example/audit", want "other.example/audit"`)
	})
}

func TestReceiptRejects(t *testing.T) {
	f := newReceiptFixture(t)
	good := f.receipt(t, 7)
	_, _, err := VerifyReceipt(good, testOrigin, f.v)
	require.NoError(t, err)

	t.Run("tampered entry byte", func(t *testing.T) {
		// Every single-byte change of the entry is caught.
		for i := range good.Entry {
			r := good
			r.Entry = bytes.Clone(good.Entry)
			r.Entry[i] ^= 0x01
			_, _, err := VerifyReceipt(r, testOrigin, f.v)
			require.Error(t, err, "byte %d", i)
		}
	})
	t.Run("canonical entry that is not in the log", func(t *testing.T) {
		e := f.entries[7]
		e.Payload = map[string]string{"grade": "AAA", "limit": "5000000.00"}
		r := good
		r.Entry = e.Canonical()
		_, _, err := VerifyReceipt(r, testOrigin, f.v)
		require.ErrorIs(t, err, ErrRootMismatch)
	})
	t.Run("other entry, other index", func(t *testing.T) {
		r := good
		r.Entry = f.log.data[8]
		_, _, err := VerifyReceipt(r, testOrigin, f.v)
		assert.EqualError(t, err, "receipt: entry has seq 8 but leaf_index is 7")
		r.LeafIndex = 8
		_, _, err = VerifyReceipt(r, testOrigin, f.v)
		require.ErrorIs(t, err, ErrRootMismatch) // proof is for 7
	})
	t.Run("re-encoded entry", func(t *testing.T) {
		for _, enc := range []string{
			strings.Replace(string(good.Entry), `"grade":"A"`, `"grade":"\u0041"`, 1),
			strings.Replace(string(good.Entry), `"action"`, `"Action"`, 1),
			strings.Replace(string(good.Entry), `,"actor"`, `,"actor":"mallory","actor"`, 1),
		} {
			require.NotEqual(t, string(good.Entry), enc)
			r := good
			r.Entry = json.RawMessage(enc)
			_, _, err := VerifyReceipt(r, testOrigin, f.v)
			require.Error(t, err, enc)
			assert.Contains(t, err.Error(), "entry is not canonical JSON")
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		_, other := testKeys(t, testOrigin)
		_, _, err := VerifyReceipt(good, testOrigin, other)
		assert.ErrorContains(t, err, "receipt: checkpoint is signed by another key")
	})
	t.Run("tampered checkpoint", func(t *testing.T) {
		r := good
		r.Checkpoint = strings.Replace(good.Checkpoint, "\n20\n", "\n21\n", 1)
		_, _, err := VerifyReceipt(r, testOrigin, f.v)
		assert.ErrorContains(t, err, "is invalid")
	})
	t.Run("tampered proof", func(t *testing.T) {
		r := good
		r.Proof = append([][]byte(nil), good.Proof...)
		r.Proof[0] = bytes.Clone(r.Proof[0])
		r.Proof[0][3] ^= 0x10
		_, _, err := VerifyReceipt(r, testOrigin, f.v)
		require.ErrorIs(t, err, ErrRootMismatch)
	})
	t.Run("no key", func(t *testing.T) {
		_, _, err := VerifyReceipt(good, testOrigin, nil)
		assert.Error(t, err)
	})
}
