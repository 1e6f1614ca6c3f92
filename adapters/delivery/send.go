package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/sanzhi/sanzhi/lending/credit"
	wh "github.com/sanzhi/sanzhi/lending/webhook"
)

// delivery is one POST of one event.
type delivery struct {
	url     string
	secrets [][]byte // the current secret first
	event   *credit.LineEvent
	attempt int
	replay  bool
}

// post sends d and returns nil when the receiver answered 2xx. The error
// text is safe to store and show: one of describe's fixed sentences or the
// status code, never the URL (which may carry a token of the bank's), an
// address, a secret or the response body.
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
		// The bank sees a fixed sentence; what happened, with addresses,
		// is for the operator's log only (the host, not the URL, which may
		// carry the bank's token).
		s.log.Warn("webhook transport error", "bank", d.event.Bank, "host", hostOf(d.url), "error", transportDetail(err))
		return errors.New(describe(err, s.cfg.Timeout))
	}
	// Drain a little so the connection can be reused; the body itself is
	// not kept.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		return fmt.Errorf("the receiver answered HTTP %d; redirects are not followed", resp.StatusCode)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the receiver answered HTTP %d", resp.StatusCode)
	}
	return nil
}
