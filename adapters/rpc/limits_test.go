package rpc_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// countingPrincipals counts key look-ups, to show a refused peer costs
// none.
type countingPrincipals struct {
	access.Store
	byKey atomic.Int32
}

func (c *countingPrincipals) PrincipalByKey(ctx context.Context, hash []byte) (*access.Principal, error) {
	c.byKey.Add(1)
	return c.Store.PrincipalByKey(ctx, hash)
}

// fixedClock is a clock only the test moves.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fixedClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// limitedAudit serves AuditService over e's store through the real chain
// with rate limits l on clock clk.
func limitedAudit(t *testing.T, e *env, l rpc.RateLimits, clk *fixedClock) (sanzhiv1.AuditServiceClient, *countingPrincipals) {
	t.Helper()
	v, err := rpc.NewValidator()
	require.NoError(t, err)
	_, err = e.log.Publish(context.Background()) // a checkpoint to read
	require.NoError(t, err)
	principals := &countingPrincipals{Store: e.st.Principals()}
	authn := rpc.NewAuthenticator(principals, false).WithRateLimits(l, clk.Now)
	gs := grpc.NewServer(rpc.ServerOptions(rpc.Chain(slog.New(slog.NewTextHandler(io.Discard, nil)), authn, v))...)
	sanzhiv1.RegisterAuditServiceServer(gs, rpc.NewAudit(e.log, e.st))
	conn := serveBufconn(t, gs)
	return sanzhiv1.NewAuditServiceClient(conn), principals
}

// requireRateLimited checks RESOURCE_EXHAUSTED with ErrorInfo
// RATE_LIMITED naming the limit, and RetryInfo with a positive delay.
func requireRateLimited(t *testing.T, err error, limit string) time.Duration {
	t.Helper()
	requireCode(t, err, codes.ResourceExhausted, "", "")
	var info *errdetails.ErrorInfo
	var retry *errdetails.RetryInfo
	for _, d := range status.Convert(err).Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *errdetails.RetryInfo:
			retry = d
		}
	}
	require.NotNil(t, info)
	assert.Equal(t, rpc.ReasonRateLimited, info.Reason)
	assert.Equal(t, limit, info.Metadata["limit"])
	require.NotNil(t, retry, "RESOURCE_EXHAUSTED carries google.rpc.RetryInfo")
	d := retry.RetryDelay.AsDuration()
	assert.Positive(t, d)
	return d
}

func TestRateLimitPerPrincipal(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		clk := &fixedClock{t: time.Now()}
		audit, _ := limitedAudit(t, e, rpc.RateLimits{PerPrincipal: 2, Burst: 3}, clk)
		get := func(who string) error {
			_, err := audit.GetCheckpoint(e.as(who), &sanzhiv1.GetCheckpointRequest{})
			return err
		}
		for range 3 {
			require.NoError(t, get("clerk-a"), "the burst")
		}
		d := requireRateLimited(t, get("clerk-a"), "principal")
		assert.Equal(t, 500*time.Millisecond, d, "one token at 2 a second")
		require.NoError(t, get("clerk-b"), "another principal has its own bucket")
		clk.Advance(d)
		require.NoError(t, get("clerk-a"), "a token after the delay RetryInfo gave")
		requireRateLimited(t, get("clerk-a"), "principal")
	})
}

