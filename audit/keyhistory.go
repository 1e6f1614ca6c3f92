package audit

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// A KeyHistory lists every key that has signed the log's checkpoints, oldest
// first, each with the first tree size it signs. Key i signs the checkpoints
// of sizes [From_i, From_{i+1}); the checkpoint at From_i (i > 0), the
// handover, is signed by key i-1 as well, so that a regulator who trusts the
// old key learns the new one from the log itself.
//
// Its text form is what a regulator keeps and can write by hand: one key a
// line, the verifier key text and the first tree size in decimal, separated
// by white space. Blank lines and lines starting with '#' are comments:
//
//	# sanzhi audit key history: verifier key, first tree size it signs
//	sanzhi.example/tongxiang+1a2b3c4d+AbCd… 0
//	sanzhi.example/tongxiang+5e6f7a8b+EfGh… 4097
//
// The first key starts at 0, the sizes strictly increase, and every key has
// the same name, which is the log's origin. A KeyHistory is a
// note.Verifiers of all its keys.
type KeyHistory struct {
	keys []HistoryKey
}

// HistoryKey is one line of a key history.
type HistoryKey struct {
	Text     string // the verifier key text, "" for a history made by SingleKey
	From     uint64 // the first tree size it signs
	Verifier note.Verifier
}

// ParseKeyHistory parses the text form of a key history.
func ParseKeyHistory(text []byte) (*KeyHistory, error) {
	h := &KeyHistory{}
	for i, line := range strings.Split(string(text), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return nil, fmt.Errorf("key history line %d: want 2 fields, a verifier key and the first tree size it signs; got %d", i+1, len(fields))
		}
		from, err := strconv.ParseUint(fields[1], 10, 64)
		if err != nil || strconv.FormatUint(from, 10) != fields[1] {
			return nil, fmt.Errorf("key history line %d: tree size %q is not a decimal number", i+1, fields[1])
		}
		if err := h.add(fields[0], from); err != nil {
			return nil, fmt.Errorf("key history line %d: %w", i+1, err)
		}
	}
	if len(h.keys) == 0 {
		return nil, errors.New("key history lists no key")
	}
	return h, nil
}

// SingleKey is the history of a log that only v has ever signed.
func SingleKey(v note.Verifier) *KeyHistory {
	return &KeyHistory{keys: []HistoryKey{{From: 0, Verifier: v}}}
}

// NewKeyHistory starts a history with the verifier key vkey signing from
// size 0.
func NewKeyHistory(vkey string) (*KeyHistory, error) {
	h := &KeyHistory{}
	if err := h.add(vkey, 0); err != nil {
		return nil, err
	}
	return h, nil
}

// With returns a copy of h with vkey taking over at tree size from.
func (h *KeyHistory) With(vkey string, from uint64) (*KeyHistory, error) {
	c := &KeyHistory{keys: slices.Clone(h.keys)}
	if err := c.add(vkey, from); err != nil {
		return nil, err
	}
	return c, nil
}

func (h *KeyHistory) add(vkey string, from uint64) error {
	v, err := NewVerifier(vkey)
	if err != nil {
		return err
	}
	if len(h.keys) == 0 {
		if from != 0 {
			return fmt.Errorf("the first key must sign from tree size 0, not %d", from)
		}
	} else {
		last := h.keys[len(h.keys)-1]
		if from <= last.From {
			return fmt.Errorf("key %s starts at tree size %d, not after the previous key's %d: sizes must increase", keyID(v), from, last.From)
		}
		if v.Name() != last.Verifier.Name() {
			return fmt.Errorf("key %s is named %q, but the log is %q: a rotated key keeps the log's name", keyID(v), v.Name(), last.Verifier.Name())
		}
	}
	for _, k := range h.keys {
		if k.Verifier.KeyHash() == v.KeyHash() {
			return fmt.Errorf("key %s is listed twice (or two keys share a key hash)", keyID(v))
		}
	}
	h.keys = append(h.keys, HistoryKey{Text: strings.TrimSpace(vkey), From: from, Verifier: v})
	return nil
}

// Keys returns the history's keys, oldest first.
func (h *KeyHistory) Keys() []HistoryKey { return slices.Clone(h.keys) }

// Origin is the log's name: the name of every key.
func (h *KeyHistory) Origin() string { return h.keys[0].Verifier.Name() }

// Current is the key that signs from the last boundary on.
func (h *KeyHistory) Current() note.Verifier { return h.keys[len(h.keys)-1].Verifier }

// Text is the history in its text form, which ParseKeyHistory reads back.
func (h *KeyHistory) Text() []byte {
	var b bytes.Buffer
	b.WriteString("# sanzhi audit key history: verifier key, first tree size it signs\n")
	for _, k := range h.keys {
		fmt.Fprintf(&b, "%s %d\n", k.Text, k.From)
	}
	return b.Bytes()
}

