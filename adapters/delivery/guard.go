package delivery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/sanzhi/sanzhi/fault"
)

// A webhook URL is the bank's to choose, so without a guard sanzhid would
// POST to whatever it names: its own admin ports on loopback, the
// database, the cloud metadata service, the county's internal network.
// The guard checks the address actually dialled (after DNS, for every
// connection, so a name that resolves to 10.x, or re-resolves after Set,
// is caught), not just the name in the URL. Redirects are not followed at
// all (newClient). Config.AllowPrivateTargets lifts the guard for tests
// and demo mode, whose receivers run on this machine.

// errPrivateTarget is what the dialer's Control returns for a refused
// address.
var errPrivateTarget = errors.New("webhook target is not a public address")

// refusedPrefixes are the ranges, beyond what netip.Addr's predicates
// cover, that no bank's receiver lives in: "this network", shared address
// space for carrier-grade NAT, IETF protocol assignments, benchmarking,
// reserved and broadcast.
var refusedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
}

// nat64 is the well-known NAT64 prefix: the IPv4 address in its last 32
// bits is what is really reached, so that is what is checked.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// PublicAddr reports whether a webhook may be delivered to ip: not
// loopback, private (RFC 1918, fc00::/7), link-local, multicast,
// unspecified, carrier-grade NAT (100.64.0.0/10) or otherwise reserved.
func PublicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[12:]))
	}
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range refusedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// guardControl is the net.Dialer Control of deliveries: it runs on the
// resolved address of every connection attempt.
func guardControl(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !PublicAddr(ap.Addr()) {
		return errPrivateTarget
	}
	return nil
}

// checkTarget refuses, when the URL is set, a host that is an address
// literal the dialer would refuse, or localhost. Names are not resolved
// here: the answer could change before delivery (the dialer checks what
// is dialled), and resolving on request would let a caller probe the
// server's internal DNS.
func checkTarget(raw, field string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return nil // CheckURL has refused it
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return fault.InvalidField(field, "must point at a public address, not localhost")
	}
	if ip, err := netip.ParseAddr(host); err == nil && !PublicAddr(ip) {
		return fault.InvalidField(field, "must point at a public address; %s is loopback, private, link-local, multicast or reserved", host)
	}
	return nil
}

// newClient is the HTTP client of deliveries: a timeout per request, and
// redirects are not followed, since a redirect would send a signed event
// somewhere the bank did not register; it counts as a failure. Unless
// allowPrivate, every connection goes through the guard; no proxy is used,
// since a proxy would dial on our behalf, past the guard.
func newClient(timeout time.Duration, allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = guardControl
	}
	t := &http.Transport{
		Proxy:               nil,
		DialContext:         d.DialContext,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        32,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: timeout,
		TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12},
	}
	return &http.Client{
		Timeout:   timeout,
		Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// describe turns a client error into a fixed sentence a bank may see (in
// last_error, a dead letter, a failed replay). The error itself, which
// can name internal addresses and ports, goes only to the server log.
func describe(err error, timeout time.Duration) string {
	var (
		ue   *url.Error
		dns  *net.DNSError
		cert *tls.CertificateVerificationError
		hn   x509.HostnameError
		ua   x509.UnknownAuthorityError
		ci   x509.CertificateInvalidError
		rec  tls.RecordHeaderError
		alrt tls.AlertError
	)
	switch {
	case errors.Is(err, errPrivateTarget):
		return "the receiver's address is not a public one; webhooks are delivered to public addresses only"
	case errors.As(err, &ue) && ue.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return "no answer within " + timeout.String()
	case errors.As(err, &dns):
		return "the receiver's host name did not resolve"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "the receiver refused the connection"
	case errors.As(err, &cert), errors.As(err, &hn), errors.As(err, &ua), errors.As(err, &ci),
		errors.As(err, &rec), errors.As(err, &alrt):
		return "the TLS handshake with the receiver failed"
	default:
		return "the receiver could not be reached"
	}
}

// transportDetail is err without the URL (which may carry the bank's
// token), for the server log.
func transportDetail(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}
