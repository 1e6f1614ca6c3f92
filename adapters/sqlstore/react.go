package sqlstore

import (
	"context"

	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// Reactions are the writes another context makes in the transaction of a
// village-side event: the store is the unit of work, so it hands each
// reaction the lending writer of the same transaction, typed, and the
// freeze commits or rolls back with the event that caused it. The rules
// themselves live with their owners (app installs the lending ones).
type Reactions struct {
	// Evidence runs after an evidence event is appended.
	Evidence func(ctx context.Context, lend credit.Writer, ev *evidence.Event) error
	// Facts runs when a household's facts version replaces prev.
	Facts func(ctx context.Context, lend credit.Writer, h *household.Household, prev household.Facts) error
}

// React installs r for every later write transaction. Call it once, before
// the store is shared: transactions read it without a lock.
func (s *Store) React(r Reactions) { s.react = r }

// FactsChanged implements household.Writer: it runs the Facts reaction.
func (tx *Tx) FactsChanged(ctx context.Context, h *household.Household, prev household.Facts) error {
	if tx.react == nil || tx.react.Facts == nil {
		return nil
	}
	return tx.react.Facts(ctx, tx, h, prev)
}

// evidenceEvent runs the Evidence reaction for an appended event.
func (tx *Tx) evidenceEvent(ctx context.Context, ev *evidence.Event) error {
	if tx.react == nil || tx.react.Evidence == nil {
		return nil
	}
	return tx.react.Evidence(ctx, tx, ev)
}
