package credit

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/policy"
)

// Human review (PIPL art. 24): a household may ask for an explanation and
// for a person to review an automated decision about it; a bank officer
// closes the request by upholding the decision or overriding it. An
// override is a decision of its own (kind "override") stored beside the
// automated one, never in its place, so the regulator sees both.
//
// The bounds an override must keep, all set by the policy:
//   - a knock-out is never overridden into a line (limit must be 0);
//   - the limit may not exceed the policy's product maximum, nor its total
//     exposure cap less the household's limits at other banks;
//   - the rate is the automated decision's, or for a household the policy
//     declined, the rate of the policy's lowest eligible grade.

// RequestReview records a household's request for a human review of an
// automated decision about it. A second request while one is open
// returns the open one.
func (s *Service) RequestReview(ctx context.Context, p *access.Principal, decisionName, reason string) (*Review, error) {
	bank, product, did, err := ParseDecisionName(decisionName, "decision")
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(reason) == "" {
		return nil, fault.InvalidField("reason", "say what should be looked at again")
	}
	now := s.clock()
	var out *Review
	err = s.store.Write(ctx, func(tx Writer) error {
		d, err := tx.Decision(ctx, did)
		if err != nil {
			return err
		}
		if d.Bank != bank || d.Product != product || (p.Role == access.Household && d.HouseholdID != p.Scope.Household) {
			return fault.New(fault.NotFound, "DECISION_NOT_FOUND", "decision %s not found", decisionName)
		}
		if d.Kind != Automated {
			return fault.New(fault.FailedPrecondition, "NOT_AUTOMATED",
				"%s is already a person's decision; ask the bank directly", decisionName)
		}
		open, err := tx.Reviews(ctx, ReviewQuery{HouseholdID: d.HouseholdID, State: ReviewOpen, Limit: 100})
		if err != nil {
			return err
		}
		for _, r := range open {
			if r.DecisionID == d.ID {
				out = r
				return nil
			}
		}
		r := &Review{ID: uuid.Must(uuid.NewV7()).String(), DecisionID: d.ID, Bank: d.Bank, Village: d.Village,
			HouseholdID: d.HouseholdID, Reason: strings.TrimSpace(reason), State: ReviewOpen,
			RequestedBy: p.ID, RequestTime: now}
		if err := tx.InsertReview(ctx, r); err != nil {
			return err
		}
		out = r
		return tx.Record(ctx, audit.Record{Time: now, Actor: p.ID, Action: "credit.review_request",
			Subject: ReviewName(d.Bank, d.Product, r.ID),
			Payload: map[string]string{"decision": decisionName, "household": householdOf(d)}})
	})
	return out, err
}

func householdOf(d *Decision) string { return "villages/" + d.Village + "/households/" + d.HouseholdID }

// Resolution is an officer's answer to a review.
type Resolution struct {
	Review        string // banks/{bank}/products/{product}/reviews/{id}
	Override      bool
	Limit         string // for an override: yuan, "0" to decline
	Justification string
}

// Resolved is the closed review and, for an override, its decision and
// the line after it.
type Resolved struct {
	Review   *Review
	Decision *Decision
	View     *View
}

