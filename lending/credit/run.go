package credit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/scoring/assess"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

// Batch re-assessment: after a bank activates a new policy version, every
// household with a live consent for the bank is assessed again under it.
//
// A run walks the consenting households in id order, RunPage at a time,
// as a pipeline: one goroutine reads a page in bulk (ReassessCandidates:
// households, facts, sheets, listings and lines in a few statements),
// workers plan each household purely (PlanAssessment, the rules of a
// single Assess, with the policy's outcome only: see replay.go), and
// committers write the pages, each in ONE transaction (Locked: READ
// COMMITTED on PostgreSQL) that
//
//   - locks the page's lines (LockPage, in the lock order of
//     LockHouseholdLines, so drawdowns and freezes queue behind the page
//     rather than race it) and re-checks the consents; a household whose
//     lines changed since the read is planned again on the locked lines,
//     one whose consent lapsed is skipped, one whose line is closed is
//     left alone;
//   - writes the decisions and lines with multi-row statements, then the
//     line events, and moves the run's cursor compare-and-set on the
//     previous cursor (WritePage);
//   - queues one audit record per decision (DecisionRecord: the
//     credit.assess record a single assessment writes, with the run's
//     name and method reassess_run), so that each household's decision
//     has its own leaf, binds its outcome, has a receipt
//     (GetDecisionReceipt) and is a query record the household sees; and
//     one record for the page (credit.reassess_page, subject the run,
//     payload: first and last household id, counts, and the SHA-256 over
//     the page's decision ids and input hashes in order), the run's
//     progress in the log.
//
// On PostgreSQL two pages write at once (SetRunCommitters): a page's
// decisions and lines go in while the page before commits, and a turn
// passed from page to page orders their events and cursor moves, so pages
// still commit in order. The cursor (the last household of the last
// committed page) commits with its page, so a run stopped anywhere
// (Ctrl-C, a crash) resumes after its last committed page and never counts
// a household twice, and a second process continuing the same run loses
// the compare-and-set and stops. A few pages are in memory at a time,
// whatever the population.

// RunPage is how many households a run reads, plans and commits at a time.
const RunPage = 1000

// SetRunPage sets how many households a run commits at a time (RunPage
// when n ≤ 0). Smaller pages hold the lines' locks for less time and
// report progress more often; larger ones write faster. Set it before
// runs start.
func (s *Service) SetRunPage(n int) { s.runPage = n }

func (s *Service) pageSize() int {
	if s.runPage > 0 {
		return s.runPage
	}
	return RunPage
}

// Fault reasons of runs.
const (
	// ReasonRunChanged: another process advanced or ended the run.
	ReasonRunChanged = "RUN_CHANGED"
	// ReasonConcurrentChange: a line changed between lock and write.
	ReasonConcurrentChange = "CONCURRENT_CHANGE"
)

// ActionReassessPage is the audit action of one committed page of a run.
const ActionReassessPage = "credit.reassess_page"

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

