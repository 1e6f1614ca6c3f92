// Package simrun streams the households of a store through a policy
// simulation: the store's reader cuts the population into batches, workers
// evaluate them concurrently (decrypting each head's 身份证号 for the age),
// and the outcomes reach the caller one at a time in household id order,
// so a report is deterministic and memory stays flat whatever the
// population. The CLI (sanzhi policy simulate) and the API
// (PolicyService.SimulatePolicy) share it.
package simrun

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/scoring/catalogue"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/rules"
	"github.com/sanzhi/sanzhi/scoring/simulate"
)

// Run is one simulation: the draft policy, the optional base policy and
// the day, with what reading households needs.
type Run struct {
	New, Base  *rules.Policy // Base may be nil
	Day        household.Date
	Keyring    *pii.Keyring
	Catalogues *catalogue.Service
	Now        time.Time
	Workers    int
}

// Population is the store a simulation reads: every household's latest
// facts and points, paged in household id order (adapters/sqlstore
// implements it; the conformance suite holds each engine to it).
type Population interface {
	// Population calls fn for every household q selects, in household id
	// order, a page at a time; it stops at fn's first error and returns it.
	Population(ctx context.Context, q sqlstore.PopulationQuery, fn func(*simulate.Row) error) error
}

// Stream evaluates every household q selects and calls add with each
// outcome, in household id order. It writes nothing.
func (r Run) Stream(ctx context.Context, st Population, q sqlstore.PopulationQuery, add func(simulate.Outcome) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &simulation{newP: r.New, baseP: r.Base, day: r.Day, kr: r.Keyring, cats: r.Catalogues,
		catAt: endOfDay(r.Day, r.Now), bases: map[string]decimal.Decimal{}}
	q.Day = r.Day // each household's repayment record as of the simulated day
	return s.run(ctx, cancel, st, q, r.Workers, add)
}

// endOfDay is the last instant of day in Asia/Shanghai, or now when that
// is later: the instant whose catalogue a balance of that day uses.
func endOfDay(day household.Date, now time.Time) time.Time {
	end := day.Time().AddDate(0, 0, 1).Add(-time.Microsecond)
	if end.After(now) {
		return now
	}
	return end
}

// simulation holds what evaluating one household needs.
type simulation struct {
	newP, baseP *rules.Policy
	day         household.Date
	kr          *pii.Keyring
	cats        *catalogue.Service
	catAt       time.Time
	bases       map[string]decimal.Decimal // village → base points, read on the reader goroutine only
}

type simItem struct {
	row  *simulate.Row
	base decimal.Decimal
}

type simBatch struct {
	items []simItem
	out   chan simResult
}

type simResult struct {
	outcomes []simulate.Outcome
	err      error
}

// basePoints returns the base points of the catalogue village used on the
// simulated day, read once per village.
func (s *simulation) basePoints(ctx context.Context, village string) (decimal.Decimal, error) {
	if b, ok := s.bases[village]; ok {
		return b, nil
	}
	cat, err := s.cats.EffectiveAt(ctx, village, s.catAt)
	if err != nil {
		return decimal.Zero, fmt.Errorf("the catalogue of village %s on %s: %w", village, s.day, err)
	}
	s.bases[village] = cat.BasePoints
	return cat.BasePoints, nil
}

// evaluate turns one household into its outcome.
func (s *simulation) evaluate(it simItem) (simulate.Outcome, error) {
	h := it.row.Household
	raw, err := s.kr.Open(pii.Sealed{KeyID: h.HeadID.KeyID, Ciphertext: h.HeadID.Ciphertext}, []byte(h.ID))
	if err != nil {
		return simulate.Outcome{}, fmt.Errorf("cannot decrypt the head's 身份证号 of %s (wrong data key?): %w", h.Name(), err)
	}
	pid, err := idnum.ParsePersonID(string(raw))
	if err != nil {
		return simulate.Outcome{}, fmt.Errorf("stored 身份证号 of %s: %w", h.Name(), err)
	}
	c := simulate.NewCase(it.row, it.base, pid.BirthDate(), s.day)
	c.HeadID = pid // for the fairness figures (sex, age band); never stored
	return simulate.Evaluate(s.newP, s.baseP, c, s.day), nil
}

// run streams the population: the store's reader (this goroutine) cuts it
// into batches, workers evaluate batches concurrently, and add receives
// every outcome in household id order on one goroutine. At most a few
// batches are in flight, so memory stays flat whatever the population.
func (s *simulation) run(ctx context.Context, cancel context.CancelFunc, st Population, q sqlstore.PopulationQuery,
	workers int, add func(simulate.Outcome) error) error {
	workers = max(workers, 1)
	batchSize := q.PageSize
	if batchSize <= 0 {
		batchSize = sqlstore.DefaultPopulationPage
	}
	work := make(chan *simBatch)
	order := make(chan *simBatch, workers+1)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for b := range work {
				res := simResult{outcomes: make([]simulate.Outcome, 0, len(b.items))}
				for _, it := range b.items {
					o, err := s.evaluate(it)
					if err != nil {
						res.err = err
						break
					}
					res.outcomes = append(res.outcomes, o)
				}
				b.out <- res
			}
		})
	}
	var addErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for b := range order {
			res := <-b.out
			if addErr != nil {
				continue // drain
			}
			if res.err != nil {
				addErr = res.err
				cancel()
				continue
			}
			for _, o := range res.outcomes {
				if err := add(o); err != nil {
					addErr = err
					cancel()
					break
				}
			}
		}
	}()

	var cur []simItem
	dispatch := func() {
		if len(cur) == 0 {
			return
		}
		b := &simBatch{items: cur, out: make(chan simResult, 1)}
		cur = make([]simItem, 0, batchSize)
		order <- b // bounded: waits while workers+1 batches are in flight
		work <- b
	}
	readErr := st.Population(ctx, q, func(r *simulate.Row) error {
		base, err := s.basePoints(ctx, r.Household.Village)
		if err != nil {
			return err
		}
		cur = append(cur, simItem{row: r, base: base})
		if len(cur) >= batchSize {
			dispatch()
		}
		return ctx.Err()
	})
	if readErr == nil {
		dispatch()
	}
	close(work)
	close(order)
	wg.Wait()
	<-done
	if addErr != nil {
		return addErr
	}
	return readErr
}
