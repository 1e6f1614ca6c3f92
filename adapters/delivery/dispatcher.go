// Package delivery delivers each bank's line events to the bank's webhook
// and serves the webhook API's operations (set, get, dead letters, replay).
//
// Delivery reads the line_events outbox, which the credit service writes in
// the transaction of the change itself: a rolled-back change has no event,
// and a committed one stays until delivered. Each bank's events go strictly
// in seq order, one at a time, so every household's events arrive in the
// order they happened. The cursor moves only after a 2xx answer or after
// the last attempt (the event is then dead-lettered), so a crash between
// sending and recording resends: delivery is at least once, and receivers
// deduplicate on the event id. The wire format is lending/webhook's.
//
// Several sanzhid instances may run a Dispatcher on one database: an
// instance leases a bank's endpoint (lease_owner, lease_until) before
// delivering and extends the lease with every event, and a lease that
// runs out (a crashed instance) is taken over.
package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending/credit"
	wh "github.com/sanzhi/sanzhi/lending/webhook"
)

// Config tunes a Dispatcher; zero fields take the defaults.
type Config struct {
	// Poll is how often the outbox is looked at when nothing calls Notify
	// (default 1 s).
	Poll time.Duration
	// Timeout bounds one delivery, from connecting to the end of the
	// answer's headers (default 10 s).
	Timeout time.Duration
	// MaxAttempts is how many failed attempts dead-letter an event
	// (default lending/webhook.MaxAttempts).
	MaxAttempts int
	// Backoff is the wait after the attempt-th failure (default
	// lending/webhook.Backoff with math/rand).
	Backoff func(attempt int) time.Duration
	// Lease is how long a claim on a bank lasts without progress (default
	// and minimum: twice Timeout plus 30 s, so a slow answer never loses it).
	Lease time.Duration
	// Workers bounds how many banks are delivered to at once (default 8).
	Workers int
	// Batch is how many events are read at a time (default 100).
	Batch int
	// RotationGrace is how long a replaced secret keeps signing beside
	// the new one (default 24 h).
	RotationGrace time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Client sends the requests (default: Timeout, no redirects, public
	// addresses only).
	Client *http.Client
	// AllowPrivateTargets lets webhooks go to loopback, private and other
	// non-public addresses (guard.go). For tests and demo mode only, whose
	// receivers run on the same machine; never set in production.
	AllowPrivateTargets bool
	// Owner names this instance in leases (default host, pid and a
	// random suffix).
	Owner string
	// Log receives delivery failures and dead letters (default discard).
	Log *slog.Logger
}

// Dispatcher delivers line events to the banks' webhooks.
type Dispatcher struct {
	store   Store
	keyring *pii.Keyring
	cfg     Config
	client  *http.Client
	log     *slog.Logger
	wake    chan struct{}

	mu       sync.Mutex
	inflight map[string]bool
	wg       sync.WaitGroup
}

// New returns a Dispatcher over store; keyring seals and opens the secrets.
func New(store Store, keyring *pii.Keyring, cfg Config) *Dispatcher {
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = wh.MaxAttempts
	}
	if cfg.Backoff == nil {
		cfg.Backoff = func(n int) time.Duration { return wh.Backoff(n, nil) }
	}
	if minLease := 2*cfg.Timeout + 30*time.Second; cfg.Lease < minLease {
		cfg.Lease = minLease
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 100
	}
	if cfg.RotationGrace <= 0 {
		cfg.RotationGrace = 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Owner == "" {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = rand.Read(b[:])
		cfg.Owner = host + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b[:])
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	client := cfg.Client
	if client == nil {
		client = newClient(cfg.Timeout, cfg.AllowPrivateTargets)
	}
	return &Dispatcher{store: store, keyring: keyring, cfg: cfg, client: client, log: log,
		wake: make(chan struct{}, 1), inflight: map[string]bool{}}
}

func (s *Dispatcher) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// Notify wakes the dispatcher, e.g. right after a transaction that wrote
// line events commits, so delivery need not wait for the next poll. It
// never blocks.
func (s *Dispatcher) Notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then waits for the deliveries in flight to
// stop (a request in flight is abandoned and will be resent).
func (s *Dispatcher) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		if err := s.dispatch(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("webhook dispatch", "error", err)
		}
		select {
		case <-ctx.Done():
			s.wg.Wait()
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

// dispatch claims the due banks that this instance is not already serving,
// up to the worker limit, and delivers to each in its own goroutine.
func (s *Dispatcher) dispatch(ctx context.Context) error {
	s.mu.Lock()
	free := s.cfg.Workers - len(s.inflight)
	s.mu.Unlock()
	if free <= 0 {
		return nil
	}
	now := s.now()
	var banks []string
	err := s.store.Read(ctx, func(tx Reader) error {
		var err error
		banks, err = tx.DueEndpoints(ctx, now, s.cfg.Workers*2)
		return err
	})
	if err != nil {
		return err
	}
	for _, bank := range banks {
		s.mu.Lock()
		busy := s.inflight[bank]
		full := len(s.inflight) >= s.cfg.Workers
		s.mu.Unlock()
		if full {
			break
		}
		if busy {
			continue
		}
		var claimed bool
		err := s.store.Write(ctx, func(tx Writer) error {
			var err error
			claimed, err = tx.ClaimEndpoint(ctx, bank, s.cfg.Owner, now, now.Add(s.cfg.Lease))
			return err
		})
		if err != nil {
			return err
		}
		if !claimed {
			continue
		}
		s.mu.Lock()
		s.inflight[bank] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.drain(ctx, bank); err != nil && ctx.Err() == nil {
				s.log.Warn("webhook delivery", "bank", bank, "error", err)
			}
			s.mu.Lock()
			delete(s.inflight, bank)
			s.mu.Unlock()
			// Events may have been committed while this bank was held.
			s.Notify()
		}()
	}
	return nil
}

// drain delivers the bank's events in order while it holds the lease:
// until none is left, one fails (it is retried after a backoff), or the
// lease is lost.
func (s *Dispatcher) drain(ctx context.Context, bank string) error {
	var ep *Endpoint
	for {
		// Each batch re-reads the endpoint, so a URL or secret set
		// meanwhile applies from the next batch on.
		var events []*credit.LineEvent
		lost := false
		err := s.store.Read(ctx, func(tx Reader) error {
			cur, err := tx.Endpoint(ctx, bank)
			if err != nil {
				return err
			}
			if cur.LeaseOwner != s.cfg.Owner || (ep != nil && cur.Cursor != ep.Cursor) {
				lost = true
				return nil
			}
			ep = cur
			events, err = tx.LineEvents(ctx, bank, ep.Cursor, s.cfg.Batch)
			return err
		})
		switch {
		case err != nil:
			if ep != nil {
				s.release(context.WithoutCancel(ctx), ep, ep.Attempts, ep.LastError)
			}
			return err
		case lost:
			return nil
		case len(events) == 0:
			s.release(context.WithoutCancel(ctx), ep, ep.Attempts, ep.LastError)
			return nil
		}
		for _, ev := range events {
			// Opened per event: the previous secret stops signing exactly
			// when its grace period ends, even within a long backlog.
			secrets, err := s.secrets(ep)
			if err != nil {
				// Nothing can be signed (e.g. the key was retired): back
				// off like a failed attempt, so it shows in last_error.
				s.release(context.WithoutCancel(ctx), ep, ep.Attempts+1, "cannot open the webhook secret")
				return err
			}
			// Judged now, at delivery, not when the event was written: a
			// household that revoked every consent and owes nothing since
			// is not the bank's to hear about (credit.ForDelivery).
			var d *credit.Delivery
			if err := s.store.Read(ctx, func(tx Reader) error {
				var err error
				d, err = credit.ForDelivery(ctx, tx, ev, credit.ActorWebhook, credit.MethodWebhook, s.now())
				return err
			}); err != nil {
				s.release(context.WithoutCancel(ctx), ep, ep.Attempts, ep.LastError)
				return err
			}
			attempt := ep.Attempts + 1
			err = s.post(ctx, delivery{url: ep.URL, secrets: secrets, event: d.Event, attempt: attempt})
			if ctx.Err() != nil {
				// Shutting down: this attempt does not count.
				s.release(context.WithoutCancel(ctx), ep, ep.Attempts, ep.LastError)
				return nil
			}
			if err == nil {
				if ok, err := s.advance(ctx, ep, ev, nil, attempt, d.Record); !ok || err != nil {
					return err
				}
				continue
			}
			if attempt < s.cfg.MaxAttempts {
				s.log.Info("webhook delivery failed", "bank", bank, "seq", ev.Seq, "event_id", ev.ID,
					"attempt", attempt, "error", err.Error())
				s.release(ctx, ep, attempt, err.Error())
				return nil
			}
			s.log.Warn("webhook event dead-lettered", "bank", bank, "seq", ev.Seq, "event_id", ev.ID,
				"attempts", attempt, "error", err.Error())
			if ok, err2 := s.advance(ctx, ep, ev, err, attempt, nil); !ok || err2 != nil {
				return err2
			}
		}
	}
}

// advance moves the cursor past ev and extends the lease: delivered when
// failure is nil (with rec, the delivery's query record, when it carried
// household data), otherwise dead-lettered with the failure. false when
// the lease was lost.
func (s *Dispatcher) advance(ctx context.Context, ep *Endpoint, ev *credit.LineEvent, failure error, attempts int, rec *audit.Record) (bool, error) {
	now := s.now()
	next := *ep
	next.Cursor, next.Attempts, next.LastError = ev.Seq, 0, ""
	next.NextAttemptTime, next.LeaseOwner, next.LeaseUntil = now, s.cfg.Owner, now.Add(s.cfg.Lease)
	var ok bool
	err := s.store.Write(ctx, func(tx Writer) error {
		var err error
		if ok, err = tx.UpdateDelivery(ctx, &next, s.cfg.Owner, ep.Cursor); err != nil || !ok {
			return err
		}
		if failure == nil {
			if rec == nil {
				return nil
			}
			return tx.Record(ctx, *rec)
		}
		err = tx.InsertDeadLetter(ctx, &DeadLetter{
			Bank: ep.Bank, Seq: ev.Seq, EventID: ev.ID, EventType: ev.Type,
			Attempts: attempts, LastError: failure.Error(), DeadTime: now,
		})
		if fault.Is(err, fault.AlreadyExists) {
			// Dead-lettered before by an instance whose lease ran out
			// between its insert and ours: the letter is there.
			return nil
		}
		return err
	})
	if err != nil || !ok {
		return false, err
	}
	*ep = next
	return true, nil
}

// release records the retry state (attempts and last error; the next
// attempt after the backoff when attempts > 0) and gives up the lease.
func (s *Dispatcher) release(ctx context.Context, ep *Endpoint, attempts int, lastError string) {
	now := s.now()
	next := *ep
	next.Attempts, next.LastError = attempts, lastError
	next.NextAttemptTime = now
	if attempts > ep.Attempts {
		next.NextAttemptTime = now.Add(s.cfg.Backoff(attempts))
	}
	next.LeaseOwner, next.LeaseUntil = "", now
	err := s.store.Write(ctx, func(tx Writer) error {
		_, err := tx.UpdateDelivery(ctx, &next, s.cfg.Owner, ep.Cursor)
		return err
	})
	if err != nil {
		// The lease runs out on its own; the attempt is then repeated.
		s.log.Warn("webhook: cannot record delivery state", "bank", ep.Bank, "error", err)
		return
	}
	*ep = next
}

// secrets opens the endpoint's current secret and, during a rotation's
// grace period, the previous one.
func (s *Dispatcher) secrets(ep *Endpoint) ([][]byte, error) {
	cur, err := s.keyring.Open(ep.Secret, SecretContext(ep.Bank))
	if err != nil {
		return nil, err
	}
	out := [][]byte{cur}
	if ep.Previous != nil && ep.PreviousUntil != nil && s.now().Before(*ep.PreviousUntil) {
		prev, err := s.keyring.Open(*ep.Previous, SecretContext(ep.Bank))
		if err != nil {
			return nil, err
		}
		out = append(out, prev)
	}
	return out, nil
}
