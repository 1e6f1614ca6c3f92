package delivery_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/delivery"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
	wh "github.com/sanzhi/sanzhi/lending/webhook"
)

const bank = "tongxiang-rcb"

var operator = &access.Principal{ID: "op-1", Name: "operator", Role: access.Operator}

// backends runs fn once per real store.
// backends runs fn on both engines (storetest.Backends).
func backends(t *testing.T, fn func(t *testing.T, st *sqlstore.Store)) {
	storetest.Backends(t, fn)
}

func newKeyring(t *testing.T) *pii.Keyring {
	t.Helper()
	secret, key := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(secret)
	_, _ = rand.Read(key)
	kr, err := pii.NewKeyring(secret, "k1", key)
	require.NoError(t, err)
	return kr
}

// fast is a dispatcher configuration that runs a test in well under a
// second per retry: short poll, timeout and backoff. Its receivers are
// httptest servers on loopback, so it allows private targets, which a
// production dispatcher refuses (guard_test.go).
func fast() delivery.Config {
	return delivery.Config{
		Poll:                20 * time.Millisecond,
		Timeout:             300 * time.Millisecond,
		Backoff:             func(int) time.Duration { return 30 * time.Millisecond },
		AllowPrivateTargets: true,
	}
}

// newDispatcher returns a dispatcher over st; run starts it until the test
// ends.
func newDispatcher(t *testing.T, st *sqlstore.Store, kr *pii.Keyring, cfg delivery.Config) *delivery.Dispatcher {
	t.Helper()
	return delivery.New(st.Webhooks(), kr, cfg)
}

func run(t *testing.T, d *delivery.Dispatcher) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// call is one request the receiver saw.
type call struct {
	ID      string
	Type    string
	N       int // the payload's n: the event's place in the test's order
	Attempt int
	Replay  bool
	Status  int
	SigErr  error
}

// receiver records every request and answers as answer says; it verifies
// each signature with the bank's secret.
type receiver struct {
	mu     sync.Mutex
	secret []byte
	now    func() time.Time // the receiver's clock (default time.Now)
	calls  []call
	// answer returns the status and a delay for the i-th request (0-based).
	answer func(i int, c call) (int, time.Duration)
}

func (r *receiver) setSecret(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secret = []byte(s)
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var p struct {
		N int `json:"n"`
	}
	_ = json.Unmarshal(body, &p)
	attempt, _ := strconv.Atoi(req.Header.Get(wh.HeaderDeliveryAttempt))
	r.mu.Lock()
	now := time.Now()
	if r.now != nil {
		now = r.now()
	}
	c := call{ID: req.Header.Get(wh.HeaderEventID), Type: req.Header.Get(wh.HeaderEventType), N: p.N, Attempt: attempt,
		Replay: req.Header.Get(wh.HeaderReplay) == "true",
		SigErr: wh.Verify(r.secret, req.Header.Get(wh.HeaderSignature), body, now, time.Minute)}
	if req.Header.Get("Content-Type") != "application/json" {
		c.SigErr = errors.New("content type " + req.Header.Get("Content-Type"))
	}
	status, delay := http.StatusOK, time.Duration(0)
	if r.answer != nil {
		status, delay = r.answer(len(r.calls), c)
	}
	c.Status = status
	i := len(r.calls)
	r.calls = append(r.calls, c)
	r.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-req.Context().Done():
			// The sender gave up; what it sees is a timeout.
			r.mu.Lock()
			r.calls[i].Status = 0
			r.mu.Unlock()
			return
		}
	}
	w.WriteHeader(status)
}

func (r *receiver) snapshot() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call(nil), r.calls...)
}

// accepted is the n of every request answered 2xx, in arrival order.
func (r *receiver) accepted() []int {
	var out []int
	for _, c := range r.snapshot() {
		if c.Status >= 200 && c.Status < 300 {
			out = append(out, c.N)
		}
	}
	return out
}