// Resolve closes an open review: uphold, or override within the policy's
// bounds, with a written justification.
func (s *Service) Resolve(ctx context.Context, p *access.Principal, in Resolution) (*Resolved, error) {
	bank, product, rid, err := ParseReviewName(in.Review, "name")
	if err != nil {
		return nil, err
	}
	if err := checkJustification(in.Justification); err != nil {
		return nil, err
	}
	limit := decimal.Zero
	if in.Override {
		if in.Limit != "0" {
			if limit, err = lending.CheckAmount("limit", in.Limit); err != nil {
				return nil, err
			}
		}
	} else if in.Limit != "" {
		return nil, fault.InvalidField("limit", "is only given with outcome \"override\"")
	}
	var pol *policy.Policy
	if in.Override {
		if pol, err = s.policies.Active(ctx, bank, product); err != nil {
			return nil, err
		}
	}
	now := s.clock()
	today := household.Today(now)
	var out *Resolved
	err = s.store.Locked(ctx, func(tx Writer) error {
		r, err := tx.Review(ctx, rid)
		if err != nil {
			return err
		}
		d0, err := tx.Decision(ctx, r.DecisionID)
		if err != nil {
			return err
		}
		if r.Bank != bank || d0.Product != product {
			return fault.New(fault.NotFound, "REVIEW_NOT_FOUND", "review %s not found", in.Review)
		}
		if r.State != ReviewOpen {
			return fault.New(fault.FailedPrecondition, "REVIEW_CLOSED", "review %s is already %s", in.Review, r.State)
		}
		rv := *r
		rv.ResolvedBy, rv.ResolveTime, rv.Resolution = p.ID, &now, strings.TrimSpace(in.Justification)
		out = &Resolved{Review: &rv}
		action := "credit.review_uphold"
		payload := map[string]string{"household": householdOf(d0), "decision": DecisionName(bank, product, d0.ID),
			"justification": rv.Resolution}
		if !in.Override {
			rv.State = ReviewUpheld
		} else {
			lines, err := tx.LockHouseholdLines(ctx, d0.HouseholdID)
			if err != nil {
				return err
			}
			var cur *Line
			other := decimal.Zero
			for _, l := range lines {
				if l.Bank == bank && l.Product == product {
					cur = l
				} else if l.StatusOn(today) == lending.StatusActive {
					other = other.Add(l.Limit)
				}
			}
			if cur == nil || cur.DecisionID != d0.ID {
				return fault.New(fault.FailedPrecondition, "DECISION_SUPERSEDED",
					"the line no longer rests on this decision; review the current one")
			}
			if pol.Version != d0.PolicyVersion {
				return fault.New(fault.FailedPrecondition, "DECISION_SUPERSEDED",
					"the decision was taken under policy version %d, version %d is active now: re-assess first", d0.PolicyVersion, pol.Version)
			}
			d, err := override(pol, d0, limit, other, p.ID, rv.Resolution, now)
			if err != nil {
				return err
			}
			if err := tx.InsertDecision(ctx, d); err != nil {
				return err
			}
			l, _, err := applyDecision(ctx, tx, cur, d, policy.Decision{Bank: d.Bank, Product: d.Product,
				Eligible: d.Eligible, Limit: d.Limit, Rate: d.Rate, ValidUntil: d.ValidUntil}, cur.Household, now)
			if err != nil {
				return err
			}
			if err := s.event(ctx, tx, EventLineUpdated, l, now); err != nil {
				return err
			}
			rv.State, rv.OutcomeDecision = ReviewOverridden, d.ID
			out.Decision, out.View = d, view(l, d, today)
			action = "credit.override"
			payload["override_decision"] = DecisionName(bank, product, d.ID)
			payload["limit_before"] = d0.Limit.StringFixed(2)
			payload["limit"] = d.Limit.StringFixed(2)
		}
		if err := tx.UpdateReview(ctx, &rv); err != nil {
			return err
		}
		return tx.Record(ctx, audit.Record{Time: now, Actor: p.ID, Action: action, Subject: in.Review, Payload: payload})
	})
	if err != nil {
		return nil, err
	}
	if out.Decision != nil {
		s.Poke()
	}
	return out, nil
}

// ReasonOverrideOutOfBounds is the fault reason of an override the
// policy does not allow.
const ReasonOverrideOutOfBounds = "OVERRIDE_OUT_OF_BOUNDS"

// override builds the override decision of d0 with the new limit, within
// the policy's bounds (see the top of this file).
func override(pol *policy.Policy, d0 *Decision, limit, otherLimits decimal.Decimal, actor, why string, now time.Time) (*Decision, error) {
	if limit.IsPositive() && len(d0.Explanation.KnockOuts) > 0 {
		return nil, fault.New(fault.FailedPrecondition, ReasonOverrideOutOfBounds,
			"a knock-out (%s) cannot be overridden into a line", d0.Explanation.KnockOuts[0].Code)
	}
	caps := pol.Limit.Caps
	if caps.ProductMax.IsPositive() && limit.GreaterThan(caps.ProductMax) {
		return nil, fault.New(fault.FailedPrecondition, ReasonOverrideOutOfBounds,
			"%s is above the product maximum %s", limit.StringFixed(2), caps.ProductMax.StringFixed(2))
	}
	if caps.TotalExposureMax.IsPositive() {
		if room := caps.TotalExposureMax.Sub(otherLimits); limit.GreaterThan(room) {
			return nil, fault.New(fault.FailedPrecondition, ReasonOverrideOutOfBounds,
				// No figure: the room is the cap less the household's limits at
				// other banks, which this bank must not learn.
				"%s is above what the total exposure cap leaves given the household's lines at other banks", limit.StringFixed(2))
		}
	}
	d := *d0
	d.ID = uuid.Must(uuid.NewV7()).String()
	d.Kind, d.Overrides, d.Justification, d.DecidedBy, d.Time = Override, d0.ID, why, actor, now
	d.Limit, d.Eligible = limit, limit.IsPositive()
	if d.Eligible && !d0.Eligible {
		rate, ok := lowestEligibleRate(pol)
		if !ok {
			return nil, fault.New(fault.FailedPrecondition, ReasonOverrideOutOfBounds, "the policy has no eligible grade to price the line with")
		}
		d.Rate = rate
	}
	if !d.Eligible {
		d.Rate = decimal.Zero
	}
	return &d, nil
}

