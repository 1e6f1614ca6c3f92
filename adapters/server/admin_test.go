package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc/metadata"

	"github.com/sanzhi/sanzhi/access"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// get fetches url and returns the status, the content type and the body.
func get(t testing.TB, url string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// readyz fetches /readyz and parses its body.
func readyz(t testing.TB, admin string) (int, readyReport) {
	t.Helper()
	code, ctype, body := get(t, "http://"+admin+"/readyz")
	assert.Equal(t, "application/json", ctype)
	var rep readyReport
	require.NoError(t, json.Unmarshal([]byte(body), &rep), "body %s", body)
	return code, rep
}

// samples parses a Prometheus text exposition into series (name with its
// labels, as written) and values.
func samples(t testing.TB, text string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		require.Positive(t, i, "sample line %q", line)
		v, err := strconv.ParseFloat(line[i+1:], 64)
		require.NoError(t, err, "sample line %q", line)
		out[line[:i]] = v
	}
	return out
}

// series returns the samples whose series starts with prefix.
func series(all map[string]float64, prefix string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range all {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out
}

func TestAdminEndpoints(t *testing.T) {
	db := sqliteURL(t)
	srv := start(t, Config{Database: db, AdminAddr: "127.0.0.1:0", CheckpointInterval: time.Hour,
		ReassessInterval: time.Hour, WebhookPoll: time.Hour})
	require.NotEmpty(t, srv.addrs.Admin)
	admin := "http://" + srv.addrs.Admin

	code, _, body := get(t, admin+"/healthz")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok\n", body)
	code, rep := readyz(t, srv.addrs.Admin)
	assert.Equal(t, http.StatusOK, code)
	assert.True(t, rep.Ready)
	assert.Empty(t, rep.Failing)
	var names []string
	for _, c := range rep.Checks {
		names = append(names, c.Name)
		assert.True(t, c.OK, "check %s: %s", c.Name, c.Error)
	}
	assert.Equal(t, []string{"serving", "database", "migrations", "sequencer"}, names)

	key := addPrincipal(t, db, "clerk", access.VillageClerk, access.Scope{Villages: []string{matrixVillage}})
	conn := dial(t, srv.addrs.GRPC)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+key)
	_, err := sanzhiv1.NewHouseholdServiceClient(conn).CreateHousehold(ctx, &sanzhiv1.CreateHouseholdRequest{
		Parent: "villages/" + matrixVillage, RequestId: "m1", Household: validHousehold(t)})
	require.NoError(t, err)
	code, _ = httpCall{verb: "GET", path: "/v1/villages/" + matrixVillage + "/households", key: key}.do(t, "http://"+srv.addrs.HTTP)
	require.Equal(t, http.StatusOK, code)

	store, err := OpenStore(context.Background(), db)
	require.NoError(t, err)
	defer store.Close()
	addDeadLetter(t, store.Store(), "tongxiang-rcb", 1, time.Now())

	code, ctype, text := get(t, admin+"/metrics")
	require.Equal(t, http.StatusOK, code)
	assert.True(t, strings.HasPrefix(ctype, "text/plain"), "Prometheus text format, got %q", ctype)
	all := samples(t, text)
	assert.Positive(t, all["go_goroutines"], "Go runtime")
	assert.Positive(t, all["process_resident_memory_bytes"], "the process")
	assert.Equal(t, 1.0, all[`sanzhi_db_connections_max{pool="write"}`], "SQLite's single writer")
	assert.Equal(t, 8.0, all[`sanzhi_db_connections_max{pool="read"}`])
	assert.Contains(t, all, `sanzhi_db_acquire_waits_total{pool="read"}`)
	assert.NotContains(t, all, `sanzhi_db_acquires_total{pool="read"}`, "database/sql does not count acquisitions")
	assert.GreaterOrEqual(t, all["sanzhi_audit_queue_records"], 1.0, "the household's record waits for the next checkpoint")
	assert.Contains(t, all, "sanzhi_audit_sequencing_lag_seconds")
	assert.Less(t, all["sanzhi_audit_checkpoint_age_seconds"], 600.0, "the first checkpoint was signed at start")
	assert.InDelta(t, float64(time.Now().Unix()), all["sanzhi_audit_sequencer_last_success_timestamp_seconds"], 600)
	assert.Equal(t, 0.0, all["sanzhi_reassess_due_households"])
	assert.Contains(t, all, "sanzhi_reassess_runs_remaining_households")
	sum := func(prefix string) float64 {
		var n float64
		for _, v := range series(all, prefix) {
			n += v
		}
		return n
	}
	assert.Equal(t, 1.0, sum(`rpc_server_call_duration_seconds_count{rpc_method="sanzhi.v1.HouseholdService/CreateHousehold"`), "gRPC calls")
	assert.Equal(t, 1.0, sum(`rpc_server_call_duration_seconds_count{rpc_method="sanzhi.v1.HouseholdService/ListHouseholds"`),
		"the gateway's calls reach the same server")
	assert.Equal(t, 1.0, sum(`http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/v1/"`),
		"HTTP requests")
	assert.Empty(t, series(all, "http_server_request_body_size"), "body sizes are not kept")
	assert.Equal(t, 1.0, sum(`target_info{service_name="sanzhid"`))
	for _, check := range []string{"serving", "database", "migrations", "sequencer"} {
		assert.Equal(t, 1.0, all[`sanzhi_ready{check="`+check+`"}`], check)
	}
	assert.Equal(t, 1.0, all[`sanzhi_webhook_dead_letters{bank="tongxiang-rcb"}`])
	assert.Equal(t, 0.0, all[`sanzhi_webhook_backlog_events{bank="tongxiang-rcb"}`])
	alertsReadServedMetrics(t, all)

	resp, err := http.Post(admin+"/metrics", "text/plain", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	require.NoError(t, srv.stop())
	_, err = http.Get(admin + "/healthz")
	assert.Error(t, err, "the admin listener closes with the server")
}

// alertsReadServedMetrics: deploy/alerts.yml is well formed, and every
// sanzhid metric its rules read is one the server serves (all), so a
// renamed metric cannot leave an alert silently watching nothing.
// promtool checks the rules' PromQL (docs/OPERATIONS.md).
func alertsReadServedMetrics(t *testing.T, all map[string]float64) {
	t.Helper()
	b, err := os.ReadFile("../../deploy/alerts.yml")
	require.NoError(t, err)
	var doc struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert, Expr string
				Labels      map[string]string
				Annotations map[string]string
			}
		}
	}
	require.NoError(t, yaml.Unmarshal(b, &doc))
	require.NotEmpty(t, doc.Groups)
	metric := regexp.MustCompile(`\b(?:sanzhi|rpc_server|http_server)_[a-z_]+\b`)
	served := func(name string) bool {
		for k := range all {
			if k == name || strings.HasPrefix(k, name+"{") {
				return true
			}
		}
		return false
	}
	n := 0
	for _, g := range doc.Groups {
		for _, r := range g.Rules {
			n++
			assert.NotEmpty(t, r.Alert)
			assert.Contains(t, []string{"page", "ticket"}, r.Labels["severity"], r.Alert)
			assert.NotEmpty(t, r.Annotations["summary"], r.Alert)
			assert.NotEmpty(t, r.Annotations["description"], r.Alert)
			for _, name := range metric.FindAllString(r.Expr, -1) {
				assert.True(t, served(name), "%s reads %s, which sanzhid does not serve", r.Alert, name)
			}
		}
	}
	assert.GreaterOrEqual(t, n, 9)
}
