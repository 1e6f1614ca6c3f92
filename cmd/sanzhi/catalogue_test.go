package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/scoring/catalogue"
)

const examplesDir = "../../examples/catalogues"

func exampleFile(name string) string { return filepath.Join(examplesDir, name) }

func TestCatalogueLint(t *testing.T) {
	out, err := run(t, "catalogue", "lint", exampleFile("tongxiang-county.yaml"))
	require.NoError(t, err, out)
	assert.Contains(t, out, "valid county catalogue of 330483, version 1")

	out, err = run(t, "catalogue", "lint", exampleFile("yantou-village.yaml"))
	require.NoError(t, err, out)
	assert.Contains(t, out, "checked on its own")

	out, err = run(t, "catalogue", "lint", "--base", exampleFile("tongxiang-county.yaml"), exampleFile("yantou-village.yaml"))
	require.NoError(t, err, out)
	assert.Contains(t, out, "effective items, content hash")

	// Every problem, each with its line; no database is touched.
	src, err := os.ReadFile(exampleFile("nanyang-village.yaml"))
	require.NoError(t, err)
	bad := strings.Replace(string(src), "\nversion: 1\n", "\nversion: 1\ncolour: red\n", 1)
	bad = strings.Replace(bad, "code: NY-ML-02", "code: NY-MS-01", 1)
	bad = strings.Replace(bad, "  - ZZ-ML-08", "  - ZZ-XX-99", 1)
	file := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(file, []byte(bad), 0o600))
	colour := lineNumber(t, bad, "colour: red")
	out, err = run(t, "catalogue", "lint", file)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "2 problem(s)")
	assert.Contains(t, out, fmt.Sprintf("%s:%d:1: colour: unknown field", file, colour))
	assert.Contains(t, out, "items[1].code: duplicate code NY-MS-01")
	assert.NotContains(t, out, "ZZ-XX-99", "base-dependent checks need --base")

	out, err = run(t, "catalogue", "lint", "--base", exampleFile("tongxiang-county.yaml"), file)
	require.Error(t, err, "still two problems: the base is checked only once the document itself is valid")
	assert.Contains(t, out, "duplicate code")

	fixed := strings.Replace(bad, "\ncolour: red", "", 1)
	fixed = strings.Replace(fixed, "code: NY-MS-01\n    domain: virtue", "code: NY-ML-02\n    domain: virtue", 1)
	require.NoError(t, os.WriteFile(file, []byte(fixed), 0o600))
	out, err = run(t, "catalogue", "lint", "--base", exampleFile("tongxiang-county.yaml"), file)
	require.Error(t, err)
	assert.Contains(t, out, fmt.Sprintf("%s:%d:5: remove[1]: county catalogue version 1 has no item ZZ-XX-99", file, lineNumber(t, fixed, "ZZ-XX-99")))

	_, err = run(t, "catalogue", "lint", filepath.Join(t.TempDir(), "missing.yaml"))
	require.Error(t, err)
	_, err = run(t, "catalogue", "lint", "--base", exampleFile("nanyang-village.yaml"), exampleFile("nanyang-village.yaml"))
	require.Error(t, err, "--base must be a county document")
}

