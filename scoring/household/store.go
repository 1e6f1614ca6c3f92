package household

import (
	"context"

	"github.com/sanzhi/sanzhi/audit"
)

// Store is the household port: transactions over the household tables. It
// is implemented by adapters/sqlstore for SQLite and PostgreSQL and checked
// by the conformance suite in adapters/storetest.
type Store interface {
	// Read runs fn in a read-only transaction with a consistent snapshot.
	Read(ctx context.Context, fn func(Reader) error) error
	// Write runs fn in one read-write transaction: all of fn's writes commit
	// together or not at all. fn may be run more than once when the database
	// asks for a retry (serialisation failure, busy), so it must not have
	// effects outside the transaction.
	Write(ctx context.Context, fn func(Writer) error) error
}

// Reader reads households. Errors: a fault of kind NotFound when the
// household does not exist; anything else is Internal or Unavailable.
type Reader interface {
	// Household returns the household id of village with its latest facts
	// and the members of that version (as every read of a household does;
	// a household stored before members were kept has none).
	// A household of another village is NotFound.
	Household(ctx context.Context, village, id string) (*Household, error)
	// HouseholdByIndex returns the household whose head has the blind index.
	HouseholdByIndex(ctx context.Context, index []byte) (*Household, error)
	// HouseholdByRequest returns the household created by a request id in a
	// village, with the fingerprint of that request.
	HouseholdByRequest(ctx context.Context, village, requestID string) (*Household, string, error)
	// Households returns up to q.Limit households with id > q.AfterID in id
	// order. An empty result is not an error.
	Households(ctx context.Context, q ListQuery) ([]*Household, error)
	// FactsHistory returns up to limit facts versions of a household, newest
	// first, with version < before (0 = from the latest).
	FactsHistory(ctx context.Context, householdID string, before int64, limit int) ([]Facts, error)
}

// Writer reads and writes households within one transaction.
type Writer interface {
	Reader
	// Record appends an audit record that commits with this transaction.
	Record(ctx context.Context, r audit.Record) error
	// InsertHousehold stores h, h.Facts (as version 1) and h.Members. AlreadyExists when
	// the head's index or the (village, request id) pair is taken; the
	// transaction stays usable, so the caller can read to explain why.
	InsertHousehold(ctx context.Context, h *Household, requestID, requestHash string) error
	// UpdateHousehold stores h's registration fields, latest facts version
	// and update time; the head member's name follows the head's name in
	// every version (the name is not versioned). NotFound when h does not
	// exist.
	UpdateHousehold(ctx context.Context, h *Household) error
	// InsertFacts appends a facts version. AlreadyExists when the version
	// exists (a concurrent update won).
	InsertFacts(ctx context.Context, householdID string, f Facts) error
	// InsertMembers stores ms as the members of a facts version (inserted
	// before). Every version carries its whole member list.
	InsertMembers(ctx context.Context, householdID string, version int64, ms []Member) error
	// MaxMemberNumber returns the highest member number the household has
	// ever used (0 when none), so a number is never given to two people.
	MaxMemberNumber(ctx context.Context, householdID string) (int32, error)
	// FactsChanged announces, in this transaction, that h's facts (as
	// inserted) replaced prev. Other contexts react to it here (the
	// lending side freezes the lines of a household newly flagged a
	// dishonest debtor, 失信被执行人), so their writes commit with the
	// facts or not at all; their errors are returned as they are.
	FactsChanged(ctx context.Context, h *Household, prev Facts) error
}
