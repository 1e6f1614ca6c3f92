// Package points holds the 三治积分 (governance points) catalogue and the
// arithmetic of the points ledger.
//
// A county publishes a base catalogue (ParseCounty); each village may keep a
// document that inherits one version of it and adds, removes or re-weights
// items (ParseVillage, then VillageDoc.Resolve). The result, a Catalogue, is
// the effective item set of one village at one version, identified by a
// content Hash that decisions and ledger postings pin.
//
// The ledger functions (Post, Reverse, NewRedemption, Balances) are pure
// arithmetic over Entry values: the evidence workflow decides when an entry
// is posted and the stores keep them append-only.
//
// The package does no I/O and never reads a clock: callers pass bytes and
// dates, so every answer is reproducible. Points are decimal.Decimal, never
// float. Dates are household.Date values, calendar dates in Asia/Shanghai.
//
// Errors: catalogue validation returns LintErrors (every problem, with YAML
// line and column); the other functions return *fault.Error values, so
// adapters map both to a protocol status in one place.
package points
