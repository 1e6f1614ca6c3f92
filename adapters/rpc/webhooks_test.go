package rpc_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/sanzhi/sanzhi/adapters/delivery"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/lending/credit"
	wh "github.com/sanzhi/sanzhi/lending/webhook"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

const hookBank = "tongxiang-rcb"

// webhookFixture serves WebhookService through the real chain on e's
// store, with a running dispatcher and a receiver that refuses while
// refuse is set.
type webhookFixture struct {
	client   sanzhiv1.WebhookServiceClient
	srv      *httptest.Server
	refuse   atomic.Bool
	replays  atomic.Int32
	accepted atomic.Int32
	// stop ends the background dispatcher (replays still work): its
	// deliveries write query records of their own, which a test counting
	// audit entries must not see land beside the call it measures.
	stop func()
}

func newWebhookFixture(t testing.TB, e *env) *webhookFixture {
	t.Helper()
	f := &webhookFixture{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.refuse.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if r.Header.Get(wh.HeaderReplay) == "true" {
			f.replays.Add(1)
		}
		f.accepted.Add(1)
	}))
	t.Cleanup(f.srv.Close)

	secret, key := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(secret)
	_, _ = rand.Read(key)
	kr, err := pii.NewKeyring(secret, "k1", key)
	require.NoError(t, err)
	d := delivery.New(e.st.Webhooks(), kr, delivery.Config{
		Poll: 20 * time.Millisecond, Timeout: 10 * time.Second, MaxAttempts: 2,
		Backoff:             func(int) time.Duration { return 10 * time.Millisecond },
		AllowPrivateTargets: true, // the receiver is an httptest server on loopback
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	var once sync.Once
	f.stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(f.stop)

	v, err := rpc.NewValidator()
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	gs := grpc.NewServer(rpc.ServerOptions(rpc.Chain(log, rpc.NewAuthenticator(e.st.Principals(), false), v))...)
	sanzhiv1.RegisterWebhookServiceServer(gs, rpc.NewWebhooks(d))
	conn := serveBufconn(t, gs)
	f.client = sanzhiv1.NewWebhookServiceClient(conn)
	return f
}

// appendLineEvent commits one line event of bank, as the credit service
// does in the transaction of a change.
func appendLineEvent(t testing.TB, st *sqlstore.Store, bank string) {
	t.Helper()
	id := uuid.NewString()
	ev := &credit.LineEvent{Bank: bank, ID: id, Type: credit.EventLineUpdated, LineID: "line-1", Village: villageA,
		HouseholdID: "hh-1", Time: time.Now(), Payload: fmt.Appendf(nil, `{"id":%q}`, id)}
	require.NoError(t, st.Lending().Write(context.Background(), func(tx credit.Writer) error {
		return tx.AppendLineEvent(context.Background(), ev)
	}))
}

// deadLetter sets the bank's webhook (as risk-1), has one event
// dead-lettered while the receiver refuses, and returns its name; the
// receiver accepts from then on.
func (f *webhookFixture) deadLetter(t testing.TB, e *env) string {
	t.Helper()
	_, err := f.client.SetWebhook(e.as("risk-1"), &sanzhiv1.SetWebhookRequest{Bank: "banks/" + hookBank, Url: f.srv.URL})
	require.NoError(t, err)
	f.refuse.Store(true)
	appendLineEvent(t, e.st, hookBank)
	var name string
	require.Eventually(t, func() bool {
		resp, err := f.client.ListDeadLetters(e.as("operator"), &sanzhiv1.ListDeadLettersRequest{Parent: "banks/" + hookBank + "/webhook"})
		if err != nil || len(resp.DeadLetters) == 0 {
			return false
		}
		name = resp.DeadLetters[0].Name
		return true
	}, 30*time.Second, 10*time.Millisecond)
	f.refuse.Store(false)
	return name
}

func TestWebhookService(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		f := newWebhookFixture(t, e)
		risk := e.as("risk-1")
		bankName := "banks/" + hookBank

		set, err := f.client.SetWebhook(risk, &sanzhiv1.SetWebhookRequest{Bank: bankName, Url: f.srv.URL})
		require.NoError(t, err)
		assert.Len(t, set.Secret, 43)
		assert.Equal(t, bankName+"/webhook", set.Webhook.Name)
		assert.Equal(t, f.srv.URL, set.Webhook.Url)
		assert.Equal(t, e.ids["risk-1"], set.Webhook.CreatedBy)
		assert.Nil(t, set.Webhook.PreviousSecretExpireTime)

		got, err := f.client.GetWebhook(e.as("operator"), &sanzhiv1.GetWebhookRequest{Name: bankName + "/webhook"})
		require.NoError(t, err)
		assert.Equal(t, f.srv.URL, got.Url)
		assert.NotContains(t, got.String(), set.Secret, "the secret is shown once")

		// An operator may not redirect a bank's events, nor receive its
		// new secret: only the bank's own risk staff set its webhook.
		before := snapshot(t, e)
		_, err = f.client.SetWebhook(e.as("operator"), &sanzhiv1.SetWebhookRequest{Bank: bankName, Url: f.srv.URL + "/evil"})
		requireCode(t, err, codes.PermissionDenied, "", "")
		assert.Equal(t, before, snapshot(t, e), "the refusal writes nothing")
		got, err = f.client.GetWebhook(e.as("operator"), &sanzhiv1.GetWebhookRequest{Name: bankName + "/webhook"})
		require.NoError(t, err)
		assert.Equal(t, f.srv.URL, got.Url, "still the bank's own endpoint")

		// Rotation: the old secret signs on for a while.
		again, err := f.client.SetWebhook(e.as("risk-2"), &sanzhiv1.SetWebhookRequest{Bank: bankName, Url: f.srv.URL + "/v2"})
		require.NoError(t, err)
		assert.NotEqual(t, set.Secret, again.Secret)
		assert.NotNil(t, again.Webhook.PreviousSecretExpireTime)
		assert.Equal(t, e.ids["risk-1"], again.Webhook.CreatedBy)
		assert.Equal(t, e.ids["risk-2"], again.Webhook.UpdatedBy)

		// Who may: the bank's risk managers set; operators read the status
		// and the dead letters.
		_, err = f.client.SetWebhook(e.as("risk-other"), &sanzhiv1.SetWebhookRequest{Bank: bankName, Url: f.srv.URL})
		requireCode(t, err, codes.PermissionDenied, "", "")
		_, err = f.client.GetWebhook(e.as("bank"), &sanzhiv1.GetWebhookRequest{Name: bankName + "/webhook"})
		requireCode(t, err, codes.PermissionDenied, "", "")
		_, err = f.client.GetWebhook(e.as("regulator"), &sanzhiv1.GetWebhookRequest{Name: bankName + "/webhook"})
		requireCode(t, err, codes.PermissionDenied, "", "")
		_, err = f.client.ListDeadLetters(e.as("risk-other"), &sanzhiv1.ListDeadLettersRequest{Parent: bankName + "/webhook"})
		requireCode(t, err, codes.PermissionDenied, "", "")
		_, err = f.client.GetWebhook(e.as("risk-other"), &sanzhiv1.GetWebhookRequest{Name: "banks/other-bank/webhook"})
		requireCode(t, err, codes.NotFound, "", "")

		// Bad input names the field.
		_, err = f.client.SetWebhook(risk, &sanzhiv1.SetWebhookRequest{Bank: bankName, Url: "http://bank.example.com/hook"})
		requireCode(t, err, codes.InvalidArgument, "url", "https")
		_, err = f.client.SetWebhook(risk, &sanzhiv1.SetWebhookRequest{Bank: bankName + "/x", Url: f.srv.URL})
		requireCode(t, err, codes.InvalidArgument, "bank", "")
		_, err = f.client.ReplayDeadLetter(risk, &sanzhiv1.ReplayDeadLetterRequest{Name: bankName + "/webhook/deadLetters/0"})
		requireCode(t, err, codes.InvalidArgument, "name", "")
		_, err = f.client.ListDeadLetters(risk, &sanzhiv1.ListDeadLettersRequest{Parent: bankName + "/webhook", PageToken: "nope"})
		requireCode(t, err, codes.InvalidArgument, "page_token", "")

		// A dead letter: listed, replayed by the bank's risk manager.
		name := f.deadLetter(t, e)
		list, err := f.client.ListDeadLetters(risk, &sanzhiv1.ListDeadLettersRequest{Parent: bankName + "/webhook"})
		require.NoError(t, err)
		require.Len(t, list.DeadLetters, 1)
		dl := list.DeadLetters[0]
		assert.Equal(t, name, dl.Name)
		assert.EqualValues(t, 2, dl.Attempts)
		assert.Contains(t, dl.LastError, "HTTP 503")
		assert.Equal(t, credit.EventLineUpdated, dl.EventType)
		assert.Nil(t, dl.ReplayTime)

		f.refuse.Store(true)
		_, err = f.client.ReplayDeadLetter(risk, &sanzhiv1.ReplayDeadLetterRequest{Name: name})
		requireCode(t, err, codes.Unavailable, "", "")
		assert.Equal(t, "WEBHOOK_DELIVERY_FAILED", reasonOf(err))
		f.refuse.Store(false)
		replayed, err := f.client.ReplayDeadLetter(risk, &sanzhiv1.ReplayDeadLetterRequest{Name: name})
		require.NoError(t, err)
		require.NotNil(t, replayed.ReplayTime)
		assert.Equal(t, e.ids["risk-1"], replayed.ReplayedBy)
		assert.EqualValues(t, 1, f.replays.Load())
		_, err = f.client.ReplayDeadLetter(e.as("risk-other"), &sanzhiv1.ReplayDeadLetterRequest{Name: name})
		requireCode(t, err, codes.PermissionDenied, "", "")
	})
}

func TestWebhooksWithoutDispatcher(t *testing.T) {
	t.Parallel()
	_, err := rpc.NewWebhooks(nil).GetWebhook(context.Background(), &sanzhiv1.GetWebhookRequest{Name: "banks/b/webhook"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "does not deliver webhooks")
}
