package server

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlite"
)

// TestReadiness walks /readyz's checks through a start and a stop on a
// real SQLite database: nothing is ready before the database is open,
// the schema migrated, the sequencer run and the service serving; a
// sequencer silent for longer than its bound, a stop and a closed
// database each make it unready again, named in the report.
func TestReadiness(t *testing.T) {
	ctx := context.Background()
	clock := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	r := newReadiness(30*time.Second, func() time.Time { return clock })
	check := func() readyReport {
		t.Helper()
		rep := r.check(ctx)
		assert.Equal(t, len(rep.Failing) == 0, rep.Ready)
		require.Len(t, rep.Checks, 4)
		return rep
	}
	errorOf := func(rep readyReport, name string) string {
		for _, c := range rep.Checks {
			if c.Name == name {
				return c.Error
			}
		}
		t.Fatalf("no check %s", name)
		return ""
	}
	rep := check()
	assert.Equal(t, []string{"serving", "database", "migrations", "sequencer"}, rep.Failing, "before anything is up")
	assert.Equal(t, "starting", errorOf(rep, "serving"))

	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "r.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	var published time.Time
	r.attach(db, func() time.Time { return published })
	rep = check()
	assert.Equal(t, []string{"serving", "migrations", "sequencer"}, rep.Failing, "the database answers")
	assert.Regexp(t, `^\d+ migration\(s\) pending`, errorOf(rep, "migrations"))
	assert.Contains(t, errorOf(rep, "sequencer"), "has not published")

	require.NoError(t, db.Migrate(ctx))
	published = clock
	rep = check()
	assert.Equal(t, []string{"serving"}, rep.Failing, "a pending schema is looked at again at once")
	r.set(stateServing)
	rep = check()
	assert.True(t, rep.Ready)
	assert.Empty(t, rep.Failing)

	clock = clock.Add(31 * time.Second)
	rep = check()
	assert.Equal(t, []string{"sequencer"}, rep.Failing)
	assert.Contains(t, errorOf(rep, "sequencer"), "last succeeded 31s ago")
	published = clock
	assert.True(t, check().Ready, "the sequencer ran again")

	r.set(stateStopping)
	rep = check()
	assert.Equal(t, []string{"serving"}, rep.Failing)
	assert.Equal(t, "shutting down", errorOf(rep, "serving"))
	r.set(stateServing)
	require.NoError(t, db.Close())
	rep = check()
	assert.Equal(t, []string{"database", "migrations"}, rep.Failing)
	assert.Contains(t, errorOf(rep, "database"), "does not answer a ping")
	assert.Contains(t, errorOf(rep, "migrations"), "not checked")
}
