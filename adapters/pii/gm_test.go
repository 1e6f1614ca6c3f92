package pii

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

// TestStoredAESFormatUnchanged opens values sealed by the code before SM4
// existed (commit 4dc7e06): stored ciphertexts and blind indexes must stay
// readable and findable byte for byte. It also opens the vector with the
// standard library's AES-GCM directly, pinning the layout (nonce, then
// ciphertext and tag; additional data "sanzhi pii v1\0", the key id's
// length and bytes, the context); the layout was checked independently
// with Python's cryptography package.
func TestStoredAESFormatUnchanged(t *testing.T) {
	const (
		context = "household-0190a1b2"
		sealed  = "f02b47053127a86b12c7dee36fa14c5dab753d77aed5f88d6d26bb2e4b2237c34aeda3858910e39eaf0bf3f057c2"
		index   = "aafeb94a4ae315b887438bbe959503d3eeeb4fd45dc92d185fa4fc6cb1ef865c"
	)
	k, err := ParseKeyring("index:" + b64(100, 32) + "\nk1:" + b64(1, 32) + "\nk2:" + b64(2, 32))
	require.NoError(t, err)
	assert.Equal(t, AES256GCM, k.Algorithm("k2"))
	assert.Equal(t, IndexHMACSHA256, k.IndexAlgorithm())

	got, err := k.Open(Sealed{KeyID: "k2", Ciphertext: unhex(t, sealed)}, []byte(context))
	require.NoError(t, err)
	assert.Equal(t, idNumber, string(got))
	assert.Equal(t, index, hex.EncodeToString(k.BlindIndex(idNumber)))

	block, err := aes.NewCipher(testMaterial(2, KeySize))
	require.NoError(t, err)
	g, err := cipher.NewGCM(block)
	require.NoError(t, err)
	ct := unhex(t, sealed)
	ad := append([]byte("sanzhi pii v1\x00\x02k2"), context...)
	got, err = g.Open(nil, ct[:12], ct[12:], ad)
	require.NoError(t, err)
	assert.Equal(t, idNumber, string(got))

	// What Seal writes today opens the same way.
	fresh, err := k.Seal([]byte(idNumber), []byte(context))
	require.NoError(t, err)
	got, err = g.Open(nil, fresh.Ciphertext[:12], fresh.Ciphertext[12:], ad)
	require.NoError(t, err)
	assert.Equal(t, idNumber, string(got))
}

// TestSM4GCMKnownAnswers runs published SM4-GCM vectors through the sealer's
// own SM4 AEAD (nonce carried in front of the ciphertext, as stored).
func TestSM4GCMKnownAnswers(t *testing.T) {
	tests := []struct {
		source                          string
		key, nonce, plain, aad, ct, tag string
	}{
		{
			source: "RFC 8998 appendix A.1 (SM4-GCM test vectors)",
			key:    "0123456789abcdeffedcba9876543210",
			nonce:  "00001234567800000000abcd",
			plain:  "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccddddddddddddddddeeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa",
			aad:    "feedfacedeadbeeffeedfacedeadbeefabaddad2",
			ct:     "17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d",
			tag:    "83de3541e4c2b58177e065a9bf7b62ec",
		},
		{
			source: "GB/T 36624-2018 appendix C.5, example 2",
			key:    "00000000000000000000000000000000",
			nonce:  "000000000000000000000000",
			plain:  "00000000000000000000000000000000",
			ct:     "7de2aa7f1110188218063be1bfeb6d89",
			tag:    "b851b5f39493752be508f1bb4482c557",
		},
	}
	for _, tt := range tests {
		t.Run(tt.source, func(t *testing.T) {
			aead, err := newSM4GCM(unhex(t, tt.key))
			require.NoError(t, err)
			stored := slicesConcat(unhex(t, tt.nonce), unhex(t, tt.ct), unhex(t, tt.tag))
			got, err := aead.Open(nil, nil, stored, unhex(t, tt.aad))
			require.NoError(t, err)
			assert.Equal(t, tt.plain, hex.EncodeToString(got))

			stored[len(stored)-1] ^= 1
			_, err = aead.Open(nil, nil, stored, unhex(t, tt.aad))
			require.Error(t, err, "a changed tag must not open")
		})
	}
}