// ContinueRun assesses the run's remaining households, planning with
// workers goroutines, committing page after page and calling progress with
// the run after each, until the run is done, fails, or ctx ends (the run
// then stays running and resumes from its cursor). A run whose policy
// version is no longer the active one ends as failed: start a new run.
// When another process is continuing the run, it returns a
// FailedPrecondition fault RUN_CHANGED.
func (s *Service) ContinueRun(ctx context.Context, id string, workers int, progress func(*Run)) error {
	for restarts := 0; ; restarts++ {
		r, err := s.readRun(ctx, id)
		if err != nil || r.State != RunRunning {
			return err
		}
		pol, err := s.policies.Active(ctx, r.Bank, r.Product)
		switch {
		case err != nil && !isNoPolicy(err):
			return err
		case err != nil:
			return s.endRun(ctx, r, "the product has no active policy any more", progress)
		case pol.Version != r.PolicyVersion:
			return s.endRun(ctx, r, fmt.Sprintf("policy version %d was activated after the run started under version %d; start a new run",
				pol.Version, r.PolicyVersion), progress)
		}
		// The challenger as the run (re)starts: its shadows go with the
		// decisions of every page from here on.
		chal := s.challenger(ctx, r.Bank, r.Product)
		last, fatal, err := s.runPages(ctx, r, pol, chal, max(workers, 1), progress)
		if fatal != nil {
			return s.endRun(ctx, last, fatal.Error(), progress)
		}
		if isReason(err, ReasonRunChanged) && ctx.Err() != nil {
			// The caller gave up while the run moved under its page
			// (most often its own earlier, interrupted call's commit
			// landing late): the run stays running, resumable from its
			// cursor, and the answer is that the caller's time ran out.
			return ctx.Err()
		}
		if isReason(err, ReasonRunChanged) && restarts < maxRestarts {
			// The run moved under a page: the page before it rolled back
			// after handing over its turn, or a transaction of an earlier,
			// interrupted call committed after that call had given up on
			// it. Go on from where the run stands. A second process working
			// the same run makes this happen every page, and after
			// maxRestarts the error is returned.
			if cur, rerr := s.readRun(ctx, id); rerr == nil && cur.State == RunRunning {
				continue
			}
		}
		return err
	}
}

// maxRestarts bounds how often ContinueRun goes on after the run moved
// under it (RUN_CHANGED).
const maxRestarts = 5

func (s *Service) readRun(ctx context.Context, id string) (*Run, error) {
	var r *Run
	err := s.store.Read(ctx, func(tx Reader) error {
		var err error
		r, err = tx.Run(ctx, id)
		return err
	})
	return r, err
}

// SetRunCommitters sets how many pages of a run may be writing at once
// (1 when n ≤ 1). Pages still commit in order: each waits for the page
// before it to move the run (see runPages). Only a store that runs write
// transactions concurrently (PostgreSQL, not SQLite's single writer)
// gains from more than one, and only there is more than one safe: a
// page waiting for its turn holds its transaction open. Set it before
// runs start.
func (s *Service) SetRunCommitters(n int) { s.runCommitters = n }

// commit is one page being written.
type commit struct {
	next  *Run // the run after the page
	turn  *turn
	done  chan struct{}
	err   error
	fatal error // the page failed to plan: the run ends
}

// turn orders the tails of page transactions: a page writes its events
// and moves the run only after the page before it did (the rows those
// take stay locked until that page commits, so PostgreSQL then queues the
// later page behind it).
type turn struct {
	once   sync.Once
	ch     chan struct{}
	failed atomic.Bool
}

func newTurn() *turn { return &turn{ch: make(chan struct{})} }

func (t *turn) pass() { t.once.Do(func() { close(t.ch) }) }

// fail hands the turn on as failed, unless it was passed already.
func (t *turn) fail() {
	t.once.Do(func() {
		t.failed.Store(true)
		close(t.ch)
	})
}

