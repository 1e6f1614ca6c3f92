package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/merklelog"
	"github.com/sanzhi/sanzhi/audit"
)

// TestAuditExportOverHTTP: the gateway route streams one JSON object per
// chunk; their data, concatenated, is an export verify-export accepts.
func TestAuditExportOverHTTP(t *testing.T) {
	t.Parallel()
	srv := start(t, Config{Database: demoURL(t), Demo: true})
	base := "http://" + srv.addrs.HTTP
	const reg = "sz_demo_regulator"
	var cp struct {
		TreeSize    string `json:"treeSize"`
		VerifierKey string `json:"verifierKey"`
	}
	require.Equal(t, http.StatusOK, httpJSON(t, base, reg, http.MethodGet, "/v1/audit/checkpoint?refresh=true", "", &cp))
	require.NotEmpty(t, cp.VerifierKey)

	req, err := http.NewRequest(http.MethodGet, base+"/v1/audit/entries:export?tree_size="+cp.TreeSize, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+reg)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var export bytes.Buffer
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 8<<20)
	for sc.Scan() {
		var line struct {
			Result *struct {
				Data []byte `json:"data"`
			} `json:"result"`
			Error json.RawMessage `json:"error"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line), sc.Text())
		require.Nil(t, line.Error)
		require.NotNil(t, line.Result)
		export.Write(line.Result.Data)
	}
	require.NoError(t, sc.Err())
	v, err := audit.NewVerifier(cp.VerifierKey)
	require.NoError(t, err)
	rep, err := merklelog.VerifyExport(&export, v, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, cp.TreeSize, strconv.FormatUint(rep.Checkpoint.Size, 10))
}
