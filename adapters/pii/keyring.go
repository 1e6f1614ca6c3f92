package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
)

const (
	// KeySize is the size of an AES-256-GCM data key.
	KeySize = 32
	// SM4KeySize is the size of an SM4-GCM data key (SM4 has 128-bit keys).
	SM4KeySize = 16
	// SM4Prefix begins the id of every SM4-GCM data key ("sm4-k2"); any
	// other id names an AES-256-GCM key. The algorithm lives in the id
	// because the id is what is stored beside each ciphertext: a stored
	// value says which cipher opens it, and old AES ids ("k1") keep
	// meaning what they always meant.
	SM4Prefix = "sm4-"

	// AES256GCM and SM4GCM are the data key algorithms, as Algorithm
	// names them.
	AES256GCM = "AES-256-GCM"
	SM4GCM    = "SM4-GCM"
	// MinIndexSecretSize is the minimum size of the index secret.
	MinIndexSecretSize = 32
	// MaxKeyIDLen bounds key ids, which are stored beside every ciphertext.
	MaxKeyIDLen = 32

	// indexKeyLabel is the HKDF info that derives the blind-index HMAC key
	// from the index secret. Changing it changes every blind index, so it
	// is versioned rather than edited. The SM3 index has its own label.
	indexKeyLabel    = "sanzhi blind index v1"
	sm3IndexKeyLabel = "sanzhi blind index sm3 v1"
	// aadLabel separates this package's ciphertexts from any other use of
	// the same keys, and versions the AAD layout.
	aadLabel = "sanzhi pii v1\x00"
	// reservedIndexID and reservedSM3IndexID are the key-file line names
	// of the index secret (HMAC-SHA256 and HMAC-SM3 index), so they cannot
	// also be data key ids.
	reservedIndexID    = "index"
	reservedSM3IndexID = "index-sm3"

	// gcmNonceSize is GCM's standard 96-bit nonce, stored before every
	// ciphertext whatever the block cipher.
	gcmNonceSize = 12
)

// IndexAlgorithm is how blind indexes are computed. It is chosen once per
// deployment by the key file's index line: every stored index depends on
// it, so changing it means recomputing every stored index.
type IndexAlgorithm int

const (
	// IndexHMACSHA256 is HMAC-SHA256 under a key derived with HKDF-SHA256
	// (key file line "index:").
	IndexHMACSHA256 IndexAlgorithm = iota
	// IndexHMACSM3 is HMAC-SM3 under a key derived with HKDF over SM3
	// (key file line "index-sm3:"), for 国密-only deployments.
	IndexHMACSM3
)

func (a IndexAlgorithm) String() string {
	switch a {
	case IndexHMACSHA256:
		return "HMAC-SHA256"
	case IndexHMACSM3:
		return "HMAC-SM3"
	}
	return fmt.Sprintf("IndexAlgorithm(%d)", int(a))
}

// Errors returned (wrapped) by Open.
var (
	// ErrUnknownKeyID means the Sealed value names a key this keyring does
	// not have, typically because the key was retired too early or the
	// service was started with the wrong key file.
	ErrUnknownKeyID = errors.New("pii: unknown key id")
	// ErrMalformed means the ciphertext is too short to hold a nonce and
	// an authentication tag.
	ErrMalformed = errors.New("pii: malformed ciphertext")
	// ErrAuthFailed means GCM authentication failed: the ciphertext or
	// key id was altered, or the context differs from the one it was sealed
	// with. GCM cannot tell these cases apart.
	ErrAuthFailed = errors.New("pii: ciphertext failed authentication (tampered, or wrong context)")
	// ErrNoKeys means the Keyring is the zero value, not one built by
	// NewKeyring, ParseKeyring or LoadKeyringFile.
	ErrNoKeys = errors.New("pii: keyring has no data keys")
)

// Sealed is an encrypted value and the id of the data key that sealed it.
// Store both: the key id selects the key when opening after rotation.
type Sealed struct {
	KeyID string
	// Ciphertext is the 12-byte random nonce, then the GCM ciphertext and
	// its 16-byte tag, under AES-256 or SM4 as KeyID says.
	Ciphertext []byte
}

