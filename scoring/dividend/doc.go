// Package dividend is the village's "股份+积分" dividend: a pool of
// collective income shared among the households on the roll at a record
// date, part by their collective shares (股份) and part by their
// governance points (积分), as 平湖 pays it (seed 003).
//
// The allocation rule is a versioned YAML document a village keeps like its
// points catalogue (rule.go; lifecycle scoring/docver: a draft, activated
// by a second person). A round (round.go) takes a pool, a record date and
// the active rule version, computes the allocation from the ledger and the
// household facts as of the record date (allocate.go: exact arithmetic,
// largest-remainder rounding, the sum equals the pool to the fen), and goes
// draft → reviewed by a second person → 公示 with objections → approved,
// every step audited. An approved round's allocation replays to the same
// bytes (Verify). Its outputs are a statement per household and a payout
// file for the paying bank (payout.go).
//
// The package is pure: storage is its Store port, and the roll is read
// through it.
package dividend