func lineNumber(t *testing.T, doc, s string) int {
	t.Helper()
	for i, l := range strings.Split(doc, "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("%q not found", s)
	return 0
}

func TestCatalogueUploadAndActivate(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "c.db")
	keys := map[string]string{"ghost": "sz_ghost"}
	for _, p := range [][]string{
		{"--name", "op-1", "--role", "operator"},
		{"--name", "op-2", "--role", "operator"},
		{"--name", "clerk", "--role", "village_clerk", "--villages", "330483102215"},
		{"--name", "reviewer", "--role", "village_reviewer", "--villages", "330483102215"},
		{"--name", "gone", "--role", "operator"},
	} {
		keys[p[1]] = newPrincipal(t, db, p...)
	}
	_, err := run(t, "principal", "revoke", "--database", db, "gone")
	require.NoError(t, err)
	county, village := exampleFile("tongxiang-county.yaml"), exampleFile("nanyang-village.yaml")
	countyName, villageName := "counties/330483/catalogues/1", "villages/330483102215/catalogues/1"

	fails := func(want string, args ...string) {
		t.Helper()
		out, err := run(t, append(args, "--database", db)...)
		require.Error(t, err, "%v: %s", args, out)
		assert.Contains(t, err.Error()+out, want, "%v", args)
	}
	ok := func(want string, args ...string) {
		t.Helper()
		out, err := run(t, append(args, "--database", db)...)
		require.NoError(t, err, "%v: %s", args, out)
		assert.Contains(t, out, want, "%v", args)
	}

	fails("not stored", "catalogue", "upload", village, "--key", keys["clerk"])
	fails("may not change county catalogues", "catalogue", "upload", county, "--key", keys["clerk"])
	fails("no principal holds this key", "catalogue", "upload", county, "--key", keys["ghost"])
	fails("revoked", "catalogue", "upload", county, "--key", keys["gone"])
	fails("may not do this to village catalogues", "catalogue", "upload", village) // the local operator
	ok("counties/330483/catalogues/1: draft", "catalogue", "upload", county, "--key", keys["op-1"])
	ok("counties/330483/catalogues/1: draft", "catalogue", "upload", county, "--key", keys["op-1"]) // idempotent
	fails("second person", "catalogue", "activate", countyName, "--key", keys["op-1"])
	ok("villages/330483102215/catalogues/1: draft", "catalogue", "upload", village, "--key", keys["clerk"])
	fails("still a draft", "catalogue", "activate", villageName, "--key", keys["reviewer"])
	ok("active", "catalogue", "activate", countyName, "--key", keys["op-2"])
	fails("may not call", "catalogue", "activate", villageName, "--key", keys["clerk"])
	fails("may not change county catalogues", "catalogue", "activate", countyName, "--key", keys["reviewer"])
	fails("not found", "catalogue", "activate", "villages/330483102215/catalogues/7", "--key", keys["reviewer"])
	fails("must be", "catalogue", "activate", "villages/330483102215/catalog/1", "--key", keys["reviewer"])
	ok("villages/330483102215/catalogues/1: active", "catalogue", "activate", villageName, "--key", keys["reviewer"])

	// An invalid document: every problem printed, nothing stored.
	src, err := os.ReadFile(village)
	require.NoError(t, err)
	bad := strings.Replace(string(src), "\nversion: 1\n", "\nversion: 2\ncolour: red\n", 1)
	bad = strings.Replace(bad, "code: NY-ML-02", "code: NY-MS-01", 1)
	file := filepath.Join(t.TempDir(), "v2.yaml")
	require.NoError(t, os.WriteFile(file, []byte(bad), 0o600))
	out, err := run(t, "catalogue", "upload", file, "--key", keys["clerk"], "--database", db)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing stored")
	assert.Contains(t, out, "colour: unknown field")
	assert.Contains(t, out, "duplicate code")
	// Base-dependent problems come from the service, one line each.
	bad = strings.Replace(string(src), "\nversion: 1\n", "\nversion: 2\n", 1)
	bad = strings.Replace(bad, "  - ZZ-ML-08", "  - ZZ-XX-98", 1)
	bad = strings.Replace(bad, "  - FZ-ML-09", "  - ZZ-XX-99", 1)
	require.NoError(t, os.WriteFile(file, []byte(bad), 0o600))
	out, err = run(t, "catalogue", "upload", file, "--key", keys["clerk"], "--database", db)
	require.Error(t, err)
	assert.Contains(t, out, file+": line ")
	assert.Contains(t, out, "has no item ZZ-XX-98")
	assert.Contains(t, out, "has no item ZZ-XX-99")

	st, err := server.OpenStore(context.Background(), db)
	require.NoError(t, err)
	defer st.Close()
	svc := catalogue.NewService(st.Store().Catalogues(), nil)
	page, err := svc.List(context.Background(), "villages/330483102215", 0, "")
	require.NoError(t, err)
	require.Len(t, page.Versions, 1, "the invalid upload stored nothing")
	assert.Equal(t, catalogue.Active, page.Versions[0].State)
	p, err := st.Store().Principals().PrincipalByName(context.Background(), "reviewer")
	require.NoError(t, err)
	assert.Equal(t, p.ID, page.Versions[0].ActivatedBy, "the key's principal is recorded")
	n, err := st.Store().QueueLength(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(4+6), n, "two uploads and two activations are audited, as are five creations and a revocation")
}