func seq(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// appendEvents commits one line event per n in ns, each in its own
// transaction, alternating between two households, and returns their ids.
func appendEvents(t *testing.T, st *sqlstore.Store, ns ...int) []string {
	t.Helper()
	var ids []string
	for _, n := range ns {
		ev := lineEvent(n)
		// The households gave the bank their consent: events go whole
		// (judged at delivery, credit.ForDelivery).
		consentTo(t, st, ev.Bank, ev.HouseholdID)
		err := st.Lending().Write(context.Background(), func(tx credit.Writer) error {
			return tx.AppendLineEvent(context.Background(), ev)
		})
		require.NoError(t, err)
		require.Positive(t, ev.Seq)
		ids = append(ids, ev.ID)
	}
	return ids
}

// hhID is a household id (a UUID) named by s.
func hhID(s string) string { return uuid.NewSHA1(uuid.NameSpaceURL, []byte(s)).String() }

// consentTo stores a granted consent of household hh (of village
// 330483102201) for bank b, once.
func consentTo(t *testing.T, st *sqlstore.Store, b, hh string) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	c := &lending.Consent{ID: "consent-" + b + "-" + hh, Household: "villages/330483102201/households/" + hh, Bank: b,
		Purposes: []lending.Purpose{lending.PurposePostLoan}, GrantTime: now.Add(-time.Hour), Expires: now.Add(24 * time.Hour),
		Channel: lending.ChannelApp, AuthorisationHash: strings.Repeat("ab", 32), RecordedBy: "hh", State: lending.ConsentGranted}
	err := st.Lending().Write(context.Background(), func(tx credit.Writer) error {
		return tx.InsertConsent(context.Background(), c)
	})
	if !fault.Is(err, fault.AlreadyExists) {
		require.NoError(t, err)
	}
}

func lineEvent(n int) *credit.LineEvent {
	id := uuid.NewString()
	hh := hhID(fmt.Sprintf("household-%d", n%2))
	return &credit.LineEvent{
		Bank: bank, ID: id, Type: credit.EventLineUpdated, LineID: "line-" + hh, Village: "330483102201",
		HouseholdID: hh, Time: time.Now(),
		Payload: fmt.Appendf(nil, `{"id":%q,"type":%q,"bank":%q,"n":%d}`, id, credit.EventLineUpdated, bank, n),
	}
}

// setWebhook points the bank at url and gives the receiver the secret.
func setWebhook(t *testing.T, d *delivery.Dispatcher, url string, r *receiver) *delivery.Endpoint {
	t.Helper()
	ep, secret, err := d.Set(context.Background(), operator, "banks/"+bank, url)
	require.NoError(t, err)
	require.Len(t, secret, 43, "32 bytes in base64url")
	if r != nil {
		r.setSecret(secret)
	}
	return ep
}

func endpoint(t *testing.T, d *delivery.Dispatcher) *delivery.Endpoint {
	t.Helper()
	ep, err := d.Get(context.Background(), "banks/"+bank+"/webhook")
	require.NoError(t, err)
	return ep
}

// requireRetriesOnly holds that the receiver saw the events in order, each
// arriving once or repeated only as consecutive retries of itself, and
// that every signature verified.
func requireRetriesOnly(t *testing.T, calls []call, want []int) {
	t.Helper()
	var order []int
	seenID := map[int]string{}
	for _, c := range calls {
		require.NoError(t, c.SigErr, "request %+v", c)
		if id, ok := seenID[c.N]; ok {
			require.Equal(t, id, c.ID, "a repeat of n=%d is the same event id", c.N)
		}
		seenID[c.N] = c.ID
		if len(order) == 0 || order[len(order)-1] != c.N {
			order = append(order, c.N)
		}
	}
	require.Equal(t, want, order, "events arrive in order, each once apart from retries")
}

func TestDispatcher(t *testing.T) {
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		t.Run("ReceiverDown", func(t *testing.T) { testReceiverDown(t, st) })
	})
}

func TestDispatcherSlowReceiver(t *testing.T) {
	backends(t, func(t *testing.T, st *sqlstore.Store) { testSlowReceiver(t, st) })
}

func TestDispatcherServerErrors(t *testing.T) {
	backends(t, func(t *testing.T, st *sqlstore.Store) { testServerErrors(t, st) })
}

func TestDispatcherRollback(t *testing.T) {
	backends(t, func(t *testing.T, st *sqlstore.Store) { testRollback(t, st) })
}

