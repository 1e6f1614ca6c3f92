package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/scoring/evidence"
)

// counts reads the Int64 sum named name from reader, keyed by the values
// of the attributes keys.
func counts(t *testing.T, reader sdkmetric.Reader, name string, keys ...attribute.Key) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			sum, ok := m.Data.(metricdata.Sum[int64])
			require.True(t, ok, "%s is an int64 sum", name)
			for _, dp := range sum.DataPoints {
				k := ""
				for _, key := range keys {
					v, _ := dp.Attributes.Value(key)
					k += v.AsString() + "|"
				}
				out[k] += dp.Value
			}
		}
	}
	return out
}

// TestCountersCountRefusalsAndImportRows: a bank's read refused for want
// of a consent counts one refusal with its method and purpose, a
// household refusing a request one more; an import's rows count by
// outcome and channel. Both engines.
func TestCountersCountRefusalsAndImportRows(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		reader := sdkmetric.NewManualReader()
		a, err := app.New(app.Deps{Store: st, Meter: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))})
		require.NoError(t, err)
		assert.Empty(t, counts(t, reader, "sanzhi.consent.refusals", "reason"), "nothing refused yet")

		bank := &access.Principal{ID: uuid.NewString(), Role: access.BankOfficer, Scope: access.Scope{Bank: "b1"}}
		household := "villages/330483102201/households/" + uuid.NewString()
		_, err = a.Lending.GetLine(ctx, bank, "banks/b1/products/p1", household, string(lending.PurposeAssessment), credit.Full)
		var f *fault.Error
		require.ErrorAs(t, err, &f)
		require.Equal(t, lending.ReasonConsentRequired, f.Reason)
		_, err = a.Lending.GetLine(ctx, bank, "banks/b1/products/p1", "not a name", string(lending.PurposeAssessment), credit.Full)
		require.Error(t, err, "a bad request is refused before any consent is asked")
		assert.Equal(t, map[string]int64{"CONSENT_REQUIRED|get_credit_line|assessment|": 1},
			counts(t, reader, "sanzhi.consent.refusals", "reason", "method", "purpose"))

		// A household refuses a bank's pending request: counted once, and
		// not again when refusing what is no longer pending is refused.
		hid, village := uuid.NewString(), "330483102201"
		c := &lending.Consent{ID: uuid.NewString(), Household: "villages/" + village + "/households/" + hid, Bank: "b1",
			Purposes: []lending.Purpose{lending.PurposeAssessment}, GrantTime: time.Now().Add(-time.Minute),
			Expires: time.Now().Add(time.Hour), Channel: lending.ChannelCounter, AuthorisationHash: strings.Repeat("ab", 32),
			RecordedBy: bank.ID, State: lending.ConsentPending}
		require.NoError(t, st.Lending().Write(ctx, func(tx credit.Writer) error { return tx.InsertConsent(ctx, c) }))
		hh := &access.Principal{ID: uuid.NewString(), Role: access.Household, Scope: access.Scope{Household: hid}}
		for range 2 {
			_, err = a.Lending.Refuse(ctx, hh, credit.ConsentName(village, hid, c.ID))
		}
		require.ErrorAs(t, err, &f)
		assert.Equal(t, credit.ReasonConsentNotPending, f.Reason)
		assert.Equal(t, map[string]int64{"CONSENT_REQUIRED|get_credit_line|assessment|": 1, "CONSENT_REFUSED|refuse_consent||": 1},
			counts(t, reader, "sanzhi.consent.refusals", "reason", "method", "purpose"))

		a.CountImportRows(ctx, "api", []evidence.RowResult{{}, {Duplicate: true}, {Err: errors.New("refused")}, {}})
		a.CountImportRows(ctx, "console", []evidence.RowResult{{Err: errors.New("refused")}})
		a.CountImportRows(ctx, "api", nil)
		assert.Equal(t, map[string]int64{"imported|api|": 2, "duplicate|api|": 1, "refused|api|": 1, "refused|console|": 1},
			counts(t, reader, "sanzhi.import.rows", "outcome", "channel"))
	})
}
