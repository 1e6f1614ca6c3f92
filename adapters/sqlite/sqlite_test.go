package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlite"
	"github.com/sanzhi/sanzhi/adapters/storetest"
)

func open(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), storetest.SQLitePath(t))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, db.Migrate(context.Background()))
	return db
}

func TestConformance(t *testing.T) {
	storetest.RunAll(t, storetest.Backend{
		Open:    func(t *testing.T) storetest.Store { return open(t).Store() },
		Intrude: storetest.SQLiteIntruder,
		Skip: map[string]string{
			"LendingClaimDueSkipsHeld": "one writer at a time: a second claim waits for the first to commit, " +
				"so two claims are never held at once and there is no held mark to skip",
		},
	})
}

func TestMigrateIsIdempotent(t *testing.T) {
	// From nothing, not from the run's migrated copy.
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, db.Migrate(context.Background()))
	require.NoError(t, db.Migrate(context.Background()))
	n, err := db.Pending(context.Background())
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestPathFromURL(t *testing.T) {
	p, err := sqlite.PathFromURL("sqlite://./sanzhi.db")
	require.NoError(t, err)
	require.Equal(t, "./sanzhi.db", p)
	p, err = sqlite.PathFromURL("sqlite:///var/lib/sanzhi.db")
	require.NoError(t, err)
	require.Equal(t, "/var/lib/sanzhi.db", p)
	for _, bad := range []string{"sqlite://", "postgres://x", "sqlite://x.db?mode=ro"} {
		_, err := sqlite.PathFromURL(bad)
		require.Error(t, err, bad)
	}
}

func TestOpenMissingDirectory(t *testing.T) {
	_, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "no", "such", "x.db"))
	require.ErrorContains(t, err, "does not exist")
}

// A path with URI punctuation opens the file it names: t.TempDir under a
// repeated subtest name ends in "#01".
func TestOpenPathWithURIPunctuation(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "a#1?b%20")
	require.NoError(t, os.Mkdir(dir, 0o700))
	path := filepath.Join(dir, "t.db")
	db, err := sqlite.Open(ctx, path)
	require.NoError(t, err)
	require.NoError(t, db.Migrate(ctx))
	require.NoError(t, db.Close())
	_, err = os.Stat(path)
	require.NoError(t, err, "the database is where the path says")
}

// Households registered before 00013_household_members get their head as
// member one (the migration before it is 00012 once both are merged;
// DownTo stops at whatever precedes 00013).
func TestMembersMigration(t *testing.T) {
	db := open(t)
	storetest.MembersMigration(t, db.Store(),
		func(ctx context.Context) error { return db.MigrateDownTo(ctx, 12) }, db.Migrate)
}

// Sheets read the same, in the same order, across 00024_sheet_newest_first
// down and up.
func TestSheetOrderMigration(t *testing.T) {
	db := open(t)
	storetest.SheetOrderMigration(t, db.Store(),
		func(ctx context.Context) error { return db.MigrateDownTo(ctx, 23) }, db.Migrate)
}
