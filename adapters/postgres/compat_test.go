package postgres_test

import (
	"testing"

	"github.com/sanzhi/sanzhi/adapters/postgres/pgtest"
	"github.com/sanzhi/sanzhi/adapters/storetest"
)

// TestConformanceCompat runs the storage conformance suite against the
// PostgreSQL-compatible engine whose DSN is in SANZHI_TEST_PG_COMPAT
// (`make conformance DSN=…`; docs/SCALE.md), each test in a schema of its
// own migrated from nothing, so the engine needs neither template
// databases nor the right to create databases. Unset, it skips: it runs
// where someone names an engine. TestConformance holds PostgreSQL to the
// same suite by the template path on every run.
func TestConformanceCompat(t *testing.T) {
	dsn := pgtest.CompatURL()
	if dsn == "" {
		t.Skipf("set %s to the DSN of a PostgreSQL-compatible engine to run the conformance suite against it", pgtest.CompatEnv)
	}
	storetest.RunAll(t, storetest.Backend{
		Open: func(t *testing.T) storetest.Store { return pgtest.NewSchemaDB(t, dsn).Store() },
		Intrude: func(t *testing.T) storetest.Intruder {
			return storetest.PostgresIntruderAt(t, pgtest.NewSchemaURL(t, dsn))
		},
	})
}
