package evidence

import (
	"context"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// Store is the evidence port: transactions over evidence, the points ledger
// and its per-household aggregate, and the domain-event outbox. It is
// implemented by adapters/sqlstore for SQLite and PostgreSQL and checked by
// the conformance suite in adapters/storetest.
type Store interface {
	// Read runs fn in a read-only transaction with a consistent snapshot.
	Read(ctx context.Context, fn func(Reader) error) error
	// Write runs fn in one read-write transaction: all of fn's writes
	// commit together or not at all. fn may run more than once when the
	// database asks for a retry, so it must not have effects outside the
	// transaction.
	Write(ctx context.Context, fn func(Writer) error) error
	// WriteGuarded is Write for a function whose every read is guarded by
	// a versioned write of this transaction: UpdateEvidence of evidence it
	// read, AppendEntries to a sheet it read. A store may run it at a
	// weaker isolation than Write (READ COMMITTED on PostgreSQL), where a
	// concurrent change surfaces as such a write failing with
	// CONCURRENT_CHANGE; it then runs fn again, as Write does after a
	// serialisation failure, and returns that error only when the
	// retries run out. So fn must not act on anything it read that no
	// such write checks, and may run more than once.
	WriteGuarded(ctx context.Context, fn func(Writer) error) error
	// HouseholdSheet returns the sheet of household id of village in one
	// statement outside any transaction (the hot read of GetPoints); an
	// empty sheet when it has no entries yet, NotFound when the household
	// does not exist or belongs to another village. The Entries may be
	// shared with other readers (a store may keep them for the same
	// version): read them, never modify them in place.
	HouseholdSheet(ctx context.Context, village, id string) (*Sheet, error)
}

// Sheet is a household's points aggregate: every ledger entry of the
// household, kept in the same transaction as the ledger rows, so that
// reading a balance is one primary-key read instead of a scan of the
// ledger. Version counts its writes.
type Sheet struct {
	Household string
	Village   string
	Entries   []points.Entry
	Version   int
}

// ListQuery selects evidence, newest first (by id, which is a UUIDv7).
// Empty fields do not filter.
type ListQuery struct {
	Village   string // required
	Household string
	Kind      Kind
	State     State
	ItemCode  string
	// OnNotice, when set, selects what is on the 公示 board that day:
	// posted evidence whose notice has not ended (NoticeEnd > OnNotice)
	// and disputed evidence. State is then ignored.
	OnNotice household.Date
	// Before is a keyset cursor: only ids below it ("" = from the newest).
	Before string
	Limit  int
}

// Total is one household's net for-credit points over some dates, for the
// village ranking.
type Total struct {
	Household string
	HeadName  string
	Group     int32
	Points    decimal.Decimal
}

// Event is a domain event written to the outbox in the transaction of the
// change that raised it. The lending side consumes them in Seq order.
type Event struct {
	Seq         int64 // assigned by the store
	ID          string
	Type        string // EventBlacklisted, EventBlacklistLifted
	Village     string
	Household   string
	EvidenceID  string
	EffectiveOn household.Date
	Time        time.Time
}

// The domain event types.
const (
	// EventBlacklisted: a 黑榜 listing of the household was posted.
	EventBlacklisted = "household.blacklisted"
	// EventBlacklistLifted: a posted 黑榜 listing was overturned or
	// revoked.
	EventBlacklistLifted = "household.blacklist_lifted"
)

// Reader reads evidence, sheets and events. Errors: a fault of kind
// NotFound when the thing does not exist; anything else is Internal or
// Unavailable.
type Reader interface {
	// Household returns household id of village; NotFound when it does not
	// exist or belongs to another village.
	Household(ctx context.Context, village, id string) (*household.Household, error)
	// Evidence returns one piece of evidence of a household of village.
	Evidence(ctx context.Context, village, householdID, id string) (*Evidence, error)
	// EvidenceByRequests returns the evidence of village submitted with
	// any of the request ids, keyed by request id (missing ids are simply
	// absent).
	EvidenceByRequests(ctx context.Context, village string, requestIDs []string) (map[string]*Evidence, error)
	// ListEvidence returns up to q.Limit pieces of evidence matching q,
	// newest first. An empty result is not an error.
	ListEvidence(ctx context.Context, q ListQuery) ([]*Evidence, error)
	// Sheet returns the household's aggregate; a household with no
	// entries yet has an empty sheet (Version 0), not NotFound.
	Sheet(ctx context.Context, householdID string) (*Sheet, error)
	// Totals returns every household of village with the net Points of
	// its for-credit award, deduction and reversal entries effective on
	// from..to inclusive (zero for a household with none), in household
	// id order.
	Totals(ctx context.Context, village string, from, to household.Date) ([]Total, error)
	// Events returns up to limit events with Seq > after, in Seq order.
	Events(ctx context.Context, after int64, limit int) ([]Event, error)
}

// Writer reads and writes within one transaction.
type Writer interface {
	Reader
	// Record appends an audit record that commits with this transaction.
	Record(ctx context.Context, r audit.Record) error
	// InsertEvidence stores e (Version 1). AlreadyExists when (village,
	// request id) is taken; the transaction stays usable.
	InsertEvidence(ctx context.Context, e *Evidence) error
	// SendEvidence stores e (Version 1) as InsertEvidence does, provided
	// e's household is still of e.Village and registered on registered
	// (what a submission checks, from a read that may be an earlier
	// transaction's), except that the store may send it with the
	// transaction's next statement or its commit: a submission is then
	// one round trip. A taken (village, request id) or a household not as
	// given is FailedPrecondition with reason EVIDENCE_NOT_SENT
	// (ReasonNotSent), from this call or from a later statement or the
	// commit, and the transaction must end: the caller returns the error
	// and nothing of the transaction is kept. e.Version is set to 1 at
	// once.
	SendEvidence(ctx context.Context, e *Evidence, registered household.Date) error
	// InsertEvidences stores each of es whose (village, request id) is not
	// taken, in as few statements as the engine allows, sets their Version
	// to 1 and returns the ids of those stored. Taken request ids are not
	// an error; the transaction stays usable to read them.
	InsertEvidences(ctx context.Context, es []*Evidence) (map[string]bool, error)
	// UpdateEvidence stores e's workflow fields (State, review, notice,
	// objection, resolution, revocation, CatalogueHash) and sets Version to
	// e.Version+1 where the stored Version is e.Version. FailedPrecondition
	// (reason CONCURRENT_CHANGE) when the stored version differs (a
	// concurrent change won); NotFound when e does not exist. On success e.Version is incremented.
	// For evidence read in the same transaction the store may send the
	// write with the transaction's next statement or its commit, as
	// AppendEntries says; e.Version is then incremented at once.
	UpdateEvidence(ctx context.Context, e *Evidence) error
	// AppendEntries appends entries (IDs and Household assigned) to the
	// ledger and stores s, whose Entries must already include them, as the
	// household's aggregate, where the stored Version is s.Version (0: none
	// stored yet). FailedPrecondition (reason CONCURRENT_CHANGE) when the
	// stored version differs, or when entries end s.Entries and the stored
	// sheet does not hold exactly the entries before them (the store may
	// then append only the new ones). s.Version is incremented. The store may send
	// the writes with the transaction's next statement or its commit, so
	// their errors (the version check's included) may come from there
	// instead, failing the whole transaction: the caller must not go on
	// with s after a failed transaction, only read it again.
	AppendEntries(ctx context.Context, s *Sheet, entries []points.Entry) error
	// AppendEvent writes ev to the outbox and sets its Seq. Other contexts
	// react to it in this transaction (the lending side freezes a
	// black-listed household's lines), so their writes commit with the
	// event or not at all; their errors are returned as they are.
	AppendEvent(ctx context.Context, ev *Event) error
}
