package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/lending/credit"
)

// Reassessor runs re-assessments in the background: households marked due
// (their points, facts or loan statuses changed, or a line's review day
// came), every interval; and batch runs banks start, resumed after a
// restart from their stored cursor.
type Reassessor struct {
	svc     *credit.Service
	log     *slog.Logger
	workers int

	mu      sync.Mutex
	active  map[string]bool // run ids being processed here
	started chan string
}

// NewReassessor returns a Reassessor over the lending service.
func NewReassessor(svc *credit.Service, log *slog.Logger) *Reassessor {
	return &Reassessor{svc: svc, log: log, workers: 4, active: map[string]bool{}, started: make(chan string, 16)}
}

// Start implements rpc.Reassessor.
func (r *Reassessor) Start(ctx context.Context, p *access.Principal, product string) (*credit.Run, error) {
	run, err := r.svc.StartRun(ctx, p, product)
	if err != nil {
		return nil, err
	}
	select {
	case r.started <- run.ID:
	default: // the next tick picks it up
	}
	return run, nil
}

// Get implements rpc.Reassessor.
func (r *Reassessor) Get(ctx context.Context, name string) (*credit.Run, error) {
	return r.svc.GetRun(ctx, name)
}

// Run works until ctx ends.
func (r *Reassessor) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = 10 * time.Second
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	resume := func() {
		runs, err := r.svc.RunningRuns(ctx)
		if err != nil {
			if ctx.Err() == nil {
				r.log.Error("listing re-assessment runs", "error", err)
			}
			return
		}
		for _, run := range runs {
			r.launch(ctx, &wg, run.ID)
		}
	}
	resume()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-r.started:
			r.launch(ctx, &wg, id)
		case <-t.C:
			// Lines whose yearly review has come join the changed ones.
			if _, err := r.svc.MarkReviewsDue(ctx, 1000); err != nil && ctx.Err() == nil {
				r.log.Error("marking lines due for review", "error", err)
			}
			for {
				n, err := r.svc.ReassessDue(ctx, 200)
				if err != nil {
					if ctx.Err() == nil {
						r.log.Error("re-assessing changed households", "error", err)
					}
					break
				}
				if n < 200 {
					break
				}
			}
			resume()
		}
	}
}

func (r *Reassessor) launch(ctx context.Context, wg *sync.WaitGroup, id string) {
	r.mu.Lock()
	if r.active[id] {
		r.mu.Unlock()
		return
	}
	r.active[id] = true
	r.mu.Unlock()
	wg.Go(func() {
		defer func() {
			r.mu.Lock()
			delete(r.active, id)
			r.mu.Unlock()
		}()
		err := r.svc.ContinueRun(ctx, id, r.workers, func(run *credit.Run) {
			r.log.Debug("re-assessment progress", "run", id, "done", run.Done, "total", run.Total)
		})
		if err != nil && ctx.Err() == nil {
			r.log.Error("re-assessment run", "run", id, "error", err)
		}
	})
}
