// Package pgtest gives each test its own migrated PostgreSQL database,
// cloned from a template that is migrated once per schema version, so tests
// run against real PostgreSQL in isolation without paying for migrations
// every time.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sanzhi/sanzhi/adapters/postgres"
)

// DefaultURL is used when SANZHI_TEST_POSTGRES is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// URL returns the admin connection URL for tests.
func URL() string {
	if u := os.Getenv("SANZHI_TEST_POSTGRES"); u != "" {
		return u
	}
	return DefaultURL
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error

	builtMu sync.Mutex
	built   = map[string]*builtTemplate{}
)

// builtTemplate is a database a test binary filled once (NewURLFrom) and
// clones for each test that asks.
type builtTemplate struct {
	once sync.Once
	name string
	err  error
}

// NewDB returns a freshly cloned, migrated database, dropped when t ends.
// When PostgreSQL cannot be reached the test fails if CI is set and is
// skipped, loudly, otherwise.
func NewDB(t testing.TB) *postgres.DB {
	t.Helper()
	dsn := NewURL(t)
	ctx := context.Background()
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("opening cloned test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// NewURL clones the template into a new database and returns its URL
// (dropped when t ends), for tests that open it themselves, e.g. a server.
func NewURL(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, URL())
	if err != nil {
		unavailable(t, err)
	}
	defer admin.Close(ctx)
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(ctx) })
	if templateErr != nil {
		t.Fatalf("preparing PostgreSQL template database: %v", templateErr)
	}
	return clone(t, admin, templateName)
}

// NewURLFrom is NewURL for a database that is expensive to fill: build
// fills a fresh migrated database (given its URL, and closing every
// connection it opened before it returns) once per test binary and key,
// and each call clones the filled database. Tests that call it must call
// RemoveBuilt from TestMain, or the filled databases outlive the run.
func NewURLFrom(t testing.TB, key string, build func(url string) error) string {
	t.Helper()
	builtMu.Lock()
	b, ok := built[key]
	if !ok {
		b = &builtTemplate{}
		built[key] = b
	}
	builtMu.Unlock()
	b.once.Do(func() {
		// Stays set if build never returns (a t.Fatal inside it), so the
		// tests after it fail plainly instead of cloning half a database.
		b.err = fmt.Errorf("an earlier test failed while building %s", key)
		url := NewURL(t)
		// Filled in a database NewURL's clean-up drops, then copied
		// under a name of its own that outlives the test that built it.
		b.name = "sanzhi_built_" + randomSuffix()
		if err := build(url); err != nil {
			b.err = err
			return
		}
		admin, err := pgx.Connect(context.Background(), URL())
		if err != nil {
			b.err = err
			return
		}
		defer admin.Close(context.Background())
		if _, err := admin.Exec(context.Background(), fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`,
			b.name, databaseOf(url))); err != nil {
			b.err = fmt.Errorf("copying the filled database: %w", err)
			return
		}
		b.err = nil
	})
	if b.err != nil {
		t.Fatalf("building test database %s: %v", key, b.err)
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, URL())
	if err != nil {
		unavailable(t, err)
	}
	defer admin.Close(ctx)
	return clone(t, admin, b.name)
}

// RemoveBuilt drops every database NewURLFrom filled in this process;
// call it from TestMain after m.Run.
func RemoveBuilt() {
	builtMu.Lock()
	defer builtMu.Unlock()
	if len(built) == 0 {
		return
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, URL())
	if err != nil {
		return
	}
	defer admin.Close(ctx)
	for key, b := range built {
		if b.name != "" {
			_, _ = admin.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, b.name))
		}
		delete(built, key)
	}
}

// clone creates a database from template, dropped when t ends, and
// returns its URL.
func clone(t testing.TB, admin *pgx.Conn, template string) string {
	t.Helper()
	ctx := context.Background()
	name := "sanzhi_test_" + randomSuffix()
	if _, err := admin.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, template)); err != nil {
		t.Fatalf("cloning template database: %v", err)
	}
	dropWhenDone(t, name)
	// A test's commits need not wait for the WAL to reach the disk: a
	// crash loses the database anyway. This database's sessions only,
	// nothing of the server's own settings; transactions stay atomic and
	// isolated, only durability waits go.
	if _, err := admin.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %s SET synchronous_commit = off`, name)); err != nil {
		t.Fatalf("setting up the cloned database: %v", err)
	}
	return withDatabase(URL(), name)
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	msg := fmt.Sprintf("PostgreSQL is not reachable at SANZHI_TEST_POSTGRES=%s: %v", URL(), err)
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (CI is set: PostgreSQL tests must run)", msg)
	}
	t.Skipf("\n\n*** SKIPPING POSTGRESQL TESTS: %s ***\n*** start PostgreSQL or set SANZHI_TEST_POSTGRES; CI fails here ***\n\n", msg)
}

