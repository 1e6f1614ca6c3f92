package credit

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
)

// Decision replay for regulators and the deciding bank (issue 12): a
// stored decision's canonical input is evaluated again under the policy
// version it pins, on its day, and every output field is compared with
// what was stored. It is the computation explained() does to rebuild
// reasons (Reevaluate in replay.go), answered instead of enforced.

// ReplayResult is the verdict of a replay.
type ReplayResult string

const (
	// ReplayIdentical: every compared field and hash is reproduced.
	ReplayIdentical ReplayResult = "identical"
	// ReplayDifferent: at least one field differs (Diffs names them).
	ReplayDifferent ReplayResult = "different"
	// ReplayUnreplayable: the decision cannot be evaluated again (its
	// pinned policy version is gone, or its stored input does not
	// decode); Reason says which.
	ReplayUnreplayable ReplayResult = "unreplayable"
)

// ActionReplay is the audit action of a replay.
const ActionReplay = "decision.replay"

// DecisionReplay is the answer to a replay.
type DecisionReplay struct {
	// Decision is the decision asked about; for an override, Replayed is
	// the automated decision it replaced, which is what is evaluated
	// again (an override is a person's judgement, not an evaluation).
	Decision, Replayed *Decision
	Result             ReplayResult
	Reason             string // why a decision is unreplayable
	Reevaluation
}

