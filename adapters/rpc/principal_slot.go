package rpc

import (
	"context"

	"github.com/sanzhi/sanzhi/access"
)

// The logging interceptor runs outside authentication, so it cannot read the
// principal from its own context. Authentication writes the principal's id
// into a slot that logging placed in the context.
type slotKey struct{}

type principalSlot struct{ id string }

func withPrincipalSlot(ctx context.Context) context.Context {
	return context.WithValue(ctx, slotKey{}, &principalSlot{})
}

func fillSlot(ctx context.Context, p *access.Principal) {
	if s, ok := ctx.Value(slotKey{}).(*principalSlot); ok {
		s.id = p.Name
	}
}

func principalOf(ctx context.Context) string {
	if s, ok := ctx.Value(slotKey{}).(*principalSlot); ok {
		return s.id
	}
	return ""
}
