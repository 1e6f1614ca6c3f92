package audit

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

const testOrigin = "sanzhi.example/audit"

func testKeys(t testing.TB, name string) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := GenerateKey(name)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(skey, "PRIVATE+KEY+"+name+"+"), skey)
	assert.True(t, strings.HasPrefix(vkey, name+"+"), vkey)
	s, err := NewSigner(skey + "\n") // as read from a key file
	require.NoError(t, err)
	v, err := NewVerifier(vkey + "\n")
	require.NoError(t, err)
	return s, v
}

func testCheckpoint() Checkpoint {
	return Checkpoint{Origin: testOrigin, Size: 10, Root: LeafHash([]byte("root"))}
}

func TestCheckpointBody(t *testing.T) {
	c := testCheckpoint()
	assert.Equal(t, testOrigin+"\n10\n"+base64.StdEncoding.EncodeToString(c.Root)+"\n", string(c.Body()))
}

func TestSignOpenRoundTrip(t *testing.T) {
	s, v := testKeys(t, testOrigin)
	c := testCheckpoint()
	signed, err := Sign(c, s)
	require.NoError(t, err)

	// C2SP signed note: body, blank line, "— name base64(keyhash||sig)".
	body, sigs, ok := strings.Cut(string(signed), "\n\n")
	require.True(t, ok)
	assert.Equal(t, string(c.Body()), body+"\n")
	assert.True(t, strings.HasPrefix(sigs, "— "+testOrigin+" "), sigs)
	assert.Equal(t, 1, strings.Count(sigs, "\n"))

	got, err := OpenCheckpoint(signed, testOrigin, v)
	require.NoError(t, err)
	assert.Equal(t, c, got)

	// The empty tree.
	empty := Checkpoint{Origin: testOrigin, Size: 0, Root: must(NewAppender(0, nil)).mustRoot(t)}
	signed, err = Sign(empty, s)
	require.NoError(t, err)
	got, err = OpenCheckpoint(signed, testOrigin, v)
	require.NoError(t, err)
	assert.Equal(t, empty, got)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func (a *Appender) mustRoot(t testing.TB) []byte {
	r, err := a.Root()
	require.NoError(t, err)
	return r
}

func TestOpenCheckpointRejects(t *testing.T) {
	s, v := testKeys(t, testOrigin)
	signed, err := Sign(testCheckpoint(), s)
	require.NoError(t, err)

	t.Run("signed by another key", func(t *testing.T) {
		other, _ := testKeys(t, testOrigin) // same name, different key
		forged, err := Sign(testCheckpoint(), other)
		require.NoError(t, err)
		_, err = OpenCheckpoint(forged, testOrigin, v)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "checkpoint is signed by another key")
		assert.Contains(t, err.Error(), "not by "+testOrigin+"+")

		mallory, _ := testKeys(t, "mallory.example")
		forged, err = Sign(testCheckpoint(), mallory)
		require.NoError(t, err)
		_, err = OpenCheckpoint(forged, testOrigin, v)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "checkpoint is signed by another key (mallory.example+")
	})
	t.Run("tampered body", func(t *testing.T) {
		for _, tamper := range []func([]byte) []byte{
			func(b []byte) []byte { return bytes.Replace(b, []byte("\n10\n"), []byte("\n11\n"), 1) },
			func(b []byte) []byte { b[len(testOrigin)+5] ^= 1; return b }, // a root character
			func(b []byte) []byte {
				return bytes.Replace(b, []byte(testOrigin+"\n"), []byte("sanzhi.example/audiT\n"), 1)
			},
		} {
			_, err := OpenCheckpoint(tamper(bytes.Clone(signed)), testOrigin, v)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "is invalid: the checkpoint was altered")
		}
	})
	t.Run("tampered signature", func(t *testing.T) {
		b := bytes.Clone(signed)
		b[len(b)-5] ^= 1
		_, err := OpenCheckpoint(b, testOrigin, v)
		assert.Error(t, err)
	})
	t.Run("wrong origin", func(t *testing.T) {
		_, err := OpenCheckpoint(signed, "other.example/audit", v)
		assert.EqualError(t, err, `checkpoint is for the log "sanzhi.example/audit", want "other.example/audit"`)
	})
	t.Run("not a note", func(t *testing.T) {
		_, err := OpenCheckpoint([]byte("hello\n"), testOrigin, v)
		assert.EqualError(t, err, "checkpoint is not a well-formed signed note: malformed note")
		_, err = OpenCheckpoint(signed, testOrigin, nil)
		assert.Error(t, err)
	})
	t.Run("malformed bodies", func(t *testing.T) {
		root := base64.StdEncoding.EncodeToString(testCheckpoint().Root)
		empty := base64.StdEncoding.EncodeToString(must(NewAppender(0, nil)).mustRoot(t))
		for _, tc := range []struct{ body, want string }{
			{testOrigin + "\n10\n", "checkpoint body has 2 lines, want 3"},
			{testOrigin + "\n10\n" + root + "\nextension\n", "checkpoint body has 4 lines, want 3"},
			{testOrigin + "\nten\n" + root + "\n", `checkpoint size "ten" is not a decimal number`},
			{testOrigin + "\n010\n" + root + "\n", `checkpoint size "010" is not a decimal number`},
			{testOrigin + "\n-1\n" + root + "\n", `checkpoint size "-1" is not a decimal number`},
			{testOrigin + "\n10\n" + root[:40] + "\n", "is not 32 bytes of standard base64"},
			{testOrigin + "\n10\n" + base64.StdEncoding.EncodeToString(make([]byte, 33)) + "\n", "is not 32 bytes of standard base64"},
			{testOrigin + "\n10\n" + base64.RawStdEncoding.EncodeToString(testCheckpoint().Root) + "\n", "is not 32 bytes of standard base64"},
			{testOrigin + "\n10\n" + root[:42] + "B=\n", "checkpoint body is not in canonical form"}, // non-zero padding bits
			{testOrigin + "\n0\n" + root + "\n", "checkpoint of size 0 must have the empty root"},
			{testOrigin + "\n0\n" + empty + "\n", ""},
		} {
			signed, err := note.Sign(&note.Note{Text: tc.body}, s)
			require.NoError(t, err)
			_, err = OpenCheckpoint(signed, testOrigin, v)
			if tc.want == "" {
				assert.NoError(t, err)
				continue
			}
			require.Error(t, err, tc.body)
			assert.Contains(t, err.Error(), tc.want)
		}
	})
}