// lowestEligibleRate is the rate of the worst grade the policy lends to.
func lowestEligibleRate(pol *policy.Policy) (decimal.Decimal, bool) {
	for i := len(pol.Grades) - 1; i >= 0; i-- {
		g := pol.Grades[i]
		if r, ok := pol.Rates.ByGrade[g.Name]; ok && g.Eligible {
			return r.Rate, true
		}
	}
	return decimal.Zero, false
}

// ListReviews lists review requests of a bank product
// (banks/{b}/products/{p}) or of a household, newest first.
func (s *Service) ListReviews(ctx context.Context, parent string, state ReviewState, before string, size int) ([]*Review, map[string]*Decision, string, error) {
	q := ReviewQuery{State: state, Before: before, Limit: max(size, 1)}
	if size <= 0 {
		q.Limit = 50
	}
	product := ""
	if strings.HasPrefix(parent, "banks/") {
		b, p, err := ParseProduct(parent, "parent")
		if err != nil {
			return nil, nil, "", err
		}
		q.Bank, product = b, p
	} else {
		_, hid, err := household.ParseName(parent, "parent")
		if err != nil {
			return nil, nil, "", err
		}
		q.HouseholdID = hid
	}
	var out []*Review
	decs := map[string]*Decision{}
	err := s.store.Read(ctx, func(tx Reader) error {
		rs, err := tx.Reviews(ctx, q)
		if err != nil {
			return err
		}
		out = out[:0]
		for _, r := range rs {
			d, err := tx.Decision(ctx, r.DecisionID)
			if err != nil {
				return err
			}
			if product != "" && d.Product != product {
				continue
			}
			decs[r.DecisionID] = d
			out = append(out, r)
		}
		return nil
	})
	next := ""
	if len(out) == q.Limit {
		next = out[len(out)-1].ID
	}
	if err == nil {
		for _, d := range decs {
			if err = s.explained(ctx, d); err != nil {
				break
			}
		}
	}
	return out, decs, next, err
}

// ListDecisions lists a household's decisions, automated and overrides
// side by side, newest first; bank limits them to one bank ("" for all,
// which only the household and the regulator may ask).
func (s *Service) ListDecisions(ctx context.Context, p *access.Principal, householdName, bankName, before string, size int) ([]*Decision, string, error) {
	village, hid, err := household.ParseName(householdName, "household")
	if err != nil {
		return nil, "", err
	}
	bank := ""
	if bankName != "" {
		if bank, err = ParseBank(bankName, "bank"); err != nil {
			return nil, "", err
		}
	}
	if isBankRole(p.Role) && bank != p.Scope.Bank {
		return nil, "", fault.New(fault.PermissionDenied, "OUT_OF_SCOPE", "a bank lists its own decisions only: set bank to banks/%s", p.Scope.Bank)
	}
	if size <= 0 {
		size = 20
	}
	var out []*Decision
	err = s.store.Read(ctx, func(tx Reader) error {
		if _, err := tx.Household(ctx, village, hid); err != nil {
			return err
		}
		out, err = tx.Decisions(ctx, hid, bank, before, size)
		return err
	})
	next := ""
	if len(out) == size {
		next = out[len(out)-1].ID
	}
	if err == nil {
		err = s.explained(ctx, out...)
	}
	return out, next, err
}
