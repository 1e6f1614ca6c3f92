package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/internal/cli"
)

// A bad command line exits 2 whichever part of it is wrong, before
// anything is opened; help and a bare group exit 0.
func TestUsageExitCodes(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "never.db")
	for name, args := range map[string][]string{
		"unknown flag":             {"migrate", "--database", db, "--bogus"},
		"unknown command":          {"bogus"},
		"unknown subcommand":       {"audit", "verfy"},
		"missing argument":         {"keygen"},
		"extra argument":           {"migrate", "--database", db, "extra"},
		"missing required flag":    {"import", "evidence", "x.csv", "--database", db},
		"flag value not a number":  {"import", "evidence", "x.csv", "--database", db, "--village", nanyang, "--parallel", "many"},
		"flag value out of range":  {"import", "evidence", "x.csv", "--database", db, "--village", nanyang, "--parallel", "99"},
		"unknown language":         {"import", "template", "--lang", "fr"},
		"flags that exclude":       {"audit", "replay", "banks/b/products/p/decisions/d", "--product", "banks/b/products/p", "--database", db},
		"no verifier key":          {"audit", "verify", "--database", db},
		"verifier key and history": {"audit", "verify", "--database", db, "--verifier-key", "k", "--key-history", "h"},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := run(t, args...)
			require.Error(t, err, out)
			assert.Equal(t, cli.ExitUsage, cli.Code(err), "%v", err)
		})
	}
	assert.NoFileExists(t, filepath.Join(filepath.Dir(db[len("sqlite://"):]), "never.db"), "a bad command line opens nothing")

	t.Run("a mistyped subcommand is named, with a suggestion", func(t *testing.T) {
		_, err := run(t, "audit", "verfy")
		assert.ErrorContains(t, err, `unknown command "verfy" for "sanzhi audit"; did you mean verify?`)
	})
	t.Run("a bad SANZHI_ variable", func(t *testing.T) {
		t.Setenv("SANZHI_NO_PROGRESS", "maybe")
		_, err := run(t, "version")
		assert.Equal(t, cli.ExitUsage, cli.Code(err), "%v", err)
	})
	t.Run("help and bare groups", func(t *testing.T) {
		out, err := run(t)
		require.NoError(t, err)
		assert.Contains(t, out, "Exit status: 0 done; 1 failed; 2 bad command line")
		_, err = run(t, "audit")
		require.NoError(t, err)
	})
	t.Run("the report points at the help", func(t *testing.T) {
		root := newRoot(&bytes.Buffer{})
		root.SetArgs([]string{"audit", "verify", "--bogus"})
		root.SetErr(&bytes.Buffer{})
		cmd, err := root.ExecuteContextC(context.Background())
		var stderr bytes.Buffer
		assert.Equal(t, cli.ExitUsage, cli.Report(&stderr, cmd, err))
		assert.Equal(t, "sanzhi: unknown flag: --bogus\nRun 'sanzhi audit verify --help' for usage.\n", stderr.String())
	})
}
