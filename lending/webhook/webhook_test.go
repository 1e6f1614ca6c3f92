package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/lending/webhook"
)

var (
	secret = []byte("0123456789abcdef0123456789abcdef")
	body   = []byte(`{"id":"ev-1","type":"credit_line.updated","seq":7}`)
	at     = time.Unix(1767225600, 0)
)

// TestSignKnownAnswer pins the format against an HMAC computed here by
// hand, so that a change to the wire format cannot pass unnoticed.
func TestSignKnownAnswer(t *testing.T) {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("1767225600." + string(body)))
	want := "t=1767225600,v1=" + hex.EncodeToString(h.Sum(nil))
	assert.Equal(t, want, webhook.Sign(secret, at, body))
	// Sub-second precision is dropped: the timestamp is whole seconds.
	assert.Equal(t, want, webhook.Sign(secret, at.Add(999*time.Millisecond), body))
}

func TestVerifyAccepts(t *testing.T) {
	h := webhook.Sign(secret, at, body)
	require.NoError(t, webhook.Verify(secret, h, body, at, time.Minute))
	require.NoError(t, webhook.Verify(secret, h, body, at.Add(time.Minute), time.Minute), "at the edge of the tolerance")
	require.NoError(t, webhook.Verify(secret, h, body, at.Add(-time.Minute), time.Minute), "a receiver clock behind")
	require.NoError(t, webhook.Verify(secret, h, body, at.Add(4*time.Minute), 0), "0 means the default tolerance")
	// Whitespace after commas, and schemes other than v1, are tolerated.
	v1 := strings.TrimPrefix(h, "t=1767225600,")
	require.NoError(t, webhook.Verify(secret, "t=1767225600, v0=abc, "+v1, body, at, time.Minute))
}

func TestVerifyRotation(t *testing.T) {
	old, fresh := []byte("old secret, still valid for a day"), []byte("the new secret shown once")
	h := webhook.SignAll([][]byte{fresh, old}, at, body)
	assert.Equal(t, 2, strings.Count(h, "v1="))
	require.NoError(t, webhook.Verify(old, h, body, at, time.Minute), "a receiver with the old secret")
	require.NoError(t, webhook.Verify(fresh, h, body, at, time.Minute), "a receiver with the new secret")
	require.ErrorIs(t, webhook.Verify([]byte("neither"), h, body, at, time.Minute), webhook.ErrMismatch)
}

func TestVerifyRejects(t *testing.T) {
	good := webhook.Sign(secret, at, body)
	sig := strings.TrimPrefix(good, "t=1767225600,v1=")
	cases := []struct {
		name   string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"empty header", "", body, at, webhook.ErrMalformed},
		{"no timestamp", "v1=" + sig, body, at, webhook.ErrMalformed},
		{"no signature", "t=1767225600", body, at, webhook.ErrMalformed},
		{"only another scheme", "t=1767225600,v0=" + sig, body, at, webhook.ErrMalformed},
		{"two timestamps", "t=1767225600,t=1767225600,v1=" + sig, body, at, webhook.ErrMalformed},
		{"negative timestamp", "t=-1767225600,v1=" + sig, body, at, webhook.ErrMalformed},
		{"timestamp with a plus", "t=+1767225600,v1=" + sig, body, at, webhook.ErrMalformed},
		{"fractional timestamp", "t=1767225600.0,v1=" + sig, body, at, webhook.ErrMalformed},
		{"huge timestamp", "t=9999999999999999999999,v1=" + sig, body, at, webhook.ErrMalformed},
		{"empty timestamp", "t=,v1=" + sig, body, at, webhook.ErrMalformed},
		{"uppercase hex", "t=1767225600,v1=" + strings.ToUpper(sig), body, at, webhook.ErrMalformed},
		{"short signature", "t=1767225600,v1=" + sig[:62], body, at, webhook.ErrMalformed},
		{"not hex", "t=1767225600,v1=" + strings.Repeat("zz", 32), body, at, webhook.ErrMalformed},
		{"element without =", "t=1767225600,v1", body, at, webhook.ErrMalformed},
		{"empty key", "t=1767225600,=x,v1=" + sig, body, at, webhook.ErrMalformed},
		{"semicolons", "t=1767225600;v1=" + sig, body, at, webhook.ErrMalformed},
		{"stale", good, body, at.Add(time.Minute + time.Second), webhook.ErrStale},
		{"from the future", good, body, at.Add(-time.Minute - time.Second), webhook.ErrStale},
		{"far future", "t=999999999999999999,v1=" + sig, body, at, webhook.ErrStale},
		{"body changed", good, []byte(`{"id":"ev-1","type":"credit_line.updated","seq":8}`), at, webhook.ErrMismatch},
		{"body with a trailing newline", good, append(append([]byte{}, body...), '\n'), at, webhook.ErrMismatch},
		{"timestamp changed", "t=1767225601,v1=" + sig, body, at, webhook.ErrMismatch},
		{"signature of another secret", webhook.Sign([]byte("another"), at, body), body, at, webhook.ErrMismatch},
		{"zero signature", "t=1767225600,v1=" + strings.Repeat("0", 64), body, at, webhook.ErrMismatch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := webhook.Verify(secret, c.header, c.body, c.now, time.Minute)
			require.Error(t, err)
			assert.ErrorIs(t, err, c.want)
		})
	}
}

