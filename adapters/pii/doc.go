// Package pii encrypts personal identifiers (身份证号) at rest and computes
// blind indexes for looking them up without decrypting.
//
// A Keyring holds:
//
//   - data keys, each named by a short key id. The newest is current and
//     seals new values; all of them open. Rotation adds a key; old
//     ciphertexts stay readable for as long as their key is kept, and each
//     Sealed records which key it needs. The id names the algorithm: an id
//     beginning "sm4-" is an SM4-GCM key (国密, GB/T 32907, 16 bytes), any
//     other id an AES-256-GCM key (32 bytes). One keyring may hold both, so
//     a deployment moves from AES to SM4 by adding an sm4- key and
//     re-encrypting. Both seal the same way: a random 96-bit nonce, then
//     the GCM ciphertext and 16-byte tag, with the key id and the owner's
//     context authenticated as additional data.
//   - an index secret, from which the blind-index HMAC key is derived. It is
//     deliberately separate from the data keys and never rotates with them:
//     a blind index is a stored look-up key, so changing its key would make
//     every stored index unfindable at once. Deriving it from "the first data
//     key" instead would tie look-ups to a key that rotation is meant to
//     retire, so the index secret is its own mandatory line in the key file.
//     Its line also chooses the index algorithm, once per deployment:
//     "index:" is HKDF-SHA256 then HMAC-SHA256; "index-sm3:" is HKDF over
//     SM3 then HMAC-SM3 (GM/T 0042). Changing the algorithm, like changing
//     the secret, changes every stored index, so it needs every index
//     recomputed (decrypt each value, index it again); nothing does that
//     yet, so choose before the first household is registered.
//
// RequireGM tells a 国密-only deployment whether a keyring uses only SM4 and
// SM3.
//
// Key material never appears in an error, String, GoString, Format or
// LogValue result.
//
// # Key file format
//
// A key file (or the SANZHI_DATA_KEY environment variable, or the output of
// an operator's key command: adapters/keys) is text, one entry per line:
//
//	# comment lines and blank lines are ignored
//	index:<base64 of at least 32 random bytes>
//	k1:<base64 of 32 random bytes>
//	k2:<base64 of 32 random bytes>
//	sm4-k3:<base64 of 16 random bytes>
//
// Exactly one index line ("index:" or "index-sm3:") is required (see above
// for why the blind-index secret is separate). Every other line is a data
// key "id:key" in standard, padded base64; the last one is current. Key ids
// are 1 to 32 letters, digits, '-', '_' or '.'; "index" and "index-sm3" are
// reserved, and "sm4-" must be written in lower case (an "SM4-k3" is
// refused rather than taken for AES).
//
// To rotate, append a new key line and restart sanzhid, so that new values
// are sealed under it; then `sanzhi rekey` (adapters/rekey) re-encrypts the
// stored values under it, online and resumably, with the same context they
// were sealed with. Remove an old line only once `sanzhi rekey --status`
// says nothing uses it: sanzhid refuses to start with a key file that
// lacks a key id still in use. The runbook is in docs/OPERATIONS.md.
//
// Values sealed before SM4 existed, under ids like "k1", open unchanged
// byte for byte, and their blind indexes are unchanged
// (TestStoredAESFormatUnchanged).
package pii
