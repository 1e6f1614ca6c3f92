package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access/signin"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/fault"
)

// runIn is run with stdin.
func runIn(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	root := newRoot(&out)
	root.SetArgs(args)
	root.SetErr(&out)
	root.SetIn(strings.NewReader(stdin))
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestSetPassword(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "c.db")
	out, err := run(t, "principal", "create", "--database", db, "--name", "clerk-nanyang",
		"--role", "village_clerk", "--villages", "330483102215")
	require.NoError(t, err)
	clerkKey := regexp.MustCompile(`sz_[a-z2-7]{52}`).FindString(out)
	require.NotEmpty(t, clerkKey)

	// There is no flag to give it on the command line.
	_, err = run(t, "principal", "set-password", "--database", db, "--password", "x", "clerk-nanyang")
	require.Error(t, err)

	// Operators only: a clerk's key is refused.
	_, err = runIn(t, "a good password 1\n", "principal", "set-password", "--database", db, "--key", clerkKey, "clerk-nanyang")
	require.Error(t, err)
	assert.True(t, fault.Is(err, fault.PermissionDenied), "%v", err)

	// The policy applies; empty stdin is refused.
	_, err = runIn(t, "short\n", "principal", "set-password", "--database", db, "clerk-nanyang")
	assert.True(t, fault.Is(err, fault.Invalid), "%v", err)
	_, err = runIn(t, "", "principal", "set-password", "--database", db, "clerk-nanyang")
	require.Error(t, err)
	_, err = runIn(t, "a good password 1\n", "principal", "set-password", "--database", db, "ghost")
	assert.True(t, fault.Is(err, fault.NotFound), "%v", err)

	out, err = runIn(t, "a good password 1\r\n", "principal", "set-password", "--database", db, "clerk-nanyang")
	require.NoError(t, err)
	assert.Contains(t, out, "password set for clerk-nanyang")
	assert.NotContains(t, out, "a good password")

	// The clerk signs in with it (line ending stripped) and must change it.
	store, err := server.OpenStore(context.Background(), db)
	require.NoError(t, err)
	defer store.Close()
	in, err := signin.NewService(store.Store().SignIn(), time.Now).SignIn(context.Background(), "clerk-nanyang", "a good password 1", "")
	require.NoError(t, err)
	assert.True(t, in.Session.MustChangePassword)
}
