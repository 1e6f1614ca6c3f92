package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// A command that needs the data key takes it from a key command as
// sanzhid does, and refuses a non-国密 keyring under --require-gm.
func TestCommandsTakeTheKeyFromAKeyCommand(t *testing.T) {
	db := demoCopy(t)
	ctx := context.Background()
	st, err := server.OpenStore(ctx, db)
	require.NoError(t, err)
	var h *household.Household
	require.NoError(t, st.Store().Households().Read(ctx, func(r household.Reader) error {
		hs, err := r.Households(ctx, household.ListQuery{Village: nanyang, Limit: 1})
		h = hs[0]
		return err
	}))
	st.Close()
	keyFile, err := server.DemoKeyPath(db)
	require.NoError(t, err)

	keyCommand := filepath.Join(t.TempDir(), "print-keys")
	require.NoError(t, os.WriteFile(keyCommand, []byte("#!/bin/sh\nexec cat \"$1\"\n"), 0o700))
	t.Setenv("SANZHI_DATA_KEY", "")
	base := []string{"household", "members", h.Name(), "--database", db, "--key", "sz_demo_clerk_nanyang",
		"--key-provider", "command", "--key-command", keyCommand, "--key-command-arg", keyFile}

	out, err := run(t, base...)
	require.NoError(t, err, out)
	assert.Contains(t, out, h.HeadIDMasked, "the head's number was opened with the command's keys")

	_, err = run(t, append(base, "--require-gm")...)
	require.ErrorContains(t, err, "--require-gm: the keyring is not 国密-only")

	_, err = run(t, append(base, "--data-key-file", keyFile)...)
	require.ErrorContains(t, err, "takes the data keys from --key-command alone")

	_, err = run(t, "household", "members", h.Name(), "--database", db, "--key", "sz_demo_clerk_nanyang",
		"--key-provider", "command", "--key-command", "/no/such/command")
	require.ErrorContains(t, err, "key provider command: cannot run /no/such/command")
}

func TestKeygenGM(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gm.keys")
	out, err := run(t, "keygen", "--gm", path)
	require.NoError(t, err)
	assert.Contains(t, out, "--data-key-file "+path+" --require-gm")
	kr, err := pii.LoadKeyringFile(path)
	require.NoError(t, err)
	require.NoError(t, kr.RequireGM())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, strings.Contains(string(b), "\nindex-sm3:") && strings.Contains(string(b), "\nsm4-k1:"), string(b))
}