// TestRateLimitUnauthenticatedPerPeer: failed authentications spend the
// peer's bucket; once it is empty the peer's requests are refused before
// any key is looked up, valid keys included, until it refills.
func TestRateLimitUnauthenticatedPerPeer(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		clk := &fixedClock{t: time.Now()}
		audit, principals := limitedAudit(t, e, rpc.RateLimits{PerPrincipal: 100, Burst: 100, PerPeer: 1, PeerBurst: 3}, clk)
		bad := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+access.KeyPrefix+"guessed")
		for range 2 {
			_, err := audit.GetCheckpoint(bad, &sanzhiv1.GetCheckpointRequest{})
			requireCode(t, err, codes.Unauthenticated, "", "")
		}
		_, err := audit.GetCheckpoint(context.Background(), &sanzhiv1.GetCheckpointRequest{})
		requireCode(t, err, codes.Unauthenticated, "", "")
		lookups := principals.byKey.Load()

		_, err = audit.GetCheckpoint(bad, &sanzhiv1.GetCheckpointRequest{})
		d := requireRateLimited(t, err, "peer")
		_, err = audit.GetCheckpoint(e.as("clerk-a"), &sanzhiv1.GetCheckpointRequest{})
		requireRateLimited(t, err, "peer")
		assert.Equal(t, lookups, principals.byKey.Load(), "a refused peer costs no key look-up")

		clk.Advance(d)
		_, err = audit.GetCheckpoint(e.as("clerk-a"), &sanzhiv1.GetCheckpointRequest{})
		require.NoError(t, err, "authenticated requests do not spend the peer's bucket")
		_, err = audit.GetCheckpoint(e.as("clerk-a"), &sanzhiv1.GetCheckpointRequest{})
		require.NoError(t, err)
	})
}

func TestRateLimitOff(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		audit, _ := limitedAudit(t, e, rpc.RateLimits{Off: true, PerPrincipal: 1, Burst: 1}, &fixedClock{t: time.Now()})
		for range 5 {
			_, err := audit.GetCheckpoint(e.as("clerk-a"), &sanzhiv1.GetCheckpointRequest{})
			require.NoError(t, err)
		}
	})
}

// openWatch opens a watch as who and waits until the server has taken
// its slot (the stream's header); the cancel closes it.
func openWatch(t *testing.T, e *env, who, bank string) (context.CancelFunc, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(e.as(who))
	s, err := e.credit.WatchCreditLines(ctx, &sanzhiv1.WatchCreditLinesRequest{Bank: "banks/" + bank})
	if err == nil {
		var md metadata.MD
		if md, err = s.Header(); err == nil && len(md.Get(rpc.WatchStreamsHeader)) == 0 {
			_, err = s.Recv()
		}
	}
	if err != nil {
		cancel()
		return nil, err
	}
	t.Cleanup(cancel)
	return cancel, nil
}

// TestWatchStreamCapPerBank: a bank holds at most DefaultWatchStreams
// open watches (all its principals together); the next is
// RESOURCE_EXHAUSTED with ErrorInfo, other banks and regulators are not
// affected, and closing one frees its slot.
func TestWatchStreamCapPerBank(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		var first context.CancelFunc
		for i := range rpc.DefaultWatchStreams {
			who := "risk-1"
			if i%2 == 1 {
				who = "officer" // the same bank
			}
			cancel, err := openWatch(t, e, who, "tongxiang-rcb")
			require.NoError(t, err, "stream %d", i+1)
			if first == nil {
				first = cancel
			}
		}
		_, err := openWatch(t, e, "risk-2", "tongxiang-rcb")
		requireCode(t, err, codes.ResourceExhausted, "", "")
		info := errorInfo(t, err)
		assert.Equal(t, rpc.ReasonTooManyWatches, info.Reason)
		assert.Equal(t, "8", info.Metadata["max_streams"])

		_, err = openWatch(t, e, "risk-other", "other-bank")
		require.NoError(t, err, "another bank has its own streams")
		_, err = openWatch(t, e, "regulator", "tongxiang-rcb")
		require.NoError(t, err, "a regulator's stream does not count against the bank")

		first()
		require.Eventually(t, func() bool {
			_, err := openWatch(t, e, "risk-2", "tongxiang-rcb")
			return err == nil
		}, 5*time.Second, 20*time.Millisecond, "a closed stream frees its slot")
	})
}

func errorInfo(t *testing.T, err error) *errdetails.ErrorInfo {
	t.Helper()
	for _, d := range status.Convert(err).Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok {
			return i
		}
	}
	require.Fail(t, "no ErrorInfo", "%v", err)
	return nil
}