func TestDispatcherDeadLetters(t *testing.T) {
	backends(t, func(t *testing.T, st *sqlstore.Store) { testDeadLetters(t, st) })
}

func TestDispatcherLease(t *testing.T) {
	backends(t, func(t *testing.T, st *sqlstore.Store) { testLease(t, st) })
}

func TestDispatcherRotation(t *testing.T) {
	backends(t, func(t *testing.T, st *sqlstore.Store) { testRotation(t, st) })
}

// (a) The receiver is down (its port refuses connections), then starts on
// the same address: every event arrives, in order.
func testReceiverDown(t *testing.T, st *sqlstore.Store) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := lis.Addr().String()
	require.NoError(t, lis.Close())

	kr := newKeyring(t)
	d := newDispatcher(t, st, kr, fast())
	r := &receiver{}
	setWebhook(t, d, "http://"+addr+"/hooks/sanzhi", r)
	appendEvents(t, st, seq(1, 6)...)
	run(t, d)

	require.Eventually(t, func() bool { return endpoint(t, d).Attempts >= 3 }, 10*time.Second, 10*time.Millisecond)
	ep := endpoint(t, d)
	assert.Equal(t, "the receiver refused the connection", ep.LastError)
	assert.NotContains(t, ep.LastError, "/hooks/sanzhi", "no URL in the error")
	assert.NotContains(t, ep.LastError, addr, "no address: transport errors are not echoed to the bank")
	assert.Zero(t, ep.Cursor, "nothing delivered while down")

	lis, err = net.Listen("tcp", addr)
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(r)
	srv.Listener.Close()
	srv.Listener = lis
	srv.Start()
	t.Cleanup(srv.Close)
	d.Notify()

	require.Eventually(t, func() bool { return len(r.accepted()) == 6 }, 10*time.Second, 10*time.Millisecond)
	requireRetriesOnly(t, r.snapshot(), seq(1, 6))
	assert.Equal(t, seq(1, 6), r.accepted())
	calls := r.snapshot()
	assert.Greater(t, calls[0].Attempt, 3, "the first event counts the attempts made while down")
	assert.Equal(t, 1, calls[1].Attempt)
	require.Eventually(t, func() bool { e := endpoint(t, d); return e.Cursor == 6 && e.Attempts == 0 && e.LastError == "" },
		5*time.Second, 10*time.Millisecond)

	// New events after recovery follow at once (Notify), in order.
	appendEvents(t, st, 7, 8)
	d.Notify()
	require.Eventually(t, func() bool { return len(r.accepted()) == 8 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, seq(1, 8), r.accepted())
}

// (b) The receiver answers after the client timeout, then in time: the
// slow attempts fail and are retried, nothing is lost or reordered.
func testSlowReceiver(t *testing.T, st *sqlstore.Store) {
	r := &receiver{answer: func(i int, _ call) (int, time.Duration) {
		if i < 3 {
			return http.StatusOK, 2 * time.Second // far beyond the 300 ms timeout
		}
		return http.StatusOK, 0
	}}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	d := newDispatcher(t, st, newKeyring(t), fast())
	setWebhook(t, d, srv.URL, r)
	appendEvents(t, st, seq(1, 5)...)
	start := time.Now()
	run(t, d)

	require.Eventually(t, func() bool { return len(r.accepted()) == 5 }, 10*time.Second, 10*time.Millisecond)
	assert.Less(t, time.Since(start), 5*time.Second, "timeouts are the client's, not the receiver's delay")
	calls := r.snapshot()
	requireRetriesOnly(t, calls, seq(1, 5))
	assert.Equal(t, seq(1, 5), r.accepted())
	for i := range 3 {
		assert.Equal(t, 1, calls[i].N)
		assert.Equal(t, i+1, calls[i].Attempt)
		assert.Zero(t, calls[i].Status, "the sender gave up on it")
	}
	require.Eventually(t, func() bool { return endpoint(t, d).Cursor == 5 }, 5*time.Second, 10*time.Millisecond)
}

