package rpc

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// TestPeerKey: the client's address, from the connection; the
// gateway's x-forwarded-for is believed only when the connection comes
// from this host (the gateway dialling its own listener), and then only
// its last entry, the address the gateway itself saw.
func TestPeerKey(t *testing.T) {
	t.Parallel()
	tcp := func(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 40000} }
	ctx := func(remote, local net.Addr, xff ...string) context.Context {
		c := peer.NewContext(context.Background(), &peer.Peer{Addr: remote, LocalAddr: local})
		if len(xff) > 0 {
			c = metadata.NewIncomingContext(c, metadata.Pairs("x-forwarded-for", xff[0]))
		}
		return c
	}
	server := tcp("192.0.2.10")
	assert.Equal(t, "203.0.113.7", peerKey(ctx(tcp("203.0.113.7"), server)))
	assert.Equal(t, "203.0.113.7", peerKey(ctx(tcp("203.0.113.7"), server, "198.51.100.1")),
		"a remote client cannot choose its address")
	assert.Equal(t, "198.51.100.1", peerKey(ctx(tcp("127.0.0.1"), tcp("127.0.0.1"), "198.51.100.1")), "the gateway on loopback")
	assert.Equal(t, "198.51.100.1", peerKey(ctx(tcp("192.0.2.10"), server, "10.9.9.9, 198.51.100.1")),
		"the gateway dialling the host's own address; a client's own X-Forwarded-For entries are ignored")
	assert.Equal(t, "127.0.0.1", peerKey(ctx(tcp("127.0.0.1"), tcp("127.0.0.1"))))
	assert.Equal(t, "2001:db8:1:2::/64", peerKey(ctx(tcp("2001:db8:1:2:aaaa::1"), server)), "IPv6 by its /64")
	assert.Equal(t, peerKey(ctx(tcp("2001:db8:1:2::99"), server)), peerKey(ctx(tcp("2001:db8:1:2:ffff::1"), server)))
	assert.Equal(t, "unknown", peerKey(context.Background()))
}

func TestBucketsStayBounded(t *testing.T) {
	t.Parallel()
	bs := newBuckets(1, 2)
	now := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	for i := range maxBuckets {
		bs.spend(net.IPv4(10, byte(i>>16), byte(i>>8), byte(i)).String(), now)
	}
	assert.Len(t, bs.m, maxBuckets)
	// Two seconds on every bucket is full again, and is dropped to make
	// room rather than the table growing.
	bs.spend("new", now.Add(2*time.Second))
	assert.Len(t, bs.m, 1)
	assert.Zero(t, (*buckets)(nil).take("x", now), "a nil table limits nothing")
}
