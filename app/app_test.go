package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// TestReactionsCommitWithTheirCause holds the store to the unit of work the
// lending reactions rely on: what a reaction writes through the lending
// writer it is handed commits with the village-side change, and a reaction
// that fails rolls the change back. Both engines.
func TestReactionsCommitWithTheirCause(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		boom := errors.New("reaction failed")
		var fail bool
		mark := func(ctx context.Context, lend credit.Writer, subject string) error {
			if err := lend.Record(ctx, audit.Record{Time: time.Now().UTC(), Actor: "test", Action: "test.reaction", Subject: subject}); err != nil {
				return err
			}
			if fail {
				return boom
			}
			return nil
		}
		st.React(sqlstore.Reactions{
			Evidence: func(ctx context.Context, lend credit.Writer, ev *evidence.Event) error { return mark(ctx, lend, ev.ID) },
			Facts: func(ctx context.Context, lend credit.Writer, h *household.Household, _ household.Facts) error {
				return mark(ctx, lend, h.ID)
			},
		})
		queued := func() int64 {
			n, err := st.QueueLength(ctx)
			require.NoError(t, err)
			return n
		}
		events := func() int {
			var n int
			require.NoError(t, st.Evidence().Read(ctx, func(tx evidence.Reader) error {
				evs, err := tx.Events(ctx, 0, 100)
				n = len(evs)
				return err
			}))
			return n
		}
		appendEvent := func() error {
			return st.Evidence().Write(ctx, func(tx evidence.Writer) error {
				return tx.AppendEvent(ctx, &evidence.Event{ID: uuid.NewString(), Type: evidence.EventBlacklisted,
					Village: "330483102215", Household: uuid.NewString(), EvidenceID: uuid.NewString(), Time: time.Now().UTC()})
			})
		}
		factsChanged := func() error {
			return st.Households().Write(ctx, func(tx household.Writer) error {
				return tx.FactsChanged(ctx, &household.Household{ID: uuid.NewString()}, household.Facts{})
			})
		}

		// Success: the event and the reaction's record, together.
		q0 := queued()
		require.NoError(t, appendEvent())
		assert.Equal(t, 1, events())
		assert.Equal(t, q0+1, queued())
		require.NoError(t, factsChanged())
		assert.Equal(t, q0+2, queued())

		// Failure: the reaction's error is the write's, and neither the
		// event nor the reaction's record is kept.
		fail = true
		assert.ErrorIs(t, appendEvent(), boom)
		assert.Equal(t, 1, events(), "the event rolled back with its reaction")
		assert.ErrorIs(t, factsChanged(), boom)
		assert.Equal(t, q0+2, queued(), "no reaction record survives a rollback")
	})
}

// TestNewJoinsTheContexts checks what New promises every transport: all
// services built, the audit log only with a signing key, and no store no
// app.
func TestNewJoinsTheContexts(t *testing.T) {
	_, err := app.New(app.Deps{})
	require.Error(t, err)
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		a, err := app.New(app.Deps{Store: st})
		require.NoError(t, err)
		assert.NotNil(t, a.Households)
		assert.NotNil(t, a.Catalogues)
		assert.NotNil(t, a.Evidence)
		assert.NotNil(t, a.Policies)
		assert.NotNil(t, a.Lending)
		assert.NotNil(t, a.Webhooks)
		assert.NotNil(t, a.Reassessor)
		assert.NotNil(t, a.Simulator)
		assert.Nil(t, a.Audit, "no signing key, no log")
		skey, _, err := audit.GenerateKey("sanzhi.test/app")
		require.NoError(t, err)
		a, err = app.New(app.Deps{Store: st, AuditKey: skey})
		require.NoError(t, err)
		assert.NotNil(t, a.Audit)
		_, err = app.New(app.Deps{Store: st, AuditKey: "not a key"})
		require.Error(t, err)
	})
}