// Required returns the keys that must have signed a checkpoint of size n:
// the key current at n and, when n is a handover size, the key before it.
func (h *KeyHistory) Required(n uint64) []note.Verifier {
	i := h.index(n)
	if i > 0 && h.keys[i].From == n {
		return []note.Verifier{h.keys[i-1].Verifier, h.keys[i].Verifier}
	}
	return []note.Verifier{h.keys[i].Verifier}
}

// Handovers returns the tree sizes at which a later key took over.
func (h *KeyHistory) Handovers() []uint64 {
	var out []uint64
	for _, k := range h.keys[1:] {
		out = append(out, k.From)
	}
	return out
}

// index is the key current at size n.
func (h *KeyHistory) index(n uint64) int {
	i := 0
	for j, k := range h.keys {
		if k.From <= n {
			i = j
		}
	}
	return i
}

// Verifier implements note.Verifiers: it finds a key of the history by name
// and key hash.
func (h *KeyHistory) Verifier(name string, hash uint32) (note.Verifier, error) {
	for _, k := range h.keys {
		if k.Verifier.Name() == name && k.Verifier.KeyHash() == hash {
			return k.Verifier, nil
		}
	}
	return nil, &note.UnknownVerifierError{Name: name, KeyHash: hash}
}

// OpenCheckpoint verifies a signed checkpoint of the log against the
// history and parses it: every signature by a key of the history must be
// valid, and the keys of the history that signed it must be exactly those
// Required at its size (a retired key may not sign later checkpoints, a
// new key no earlier ones). Signatures by keys outside the history, such
// as witness cosignatures, are allowed.
func (h *KeyHistory) OpenCheckpoint(signed []byte) (Checkpoint, error) {
	if h == nil || len(h.keys) == 0 {
		return Checkpoint{}, errors.New("open checkpoint: no verifier key")
	}
	n, err := note.Open(signed, h)
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			var by, known []string
			for _, s := range unverified.Note.UnverifiedSigs {
				by = append(by, fmt.Sprintf("%s+%08x", s.Name, s.Hash))
			}
			for _, k := range h.keys {
				known = append(known, keyID(k.Verifier))
			}
			if len(known) == 1 {
				return Checkpoint{}, fmt.Errorf("checkpoint is signed by another key (%s), not by %s", strings.Join(by, ", "), known[0])
			}
			return Checkpoint{}, fmt.Errorf("checkpoint is signed by another key (%s), by none of the history's keys %s",
				strings.Join(by, ", "), strings.Join(known, ", "))
		case errors.As(err, &invalid):
			return Checkpoint{}, fmt.Errorf("checkpoint signature by %s+%08x is invalid: the checkpoint was altered or the signature is corrupt",
				invalid.Name, invalid.Hash)
		}
		return Checkpoint{}, fmt.Errorf("checkpoint is not a well-formed signed note: %w", err)
	}
	c, err := parseCheckpointBody(n.Text, h.Origin())
	if err != nil {
		return Checkpoint{}, err
	}
	required := h.Required(c.Size)
	signedBy := func(v note.Verifier) bool {
		return slices.ContainsFunc(n.Sigs, func(s note.Signature) bool { return s.Name == v.Name() && s.Hash == v.KeyHash() })
	}
	for _, v := range required {
		if !signedBy(v) {
			if len(required) == 2 {
				return Checkpoint{}, fmt.Errorf("checkpoint at size %d is the handover from key %s to key %s and must carry both signatures, but %s's is missing",
					c.Size, keyID(required[0]), keyID(required[1]), keyID(v))
			}
			return Checkpoint{}, fmt.Errorf("checkpoint at size %d is not signed by %s, the key the history says signs it (it is signed by %s)",
				c.Size, keyID(v), sigIDs(n.Sigs))
		}
	}
	for _, s := range n.Sigs {
		if !slices.ContainsFunc(required, func(v note.Verifier) bool { return s.Name == v.Name() && s.Hash == v.KeyHash() }) {
			i := slices.IndexFunc(h.keys, func(k HistoryKey) bool { return k.Verifier.KeyHash() == s.Hash })
			return Checkpoint{}, fmt.Errorf("checkpoint at size %d is signed by %s+%08x, which the history says signs %s: a wrong size boundary in the history, or the key was used out of its turn",
				c.Size, s.Name, s.Hash, h.span(i))
		}
	}
	return c, nil
}

// span describes the sizes key i signs.
func (h *KeyHistory) span(i int) string {
	if i+1 < len(h.keys) {
		return fmt.Sprintf("tree sizes %d to %d (the handover)", h.keys[i].From, h.keys[i+1].From)
	}
	return fmt.Sprintf("tree sizes from %d on", h.keys[i].From)
}

func keyID(v note.Verifier) string { return fmt.Sprintf("%s+%08x", v.Name(), v.KeyHash()) }

func sigIDs(sigs []note.Signature) string {
	var ids []string
	for _, s := range sigs {
		ids = append(ids, fmt.Sprintf("%s+%08x", s.Name, s.Hash))
	}
	return strings.Join(ids, ", ")
}
