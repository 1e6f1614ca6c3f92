package postgres_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/postgres"
	"github.com/sanzhi/sanzhi/adapters/postgres/pgtest"
	"github.com/sanzhi/sanzhi/adapters/storetest"
)

// The suite runs as the service runs in production: as the app role of
// deploy/postgres/roles.sql, without DDL rights and with only INSERT and
// SELECT on the append-only tables, so a store statement that needs more
// than the script grants fails here rather than in a county's database.
func TestConformance(t *testing.T) {
	storetest.RunAll(t, storetest.Backend{
		Open: func(t *testing.T) storetest.Store {
			db, err := postgres.Open(context.Background(), pgtest.NewRoles(t).App)
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			return db.Store()
		},
		Intrude: storetest.PostgresAppIntruder,
	})
}

func TestMigrateIsIdempotent(t *testing.T) {
	db := pgtest.NewDB(t) // already migrated from the template
	require.NoError(t, db.Migrate(context.Background()))
	n, err := db.Pending(context.Background())
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestOpenRefusesClearly(t *testing.T) {
	ctx := context.Background()
	_, err := postgres.Open(ctx, "postgres://u:secret@[::1")
	require.ErrorContains(t, err, "malformed")
	require.NotContains(t, err.Error(), "secret")

	_, err = postgres.Open(ctx, "postgres://postgres:secret@127.0.0.1:1/x?sslmode=disable&connect_timeout=2")
	require.ErrorContains(t, err, "cannot reach PostgreSQL at 127.0.0.1:1")
	require.NotContains(t, err.Error(), "secret")
}

// Households registered before 00012_household_members get their head as
// member one.
func TestMembersMigration(t *testing.T) {
	db := pgtest.NewDB(t)
	storetest.MembersMigration(t, db.Store(),
		func(ctx context.Context) error { return db.MigrateDownTo(ctx, 11) }, db.Migrate)
}

// Sheets read the same, in the same order, across 00025_sheet_newest_first
// down and up.
func TestSheetOrderMigration(t *testing.T) {
	db := pgtest.NewDB(t)
	storetest.SheetOrderMigration(t, db.Store(),
		func(ctx context.Context) error { return db.MigrateDownTo(ctx, 24) }, db.Migrate)
}

// household_points keeps entries before the columns a posting changes, and
// tail last: PostgreSQL logs an update on its page as the bytes between
// the old and new rows' common start and common end, so in any other
// order a posting would log the sheet stored in the row, or the whole
// tail (00025_sheet_newest_first).
func TestSheetColumnOrder(t *testing.T) {
	db := pgtest.NewDB(t)
	rows, err := db.Pool().Query(context.Background(), `SELECT column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'household_points' ORDER BY ordinal_position`)
	require.NoError(t, err)
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{"household_id", "village_code", "entries", "version", "entry_count", "tail"}, cols)
}

// NUMERIC results come back as PostgreSQL's text (textNumeric), which
// sqlstore's money scans without pgx's detour through math/big, and as
// the exact value at its stored scale.
func TestNumericResultsAreText(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t)
	rows, err := db.Pool().Query(ctx, `SELECT 12.50::numeric(18, 2), -0.0001::numeric, 123456789012345678901234567890.125::numeric, 0::numeric(18, 2)`)
	require.NoError(t, err)
	defer rows.Close()
	require.True(t, rows.Next())
	for i, f := range rows.FieldDescriptions() {
		require.Equal(t, int16(pgtype.TextFormatCode), f.Format, "column %d", i+1)
	}
	got := make([]sql.NullString, 4)
	require.NoError(t, rows.Scan(&got[0], &got[1], &got[2], &got[3]))
	require.Equal(t, []sql.NullString{{String: "12.50", Valid: true}, {String: "-0.0001", Valid: true},
		{String: "123456789012345678901234567890.125", Valid: true}, {String: "0.00", Valid: true}}, got)
}

// Since 00023 a line's decision is checked by statement triggers, not a
// foreign key; what the key refused on the decisions' side is refused
// still, for a role that may delete (the app may not): removing or
// renumbering a decision a line names. Changing anything else of it is a
// matter for the grants and the replay, not this check.
func TestDecisionNamedByLine(t *testing.T) {
	b := storetest.PostgresAppIntruder(t)
	lineID, decisionID := storetest.OpenLine(t, b.Store)
	for _, q := range []string{
		`DELETE FROM credit_decisions WHERE id = $1`,
		`UPDATE credit_decisions SET id = id || '-moved' WHERE id = $1`,
	} {
		err := b.Try(q, decisionID)
		var pgErr *pgconn.PgError
		require.ErrorAs(t, err, &pgErr, q)
		require.Equal(t, "23503", pgErr.Code, q)
		require.Equal(t, "credit_lines_decision_id_fkey", pgErr.ConstraintName, q)
		require.Contains(t, pgErr.Detail, decisionID, q)
	}
	require.NoError(t, b.Try(`UPDATE credit_decisions SET score = score WHERE id = $1`, decisionID))
	// With the line gone, so may the decision be.
	require.NoError(t, b.Try(`DELETE FROM credit_lines WHERE id = $1`, lineID))
	require.NoError(t, b.Try(`DELETE FROM credit_decisions WHERE id = $1`, decisionID))
}

// TestLineUpdatesStayOnTheirPage: migration 00024 leaves room on each page
// of credit_lines, so a line's update that changes no indexed column
// writes its new version on the same page (a heap-only tuple, no index
// entries). Filled to the brim, 500 lines take several pages, and their
// updates move to other pages.
func TestLineUpdatesStayOnTheirPage(t *testing.T) {
	b := storetest.PostgresAppIntruder(t)
	_, decisionID := storetest.OpenLine(t, b.Store)
	require.NoError(t, b.Try(`INSERT INTO credit_lines (id, bank, product, village_code, household_id, limit_amount,
			drawn, rate, exposure_cap, status, valid_until, decision_id, version, open_time, update_time)
		SELECT 'fill-' || g, 'fill-bank', 'fill-product', '330483102215', 'fill-household-' || g, 50000, 0,
			0.0435, 300000, 'active', DATE '2027-03-01', $1, 1, now(), now()
		FROM generate_series(1, 500) g`, decisionID))
	// The check runs in the server: Intruder only executes. Every line is
	// updated at once, in the columns a re-assessment's update sets.
	require.NoError(t, b.Try(`DO $$
	DECLARE pages int; moved int;
	BEGIN
		CREATE TEMP TABLE fill_before AS
			SELECT id, (ctid::text::point)[0] AS page FROM credit_lines WHERE bank = 'fill-bank';
		SELECT count(DISTINCT page) INTO pages FROM fill_before;
		IF pages < 2 THEN RAISE EXCEPTION '500 lines on % page(s): too few to fill one', pages; END IF;
		UPDATE credit_lines SET limit_amount = 60000, rate = 0.04, version = version + 1, update_time = now()
			WHERE bank = 'fill-bank';
		SELECT count(*) INTO moved FROM credit_lines l JOIN fill_before f USING (id)
			WHERE (l.ctid::text::point)[0] <> f.page;
		IF moved > 0 THEN RAISE EXCEPTION '% of 500 updated lines moved to another page', moved; END IF;
	END $$`))
}
