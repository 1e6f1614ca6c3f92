package simrun

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/scoring/policies"
	"github.com/sanzhi/sanzhi/scoring/simulate"
)

// ReasonRunning is the ErrorInfo reason of a simulation refused because
// the same bank already runs one.
const ReasonRunning = "SIMULATION_RUNNING"

// ReasonTooSmall refuses an aggregate simulation over fewer than
// simulate.MinCell households: its totals would describe them one by one.
const ReasonTooSmall = "POPULATION_TOO_SMALL"

// slots holds one token per bank and store: a simulation runs while it
// holds its bank's. A simulation reads the whole county and keeps a core
// busy for seconds to minutes: one per bank at a time keeps a bank from
// monopolising the server, and from taking it apart by running many at
// once. The store is part of the key because one process may serve
// several (tests do, each with its own bank of the same name).
type slots struct {
	mu   sync.Mutex
	bank map[slotKey]chan struct{} // buffered 1: full while a simulation runs
}

// slotKey names a slot; store is the Population, compared by identity (a
// pointer: *sqlstore.Store).
type slotKey struct {
	store Population
	bank  string
}

var running = &slots{bank: map[slotKey]chan struct{}{}}

func (s *slots) of(st Population, bank string) chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := slotKey{store: st, bank: bank}
	c, ok := s.bank[k]
	if !ok {
		c = make(chan struct{}, 1)
		s.bank[k] = c
	}
	return c
}

func releaser(c chan struct{}) func() {
	var once sync.Once
	return func() { once.Do(func() { <-c }) }
}

// TryAcquire takes bank's simulation slot on st. It returns a release
// function and true, or false when a simulation of that bank is running.
func TryAcquire(st Population, bank string) (release func(), ok bool) {
	c := running.of(st, bank)
	select {
	case c <- struct{}{}:
		return releaser(c), true
	default:
		return nil, false
	}
}

