package pii

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const idNumber = "33048319600119123X"

// testMaterial returns n bytes that differ per seed, so tests can tell keys
// apart and search outputs for them.
func testMaterial(seed byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i)*7
	}
	return b
}

func newTestKeyring(t *testing.T) *Keyring {
	t.Helper()
	k, err := NewKeyring(testMaterial(100, 32), "k1", testMaterial(1, KeySize))
	require.NoError(t, err)
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := newTestKeyring(t)
	ctx := []byte("household-0190a1b2")

	s, err := k.Seal([]byte(idNumber), ctx)
	require.NoError(t, err)
	assert.Equal(t, "k1", s.KeyID)
	assert.Len(t, s.Ciphertext, 12+len(idNumber)+16, "nonce + ciphertext + tag")
	assert.NotContains(t, string(s.Ciphertext), idNumber)

	got, err := k.Open(s, ctx)
	require.NoError(t, err)
	assert.Equal(t, idNumber, string(got))

	again, err := k.Seal([]byte(idNumber), ctx)
	require.NoError(t, err)
	assert.NotEqual(t, s.Ciphertext, again.Ciphertext, "random nonces must make ciphertexts differ")
	assert.NotEqual(t, s.Ciphertext[:12], again.Ciphertext[:12])
}

func TestSealEmptyAndNilContext(t *testing.T) {
	k := newTestKeyring(t)

	s, err := k.Seal(nil, nil)
	require.NoError(t, err)
	got, err := k.Open(s, []byte{})
	require.NoError(t, err, "nil and empty context are the same")
	assert.Empty(t, got)
}

func TestRotation(t *testing.T) {
	k1 := newTestKeyring(t)
	old, err := k1.Seal([]byte(idNumber), []byte("h1"))
	require.NoError(t, err)

	k2, err := k1.WithDataKey("k2", testMaterial(2, KeySize))
	require.NoError(t, err)
	assert.Equal(t, "k2", k2.CurrentKeyID())
	assert.Equal(t, []string{"k1", "k2"}, k2.KeyIDs())
	assert.Equal(t, "k1", k1.CurrentKeyID(), "WithDataKey must not change the original")
	assert.Equal(t, []string{"k1"}, k1.KeyIDs())

	got, err := k2.Open(old, []byte("h1"))
	require.NoError(t, err, "values sealed before rotation must still open")
	assert.Equal(t, idNumber, string(got))

	fresh, err := k2.Seal([]byte(idNumber), []byte("h1"))
	require.NoError(t, err)
	assert.Equal(t, "k2", fresh.KeyID)

	_, err = k1.Open(fresh, []byte("h1"))
	require.ErrorIs(t, err, ErrUnknownKeyID, "the old keyring does not have k2")

	_, err = k2.WithDataKey("k1", testMaterial(3, KeySize))
	require.ErrorContains(t, err, `duplicate key id "k1"`)
}

func TestOpenDetectsTampering(t *testing.T) {
	k := newTestKeyring(t)
	s, err := k.Seal([]byte(idNumber), []byte("h1"))
	require.NoError(t, err)

	for _, i := range []int{0, 11, 12, 12 + len(idNumber) - 1, len(s.Ciphertext) - 1} {
		t.Run(fmt.Sprintf("byte %d", i), func(t *testing.T) {
			bad := Sealed{KeyID: s.KeyID, Ciphertext: bytes.Clone(s.Ciphertext)}
			bad.Ciphertext[i] ^= 0x01
			got, err := k.Open(bad, []byte("h1"))
			require.ErrorIs(t, err, ErrAuthFailed)
			assert.Nil(t, got)
		})
	}

	t.Run("truncated", func(t *testing.T) {
		_, err := k.Open(Sealed{KeyID: "k1", Ciphertext: s.Ciphertext[:27]}, []byte("h1"))
		require.ErrorIs(t, err, ErrMalformed)
	})
	t.Run("tag removed", func(t *testing.T) {
		_, err := k.Open(Sealed{KeyID: "k1", Ciphertext: s.Ciphertext[:len(s.Ciphertext)-16]}, []byte("h1"))
		require.ErrorIs(t, err, ErrAuthFailed)
	})
}