func TestOpenCheckpointCosigned(t *testing.T) {
	s, v := testKeys(t, testOrigin)
	w, wv := testKeys(t, "witness.example")
	signed, err := note.Sign(&note.Note{Text: string(testCheckpoint().Body())}, s, w)
	require.NoError(t, err)
	got, err := OpenCheckpoint(signed, testOrigin, v)
	require.NoError(t, err)
	assert.Equal(t, testCheckpoint(), got)
	// The witness key alone also opens it (for a witness checking its own cosignature).
	_, err = OpenCheckpoint(signed, testOrigin, wv)
	assert.NoError(t, err)
}

func TestSignRejects(t *testing.T) {
	s, _ := testKeys(t, testOrigin)
	for _, tc := range []struct {
		c    Checkpoint
		want string
	}{
		{Checkpoint{Origin: "", Size: 1, Root: make([]byte, 32)}, "checkpoint origin is empty"},
		{Checkpoint{Origin: "a\nb", Size: 1, Root: make([]byte, 32)}, "must be one line"},
		{Checkpoint{Origin: "a", Size: 1, Root: make([]byte, 31)}, "checkpoint root is 31 bytes, want 32"},
		{Checkpoint{Origin: "a", Size: 0, Root: make([]byte, 32)}, "checkpoint of size 0 must have the empty root"},
	} {
		_, err := Sign(tc.c, s)
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
	}
}

func TestKeyParsing(t *testing.T) {
	_, err := NewSigner("not a key")
	assert.ErrorContains(t, err, "parse signer key")
	_, err = NewVerifier("not a key")
	assert.ErrorContains(t, err, "parse verifier key")
	// A verifier key is not a signer key and vice versa.
	skey, vkey, err := GenerateKey("k")
	require.NoError(t, err)
	_, err = NewSigner(vkey)
	assert.Error(t, err)
	_, err = NewVerifier(skey)
	assert.Error(t, err)
}

func TestCheckpointTimeIsSigned(t *testing.T) {
	skey, vkey, err := GenerateKey("sanzhi.test/audit")
	require.NoError(t, err)
	s, err := NewSigner(skey)
	require.NoError(t, err)
	v, err := NewVerifier(vkey)
	require.NoError(t, err)
	at := time.Date(2026, 11, 24, 8, 30, 15, 0, time.UTC)
	c := Checkpoint{Origin: "sanzhi.test/audit", Size: 0, Root: emptyRoot(), Time: at}
	signed, err := Sign(c, s)
	require.NoError(t, err)
	assert.Contains(t, string(signed), "\ntime 2026-11-24T08:30:15Z\n")
	got, err := OpenCheckpoint(signed, "sanzhi.test/audit", v)
	require.NoError(t, err)
	assert.True(t, at.Equal(got.Time))

	// The time is under the signature: changing it breaks the note.
	forged := strings.Replace(string(signed), "08:30:15", "08:30:16", 1)
	_, err = OpenCheckpoint([]byte(forged), "sanzhi.test/audit", v)
	require.Error(t, err)

	_, err = parseCheckpointBody("sanzhi.test/audit\n0\n"+base64.StdEncoding.EncodeToString(emptyRoot())+"\ntime yesterday\n", "sanzhi.test/audit")
	require.ErrorContains(t, err, "RFC 3339")
}

func emptyRoot() []byte { return rfc6962.DefaultHasher.EmptyRoot() }
