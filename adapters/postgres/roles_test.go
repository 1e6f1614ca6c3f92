package postgres_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/postgres"
	"github.com/sanzhi/sanzhi/adapters/postgres/pgtest"
)

// Several processes migrating one new database at once (two sanzhid
// starting together, or `sanzhi migrate` beside one) take turns: before
// the session lock one of them failed on a table the other had created.
func TestConcurrentMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgtest.NewEmptyURL(t)
	const n = 3
	dbs := make([]*postgres.DB, n)
	for i := range dbs {
		db, err := postgres.Open(ctx, dsn)
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = db.Migrate(ctx) }()
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "migration %d", i)
	}
	pending, err := dbs[0].Pending(ctx)
	require.NoError(t, err)
	assert.Zero(t, pending)
	var applied int
	require.NoError(t, dbs[0].Pool().QueryRow(ctx, `SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&applied))
	files, err := postgres.MigrationFiles()
	require.NoError(t, err)
	assert.Equal(t, len(files), applied, "each migration recorded once")
}

// A connection whose search_path misses the schema the tables are in
// (a superuser's, on a database laid out by roles.sql) is refused
// before goose creates a second, empty set of tables where it works.
func TestMigrateRefusesAnotherSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	urls := pgtest.NewRoles(t)
	admin, err := postgres.Open(ctx, urls.Admin)
	require.NoError(t, err)
	defer admin.Close()
	err = admin.Migrate(ctx)
	require.ErrorContains(t, err, "sanzhi's tables are in schema sanzhi, but this connection works in schema public")
	_, err = admin.Pending(ctx)
	require.ErrorContains(t, err, "options=-csearch_path%3Dsanzhi")
	var inPublic int
	require.NoError(t, admin.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&inPublic))
	assert.Zero(t, inPublic, "nothing was created in public")

	nowhere, err := postgres.Open(ctx, pgtest.InSchema(urls.Admin, "no_such_schema"))
	require.NoError(t, err)
	defer nowhere.Close()
	require.ErrorContains(t, nowhere.Migrate(ctx), "no schema on this connection's search_path")

	// Named in the URL, as the docs say: nothing pending.
	named, err := postgres.Open(ctx, pgtest.InSchema(urls.Admin, "sanzhi"))
	require.NoError(t, err)
	defer named.Close()
	require.NoError(t, named.Migrate(ctx))
	n, err := named.Pending(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
}

// denied runs q on conn and requires PostgreSQL's permission denied
// (42501), not some other failure that would pass for one.
func denied(t *testing.T, conn *pgx.Conn, q string) {
	t.Helper()
	_, err := conn.Exec(context.Background(), q)
	var pe *pgconn.PgError
	require.True(t, errors.As(err, &pe), "%s: want permission denied, got %v", q, err)
	assert.Equal(t, "42501", pe.Code, "%s: %s", q, pe.Message)
}

func allowed(t *testing.T, conn *pgx.Conn, q string) {
	t.Helper()
	_, err := conn.Exec(context.Background(), q)
	require.NoError(t, err, q)
}

// What each role of roles.sql may and may not do, statement by statement
// (the conformance suite runs the whole store as the app role).
func TestRolePrivileges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	urls := pgtest.NewRoles(t)
	connect := func(dsn string) *pgx.Conn {
		c, err := pgx.Connect(ctx, dsn)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close(ctx) })
		return c
	}
	app, auditor, migrator := connect(urls.App), connect(urls.Auditor), connect(urls.Migrator)

	var path string
	require.NoError(t, app.QueryRow(ctx, `SELECT current_schema()`).Scan(&path))
	assert.Equal(t, "sanzhi", path, "the role's search_path names the schema")

	// The app: no DDL, no TRUNCATE, append-only tables stay so.
	for _, q := range []string{
		`CREATE TABLE scratch (id int)`,
		`CREATE TABLE public.scratch (id int)`,
		`DROP TABLE households`,
		`TRUNCATE households`,
		`ALTER TABLE households ADD COLUMN extra text`,
		`CREATE INDEX households_extra ON households (head_name)`,
		`ALTER TABLE audit_leaves DISABLE TRIGGER USER`,
		`DROP TRIGGER audit_leaves_no_change ON audit_leaves`,
		`CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$`,
		`UPDATE audit_leaves SET actor = 'x'`,
		`DELETE FROM audit_checkpoints`,
		`DELETE FROM ledger_entries`,
		`UPDATE credit_decisions SET score = 0`,
		`DELETE FROM line_transactions`,
		`UPDATE household_facts SET members = 0`,
		`UPDATE audit_queue SET actor = 'x'`,
		`DELETE FROM audit_head`,
		`INSERT INTO goose_db_version (version_id, is_applied) VALUES (999, true)`,
		`DELETE FROM goose_db_version`,
	} {
		denied(t, app, q)
	}
	allowed(t, app, `SELECT count(*) FROM households`)
	allowed(t, app, `UPDATE households SET address = address WHERE false`)
	allowed(t, app, `SELECT max(version_id) FROM goose_db_version`)

	// The auditor: reads the log, writes nothing, reads nothing else.
	allowed(t, auditor, `SELECT count(*) FROM audit_leaves`)
	allowed(t, auditor, `SELECT size FROM audit_head`)
	for _, q := range []string{
		`INSERT INTO audit_queue (time, actor, action, subject, request_hash, result_hash, payload) VALUES (now(), 'a', 'b', 'c', '', '', '')`,
		`DELETE FROM audit_checkpoints`,
		`SELECT count(*) FROM households`,
		`SELECT count(*) FROM household_members`,
		`SELECT count(*) FROM audit_queue`,
		`CREATE TABLE scratch (id int)`,
	} {
		denied(t, auditor, q)
	}

	// A table a later migration creates: the default privileges give the
	// app its DML at once, the auditor nothing.
	allowed(t, migrator, `CREATE TABLE later (id int PRIMARY KEY, v text)`)
	allowed(t, app, `INSERT INTO later VALUES (1, 'a')`)
	allowed(t, app, `UPDATE later SET v = 'b'`)
	allowed(t, app, `DELETE FROM later`)
	denied(t, app, `TRUNCATE later`)
	denied(t, app, `DROP TABLE later`)
	denied(t, auditor, `SELECT * FROM later`)
}

// appendOnly reads the list of append-only tables from roles.sql.
func appendOnly(t *testing.T) []string {
	t.Helper()
	script, err := pgtest.RolesScript()
	require.NoError(t, err)
	b, err := os.ReadFile(script)
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(b), "-- append-only:")
	require.True(t, ok, "roles.sql marks its append-only list with '-- append-only:'")
	_, rest, ok = strings.Cut(rest, "ARRAY[")
	require.True(t, ok)
	list, _, ok := strings.Cut(rest, "]")
	require.True(t, ok)
	var out []string
	for _, m := range regexp.MustCompile(`'([a-z_]+)'`).FindAllStringSubmatch(list, -1) {
		out = append(out, m[1])
	}
	return out
}

// changes finds statements in the Go source src that change or lock rows
// of table (each SQL statement is one backquoted string, or several
// joined with +).
func changes(src, table string) []string {
	t := regexp.QuoteMeta(table)
	var found []string
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)\bUPDATE\s+` + t + `\b`),
		regexp.MustCompile(`(?i)\bDELETE\s+FROM\s+` + t + `\b`),
		regexp.MustCompile(`(?i)\bTRUNCATE\s+(TABLE\s+)?` + t + `\b`),
		regexp.MustCompile("(?is)\\bINSERT\\s+INTO\\s+" + t + "\\b[^`]*\\bDO\\s+UPDATE"),
		regexp.MustCompile("(?is)\\bFROM\\s+" + t + "\\b[^`]*\\bFOR\\s+(NO\\s+KEY\\s+)?(UPDATE|SHARE)"),
		regexp.MustCompile("(?s)\\bFROM\\s+" + t + "\\b[^`]*`\\s*\\+\\s*[\\w.]*ForUpdate"),
	} {
		found = append(found, re.FindAllString(src, -1)...)
	}
	return found
}

