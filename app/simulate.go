package app

import (
	"context"
	"runtime"
	"time"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/simrun"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/catalogue"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/policies"
	"github.com/sanzhi/sanzhi/scoring/rules"
	"github.com/sanzhi/sanzhi/scoring/simulate"
)

// SimulationRequest names a stored policy version (a draft is fine) to run
// over the population, and what to compare it with.
type SimulationRequest struct {
	Name     string // the policy version simulated
	Against  string // the version compared with; empty: none
	AsOf     string // the business day (YYYY-MM-DD); empty: today in Asia/Shanghai
	Villages []string
	Format   string // "table" (default), "csv" or "html"
	English  bool   // the report's language; zh-CN otherwise
}

// Simulation is a simulation's figures and its rendered report.
type Simulation struct {
	Report   *simulate.Report
	Rendered []byte
}

// Simulator runs SimulatePolicy: it reads the named versions, streams the
// population through adapters/simrun and renders the report. The API
// simulates what a bank has uploaded; the CLI also takes files.
type Simulator struct {
	Store      *sqlstore.Store
	Keyring    *pii.Keyring
	Policies   *policies.Service
	Catalogues *catalogue.Service
	Now        func() time.Time
}

func (s *Simulator) load(ctx context.Context, name string) (*rules.Policy, error) {
	v, err := s.Policies.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	p, err := rules.Parse([]byte(v.Document), nil)
	if err != nil {
		return nil, fault.Wrap(err, fault.FailedPrecondition, "POLICY_UNREADABLE", "%s no longer passes validation", v.Name())
	}
	return p, nil
}

// Simulate runs req and records it (policies.Simulation) in the audit log.
// InvalidArgument for a bad as_of or an against of another product;
// NotFound for a version that does not exist.
func (s *Simulator) Simulate(ctx context.Context, req SimulationRequest) (*Simulation, error) {
	t := s.Now()
	today := household.Today(t)
	day := today
	if req.AsOf != "" {
		d, err := household.ParseDate(req.AsOf)
		if err != nil {
			return nil, fault.InvalidField("as_of", "%q is not a date", req.AsOf)
		}
		if d.After(today) {
			return nil, fault.InvalidField("as_of", "%s is in the future (today is %s in Asia/Shanghai)", d, today)
		}
		day = d
	}
	newP, err := s.load(ctx, req.Name)
	if err != nil {
		return nil, err
	}
	var baseP *rules.Policy
	if req.Against != "" {
		if baseP, err = s.load(ctx, req.Against); err != nil {
			return nil, err
		}
		if baseP.Bank != newP.Bank || baseP.Product != newP.Product {
			return nil, fault.InvalidField("against", "is a policy of another product")
		}
	}
	format := req.Format
	if format == "" {
		format = "table"
	}
	run := simrun.Run{New: newP, Base: baseP, Day: day, Keyring: s.Keyring, Catalogues: s.Catalogues, Now: t, Workers: runtime.GOMAXPROCS(0)}
	rec := policies.Simulation{Bank: newP.Bank, Product: newP.Product, Version: newP.Version, ContentHash: newP.Hash(),
		AsOf: string(day), Villages: req.Villages, Format: format}
	if baseP != nil {
		rec.Against, rec.AgainstHash = req.Against, baseP.Hash()
	}
	r, out, err := simrun.Simulate(ctx, s.Store, s.Policies, simrun.Job{
		Principal: access.FromContext(ctx), Run: run, Query: sqlstore.PopulationQuery{Villages: req.Villages},
		Record: rec,
		Render: func(r *simulate.Report) ([]byte, error) {
			out, err := r.Render(format, req.English)
			if err != nil {
				return nil, fault.Wrap(err, fault.Internal, "INTERNAL", "cannot render the report")
			}
			return out, nil
		},
	})
	if err != nil {
		return nil, err
	}
	return &Simulation{Report: r, Rendered: out}, nil
}