func slicesConcat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// TestHMACSM3KnownAnswers checks the construction the SM3 blind index uses
// (crypto/hmac over gmsm's SM3) against the HMAC-SM3 vectors published in
// GM/T 0042-2015 appendix D.3, and SM3 itself against GB/T 32905-2016
// appendix A.
func TestHMACSM3KnownAnswers(t *testing.T) {
	seq := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i + 1)
		}
		return b
	}
	tests := []struct {
		name     string
		key, msg []byte
		want     string
	}{
		{"D.3 first", seq(32), bytes.Repeat([]byte("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"), 2),
			"ca05e144ed05d1857840d1f318a4a8669e559fc8391f414485bfdf7bb408963a"},
		{"D.3 second", seq(37), bytes.Repeat([]byte{0xcd}, 50),
			"220bf579ded555393f0159f66c99877822a3ecf610d1552154b41d44b94db3ae"},
	}
	for _, tt := range tests {
		m := hmac.New(sm3.New, tt.key)
		m.Write(tt.msg)
		assert.Equal(t, tt.want, hex.EncodeToString(m.Sum(nil)), tt.name)
	}
	sum := sm3.Sum([]byte("abc"))
	assert.Equal(t, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0", hex.EncodeToString(sum[:]))
}

// TestSM3BlindIndexGolden pins the SM3 index derivation (HKDF over SM3,
// empty salt, info "sanzhi blind index sm3 v1", then HMAC-SM3), computed
// independently with Python's hmac and hashlib ("sm3" from OpenSSL).
func TestSM3BlindIndexGolden(t *testing.T) {
	secret := make([]byte, 32)
	for i := range secret {
		secret[i] = byte(i)
	}
	k, err := NewKeyringWithIndex(IndexHMACSM3, secret, "sm4-k1", testMaterial(1, SM4KeySize))
	require.NoError(t, err)
	assert.Equal(t, IndexHMACSM3, k.IndexAlgorithm())
	assert.Equal(t,
		"f0d04a928d43f28f7bd527c768afe02da4c2b0d2a738a2c0e5e5a77b628584cb",
		hex.EncodeToString(k.BlindIndex(idNumber)))

	sha, err := NewKeyring(secret, "sm4-k1", testMaterial(1, SM4KeySize))
	require.NoError(t, err)
	assert.NotEqual(t, k.BlindIndex(idNumber), sha.BlindIndex(idNumber), "the index algorithm changes every index")
}

// TestSM4StoredFormat opens an SM4 value made independently (Python's
// cryptography package, SM4 in GCM with a chosen nonce and this package's
// additional data): the stored layout is the AES one with SM4 as the cipher.
func TestSM4StoredFormat(t *testing.T) {
	k, err := ParseKeyring("index-sm3:" + b64(100, 32) + "\nsm4-k3:" + b64(3, 16))
	require.NoError(t, err)
	got, err := k.Open(Sealed{KeyID: "sm4-k3", Ciphertext: unhex(t,
		"a1a2a3a4a5a6a7a8a9aaabac801234dee8b11d56ed5ab45a6860c1e83bb90f8da2412d77ca5c270c7aac12d70595")},
		[]byte("household-0190a1b2"))
	require.NoError(t, err)
	assert.Equal(t, idNumber, string(got))
}

func newGMKeyring(t *testing.T) *Keyring {
	t.Helper()
	k, err := NewKeyringWithIndex(IndexHMACSM3, testMaterial(100, 32), "sm4-k1", testMaterial(1, SM4KeySize))
	require.NoError(t, err)
	return k
}

func TestSM4SealOpen(t *testing.T) {
	k := newGMKeyring(t)
	assert.Equal(t, SM4GCM, k.Algorithm("sm4-k1"))
	assert.Empty(t, k.Algorithm("k9"))
	ctx := []byte("household-1")

	s, err := k.Seal([]byte(idNumber), ctx)
	require.NoError(t, err)
	assert.Equal(t, "sm4-k1", s.KeyID)
	assert.Len(t, s.Ciphertext, 12+len(idNumber)+16, "nonce + ciphertext + tag, as for AES")
	got, err := k.Open(s, ctx)
	require.NoError(t, err)
	assert.Equal(t, idNumber, string(got))

	again, err := k.Seal([]byte(idNumber), ctx)
	require.NoError(t, err)
	assert.NotEqual(t, s.Ciphertext[:12], again.Ciphertext[:12], "a fresh nonce per seal")

	for _, i := range []int{0, 11, 12, len(s.Ciphertext) - 1} {
		bad := Sealed{KeyID: s.KeyID, Ciphertext: bytes.Clone(s.Ciphertext)}
		bad.Ciphertext[i] ^= 1
		_, err := k.Open(bad, ctx)
		require.ErrorIs(t, err, ErrAuthFailed, "byte %d", i)
	}
	_, err = k.Open(s, []byte("household-2"))
	require.ErrorIs(t, err, ErrAuthFailed, "another household's context")
	_, err = k.Open(Sealed{KeyID: "sm4-k1", Ciphertext: s.Ciphertext[:27]}, ctx)
	require.ErrorIs(t, err, ErrMalformed)

	// Same material under an AES-looking id is another key and another
	// cipher: nothing opens across.
	relabelled, err := NewKeyringWithIndex(IndexHMACSM3, testMaterial(100, 32), "sm4-k9", testMaterial(1, SM4KeySize))
	require.NoError(t, err)
	_, err = relabelled.Open(Sealed{KeyID: "sm4-k9", Ciphertext: s.Ciphertext}, ctx)
	require.ErrorIs(t, err, ErrAuthFailed, "the key id is authenticated")
}

