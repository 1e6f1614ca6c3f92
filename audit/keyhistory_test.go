package audit_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/sanzhi/sanzhi/audit"
)

const logName = "sanzhi.example/audit"

type testKey struct {
	skey, vkey string
	s          note.Signer
	v          note.Verifier
}

func newTestKey(t *testing.T, name string) testKey {
	t.Helper()
	skey, vkey, err := audit.GenerateKey(name)
	require.NoError(t, err)
	s, err := audit.NewSigner(skey)
	require.NoError(t, err)
	v, err := audit.NewVerifier(vkey)
	require.NoError(t, err)
	return testKey{skey, vkey, s, v}
}

func id(k testKey) string { return fmt.Sprintf("%s+%08x", k.v.Name(), k.v.KeyHash()) }

func checkpointAt(size uint64) audit.Checkpoint {
	if size == 0 {
		e, _ := audit.NewAppender(0, nil)
		r, _ := e.Root()
		return audit.Checkpoint{Origin: logName, Size: 0, Root: r}
	}
	return audit.Checkpoint{Origin: logName, Size: size, Root: audit.LeafHash([]byte(fmt.Sprint("root", size)))}
}

func sign(t *testing.T, size uint64, keys ...testKey) []byte {
	t.Helper()
	var more []note.Signer
	for _, k := range keys[1:] {
		more = append(more, k.s)
	}
	b, err := audit.Sign(checkpointAt(size), keys[0].s, more...)
	require.NoError(t, err)
	return b
}

func TestKeyHistoryTextRoundTrip(t *testing.T) {
	a, b, c := newTestKey(t, logName), newTestKey(t, logName), newTestKey(t, logName)
	text := fmt.Sprintf("# kept by the regulator\n\n%s 0\n  %s\t4097  \n%s 9000\n", a.vkey, b.vkey, c.vkey)
	h, err := audit.ParseKeyHistory([]byte(text))
	require.NoError(t, err)
	keys := h.Keys()
	require.Len(t, keys, 3)
	assert.Equal(t, []uint64{0, 4097, 9000}, []uint64{keys[0].From, keys[1].From, keys[2].From})
	assert.Equal(t, b.vkey, keys[1].Text)
	assert.Equal(t, logName, h.Origin())
	assert.Equal(t, c.v.KeyHash(), h.Current().KeyHash())
	assert.Equal(t, []uint64{4097, 9000}, h.Handovers())

	back, err := audit.ParseKeyHistory(h.Text())
	require.NoError(t, err)
	assert.Equal(t, string(h.Text()), string(back.Text()))
	assert.Contains(t, string(h.Text()), a.vkey+" 0\n"+b.vkey+" 4097\n")

	h2, err := audit.NewKeyHistory(a.vkey)
	require.NoError(t, err)
	h2, err = h2.With(b.vkey, 4097)
	require.NoError(t, err)
	assert.Contains(t, string(h.Text()), string(h2.Text())[strings.Index(string(h2.Text()), "\n")+1:])
}

func TestKeyHistoryRequired(t *testing.T) {
	a, b, c := newTestKey(t, logName), newTestKey(t, logName), newTestKey(t, logName)
	h, err := audit.ParseKeyHistory([]byte(fmt.Sprintf("%s 0\n%s 10\n%s 20\n", a.vkey, b.vkey, c.vkey)))
	require.NoError(t, err)
	hashes := func(n uint64) []uint32 {
		var out []uint32
		for _, v := range h.Required(n) {
			out = append(out, v.KeyHash())
		}
		return out
	}
	A, B, C := a.v.KeyHash(), b.v.KeyHash(), c.v.KeyHash()
	assert.Equal(t, []uint32{A}, hashes(0))
	assert.Equal(t, []uint32{A}, hashes(9))
	assert.Equal(t, []uint32{A, B}, hashes(10), "the handover: both keys")
	assert.Equal(t, []uint32{B}, hashes(11))
	assert.Equal(t, []uint32{B, C}, hashes(20))
	assert.Equal(t, []uint32{C}, hashes(1<<40))

	v, err := h.Verifier(logName, B)
	require.NoError(t, err)
	assert.Equal(t, B, v.KeyHash())
	_, err = h.Verifier(logName, B+1)
	var unknown *note.UnknownVerifierError
	require.ErrorAs(t, err, &unknown)
	_, err = h.Verifier("other.example/log", B)
	require.ErrorAs(t, err, &unknown)
}