// ReplayDecision replays the decision named banks/{b}/products/{p}/decisions/{id}
// for p and audits the replay in a transaction of its own. A decision of
// another bank, or one that does not exist, is NotFound.
func (s *Service) ReplayDecision(ctx context.Context, p *access.Principal, name string) (*DecisionReplay, error) {
	bank, product, id, err := ParseDecisionName(name, "decision")
	if err != nil {
		return nil, err
	}
	notFound := fault.New(fault.NotFound, "DECISION_NOT_FOUND", "decision %s not found", name)
	if (p.Role == access.BankOfficer || p.Role == access.BankRisk) && p.Scope.Bank != bank {
		return nil, notFound
	}
	var d, auto *Decision
	err = s.store.Read(ctx, func(tx Reader) error {
		var err error
		if d, err = tx.Decision(ctx, id); err != nil {
			return err
		}
		if d.Bank != bank || d.Product != product {
			return notFound
		}
		auto = d
		if d.Kind == Override {
			auto, err = tx.Decision(ctx, d.Overrides)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	r, err := s.ReplayStored(ctx, d, auto)
	if err != nil {
		return nil, err
	}
	rec := audit.Record{Time: s.clock(), Actor: p.ID, Action: ActionReplay, Subject: name,
		ResultHash: r.OutputHash, Payload: map[string]string{
			payloadBank: bank, payloadProduct: product, "household": householdOf(d),
			"result": string(r.Result), "policy_version": strconv.Itoa(auto.PolicyVersion),
			"differences": strconv.Itoa(len(r.Diffs))}}
	if auto != d {
		rec.Payload["replayed_decision"] = DecisionName(auto.Bank, auto.Product, auto.ID)
	}
	if err := s.store.Write(ctx, func(tx Writer) error { return tx.Record(ctx, rec) }); err != nil {
		return nil, err
	}
	return r, nil
}

// ReplayStored replays auto, the automated decision behind d (d itself,
// or the decision the override d replaced), under its pinned policy
// version. It reads nothing but that policy version and records nothing:
// the range replay of the CLI calls it for each decision it scans. A
// missing policy version or an undecodable input makes the decision
// unreplayable, not an error; a store failure is an error.
func (s *Service) ReplayStored(ctx context.Context, d, auto *Decision) (*DecisionReplay, error) {
	out := &DecisionReplay{Decision: d, Replayed: auto}
	if auto.Kind != Automated {
		out.Result, out.Reason = ReplayUnreplayable, "the override names no automated decision"
		return out, nil
	}
	pol, err := s.policies.Version(ctx, auto.Bank, auto.Product, auto.PolicyVersion)
	if fault.Is(err, fault.NotFound) {
		out.Result, out.Reason = ReplayUnreplayable, "policy version "+strconv.Itoa(auto.PolicyVersion)+" is not stored"
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	r, err := Reevaluate(pol, auto)
	if err != nil {
		var f *fault.Error
		if errors.As(err, &f) && f.Reason == "DECISION_REPLAY" {
			out.Result, out.Reason = ReplayUnreplayable, "the stored input does not decode"
			return out, nil
		}
		return nil, err
	}
	out.Reevaluation = r
	out.Result = ReplayIdentical
	if len(r.Diffs) > 0 {
		out.Result = ReplayDifferent
	}
	return out, nil
}

// DiffSummary is the replay's differing fields, for logs and summaries.
func (r *DecisionReplay) DiffSummary() string {
	var b strings.Builder
	for i, d := range r.Diffs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(d.Field + ": stored " + d.Stored + ", recomputed " + d.Recomputed)
	}
	return b.String()
}

// RecordSpot is where an audit entry recording a decision may be: its
// action and its exact subject or subject prefix.
type RecordSpot struct{ Action, Subject, SubjectPrefix string }

// RecordSpots lists where the audit entry recording d may be, most likely
// first; the entry's payload then settles it (RecordsDecision). An
// automated decision is recorded by its own credit.assess entry, whether a
// single assessment or a batch re-assessment made it (DecisionRecord);
// a batch decision logged before runs wrote one entry per decision has
// only its page's entry, the second spot.
func RecordSpots(d *Decision) []RecordSpot {
	if d.Kind == Override {
		return []RecordSpot{{Action: "credit.override", SubjectPrefix: ProductName(d.Bank, d.Product) + "/reviews/"}}
	}
	return []RecordSpot{{Action: ActionAssess, Subject: householdOf(d)},
		{Action: ActionReassessPage, SubjectPrefix: ProductName(d.Bank, d.Product) + "/reassessments/"}}
}

// RecordsDecision reports whether entry e is the audit record of decision
// d: a credit.assess or credit.override naming it, or (for a batch
// decision logged before each had its own entry) the page of a batch
// re-assessment whose household range holds d's household and whose
// decisions were decided at d's time (a page record vouches for all of
// its decisions with one hash of their ids and input hashes, which does
// not let the household check its own without the others').
func RecordsDecision(e audit.Entry, d *Decision) bool {
	name := DecisionName(d.Bank, d.Product, d.ID)
	switch e.Action {
	case ActionAssess:
		return e.Payload[payloadDecision] == name
	case "credit.override":
		return e.Payload["override_decision"] == name
	case ActionReassessPage:
		at, err := time.Parse(time.RFC3339Nano, e.Payload["decided_at"])
		return err == nil && at.Equal(d.Time) && strings.HasPrefix(e.Subject, ProductName(d.Bank, d.Product)+"/") &&
			e.Payload["first_household"] <= d.HouseholdID && d.HouseholdID <= e.Payload["last_household"]
	}
	return false
}

// MayReadDecision reports whether p may read decision d's receipt: a
// regulator, the deciding bank's staff, or the household it is about.
func MayReadDecision(p *access.Principal, d *Decision) bool {
	switch p.Role {
	case access.Regulator:
		return true
	case access.BankOfficer, access.BankRisk:
		return p.Scope.Bank == d.Bank
	case access.Household:
		return p.Scope.Household == d.HouseholdID
	}
	return false
}

// GetDecision returns the decision named name if p may read it, NotFound
// otherwise (the same answer as for a decision that does not exist).
func (s *Service) GetDecision(ctx context.Context, p *access.Principal, name string) (*Decision, error) {
	bank, product, id, err := ParseDecisionName(name, "decision")
	if err != nil {
		return nil, err
	}
	var d *Decision
	if err := s.store.Read(ctx, func(tx Reader) error {
		d, err = tx.Decision(ctx, id)
		return err
	}); err != nil {
		return nil, err
	}
	if d.Bank != bank || d.Product != product || !MayReadDecision(p, d) {
		return nil, fault.New(fault.NotFound, "DECISION_NOT_FOUND", "decision %s not found", name)
	}
	return d, nil
}