// Keyring holds data keys and the blind-index key. It is immutable once
// built, so one *Keyring may be shared by any number of goroutines; rotate
// by building a new one with WithDataKey or by reloading the key file.
//
// Fields hold key material only behind pointers and interfaces, so even
// fmt's reflection-based printing of a Keyring value shows addresses rather
// than key bytes.
type Keyring struct {
	ids   []string            // in order of addition; the last is current
	aeads map[string]*dataKey // by key id
	index *indexKey
}

type dataKey struct {
	aead cipher.AEAD
	alg  string
}

type indexKey struct {
	key  []byte
	alg  IndexAlgorithm
	hash func() hash.Hash
}

// NewKeyring returns a keyring with one data key, which is current, and an
// HMAC-SHA256 blind-index key derived from indexSecret. Neither slice is
// retained.
func NewKeyring(indexSecret []byte, keyID string, key []byte) (*Keyring, error) {
	return NewKeyringWithIndex(IndexHMACSHA256, indexSecret, keyID, key)
}

// NewKeyringWithIndex is NewKeyring with the blind-index algorithm chosen.
func NewKeyringWithIndex(alg IndexAlgorithm, indexSecret []byte, keyID string, key []byte) (*Keyring, error) {
	if len(indexSecret) < MinIndexSecretSize {
		return nil, fmt.Errorf("index secret must be at least %d bytes, got %d", MinIndexSecretSize, len(indexSecret))
	}
	var (
		h     func() hash.Hash
		label string
	)
	switch alg {
	case IndexHMACSHA256:
		h, label = sha256.New, indexKeyLabel
	case IndexHMACSM3:
		h, label = sm3.New, sm3IndexKeyLabel
	default:
		return nil, fmt.Errorf("unknown blind index algorithm %v", alg)
	}
	ik, err := hkdf.Key(h, indexSecret, nil, label, 32)
	if err != nil {
		return nil, fmt.Errorf("derive blind index key: %w", err)
	}
	k := &Keyring{aeads: map[string]*dataKey{}, index: &indexKey{key: ik, alg: alg, hash: h}}
	if err := k.add(keyID, key); err != nil {
		return nil, err
	}
	return k, nil
}

// WithDataKey returns a copy of k with an additional data key that becomes
// current; k itself is unchanged. Values sealed under k's keys still open.
func (k *Keyring) WithDataKey(keyID string, key []byte) (*Keyring, error) {
	if k == nil || k.index == nil {
		return nil, ErrNoKeys
	}
	n := &Keyring{
		ids:   slices.Clone(k.ids),
		aeads: make(map[string]*dataKey, len(k.aeads)+1),
		index: k.index,
	}
	for id, a := range k.aeads {
		n.aeads[id] = a
	}
	if err := n.add(keyID, key); err != nil {
		return nil, err
	}
	return n, nil
}

// add makes key the current data key. It validates id and key without
// mentioning the key bytes in errors.
func (k *Keyring) add(id string, key []byte) error {
	if err := validateKeyID(id); err != nil {
		return err
	}
	if _, dup := k.aeads[id]; dup {
		return fmt.Errorf("duplicate key id %q", id)
	}
	if err := checkKeySize(id, len(key)); err != nil {
		return err
	}
	var (
		aead cipher.AEAD
		err  error
	)
	alg := algorithmOf(id)
	if alg == SM4GCM {
		aead, err = newSM4GCM(key)
	} else {
		var block cipher.Block
		if block, err = aes.NewCipher(key); err == nil {
			aead, err = cipher.NewGCMWithRandomNonce(block)
		}
	}
	if err != nil {
		return fmt.Errorf("key %q: %w", id, err)
	}
	k.aeads[id] = &dataKey{aead: aead, alg: alg}
	k.ids = append(k.ids, id)
	return nil
}

// algorithmOf is the algorithm a (valid) key id names.
func algorithmOf(id string) string {
	if strings.HasPrefix(id, SM4Prefix) {
		return SM4GCM
	}
	return AES256GCM
}

// checkKeySize says, without the key, when a key is the wrong size for the
// algorithm its id names.
func checkKeySize(id string, n int) error {
	if algorithmOf(id) == SM4GCM {
		if n != SM4KeySize {
			return fmt.Errorf("SM4 key must be %d bytes, got %d", SM4KeySize, n)
		}
		return nil
	}
	if n != KeySize {
		return fmt.Errorf("key must be %d bytes, got %d", KeySize, n)
	}
	return nil
}