func TestOpenRejectsWrongContext(t *testing.T) {
	k := newTestKeyring(t)
	s, err := k.Seal([]byte(idNumber), []byte("household-1"))
	require.NoError(t, err)

	for _, ctx := range [][]byte{[]byte("household-2"), []byte("household-"), nil} {
		_, err := k.Open(s, ctx)
		require.ErrorIs(t, err, ErrAuthFailed, "context %q", ctx)
	}
}

func TestKeyIDIsAuthenticated(t *testing.T) {
	// Two keyrings holding the same key material under different ids: a
	// ciphertext relabelled with the other id must not open, because the
	// key id is part of the additional data.
	a, err := NewKeyring(testMaterial(100, 32), "k1", testMaterial(1, KeySize))
	require.NoError(t, err)
	b, err := NewKeyring(testMaterial(100, 32), "k9", testMaterial(1, KeySize))
	require.NoError(t, err)

	s, err := a.Seal([]byte(idNumber), nil)
	require.NoError(t, err)
	s.KeyID = "k9"
	_, err = b.Open(s, nil)
	require.ErrorIs(t, err, ErrAuthFailed)
}

func TestOpenUnknownKeyID(t *testing.T) {
	k := newTestKeyring(t)
	s, err := k.Seal([]byte(idNumber), nil)
	require.NoError(t, err)
	s.KeyID = "k7"

	_, err = k.Open(s, nil)
	require.ErrorIs(t, err, ErrUnknownKeyID)
	assert.Contains(t, err.Error(), `"k7"`)
	assert.Contains(t, err.Error(), "k1", "the error should say which keys are loaded")
}

func TestZeroKeyring(t *testing.T) {
	var k Keyring
	_, err := k.Seal([]byte("x"), nil)
	require.ErrorIs(t, err, ErrNoKeys)
	_, err = k.Open(Sealed{KeyID: "k1"}, nil)
	require.ErrorIs(t, err, ErrNoKeys)
	assert.Panics(t, func() { k.BlindIndex("x") })

	var nilRing *Keyring
	_, err = nilRing.Seal([]byte("x"), nil)
	require.ErrorIs(t, err, ErrNoKeys)
	assert.Equal(t, "pii.Keyring(nil)", nilRing.String())
}

func TestNewKeyringValidation(t *testing.T) {
	tests := []struct {
		name   string
		index  []byte
		id     string
		key    []byte
		errMsg string
	}{
		{"short index secret", testMaterial(1, 16), "k1", testMaterial(2, 32), "index secret must be at least 32 bytes, got 16"},
		{"short key", testMaterial(1, 32), "k1", testMaterial(2, 16), "key must be 32 bytes, got 16"},
		{"long key", testMaterial(1, 32), "k1", testMaterial(2, 33), "key must be 32 bytes, got 33"},
		{"empty id", testMaterial(1, 32), "", testMaterial(2, 32), `key id "" must be 1 to 32 characters`},
		{"long id", testMaterial(1, 32), strings.Repeat("k", 33), testMaterial(2, 32), "must be 1 to 32 characters"},
		{"reserved id", testMaterial(1, 32), "index", testMaterial(2, 32), `key id "index" is reserved for the index secret`},
		{"colon in id", testMaterial(1, 32), "k:1", testMaterial(2, 32), `key id "k:1" may contain only letters, digits`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := NewKeyring(tt.index, tt.id, tt.key)
			require.ErrorContains(t, err, tt.errMsg)
			assert.Nil(t, k)
		})
	}
}

