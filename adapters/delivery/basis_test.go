package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/lending/credit"
)

// TestDispatcherWithholdsWithoutLawfulBasis (issue 11, finding 2): a
// freeze of a line whose household gave the bank no consent (or revoked
// it) and owes it nothing reaches the bank's webhook as the line's name,
// the event type and the status only. The same event for a consenting
// household goes whole.
func TestDispatcherWithholdsWithoutLawfulBasis(t *testing.T) {
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		var mu sync.Mutex
		bodies := map[string]string{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			bodies[r.Header.Get("Sanzhi-Event-Id")] = string(b)
			mu.Unlock()
		}))
		t.Cleanup(srv.Close)
		d := newDispatcher(t, st, newKeyring(t), fast())
		setWebhook(t, d, srv.URL, nil)

		freeze := func(hh string) *credit.LineEvent {
			id, line := uuid.NewString(), hhID("line of "+hh)
			return &credit.LineEvent{Bank: bank, ID: id, Type: credit.EventLineFrozen, LineID: line,
				Village: "330483102201", HouseholdID: hh, Time: time.Now(),
				Payload: fmt.Appendf(nil, `{"id":%q,"type":"credit_line.frozen","bank":%q,"time":"t",`+
					`"credit_line":{"name":"banks/%s/products/p/creditLines/%s","household":"villages/330483102201/households/%s",`+
					`"limit":"50000.00","drawn":"0.00","available":"0.00","rate":"0.05","status":"frozen","valid_until":"2027-01-01",`+
					`"decision":"banks/%s/products/p/decisions/d1","freeze_reason":"blacklisted","version":3}}`,
					id, bank, bank, line, hh, bank)}
		}
		yes, no := hhID("consenting"), hhID("revoked-all")
		consentTo(t, st, bank, yes)
		whole, bare := freeze(yes), freeze(no)
		for _, ev := range []*credit.LineEvent{whole, bare} {
			require.NoError(t, st.Lending().Write(context.Background(), func(tx credit.Writer) error {
				return tx.AppendLineEvent(context.Background(), ev)
			}))
		}
		run(t, d)
		require.Eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(bodies) == 2
		}, 10*time.Second, 10*time.Millisecond)

		mu.Lock()
		defer mu.Unlock()
		assert.JSONEq(t, string(whole.Payload), bodies[whole.ID])
		got := bodies[bare.ID]
		for _, leak := range []string{no, "50000", "blacklisted", "household", "decision", "limit"} {
			assert.NotContains(t, got, leak)
		}
		var body struct {
			ID       string `json:"id"`
			Type     string `json:"type"`
			Withheld string `json:"withheld"`
			Line     struct {
				Name   string `json:"name"`
				Status string `json:"status"`
			} `json:"credit_line"`
		}
		require.NoError(t, json.Unmarshal([]byte(got), &body))
		assert.Equal(t, bare.ID, body.ID)
		assert.Equal(t, credit.EventLineFrozen, body.Type)
		assert.Equal(t, "no_lawful_basis", body.Withheld)
		assert.Equal(t, "banks/"+bank+"/products/p/creditLines/"+hhID("line of "+no), body.Line.Name)
		assert.Equal(t, "frozen", body.Line.Status)
	})
}