// newSM4GCM is SM4 in GCM with a random nonce per seal, laid out as
// cipher.NewGCMWithRandomNonce lays out AES (which it accepts only for AES
// blocks): nonce, ciphertext, tag.
func newSM4GCM(key []byte) (cipher.AEAD, error) {
	block, err := sm4.NewCipher(key)
	if err != nil {
		return nil, err
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &randomNonceGCM{gcm: g}, nil
}

type randomNonceGCM struct{ gcm cipher.AEAD }

func (r *randomNonceGCM) NonceSize() int { return 0 }
func (r *randomNonceGCM) Overhead() int  { return gcmNonceSize + r.gcm.Overhead() }

func (r *randomNonceGCM) Seal(dst, nonce, plaintext, additionalData []byte) []byte {
	if len(nonce) != 0 {
		panic("pii: randomNonceGCM makes its own nonces")
	}
	n := make([]byte, gcmNonceSize)
	_, _ = rand.Read(n) // crypto/rand.Read never fails (Go 1.24+)
	return r.gcm.Seal(append(dst, n...), n, plaintext, additionalData)
}

func (r *randomNonceGCM) Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error) {
	if len(nonce) != 0 {
		panic("pii: randomNonceGCM reads its nonce from the ciphertext")
	}
	if len(ciphertext) < r.Overhead() {
		return nil, errors.New("ciphertext too short")
	}
	return r.gcm.Open(dst, ciphertext[:gcmNonceSize], ciphertext[gcmNonceSize:], additionalData)
}

// validateKeyID keeps key ids short and plain, because they are stored in a
// column beside every ciphertext and written in key files as "id:key".
func validateKeyID(id string) error {
	if id == "" || len(id) > MaxKeyIDLen {
		return fmt.Errorf("key id %q must be 1 to %d characters", id, MaxKeyIDLen)
	}
	if id == reservedIndexID || id == reservedSM3IndexID {
		return fmt.Errorf("key id %q is reserved for the index secret", id)
	}
	for _, c := range []byte(id) {
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			return fmt.Errorf("key id %q may contain only letters, digits, '-', '_' and '.'", id)
		}
	}
	// "SM4-k2" would silently be an AES key; refuse it rather than guess.
	if strings.HasPrefix(strings.ToLower(id), SM4Prefix) {
		if !strings.HasPrefix(id, SM4Prefix) {
			return fmt.Errorf("key id %q: write the algorithm prefix %q in lower case", id, SM4Prefix)
		}
		if id == SM4Prefix {
			return fmt.Errorf("key id %q needs a name after the algorithm prefix, as in %q", id, SM4Prefix+"k2")
		}
	}
	return nil
}

// CurrentKeyID returns the id of the key that Seal uses.
func (k *Keyring) CurrentKeyID() string {
	if k == nil || len(k.ids) == 0 {
		return ""
	}
	return k.ids[len(k.ids)-1]
}

// KeyIDs returns the ids of all data keys, oldest first.
func (k *Keyring) KeyIDs() []string {
	if k == nil {
		return nil
	}
	return slices.Clone(k.ids)
}

// Algorithm is the algorithm of the data key keyID (AES256GCM or SM4GCM),
// or "" when the keyring has no such key.
func (k *Keyring) Algorithm(keyID string) string {
	if k == nil {
		return ""
	}
	if dk, ok := k.aeads[keyID]; ok {
		return dk.alg
	}
	return ""
}

// IndexAlgorithm is how BlindIndex computes look-up keys.
func (k *Keyring) IndexAlgorithm() IndexAlgorithm {
	if k == nil || k.index == nil {
		return IndexHMACSHA256
	}
	return k.index.alg
}

