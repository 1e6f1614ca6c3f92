package server

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/demo"
	"github.com/sanzhi/sanzhi/audit"
)

// The decision replay and receipt calls over HTTP, as a bank makes them
// (BANK-INTEGRATION.md): the routes, the JSON names and the receipt.
func TestDecisionReplayOverHTTP(t *testing.T) {
	t.Parallel()
	srv := start(t, Config{Database: demoURL(t), Demo: true})
	base := "http://" + srv.addrs.HTTP
	const (
		officer = "sz_demo_bank_officer"
		product = "banks/tongxiang-rcb/products/sanzhi-xindai"
	)
	var list struct {
		Households []struct{ Name string } `json:"households"`
	}
	require.Equal(t, http.StatusOK, httpJSON(t, base, "sz_demo_regulator", http.MethodGet,
		"/v1/villages/"+demoVillage(t)+"/households?pageSize=1", "", &list))
	require.NotEmpty(t, list.Households)
	hh := list.Households[0].Name
	const form = "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12"
	var consent struct{ Name string }
	require.Equal(t, http.StatusOK, httpJSON(t, base, officer, http.MethodPost, "/v1/"+hh+"/consents",
		`{"bank":"banks/tongxiang-rcb","purposes":["assessment"],"channel":"counter","authorisationHash":"`+form+`"}`, &consent))
	// The bank's record is pending until the village clerk countersigns it.
	require.Equal(t, http.StatusOK, httpJSON(t, base, "sz_demo_clerk_"+demo.Villages[0].Slug, http.MethodPost,
		"/v1/"+consent.Name+":countersign", `{"authorisationHash":"`+form+`"}`, nil))
	var assessed struct{ Line struct{ Decision string } }
	require.Equal(t, http.StatusOK, httpJSON(t, base, officer, http.MethodPost, "/v1/"+product+"/creditLines:assess",
		`{"household":"`+hh+`"}`, &assessed))
	decision := assessed.Line.Decision
	require.NotEmpty(t, decision)

	var replay struct {
		Result, OutputHash, StoredOutputHash, PolicyHash, InputHash string
		Diffs                                                       []any
	}
	require.Equal(t, http.StatusOK, httpJSON(t, base, "sz_demo_bank_risk", http.MethodPost, "/v1/"+decision+":replay", `{}`, &replay))
	assert.Equal(t, "REPLAY_RESULT_IDENTICAL", replay.Result)
	assert.Equal(t, replay.StoredOutputHash, replay.OutputHash)
	assert.Len(t, replay.PolicyHash, 64)
	assert.Empty(t, replay.Diffs)

	require.Equal(t, http.StatusOK, httpJSON(t, base, "sz_demo_regulator", http.MethodGet, "/v1/audit/checkpoint?refresh=true", "", nil))
	var got struct {
		Entry struct {
			Receipt    string
			Checkpoint struct{ VerifierKey, Origin string }
		}
	}
	require.Equal(t, http.StatusOK, httpJSON(t, base, officer, http.MethodGet, "/v1/"+decision+"/receipt", "", &got))
	var r audit.Receipt
	require.NoError(t, json.Unmarshal([]byte(got.Entry.Receipt), &r))
	v, err := audit.NewVerifier(got.Entry.Checkpoint.VerifierKey)
	require.NoError(t, err)
	e, _, err := audit.VerifyReceipt(r, got.Entry.Checkpoint.Origin, v)
	require.NoError(t, err)
	assert.Equal(t, decision, e.Payload["decision"])
}