func (t *turn) wait(ctx context.Context) error {
	select {
	case <-t.ch:
		if t.failed.Load() {
			return fault.New(fault.FailedPrecondition, ReasonRunChanged, "the page before failed")
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runPages reads, plans and commits the run's pages until the run ends,
// one fails, or ctx ends. Up to SetRunCommitters pages write at once, and
// their results are taken in order, so progress and the returned run
// (the last committed) only ever move forward.
func (s *Service) runPages(ctx context.Context, r *Run, pol, chal *rules.Policy, workers int, progress func(*Run)) (last *Run, fatal, err error) {
	var wg sync.WaitGroup
	defer wg.Wait() // runs after cancel: no goroutine outlives the call
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := s.planPages(ctx, &wg, r, pol, chal, workers)
	committers := max(s.runCommitters, 1)
	slots := make(chan struct{}, committers)
	inflight := make(chan *commit, committers)
	wg.Go(func() {
		defer close(inflight)
		prev, prevTurn := r, newTurn()
		prevTurn.pass()
		for pg := range pages {
			select {
			case <-pg.ready:
			case <-ctx.Done():
				return
			}
			if pg.err != nil {
				c := &commit{done: make(chan struct{}), err: pg.err}
				if pg.fatal {
					c.fatal = pg.err
				}
				close(c.done)
				select {
				case inflight <- c:
				case <-ctx.Done():
				}
				return
			}
			c := &commit{next: advance(prev, pg, s.clock()), turn: newTurn(), done: make(chan struct{})}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			from, after := prev, prevTurn
			wg.Go(func() {
				defer func() { <-slots }()
				defer close(c.done)
				c.err = s.commitPage(ctx, from, c.next, pol, pg, after, c.turn)
				c.turn.fail() // a no-op once passed: a failed page releases the next one
			})
			select {
			case inflight <- c:
			case <-ctx.Done(): // the caller stopped taking results
				return
			}
			prev, prevTurn = c.next, c.turn
			if c.next.State != RunRunning {
				return
			}
		}
	})
	last = r
	for c := range inflight {
		<-c.done
		if c.fatal != nil {
			return last, c.fatal, nil
		}
		if c.err != nil {
			if ctx.Err() != nil {
				return last, nil, ctx.Err()
			}
			return last, nil, c.err
		}
		last = c.next
		if progress != nil {
			progress(last)
		}
		if last.State != RunRunning {
			return last, nil, nil
		}
	}
	return last, nil, ctx.Err()
}

// advance is the run after pg, from prev.
func advance(prev *Run, pg *runPage, now time.Time) *Run {
	next := *prev
	next.UpdateTime = now
	if n := len(pg.items); n > 0 {
		next.Cursor = pg.items[n-1].cand.Household.ID
		next.Done += int64(n)
		next.Total = max(next.Total, next.Done)
	}
	if pg.last {
		next.State = RunDone
	}
	return &next
}

// runPage is one page in the pipeline; ready is closed once it is
// planned (or failed).
type runPage struct {
	items []runItem
	now   time.Time // when it was read: the decisions' time
	last  bool      // shorter than a full page: the run ends with it
	ready chan struct{}
	err   error
	fatal bool          // the policy cannot assess a household: the run ends
	chal  *rules.Policy // the product's challenger, nil when none
}

type runItem struct {
	cand   *Candidate
	parts  assess.Parts
	member int32 // the applicant whose birth date parts carry
	plan   *Plan // nil when the line is closed
	closed bool
}

// planPages reads pages after the run's cursor on one goroutine and plans
// them on workers; it returns the pages in order, at most workers+1 ahead
// of the caller (one queued, the others being planned): enough to keep the
// writers busy, few enough to keep the heap small.
func (s *Service) planPages(ctx context.Context, wg *sync.WaitGroup, r *Run, pol, chal *rules.Policy, workers int) <-chan *runPage {
	order := make(chan *runPage, 1)
	work := make(chan *runPage)
	for range workers {
		wg.Go(func() {
			for pg := range work {
				s.planPage(ctx, r, pol, pg)
				close(pg.ready)
			}
		})
	}
	wg.Go(func() {
		defer close(order)
		defer close(work)
		size := s.pageSize()
		after := r.Cursor
		for {
			pg := &runPage{now: s.clock(), ready: make(chan struct{}), chal: chal}
			var cands []*Candidate
			err := s.store.Read(ctx, func(tx Reader) error {
				var err error
				cands, err = tx.ReassessCandidates(ctx, r.Bank, pg.now, after, size)
				return err
			})
			if err == nil {
				err = s.baseParts(ctx, pg, cands)
			}
			pg.err = err
			pg.last = len(cands) < size
			select {
			case order <- pg:
			case <-ctx.Done():
				return
			}
			if pg.err != nil {
				close(pg.ready)
				return
			}
			select {
			case work <- pg:
			case <-ctx.Done():
				close(pg.ready)
				return
			}
			if pg.last {
				return
			}
			after = cands[len(cands)-1].Household.ID
		}
	})
	return order
}

// baseParts fills the page's items with the parts the store's read gives:
// points as of the day from the catalogue's base, and standing.
func (s *Service) baseParts(ctx context.Context, pg *runPage, cands []*Candidate) error {
	day := household.Today(pg.now)
	bases := map[string]decimal.Decimal{}
	pg.items = make([]runItem, len(cands))
	for i, c := range cands {
		h := c.Household
		base, ok := bases[h.Village]
		if !ok {
			var err error
			if base, err = s.inputs.BasePoints(ctx, h.Village); err != nil {
				return fmt.Errorf("the catalogue of village %s: %w", h.Village, err)
			}
			bases[h.Village] = base
		}
		pg.items[i] = runItem{cand: c, parts: assess.Parts{Household: h, Points: points.Balances(base, c.Entries, day),
			Standing: evidence.StandingOf(c.Listings, day), Repayment: lending.Record(c.Statuses, day)}}
	}
	return nil
}

// planPage plans every household of the page; a closed line is skipped.
// A failure of the inputs (the data key) fails the page, one of planning
// itself fails the run.
func (s *Service) planPage(ctx context.Context, r *Run, pol *rules.Policy, pg *runPage) {
	for i := range pg.items {
		if ctx.Err() != nil {
			pg.err = ctx.Err()
			return
		}
		it := &pg.items[i]
		member, birth, err := s.applicant(it.parts.Household, 0, lineOf(it.cand.Lines, r.Bank, r.Product))
		if err != nil {
			// Not the run's fault (a wrong data key): it stays running.
			pg.err = fmt.Errorf("household %s: %w", it.parts.Household.Name(), err)
			return
		}
		it.parts.ApplicantBirth, it.member = birth, member
		it.plan, err = PlanAssessment(PlanInput{Policy: pol, Bank: r.Bank, Product: r.Product, Parts: it.parts,
			Lines: it.cand.Lines, Applicant: member, Actor: ActorService, Now: pg.now, Outcome: true, Challenger: pg.chal})
		switch {
		case isLineClosed(err):
			it.closed = true
		case err != nil:
			pg.err, pg.fatal = fmt.Errorf("household %s: %w", it.parts.Household.Name(), err), true
			return
		}
	}
}

func isLineClosed(err error) bool {
	var f *fault.Error
	return errors.As(err, &f) && f.Reason == lending.ReasonLineClosed
}

func isReason(err error, reason string) bool {
	var f *fault.Error
	return errors.As(err, &f) && f.Reason == reason
}

// commitAttempts bounds how often a page is locked and planned again when
// a line appears between its lock and its write (a single Assess of the
// same household committing in that instant).
const commitAttempts = 3

// commitPage writes the page in one transaction, moving the run from
// prev to next; the transaction writes its events and moves the run only
// after the page before it did (after), then hands the turn on (mine).
func (s *Service) commitPage(ctx context.Context, prev, next *Run, pol *rules.Policy, pg *runPage, after, mine *turn) error {
	ids := make([]string, len(pg.items))
	for i, it := range pg.items {
		ids[i] = it.cand.Household.ID
	}
	name := RunName(prev.Bank, prev.Product, prev.ID)
	var err error
	for attempt := 1; attempt <= commitAttempts; attempt++ {
		err = s.store.Locked(ctx, func(tx Writer) error {
			live, lines, err := tx.LockPage(ctx, prev.Bank, s.clock(), ids)
			if err != nil {
				return err
			}
			plans, err := replan(pg, pol, prev, live, lines)
			if err != nil {
				return err
			}
			err = tx.WritePage(ctx, &Page{Run: next, PrevCursor: prev.Cursor, Plans: plans, Turn: after.wait})
			if err != nil {
				return err
			}
			mine.pass()
			// The challenger's shadows (challenger.go), after the turn:
			// they order nothing.
			if shs := shadowsOf(plans); len(shs) > 0 {
				if err := tx.InsertShadowDecisions(ctx, shs); err != nil {
					return err
				}
			}
			// One leaf per decision, the record a single assessment
			// writes, naming the run: each is provable on its own and
			// binds its outcome. Then the page's own record.
			for _, p := range plans {
				if err := tx.Record(ctx, DecisionRecord(p.Decision, ActorService, MethodReassessRun, name)); err != nil {
					return err
				}
			}
			if len(ids) > 0 {
				if err := tx.Record(ctx, pageRecord(name, next, pg.now, ids, plans)); err != nil {
					return err
				}
			}
			if next.State == RunRunning {
				return nil
			}
			return tx.Record(ctx, endRecord(next))
		})
		if !isReason(err, ReasonConcurrentChange) {
			break
		}
	}
	if err == nil {
		s.Poke(prev.Bank)
	}
	return err
}

// replan keeps the page's plans that the locked state still allows: a
// household without a live consent now is skipped, one whose lines
// changed since the read is planned again on the locked lines.
func replan(pg *runPage, pol *rules.Policy, r *Run, live []string, lines []*Line) ([]*Plan, error) {
	isLive := make(map[string]bool, len(live))
	for _, id := range live {
		isLive[id] = true
	}
	locked := make(map[string][]*Line, len(lines))
	for _, l := range lines {
		locked[l.HouseholdID] = append(locked[l.HouseholdID], l)
	}
	plans := make([]*Plan, 0, len(pg.items))
	for i := range pg.items {
		it := &pg.items[i]
		hid := it.cand.Household.ID
		if !isLive[hid] {
			continue
		}
		plan := it.plan
		if cur := locked[hid]; !sameLines(it.cand.Lines, cur) {
			var err error
			plan, err = PlanAssessment(PlanInput{Policy: pol, Bank: r.Bank, Product: r.Product, Parts: it.parts,
				Lines: cur, Applicant: it.member, Actor: ActorService, Now: pg.now, Outcome: true, Challenger: pg.chal})
			if isLineClosed(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
		} else if it.closed {
			continue
		}
		plans = append(plans, plan)
	}
	return plans, nil
}

// pageRecord is the page's audit record: the run's progress. The hash
// covers each decision's id and input hash ("id input_hash\n" each), in
// household order: the run's product's decisions of the households first
// to last decided at decided_at. Each decision is also recorded in a leaf
// of its own (DecisionRecord); before that was so, the page record was a
// batch decision's only record, and RecordsDecision still finds it for
// decisions logged then.
func pageRecord(runName string, r *Run, decidedAt time.Time, ids []string, plans []*Plan) audit.Record {
	h := sha256.New()
	for _, p := range plans {
		h.Write([]byte(p.Decision.ID))
		h.Write([]byte{' '})
		h.Write([]byte(p.Decision.InputHash))
		h.Write([]byte{'\n'})
	}
	sum := hex.EncodeToString(h.Sum(nil))
	return audit.Record{Time: r.UpdateTime, Actor: ActorService, Action: ActionReassessPage, Subject: runName,
		ResultHash: sum,
		Payload: map[string]string{"first_household": ids[0], "last_household": ids[len(ids)-1],
			"households": strconv.Itoa(len(ids)), "decisions": strconv.Itoa(len(plans)),
			"decisions_sha256": sum, "policy_version": strconv.Itoa(r.PolicyVersion),
			"done": strconv.FormatInt(r.Done, 10), "decided_at": decidedAt.Format(time.RFC3339Nano)}}
}

func endRecord(r *Run) audit.Record {
	return audit.Record{Time: r.UpdateTime, Actor: ActorService, Action: "credit.reassess_end",
		Subject: RunName(r.Bank, r.Product, r.ID),
		Payload: map[string]string{"state": string(r.State), "done": strconv.FormatInt(r.Done, 10),
			"error": r.Error}}
}

// endRun ends the run as failed with why, keeping its progress.
func (s *Service) endRun(ctx context.Context, r *Run, why string, progress func(*Run)) error {
	next := *r
	next.State, next.Error, next.UpdateTime = RunFailed, why, s.clock()
	err := s.store.Locked(ctx, func(tx Writer) error {
		if err := tx.WritePage(ctx, &Page{Run: &next, PrevCursor: r.Cursor}); err != nil {
			return err
		}
		return tx.Record(ctx, endRecord(&next))
	})
	if err != nil {
		return err
	}
	if progress != nil {
		progress(&next)
	}
	return nil
}