// (c) 500 for the first calls, then 200: all delivered in order, a repeat
// is only a retry of the same event id, with a growing attempt number.
func testServerErrors(t *testing.T, st *sqlstore.Store) {
	const failures = 4
	r := &receiver{answer: func(i int, _ call) (int, time.Duration) {
		if i < failures {
			return http.StatusInternalServerError, 0
		}
		return http.StatusNoContent, 0
	}}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	d := newDispatcher(t, st, newKeyring(t), fast())
	setWebhook(t, d, srv.URL, r)
	ids := appendEvents(t, st, seq(1, 10)...)
	run(t, d)

	require.Eventually(t, func() bool { return len(r.accepted()) == 10 }, 10*time.Second, 10*time.Millisecond)
	calls := r.snapshot()
	require.Len(t, calls, 10+failures, "no request beyond the retries")
	requireRetriesOnly(t, calls, seq(1, 10))
	for i := range failures + 1 {
		assert.Equal(t, ids[0], calls[i].ID)
		assert.Equal(t, i+1, calls[i].Attempt)
	}
	for i, c := range calls[failures:] {
		assert.Equal(t, ids[i], c.ID)
		assert.Equal(t, credit.EventLineUpdated, c.Type)
	}
	// Per household, too, the order holds (it is the bank's order).
	byHousehold := map[int][]int{}
	for _, n := range r.accepted() {
		byHousehold[n%2] = append(byHousehold[n%2], n)
	}
	assert.Equal(t, []int{2, 4, 6, 8, 10}, byHousehold[0])
	assert.Equal(t, []int{1, 3, 5, 7, 9}, byHousehold[1])
	require.Eventually(t, func() bool { return endpoint(t, d).Cursor == 10 }, 5*time.Second, 10*time.Millisecond)
}

// (e) An event written by a transaction that rolled back is never sent;
// the outbox only holds what committed.
func testRollback(t *testing.T, st *sqlstore.Store) {
	r := &receiver{}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	d := newDispatcher(t, st, newKeyring(t), fast())
	setWebhook(t, d, srv.URL, r)
	run(t, d)

	appendEvents(t, st, 1)
	ghost := lineEvent(2)
	errRollBack := errors.New("the change failed after writing its event")
	err := st.Lending().Write(context.Background(), func(tx credit.Writer) error {
		if err := tx.AppendLineEvent(context.Background(), ghost); err != nil {
			return err
		}
		return errRollBack
	})
	require.ErrorIs(t, err, errRollBack)
	d.Notify()
	appendEvents(t, st, 3)
	d.Notify()

	require.Eventually(t, func() bool { return len(r.accepted()) == 2 }, 10*time.Second, 10*time.Millisecond)
	// Give a stray delivery of the ghost time to show up.
	time.Sleep(200 * time.Millisecond)
	assert.Equal(t, []int{1, 3}, r.accepted())
	for _, c := range r.snapshot() {
		assert.NotEqual(t, ghost.ID, c.ID)
	}
	assert.EqualValues(t, 2, endpoint(t, d).Cursor, "the rolled-back event took no seq")
}

