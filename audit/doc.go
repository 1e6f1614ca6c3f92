// Package audit is the pure core of the tamper-evident audit trail: an
// append-only Merkle log in the manner of Certificate Transparency (RFC 6962,
// RFC 9162) with checkpoints in the C2SP tlog-checkpoint signed-note format.
//
// It does no I/O. Callers hand it bytes and get bytes, hashes and verdicts
// back; storage, the RPC service and the CLI live elsewhere.
//
// # Entries
//
// A [Record] is what a write path logs; once sequenced it is an [Entry]. The
// leaf of the log is the entry's canonical JSON ([Entry.Canonical]): one
// object with the keys action, actor, payload, request_hash, result_hash, seq,
// subject and time, in that (bytewise sorted) order, every value a string,
// no insignificant whitespace, UTF-8 without HTML escaping. [ParseEntry]
// accepts only those exact bytes, so a leaf has a single spelling and a
// changed byte cannot hide behind an equivalent encoding.
//
// # Tree and proofs
//
// Hashing, compact ranges and proofs come from github.com/transparency-dev/merkle
// (rfc6962, compact, proof): a leaf hash is SHA-256(0x00 || data), an
// interior node SHA-256(0x01 || left || right). [Appender] extends a stored
// tree and reports every new perfect subtree so a store can keep them;
// [InclusionNodes], [ConsistencyNodes] and [BuildProof] turn stored nodes into
// proofs; [VerifyInclusion] and [VerifyConsistency] check them against a
// [Checkpoint]; [TreeBuilder] recomputes a whole log from its leaves and
// names the first leaf that is out of place.
//
// # Checkpoints and receipts
//
// A [Checkpoint] is signed with golang.org/x/mod/sumdb/note (ed25519). Its
// origin line names the log; [OpenCheckpoint] demands the origin the caller
// expects, so a checkpoint of another log signed with the same key is not
// mistaken for ours. A [Receipt] bundles an entry, its inclusion proof and the
// signed checkpoint, and [VerifyReceipt] checks it with the verifier key only.
package audit