// TestRotationBetweenAlgorithms moves a keyring from AES to SM4 and back:
// values sealed under every earlier key still open, new ones use the
// current key's algorithm, and the blind index does not move.
func TestRotationBetweenAlgorithms(t *testing.T) {
	k1 := newTestKeyring(t)
	old, err := k1.Seal([]byte(idNumber), []byte("h1"))
	require.NoError(t, err)

	k2, err := k1.WithDataKey("sm4-k2", testMaterial(2, SM4KeySize))
	require.NoError(t, err)
	assert.Equal(t, "sm4-k2", k2.CurrentKeyID())
	gm, err := k2.Seal([]byte(idNumber), []byte("h1"))
	require.NoError(t, err)
	assert.Equal(t, "sm4-k2", gm.KeyID)
	for _, s := range []Sealed{old, gm} {
		got, err := k2.Open(s, []byte("h1"))
		require.NoError(t, err, s.KeyID)
		assert.Equal(t, idNumber, string(got))
	}
	assert.Equal(t, k1.BlindIndex(idNumber), k2.BlindIndex(idNumber))

	k3, err := k2.WithDataKey("k3", testMaterial(3, KeySize))
	require.NoError(t, err)
	back, err := k3.Seal([]byte(idNumber), []byte("h1"))
	require.NoError(t, err)
	assert.Equal(t, "k3", back.KeyID)
	for _, s := range []Sealed{old, gm, back} {
		_, err := k3.Open(s, []byte("h1"))
		require.NoError(t, err, s.KeyID)
	}

	_, err = k2.WithDataKey("sm4-k4", testMaterial(4, KeySize))
	require.EqualError(t, err, "SM4 key must be 16 bytes, got 32")
	_, err = k2.WithDataKey("k4", testMaterial(4, SM4KeySize))
	require.EqualError(t, err, "key must be 32 bytes, got 16")
}

func TestParseGMKeyring(t *testing.T) {
	text := strings.Join([]string{
		"# 国密 keys",
		"index-sm3:" + b64(100, 32),
		"k1:" + b64(1, 32),
		"sm4-k2:" + b64(2, 16),
	}, "\n")
	k, err := ParseKeyring(text)
	require.NoError(t, err)
	assert.Equal(t, []string{"k1", "sm4-k2"}, k.KeyIDs())
	assert.Equal(t, "sm4-k2", k.CurrentKeyID())
	assert.Equal(t, AES256GCM, k.Algorithm("k1"))
	assert.Equal(t, SM4GCM, k.Algorithm("sm4-k2"))
	assert.Equal(t, IndexHMACSM3, k.IndexAlgorithm())

	direct, err := NewKeyringWithIndex(IndexHMACSM3, testMaterial(100, 32), "sm4-k2", testMaterial(2, SM4KeySize))
	require.NoError(t, err)
	s, err := direct.Seal([]byte(idNumber), []byte("h"))
	require.NoError(t, err)
	got, err := k.Open(s, []byte("h"))
	require.NoError(t, err)
	assert.Equal(t, idNumber, string(got))
	assert.Equal(t, direct.BlindIndex(idNumber), k.BlindIndex(idNumber))
}

func TestParseGMKeyringErrors(t *testing.T) {
	index := "index-sm3:" + b64(100, 32)
	k1 := "sm4-k1:" + b64(1, 16)
	tests := []struct{ name, text, want string }{
		{"sm4 key of 32 bytes", index + "\nsm4-k1:" + b64(1, 32), "keyring line 2: SM4 key must be 16 bytes, got 32"},
		{"aes key of 16 bytes", index + "\nk1:" + b64(1, 16), "keyring line 2: key must be 32 bytes, got 16"},
		{"upper-case prefix", index + "\nSM4-k1:" + b64(1, 16), `keyring line 2: key id "SM4-k1": write the algorithm prefix "sm4-" in lower case`},
		{"bare prefix", index + "\nsm4-:" + b64(1, 16), `keyring line 2: key id "sm4-" needs a name after the algorithm prefix`},
		{"both index lines", "index:" + b64(100, 32) + "\n" + k1 + "\n" + index, "keyring line 3: second index line (first on line 1)"},
		{"short sm3 index", "index-sm3:" + b64(100, 16) + "\n" + k1, "keyring line 1: index secret must be at least 32 bytes, got 16"},
		{"bad sm3 index base64", "index-sm3:@@\n" + k1, "keyring line 1: index secret is not valid base64"},
		{"no index", k1, "keyring: no index secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseKeyring(tt.text)
			require.ErrorContains(t, err, tt.want)
			for _, seed := range []byte{1, 100} {
				for _, n := range []int{16, 32} {
					assert.NotContains(t, err.Error(), b64(seed, n)[:8], "error leaks key material")
				}
			}
		})
	}
	_, err := NewKeyringWithIndex(IndexHMACSM3, testMaterial(1, 32), "index-sm3", testMaterial(2, 32))
	require.ErrorContains(t, err, `key id "index-sm3" is reserved for the index secret`)
	_, err = NewKeyringWithIndex(IndexAlgorithm(7), testMaterial(1, 32), "k1", testMaterial(2, 32))
	require.ErrorContains(t, err, "unknown blind index algorithm")
}

