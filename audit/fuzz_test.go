package audit

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/transparency-dev/merkle/compact"
)

var (
	minMicro = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	maxMicro = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC).UnixMicro()
)

// FuzzCanonical puts arbitrary strings into every field: Canonical must give
// valid JSON that encoding/json reads back to the same values, that
// ParseEntry accepts and that re-encodes to the same bytes.
func FuzzCanonical(f *testing.F) {
	e := sampleEntry()
	f.Add(e.Seq, e.Time.UnixMicro(), e.Actor, e.Action, e.Subject, e.RequestHash, e.ResultHash, "name_zh", e.Payload["name_zh"], "note", e.Payload["note"])
	f.Add(uint64(0), int64(0), "", "", "", "", "", "", "", "", "")
	f.Add(uint64(1<<64-1), maxMicro, "\x00\x1f\x7f", "\"\\/", "\u2028\u2029", "<>&", "\ufffd", "k", "k\xff", "k\xfe", "\xc3")
	f.Add(uint64(9), minMicro, "é", "😀", "a\tb", "\u00e9", "e\u0301", "same", "1", "same", "2")
	f.Fuzz(func(t *testing.T, seq uint64, micro int64, actor, action, subject, req, res, k1, v1, k2, v2 string) {
		micro = minMicro + int64(uint64(micro-minMicro)%uint64(maxMicro-minMicro+1))
		e := Entry{Seq: seq, Record: Record{
			Time: time.UnixMicro(micro), Actor: actor, Action: action, Subject: subject,
			RequestHash: req, ResultHash: res, Payload: map[string]string{k1: v1, k2: v2},
		}}
		c := e.Canonical()
		require.True(t, json.Valid(c), "%q", c)
		require.True(t, utf8.Valid(c))

		got, err := ParseEntry(c)
		require.NoError(t, err, "%q", c)
		require.Equal(t, c, got.Canonical())
		seq2, err := checkCanonical(c)
		require.NoError(t, err)
		require.Equal(t, seq, seq2)
		require.Equal(t, seq, got.Seq)
		require.True(t, got.Time.Equal(e.Time), "%v != %v", got.Time, e.Time)

		// encoding/json, which shares no code with Canonical, reads the same values.
		var std struct {
			Action, Actor, Subject, Seq, Time string
			RequestHash                       string `json:"request_hash"`
			ResultHash                        string `json:"result_hash"`
			Payload                           map[string]string
		}
		require.NoError(t, json.Unmarshal(c, &std))
		assert.Equal(t, strconv.FormatUint(seq, 10), std.Seq)
		assert.Equal(t, e.Time.UTC().Format(TimeLayout), std.Time)
		allValid := true
		for _, s := range []string{actor, action, subject, req, res, k1, v1, k2, v2} {
			allValid = allValid && utf8.ValidString(s)
		}
		if allValid {
			assert.Equal(t, Record{Actor: actor, Action: action, Subject: subject, RequestHash: req, ResultHash: res, Payload: e.Payload},
				Record{Actor: std.Actor, Action: std.Action, Subject: std.Subject, RequestHash: std.RequestHash, ResultHash: std.ResultHash, Payload: std.Payload})
			assert.Equal(t, e.Payload, got.Payload)
			assert.Equal(t, e.Record.Actor, got.Actor)
			assert.Equal(t, e.Record.Subject, got.Subject)
		}
		// Nothing is HTML-escaped.
		all := actor + action + subject + req + res
		for k, v := range e.Payload {
			all += k + v
		}
		for _, s := range []string{"<", ">", "&", "\u2028"} {
			if strings.Contains(all, s) {
				assert.Contains(t, string(c), s)
			}
		}
	})
}