func TestBlindIndex(t *testing.T) {
	k := newTestKeyring(t)

	a := k.BlindIndex(idNumber)
	assert.Len(t, a, 32)
	assert.Equal(t, a, k.BlindIndex(idNumber), "deterministic")
	assert.NotEqual(t, a, k.BlindIndex("11010519491231002X"), "differs per value")
	assert.NotEqual(t, a, k.BlindIndex(strings.ToLower(idNumber)), "no normalisation inside")

	rotated, err := k.WithDataKey("k2", testMaterial(2, KeySize))
	require.NoError(t, err)
	assert.Equal(t, a, rotated.BlindIndex(idNumber), "data key rotation must not change the blind index")

	other, err := NewKeyring(testMaterial(200, 32), "k1", testMaterial(1, KeySize))
	require.NoError(t, err)
	assert.NotEqual(t, a, other.BlindIndex(idNumber), "a different index secret gives a different index")
}

// TestBlindIndexGolden pins the derivation (HKDF-SHA256, empty salt, info
// "sanzhi blind index v1", then HMAC-SHA256). Stored blind indexes depend on
// it byte for byte, so any change here must be a deliberate, versioned
// migration. The expected value was computed independently with Python's
// hmac and hashlib modules.
func TestBlindIndexGolden(t *testing.T) {
	secret := make([]byte, 32)
	for i := range secret {
		secret[i] = byte(i)
	}
	k, err := NewKeyring(secret, "k1", testMaterial(1, KeySize))
	require.NoError(t, err)
	assert.Equal(t,
		"91bc5f5a1bfb9300954be942f4311a82a874b1d0e151122a03275c5b43b0b231",
		hex.EncodeToString(k.BlindIndex(idNumber)))
}

func TestKeyringRedaction(t *testing.T) {
	indexSecret := testMaterial(100, 32)
	key1 := testMaterial(1, KeySize)
	key2 := testMaterial(2, KeySize)
	k, err := NewKeyring(indexSecret, "k1", key1)
	require.NoError(t, err)
	k, err = k.WithDataKey("k2", key2)
	require.NoError(t, err)

	assert.Equal(t, `pii.Keyring{current: "k2", keys: ["k1" "k2"], material: redacted}`, k.String())

	type holder struct {
		Ring *Keyring
		ring *Keyring
		val  Keyring
	}
	h := holder{Ring: k, ring: k, val: *k}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("loaded", "keyring", k)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("loaded", "keyring", k)

	outputs := map[string]string{
		"String":   k.String(),
		"GoString": k.GoString(),
		"slog":     logs.String(),
	}
	// Every verb, on the pointer, on a copied value (whose method set lacks
	// the pointer methods) and on a struct holding both in exported and
	// unexported fields.
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		for name, v := range map[string]any{"pointer": k, "value": *k, "holder": h} {
			outputs[name+" "+verb] = fmt.Sprintf(verb, v)
		}
	}
	for _, material := range [][]byte{indexSecret, key1, key2} {
		forms := []string{
			string(material),
			hex.EncodeToString(material),
			base64.StdEncoding.EncodeToString(material),
			strings.Trim(fmt.Sprint(material), "[]"),        // decimal bytes
			strings.Trim(fmt.Sprintf("%d", material), "[]"), // same, via %d
		}
		for name, out := range outputs {
			for _, form := range forms {
				assert.NotContains(t, out, form, "%s leaks key material", name)
			}
		}
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d"} {
		assert.Equal(t, k.String(), outputs["pointer "+verb], "verb %s on *Keyring", verb)
	}
	assert.Contains(t, logs.String(), `"current":"k2"`)
	assert.Contains(t, logs.String(), "keyring.current=k2")
}

func TestConcurrentUse(t *testing.T) {
	k := newTestKeyring(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			ctx := []byte(fmt.Sprintf("household-%d", g))
			for range 50 {
				s, err := k.Seal([]byte(idNumber), ctx)
				if err != nil {
					errs <- err
					return
				}
				got, err := k.Open(s, ctx)
				if err != nil {
					errs <- err
					return
				}
				if string(got) != idNumber {
					errs <- errors.New("round trip mismatch")
					return
				}
				_ = k.BlindIndex(idNumber)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