func TestKeyHistoryRejectsBadText(t *testing.T) {
	a, b := newTestKey(t, logName), newTestKey(t, logName)
	other := newTestKey(t, "other.example/log")
	cases := map[string]struct{ text, msg string }{
		"empty":                          {"# nothing\n\n", "no key"},
		"first not at 0":                 {a.vkey + " 5\n", "first key must sign from tree size 0"},
		"sizes not increasing":           {a.vkey + " 0\n" + b.vkey + " 0\n", "sizes must increase"},
		"sizes decreasing":               {a.vkey + " 0\n" + b.vkey + " 10\n" + other.vkey + " 5\n", "line 3"},
		"key listed twice":               {a.vkey + " 0\n" + b.vkey + " 10\n" + a.vkey + " 20\n", "listed twice"},
		"another log's key":              {a.vkey + " 0\n" + other.vkey + " 10\n", `named "other.example/log"`},
		"no size":                        {a.vkey + "\n", "got 1"},
		"extra field":                    {a.vkey + " 0 x\n", "got 3"},
		"size not decimal":               {a.vkey + " 0x10\n", "not a decimal"},
		"size with sign":                 {a.vkey + " +0\n", "not a decimal"},
		"leading zero":                   {a.vkey + " 0\n" + b.vkey + " 010\n", "not a decimal"},
		"not a key":                      {"sanzhi.example/audit+zz 0\n", "verifier key"},
		"signer key, not a verifier key": {a.skey + " 0\n", "line 1"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := audit.ParseKeyHistory([]byte(tc.text))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestKeyHistoryOpenCheckpoint(t *testing.T) {
	a, b := newTestKey(t, logName), newTestKey(t, logName)
	stranger := newTestKey(t, logName) // same log name, a key nobody listed
	h, err := audit.ParseKeyHistory([]byte(fmt.Sprintf("%s 0\n%s 10\n", a.vkey, b.vkey)))
	require.NoError(t, err)

	for _, ok := range []struct {
		size uint64
		keys []testKey
	}{
		{0, []testKey{a}}, {9, []testKey{a}}, {10, []testKey{a, b}}, {10, []testKey{b, a}}, {11, []testKey{b}},
		{11, []testKey{b, stranger}}, // a witness cosignature by an unlisted key is allowed
	} {
		c, err := h.OpenCheckpoint(sign(t, ok.size, ok.keys...))
		require.NoError(t, err, "size %d", ok.size)
		assert.Equal(t, ok.size, c.Size)
	}

	for name, tc := range map[string]struct {
		note []byte
		msg  []string
	}{
		"old key after the handover":   {sign(t, 11, a), []string{"size 11", "not signed by " + id(b)}},
		"both keys after the handover": {sign(t, 11, a, b), []string{"size 11", "signed by " + id(a), "tree sizes 0 to 10"}},
		"new key before the handover":  {sign(t, 9, b), []string{"size 9", "not signed by " + id(a)}},
		"handover by the new key only": {sign(t, 10, b), []string{"handover", id(a) + "'s is missing"}},
		"handover by the old key only": {sign(t, 10, a), []string{"handover", id(b) + "'s is missing"}},
		"unknown key":                  {sign(t, 11, stranger), []string{"signed by another key (" + id(stranger) + ")", id(a), id(b)}},
		"altered":                      {[]byte(strings.Replace(string(sign(t, 11, b)), "\n11\n", "\n12\n", 1)), []string{"invalid"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := h.OpenCheckpoint(tc.note)
			require.Error(t, err)
			for _, m := range tc.msg {
				assert.Contains(t, err.Error(), m)
			}
		})
	}

	// A history whose boundary moved is caught by the handover checkpoint
	// itself: it carries the new key's signature at a size the moved
	// history gives to the old key alone, or lacks the old key's.
	handover := sign(t, 10, a, b)
	for _, from := range []uint64{9, 11} {
		moved, err := audit.ParseKeyHistory([]byte(fmt.Sprintf("%s 0\n%s %d\n", a.vkey, b.vkey, from)))
		require.NoError(t, err)
		_, err = moved.OpenCheckpoint(handover)
		require.Error(t, err, "boundary moved to %d", from)
	}
}

// TestHandoverOpensWithEachKey checks with golang.org/x/mod/sumdb/note alone,
// as a regulator's own tool would, that the handover note carries two
// signatures and opens with the old key, with the new key, and with both.
func TestHandoverOpensWithEachKey(t *testing.T) {
	a, b := newTestKey(t, logName), newTestKey(t, logName)
	handover := sign(t, 10, a, b)
	assert.Equal(t, 2, strings.Count(string(handover), "\n— "+logName+" "), "two signature lines:\n%s", handover)
	for _, vs := range [][]note.Verifier{{a.v}, {b.v}, {a.v, b.v}} {
		n, err := note.Open(handover, note.VerifierList(vs...))
		require.NoError(t, err)
		assert.Len(t, n.Sigs, len(vs))
		assert.Len(t, n.UnverifiedSigs, 2-len(vs))
		assert.Equal(t, string(checkpointAt(10).Body()), n.Text)
	}
	// And the one-key OpenCheckpoint of a regulator who only has either key.
	for _, k := range []testKey{a, b} {
		_, err := audit.OpenCheckpoint(handover, logName, k.v)
		require.NoError(t, err)
	}
}

// FuzzParseKeyHistory: any text either fails to parse or parses to a
// history whose text form parses back to the same keys, and which answers
// Required without panicking.
func FuzzParseKeyHistory(f *testing.F) {
	_, a, err := audit.GenerateKey(logName)
	require.NoError(f, err)
	_, b, err := audit.GenerateKey(logName)
	require.NoError(f, err)
	f.Add([]byte(a + " 0\n" + b + " 10\n"))
	f.Add([]byte("# c\n\n" + a + "\t0\n"))
	f.Add([]byte(a + " 0\n" + a + " 1\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		h, err := audit.ParseKeyHistory(text)
		if err != nil {
			return
		}
		back, err := audit.ParseKeyHistory(h.Text())
		require.NoError(t, err)
		require.Equal(t, string(h.Text()), string(back.Text()))
		for _, k := range h.Keys() {
			require.NotEmpty(t, h.Required(k.From))
		}
	})
}