// referenceParse is ParseEntry built from encoding/json and Canonical: the
// entry must decode with exactly the eight keys, all strings, and re-encode
// to the same bytes.
func referenceParse(data []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil || len(m) != len(canonicalKeys) {
		return false
	}
	var e Entry
	str := func(k string, dst *string) bool {
		v, ok := m[k]
		return ok && len(v) > 0 && v[0] == '"' && json.Unmarshal(v, dst) == nil
	}
	var seq, ts string
	if !str(keyAction, &e.Action) || !str(keyActor, &e.Actor) || !str(keySubject, &e.Subject) ||
		!str(keyRequestHash, &e.RequestHash) || !str(keyResultHash, &e.ResultHash) || !str(keySeq, &seq) || !str(keyTime, &ts) {
		return false
	}
	p, ok := m[keyPayload]
	if !ok || len(p) == 0 || p[0] != '{' || json.Unmarshal(p, &e.Payload) != nil {
		return false
	}
	var err error
	if e.Seq, err = strconv.ParseUint(seq, 10, 64); err != nil {
		return false
	}
	if e.Time, err = time.Parse(TimeLayout, ts); err != nil {
		return false
	}
	return bytes.Equal(e.Canonical(), data)
}

// FuzzParseEntry feeds arbitrary bytes to ParseEntry: it never panics, it
// accepts exactly what the encoding/json-based reference accepts, and what
// it accepts re-encodes to the same bytes.
func FuzzParseEntry(f *testing.F) {
	f.Add([]byte(sampleCanonical))
	f.Add(Entry{}.Canonical())
	f.Add([]byte(`{"action":"a","actor":"b","payload":{"x":"1"},"request_hash":"","result_hash":"","seq":"0","subject":"","time":"2024-02-29T23:59:59.999999Z"}`))
	f.Add([]byte(`{"action":"a","actor":"b","payload":{"x":"1","x":"2"},"request_hash":"","result_hash":"","seq":"01","subject":"","time":"2023-02-29T23:59:60.999999Z"}`))
	f.Add([]byte(`{"action":"\u0000\b\"\\","actor":"\u00e9","payload":{},"request_hash":"","result_hash":"","seq":"18446744073709551615","subject":"","time":"0000-01-01T00:00:00.000000Z"}`))
	f.Add([]byte(`{"action":"a", "actor":"b"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseEntry(data)
		_, checkErr := checkCanonical(data)
		want := referenceParse(data)
		require.Equal(t, want, err == nil, "ParseEntry(%q) = %v, reference accepts: %v", data, err, want)
		require.Equal(t, err == nil, checkErr == nil)
		if err == nil {
			require.Equal(t, data, e.Canonical())
		} else {
			require.NotEmpty(t, err.Error())
		}
	})
}

// fuzzTree is a log of fuzzTreeSize leaves with its roots at every size and
// its stored nodes.
var fuzzTree = func() (l struct {
	leaves [][]byte
	roots  [][]byte
	nodes  map[compact.NodeID][]byte
}) {
	l.nodes = map[compact.NodeID][]byte{}
	a, _ := NewAppender(0, nil)
	r, _ := a.Root()
	l.roots = append(l.roots, r)
	for i := uint64(0); i < fuzzTreeSize; i++ {
		d := testEntry(i)
		l.leaves = append(l.leaves, d)
		h := LeafHash(d)
		l.nodes[compact.NewNodeID(0, i)] = h
		_ = a.Append(h, func(level uint, index uint64, hash []byte) { l.nodes[compact.NewNodeID(level, index)] = hash })
		r, _ := a.Root()
		l.roots = append(l.roots, r)
	}
	return l
}()

const fuzzTreeSize = 40

func fuzzRead(ids []compact.NodeID) ([][]byte, error) {
	out := make([][]byte, len(ids))
	for i, id := range ids {
		out[i] = fuzzTree.nodes[id]
	}
	return out, nil
}

// FuzzVerifyInclusion feeds random sizes, indexes, data and proof bytes to
// VerifyInclusion against the roots of a real log: it never panics and
// accepts only the one correct proof of a real leaf.
func FuzzVerifyInclusion(f *testing.F) {
	join := func(p [][]byte) []byte { return bytes.Join(p, nil) }
	for _, c := range []struct{ index, size uint64 }{{0, 1}, {3, 10}, {39, 40}, {16, 33}, {7, 8}} {
		p, err := InclusionProof(c.index, c.size, fuzzRead)
		require.NoError(f, err)
		f.Add(c.size, c.index, fuzzTree.leaves[c.index], join(p))
		f.Add(c.size, c.index+1, fuzzTree.leaves[c.index], join(p))
		f.Add(c.size+1, c.index, fuzzTree.leaves[c.index], join(p))
		if len(p) > 0 {
			f.Add(c.size, c.index, fuzzTree.leaves[c.index], join(p)[1:])
		}
	}
	f.Add(uint64(1<<64-1), uint64(1<<64-2), []byte("x"), make([]byte, 64*32))
	f.Add(uint64(0), uint64(0), []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, size, index uint64, data, proofBytes []byte) {
		var root []byte
		if size <= fuzzTreeSize {
			root = fuzzTree.roots[size]
		} else {
			root = LeafHash([]byte(strconv.FormatUint(size, 10)))
		}
		var proof [][]byte
		for len(proofBytes) > 0 {
			n := min(len(proofBytes), HashSize)
			proof = append(proof, proofBytes[:n])
			proofBytes = proofBytes[n:]
		}
		err := VerifyInclusion(Checkpoint{Origin: "fuzz", Size: size, Root: root}, index, data, proof)
		if err != nil {
			require.NotEmpty(t, err.Error())
			return
		}
		// Accepted: it must be a real leaf of a real tree size with its proof.
		require.LessOrEqual(t, size, uint64(fuzzTreeSize))
		require.Less(t, index, size)
		require.Equal(t, fuzzTree.leaves[index], data)
		want, err := InclusionProof(index, size, fuzzRead)
		require.NoError(t, err)
		require.True(t, slices.EqualFunc(want, proof, bytes.Equal), "accepted a proof that is not the proof")
	})
}

// interestingBytes are the byte values that matter to the canonical grammar.
const interestingBytes = "\x00\b\t\n\f\r\x1f \"\\/,:{}[]0123456789afuxXAFbnrt-+.TZ\x7f\x80\xbf\xc3\xe5\xff"

// TestParseEntryMutations runs the FuzzParseEntry property over every
// change of a byte to one of interestingBytes, deletion and insertion of two canonical entries, where
// random fuzzing rarely stays close to the canonical form.
func TestParseEntryMutations(t *testing.T) {
	if testing.Short() {
		t.Skip("exhaustive")
	}
	seeds := [][]byte{[]byte(sampleCanonical), Entry{Seq: 1<<64 - 1, Record: Record{
		Time: time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC), Payload: map[string]string{"": "\x00", "\"": "é"},
	}}.Canonical()}
	check := func(data []byte) {
		_, err := ParseEntry(data)
		_, checkErr := checkCanonical(data)
		if want := referenceParse(data); want != (err == nil) || want != (checkErr == nil) {
			t.Fatalf("%q: ParseEntry: %v, checkCanonical: %v, reference accepts: %v", data, err, checkErr, want)
		}
	}
	accepted := 0
	for _, seed := range seeds {
		for i := range seed {
			for _, c := range append([]byte(interestingBytes), seed[i]-1, seed[i]+1) {
				data := bytes.Clone(seed)
				data[i] = c
				check(data)
				if _, err := ParseEntry(data); err == nil {
					accepted++
				}
			}
			check(slices.Delete(bytes.Clone(seed), i, i+1))
			for _, c := range []byte{' ', '"', '\\', '0', 'a', '}', ',', 0x80, 0xe5} {
				check(slices.Insert(bytes.Clone(seed), i, c))
			}
		}
	}
	assert.Greater(t, accepted, 200, "the accepting side was exercised too")
}
