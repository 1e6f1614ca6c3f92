package telemetry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
)

var otelVars = []string{"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
	"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL"}

// setenv sets the OTEL_* variables to env and every other one to empty.
func setenv(t *testing.T, env map[string]string) {
	for _, k := range otelVars {
		t.Setenv(k, env[k])
	}
}

// TestSignalsAreTurnedOnSeparately: asking for traces never starts a
// metric push (it once did: autoexport's default metric exporter is
// OTLP to localhost), and the all-signals endpoint alone means traces.
func TestSignalsAreTurnedOnSeparately(t *testing.T) {
	const url = "http://collector.example:4318"
	for _, tc := range []struct {
		env             map[string]string
		traces, metrics bool
	}{
		{nil, false, false},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": url}, true, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": url}, true, false},
		{map[string]string{"OTEL_METRICS_EXPORTER": "otlp"}, false, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": url}, false, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_METRICS_EXPORTER": "otlp"}, true, true},
		{map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": url}, false, false},
		{map[string]string{"OTEL_METRICS_EXPORTER": "none", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": url}, false, false},
		{map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp", "OTEL_METRICS_EXPORTER": "otlp"}, false, false},
	} {
		setenv(t, tc.env)
		assert.Equal(t, tc.traces, TracesEnabled(), "traces with %v", tc.env)
		assert.Equal(t, tc.metrics, MetricsPushEnabled(), "metric push with %v", tc.env)
	}
}

// collector is an OTLP/HTTP receiver that notes the paths posted to.
type collector struct {
	mu    sync.Mutex
	paths []string
	srv   *httptest.Server
}

func newCollector(t *testing.T) *collector {
	c := &collector{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		c.mu.Lock()
		c.paths = append(c.paths, r.URL.Path)
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *collector) got() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.paths...)
}

// TestSetupPushesOnlyWhatIsAskedFor runs Setup against a real OTLP/HTTP
// receiver: with traces asked for, a span is exported and no metrics are
// pushed; with a metric push asked for as well, they are.
func TestSetupPushesOnlyWhatIsAskedFor(t *testing.T) {
	for _, tc := range []struct {
		name    string
		metrics string
		want    []string
	}{
		{"traces only", "", []string{"/v1/traces"}},
		{"traces and metrics", "otlp", []string{"/v1/metrics", "/v1/traces"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCollector(t)
			setenv(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": c.srv.URL, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
				"OTEL_METRICS_EXPORTER": tc.metrics})
			tel, err := Setup(context.Background(), "v-test", slog.New(slog.DiscardHandler))
			require.NoError(t, err)
			counter, err := otel.GetMeterProvider().Meter("test").Int64Counter("test.things")
			require.NoError(t, err)
			counter.Add(context.Background(), 1)
			_, span := otel.GetTracerProvider().Tracer("test").Start(context.Background(), "work")
			span.End()
			require.NoError(t, tel.Shutdown(context.Background())) // flushes both
			got := c.got()
			for _, p := range tc.want {
				assert.Contains(t, got, p)
			}
			if tc.metrics == "" {
				assert.NotContains(t, got, "/v1/metrics", "no metric push unless asked for")
			}
		})
	}
}

// TestSetupInstallsPropagatorAndErrorHandler: with no variable set,
// nothing is exported, yet the W3C propagator is installed (a caller's
// traceparent is carried on), OpenTelemetry's errors reach the log, and
// the metrics recorded through the global meter are served as
// Prometheus text beside the Go runtime's.
func TestSetupInstallsPropagatorAndErrorHandler(t *testing.T) {
	setenv(t, nil)
	var logs bytes.Buffer
	tel, err := Setup(context.Background(), "v-test", slog.New(slog.NewJSONHandler(&logs, nil)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })

	carrier := propagation.MapCarrier{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
	ctx := otel.GetTextMapPropagator().Extract(context.Background(), carrier)
	out := propagation.MapCarrier{}
	otel.GetTextMapPropagator().Inject(ctx, out)
	assert.Equal(t, carrier["traceparent"], out["traceparent"])

	otel.Handle(errors.New("exporter unreachable"))
	assert.Contains(t, logs.String(), `"msg":"opentelemetry"`)
	assert.Contains(t, logs.String(), "exporter unreachable")

	counter, err := otel.GetMeterProvider().Meter("test").Int64Counter("sanzhi.test.things")
	require.NoError(t, err)
	counter.Add(context.Background(), 3)
	rec := httptest.NewRecorder()
	tel.Metrics.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	assert.Contains(t, body, "\nsanzhi_test_things_total 3\n")
	assert.Contains(t, body, "\ngo_goroutines ")
	assert.Contains(t, body, `service_version="v-test"`)
}

func TestSetupRefusesASecondPrometheusListener(t *testing.T) {
	setenv(t, map[string]string{"OTEL_METRICS_EXPORTER": "prometheus"})
	_, err := Setup(context.Background(), "v-test", slog.New(slog.DiscardHandler))
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "--admin-addr"), err.Error())
}
