// Package pii encrypts personal identifiers (身份证号) at rest and computes
// blind indexes for looking them up without decrypting.
//
// A Keyring holds:
//
//   - data keys: AES-256 keys, each named by a short key id. The newest is
//     current and seals new values; all of them open. Rotation adds a key;
//     old ciphertexts stay readable for as long as their key is kept, and
//     each Sealed records which key it needs.
//   - an index secret, from which the blind-index HMAC key is derived. It is
//     deliberately separate from the data keys and never rotates with them:
//     a blind index is a stored look-up key, so changing its key would make
//     every stored index unfindable at once. Deriving it from "the first data
//     key" instead would tie look-ups to a key that rotation is meant to
//     retire, so the index secret is its own mandatory line in the key file.
//
// Key material never appears in an error, String, GoString, Format or
// LogValue result.
//
// # Key file format
//
// A key file (or the SANZHI_DATA_KEY environment variable) is text, one
// entry per line:
//
//	# comment lines and blank lines are ignored
//	index:<base64 of at least 32 random bytes>
//	k1:<base64 of 32 random bytes>
//	k2:<base64 of 32 random bytes>
//
// Exactly one index line is required (see above for why the blind-index
// secret is separate). Every other line is a data key "id:key" in standard,
// padded base64; the last one is current.
//
// To rotate, append a new key line and restart sanzhid, so that new values
// are sealed under it; then `sanzhi rekey` (adapters/rekey) re-encrypts the
// stored values under it, online and resumably, with the same context they
// were sealed with. Remove an old line only once `sanzhi rekey --status`
// says nothing uses it: sanzhid refuses to start with a key file that
// lacks a key id still in use. The runbook is in docs/OPERATIONS.md.
package pii
