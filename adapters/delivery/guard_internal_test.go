package delivery

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout dialing 10.0.0.7:443" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// TestDescribeEchoesNothing: whatever the transport says (addresses,
// ports, resolver names, certificate subjects), the bank gets one of a
// few fixed sentences.
func TestDescribeEchoesNothing(t *testing.T) {
	wrap := func(err error) error {
		return &url.Error{Op: "Post", URL: "https://hooks.bank.example/sanzhi?token=s3cret", Err: err}
	}
	dial := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.ParseIP("10.0.0.7"), Port: 443}, Err: err}
	}
	for err, want := range map[error]string{
		wrap(dial(errPrivateTarget)): "the receiver's address is not a public one; webhooks are delivered to public addresses only",
		wrap(timeoutErr{}):           "no answer within 10s",
		wrap(dial(&net.DNSError{Err: "no such host", Name: "hooks.internal.corp", Server: "10.0.0.2:53", IsNotFound: true})): "the receiver's host name did not resolve",
		wrap(dial(os.NewSyscallError("connect", syscall.ECONNREFUSED))):                                                      "the receiver refused the connection",
		wrap(&tls.CertificateVerificationError{Err: tlsVerifyErr}):                                                           "the TLS handshake with the receiver failed",
		wrap(x509.UnknownAuthorityError{}):                                                                                   "the TLS handshake with the receiver failed",
		wrap(dial(errors.New("no route to 10.0.0.7"))):                                                                       "the receiver could not be reached",
		fmt.Errorf("odd: %w", errors.New("internal 10.0.0.7")):                                                               "the receiver could not be reached",
	} {
		got := describe(err, 10*time.Second)
		assert.Equal(t, want, got, "%v", err)
		assert.NotContains(t, got, "10.0.0")
		assert.NotContains(t, got, "s3cret")
	}
	assert.Equal(t, "dial tcp 10.0.0.7:443: webhook target is not a public address", transportDetail(wrap(dial(errPrivateTarget))),
		"the log gets the detail without the URL and its token")
}

var tlsVerifyErr = x509.HostnameError{Certificate: &x509.Certificate{}, Host: "hooks.bank.example"}
