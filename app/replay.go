package app

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/lending/credit"
)

// ReplaySummary counts a range replay's verdicts.
type ReplaySummary struct {
	Identical, Different, Unreplayable int64
	// Reasons counts the unreplayable decisions by reason.
	Reasons map[string]int64
}

// Total is the number of decisions replayed.
func (s ReplaySummary) Total() int64 { return s.Identical + s.Different + s.Unreplayable }

// replayPage is how many decisions one read of a range replay fetches.
const replayPage = 2000

// ReplayRange replays every decision q selects under its pinned policy
// version (credit.Service.ReplayStored, the single replay's computation),
// reading pages on one goroutine while workers evaluate. each, when not
// nil, is called with every replay that is not identical (from the
// workers, one at a time); progress, when not nil, with the number done
// after each page. It stops at the first store error.
func (a *App) ReplayRange(ctx context.Context, q sqlstore.DecisionScan, workers int,
	each func(*credit.DecisionReplay), progress func(done int64)) (ReplaySummary, error) {
	sum := ReplaySummary{Reasons: map[string]int64{}}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	pages := make(chan []*credit.Decision, 2)
	go func() {
		defer close(pages)
		q.Limit = replayPage
		for {
			ds, err := a.Store.ScanDecisions(ctx, q)
			if err != nil {
				cancel(err)
				return
			}
			if len(ds) == 0 {
				return
			}
			select {
			case pages <- ds:
			case <-ctx.Done():
				return
			}
			q.AfterID = ds[len(ds)-1].ID
		}
	}()
	var mu sync.Mutex
	var done atomic.Int64
	for page := range pages {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range max(workers, 1) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var local ReplaySummary
				local.Reasons = map[string]int64{}
				for {
					i := next.Add(1) - 1
					if i >= int64(len(page)) || ctx.Err() != nil {
						break
					}
					r, err := a.replayOne(ctx, page[i])
					if err != nil {
						cancel(err)
						break
					}
					switch r.Result {
					case credit.ReplayIdentical:
						local.Identical++
						continue
					case credit.ReplayDifferent:
						local.Different++
					default:
						local.Unreplayable++
						local.Reasons[r.Reason]++
					}
					if each != nil {
						mu.Lock()
						each(r)
						mu.Unlock()
					}
				}
				mu.Lock()
				sum.Identical += local.Identical
				sum.Different += local.Different
				sum.Unreplayable += local.Unreplayable
				for k, v := range local.Reasons {
					sum.Reasons[k] += v
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		if ctx.Err() != nil {
			break
		}
		n := done.Add(int64(len(page)))
		if progress != nil {
			progress(n)
		}
	}
	if err := context.Cause(ctx); err != nil {
		return sum, err
	}
	return sum, nil
}

// replayOne replays d; an override replays the automated decision it
// replaced, read by id.
func (a *App) replayOne(ctx context.Context, d *credit.Decision) (*credit.DecisionReplay, error) {
	auto := d
	if d.Kind == credit.Override {
		if err := a.Store.Lending().Read(ctx, func(tx credit.Reader) error {
			var err error
			auto, err = tx.Decision(ctx, d.Overrides)
			return err
		}); err != nil {
			return nil, err
		}
	}
	return a.Lending.ReplayStored(ctx, d, auto)
}

// RecordRangeReplay audits a range replay: one entry for the whole range
// (one per decision would grow the log by the whole portfolio at each
// regulator's visit), naming the range and the verdict counts. subject is
// the bank product replayed, or "decisions" for every bank's.
func (a *App) RecordRangeReplay(ctx context.Context, actor, subject string, q sqlstore.DecisionScan, s ReplaySummary, now time.Time) error {
	rec := audit.Record{Time: now, Actor: actor, Action: credit.ActionReplay + "_range", Subject: subject,
		Payload: map[string]string{"identical": strconv.FormatInt(s.Identical, 10),
			"different": strconv.FormatInt(s.Different, 10), "unreplayable": strconv.FormatInt(s.Unreplayable, 10)}}
	if q.Bank != "" {
		rec.Payload["bank"] = q.Bank
	}
	if !q.Since.IsZero() {
		rec.Payload["from"] = q.Since.UTC().Format(time.RFC3339Nano)
	}
	if !q.Until.IsZero() {
		rec.Payload["to"] = q.Until.UTC().Format(time.RFC3339Nano)
	}
	return a.Store.Lending().Write(ctx, func(tx credit.Writer) error { return tx.Record(ctx, rec) })
}
