package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
)

const (
	// KeySize is the size of a data key: AES-256.
	KeySize = 32
	// MinIndexSecretSize is the minimum size of the index secret.
	MinIndexSecretSize = 32
	// MaxKeyIDLen bounds key ids, which are stored beside every ciphertext.
	MaxKeyIDLen = 32

	// indexKeyLabel is the HKDF info that derives the blind-index HMAC key
	// from the index secret. Changing it changes every blind index, so it
	// is versioned rather than edited.
	indexKeyLabel = "sanzhi blind index v1"
	// aadLabel separates this package's ciphertexts from any other use of
	// the same keys, and versions the AAD layout.
	aadLabel = "sanzhi pii v1\x00"
	// reservedIndexID is the key-file line name of the index secret, so it
	// cannot also be a data key id.
	reservedIndexID = "index"
)

// Errors returned (wrapped) by Open.
var (
	// ErrUnknownKeyID means the Sealed value names a key this keyring does
	// not have, typically because the key was retired too early or the
	// service was started with the wrong key file.
	ErrUnknownKeyID = errors.New("pii: unknown key id")
	// ErrMalformed means the ciphertext is too short to hold a nonce and
	// an authentication tag.
	ErrMalformed = errors.New("pii: malformed ciphertext")
	// ErrAuthFailed means AES-GCM authentication failed: the ciphertext or
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
	// Ciphertext is the 12-byte random nonce, then the AES-GCM ciphertext
	// and its 16-byte tag.
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
	ids   []string               // in order of addition; the last is current
	aeads map[string]cipher.AEAD // by key id
	index *indexKey
}

type indexKey struct{ key []byte }

// NewKeyring returns a keyring with one data key, which is current, and the
// blind-index key derived from indexSecret. Neither slice is retained.
func NewKeyring(indexSecret []byte, keyID string, key []byte) (*Keyring, error) {
	if len(indexSecret) < MinIndexSecretSize {
		return nil, fmt.Errorf("index secret must be at least %d bytes, got %d", MinIndexSecretSize, len(indexSecret))
	}
	ik, err := hkdf.Key(sha256.New, indexSecret, nil, indexKeyLabel, sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("derive blind index key: %w", err)
	}
	k := &Keyring{aeads: map[string]cipher.AEAD{}, index: &indexKey{key: ik}}
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
		aeads: make(map[string]cipher.AEAD, len(k.aeads)+1),
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
	if len(key) != KeySize {
		return fmt.Errorf("key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return fmt.Errorf("key %q: %w", id, err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return fmt.Errorf("key %q: %w", id, err)
	}
	k.aeads[id] = aead
	k.ids = append(k.ids, id)
	return nil
}

// validateKeyID keeps key ids short and plain, because they are stored in a
// column beside every ciphertext and written in key files as "id:key".
func validateKeyID(id string) error {
	if id == "" || len(id) > MaxKeyIDLen {
		return fmt.Errorf("key id %q must be 1 to %d characters", id, MaxKeyIDLen)
	}
	if id == reservedIndexID {
		return fmt.Errorf("key id %q is reserved for the index secret", id)
	}
	for _, c := range []byte(id) {
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			return fmt.Errorf("key id %q may contain only letters, digits, '-', '_' and '.'", id)
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

// Seal encrypts plaintext with the current data key under AES-256-GCM with a
// random 96-bit nonce. The key id and context are authenticated but not
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
	ct := k.aeads[id].Seal(nil, nil, plaintext, additionalData(id, context))
	return Sealed{KeyID: id, Ciphertext: ct}, nil
}

// Open decrypts s, which must have been sealed with the same context. Errors
// wrap ErrUnknownKeyID, ErrMalformed or ErrAuthFailed.
func (k *Keyring) Open(s Sealed, context []byte) ([]byte, error) {
	if k == nil || len(k.ids) == 0 {
		return nil, ErrNoKeys
	}
	aead, ok := k.aeads[s.KeyID]
	if !ok {
		return nil, fmt.Errorf("open sealed value with key id %q (keyring has %s): %w",
			s.KeyID, strings.Join(k.ids, ", "), ErrUnknownKeyID)
	}
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

// BlindIndex returns HMAC-SHA256 of value under the blind-index key: a
// 32-byte look-up key that is equal for equal values and reveals nothing
// else without the key. It depends only on the index secret, so it is
// unchanged by data key rotation. Normalise value first (pass
// idnum.PersonID.Raw, not user input), or equal numbers will not match.
//
// It panics on a zero Keyring, because silently indexing under an empty key
// would store look-up keys that anyone could compute.
func (k *Keyring) BlindIndex(value string) []byte {
	if k == nil || k.index == nil {
		panic("pii: BlindIndex on a Keyring without an index key")
	}
	m := hmac.New(sha256.New, k.index.key)
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
