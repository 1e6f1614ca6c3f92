package photo

import "context"

// Store is the photo port, implemented by adapters/sqlstore for SQLite and
// PostgreSQL and checked by adapters/storetest.
type Store interface {
	// Put stores p. A photo is named by its content: when one with the
	// same SHA256 is stored, Put changes nothing and succeeds.
	Put(ctx context.Context, p *Photo) error
	// Get returns the photo named sha; with full false only its thumbnail
	// is read (Bytes is nil). NotFound when there is none.
	Get(ctx context.Context, sha string, full bool) (*Photo, error)
	// Stored returns which of shas are stored. Evidence recorded through
	// the API names photos kept elsewhere (the village's own files):
	// pages show a thumbnail only where there is one.
	Stored(ctx context.Context, shas []string) (map[string]bool, error)
}

// Writer puts a photo in a transaction of another port's, so that it
// commits or rolls back with the evidence that records it. The store's
// evidence transactions implement it.
type Writer interface {
	PutPhoto(ctx context.Context, p *Photo) error
}