// FuzzVerify holds that Verify never panics and never accepts a header or
// body other than what Sign produced for them.
func FuzzVerify(f *testing.F) {
	good := webhook.Sign(secret, at, body)
	f.Add(good, body)
	f.Add("t=1767225600,v1=", body)
	f.Add("t=1767225600,v1="+strings.Repeat("a", 64)+",v1=", []byte{})
	f.Add(",,,", []byte("x"))
	f.Fuzz(func(t *testing.T, header string, b []byte) {
		err := webhook.Verify(secret, header, b, at, time.Minute)
		if err == nil {
			// Acceptance needs a timestamp within a minute and the MAC
			// of this exact body among the v1 values.
			if !strings.Contains(header, "v1=") {
				t.Fatalf("accepted %q without a v1 value", header)
			}
			ok := false
			for d := -60; d <= 60 && !ok; d++ {
				want := webhook.Sign(secret, at.Add(time.Duration(d)*time.Second), b)
				_, v1, _ := strings.Cut(want, ",v1=")
				ok = strings.Contains(header, v1)
			}
			if !ok {
				t.Fatalf("accepted %q for %q without its MAC", header, b)
			}
			return
		}
		if !errors.Is(err, webhook.ErrMalformed) && !errors.Is(err, webhook.ErrStale) && !errors.Is(err, webhook.ErrMismatch) {
			t.Fatalf("unclassified error %v", err)
		}
	})
}

func TestBackoff(t *testing.T) {
	top := func() float64 { return 0.999999 }
	ceilings := map[int]time.Duration{
		0: time.Second, 1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 10: 512 * time.Second,
		11: 10 * time.Minute, 15: 10 * time.Minute, 64: 10 * time.Minute, 1 << 30: 10 * time.Minute,
	}
	for attempt, ceiling := range ceilings {
		got := webhook.Backoff(attempt, top)
		assert.Less(t, got, ceiling, "attempt %d", attempt)
		assert.Greater(t, got, ceiling*99/100, "attempt %d", attempt)
		assert.Equal(t, time.Duration(0), webhook.Backoff(attempt, func() float64 { return 0 }))
		assert.Equal(t, ceiling/2, webhook.Backoff(attempt, func() float64 { return 0.5 }))
	}
	// A broken source does not produce a negative or huge wait.
	assert.Equal(t, time.Duration(0), webhook.Backoff(3, func() float64 { return 7 }))
	assert.Equal(t, time.Duration(0), webhook.Backoff(3, func() float64 { return -1 }))
	// The default source stays in range.
	for range 1000 {
		d := webhook.Backoff(4, nil)
		assert.True(t, d >= 0 && d < 8*time.Second, "%v", d)
	}
}