// roles.sql takes UPDATE and DELETE on the append-only tables away from
// the app role; the store's SQL must never need them, or the service
// would fail in production on a path the tests did not take.
func TestAppendOnlyTablesAreNeverChanged(t *testing.T) {
	t.Parallel()
	tables := appendOnly(t)
	require.Contains(t, tables, "audit_leaves")
	require.Contains(t, tables, "credit_decisions")

	var schema strings.Builder
	migs, err := postgres.MigrationFiles()
	require.NoError(t, err)
	for _, m := range migs {
		schema.Write(m)
	}
	var src strings.Builder
	files, err := filepath.Glob("../sqlstore/*.go")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		src.Write(b)
		// A statement whose table is a variable (versions.go) must not be
		// given an append-only table.
		if regexp.MustCompile("(?i)(UPDATE|DELETE FROM)\\s+`\\s*\\+").Match(b) {
			for _, tb := range tables {
				assert.NotContains(t, string(b), `"`+tb+`"`, "%s updates or deletes in a table it is given, and names %s", f, tb)
			}
		}
	}
	for _, tb := range tables {
		assert.Regexp(t, `CREATE TABLE `+tb+` \(`, schema.String(), "roles.sql names %s, which no migration creates", tb)
		assert.Empty(t, changes(src.String(), tb), "the store changes or locks rows of %s, which roles.sql makes append-only for the app", tb)
	}
	// The search finds what is there: tables the store does update.
	assert.NotEmpty(t, changes(src.String(), "households"))
	assert.NotEmpty(t, changes(src.String(), "line_event_heads"), "INSERT … ON CONFLICT DO UPDATE")
	assert.NotEmpty(t, changes(src.String(), "domain_events_head"), "SELECT … FOR UPDATE")
}

