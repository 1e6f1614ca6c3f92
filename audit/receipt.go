package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Receipt is what a bank or household keeps to check one entry offline: the
// entry's canonical JSON, its leaf index, the inclusion proof and the signed
// checkpoint it is proved against.
//
// Write receipts with a json.Encoder with SetEscapeHTML(false) to keep the
// entry byte for byte. VerifyReceipt also accepts the entry as json.Marshal
// and json.MarshalIndent leave it (whitespace added, '<', '>', '&', U+2028 and
// U+2029 escaped) and nothing else.
type Receipt struct {
	Entry      json.RawMessage `json:"entry"` // the canonical JSON, embedded as-is
	LeafIndex  uint64          `json:"leaf_index,string"`
	Proof      [][]byte        `json:"inclusion_proof"` // base64 by encoding/json
	Checkpoint string          `json:"checkpoint"`      // signed note text
}

// VerifyReceipt checks a receipt with the log's verifier key only: the
// checkpoint is signed by v for the log origin (if origin is "", the key's
// name v.Name() is taken as the origin, the convention GenerateKey
// documents; the origin is never taken from the checkpoint itself), the entry
// is a canonical entry whose seq is LeafIndex, and the inclusion proof leads
// from the entry to the checkpoint's root. It returns the verified entry and
// checkpoint.
func VerifyReceipt(r Receipt, origin string, v note.Verifier) (Entry, Checkpoint, error) {
	if v == nil {
		return Entry{}, Checkpoint{}, errors.New("receipt: no verifier key")
	}
	if origin == "" {
		origin = v.Name()
	}
	cp, err := OpenCheckpoint([]byte(r.Checkpoint), origin, v)
	if err != nil {
		return Entry{}, Checkpoint{}, fmt.Errorf("receipt: %w", err)
	}
	return verifyReceiptEntry(r, cp)
}

// VerifyReceiptKeys checks a receipt like VerifyReceipt, with the log's key
// history instead of one key: the checkpoint must be signed by the key (or,
// at a handover, both keys) the history says signed checkpoints of its size,
// for the log the history names. Receipts issued before a key rotation keep
// verifying this way.
func VerifyReceiptKeys(r Receipt, h *KeyHistory) (Entry, Checkpoint, error) {
	if h == nil {
		return Entry{}, Checkpoint{}, errors.New("receipt: no key history")
	}
	cp, err := h.OpenCheckpoint([]byte(r.Checkpoint))
	if err != nil {
		return Entry{}, Checkpoint{}, fmt.Errorf("receipt: %w", err)
	}
	return verifyReceiptEntry(r, cp)
}

// verifyReceiptEntry checks the receipt's entry against its opened
// checkpoint.
func verifyReceiptEntry(r Receipt, cp Checkpoint) (Entry, Checkpoint, error) {
	data, e, err := receiptEntry(r.Entry)
	if err != nil {
		return Entry{}, Checkpoint{}, fmt.Errorf("receipt: %w", err)
	}
	if e.Seq != r.LeafIndex {
		return Entry{}, Checkpoint{}, fmt.Errorf("receipt: entry has seq %d but leaf_index is %d", e.Seq, r.LeafIndex)
	}
	if err := VerifyInclusion(cp, r.LeafIndex, data, r.Proof); err != nil {
		return Entry{}, Checkpoint{}, fmt.Errorf("receipt: %w", err)
	}
	return e, cp, nil
}

// receiptEntry returns the canonical bytes of a receipt's entry and the
// entry. raw must be the canonical JSON, possibly with the whitespace and
// HTML escaping that encoding/json adds when it writes a RawMessage.
func receiptEntry(raw []byte) ([]byte, Entry, error) {
	if e, err := ParseEntry(raw); err == nil {
		return raw, e, nil
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return nil, Entry{}, fmt.Errorf("entry is not valid JSON: %w", err)
	}
	if e, err := ParseEntry(compact.Bytes()); err == nil {
		return compact.Bytes(), e, nil
	}
	// Undo the HTML escaping: decode, re-encode canonically and accept only if
	// escaping the canonical form gives back exactly what we were given.
	var lax struct {
		Action      string            `json:"action"`
		Actor       string            `json:"actor"`
		Payload     map[string]string `json:"payload"`
		RequestHash string            `json:"request_hash"`
		ResultHash  string            `json:"result_hash"`
		Seq         string            `json:"seq"`
		Subject     string            `json:"subject"`
		Time        string            `json:"time"`
	}
	if json.Unmarshal(compact.Bytes(), &lax) == nil {
		seq, errSeq := strconv.ParseUint(lax.Seq, 10, 64)
		t, errTime := time.Parse(TimeLayout, lax.Time)
		if errSeq == nil && errTime == nil {
			e := Entry{Seq: seq, Record: Record{
				Time: t, Actor: lax.Actor, Action: lax.Action, Subject: lax.Subject,
				RequestHash: lax.RequestHash, ResultHash: lax.ResultHash, Payload: lax.Payload,
			}}
			canonical := e.Canonical()
			var escaped bytes.Buffer
			json.HTMLEscape(&escaped, canonical)
			if bytes.Equal(escaped.Bytes(), compact.Bytes()) {
				// Same entry; ParseEntry settles that canonical is canonical.
				e, err := ParseEntry(canonical)
				return canonical, e, err
			}
		}
	}
	_, err := ParseEntry(raw)
	return nil, Entry{}, err
}