// RequireGM returns an error naming every part of the keyring that is not
// 国密 (an AES data key, an HMAC-SHA256 index), or nil when it uses only SM4
// and SM3. A deployment that must be 国密-only checks it at start.
func (k *Keyring) RequireGM() error {
	if k == nil || k.index == nil {
		return ErrNoKeys
	}
	var problems []string
	if k.index.alg != IndexHMACSM3 {
		problems = append(problems, fmt.Sprintf("the blind index is %v (an index-sm3: line instead, which changes every stored index)", k.index.alg))
	}
	var notGM []string
	for _, id := range k.ids {
		if k.aeads[id].alg != SM4GCM {
			notGM = append(notGM, fmt.Sprintf("%q", id))
		}
	}
	if len(notGM) > 0 {
		problems = append(problems, fmt.Sprintf("data key(s) %s are %s (国密 key ids begin %q; rekey, then retire them)",
			strings.Join(notGM, ", "), AES256GCM, SM4Prefix))
	}
	if len(problems) > 0 {
		return fmt.Errorf("the keyring is not 国密-only: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Seal encrypts plaintext with the current data key, under AES-256-GCM or
// SM4-GCM as its id says, with a random 96-bit nonce. The key id and context are authenticated but not
// encrypted; context binds the ciphertext to its owner (pass the household
// or person record id), so that a ciphertext copied onto another record
// fails to open there. Open must be given the same context; nil and empty
// are the same context.
//
// Random nonces limit each key to about 2^32 seals; rotate well before.
func (k *Keyring) Seal(plaintext, context []byte) (Sealed, error) {
	id := k.CurrentKeyID()
	if id == "" {
		return Sealed{}, ErrNoKeys
	}
	ct := k.aeads[id].aead.Seal(nil, nil, plaintext, additionalData(id, context))
	return Sealed{KeyID: id, Ciphertext: ct}, nil
}

// Open decrypts s, which must have been sealed with the same context. Errors
// wrap ErrUnknownKeyID, ErrMalformed or ErrAuthFailed.
func (k *Keyring) Open(s Sealed, context []byte) ([]byte, error) {
	if k == nil || len(k.ids) == 0 {
		return nil, ErrNoKeys
	}
	dk, ok := k.aeads[s.KeyID]
	if !ok {
		return nil, fmt.Errorf("open sealed value with key id %q (keyring has %s): %w",
			s.KeyID, strings.Join(k.ids, ", "), ErrUnknownKeyID)
	}
	aead := dk.aead
	if len(s.Ciphertext) < aead.Overhead() {
		return nil, fmt.Errorf("open sealed value: %d bytes is shorter than the %d-byte nonce and tag: %w",
			len(s.Ciphertext), aead.Overhead(), ErrMalformed)
	}
	pt, err := aead.Open(nil, nil, s.Ciphertext, additionalData(s.KeyID, context))
	if err != nil {
		// The cipher's own error says only "message authentication failed".
		return nil, fmt.Errorf("open sealed value with key id %q: %w", s.KeyID, ErrAuthFailed)
	}
	return pt, nil
}

// additionalData encodes the key id and context unambiguously: the key id is
// length-prefixed (it is at most MaxKeyIDLen bytes), so no id/context pair
// can collide with another.
func additionalData(keyID string, context []byte) []byte {
	ad := make([]byte, 0, len(aadLabel)+1+len(keyID)+len(context))
	ad = append(ad, aadLabel...)
	ad = append(ad, byte(len(keyID)))
	ad = append(ad, keyID...)
	return append(ad, context...)
}

// BlindIndex returns HMAC-SHA256 (or HMAC-SM3, with an index-sm3 secret) of
// value under the blind-index key: a 32-byte look-up key that is equal for
// equal values and reveals nothing else without the key. It depends only on the index secret, so it is
// unchanged by data key rotation. Normalise value first (pass
// idnum.PersonID.Raw, not user input), or equal numbers will not match.
//
// It panics on a zero Keyring, because silently indexing under an empty key
// would store look-up keys that anyone could compute.
func (k *Keyring) BlindIndex(value string) []byte {
	if k == nil || k.index == nil {
		panic("pii: BlindIndex on a Keyring without an index key")
	}
	m := hmac.New(k.index.hash, k.index.key)
	_, _ = io.WriteString(m, value)
	return m.Sum(nil)
}

// String describes the keyring by key ids only.
func (k *Keyring) String() string {
	if k == nil {
		return "pii.Keyring(nil)"
	}
	return fmt.Sprintf("pii.Keyring{current: %q, keys: %q, material: redacted}", k.CurrentKeyID(), k.ids)
}

// GoString makes %#v print the redacted description too, instead of the
// struct's fields.
func (k *Keyring) GoString() string { return k.String() }

// Format implements fmt.Formatter so that every verb, including %x and %d
// which would otherwise walk the struct, prints the redacted description.
func (k *Keyring) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// LogValue implements slog.LogValuer: key ids, never key material.
func (k *Keyring) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("current", k.CurrentKeyID()),
		slog.Any("keys", k.KeyIDs()),
	)
}
