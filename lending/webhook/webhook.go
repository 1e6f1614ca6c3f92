// Package webhook is the wire contract of sanzhi's lending webhooks: the
// headers, the signature and the retry schedule. It does no I/O, so a
// partner bank can use it as the reference verifier of what it receives.
//
// Every delivery is an HTTP POST of one event's JSON body with
//
//	Content-Type: application/json
//	Sanzhi-Signature: t=1767225600,v1=5257a869e7ec...
//	Sanzhi-Event-Id: <the event id; the same on every retry>
//	Sanzhi-Event-Type: credit_line.updated
//	Sanzhi-Delivery-Attempt: 1
//
// The signature is HMAC-SHA256 under the bank's webhook secret of the
// timestamp, a dot and the exact body bytes, in lowercase hex. The secret
// is the text SetWebhook returned once; its bytes as given (not a base64
// decoding of them) are the HMAC key. While a
// secret is being rotated the header carries one v1= value per secret that
// is still valid; a receiver accepts the delivery when any of them
// matches. Receivers should answer 2xx once the event is stored, verify
// before parsing, and ignore an event id they have already processed:
// delivery is at least once.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Header names.
const (
	HeaderSignature       = "Sanzhi-Signature"
	HeaderEventID         = "Sanzhi-Event-Id"
	HeaderEventType       = "Sanzhi-Event-Type"
	HeaderDeliveryAttempt = "Sanzhi-Delivery-Attempt"
	// HeaderReplay is "true" on an operator's replay of a dead-lettered
	// event, which arrives after events with higher sequence numbers.
	HeaderReplay = "Sanzhi-Replay"
)

// DefaultTolerance is how far a signature's timestamp may be from the
// receiver's clock when Verify is given no tolerance.
const DefaultTolerance = 5 * time.Minute

// Errors returned by Verify. A receiver should answer 400 or 401 on any of
// them and must not process the body.
var (
	ErrMalformed = errors.New("webhook: malformed signature header")
	ErrStale     = errors.New("webhook: signature timestamp outside the tolerance")
	ErrMismatch  = errors.New("webhook: no signature matches")
)

// Sign returns the signature header value for body sent at t under secret:
// "t=<unix seconds>,v1=<lowercase hex HMAC-SHA256(secret, "<unix seconds>." + body)>".
func Sign(secret []byte, t time.Time, body []byte) string {
	return SignAll([][]byte{secret}, t, body)
}

// SignAll is Sign with one v1= value per secret, in the order given, for
// the grace period of a rotation when the receiver may hold either.
func SignAll(secrets [][]byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	var b strings.Builder
	b.WriteString("t=")
	b.WriteString(ts)
	for _, s := range secrets {
		b.WriteString(",v1=")
		b.WriteString(hex.EncodeToString(mac(s, ts, body)))
	}
	return b.String()
}

func mac(secret []byte, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks header (the Sanzhi-Signature value) against body and
// secret. It accepts the delivery when its timestamp is within tolerance
// of now in either direction (DefaultTolerance when tolerance <= 0) and any
// of its v1= values is the HMAC of that timestamp and body; values of other
// schemes are ignored, so a future scheme can be added beside v1. Errors
// wrap ErrMalformed, ErrStale or ErrMismatch.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	ts, sigs, err := parse(header)
	if err != nil {
		return err
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return malformed("timestamp is not a number")
	}
	// Compare in seconds so that a huge timestamp cannot overflow a Duration.
	skew := now.Unix() - sec
	if skew < 0 {
		skew = -skew
	}
	if skew > int64(tolerance/time.Second) {
		return ErrStale
	}
	want := mac(secret, ts, body)
	ok := false
	for _, s := range sigs {
		// Check every value, so the time taken does not say which matched.
		if hmac.Equal(want, s) {
			ok = true
		}
	}
	if !ok {
		return ErrMismatch
	}
	return nil
}

// parse splits "t=...,v1=...,v1=..." into the timestamp text and the
// decoded v1 values. Exactly one t is required and at least one v1.
func parse(header string) (ts string, sigs [][]byte, err error) {
	if header == "" {
		return "", nil, malformed("empty")
	}
	seenT := false
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || k == "" {
			return "", nil, malformed("element without key=value")
		}
		switch k {
		case "t":
			if seenT {
				return "", nil, malformed("more than one timestamp")
			}
			if !digits(v) {
				return "", nil, malformed("timestamp is not a number")
			}
			ts, seenT = v, true
		case "v1":
			if len(v) != 2*sha256.Size || strings.ToLower(v) != v {
				return "", nil, malformed("v1 must be 64 lowercase hex digits")
			}
			s, err := hex.DecodeString(v)
			if err != nil {
				return "", nil, malformed("v1 must be 64 lowercase hex digits")
			}
			sigs = append(sigs, s)
		}
	}
	if !seenT {
		return "", nil, malformed("no timestamp")
	}
	if len(sigs) == 0 {
		return "", nil, malformed("no v1 signature")
	}
	return ts, sigs, nil
}

// digits reports whether s is 1 to 18 ASCII digits: a Unix time in
// seconds, with no sign, space or exponent, that fits an int64.
func digits(s string) bool {
	if s == "" || len(s) > 18 {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

type malformedError string

func (e malformedError) Error() string { return ErrMalformed.Error() + ": " + string(e) }
func (e malformedError) Unwrap() error { return ErrMalformed }

func malformed(why string) error { return malformedError(why) }

// Retry schedule.
const (
	// BaseBackoff is the ceiling of the first retry's delay; it doubles
	// with every failed attempt up to MaxBackoff.
	BaseBackoff = time.Second
	MaxBackoff  = 10 * time.Minute
	// MaxAttempts is how many times an event is tried before it goes to
	// the dead-letter list: with full jitter the waits add up to about
	// 35 minutes on average (an hour at most) before the bank's next
	// event is tried.
	MaxAttempts = 15
)

// Backoff is the wait after the attempt-th failed attempt (1-based): a
// uniformly random duration in [0, min(MaxBackoff, BaseBackoff·2^(attempt-1))),
// "full jitter", so that many senders retrying after one outage spread out
// instead of arriving together. rnd returns values in [0, 1); nil means
// math/rand/v2.
func Backoff(attempt int, rnd func() float64) time.Duration {
	if rnd == nil {
		rnd = rand.Float64
	}
	ceiling := MaxBackoff
	if attempt < 1 {
		attempt = 1
	}
	// 2^10 s already exceeds the cap; stop shifting before it overflows.
	if attempt <= 10 {
		ceiling = min(MaxBackoff, BaseBackoff<<(attempt-1))
	}
	f := rnd()
	if f < 0 || f >= 1 {
		f = 0
	}
	return time.Duration(f * float64(ceiling))
}
