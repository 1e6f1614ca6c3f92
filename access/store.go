package access

import (
	"context"
	"time"
)

// Store keeps principals and the hashes of their API keys. Errors: a fault
// of kind NotFound for an unknown key or name, AlreadyExists for a taken
// name or key hash.
type Store interface {
	// CreatePrincipal stores p with the SHA-256 hash of its API key.
	CreatePrincipal(ctx context.Context, p *Principal, keyHash []byte) error
	// PrincipalByKey returns the principal (revoked or not) holding the key
	// with this hash.
	PrincipalByKey(ctx context.Context, keyHash []byte) (*Principal, error)
	// PrincipalByName returns the named principal (used for mTLS, where the
	// certificate's common name is the principal's name).
	PrincipalByName(ctx context.Context, name string) (*Principal, error)
	// ListPrincipals returns every principal in creation order.
	ListPrincipals(ctx context.Context) ([]*Principal, error)
	// RevokePrincipal marks the named principal revoked at t; revoking twice
	// keeps the first time.
	RevokePrincipal(ctx context.Context, name string, t time.Time) error
	// PutBank stores the bank's names, replacing those it had.
	PutBank(ctx context.Context, b *Bank) error
	// Banks returns every bank with a name, by id.
	Banks(ctx context.Context) ([]*Bank, error)
}