func TestRequireGM(t *testing.T) {
	require.NoError(t, newGMKeyring(t).RequireGM())

	rotated, err := newGMKeyring(t).WithDataKey("sm4-k2", testMaterial(2, SM4KeySize))
	require.NoError(t, err)
	require.NoError(t, rotated.RequireGM())

	mixed, err := ParseKeyring("index-sm3:" + b64(100, 32) + "\nk1:" + b64(1, 32) + "\nold:" + b64(3, 32) + "\nsm4-k2:" + b64(2, 16))
	require.NoError(t, err)
	err = mixed.RequireGM()
	require.EqualError(t, err, `the keyring is not 国密-only: data key(s) "k1", "old" are AES-256-GCM (国密 key ids begin "sm4-"; rekey, then retire them)`)

	shaIndex, err := NewKeyring(testMaterial(100, 32), "sm4-k1", testMaterial(1, SM4KeySize))
	require.NoError(t, err)
	require.ErrorContains(t, shaIndex.RequireGM(), "the blind index is HMAC-SHA256")

	require.ErrorIs(t, (*Keyring)(nil).RequireGM(), ErrNoKeys)
}

func TestGenerateGMKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gm.keys")
	require.NoError(t, GenerateGMKeyFile(path))
	k, err := LoadKeyringFile(path)
	require.NoError(t, err)
	assert.Equal(t, []string{"sm4-k1"}, k.KeyIDs())
	require.NoError(t, k.RequireGM())
	s, err := k.Seal([]byte(idNumber), nil)
	require.NoError(t, err)
	got, err := k.Open(s, nil)
	require.NoError(t, err)
	assert.Equal(t, idNumber, string(got))

	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	require.Error(t, GenerateGMKeyFile(path), "never overwrites")

	plain := filepath.Join(t.TempDir(), "aes.keys")
	require.NoError(t, GenerateKeyFile(plain))
	k, err = LoadKeyringFile(plain)
	require.NoError(t, err)
	require.Error(t, k.RequireGM(), "the default key file is AES with an HMAC-SHA256 index")
}

func TestGMKeyringRedaction(t *testing.T) {
	index, key := testMaterial(100, 32), testMaterial(1, SM4KeySize)
	k, err := NewKeyringWithIndex(IndexHMACSM3, index, "sm4-k1", key)
	require.NoError(t, err)
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("loaded", "keyring", k)
	outs := []string{logs.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%x", "%d"} {
		outs = append(outs, fmt.Sprintf(verb, k), fmt.Sprintf(verb, *k))
	}
	for _, out := range outs {
		for _, m := range [][]byte{index, key} {
			for _, form := range []string{hex.EncodeToString(m), base64.StdEncoding.EncodeToString(m), strings.Trim(fmt.Sprint(m), "[]")} {
				assert.NotContains(t, out, form)
			}
		}
	}
}

// The cost of 国密: sealing one 身份证号 and indexing it under each
// algorithm (figures in docs/OPERATIONS.md, "Key custody").
func BenchmarkSeal(b *testing.B) {
	aesRing, err := NewKeyring(testMaterial(100, 32), "k1", testMaterial(1, KeySize))
	require.NoError(b, err)
	gmRing, err := NewKeyringWithIndex(IndexHMACSM3, testMaterial(100, 32), "sm4-k1", testMaterial(1, SM4KeySize))
	require.NoError(b, err)
	for name, k := range map[string]*Keyring{"AES-256-GCM": aesRing, "SM4-GCM": gmRing} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := k.Seal([]byte(idNumber), []byte("household-0190a1b2")); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for name, k := range map[string]*Keyring{"HMAC-SHA256": aesRing, "HMAC-SM3": gmRing} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				_ = k.BlindIndex(idNumber)
			}
		})
	}
}