// (f) After MaxAttempts an event is dead-lettered and the next is
// delivered; the operator lists the dead letter and replays it.
func testDeadLetters(t *testing.T, st *sqlstore.Store) {
	var refuse atomic.Bool
	refuse.Store(true)
	var poison string
	var poisonMu sync.Mutex
	r := &receiver{answer: func(_ int, c call) (int, time.Duration) {
		poisonMu.Lock()
		defer poisonMu.Unlock()
		if c.ID == poison && refuse.Load() {
			return http.StatusUnprocessableEntity, 0
		}
		return http.StatusOK, 0
	}}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	cfg := fast()
	cfg.MaxAttempts = 3
	d := newDispatcher(t, st, newKeyring(t), cfg)
	setWebhook(t, d, srv.URL, r)
	ids := appendEvents(t, st, 1)
	poisonMu.Lock()
	poison = ids[0]
	poisonMu.Unlock()
	appendEvents(t, st, 2, 3)
	run(t, d)

	require.Eventually(t, func() bool { return len(r.accepted()) == 2 }, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, []int{2, 3}, r.accepted())
	calls := r.snapshot()
	require.Len(t, calls, 5)
	for i := range 3 {
		assert.Equal(t, poison, calls[i].ID)
		assert.Equal(t, http.StatusUnprocessableEntity, calls[i].Status)
	}

	parent := "banks/" + bank + "/webhook"
	page, err := d.ListDeadLetters(context.Background(), parent, 0, "")
	require.NoError(t, err)
	require.Len(t, page.DeadLetters, 1)
	dl := page.DeadLetters[0]
	assert.Equal(t, parent+"/deadLetters/1", dl.Name())
	assert.Equal(t, poison, dl.EventID)
	assert.Equal(t, credit.EventLineUpdated, dl.EventType)
	assert.Equal(t, 3, dl.Attempts)
	assert.Contains(t, dl.LastError, "HTTP 422")
	assert.Nil(t, dl.ReplayTime)
	assert.Empty(t, page.NextToken)

	// While the receiver still refuses, a replay fails and changes nothing.
	_, err = d.Replay(context.Background(), operator, dl.Name())
	require.Error(t, err)
	assert.True(t, fault.Is(err, fault.Unavailable), "%v", err)
	page, err = d.ListDeadLetters(context.Background(), parent, 0, "")
	require.NoError(t, err)
	assert.Nil(t, page.DeadLetters[0].ReplayTime)

	refuse.Store(false)
	got, err := d.Replay(context.Background(), operator, dl.Name())
	require.NoError(t, err)
	require.NotNil(t, got.ReplayTime)
	assert.Equal(t, operator.ID, got.ReplayedBy)
	last := r.snapshot()[len(r.snapshot())-1]
	assert.Equal(t, poison, last.ID)
	assert.True(t, last.Replay, "a replay says so")
	assert.Equal(t, 4, last.Attempt)
	require.NoError(t, last.SigErr)
	assert.Equal(t, []int{2, 3, 1}, r.accepted())

	_, err = d.Replay(context.Background(), operator, parent+"/deadLetters/2")
	assert.True(t, fault.Is(err, fault.NotFound), "%v", err)
	_, err = d.Replay(context.Background(), operator, parent+"/deadLetters/x")
	assert.True(t, fault.Is(err, fault.Invalid), "%v", err)

	// Paging through several dead letters, newest first.
	refuse.Store(true)
	for range 3 {
		// Counted before the events exist, and the first of them named
		// poison before the receiver answers for it (it waits on the
		// lock): the dispatcher may deliver them before this goroutine
		// runs again.
		n := len(r.snapshot())
		func() {
			poisonMu.Lock()
			defer poisonMu.Unlock()
			poison = appendEvents(t, st, 9)[0]
		}()
		d.Notify()
		require.Eventually(t, func() bool { return len(r.snapshot()) >= n+3 && endpoint(t, d).Attempts == 0 }, 10*time.Second, 10*time.Millisecond)
	}
	var seqs []int64
	token, firstToken := "", ""
	for range 10 {
		page, err := d.ListDeadLetters(context.Background(), parent, 2, token)
		require.NoError(t, err)
		for _, dl := range page.DeadLetters {
			seqs = append(seqs, dl.Seq)
		}
		if token = page.NextToken; token == "" {
			break
		}
		if firstToken == "" {
			firstToken = token
		}
	}
	assert.Equal(t, []int64{6, 5, 4, 1}, seqs)
	_, err = d.ListDeadLetters(context.Background(), "banks/other-bank/webhook", 2, firstToken)
	assert.True(t, fault.Is(err, fault.Invalid), "a token pages only its own list")
}

