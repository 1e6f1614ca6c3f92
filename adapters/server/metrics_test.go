package server

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sanzhi/sanzhi/adapters/delivery"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/sqlite"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
)

// observed collects reader's readings as "name{k=v,...}" → value.
func observed(t *testing.T, reader sdkmetric.Reader) map[string]float64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	out := map[string]float64{}
	key := func(name string, set attribute.Set) string {
		var kv []string
		for _, a := range set.ToSlice() {
			kv = append(kv, string(a.Key)+"="+a.Value.String())
		}
		sort.Strings(kv)
		return name + "{" + strings.Join(kv, ",") + "}"
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = float64(p.Value)
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = p.Value
				}
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = float64(p.Value)
				}
			case metricdata.Sum[float64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = p.Value
				}
			}
		}
	}
	return out
}

// TestInstrumentObservesTheStore: the gauges report a real store's
// webhook dead letters per bank and its pools; one reading of the store
// serves every collection for readingTTL, a failed one too, and the
// store's gauges are left out (not reported stale) while it fails.
func TestInstrumentObservesTheStore(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "m.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, db.Migrate(ctx))
	st := db.Store()
	clock := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	deadLetter := func(seq int64) { addDeadLetter(t, st, "b1", seq, clock) }
	deadLetter(1)
	deadLetter(2)

	var reads int
	var fail bool
	logs := &syncBuffer{}
	r := &reading{ttl: readingTTL, now: func() time.Time { return clock }, log: slog.New(slog.NewJSONHandler(logs, nil)),
		read: func(ctx context.Context) (sqlstore.Backlog, error) {
			reads++
			if fail {
				return sqlstore.Backlog{}, errors.New("the database is down")
			}
			return st.Backlog(ctx)
		}}
	reader := sdkmetric.NewManualReader()
	published := clock.Add(-time.Minute)
	reg, err := instrument(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)), db.PoolStats, r, func() time.Time { return published })
	require.NoError(t, err)

	got := observed(t, reader)
	assert.Equal(t, 2.0, got["sanzhi.webhook.dead_letters{bank=b1}"])
	assert.Equal(t, 2.0, got["sanzhi.webhook.dead_letters.unreplayed{bank=b1}"])
	assert.Equal(t, 0.0, got["sanzhi.webhook.backlog.events{bank=b1}"])
	assert.Equal(t, 0.0, got["sanzhi.audit.queue.records{}"])
	assert.Equal(t, 8.0, got["sanzhi.db.connections.max{pool=read}"])
	assert.Equal(t, float64(published.Unix()), got["sanzhi.audit.sequencer.last_success.timestamp{}"])
	assert.NotContains(t, got, "sanzhi.audit.checkpoint.age{}", "no checkpoint, no age")
	assert.Equal(t, 1, reads)

	deadLetter(3)
	clock = clock.Add(readingTTL - time.Second)
	assert.Equal(t, 2.0, observed(t, reader)["sanzhi.webhook.dead_letters{bank=b1}"], "the cached reading")
	assert.Equal(t, 1, reads, "within the TTL the store is not asked")
	clock = clock.Add(time.Second)
	assert.Equal(t, 3.0, observed(t, reader)["sanzhi.webhook.dead_letters{bank=b1}"], "a new reading")
	assert.Equal(t, 2, reads)

	fail = true
	clock = clock.Add(readingTTL)
	got = observed(t, reader)
	assert.NotContains(t, got, "sanzhi.webhook.dead_letters{bank=b1}", "nothing stale while the store fails")
	assert.NotContains(t, got, "sanzhi.audit.queue.records{}")
	assert.Contains(t, got, "sanzhi.db.connections.max{pool=read}", "the pools are read from memory")
	observed(t, reader)
	assert.Equal(t, 3, reads, "a failure is not asked again within the TTL")
	assert.Equal(t, 1, strings.Count(logs.String(), "cannot read the store's backlog"))

	require.NoError(t, reg.Unregister())
	assert.Empty(t, observed(t, reader), "nothing observed once unregistered")
}

// addDeadLetter stores a dead letter of bank's webhook, and the webhook
// with the first (seq 1).
func addDeadLetter(t *testing.T, st *sqlstore.Store, bank string, seq int64, at time.Time) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, st.Webhooks().Write(ctx, func(tx delivery.Writer) error {
		if seq == 1 {
			if err := tx.InsertEndpoint(ctx, &delivery.Endpoint{Bank: bank, URL: "https://" + bank + ".example/hook",
				Secret: pii.Sealed{KeyID: "k1", Ciphertext: []byte("x")}, NextAttemptTime: at, LeaseUntil: at,
				CreatedBy: "op", CreateTime: at, UpdatedBy: "op", UpdateTime: at}); err != nil {
				return err
			}
		}
		return tx.InsertDeadLetter(ctx, &delivery.DeadLetter{Bank: bank, Seq: seq, EventID: "e", EventType: "t", DeadTime: at})
	}))
}
