package app

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/scoring/evidence"
)

// counters count events as they happen, for /metrics (docs/OPERATIONS.md
// names each). The gauges of waiting work are read from the store
// instead (adapters/server), so that every instance reports the same.
type counters struct {
	importRows metric.Int64Counter
	refusals   metric.Int64Counter
}

func newCounters(mp metric.MeterProvider) (*counters, error) {
	if mp == nil {
		mp = noop.NewMeterProvider()
	}
	m := mp.Meter("github.com/sanzhi/sanzhi/app")
	rows, err := m.Int64Counter("sanzhi.import.rows", metric.WithUnit("{row}"),
		metric.WithDescription("Evidence rows submitted in batches (API BatchSubmitEvidence or the console's import), by outcome: imported, duplicate (imported before, nothing written) or refused."))
	if err != nil {
		return nil, err
	}
	refusals, err := m.Int64Counter("sanzhi.consent.refusals", metric.WithUnit("{refusal}"),
		metric.WithDescription("Requests a consent said no to: a bank's read refused for want of a live consent (reason CONSENT_REQUIRED, with the method and purpose), or a household refusing a bank's consent request (reason CONSENT_REFUSED)."))
	if err != nil {
		return nil, err
	}
	// Shadow evaluations that failed (lending/credit, challenger.go): a
	// process-wide count, read when metrics are collected.
	if _, err := m.Int64ObservableCounter("sanzhi.shadow.failures", metric.WithUnit("{evaluation}"),
		metric.WithDescription("Challenger policies that could not be read or evaluated beside a live assessment or re-assessment; the assessment went on without a shadow decision."),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(credit.ShadowFailures())
			return nil
		})); err != nil {
		return nil, err
	}
	return &counters{importRows: rows, refusals: refusals}, nil
}

func (c *counters) refusal(ctx context.Context, r credit.Refusal) {
	c.refusals.Add(ctx, 1, metric.WithAttributes(attribute.String("reason", r.Reason),
		attribute.String("method", r.Method), attribute.String("purpose", r.Purpose)))
}

// Import outcomes, the values of sanzhi_import_rows_total's outcome label.
const (
	ImportImported  = "imported"
	ImportDuplicate = "duplicate"
	ImportRefused   = "refused"
)

// CountImportRows counts the rows of a batch that was written (not a dry
// run) by outcome; channel says how it came in ("api" or "console").
func (a *App) CountImportRows(ctx context.Context, channel string, res []evidence.RowResult) {
	var n [3]int64
	for _, r := range res {
		switch {
		case r.Err != nil:
			n[2]++
		case r.Duplicate:
			n[1]++
		default:
			n[0]++
		}
	}
	for i, outcome := range []string{ImportImported, ImportDuplicate, ImportRefused} {
		if n[i] > 0 {
			a.counters.importRows.Add(ctx, n[i], metric.WithAttributes(
				attribute.String("outcome", outcome), attribute.String("channel", channel)))
		}
	}
}
