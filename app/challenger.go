package app

import (
	"context"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

// Challengers implements credit.Challengers: the product's current
// challenger version read on every call (one statement on the index of
// open designations, as ActivePolicies reads the active version), its
// parsed policy cached by version (a version's text never changes).
type Challengers struct {
	Store    *sqlstore.Store
	Policies *ActivePolicies
}

// Challenger implements credit.Challengers.
func (c Challengers) Challenger(ctx context.Context, bank, product string) (*rules.Policy, error) {
	n, err := c.Store.ChallengerVersion(ctx, bank, product)
	if err != nil || n == 0 {
		return nil, err
	}
	return c.Policies.Version(ctx, bank, product, n)
}