// ensureTemplate creates and migrates the template for the current schema
// once; concurrent test processes serialise on an advisory lock.
func ensureTemplate(ctx context.Context) (string, error) {
	name, err := templateNameForSchema()
	if err != nil {
		return "", err
	}
	return buildTemplate(ctx, name, func(_ *pgx.Conn, u string) error {
		db, err := postgres.Open(ctx, u)
		if err != nil {
			return err
		}
		defer db.Close()
		return db.Migrate(ctx)
	})
}

// buildTemplate makes the database name with fill, once across every test
// process: they serialise on an advisory lock, and one that finds name
// made uses it. fill works on a database of another name, renamed to name
// only when complete, so a crash never leaves a half-made template that
// later runs would trust.
func buildTemplate(ctx context.Context, name string, fill func(admin *pgx.Conn, url string) error) (string, error) {
	admin, err := pgx.Connect(ctx, URL())
	if err != nil {
		return "", err
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock(727274)`); err != nil {
		return "", err
	}
	defer admin.Exec(ctx, `SELECT pg_advisory_unlock(727274)`) //nolint:errcheck
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	_, _ = admin.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, building))
	if _, err := admin.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s`, building)); err != nil {
		return "", err
	}
	if err := fill(admin, withDatabase(URL(), building)); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %s RENAME TO %s`, building, name)); err != nil {
		return "", err
	}
	return name, nil
}

// templateNameForSchema names the template after a hash of the embedded
// migrations, so a schema change gets a new template.
func templateNameForSchema() (string, error) {
	h := sha256.New()
	files, err := postgres.MigrationFiles()
	if err != nil {
		return "", err
	}
	for _, f := range files {
		h.Write(f)
	}
	return "sanzhi_tmpl_" + hex.EncodeToString(h.Sum(nil))[:16], nil
}

func withDatabase(dsn, name string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	u.Path = "/" + name
	return u.String()
}

func databaseOf(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return ""
	}
	return u.Path[1:]
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b) + fmt.Sprintf("_%d", time.Now().Unix()%100000)
}

// CompatEnv names the variable holding the DSN of a PostgreSQL-compatible
// engine (PostgreSQL itself, YugabyteDB YSQL, CockroachDB) to run the
// storage conformance suite against: `make conformance DSN=…`. That path
// clones no template database (CockroachDB has no CREATE DATABASE …
// TEMPLATE, YugabyteDB clones only with a flag set) and creates no
// database at all: each test migrates a schema of its own, from nothing,
// in the database the DSN names.
const CompatEnv = "SANZHI_TEST_PG_COMPAT"

// CompatURL returns the DSN in SANZHI_TEST_PG_COMPAT, "" when unset.
func CompatURL() string { return os.Getenv(CompatEnv) }

// NewSchemaURL creates an empty schema in the database of dsn, migrates
// it and returns dsn with the schema as its search path, so that every
// connection opened from it (a store, a raw intruder) works in the schema.
// The schema is dropped when t ends. An engine that cannot be reached
// fails the test: it was named explicitly.
func NewSchemaURL(t testing.TB, dsn string) string {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("%s: cannot connect: %v", CompatEnv, err)
	}
	defer admin.Close(ctx)
	schema := "sanzhi_t_" + randomSuffix()
	if _, err := admin.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("creating schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Logf("dropping schema %s: %v", schema, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Logf("dropping schema %s: %v", schema, err)
		}
	})
	url, err := withSearchPath(dsn, schema)
	if err != nil {
		t.Fatalf("%s: %v", CompatEnv, err)
	}
	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatalf("opening schema %s: %v", schema, err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrating schema %s: %v", schema, err)
	}
	return url
}

// NewSchemaDB is NewSchemaURL, opened.
func NewSchemaDB(t testing.TB, dsn string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), NewSchemaURL(t, dsn))
	if err != nil {
		t.Fatalf("opening schema: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// withSearchPath adds "-c search_path=schema" to dsn's options parameter,
// the libpq way of setting a session variable at connection start, which
// the wire-compatible engines read too; options already there are kept.
func withSearchPath(dsn, schema string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "", errors.New("the DSN must be a URL: postgres://user@host:port/db?sslmode=…")
	}
	q := u.Query()
	opts := strings.TrimSpace(q.Get("options") + " -c search_path=" + schema)
	q.Set("options", opts)
	// pgx reads a query's "+" as itself, not as a space: spell spaces %20
	// (Encode writes a literal "+" as %2B, so none is lost).
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return u.String(), nil
}

// NewEmptyURL creates an empty database, neither migrated nor given the
// roles, dropped when t ends: for tests of what a new database goes
// through (the first migration, deploy/postgres/roles.sql).
func NewEmptyURL(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, URL())
	if err != nil {
		unavailable(t, err)
	}
	defer admin.Close(ctx)
	name := "sanzhi_test_" + randomSuffix()
	if _, err := admin.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s`, name)); err != nil {
		t.Fatalf("creating database: %v", err)
	}
	dropWhenDone(t, name)
	return withDatabase(URL(), name)
}

