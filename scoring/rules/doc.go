// Package rules is the credit policy engine of 三治信农贷: it turns a
// household's governance points (三治积分) and records into a bank's
// credit decision — eligible or not, score, grade, limit, rate — under a
// versioned policy that is data (YAML), not code, and explains every
// decision.
//
// A bank writes one policy document per product and version (see
// examples/policies/tongxiang-rcb-sanzhi.yaml, which documents the format).
// Parse validates it strictly and reports every problem with its line and
// column; the result is a *Policy identified by Hash. Evaluate applies it
// to an Input (a typed snapshot of the household, with its own Canonical
// form and Hash) on a date and returns a Decision, whose Canonical bytes
// are identical whenever the same policy, input and date are evaluated
// again: that is what a regulator's replay checks.
//
// Where each rule lives:
//
//	inputs.go    the vocabulary of inputs: names, types, accepted ranges,
//	             labels, which inputs a household can act on; Input and its
//	             canonical form and hash; DecodeInput for replay
//	parse.go     every rule a policy document must obey (unknown keys, types,
//	             duplicate ids, declared vs read inputs, not-for-credit
//	             items, bins without gap or overlap covering the declared
//	             range, monotone points, reachable grades covering every
//	             score, caps not below base amounts, rates)
//	cond.go      the condition language of knock-outs and adjustments
//	document.go  the loaded policy's types and its canonical form (Hash)
//	evaluate.go  evaluation, step by step: inputs, knock-outs, score, grade,
//	             implied odds, limit (base, adjustments, debt, caps,
//	             rounding, minimum), rate, validity; Decision.Canonical
//	explain.go   reason codes and counterfactuals, and how values and bands
//	             are written for households and regulators
//	lint.go      LintErrors, the error Parse returns
//
// The package is pure: no I/O, no clock (the decision date is an
// argument), no goroutines, no floating point. Money, points, odds and
// rates are shopspring/decimal; the only rounding of money is the limit's
// declared round_down_to (and per-point adjustments to the fen).
package rules
