package credit

import (
	"context"
	"strconv"
	"sync"

	"github.com/google/uuid"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
)

// Batch re-assessment: after a bank activates a new policy version, every
// household with a live consent for the bank is assessed again under it.
// A run walks the consenting households in id order, a page at a time;
// its cursor (the last household done) and counts are stored after every
// page, so a run interrupted by a crash resumes where it stopped, and the
// walk holds one page in memory whatever the population.

// RunPage is how many households a run assesses between progress writes.
const RunPage = 500

// StartRun starts re-assessing the bank product's consenting households
// under its active policy; when a run of the product is already running,
// it returns that run.
func (s *Service) StartRun(ctx context.Context, p *access.Principal, productName string) (*Run, error) {
	bank, product, err := ParseProduct(productName, "product")
	if err != nil {
		return nil, err
	}
	pol, err := s.policies.Active(ctx, bank, product)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	var out *Run
	err = s.store.Write(ctx, func(tx Writer) error {
		running, err := tx.Runs(ctx, RunRunning)
		if err != nil {
			return err
		}
		for _, r := range running {
			if r.Bank == bank && r.Product == product {
				out = r
				return nil
			}
		}
		total, err := tx.CountLiveConsentHouseholds(ctx, bank, now)
		if err != nil {
			return err
		}
		r := &Run{ID: uuid.Must(uuid.NewV7()).String(), Bank: bank, Product: product, PolicyVersion: pol.Version,
			State: RunRunning, Total: total, StartedBy: p.ID, StartTime: now, UpdateTime: now}
		if err := tx.InsertRun(ctx, r); err != nil {
			return err
		}
		out = r
		return tx.Record(ctx, audit.Record{Time: now, Actor: p.ID, Action: "credit.reassess_start",
			Subject: RunName(bank, product, r.ID),
			Payload: map[string]string{"policy_version": strconv.Itoa(pol.Version), "households": strconv.FormatInt(total, 10)}})
	})
	return out, err
}

// GetRun returns a run by name.
func (s *Service) GetRun(ctx context.Context, name string) (*Run, error) {
	bank, product, id, err := ParseRunName(name, "name")
	if err != nil {
		return nil, err
	}
	var out *Run
	err = s.store.Read(ctx, func(tx Reader) error {
		var err error
		out, err = tx.Run(ctx, id)
		return err
	})
	if err == nil && (out.Bank != bank || out.Product != product) {
		return nil, fault.New(fault.NotFound, "RUN_NOT_FOUND", "re-assessment run %s not found", name)
	}
	return out, err
}

// RunningRuns returns the runs to resume.
func (s *Service) RunningRuns(ctx context.Context) ([]*Run, error) {
	var out []*Run
	err := s.store.Read(ctx, func(tx Reader) error {
		var err error
		out, err = tx.Runs(ctx, RunRunning)
		return err
	})
	return out, err
}

// ContinueRun assesses the run's remaining households, workers at a time,
// storing progress after every page and calling progress with it, until
// the run is done, fails, or ctx ends (the run then stays running and
// resumes from its cursor).
func (s *Service) ContinueRun(ctx context.Context, id string, workers int, progress func(*Run)) error {
	var r *Run
	if err := s.store.Read(ctx, func(tx Reader) error {
		var err error
		r, err = tx.Run(ctx, id)
		return err
	}); err != nil {
		return err
	}
	workers = max(workers, 1)
	for r.State == RunRunning {
		now := s.clock()
		var page []HouseholdRef
		if err := s.store.Read(ctx, func(tx Reader) error {
			var err error
			page, err = tx.LiveConsentHouseholds(ctx, r.Bank, now, r.Cursor, RunPage)
			return err
		}); err != nil {
			return err
		}
		failure := s.assessPage(ctx, r, page, workers)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		next := *r
		next.UpdateTime = s.clock()
		switch {
		case failure != nil:
			next.State, next.Error = RunFailed, failure.Error()
		case len(page) == 0:
			next.State = RunDone
		default:
			next.Cursor = page[len(page)-1].ID
			next.Done += int64(len(page))
			next.Total = max(next.Total, next.Done)
		}
		if err := s.store.Write(ctx, func(tx Writer) error {
			if err := tx.UpdateRun(ctx, &next); err != nil {
				return err
			}
			if next.State == RunRunning {
				return nil
			}
			return tx.Record(ctx, audit.Record{Time: next.UpdateTime, Actor: ActorService, Action: "credit.reassess_end",
				Subject: RunName(next.Bank, next.Product, next.ID),
				Payload: map[string]string{"state": string(next.State), "done": strconv.FormatInt(next.Done, 10),
					"error": next.Error}})
		}); err != nil {
			return err
		}
		r = &next
		if progress != nil {
			progress(r)
		}
	}
	return nil
}

// assessPage assesses one page; a household whose consent lapsed since
// the page was read is skipped. It returns the first other failure.
func (s *Service) assessPage(ctx context.Context, r *Run, page []HouseholdRef, workers int) error {
	work := make(chan HouseholdRef)
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for h := range work {
				_, err := s.assess(ctx, ActorService, r.Bank, r.Product, h.Village, h.ID, false)
				if err == nil || isConsentRequired(err) {
					continue
				}
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	for _, h := range page {
		if ctx.Err() != nil {
			break
		}
		mu.Lock()
		stop := first != nil
		mu.Unlock()
		if stop {
			break
		}
		work <- h
	}
	close(work)
	wg.Wait()
	return first
}