// The pool settings and TLS verification the operations guide gives go
// through Open as written: pgxpool reads pool_max_conns from the URL,
// and sslmode=verify-full checks the server's certificate and name.
func TestURLSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgtest.NewURL(t)
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	q := u.Query()
	q.Set("pool_max_conns", "3")
	q.Set("pool_max_conn_lifetime", "10m")
	u.RawQuery = q.Encode()
	db, err := postgres.Open(ctx, u.String())
	require.NoError(t, err)
	defer db.Close()
	assert.Equal(t, int32(3), db.Pool().Config().MaxConns)
	assert.Equal(t, 10*time.Minute, db.Pool().Config().MaxConnLifetime)

	_, err = postgres.Open(ctx, strings.Replace(u.String(), "pool_max_conns=3", "pool_max_conns=many", 1))
	require.ErrorContains(t, err, "malformed")

	// verify-full needs a server with TLS whose certificate this test can
	// read (the superuser asks where it is): a Debian server's snakeoil
	// certificate names localhost.
	var ssl, certFile string
	require.NoError(t, db.Pool().QueryRow(ctx, `SELECT current_setting('ssl'), current_setting('ssl_cert_file')`).Scan(&ssl, &certFile))
	pemBytes, err := os.ReadFile(certFile)
	if ssl != "on" || err != nil || !strings.Contains(string(pemBytes), "BEGIN CERTIFICATE") {
		t.Skipf("the server has no TLS certificate this test can read (ssl=%s, %s): verify-full not exercised", ssl, certFile)
	}
	block, _ := pem.Decode(pemBytes)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	if len(cert.DNSNames) == 0 || u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" {
		t.Skipf("the server's certificate names %v; this test reaches it at %s", cert.DNSNames, u.Hostname())
	}
	name := cert.DNSNames[0]
	tlsURL := func(host, root string) string {
		v := *u
		v.Host = fmt.Sprintf("%s:%s", host, u.Port())
		q := v.Query()
		q.Set("sslmode", "verify-full")
		q.Set("sslrootcert", root)
		q.Del("pool_max_conns")
		q.Del("pool_max_conn_lifetime")
		v.RawQuery = q.Encode()
		return v.String()
	}
	if name != "localhost" {
		t.Skipf("the server's certificate names %s, which may not lead to this server", name)
	}
	good, err := postgres.Open(ctx, tlsURL("localhost", certFile))
	require.NoError(t, err)
	var encrypted bool
	require.NoError(t, good.Pool().QueryRow(ctx, `SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`).Scan(&encrypted))
	good.Close()
	assert.True(t, encrypted)

	_, err = postgres.Open(ctx, tlsURL("127.0.0.1", certFile))
	require.Error(t, err, "the certificate does not name 127.0.0.1")
	assert.Contains(t, err.Error(), "certificate")

	other := filepath.Join(t.TempDir(), "other-ca.pem")
	require.NoError(t, os.WriteFile(other, selfSigned(t), 0o600))
	_, err = postgres.Open(ctx, tlsURL("localhost", other))
	require.Error(t, err, "a certificate no trusted root signed")
	assert.Contains(t, err.Error(), "certificate")
}

func selfSigned(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "someone else's CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
