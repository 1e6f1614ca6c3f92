package delivery

import (
	"context"
	"strconv"
	"time"

	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/resource"
)

// Store is the webhook port: endpoints with their delivery state, the
// dead-letter list, and read access to the line event outbox. It is
// implemented by adapters/sqlstore for SQLite and PostgreSQL.
//
// Errors, for every method: a fault of kind NotFound when the thing asked
// for does not exist, AlreadyExists where stated, otherwise Internal or
// Unavailable; context errors are returned as they are.
type Store interface {
	// Read runs fn in a read-only transaction.
	Read(ctx context.Context, fn func(Reader) error) error
	// Write runs fn in one read-write transaction. fn may run more than
	// once, so it must not have effects outside the transaction.
	Write(ctx context.Context, fn func(Writer) error) error
}

// Reader reads webhook state.
type Reader interface {
	// Endpoint returns the bank's endpoint.
	Endpoint(ctx context.Context, bank string) (*Endpoint, error)
	// DueEndpoints returns up to limit banks whose endpoint, at now, is
	// not leased, is due for its next attempt and has events after its
	// cursor, the longest due first.
	DueEndpoints(ctx context.Context, now time.Time, limit int) ([]string, error)
	// LineEvents returns up to limit events of bank with Seq > after, in
	// Seq order (credit.Reader's method of the same name).
	LineEvents(ctx context.Context, bank string, after int64, limit int) ([]*credit.LineEvent, error)
	// Consents and LineByID are credit.Reader's: judging an event's
	// delivery (credit.ForDelivery) reads them.
	credit.EventReader
	// LineEventHead returns the highest Seq of the bank's events, 0 when
	// it has none.
	LineEventHead(ctx context.Context, bank string) (int64, error)
	// DeadLetter returns one dead letter.
	DeadLetter(ctx context.Context, bank string, seq int64) (*DeadLetter, error)
	// DeadLetters returns up to limit of the bank's dead letters with
	// Seq < before (any when before is 0), highest Seq first.
	DeadLetters(ctx context.Context, bank string, before int64, limit int) ([]*DeadLetter, error)
}

// Writer reads and writes within one transaction.
type Writer interface {
	Reader
	// Record appends an audit record that commits with this transaction.
	Record(ctx context.Context, r audit.Record) error
	// InsertEndpoint stores a new endpoint; AlreadyExists when the bank
	// has one.
	InsertEndpoint(ctx context.Context, e *Endpoint) error
	// UpdateEndpoint stores e's configuration (URL, secrets, updated by
	// and update time) and resets its retry state (attempts, next attempt
	// time, last error) to e's; the cursor and lease are left alone.
	UpdateEndpoint(ctx context.Context, e *Endpoint) error
	// ClaimEndpoint leases the bank's endpoint to owner until until when,
	// at now, it is due and its lease has run out; false when it is not
	// (another instance holds it, or it is not due).
	ClaimEndpoint(ctx context.Context, bank, owner string, now, until time.Time) (bool, error)
	// UpdateDelivery stores e's delivery state (cursor, attempts, next
	// attempt time, last error, lease owner and until) where owner holds
	// the lease and the stored cursor is prevCursor; false otherwise (the
	// lease was lost, so the new holder's state is left alone).
	UpdateDelivery(ctx context.Context, e *Endpoint, owner string, prevCursor int64) (bool, error)
	// InsertDeadLetter stores d; AlreadyExists when (bank, seq) is taken.
	InsertDeadLetter(ctx context.Context, d *DeadLetter) error
	// MarkReplayed sets the dead letter's replay time and replayer.
	MarkReplayed(ctx context.Context, bank string, seq int64, at time.Time, by string) error
}

// Endpoint is a bank's webhook: where to deliver, the sealed secrets, and
// how far delivery has got.
type Endpoint struct {
	Bank string
	URL  string
	// Secret is the signing secret sealed under the data keyring with
	// SecretContext(Bank).
	Secret pii.Sealed
	// Previous is the secret a rotation replaced, still signing beside
	// Secret until PreviousUntil; nil when there is none.
	Previous      *pii.Sealed
	PreviousUntil *time.Time
	// Cursor is the Seq of the last event delivered or dead-lettered.
	Cursor int64
	// Attempts counts failed attempts at the event after Cursor, which is
	// tried again at NextAttemptTime; LastError says why the last failed.
	Attempts        int
	NextAttemptTime time.Time
	LastError       string
	// LeaseOwner is the dispatcher instance delivering until LeaseUntil.
	LeaseOwner string
	LeaseUntil time.Time
	CreatedBy  string
	CreateTime time.Time
	UpdatedBy  string
	UpdateTime time.Time
}

// Name is the endpoint's resource name.
func (e *Endpoint) Name() string { return EndpointName(e.Bank) }

// EndpointName is the resource name of the bank's webhook.
func EndpointName(bank string) string { return resource.Bank(bank) + "/webhook" }

// SecretContext binds a sealed secret to its bank, so that a ciphertext
// copied onto another bank's row fails to open.
func SecretContext(bank string) []byte { return []byte("webhook:" + bank) }

// DeadLetter is an event given up on after the last attempt.
type DeadLetter struct {
	Bank       string
	Seq        int64
	EventID    string
	EventType  string
	Attempts   int
	LastError  string
	DeadTime   time.Time
	ReplayTime *time.Time // the last successful replay
	ReplayedBy string
}

// Name is the dead letter's resource name.
func (d *DeadLetter) Name() string {
	return EndpointName(d.Bank) + "/deadLetters/" + strconv.FormatInt(d.Seq, 10)
}
