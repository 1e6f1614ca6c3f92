package rpc

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/fault"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/scoring/policies"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

// Policies serves sanzhi.v1.PolicyService: convert, call the lifecycle
// service once, convert back.
type Policies struct {
	sanzhiv1.UnimplementedPolicyServiceServer
	svc *policies.Service
	sim Simulator
}

// Simulator runs a draft policy over the population (app.Simulator):
// a simulation, or a version's activation gate.
type Simulator interface {
	Simulate(ctx context.Context, req app.SimulationRequest) (*app.Simulation, error)
	EvaluateGate(ctx context.Context, p *access.Principal, name string) (*policies.GateReport, error)
}

// NewPolicies returns the handler; without a simulator SimulatePolicy
// answers UNAVAILABLE.
func NewPolicies(svc *policies.Service, sim Simulator) *Policies {
	return &Policies{svc: svc, sim: sim}
}

// lintPolicy validates a policy document without storing it: its identity
// when valid, every problem otherwise.
func lintPolicy(doc []byte) (policies.Meta, []*sanzhiv1.PolicyProblem, error) {
	meta, err := app.PolicyChecker(doc)
	var le rules.LintErrors
	if errors.As(err, &le) {
		out := make([]*sanzhiv1.PolicyProblem, len(le))
		for i, p := range le {
			out[i] = &sanzhiv1.PolicyProblem{Line: int32(p.Line), Column: int32(p.Column), Path: p.Path, Message: p.Message}
		}
		return policies.Meta{}, out, nil
	}
	return meta, nil, err
}

func (s *Policies) UploadPolicy(ctx context.Context, req *sanzhiv1.UploadPolicyRequest) (*sanzhiv1.Policy, error) {
	v, err := s.svc.Upload(ctx, access.FromContext(ctx), req.GetParent(), []byte(req.GetDocument()))
	if err != nil {
		return nil, err
	}
	return PolicyOut(v), nil
}

func (s *Policies) LintPolicy(_ context.Context, req *sanzhiv1.LintPolicyRequest) (*sanzhiv1.LintPolicyResponse, error) {
	meta, problems, err := lintPolicy([]byte(req.GetDocument()))
	if err != nil {
		return nil, err
	}
	return &sanzhiv1.LintPolicyResponse{
		Valid: len(problems) == 0, Problems: problems, Bank: meta.Bank, Product: meta.Product,
		Version: int32(meta.Version), ContentHash: meta.ContentHash,
	}, nil
}

func (s *Policies) ApprovePolicy(ctx context.Context, req *sanzhiv1.ApprovePolicyRequest) (*sanzhiv1.Policy, error) {
	v, err := s.svc.Approve(ctx, access.FromContext(ctx), req.GetName())
	if err != nil {
		return nil, err
	}
	return PolicyOut(v), nil
}

func (s *Policies) ActivatePolicy(ctx context.Context, req *sanzhiv1.ActivatePolicyRequest) (*sanzhiv1.Policy, error) {
	v, err := s.svc.ActivateWith(ctx, access.FromContext(ctx), policies.ActivateRequest{
		Name: req.GetName(), GateJustification: req.GetGateJustification()})
	if err != nil {
		return nil, err
	}
	return PolicyOut(v), nil
}

