package delivery

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/paging"
)

// SecretSize is the size of a generated webhook secret in bytes.
const SecretSize = 32

// maxURLLen bounds a webhook URL.
const maxURLLen = 2048

// bankSlug is a bank id, as in policy names.
var bankSlug = regexp.MustCompile(`^[a-z][a-z0-9-]{1,62}$`)

// Who may call which method for which bank has been checked by the caller
// (the RPC authorisation table); these methods check names and state.

// Set points the bank named by bank ("banks/{bank}") at rawURL with a new
// secret, generated here and returned once in base64url; only its sealed
// form is stored. A first Set starts delivery after the bank's latest
// event (earlier ones are in the credit line API); a later one keeps the
// cursor, retries the pending event at once, and lets the replaced secret
// sign beside the new one for Config.RotationGrace.
func (s *Dispatcher) Set(ctx context.Context, p *access.Principal, bank, rawURL string) (*Endpoint, string, error) {
	id, err := parseBank(bank, "bank")
	if err != nil {
		return nil, "", err
	}
	if err := CheckURL(rawURL, "url"); err != nil {
		return nil, "", err
	}
	if !s.cfg.AllowPrivateTargets {
		if err := checkTarget(rawURL, "url"); err != nil {
			return nil, "", err
		}
	}
	raw := make([]byte, SecretSize)
	if _, err := rand.Read(raw); err != nil {
		return nil, "", fault.Wrap(err, fault.Internal, "RANDOM", "cannot generate a secret")
	}
	secret := base64.RawURLEncoding.EncodeToString(raw)
	// The bank signs with the text it was shown, so that text is the key.
	sealed, err := s.keyring.Seal([]byte(secret), SecretContext(id))
	if err != nil {
		return nil, "", fault.Wrap(err, fault.Internal, "SEAL", "cannot seal the webhook secret")
	}
	now := s.now()
	var out *Endpoint
	err = s.store.Write(ctx, func(tx Writer) error {
		ep, err := tx.Endpoint(ctx, id)
		action := "webhook.update"
		switch {
		case fault.Is(err, fault.NotFound):
			head, err := tx.LineEventHead(ctx, id)
			if err != nil {
				return err
			}
			ep = &Endpoint{Bank: id, Cursor: head, LeaseUntil: now, CreatedBy: p.ID, CreateTime: now}
			action = "webhook.create"
		case err != nil:
			return err
		default:
			prev, until := ep.Secret, now.Add(s.cfg.RotationGrace)
			ep.Previous, ep.PreviousUntil = &prev, &until
		}
		ep.URL, ep.Secret = rawURL, sealed
		ep.Attempts, ep.NextAttemptTime, ep.LastError = 0, now, ""
		ep.UpdatedBy, ep.UpdateTime = p.ID, now
		if action == "webhook.create" {
			err = tx.InsertEndpoint(ctx, ep)
		} else {
			err = tx.UpdateEndpoint(ctx, ep)
		}
		if err != nil {
			return err
		}
		out = ep
		return tx.Record(ctx, audit.Record{
			Time: now, Actor: p.ID, Action: action, Subject: ep.Name(),
			RequestHash: audit.HashBytes([]byte(action + "\x00" + ep.Name() + "\x00" + rawURL)),
			// The secret is never in the log, not even hashed: a hash of
			// 256 random bits is as good as the secret for checking a
			// guess, and there is nothing to guess, but a leaf is forever.
			ResultHash: audit.HashBytes(fmt.Appendf(nil, "%s\x00%s\x00%d", ep.Name(), ep.URL, ep.Cursor)),
			Payload:    map[string]string{"bank": id, "url_host": hostOf(rawURL), "cursor": strconv.FormatInt(ep.Cursor, 10)},
		})
	})
	if err != nil {
		return nil, "", err
	}
	s.Notify()
	return out, secret, nil
}

// Get returns the webhook named by name ("banks/{bank}/webhook").
func (s *Dispatcher) Get(ctx context.Context, name string) (*Endpoint, error) {
	bank, err := parseEndpointName(name, "name")
	if err != nil {
		return nil, err
	}
	var out *Endpoint
	err = s.store.Read(ctx, func(tx Reader) error {
		var err error
		out, err = tx.Endpoint(ctx, bank)
		return err
	})
	return out, err
}

// Page is one page of dead letters and the token for the next.
type Page struct {
	DeadLetters []*DeadLetter
	NextToken   string
}

// ListDeadLetters returns a page of the dead letters of the webhook named
// by parent, newest first.
func (s *Dispatcher) ListDeadLetters(ctx context.Context, parent string, pageSize int32, pageToken string) (Page, error) {
	bank, err := parseEndpointName(parent, "parent")
	if err != nil {
		return Page{}, err
	}
	var v fault.Violations
	scope := "deadLetters|" + parent
	before, _ := paging.IntCursor(pageToken, scope, &v)
	limit := paging.Limit(pageSize, &v)
	if err := v.Err(); err != nil {
		return Page{}, err
	}
	var items []*DeadLetter
	err = s.store.Read(ctx, func(tx Reader) error {
		var err error
		items, err = tx.DeadLetters(ctx, bank, before, limit+1)
		return err
	})
	if err != nil {
		return Page{}, err
	}
	page := Page{DeadLetters: items}
	if len(items) > limit {
		page.DeadLetters = items[:limit]
		page.NextToken = paging.Token(scope, strconv.FormatInt(items[limit-1].Seq, 10))
	}
	return page, nil
}