// Acquire waits for bank's simulation slot until ctx ends (its error
// then). An activation that evaluates its gate waits its turn rather
// than fail because a simulation of the bank is running.
func Acquire(ctx context.Context, st Population, bank string) (release func(), err error) {
	c := running.of(st, bank)
	select {
	case c <- struct{}{}:
		return releaser(c), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Recorder appends a simulation's audit entry (policies.Service).
type Recorder interface {
	RecordSimulation(ctx context.Context, p *access.Principal, s policies.Simulation) error
}

// Job is one simulation asked for by a principal, through the API or the
// CLI: both go through Simulate, so both follow the same rules.
type Job struct {
	Principal *access.Principal
	Run       Run
	Query     sqlstore.PopulationQuery
	// Record is the audit entry's description; Simulate fills in the
	// population, the view and the output hash.
	Record policies.Simulation
	// Render writes the report cut for the principal's view.
	Render func(*simulate.Report) ([]byte, error)
	// Progress, when set, is called once per household evaluated (a
	// progress bar); it sees no household data.
	Progress func()
	// Each, when set, receives every outcome with the head's name masked
	// (the CLI's per-household CSV). Only a Masked view may have it.
	Each func(simulate.Outcome) error
	// Extra, when set, returns the bytes Each produced, so that their hash
	// is logged with the report's; the caller hands them out only after
	// Simulate returns.
	Extra func() []byte
}

// ReasonRowsRefused refuses per-household output to a caller whose view
// is aggregates only.
const ReasonRowsRefused = "HOUSEHOLD_ROWS_NOT_ALLOWED"

// Simulate runs job under the rules of a simulation:
//   - one at a time per bank (FAILED_PRECONDITION, reason SIMULATION_RUNNING);
//   - the report is cut for the principal's view (simulate.ViewFor): a bank
//     or an operator gets aggregates only, a regulator masked sample rows;
//   - an aggregate over fewer than simulate.MinCell households is refused;
//   - the run stops when ctx ends (the caller went away), writing nothing;
//   - the output is delivered only after its audit entry (who, versions,
//     population size, SHA-256 of the output) has committed.
func Simulate(ctx context.Context, st Population, rec Recorder, job Job) (*simulate.Report, []byte, error) {
	release, ok := TryAcquire(st, job.Run.New.Bank)
	if !ok {
		return nil, nil, fault.New(fault.FailedPrecondition, ReasonRunning,
			"a simulation for bank %s is already running; wait for it to finish", job.Run.New.Bank)
	}
	defer release()

	view := simulate.ViewFor(job.Principal)
	if job.Each != nil && view != simulate.Masked {
		return nil, nil, fault.New(fault.PermissionDenied, ReasonRowsRefused,
			"per-household rows are for regulators only; a simulation gives a bank aggregates")
	}
	full, err := accumulate(ctx, st, job.Run, job.Query, func(o simulate.Outcome) error {
		if job.Progress != nil {
			job.Progress()
		}
		if job.Each != nil {
			o.HeadName = simulate.MaskName(o.HeadName)
			o.HeadID = idnum.PersonID{}
			return job.Each(o)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	report := full.For(view)
	if view == simulate.Aggregate && report.Households < simulate.MinCell {
		return nil, nil, fault.New(fault.FailedPrecondition, ReasonTooSmall,
			"the selection holds %d households; a simulation needs at least %d so that no household can be told apart",
			report.Households, simulate.MinCell)
	}
	out, err := job.Render(report)
	if err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(out)
	r := job.Record
	r.Households, r.OutputSHA256 = report.Households, hex.EncodeToString(sum[:])
	r.View = viewName(view)
	if job.Extra != nil {
		x := sha256.Sum256(job.Extra())
		r.ExtraSHA256 = hex.EncodeToString(x[:])
	}
	if err := rec.RecordSimulation(ctx, job.Principal, r); err != nil {
		return nil, nil, err
	}
	return report, out, nil
}

func viewName(v simulate.View) string {
	if v == simulate.Masked {
		return "masked"
	}
	return "aggregate"
}

// accumulate streams q's households through run into an accumulator,
// calling each (when set) with every outcome after it is counted, and
// returns the uncut report: head names in clear in its samples, so it
// must pass through Report.For before it leaves the process.
func accumulate(ctx context.Context, st Population, run Run, q sqlstore.PopulationQuery, each func(simulate.Outcome) error) (*simulate.Report, error) {
	acc := simulate.NewAccumulator(run.New, run.Base, run.Day)
	err := run.Stream(ctx, st, q, func(o simulate.Outcome) error {
		acc.Add(o)
		if each != nil {
			return each(o)
		}
		return nil
	})
	if err == nil {
		err = ctx.Err() // a cancellation between the last page and here
	}
	if err == nil && acc.Err() != nil {
		err = fault.Wrap(acc.Err(), fault.Internal, "INTERNAL", "cannot compute the fairness figures")
	}
	if err != nil {
		return nil, err
	}
	return acc.Report(q.Villages), nil
}

// GateRun evaluates a version's activation gate: run (the candidate
// against the active version) over every household on run.Day, with the
// bank's simulation slot held like any simulation. observe, when set,
// sees every outcome in household id order on one goroutine, for a tally
// that keeps no household's data (the reference population). It returns
// the uncut report for the gate to judge (simulate.Gate reads its
// unpooled figures); the caller stores aggregates only. It writes
// nothing: the caller records the gate report and its audit entry.
// Unlike Simulate it waits for the bank's slot (until ctx ends): a gate
// is evaluated by an activation, which should not fail because a
// simulation of the bank happens to run.
func GateRun(ctx context.Context, st Population, run Run, observe func(*simulate.Outcome) error) (*simulate.Report, error) {
	release, err := Acquire(ctx, st, run.New.Bank)
	if err != nil {
		return nil, err
	}
	defer release()
	return accumulate(ctx, st, run, sqlstore.PopulationQuery{}, func(o simulate.Outcome) error {
		if observe != nil {
			return observe(&o)
		}
		return nil
	})
}
