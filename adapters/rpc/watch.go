package rpc

import (
	"context"
	"strconv"
	"sync"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/fault"
)

// DefaultWatchStreams is how many WatchCreditLines streams one bank may
// hold open at once: a bank's consumers (a few instances of its core
// system, with restarts overlapping) fit; a leak of streams does not
// take the server's memory or the store's read capacity.
const DefaultWatchStreams = 8

// ReasonTooManyWatches is the ErrorInfo reason past the cap.
const ReasonTooManyWatches = "TOO_MANY_WATCH_STREAMS"

// ReasonShuttingDown is the ErrorInfo reason of a stream ended because the
// server is stopping.
const ReasonShuttingDown = "SERVER_SHUTTING_DOWN"

// watchGate counts open watch streams per holder and ends them all when
// the server starts to shut down.
type watchGate struct {
	mu      sync.Mutex
	max     int
	open    map[string]int
	closing <-chan struct{}
}

func newWatchGate() *watchGate {
	return &watchGate{max: DefaultWatchStreams, open: map[string]int{}}
}

// holder is whose cap a stream counts against: a bank principal's bank
// (all its officers and systems share it), otherwise the principal, so a
// regulator's streams never use up a bank's.
func watchHolder(p *access.Principal) string {
	if p.Scope.Bank != "" && (p.Role == access.BankOfficer || p.Role == access.BankRisk) {
		return "bank:" + p.Scope.Bank
	}
	return "principal:" + p.ID
}

// WatchStreamsHeader is the response header a watch stream opens with:
// "N of M", the holder's open streams (this one included) and the cap.
// It also tells a client the stream is established before any event.
const WatchStreamsHeader = "sanzhi-watch-streams"

// acquire takes a slot of p's, or refuses with RESOURCE_EXHAUSTED. It
// returns the release and "N of M".
func (g *watchGate) acquire(p *access.Principal) (func(), string, error) {
	key := watchHolder(p)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open[key] >= g.max {
		st := status.New(codes.ResourceExhausted, strconv.Itoa(g.max)+" WatchCreditLines streams are open already "+
			"(a bank's principals share the limit); close one, or reuse it, before opening another")
		if d, err := st.WithDetails(&errdetails.ErrorInfo{Reason: ReasonTooManyWatches, Domain: ErrorDomain,
			Metadata: map[string]string{"max_streams": strconv.Itoa(g.max)}}); err == nil {
			st = d
		}
		return nil, "", st.Err()
	}
	g.open[key]++
	inUse := strconv.Itoa(g.open[key]) + " of " + strconv.Itoa(g.max)
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.open[key]--; g.open[key] <= 0 {
				delete(g.open, key)
			}
		})
	}, inUse, nil
}

// bind returns ctx cancelled also when the server starts shutting down,
// so a stream does not hold the shutdown for its whole grace period.
func (g *watchGate) bind(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	if g.closing != nil {
		go func() {
			select {
			case <-g.closing:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	return ctx, cancel
}

// shuttingDown reports whether the server has started to stop.
func (g *watchGate) shuttingDown() bool {
	if g.closing == nil {
		return false
	}
	select {
	case <-g.closing:
		return true
	default:
		return false
	}
}

// endedByShutdown is the error a stream ends with at shutdown: UNAVAILABLE,
// so clients reconnect (to another instance, or this one restarted) from
// the last seq they received.
func endedByShutdown(after int64) error {
	return fault.New(fault.Unavailable, ReasonShuttingDown,
		"the server is shutting down; reconnect and resume with after_seq %d", after)
}

// WithWatchLimit sets how many watch streams a bank may hold open
// (DefaultWatchStreams when n <= 0).
func (s *Credit) WithWatchLimit(n int) *Credit {
	if n > 0 {
		s.watch.max = n
	}
	return s
}

// WithShutdown ends open watch streams with UNAVAILABLE once closing is
// closed.
func (s *Credit) WithShutdown(closing <-chan struct{}) *Credit {
	s.watch.closing = closing
	return s
}
