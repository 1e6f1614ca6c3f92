package shop

import (
	"context"

	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// Store is the shop's port, implemented by adapters/sqlstore for SQLite
// and PostgreSQL and held to it by the conformance suite
// (adapters/storetest).
//
// Errors, for every method: a fault of kind NotFound when the thing asked
// for does not exist, the kinds stated below, and otherwise Internal or
// Unavailable; context errors are returned as they are.
type Store interface {
	// Read runs fn in a read-only transaction with a consistent snapshot.
	Read(ctx context.Context, fn func(Reader) error) error
	// Write runs fn in one read-write transaction meant for counters
	// (stock, points): fn locks what it changes (LockSheet, LockGood)
	// before reading it. On PostgreSQL it runs at READ COMMITTED, so that
	// concurrent redemptions of the last items queue on the row locks
	// instead of aborting each other, and a locking read sees the latest
	// commit. fn may run more than once (deadlocks are retried), so it must
	// not have effects outside the transaction.
	Write(ctx context.Context, fn func(Writer) error) error
}

// ReceiptQuery selects receipts, newest first (by id, a UUIDv7).
type ReceiptQuery struct {
	Village   string // required
	Household string // "" for the whole village
	// From and To bound Day, inclusive; "" does not bound.
	From, To household.Date
	// Before is a keyset cursor: only ids below it ("" = from the newest).
	Before string
	Limit  int
}

// Reader reads the shop.
type Reader interface {
	// Household returns household id of village; NotFound when it does
	// not exist or belongs to another village.
	Household(ctx context.Context, village, id string) (*household.Household, error)
	// Good returns one good (archived or not); NotFound (GOOD_NOT_FOUND).
	Good(ctx context.Context, village, code string) (*Good, error)
	// Goods returns the village's goods by code, the archived ones only
	// when archived is true.
	Goods(ctx context.Context, village string, archived bool) ([]*Good, error)
	// Receipt returns one receipt of a household of village; NotFound
	// (RECEIPT_NOT_FOUND).
	Receipt(ctx context.Context, village, householdID, id string) (*Receipt, error)
	// ReceiptByRequest returns the household's receipt made under
	// requestID, or nil without error when there is none.
	ReceiptByRequest(ctx context.Context, householdID, requestID string) (*Receipt, error)
	// Receipts returns up to q.Limit receipts matching q, newest first.
	Receipts(ctx context.Context, q ReceiptQuery) ([]*Receipt, error)
	// ArrivalByRequest returns the village's arrival recorded under
	// requestID, or nil without error.
	ArrivalByRequest(ctx context.Context, village, requestID string) (*Arrival, error)
	// Arrivals returns the village's arrivals with Day in from..to
	// inclusive, of one good when code is not "", oldest first.
	Arrivals(ctx context.Context, village, code string, from, to household.Date) ([]*Arrival, error)
}

// Writer reads and writes within one transaction.
type Writer interface {
	Reader
	// Record appends an audit record that commits with this transaction.
	Record(ctx context.Context, r audit.Record) error
	// InsertGood stores g (Version 1, the stock given). AlreadyExists
	// (GOOD_EXISTS) when the village has a good of that code; the
	// transaction stays usable.
	InsertGood(ctx context.Context, g *Good) error
	// LockGood returns the good as last committed and locks it until the
	// transaction ends; NotFound (GOOD_NOT_FOUND).
	LockGood(ctx context.Context, village, code string) (*Good, error)
	// UpdateGood stores g's catalogue fields (names, unit, price,
	// archived, UpdateTime) and sets Version to g.Version+1 where the
	// stored version is g.Version; it never touches the stock.
	// FailedPrecondition (CONCURRENT_CHANGE) when the version differs. On
	// success g.Version is incremented.
	UpdateGood(ctx context.Context, g *Good) error
	// AddStock stores a (its StockAfter set here) and adds a.Quantity to
	// the good's stock in the same transaction. FailedPrecondition
	// (STOCK_LIMIT) when the stock would pass MaxStock.
	AddStock(ctx context.Context, a *Arrival) error
	// TakeStock lowers the good's stock by n only where at least n are
	// there, in one conditional statement, and returns the stock left.
	// FailedPrecondition (INSUFFICIENT_STOCK) when fewer than n are
	// there: nothing is changed, and the transaction stays usable.
	TakeStock(ctx context.Context, village, code string, n int64) (left int64, err error)
	// LockSheet returns the household's points sheet as last committed
	// and locks it until the transaction ends (an empty sheet, Version
	// 0, when it has no entries yet).
	LockSheet(ctx context.Context, householdID string) (*evidence.Sheet, error)
	// AppendEntries appends entries to the household's ledger and stores
	// s as its sheet (evidence.Writer.AppendEntries, the same contract).
	AppendEntries(ctx context.Context, s *evidence.Sheet, entries []points.Entry) error
	// InsertReceipt stores r. AlreadyExists (RECEIPT_EXISTS) when the
	// household has a receipt of r.RequestID.
	InsertReceipt(ctx context.Context, r *Receipt) error
}
