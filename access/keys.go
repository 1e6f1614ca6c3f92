package access

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"strings"
)

// KeyPrefix starts every API key, so a leaked key is easy to recognise and
// scan for.
const KeyPrefix = "sz_"

// NewKey returns a fresh API key: 256 random bits.
func NewKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return KeyPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)), nil
}

// HashKey is how keys are stored and looked up. Keys carry 256 random bits,
// so a plain SHA-256 (not a slow password hash) cannot be brute-forced and
// keeps authentication to one indexed read.
func HashKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// NewKeyAndHash returns a fresh API key and the hash a store keeps of it:
// the principals.NewKey the principal service takes.
func NewKeyAndHash() (string, []byte, error) {
	k, err := NewKey()
	if err != nil {
		return "", nil, err
	}
	return k, HashKey(k), nil
}