func (s *Policies) GetPolicy(ctx context.Context, req *sanzhiv1.GetPolicyRequest) (*sanzhiv1.Policy, error) {
	v, err := s.svc.Get(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return PolicyOut(v), nil
}

func (s *Policies) ListPolicies(ctx context.Context, req *sanzhiv1.ListPoliciesRequest) (*sanzhiv1.ListPoliciesResponse, error) {
	page, err := s.svc.List(ctx, req.GetParent(), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &sanzhiv1.ListPoliciesResponse{NextPageToken: page.NextToken}
	for _, v := range page.Versions {
		out.Policies = append(out.Policies, PolicyOut(v))
	}
	return out, nil
}

func (s *Policies) DiffPolicies(ctx context.Context, req *sanzhiv1.DiffPoliciesRequest) (*sanzhiv1.DiffPoliciesResponse, error) {
	d, err := s.svc.Diff(ctx, req.GetName(), req.GetOther())
	if err != nil {
		return nil, err
	}
	return &sanzhiv1.DiffPoliciesResponse{Diff: d}, nil
}

// PolicyOut converts a stored version to its API form.
func PolicyOut(v *policies.Version) *sanzhiv1.Policy {
	ts := func(t *time.Time) *timestamppb.Timestamp {
		if t == nil {
			return nil
		}
		return timestamppb.New(*t)
	}
	return &sanzhiv1.Policy{
		Name: v.Name(), Bank: v.Bank, Product: v.Product, Version: int32(v.Version),
		State: map[policies.State]sanzhiv1.PolicyState{
			policies.Draft: sanzhiv1.PolicyState_POLICY_STATE_DRAFT, policies.Approved: sanzhiv1.PolicyState_POLICY_STATE_APPROVED,
			policies.Active: sanzhiv1.PolicyState_POLICY_STATE_ACTIVE, policies.Superseded: sanzhiv1.PolicyState_POLICY_STATE_SUPERSEDED,
		}[v.State],
		Document: v.Document, ContentHash: v.ContentHash, EffectiveDate: v.EffectiveDate,
		UploadedBy: v.UploadedBy, UploadTime: timestamppb.New(v.UploadTime),
		ApprovedBy: v.ApprovedBy, ApproveTime: ts(v.ApproveTime),
		ActivatedBy: v.ActivatedBy, ActivateTime: ts(v.ActivateTime), SupersedeTime: ts(v.SupersedeTime),
	}
}

func (s *Policies) SimulatePolicy(ctx context.Context, req *sanzhiv1.SimulatePolicyRequest) (*sanzhiv1.SimulatePolicyResponse, error) {
	if s.sim == nil {
		return nil, fault.New(fault.Unavailable, "SIMULATION_UNAVAILABLE", "this server has no simulator")
	}
	format := req.GetFormat()
	if format == sanzhiv1.SimulationFormat_SIMULATION_FORMAT_UNSPECIFIED {
		format = sanzhiv1.SimulationFormat_SIMULATION_FORMAT_TABLE
	}
	sim, err := s.sim.Simulate(ctx, app.SimulationRequest{Name: req.GetName(), Against: req.GetAgainst(), AsOf: req.GetAsOf(),
		Villages: req.GetVillages(), Format: strings.ToLower(strings.TrimPrefix(format.String(), "SIMULATION_FORMAT_")),
		English: strings.HasPrefix(strings.ToLower(req.GetLanguage()), "en")})
	if err != nil {
		return nil, err
	}
	r := sim.Report
	return &sanzhiv1.SimulatePolicyResponse{
		Report: string(sim.Rendered), Households: int32(r.Households),
		EligibleBase: int32(r.EligibleBase), EligibleNew: int32(r.EligibleNew),
		Gained: int32(r.Gained.Count), Lost: int32(r.Lost.Count),
		ExposureBase: r.ExposureBase.String(), ExposureNew: r.ExposureNew.String(),
	}, nil
}

// StartChallenger designates a challenger (scoring/policies, challenger.go).
func (s *Policies) StartChallenger(ctx context.Context, req *sanzhiv1.StartChallengerRequest) (*sanzhiv1.Challenger, error) {
	c, err := s.svc.StartChallenger(ctx, access.FromContext(ctx), req.GetName())
	if err != nil {
		return nil, err
	}
	return ChallengerOut(c, nil), nil
}

// StopChallenger stops the product's challenger.
func (s *Policies) StopChallenger(ctx context.Context, req *sanzhiv1.StopChallengerRequest) (*sanzhiv1.Challenger, error) {
	c, err := s.svc.StopChallenger(ctx, access.FromContext(ctx), req.GetParent())
	if err != nil {
		return nil, err
	}
	return ChallengerOut(c, nil), nil
}

// GetChallenger returns the product's challenger with its counts.
func (s *Policies) GetChallenger(ctx context.Context, req *sanzhiv1.GetChallengerRequest) (*sanzhiv1.Challenger, error) {
	v, err := s.svc.GetChallenger(ctx, req.GetParent())
	if err != nil {
		return nil, err
	}
	return ChallengerOut(v.Challenger, &v.Counts), nil
}

// ChallengerOut converts a designation (and, when given, its counts) to
// its API form.
func ChallengerOut(c *policies.Challenger, n *policies.ShadowCounts) *sanzhiv1.Challenger {
	out := &sanzhiv1.Challenger{Parent: c.Parent(), Policy: c.VersionName(), Version: int32(c.Version),
		StartedBy: c.StartedBy, StartTime: timestamppb.New(c.StartTime), StoppedBy: c.StoppedBy,
		StopReason: c.StopReason}
	if c.StopTime != nil {
		out.StopTime = timestamppb.New(*c.StopTime)
	}
	if n != nil {
		out.ShadowDecisions, out.SwapIn, out.SwapOut = n.Total, n.SwapIn, n.SwapOut
	}
	return out
}

func (s *Policies) EvaluatePolicyGate(ctx context.Context, req *sanzhiv1.EvaluatePolicyGateRequest) (*sanzhiv1.PolicyGateReport, error) {
	if s.sim == nil {
		return nil, fault.New(fault.Unavailable, "SIMULATION_UNAVAILABLE", "this server has no simulator")
	}
	r, err := s.sim.EvaluateGate(ctx, access.FromContext(ctx), req.GetName())
	if err != nil {
		return nil, err
	}
	return GateOut(r), nil
}

func (s *Policies) GetPolicyGate(ctx context.Context, req *sanzhiv1.GetPolicyGateRequest) (*sanzhiv1.PolicyGateReport, error) {
	r, err := s.svc.LatestGate(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return GateOut(r), nil
}

// GateOut converts a stored gate report to its API form.
func GateOut(r *policies.GateReport) *sanzhiv1.PolicyGateReport {
	out := &sanzhiv1.PolicyGateReport{Name: r.Name(), PolicyHash: r.PolicyHash, AsOf: r.AsOf,
		Households: int32(r.Households), Passed: r.Passed, EvaluatedBy: r.EvaluatedBy,
		Time: timestamppb.New(r.Time), Seq: int32(r.Seq)}
	if r.AgainstVersion > 0 {
		out.Against = policies.ProductName(r.Bank, r.Product) + "/policies/" + strconv.Itoa(r.AgainstVersion)
	}
	for _, c := range r.Checks {
		out.Checks = append(out.Checks, &sanzhiv1.PolicyGateCheck{Id: c.ID, Value: c.Value, Threshold: c.Threshold,
			Passed: c.Passed, Applicable: c.Applicable, MessageZh: c.ZH, MessageEn: c.EN})
	}
	return out
}
