package dividend

import (
	"context"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// Store is the dividend port: rule versions, rounds with their lines and
// objections, and the roll. adapters/sqlstore implements it for SQLite and
// PostgreSQL; adapters/storetest holds both to it.
type Store interface {
	// Read runs fn in a read-only transaction with a consistent snapshot.
	Read(ctx context.Context, fn func(Reader) error) error
	// Write runs fn in one read-write transaction: all of fn's writes
	// commit together or not at all. fn may be run more than once when
	// the database asks for a retry.
	Write(ctx context.Context, fn func(Writer) error) error
	// Roll calls fn for every household of village registered on or
	// before day, in household id order, with what the rule reads as of
	// day (RollRow). It reads keyset pages, each in a short read
	// transaction of its own, so no snapshot is held across the roll; a
	// round stores what it read. An error from fn stops the walk and is
	// returned as is.
	Roll(ctx context.Context, village string, day household.Date, fn func(*RollRow) error) error
}

// RollRow is one household on the roll as the store has it.
type RollRow struct {
	Household string
	HeadName  string
	Group     int32
	// Shares are the collective shares of the facts version in force on
	// the day: the latest version dated (as_of) on or before it, or, for a
	// household whose facts were first recorded later, the first version.
	Shares decimal.Decimal
	// Entries are the household's ledger entries, all of them (Balances
	// picks what counts on the day).
	Entries []points.Entry
	// BlackLists are its posted or revoked 黑榜 listings.
	BlackLists []*evidence.Evidence
}

// RuleQuery selects a page of one village's rule versions, newest first.
type RuleQuery struct {
	Village string
	// Before is a keyset cursor: versions below it (0: from the newest).
	Before int
	Limit  int
}

// RoundQuery selects a page of one village's rounds, newest first.
type RoundQuery struct {
	Village string
	// Before is a keyset cursor: rounds with a smaller id ("" from the
	// newest).
	Before string
	Limit  int
}

// RowQuery selects a page of a round's rows in household id order.
type RowQuery struct {
	Round string
	// After is a keyset cursor: rows of larger household ids ("" from
	// the first).
	After string
	Limit int
	// PaidOnly leaves out rows of amount 0.
	PaidOnly bool
}

// Reader reads the dividend tables. Errors: a fault of kind NotFound
// when the named thing does not exist; anything else is Internal or
// Unavailable.
type Reader interface {
	// DividendRule returns version n of village's rule, with its text.
	DividendRule(ctx context.Context, village string, n int) (*RuleVersion, error)
	// ActiveDividendRule returns village's active version; NotFound when
	// it has none.
	ActiveDividendRule(ctx context.Context, village string) (*RuleVersion, error)
	// DividendRules returns a page of versions without their text.
	DividendRules(ctx context.Context, q RuleQuery) ([]*RuleVersion, error)
	// Round returns one round of village.
	Round(ctx context.Context, village, id string) (*Round, error)
	// RoundByRequest returns village's round created with request id.
	RoundByRequest(ctx context.Context, village, requestID string) (*Round, error)
	// LiveRound returns village's draft, on-notice or approved round of
	// the record date; NotFound when there is none.
	LiveRound(ctx context.Context, village string, recordDate household.Date) (*Round, error)
	// Rounds returns a page of rounds.
	Rounds(ctx context.Context, q RoundQuery) ([]*Round, error)
	// Rows returns a page of a round's rows.
	Rows(ctx context.Context, q RowQuery) ([]*Row, error)
	// RoundRow returns one household's row of a round; NotFound when the
	// household is not on the round's roll.
	RoundRow(ctx context.Context, round, household string) (*Row, error)
	// Objections returns a round's objections, oldest first; with
	// household set, only that household's.
	Objections(ctx context.Context, round, household string) ([]*Objection, error)
	// Objection returns one objection of a round.
	Objection(ctx context.Context, round, id string) (*Objection, error)
}

// Writer reads and writes within one transaction.
type Writer interface {
	Reader
	// Record appends an audit record that commits with this transaction.
	Record(ctx context.Context, r audit.Record) error
	// InsertDividendRule stores v; AlreadyExists when the village has the
	// version number.
	InsertDividendRule(ctx context.Context, v *RuleVersion) error
	// UpdateDividendRuleState stores v's state, activation and
	// supersession; NotFound when v does not exist, AlreadyExists when it
	// would make a second active version.
	UpdateDividendRuleState(ctx context.Context, v *RuleVersion) error
	// InsertRound stores a new round (Version 1) and its rows.
	// AlreadyExists when the village has the request id, or a live round
	// of the record date.
	InsertRound(ctx context.Context, r *Round, rows []*Row) error
	// UpdateRound stores r's workflow fields (state, review, notice,
	// approval, withdrawal, open objections) if the stored round is still
	// at r.Version, and bumps r.Version; FailedPrecondition
	// (CONCURRENT_CHANGE) when it has moved on. Nothing else ever changes.
	UpdateRound(ctx context.Context, r *Round) error
	// InsertObjection stores a new objection.
	InsertObjection(ctx context.Context, o *Objection) error
	// UpdateObjection stores o's state and resolution.
	UpdateObjection(ctx context.Context, o *Objection) error
}
