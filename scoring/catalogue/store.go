package catalogue

import (
	"context"

	"github.com/sanzhi/sanzhi/audit"
)

// Store is the catalogue port: transactions over the stored versions. It
// is implemented by adapters/sqlstore for SQLite and PostgreSQL and checked
// by the conformance suite in adapters/storetest.
type Store interface {
	// Read runs fn in a read-only transaction with a consistent snapshot.
	Read(ctx context.Context, fn func(Reader) error) error
	// Write runs fn in one read-write transaction: all of fn's writes commit
	// together or not at all. fn may be run more than once when the database
	// asks for a retry, so it must not have effects outside the transaction.
	Write(ctx context.Context, fn func(Writer) error) error
}

// ListQuery selects a page of one owner's versions, newest first.
type ListQuery struct {
	Owner Owner
	// Before is a keyset cursor: only versions below it (0 = from the
	// newest).
	Before int
	Limit  int
}

// Reader reads catalogue versions. Errors: a fault of kind NotFound when
// the version does not exist; anything else is Internal or Unavailable.
type Reader interface {
	// CatalogueVersion returns version n of o's document.
	CatalogueVersion(ctx context.Context, o Owner, n int) (*Version, error)
	// ActiveCatalogue returns o's active version; NotFound when o has
	// none.
	ActiveCatalogue(ctx context.Context, o Owner) (*Version, error)
	// CatalogueVersions returns up to q.Limit versions of q.Owner below
	// q.Before, newest first, without their Document text. An empty
	// result is not an error.
	CatalogueVersions(ctx context.Context, q ListQuery) ([]*Version, error)
}

// Writer reads and writes catalogue versions within one transaction.
type Writer interface {
	Reader
	// Record appends an audit record that commits with this transaction.
	Record(ctx context.Context, r audit.Record) error
	// InsertCatalogueVersion stores v. AlreadyExists when the owner already
	// has that version number.
	InsertCatalogueVersion(ctx context.Context, v *Version) error
	// UpdateCatalogueState stores v's State, ActivatedBy, ActivateTime and
	// SupersedeTime; nothing else of a version ever changes. NotFound when
	// v does not exist; AlreadyExists when it would make a second active
	// version of the owner.
	UpdateCatalogueState(ctx context.Context, v *Version) error
}
