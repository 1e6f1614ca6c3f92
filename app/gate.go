package app

import (
	"context"
	"encoding/json"
	"runtime"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/simrun"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/modelrisk"
	"github.com/sanzhi/sanzhi/scoring/policies"
	"github.com/sanzhi/sanzhi/scoring/simulate"
)

// EvaluateGate evaluates the activation gate of the named version (a
// draft or an approved one) as p and stores the report (issue 16 §5): the
// version is simulated over every household as of today against the bank
// product's active version (none: PSI and lost share do not apply),
// judged by its own document's gate (simulate.Gate), and its scores and
// characteristic bins over that population are kept as its reference
// population (modelrisk.Reference). The report and its policy.gate audit
// entry commit together (policies.Service.RecordGate). The run waits for
// the bank's simulation slot (one simulation per bank at a time) until
// ctx ends.
func (s *Simulator) EvaluateGate(ctx context.Context, p *access.Principal, name string) (*policies.GateReport, error) {
	if _, _, _, err := policies.ParseName(name, "name", false); err != nil {
		return nil, err
	}
	v, err := s.Policies.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	if v.State != policies.Draft && v.State != policies.Approved {
		return nil, fault.New(fault.FailedPrecondition, "POLICY_NOT_CANDIDATE",
			"%s is %s; the gate judges a draft or approved version before it is activated", v.Name(), v.State)
	}
	newP, err := s.load(ctx, name)
	if err != nil {
		return nil, err
	}
	run := simrun.Run{New: newP, Keyring: s.Keyring, Catalogues: s.Catalogues, Now: s.Now(), Workers: runtime.GOMAXPROCS(0)}
	run.Day = household.Today(run.Now)
	against := 0
	switch cur, err := s.Policies.Get(ctx, v.Parent()+"/policies/active"); {
	case err == nil:
		if run.Base, err = s.load(ctx, cur.Name()); err != nil {
			return nil, err
		}
		against = cur.Version
	case !fault.Is(err, fault.NotFound):
		return nil, err
	}
	tally, err := modelrisk.NewTally(modelrisk.SpecOf(newP), modelrisk.DefaultConfig(run.Day))
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "INTERNAL", "cannot tally %s", v.Name())
	}
	var d modelrisk.Decision // reused: Add keeps nothing of it
	full, err := simrun.GateRun(ctx, s.Store, run, func(o *simulate.Outcome) error {
		d.Score, d.Bins = o.New.Score, o.New.Bins
		d.Applicant = modelrisk.Applicant{Village: o.Village, ID: o.HeadID, Approved: o.New.Eligible}
		if o.New.Eligible {
			var err error
			if d.Limit, err = modelrisk.Fen(o.New.Limit); err != nil {
				return fault.Wrap(err, fault.Internal, "INTERNAL", "cannot tally %s", v.Name())
			}
			if d.Rate, err = modelrisk.Micro(o.New.Rate); err != nil {
				return fault.Wrap(err, fault.Internal, "INTERNAL", "cannot tally %s", v.Name())
			}
		}
		if err := tally.Add(&d); err != nil {
			return fault.Wrap(err, fault.Internal, "INTERNAL", "cannot tally %s", v.Name())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	g := simulate.Gate(full, newP.Gate)
	summary, err := json.Marshal(gateSummaryOf(full, newP.Gate.FairnessDimensions))
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "INTERNAL", "cannot encode the gate summary")
	}
	ref, err := json.Marshal(tally.Reference())
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "INTERNAL", "cannot encode the reference population")
	}
	r := &policies.GateReport{Bank: v.Bank, Product: v.Product, Version: v.Version, PolicyHash: v.ContentHash,
		AgainstVersion: against, AsOf: string(run.Day), Households: full.Households, Passed: g.Passed,
		Summary: string(summary), Reference: string(ref)}
	for _, c := range g.Checks {
		r.Checks = append(r.Checks, policies.GateCheck{ID: c.ID, Value: c.Value, Threshold: c.Threshold,
			Passed: c.Passed, Applicable: c.Applicable, ZH: c.ZH, EN: c.EN})
	}
	return s.Policies.RecordGate(ctx, p, r)
}

// GateSummary is what a gate report keeps of its simulation: the
// aggregate view's figures (small fairness groups pooled as a bank's
// simulation report pools them), never a household's data. Over fewer than
// simulate.MinCell households it keeps only their number.
type GateSummary struct {
	Households   int                 `json:"households"`
	EligibleBase int                 `json:"eligible_base,omitempty"`
	EligibleNew  int                 `json:"eligible_new,omitempty"`
	Gained       int                 `json:"gained,omitempty"`
	Lost         int                 `json:"lost,omitempty"`
	ExposureBase string              `json:"exposure_base,omitempty"`
	ExposureNew  string              `json:"exposure_new,omitempty"`
	PSI          *float64            `json:"psi,omitempty"`
	Judged       []string            `json:"judged_dimensions"`
	Fairness     []GateSummaryGroups `json:"fairness,omitempty"`
}

// GateSummaryGroups is one fairness dimension of a GateSummary.
type GateSummaryGroups struct {
	Dimension string             `json:"dimension"`
	Groups    []GateSummaryGroup `json:"groups"`
}

// GateSummaryGroup is one group's approvals.
type GateSummaryGroup struct {
	Key           string   `json:"key"`
	Households    int64    `json:"households"`
	Approved      int64    `json:"approved"`
	AdverseImpact *float64 `json:"adverse_impact,omitempty"`
	Small         bool     `json:"small,omitempty"`
}

func gateSummaryOf(full *simulate.Report, judged []string) GateSummary {
	out := GateSummary{Households: full.Households, Judged: append([]string{}, judged...)}
	if full.Households < simulate.MinCell {
		return out
	}
	r := full.For(simulate.Aggregate)
	out.EligibleBase, out.EligibleNew, out.Gained, out.Lost = r.EligibleBase, r.EligibleNew, r.Gained.Count, r.Lost.Count
	out.ExposureBase, out.ExposureNew = r.ExposureBase.String(), r.ExposureNew.String()
	if r.ScoreShift != nil {
		v := r.ScoreShift.Value
		out.PSI = &v
	}
	for _, d := range r.Fairness.Dimensions {
		gs := GateSummaryGroups{Dimension: d.Name}
		for _, g := range d.Groups {
			sg := GateSummaryGroup{Key: g.Key, Households: g.Decisions, Approved: g.Approved, Small: g.Small}
			if g.HasRatio {
				ai := g.AdverseImpact
				sg.AdverseImpact = &ai
			}
			gs.Groups = append(gs.Groups, sg)
		}
		out.Fairness = append(out.Fairness, gs)
	}
	return out
}