// Replay sends the dead-lettered event named by name
// ("banks/{bank}/webhook/deadLetters/{seq}") to the bank's webhook now,
// with the replay header, and on a 2xx answer records who replayed it and
// when. A failed replay changes nothing and is Unavailable with reason
// WEBHOOK_DELIVERY_FAILED; it may be repeated.
func (s *Dispatcher) Replay(ctx context.Context, p *access.Principal, name string) (*DeadLetter, error) {
	bank, seq, err := parseDeadLetterName(name, "name")
	if err != nil {
		return nil, err
	}
	var (
		ep *Endpoint
		dl *DeadLetter
		ev *credit.LineEvent
	)
	err = s.store.Read(ctx, func(tx Reader) error {
		var err error
		if dl, err = tx.DeadLetter(ctx, bank, seq); err != nil {
			return err
		}
		if ep, err = tx.Endpoint(ctx, bank); err != nil {
			return err
		}
		evs, err := tx.LineEvents(ctx, bank, seq-1, 1)
		if err != nil {
			return err
		}
		if len(evs) == 0 || evs[0].Seq != seq {
			return fault.New(fault.NotFound, "LINE_EVENT_NOT_FOUND", "the event of %s is no longer stored", name)
		}
		ev = evs[0]
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Judged at the replay, like any delivery: whole under a lawful basis
	// (and then a query record of the household beside the replay's own),
	// withheld otherwise.
	var d *credit.Delivery
	if err := s.store.Read(ctx, func(tx Reader) error {
		var err error
		d, err = credit.ForDelivery(ctx, tx, ev, p.ID, credit.MethodWebhook, s.now())
		return err
	}); err != nil {
		return nil, err
	}
	secrets, err := s.secrets(ep)
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "WEBHOOK_SECRET", "cannot open the webhook secret of banks/%s", bank)
	}
	if err := s.post(ctx, delivery{url: ep.URL, secrets: secrets, event: d.Event, attempt: dl.Attempts + 1, replay: true}); err != nil {
		return nil, fault.Wrap(err, fault.Unavailable, "WEBHOOK_DELIVERY_FAILED", "replaying %s failed: %v", name, err)
	}
	now := s.now()
	err = s.store.Write(ctx, func(tx Writer) error {
		if err := tx.MarkReplayed(ctx, bank, seq, now, p.ID); err != nil {
			return err
		}
		var err error
		if dl, err = tx.DeadLetter(ctx, bank, seq); err != nil {
			return err
		}
		if d.Record != nil {
			if err := tx.Record(ctx, *d.Record); err != nil {
				return err
			}
		}
		return tx.Record(ctx, audit.Record{
			Time: now, Actor: p.ID, Action: "webhook.replay", Subject: dl.Name(),
			RequestHash: audit.HashBytes([]byte("webhook.replay\x00" + dl.Name())),
			ResultHash:  audit.HashBytes([]byte(dl.Name() + "\x00" + dl.EventID)),
			Payload: map[string]string{"bank": bank, "seq": strconv.FormatInt(seq, 10),
				"event_id": dl.EventID, "event_type": dl.EventType},
		})
	})
	if err != nil {
		return nil, err
	}
	return dl, nil
}

// CheckURL accepts an absolute https URL, or http for a loopback host
// (a receiver on the same machine, and tests). Credentials in the URL are
// refused: they would be stored and shown in clear, and the signature is
// what authenticates sanzhi to the bank.
func CheckURL(raw, field string) error {
	if raw == "" || len(raw) > maxURLLen {
		return fault.InvalidField(field, "must be an https URL of at most %d bytes", maxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return fault.InvalidField(field, "must be an absolute https URL")
	}
	if u.User != nil {
		return fault.InvalidField(field, "must not carry a user name or password")
	}
	if u.Fragment != "" || strings.HasSuffix(raw, "#") {
		return fault.InvalidField(field, "must not have a fragment")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fault.InvalidField(field, "must be https; http is accepted only for a loopback host")
	}
	return fault.InvalidField(field, "must be an https URL")
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// hostOf is the URL's host, for the audit log: enough to see where events
// go, without a path that might carry a token.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

func parseBank(name, field string) (string, error) {
	id, ok := strings.CutPrefix(name, "banks/")
	if !ok || !bankSlug.MatchString(id) {
		return "", fault.InvalidField(field, "must be banks/{bank} (a lower-case id), got %q", name)
	}
	return id, nil
}

func parseEndpointName(name, field string) (string, error) {
	parent, ok := strings.CutSuffix(name, "/webhook")
	if !ok {
		return "", fault.InvalidField(field, "must be banks/{bank}/webhook, got %q", name)
	}
	if _, err := parseBank(parent, field); err != nil {
		return "", fault.InvalidField(field, "must be banks/{bank}/webhook, got %q", name)
	}
	return strings.TrimPrefix(parent, "banks/"), nil
}

func parseDeadLetterName(name, field string) (string, int64, error) {
	parent, seqText, ok := strings.Cut(name, "/deadLetters/")
	bank, err := parseEndpointName(parent, field)
	n, cerr := strconv.ParseInt(seqText, 10, 64)
	if !ok || err != nil || cerr != nil || n < 1 || strconv.FormatInt(n, 10) != seqText {
		return "", 0, fault.InvalidField(field, "must be banks/{bank}/webhook/deadLetters/{seq}, got %q", name)
	}
	return bank, n, nil
}