func dropWhenDone(t testing.TB, name string) {
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), URL())
		if err != nil {
			t.Logf("dropping %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name)); err != nil {
			t.Logf("dropping %s: %v", name, err)
		}
	})
}

// RoleNames are the psql variables of deploy/postgres/roles.sql.
type RoleNames struct {
	Schema, Migrator, App, Auditor string
}

// TestRoles are the roles of the databases NewRoles clones. Roles belong
// to the whole server: these stay, like the templates, for the next run.
var TestRoles = RoleNames{Schema: "sanzhi", Migrator: "sanzhi_test_migrator", App: "sanzhi_test_app", Auditor: "sanzhi_test_auditor"}

// testPassword is the test roles' password, so that their URLs work
// where the server asks for one (on this machine it trusts loopback).
const testPassword = "sanzhi-test"

// Roles are the URLs of one database as the superuser and as each role
// of deploy/postgres/roles.sql.
type Roles struct {
	Admin, Migrator, App, Auditor string
}

// As returns the URL of the database at dsn as role (with the test
// roles' password).
func As(dsn, role string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	u.User = url.UserPassword(role, testPassword)
	return u.String()
}

var (
	rolesOnce sync.Once
	rolesName string
	rolesErr  error
)

// NewRoles clones a database laid out as in production: TestRoles made
// by deploy/postgres/roles.sql, the schema migrated by the migrator, the
// script run again to grant on the new tables. The clone is dropped when
// t ends. It needs psql (the script uses psql's variables and \gexec):
// without it the test fails when CI is set and is skipped otherwise.
func NewRoles(t testing.TB) Roles {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, URL())
	if err != nil {
		unavailable(t, err)
	}
	defer admin.Close(ctx)
	requirePsql(t)
	rolesOnce.Do(func() { rolesName, rolesErr = ensureRolesTemplate(ctx) })
	if rolesErr != nil {
		t.Fatalf("preparing the PostgreSQL template with roles: %v", rolesErr)
	}
	name := "sanzhi_test_" + randomSuffix()
	if _, err := admin.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, rolesName)); err != nil {
		t.Fatalf("cloning template database: %v", err)
	}
	dropWhenDone(t, name)
	u := withDatabase(URL(), name)
	return Roles{Admin: u, Migrator: As(u, TestRoles.Migrator), App: As(u, TestRoles.App), Auditor: As(u, TestRoles.Auditor)}
}

func requirePsql(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("psql"); err != nil {
		msg := "psql is not on PATH: deploy/postgres/roles.sql needs it"
		if os.Getenv("CI") != "" {
			t.Fatalf("%s (CI is set: these tests must run)", msg)
		}
		t.Skipf("\n\n*** SKIPPING: %s; install the PostgreSQL client; CI fails here ***\n\n", msg)
	}
}

