package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const policyExample = "../../examples/policies/tongxiang-rcb-sanzhi.yaml"

func TestPolicyCommands(t *testing.T) {
	out, err := run(t, "policy", "lint", policyExample, "--catalogue", exampleFile("tongxiang-county.yaml"))
	require.NoError(t, err, out)
	assert.Contains(t, out, "valid policy of banks/tongxiang-rcb/products/sanzhi-xindai, version 1")

	src, err := os.ReadFile(policyExample)
	require.NoError(t, err)
	bad := strings.Replace(string(src), "\ncurrency: CNY", "\ncurrency: CNY\ncolour: red", 1)
	file := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(file, []byte(bad), 0o600))
	out, err = run(t, "policy", "lint", file)
	require.Error(t, err)
	assert.Contains(t, out, file+":")
	assert.Contains(t, out, "colour")

	db := "sqlite://" + filepath.Join(t.TempDir(), "p.db")
	for _, name := range []string{"risk-1", "risk-2"} {
		_, err := run(t, "principal", "create", "--database", db, "--name", name, "--role", "bank_risk", "--bank", "tongxiang-rcb")
		require.NoError(t, err)
	}
	_, err = run(t, "principal", "create", "--database", db, "--name", "other", "--role", "bank_risk", "--bank", "other-bank")
	require.NoError(t, err)
	name := "banks/tongxiang-rcb/products/sanzhi-xindai/policies/1"

	out, err = run(t, "policy", "upload", policyExample, "--database", db, "--as", "other")
	require.Error(t, err, "another bank's risk manager: %s", out)
	out, err = run(t, "policy", "upload", policyExample, "--database", db, "--as", "risk-1")
	require.NoError(t, err, out)
	assert.Contains(t, out, name+": draft")
	out, err = run(t, "policy", "approve", name, "--database", db, "--as", "risk-1")
	require.Error(t, err, out)
	assert.Contains(t, err.Error(), "second person")
	out, err = run(t, "policy", "approve", name, "--database", db, "--as", "risk-2")
	require.NoError(t, err, out)
	out, err = run(t, "policy", "activate", name, "--database", db, "--as", "risk-1")
	require.NoError(t, err, out)
	assert.Contains(t, out, name+": active")
	out, err = run(t, "policy", "diff", name, "banks/tongxiang-rcb/products/sanzhi-xindai/policies/active", "--database", db, "--as", "risk-2")
	require.NoError(t, err, out)
	assert.Empty(t, out, "a version against itself")
}
