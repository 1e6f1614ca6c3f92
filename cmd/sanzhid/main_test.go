package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHelpNamesEveryVariable(t *testing.T) {
	var out bytes.Buffer
	cmd := newCommand(&out, &out)
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--help"})
	require.NoError(t, cmd.Execute())
	for _, v := range []string{"SANZHI_GRPC_ADDR", "SANZHI_HTTP_ADDR", "SANZHI_DATABASE", "SANZHI_DATA_KEY_FILE",
		"SANZHI_TLS_CERT", "SANZHI_TLS_KEY", "SANZHI_TLS_CLIENT_CA", "SANZHI_LOG_LEVEL", "SANZHI_DEMO", "SANZHI_DATA_KEY"} {
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
}
