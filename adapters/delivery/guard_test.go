package delivery_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/delivery"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/fault"
)

func TestPublicAddr(t *testing.T) {
	for addr, public := range map[string]bool{
		"127.0.0.1": false, "127.8.9.10": false, "::1": false, // loopback
		"10.1.2.3": false, "172.16.0.1": false, "172.31.255.255": false, "192.168.1.1": false, // RFC 1918
		"fc00::1": false, "fd12:3456::1": false, // unique local
		"169.254.169.254": false, "fe80::1": false, // link-local (cloud metadata)
		"224.0.0.1": false, "239.1.2.3": false, "ff02::1": false, // multicast
		"0.0.0.0": false, "::": false, "0.1.2.3": false, // unspecified, this network
		"100.64.0.1": false, "100.127.255.255": false, // carrier-grade NAT
		"198.18.0.1": false, "240.0.0.1": false, "255.255.255.255": false,
		"::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false, // IPv4-mapped
		"64:ff9b::a00:1": false, "64:ff9b::7f00:1": false, // NAT64 of 10.0.0.1, 127.0.0.1
		"8.8.8.8": true, "100.63.255.255": true, "100.128.0.1": true, "172.32.0.1": true,
		"2001:4860:4860::8888": true, "64:ff9b::808:808": true, "::ffff:1.1.1.1": true,
	} {
		assert.Equal(t, public, delivery.PublicAddr(netip.MustParseAddr(addr)), addr)
	}
}

// TestPrivateTargetsRefused: a production dispatcher (no
// AllowPrivateTargets) refuses a loopback or private URL when it is set
// and, for a name, at dial time on the address the name resolves to; the
// bank sees a fixed sentence, the log has the detail.
func TestPrivateTargetsRefused(t *testing.T) {
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		cfg := fast()
		cfg.AllowPrivateTargets = false
		logs := &syncLog{}
		cfg.Log = slog.New(slog.NewTextHandler(logs, nil))
		kr := newKeyring(t)
		d := newDispatcher(t, st, kr, cfg)
		ctx := context.Background()

		for _, u := range []string{"http://127.0.0.1:8080/hook", "https://127.0.0.1/hook", "https://10.1.2.3/hook",
			"https://[::1]/hook", "https://169.254.169.254/latest/meta-data", "https://100.64.1.1/hook",
			"https://[fd00::1]/hook", "https://0.0.0.0/hook", "https://localhost/hook", "https://LOCALHOST./hook",
			"https://[::ffff:192.168.0.1]/hook", "https://224.0.0.1/hook"} {
			_, _, err := d.Set(ctx, operator, "banks/"+bank, u)
			var f *fault.Error
			require.ErrorAs(t, err, &f, u)
			require.Equal(t, fault.Invalid, f.Kind, u)
			assert.Equal(t, "url", f.Violations[0].Field, u)
		}
		_, _, err := d.Set(ctx, operator, "banks/"+bank, "https://bank.example.com/hook")
		require.NoError(t, err, "a public name is accepted; its addresses are checked when dialled")

		// A receiver on loopback, reached by a name (set through a
		// dispatcher that allows it, as an endpoint stored before this
		// rule, or a DNS answer that changed, would be).
		r := &receiver{}
		srv := httptest.NewServer(r)
		t.Cleanup(srv.Close)
		named := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/hooks/sanzhi"
		setWebhook(t, newDispatcher(t, st, kr, fast()), named, nil)
		appendEvents(t, st, 1)
		run(t, d)
		require.Eventually(t, func() bool { return endpoint(t, d).Attempts >= 2 }, 10*time.Second, 10*time.Millisecond)
		assert.Empty(t, r.snapshot(), "nothing reached the loopback receiver")
		ep := endpoint(t, d)
		assert.Equal(t, "the receiver's address is not a public one; webhooks are delivered to public addresses only", ep.LastError)
		assert.NotContains(t, ep.LastError, "127.0.0.1")
		assert.Contains(t, logs.String(), "not a public address", "the operator's log says what happened")
		assert.NotContains(t, logs.String(), "/hooks/sanzhi", "the log names the host, not the URL")
	})
}

// TestRedirectNotFollowed: a receiver answering 3xx does not get the
// event sent on to where it points (which could be a private address);
// the attempt fails and says why.
func TestRedirectNotFollowed(t *testing.T) {
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		target := &receiver{}
		inner := httptest.NewServer(target)
		t.Cleanup(inner.Close)
		redirect := httptest.NewServer(http.RedirectHandler(inner.URL+"/hook", http.StatusTemporaryRedirect))
		t.Cleanup(redirect.Close)
		d := newDispatcher(t, st, newKeyring(t), fast())
		setWebhook(t, d, redirect.URL+"/hook", nil)
		appendEvents(t, st, 1)
		run(t, d)
		require.Eventually(t, func() bool { return endpoint(t, d).Attempts >= 1 }, 10*time.Second, 10*time.Millisecond)
		assert.Empty(t, target.snapshot())
		assert.Equal(t, "the receiver answered HTTP 307; redirects are not followed", endpoint(t, d).LastError)
	})
}

// syncLog is a log sink safe for the dispatcher's goroutines.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncLog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