// Two instances on one database deliver each event once: the lease keeps
// the second off a bank the first is serving. A lease left by a crashed
// instance is taken over once it runs out.
func testLease(t *testing.T, st *sqlstore.Store) {
	var perID sync.Map
	r := &receiver{answer: func(_ int, c call) (int, time.Duration) {
		n, _ := perID.LoadOrStore(c.ID, new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
		return http.StatusOK, 5 * time.Millisecond
	}}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	kr := newKeyring(t)
	cfgA, cfgB := fast(), fast()
	cfgA.Owner, cfgB.Owner = "instance-a", "instance-b"
	a, b := newDispatcher(t, st, kr, cfgA), newDispatcher(t, st, kr, cfgB)
	setWebhook(t, a, srv.URL, r)

	// A crashed instance's lease, running for a while yet.
	var claimed bool
	now := time.Now()
	const lease = 2 * time.Second
	err := st.Webhooks().Write(context.Background(), func(tx delivery.Writer) error {
		var err error
		claimed, err = tx.ClaimEndpoint(context.Background(), bank, "crashed", now, now.Add(lease))
		return err
	})
	require.NoError(t, err)
	require.True(t, claimed)

	appendEvents(t, st, seq(1, 20)...)
	run(t, a)
	run(t, b)
	time.Sleep(300 * time.Millisecond)
	got := r.snapshot()
	// What arrived was read before the check; it counts only while the
	// lease surely held (a loaded machine can take the whole lease to get
	// here, and then the takeover below is what happens).
	if time.Since(now) < lease-100*time.Millisecond {
		assert.Empty(t, got, "nothing while another instance holds the lease")
	} else {
		t.Logf("the lease ran out before the check (%s): only the takeover is checked", time.Since(now))
	}

	require.Eventually(t, func() bool { return len(r.accepted()) == 20 }, 15*time.Second, 10*time.Millisecond)
	appendEvents(t, st, seq(21, 30)...)
	a.Notify()
	b.Notify()
	require.Eventually(t, func() bool { return len(r.accepted()) == 30 }, 15*time.Second, 10*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, seq(1, 30), r.accepted())
	perID.Range(func(id, n any) bool {
		assert.EqualValues(t, 1, n.(*atomic.Int32).Load(), "event %s delivered once", id)
		return true
	})
}

func TestDispatcherRestart(t *testing.T) {
	backends(t, func(t *testing.T, st *sqlstore.Store) { testRestart(t, st) })
}

// A dispatcher stopped in the middle of a delivery (a shutdown, or a
// crash once its lease runs out) loses nothing: the next one resends the
// event it was sending and goes on in order.
func testRestart(t *testing.T, st *sqlstore.Store) {
	r := &receiver{answer: func(int, call) (int, time.Duration) { return http.StatusOK, 100 * time.Millisecond }}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	kr := newKeyring(t)
	first := newDispatcher(t, st, kr, fast())
	setWebhook(t, first, srv.URL, r)
	appendEvents(t, st, seq(1, 6)...)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); first.Run(ctx) }()
	require.Eventually(t, func() bool { return len(r.accepted()) >= 2 }, 10*time.Second, 5*time.Millisecond)
	time.Sleep(50 * time.Millisecond) // into the next request
	cancel()
	<-done
	stoppedAt := len(r.accepted())
	require.Less(t, stoppedAt, 6)
	assert.Equal(t, "", endpoint(t, first).LeaseOwner, "a stopping dispatcher gives its lease back")

	run(t, newDispatcher(t, st, kr, fast()))
	require.Eventually(t, func() bool { return endpoint(t, first).Cursor == 6 }, 10*time.Second, 10*time.Millisecond)
	requireRetriesOnly(t, r.snapshot(), seq(1, 6))
}

