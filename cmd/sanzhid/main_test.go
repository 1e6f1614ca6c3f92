package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/internal/cli"
)

func TestHelpNamesEveryVariable(t *testing.T) {
	var out bytes.Buffer
	cmd := newCommand(&out, &out)
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--help"})
	require.NoError(t, cmd.Execute())
	for _, v := range []string{"SANZHI_GRPC_ADDR", "SANZHI_HTTP_ADDR", "SANZHI_ADMIN_ADDR", "SANZHI_DATABASE", "SANZHI_DATA_KEY_FILE",
		"SANZHI_TLS_CERT", "SANZHI_TLS_KEY", "SANZHI_TLS_CLIENT_CA", "SANZHI_LOG_LEVEL", "SANZHI_DEMO", "SANZHI_DATA_KEY",
		"SANZHI_KEY_PROVIDER", "SANZHI_KEY_COMMAND", "SANZHI_KEY_COMMAND_ARG", "SANZHI_KEY_COMMAND_TIMEOUT", "SANZHI_REQUIRE_GM"} {
		assert.Contains(t, out.String(), v)
	}
}

func TestBadEnvRefusesToStart(t *testing.T) {
	t.Setenv("SANZHI_LOG_LEVEL", "loud")
	var out bytes.Buffer
	cmd := newCommand(&out, &out)
	cmd.SetArgs([]string{"--database", "sqlite://" + t.TempDir() + "/x.db"})
	err := cmd.Execute()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "log level")
	assert.Equal(t, cli.ExitUsage, cli.Code(err))
}

// A bad command line exits 2 before anything starts; a failure to start
// exits 1.
func TestExitCodes(t *testing.T) {
	for _, args := range [][]string{{"--bogus"}, {"serve"}, {"--rate-limit", "fast"}, {"--log-level", "loud"}} {
		var out bytes.Buffer
		cmd := newCommand(&out, &out)
		cmd.SetArgs(args)
		err := cmd.Execute()
		assert.Equal(t, cli.ExitUsage, cli.Code(err), "%v: %v", args, err)
	}
	var out bytes.Buffer
	cmd := newCommand(&out, &out)
	cmd.SetArgs([]string{"--database", "mysql://nowhere", "--grpc-addr", "127.0.0.1:0", "--http-addr", ""})
	err := cmd.Execute()
	require.Error(t, err)
	assert.Equal(t, cli.ExitFailure, cli.Code(err), "%v", err)
	cmd = newCommand(&out, &out)
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--help"})
	require.NoError(t, cmd.Execute())
	assert.Contains(t, out.String(), "Exit status: 0 after a clean shutdown")
}

// A back-quoted word in a flag's usage becomes the name of its value in
// the help (pflag), so a command quoted that way printed as the flag's
// type ("--audit-key-file sanzhi audit keygen"). Values are named by one
// upper-case word or by their type.
func TestHelpNamesValuesPlainly(t *testing.T) {
	cmd := newCommand(&bytes.Buffer{}, &bytes.Buffer{})
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		name, _ := pflag.UnquoteUsage(f)
		assert.Regexp(t, `^([A-Z]+|string|int|int64|uint|duration|float|strings|)$`, name, "--%s", f.Name)
	})
	var out bytes.Buffer
	cmd = newCommand(&out, &out)
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--help"})
	require.NoError(t, cmd.Execute())
	assert.Contains(t, out.String(), "--audit-key-file FILE")
	assert.Contains(t, out.String(), "--no-migrate ")
	assert.NotContains(t, out.String(), "--no-migrate sanzhi")
}

// The key provider is configured like everything else: flags, or their
// SANZHI_* variables. A key command that fails stops the start, and says
// why.
func TestKeyCommandFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	keyCommand := filepath.Join(dir, "keys")
	require.NoError(t, os.WriteFile(keyCommand, []byte("#!/bin/sh\necho \"token busy; args: $*\" >&2\nexit 3\n"), 0o700))
	t.Setenv("SANZHI_KEY_PROVIDER", "command")
	t.Setenv("SANZHI_KEY_COMMAND", keyCommand)
	t.Setenv("SANZHI_KEY_COMMAND_ARG", "/etc/sanzhi/keys.wrapped")
	t.Setenv("SANZHI_DATA_KEY", "")
	var out bytes.Buffer
	cmd := newCommand(&out, &out)
	cmd.SetArgs([]string{"--database", "sqlite://" + dir + "/x.db", "--grpc-addr", "127.0.0.1:0", "--http-addr", ""})
	err := cmd.Execute()
	require.Error(t, err)
	assert.Equal(t, "key provider command: "+keyCommand+` exited with status 3 (stderr: "token busy; args: /etc/sanzhi/keys.wrapped")`, err.Error())

	t.Setenv("SANZHI_KEY_PROVIDER", "hsm")
	cmd = newCommand(&out, &out)
	cmd.SetArgs([]string{"--database", "sqlite://" + dir + "/x.db", "--grpc-addr", "127.0.0.1:0", "--http-addr", ""})
	require.ErrorContains(t, cmd.Execute(), `--key-provider "hsm" is neither file nor command`)
}
