package rpc

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending/credit"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// WithCredit gives the audit handler the lending service, for decision
// replay and decision receipts. Without it those RPCs are refused (FAILED_PRECONDITION).
func (s *Audit) WithCredit(c *credit.Service) *Audit {
	s.credit = c
	return s
}

func (s *Audit) ReplayDecision(ctx context.Context, req *sanzhiv1.ReplayDecisionRequest) (*sanzhiv1.DecisionReplay, error) {
	if s.credit == nil {
		return nil, fault.New(fault.FailedPrecondition, "NO_LENDING", "this server does not serve credit decisions")
	}
	r, err := s.credit.ReplayDecision(ctx, access.FromContext(ctx), req.GetDecision())
	if err != nil {
		return nil, err
	}
	return ReplayOut(r), nil
}

// ReplayOut is the wire form of a replay (the CLI prints it too).
func ReplayOut(r *credit.DecisionReplay) *sanzhiv1.DecisionReplay {
	d, auto := r.Decision, r.Replayed
	out := &sanzhiv1.DecisionReplay{
		Decision:         credit.DecisionName(d.Bank, d.Product, d.ID),
		ReplayedDecision: credit.DecisionName(auto.Bank, auto.Product, auto.ID),
		PolicyVersion:    int32(auto.PolicyVersion),
		StoredOutputHash: r.StoredOutputHash, OutputHash: r.OutputHash,
		PolicyHash: r.PolicyHash, InputHash: r.InputHash, UnreplayableReason: r.Reason,
	}
	switch r.Result {
	case credit.ReplayIdentical:
		out.Result = sanzhiv1.ReplayResult_REPLAY_RESULT_IDENTICAL
	case credit.ReplayDifferent:
		out.Result = sanzhiv1.ReplayResult_REPLAY_RESULT_DIFFERENT
	case credit.ReplayUnreplayable:
		out.Result = sanzhiv1.ReplayResult_REPLAY_RESULT_UNREPLAYABLE
	}
	for _, x := range r.Diffs {
		out.Diffs = append(out.Diffs, &sanzhiv1.FieldDiff{Field: x.Field, Stored: x.Stored, Recomputed: x.Recomputed})
	}
	if d.Kind == credit.Override {
		out.Override = &sanzhiv1.OverrideSummary{Eligible: d.Eligible, Limit: d.Limit.StringFixed(2),
			Rate: d.Rate.String(), Grade: d.Grade, Justification: d.Justification, DecidedBy: d.DecidedBy,
			DecideTime: timestamppb.New(d.Time)}
	}
	return out
}

func (s *Audit) GetDecisionReceipt(ctx context.Context, req *sanzhiv1.GetDecisionReceiptRequest) (*sanzhiv1.DecisionReceipt, error) {
	if s.credit == nil {
		return nil, fault.New(fault.FailedPrecondition, "NO_LENDING", "this server does not serve credit decisions")
	}
	d, err := s.credit.GetDecision(ctx, access.FromContext(ctx), req.GetDecision())
	if err != nil {
		return nil, err
	}
	seq, ok, err := app.DecisionRecord(ctx, s.store, d)
	if err != nil {
		return nil, err
	}
	if !ok {
		// Entries are sequenced by the checkpointer every few seconds.
		return nil, fault.New(fault.FailedPrecondition, "DECISION_NOT_YET_LOGGED",
			"the audit entry of %s is not in the log yet; ask again after the next checkpoint", req.GetDecision())
	}
	// The decision's authorisation covers its record: a household may
	// read the receipt of a decision about it even when the record is a
	// batch page (whose entry it would not list).
	p, err := s.log.Entry(ctx, seq, req.GetTreeSize())
	if err != nil {
		return nil, err
	}
	out, err := s.provedEntryOut(p, seq)
	if err != nil {
		return nil, err
	}
	return &sanzhiv1.DecisionReceipt{Decision: req.GetDecision(), Entry: out}, nil
}
