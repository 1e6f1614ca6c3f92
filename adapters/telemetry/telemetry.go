// Package telemetry sets up what sanzhid reports through: a meter provider
// whose readings are always served as Prometheus text (the admin
// listener's /metrics), and, when the standard OTEL_* variables ask for
// them, an OTLP trace export and an OTLP metric push. Each signal is
// turned on by its own variables: asking for traces never starts a
// metric push, and with no variable set nothing leaves the process.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/stats"
)

// Telemetry is what the server instruments itself with.
type Telemetry struct {
	// Tracer receives spans: the OTLP export Setup installed, a test's
	// recorder, or the global provider (a no-op, which still carries an
	// incoming trace context on to the gRPC server and into log lines).
	Tracer trace.TracerProvider
	// Meter records every metric; Metrics serves its readings.
	Meter metric.MeterProvider
	// Propagator reads and writes W3C traceparent and baggage.
	Propagator propagation.TextMapPropagator
	// Metrics serves the Prometheus text exposition of Meter's readings,
	// the Go runtime's and the process's.
	Metrics  http.Handler
	shutdown []func(context.Context) error
}

// Options configure New.
type Options struct {
	// Version is reported as service.version.
	Version string
	// Tracer receives spans; nil is the global provider.
	Tracer trace.TracerProvider
	// Readers are further metric readers (Setup's OTLP push).
	Readers []sdkmetric.Reader
}

// Propagator is the W3C trace context and baggage, what otelgrpc and
// otelhttp read and write.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// New returns telemetry that exports nothing by itself: metrics are read
// through Metrics, spans go to o.Tracer. It installs no globals, so each
// server of a test process has a registry of its own.
func New(o Options) (*Telemetry, error) {
	res, err := serviceResource(o.Version)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("registering the Go runtime metrics: %w", err)
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("registering the process metrics: %w", err)
	}
	// Scope labels (otel_scope_name on every series) say which library
	// recorded a metric; the metric names already do.
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, fmt.Errorf("creating the Prometheus exporter: %w", err)
	}
	opts := []sdkmetric.Option{sdkmetric.WithReader(exp), sdkmetric.WithResource(res)}
	// otelhttp's body-size histograms would double the HTTP series and
	// say little a request's duration does not.
	for _, name := range []string{"http.server.request.body.size", "http.server.response.body.size"} {
		opts = append(opts, sdkmetric.WithView(sdkmetric.NewView(sdkmetric.Instrument{Name: name},
			sdkmetric.Stream{Aggregation: sdkmetric.AggregationDrop{}})))
	}
	for _, r := range o.Readers {
		opts = append(opts, sdkmetric.WithReader(r))
	}
	mp := sdkmetric.NewMeterProvider(opts...)
	t := &Telemetry{Tracer: o.Tracer, Meter: mp, Propagator: Propagator(),
		Metrics:  promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}),
		shutdown: []func(context.Context) error{mp.Shutdown}}
	if t.Tracer == nil {
		t.Tracer = otel.GetTracerProvider()
	}
	return t, nil
}

// Shutdown flushes and stops what t started.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	var errs []error
	for _, f := range t.shutdown {
		errs = append(errs, f(ctx))
	}
	return errors.Join(errs...)
}

// Setup builds sanzhid's telemetry from the OTEL_* variables and installs
// it as OpenTelemetry's globals (libraries such as otelpgx use those). The
// propagator is installed always, so a caller's traceparent reaches the
// gRPC server whether or not spans are exported; OpenTelemetry's own
// errors and diagnostics go to log.
func Setup(ctx context.Context, version string, log *slog.Logger) (*Telemetry, error) {
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("opentelemetry", "error", err)
	}))
	otel.SetLogger(logr.FromSlogHandler(log.Handler()))
	otel.SetTextMapPropagator(Propagator())
	if strings.Contains(os.Getenv("OTEL_METRICS_EXPORTER"), "prometheus") {
		return nil, errors.New("OTEL_METRICS_EXPORTER=prometheus would start a second metrics listener: " +
			"Prometheus scrapes /metrics on the admin listener (--admin-addr); leave the variable unset or set it to otlp")
	}
	var o Options
	o.Version = version
	var stop []func(context.Context) error
	if TracesEnabled() {
		res, err := serviceResource(version)
		if err != nil {
			return nil, err
		}
		spans, err := autoexport.NewSpanExporter(ctx)
		if err != nil {
			return nil, err
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(spans), sdktrace.WithResource(res))
		otel.SetTracerProvider(tp)
		o.Tracer = tp
		stop = append(stop, tp.Shutdown)
	}
	if MetricsPushEnabled() {
		reader, err := autoexport.NewMetricReader(ctx)
		if err != nil {
			return nil, err
		}
		o.Readers = append(o.Readers, reader)
	}
	t, err := New(o)
	if err != nil {
		return nil, err
	}
	otel.SetMeterProvider(t.Meter)
	t.shutdown = append(t.shutdown, stop...)
	return t, nil
}

func sdkDisabled() bool { return strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") }

// TracesEnabled reports whether the environment asks for a trace export:
// OTEL_TRACES_EXPORTER (other than none), a traces endpoint, or the
// all-signals OTLP endpoint.
func TracesEnabled() bool {
	if sdkDisabled() {
		return false
	}
	if v := os.Getenv("OTEL_TRACES_EXPORTER"); v != "" {
		return v != "none"
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != ""
}

// MetricsPushEnabled reports whether the environment asks for metrics to
// be pushed: OTEL_METRICS_EXPORTER (other than none) or a metrics
// endpoint. The all-signals endpoint alone does not: metrics are pulled
// from /metrics unless a push is asked for by name.
func MetricsPushEnabled() bool {
	if sdkDisabled() {
		return false
	}
	if v := os.Getenv("OTEL_METRICS_EXPORTER"); v != "" {
		return v != "none"
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") != ""
}

func serviceResource(version string) (*resource.Resource, error) {
	return resource.Merge(resource.Default(), resource.NewSchemaless(
		semconv.ServiceName("sanzhid"), semconv.ServiceVersion(version)))
}

// GRPCServer is the gRPC server's stats handler: a server span per RPC,
// continuing the caller's trace, and the rpc.server.* metrics.
func (t *Telemetry) GRPCServer() stats.Handler {
	return otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(t.Tracer), otelgrpc.WithMeterProvider(t.Meter),
		otelgrpc.WithPropagators(t.Propagator))
}

// GRPCClient is the stats handler of the HTTP gateway's connection to the
// gRPC listener: it sends the HTTP request's trace context on as
// metadata. It records no metrics: the server side counts every call.
func (t *Telemetry) GRPCClient() stats.Handler {
	return otelgrpc.NewClientHandler(otelgrpc.WithTracerProvider(t.Tracer), otelgrpc.WithMeterProvider(noop.NewMeterProvider()),
		otelgrpc.WithPropagators(t.Propagator))
}

// HTTP wraps the HTTP listener's handler (gateway and console): a server
// span per request, continuing a traceparent the caller sent, and the
// http.server.* metrics.
func (t *Telemetry) HTTP(h http.Handler) http.Handler {
	return otelhttp.NewHandler(h, "http", otelhttp.WithTracerProvider(t.Tracer), otelhttp.WithMeterProvider(t.Meter),
		otelhttp.WithPropagators(t.Propagator))
}
