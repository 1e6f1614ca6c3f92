package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
)

// fuzzMethods are the methods a fuzzed request may use; one more index
// means "the route's own method".
var fuzzMethods = []string{"GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS"}

// FuzzGateway throws random methods, paths and bodies, with and without a
// key, at the HTTP gateway of a real server on a TCP port (SQLite). No
// answer may be a 5xx, the server must not panic or hang, and every error
// must keep the contract: a google.rpc.Status with ErrorInfo and no
// Go-internal text. Plain `go test` runs the seeds below and those in
// testdata/fuzz/FuzzGateway; `go test -fuzz FuzzGateway ./adapters/server/`
// searches further.
func FuzzGateway(f *testing.F) {
	for _, seed := range []struct {
		method, route uint8
		param         string
		body          string
		auth          bool
	}{
		{1, 0, "/v1/villages/330483102201/households", `{"headName":"徐","headIdNumber":"330483197506120017","group":1}`, true},
		{1, 0, "/v1/villages/330483102201/households", `{"headName": 7}`, true},
		{1, 0, "/v1/villages/330483102201/households:lookup", `{"headIdNumber":"33048319750612001X"}`, true},
		{0, 0, "/v1/villages/330483102201/households?pageSize=-5&pageToken=%00", ``, true},
		{0, 0, "/v1/villages/%ff/households", ``, true},
		{2, 0, "/v1/villages/330483102201/households/x", `{"facts":{"members":"many"}}`, true},
		{1, 0, "/v1/villages/330483102201/households/x/evidence", `{"kind":"NOPE","occurredOn":{}}`, true},
		{1, 0, "/v1/audit/entries", `[[[[[[[[[[`, false},
		{0, 0, "/v1/audit/entries?startTime=yesterday", ``, true},
		{3, 0, "/v1/banks/tongxiang-rcb/products/p/policies/1", `{}`, true},
		{0, 0, "/v1/banks/tongxiang-rcb/creditLineEvents:watch", ``, true},
		{1, 0, "/v1/catalogues:lint", "{\"document\":\"\xff\xfe\"}", true},
		{5, 0, "/openapi.json", ``, false},
		{6, 0, "/v1/", ``, false},
		{1, 0, "/v1/villages/330483102201/evidence:batchSubmit", `{"requests":[{"evidence":{"quantity":1e99}}]}`, true},
		// Routes of the API with a fuzzed path parameter and body.
		{7, 3, "x1", `{"name":"villages/1/households/2","headName":""}`, true},
		{7, 20, "..", `{}`, true},
		{7, 40, "%2e%2e", `{"amount":"-1"}`, true},
	} {
		f.Add(seed.method, seed.route, seed.param, []byte(seed.body), seed.auth)
	}
	db := "sqlite://" + filepath.Join(f.TempDir(), "fuzz.db")
	srv := start(f, Config{Database: db, CheckpointInterval: time.Hour, ReassessInterval: time.Hour, WebhookPoll: time.Hour})
	key := addPrincipal(f, db, "clerk", access.VillageClerk, access.Scope{Villages: []string{matrixVillage}})
	base := "http://" + srv.addrs.HTTP
	client := &http.Client{Timeout: 10 * time.Second}
	rs := routes(f)

	f.Fuzz(func(t *testing.T, m, ri uint8, param string, body []byte, auth bool) {
		// param is a whole path when it starts with "/"; otherwise it
		// fills the last path variable of one of the API's routes.
		path := param
		method := fuzzMethods[int(m)%len(fuzzMethods)]
		if !strings.HasPrefix(param, "/") {
			r := rs[int(ri)%len(rs)]
			if int(m)%(len(fuzzMethods)+1) == len(fuzzMethods) {
				method = r.verb
			}
			filled := false
			path = r.path(func(_, pattern string) string {
				sample := route{tmpl: "{x=" + pattern + "}"}.samplePath()
				if filled {
					return sample
				}
				filled = true
				return sample[:strings.LastIndexByte(sample, '/')+1] + param
			})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
		if err != nil {
			return // not a URL any client could send
		}
		if auth {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil && errors.Is(err, context.DeadlineExceeded) && strings.HasSuffix(req.URL.Path, ":watch") {
			return // a stream the caller may watch stays open: not a hang
		}
		require.NoError(t, err, "the server answers (no panic, no dropped connection)")
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil && strings.HasSuffix(req.URL.Path, ":watch") {
			return
		}
		require.NoError(t, err)
		require.Less(t, resp.StatusCode, 500, "no 5xx: %s %q -> %d %s", method, path, resp.StatusCode, b)
		if resp.StatusCode >= 400 && method != "HEAD" {
			contractOK(t, parseStatus(t, b), "")
		}
	})
}