// (d) Signatures verify with lending/delivery.Verify under the secret shown
// once; after a rotation both the new and the old secret verify until the
// grace period ends. The secret is stored only sealed.
func testRotation(t *testing.T, st *sqlstore.Store) {
	clock := &fakeClock{}
	r := &receiver{now: clock.Now}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	kr := newKeyring(t)
	cfg := fast()
	cfg.Now = clock.Now
	cfg.RotationGrace = time.Hour
	d := newDispatcher(t, st, kr, cfg)
	ep, first, err := d.Set(context.Background(), operator, "banks/"+bank, srv.URL)
	require.NoError(t, err)
	assert.NotContains(t, string(ep.Secret.Ciphertext), first)
	opened, err := kr.Open(ep.Secret, delivery.SecretContext(bank))
	require.NoError(t, err)
	assert.Equal(t, first, string(opened))
	_, err = kr.Open(ep.Secret, delivery.SecretContext("other-bank"))
	require.Error(t, err, "a sealed secret is bound to its bank")
	r.setSecret(first)
	run(t, d)

	appendEvents(t, st, 1)
	d.Notify()
	require.Eventually(t, func() bool { return len(r.accepted()) == 1 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, r.snapshot()[0].SigErr)
	// The receiver answers before the dispatcher commits the cursor; wait
	// for the commit so the rotation below is measured against it.
	require.Eventually(t, func() bool { return endpoint(t, d).Cursor == 1 }, 10*time.Second, 10*time.Millisecond)

	ep2, second, err := d.Set(context.Background(), operator, "banks/"+bank, srv.URL)
	require.NoError(t, err)
	assert.NotEqual(t, first, second)
	assert.EqualValues(t, 1, ep2.Cursor, "a new secret keeps the position")
	require.NotNil(t, ep2.PreviousUntil)
	assert.WithinDuration(t, clock.Now().Add(time.Hour), *ep2.PreviousUntil, time.Second)

	// Old and new secret both verify during the grace period.
	appendEvents(t, st, 2)
	d.Notify()
	require.Eventually(t, func() bool { return len(r.accepted()) == 2 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, r.snapshot()[1].SigErr, "the old secret still verifies")
	r.setSecret(second)
	appendEvents(t, st, 3)
	d.Notify()
	require.Eventually(t, func() bool { return len(r.accepted()) == 3 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, r.snapshot()[2].SigErr, "the new secret verifies")

	// After the grace period the old one no longer does.
	clock.Advance(2 * time.Hour)
	r.setSecret(first)
	appendEvents(t, st, 4)
	d.Notify()
	require.Eventually(t, func() bool { return len(r.snapshot()) >= 4 }, 10*time.Second, 10*time.Millisecond)
	require.ErrorIs(t, r.snapshot()[3].SigErr, wh.ErrMismatch)
}

// fakeClock is the real time plus an offset a test moves forward, so that
// leases and backoffs still pass while a test jumps hours ahead.
type fakeClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

func TestSetValidates(t *testing.T) {
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		d := newDispatcher(t, st, newKeyring(t), fast())
		ctx := context.Background()
		for _, bad := range []struct{ bank, url, field string }{
			{"banks/" + bank, "http://bank.example.com/hook", "url"},
			{"banks/" + bank, "ftp://bank.example.com/hook", "url"},
			{"banks/" + bank, "https://user:pw@bank.example.com/hook", "url"},
			{"banks/" + bank, "https://bank.example.com/hook#x", "url"},
			{"banks/" + bank, "/hook", "url"},
			{"banks/" + bank, "https:///hook", "url"},
			{"banks/" + bank, "", "url"},
			{"banks/Tongxiang", "https://bank.example.com/hook", "bank"},
			{"bank/" + bank, "https://bank.example.com/hook", "bank"},
		} {
			_, _, err := d.Set(ctx, operator, bad.bank, bad.url)
			var f *fault.Error
			require.ErrorAs(t, err, &f, "%s %s", bad.bank, bad.url)
			require.Equal(t, fault.Invalid, f.Kind)
			require.Len(t, f.Violations, 1)
			assert.Equal(t, bad.field, f.Violations[0].Field)
		}
		for _, good := range []string{"https://bank.example.com/hook?x=1", "http://127.0.0.1:8080/hook",
			"http://localhost/hook", "http://[::1]:9/hook", "https://10.1.2.3/hook"} {
			_, _, err := d.Set(ctx, operator, "banks/"+bank, good)
			require.NoError(t, err, good)
		}
		_, err := d.Get(ctx, "banks/other-bank/webhook")
		assert.True(t, fault.Is(err, fault.NotFound))
		_, err = d.Get(ctx, "banks/"+bank)
		assert.True(t, fault.Is(err, fault.Invalid))

		// A first Set starts after the bank's latest event.
		appendEventsFor(t, st, "late-bank", 3)
		_, _, err = d.Set(ctx, operator, "banks/late-bank", "https://late.example.com/hook")
		require.NoError(t, err)
		ep, err := d.Get(ctx, "banks/late-bank/webhook")
		require.NoError(t, err)
		assert.EqualValues(t, 3, ep.Cursor)
	})
}

func appendEventsFor(t *testing.T, st *sqlstore.Store, b string, n int) {
	t.Helper()
	for i := range n {
		ev := lineEvent(i)
		ev.Bank = b
		require.NoError(t, st.Lending().Write(context.Background(), func(tx credit.Writer) error {
			return tx.AppendLineEvent(context.Background(), ev)
		}))
	}
}
