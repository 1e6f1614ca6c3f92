package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sanzhi/sanzhi/lending/credit"
	wh "github.com/sanzhi/sanzhi/lending/webhook"
)

// maxErrorLen bounds last_error: it is shown to operators and banks, not
// a place for a receiver's whole error page.
const maxErrorLen = 300

// delivery is one POST of one event.
type delivery struct {
	url     string
	secrets [][]byte // the current secret first
	event   *credit.LineEvent
	attempt int
	replay  bool
}

// post sends d and returns nil when the receiver answered 2xx. The error
// text is safe to store and show: it never holds the URL (which may carry
// a token of the bank's), a secret or the response body.
func (s *Dispatcher) post(ctx context.Context, d delivery) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(d.event.Payload))
	if err != nil {
		return errors.New("the webhook URL cannot be requested")
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "sanzhi-webhook/1")
	h.Set(wh.HeaderSignature, wh.SignAll(d.secrets, s.now(), d.event.Payload))
	h.Set(wh.HeaderEventID, d.event.ID)
	h.Set(wh.HeaderEventType, d.event.Type)
	h.Set(wh.HeaderDeliveryAttempt, strconv.Itoa(d.attempt))
	if d.replay {
		h.Set(wh.HeaderReplay, "true")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return describe(err, s.cfg.Timeout)
	}
	// Drain a little so the connection can be reused; the body itself is
	// not kept.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the receiver answered HTTP %d", resp.StatusCode)
	}
	return nil
}

// describe turns a client error into a short message without the URL.
func describe(err error, timeout time.Duration) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Errorf("no answer within %s", timeout)
		}
		err = ue.Err
	}
	msg := strings.ToValidUTF8(err.Error(), "?")
	if len(msg) > maxErrorLen {
		msg = strings.ToValidUTF8(msg[:maxErrorLen], "")
	}
	return errors.New(msg)
}

// newClient is the HTTP client of deliveries: a timeout per request, and
// redirects are not followed, since a redirect would send a signed event
// somewhere the bank did not register; it counts as a failure.
func newClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
