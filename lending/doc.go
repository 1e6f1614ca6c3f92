// Package lending holds the pure rules of consent and credit lines: who may
// look at a household's credit, and how a household's line at one bank moves
// when a decision arrives, when the bank reports a drawdown or a repayment,
// and when a knock-out event freezes it.
//
// It is pure on purpose: no I/O, no clock reads, no storage. Callers pass
// the instant or the business date (household.Date, Asia/Shanghai) every
// rule is judged at, and get back a new value or a fault. That makes every
// rule replayable for the audit log and testable without a database; the
// orchestration (ports, transactions, notifications) lives elsewhere.
// Money is decimal.Decimal in yuan, never float.
//
// One file per rule group:
//
//   - consent.go: Consent and its states (a consent a bank records is
//     pending until the household confirms it or its village clerk
//     countersigns it), its Validate, Live (is it in force for a purpose
//     at an instant) and Require.
//   - basis.go: the lawful-basis rule, written once: LawfulBasis and
//     Standing.Basis say on which ground (consent, or for post-loan
//     monitoring an outstanding balance) a bank may receive a household's
//     data for an act, or refuse with CONSENT_REQUIRED.
//   - money.go: CheckAmount and the money bounds (positive, whole fen, at
//     most ¥100,000,000) shared by every amount below.
//   - line.go: Line and Status, Available, StatusOn, Apply (a decision
//     opens or updates a line), Drawdown with Rules (forbidden uses),
//     Repayment, Freeze/Unfreeze, Close and CheckTotalExposure (the
//     cross-bank cap, 无过度融资).
//   - loanstatus.go: the loans' performance as banks report it — one
//     report's consistency (Check: days past due, amounts overdue, the
//     五级分类 floors, default, write-off, settlement), the state machine
//     of one report after another (CheckTransition), when a report may be
//     dated (CheckDate), and the repayment record a policy reads (Record).
//
// Every operation that changes a Line returns a copy with Version
// incremented (for optimistic concurrency in the store); a refused
// operation returns the line unchanged together with the fault.
package lending