// ApplyRoles runs deploy/postgres/roles.sql with psql as the superuser on
// the database at dsn, with names as its variables.
func ApplyRoles(ctx context.Context, dsn string, names RoleNames) error {
	script, err := RolesScript()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
		"-v", "schema="+names.Schema, "-v", "migrator="+names.Migrator,
		"-v", "app="+names.App, "-v", "auditor="+names.Auditor,
		"-f", script, "-d", dsn)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("psql -f %s: %w\n%s", script, err, out)
	}
	return nil
}

// RolesScript finds deploy/postgres/roles.sql from the test's working
// directory (a package directory of this module).
func RolesScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "deploy", "postgres", "roles.sql"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("deploy/postgres/roles.sql: no go.mod above the working directory")
		}
		dir = parent
	}
}

// ensureRolesTemplate builds the template NewRoles clones, once per
// schema and version of the script, under the same lock as the plain
// template (the roles are shared by every test process).
func ensureRolesTemplate(ctx context.Context) (string, error) {
	h := sha256.New()
	files, err := postgres.MigrationFiles()
	if err != nil {
		return "", err
	}
	for _, f := range files {
		h.Write(f)
	}
	script, err := RolesScript()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(script)
	if err != nil {
		return "", err
	}
	h.Write(b)
	name := "sanzhi_rtmpl_" + hex.EncodeToString(h.Sum(nil))[:16]
	return buildTemplate(ctx, name, func(admin *pgx.Conn, u string) error {
		if err := ApplyRoles(ctx, u, TestRoles); err != nil {
			return err
		}
		for _, r := range []string{TestRoles.Migrator, TestRoles.App, TestRoles.Auditor} {
			if _, err := admin.Exec(ctx, fmt.Sprintf(`ALTER ROLE %s PASSWORD '%s'`, r, testPassword)); err != nil {
				return err
			}
		}
		db, err := postgres.Open(ctx, As(u, TestRoles.Migrator))
		if err != nil {
			return err
		}
		err = db.Migrate(ctx)
		db.Close()
		if err != nil {
			return fmt.Errorf("migrating as %s: %w", TestRoles.Migrator, err)
		}
		return ApplyRoles(ctx, u, TestRoles)
	})
}

// InSchema adds schema as the search_path to the URL dsn, as a role
// without the search_path roles.sql sets (a superuser) must.
func InSchema(dsn, schema string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	q.Set("options", "-csearch_path="+schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// NewEmptyRoles creates an empty database and roles of its own (named
// after it), runs deploy/postgres/roles.sql on it, and drops both when t
// ends: for tests of the whole production setup, from the first
// migration as the migrator on. Run ApplyRoles again after migrating,
// as the operator does. Needs psql, as NewRoles does.
func NewEmptyRoles(t testing.TB) (Roles, RoleNames) {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, URL())
	if err != nil {
		unavailable(t, err)
	}
	defer admin.Close(ctx)
	requirePsql(t)
	suffix := randomSuffix()
	names := RoleNames{Schema: "sanzhi", Migrator: "sanzhi_t" + suffix + "_migrator",
		App: "sanzhi_t" + suffix + "_app", Auditor: "sanzhi_t" + suffix + "_auditor"}
	// Registered first, so it runs after the database is dropped: a role
	// that still holds privileges in a database cannot be dropped.
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), URL())
		if err != nil {
			t.Logf("dropping roles: %v", err)
			return
		}
		defer c.Close(context.Background())
		for _, r := range []string{names.App, names.Auditor, names.Migrator} {
			if _, err := c.Exec(context.Background(), fmt.Sprintf(`DROP ROLE IF EXISTS %s`, r)); err != nil {
				t.Logf("dropping role %s: %v", r, err)
			}
		}
	})
	name := "sanzhi_test_" + suffix
	if _, err := admin.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s`, name)); err != nil {
		t.Fatalf("creating database: %v", err)
	}
	dropWhenDone(t, name)
	u := withDatabase(URL(), name)
	if err := ApplyRoles(ctx, u, names); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{names.Migrator, names.App, names.Auditor} {
		if _, err := admin.Exec(ctx, fmt.Sprintf(`ALTER ROLE %s PASSWORD '%s'`, r, testPassword)); err != nil {
			t.Fatalf("setting the password of %s: %v", r, err)
		}
	}
	return Roles{Admin: u, Migrator: As(u, names.Migrator), App: As(u, names.App), Auditor: As(u, names.Auditor)}, names
}
