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
	"github.com/sanzhi/sanzhi/paging"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/rules"
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

// RequestReview records a request for a human review of an automated
// decision: the household's own about itself, or one an officer of the
// decision's bank opens (PIPL art. 24 lets the household ask; a bank may
// look again of its own accord), which needs the bank's lawful basis
// (lending.ActMonitor: a live consent or a balance owed to the bank) and
// is kept apart from the household's asks (Review.ByBank). A second
// request while one is open returns the open one.
func (s *Service) RequestReview(ctx context.Context, p *access.Principal, decisionName, reason string) (*Review, error) {
	bank, product, did, err := ParseDecisionName(decisionName, "decision")
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(reason) == "" {
		return nil, fault.InvalidField("reason", "say what should be looked at again")
	}
	if err := freeText("reason", "复核理由", reason); err != nil {
		return nil, err
	}
	byBank := isBankRole(p.Role)
	if byBank && p.Scope.Bank != bank {
		return nil, fault.New(fault.NotFound, "DECISION_NOT_FOUND", "decision %s not found", decisionName)
	}
	now := s.clock()
	var out *Review
	hh := ""
	err = s.store.Write(ctx, func(tx Writer) error {
		d, err := tx.Decision(ctx, did)
		if err != nil {
			return err
		}
		if d.Bank != bank || d.Product != product || (p.Role == access.Household && d.HouseholdID != p.Scope.Household) {
			return fault.New(fault.NotFound, "DECISION_NOT_FOUND", "decision %s not found", decisionName)
		}
		if byBank {
			hh = householdOf(d)
			consents, drawn, err := householdStanding(ctx, tx, bank, d.HouseholdID, now)
			if err != nil {
				return err
			}
			if _, err := lending.LawfulBasis(lending.BasisQuery{Act: lending.ActMonitor, Bank: bank,
				Consents: consents, Drawn: drawn, At: now}); err != nil {
				return err
			}
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
			RequestedBy: p.ID, ByBank: byBank, RequestTime: now}
		if err := tx.InsertReview(ctx, r); err != nil {
			return err
		}
		out = r
		action := "credit.review_request"
		if byBank {
			action = ActionReviewOpen
		}
		payload := map[string]string{"decision": decisionName, "household": householdOf(d)}
		if byBank {
			payload["reason"] = r.Reason // the bank's statement, as a justification is kept
		}
		return tx.Record(ctx, audit.Record{Time: now, Actor: p.ID, Action: action,
			Subject: ReviewName(d.Bank, d.Product, r.ID), Payload: payload})
	})
	if byBank && isConsentRequired(err) {
		return nil, s.denied(ctx, p, hh, bank, product, string(lending.PurposePostLoan), MethodOpenReview, err)
	}
	return out, err
}

// ActionReviewOpen is the audit action of a review a bank officer opens;
// MethodOpenReview the query-record method of one refused for want of a
// lawful basis.
const (
	ActionReviewOpen = "credit.review_open"
	MethodOpenReview = "open_review"
)

func householdOf(d *Decision) string { return resource.Household(d.Village, d.HouseholdID) }

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

// Four-eyes on overrides (as on policy activation): an override of an
// automated decision takes two people of the bank. Resolve with Override
// only proposes it — the bounds are checked at once so the maker hears
// of a mistake, and the review stays open with the proposal — and
// ApproveOverride by another principal of the bank makes it take effect,
// checking the bounds again on the state then. Upholding a review with a
// proposal closes it and drops the proposal (the checker's "no").
const (
	ReasonMakerChecker       = "MAKER_CHECKER"
	ReasonOverrideProposed   = "OVERRIDE_PROPOSED"
	ReasonNoOverrideProposed = "NO_OVERRIDE_PROPOSED"
	ReasonProposalChanged    = "PROPOSAL_CHANGED"
)

// Resolve closes an open review by upholding the decision, or proposes
// an override within the policy's bounds; both need a written
// justification.
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
	var pol *rules.Policy
	if in.Override {
		if pol, err = s.policies.Active(ctx, bank, product); err != nil {
			return nil, err
		}
	}
	now := s.clock()
	var out *Resolved
	err = s.store.Locked(ctx, func(tx Writer) error {
		r, d0, err := openReview(ctx, tx, in.Review, bank, product, rid)
		if err != nil {
			return err
		}
		rv := *r
		out = &Resolved{Review: &rv}
		why := strings.TrimSpace(in.Justification)
		payload := map[string]string{"household": householdOf(d0), "decision": DecisionName(bank, product, d0.ID),
			"justification": why}
		action := "credit.review_uphold"
		if !in.Override {
			rv.State, rv.ResolvedBy, rv.ResolveTime, rv.Resolution = ReviewUpheld, p.ID, &now, why
			if r.ProposedBy != "" {
				payload["dropped_override_limit"] = r.ProposedLimit.StringFixed(2)
				payload["dropped_override_by"] = r.ProposedBy
			}
		} else {
			if r.ProposedBy != "" {
				return fault.New(fault.FailedPrecondition, ReasonOverrideProposed,
					"an override of %s is already proposed and waits for a second person: approve it, or uphold the decision", in.Review)
			}
			// The bounds now, so that the maker hears of a mistake; the
			// checker's approval checks them again.
			if _, _, err := s.planOverride(ctx, tx, pol, d0, bank, product, limit, p.ID, why, now); err != nil {
				return err
			}
			rv.ProposedLimit, rv.ProposedBy, rv.ProposeTime, rv.ProposalJustification = limit, p.ID, &now, why
			action = "credit.override_propose"
			payload["limit_before"] = d0.Limit.StringFixed(2)
			payload["proposed_limit"] = limit.StringFixed(2)
		}
		if err := tx.UpdateReview(ctx, &rv); err != nil {
			return err
		}
		return tx.Record(ctx, audit.Record{Time: now, Actor: p.ID, Action: action, Subject: in.Review, Payload: payload})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ApproveOverride is the second person making a proposed override take
// effect: a principal of the bank other than the one who proposed it,
// approving the limit they were shown (limit, yuan).
func (s *Service) ApproveOverride(ctx context.Context, p *access.Principal, name, limitText string) (*Resolved, error) {
	bank, product, rid, err := ParseReviewName(name, "name")
	if err != nil {
		return nil, err
	}
	seen := decimal.Zero
	if limitText != "0" {
		if seen, err = lending.CheckAmount("limit", limitText); err != nil {
			return nil, err
		}
	}
	pol, err := s.policies.Active(ctx, bank, product)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	today := household.Today(now)
	var out *Resolved
	err = s.store.Locked(ctx, func(tx Writer) error {
		r, d0, err := openReview(ctx, tx, name, bank, product, rid)
		if err != nil {
			return err
		}
		switch {
		case r.ProposedBy == "":
			return fault.New(fault.FailedPrecondition, ReasonNoOverrideProposed, "no override of %s is proposed", name)
		case r.ProposedBy == p.ID:
			return fault.New(fault.FailedPrecondition, ReasonMakerChecker,
				"you proposed this override: another person of the bank must approve it")
		case !r.ProposedLimit.Equal(seen):
			return fault.New(fault.FailedPrecondition, ReasonProposalChanged,
				"the proposed limit is %s, not %s: look at the proposal again", r.ProposedLimit.StringFixed(2), seen.StringFixed(2))
		}
		d, cur, err := s.planOverride(ctx, tx, pol, d0, bank, product, r.ProposedLimit, r.ProposedBy, r.ProposalJustification, now)
		if err != nil {
			return err
		}
		if err := tx.InsertDecision(ctx, d); err != nil {
			return err
		}
		l, _, err := applyDecision(ctx, tx, cur, d, rules.Decision{Bank: d.Bank, Product: d.Product,
			Eligible: d.Eligible, Limit: d.Limit, Rate: d.Rate, ValidUntil: d.ValidUntil, ReviewOn: d.ReviewOn}, cur.Household, now)
		if err != nil {
			return err
		}
		if err := s.event(ctx, tx, EventLineUpdated, l, now); err != nil {
			return err
		}
		rv := *r
		rv.State, rv.OutcomeDecision = ReviewOverridden, d.ID
		rv.ResolvedBy, rv.ResolveTime, rv.Resolution = p.ID, &now, r.ProposalJustification
		if err := tx.UpdateReview(ctx, &rv); err != nil {
			return err
		}
		out = &Resolved{Review: &rv, Decision: d, View: view(l, d, today)}
		return tx.Record(ctx, audit.Record{Time: now, Actor: p.ID, Action: "credit.override", Subject: name,
			Payload: map[string]string{"household": householdOf(d0), "decision": DecisionName(bank, product, d0.ID),
				"justification": r.ProposalJustification, "proposed_by": r.ProposedBy,
				"override_decision": DecisionName(bank, product, d.ID),
				"limit_before":      d0.Limit.StringFixed(2), "limit": d.Limit.StringFixed(2)}})
	})
	if err != nil {
		return nil, err
	}
	s.Poke(bank)
	return out, nil
}

// openReview reads an open review of the bank product with its decision.
func openReview(ctx context.Context, tx Writer, name, bank, product, rid string) (*Review, *Decision, error) {
	r, err := tx.Review(ctx, rid)
	if err != nil {
		return nil, nil, err
	}
	d0, err := tx.Decision(ctx, r.DecisionID)
	if err != nil {
		return nil, nil, err
	}
	if r.Bank != bank || d0.Product != product {
		return nil, nil, fault.New(fault.NotFound, "REVIEW_NOT_FOUND", "review %s not found", name)
	}
	if r.State != ReviewOpen {
		return nil, nil, fault.New(fault.FailedPrecondition, "REVIEW_CLOSED", "review %s is already %s", name, r.State)
	}
	return r, d0, nil
}

// planOverride locks the household's lines and builds the override
// decision of d0 with limit on them, within the policy's bounds; it
// returns the decision and the line it applies to.
func (s *Service) planOverride(ctx context.Context, tx Writer, pol *rules.Policy, d0 *Decision, bank, product string,
	limit decimal.Decimal, maker, why string, now time.Time) (*Decision, *Line, error) {
	today := household.Today(now)
	lines, err := tx.LockHouseholdLines(ctx, d0.HouseholdID)
	if err != nil {
		return nil, nil, err
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
		return nil, nil, fault.New(fault.FailedPrecondition, "DECISION_SUPERSEDED",
			"the line no longer rests on this decision; review the current one")
	}
	if pol.Version != d0.PolicyVersion {
		return nil, nil, fault.New(fault.FailedPrecondition, "DECISION_SUPERSEDED",
			"the decision was taken under policy version %d, version %d is active now: re-assess first", d0.PolicyVersion, pol.Version)
	}
	d, err := override(pol, d0, limit, other, maker, why, now)
	if err != nil {
		return nil, nil, err
	}
	return d, cur, nil
}

// ReasonOverrideOutOfBounds is the fault reason of an override the
// policy does not allow.
const ReasonOverrideOutOfBounds = "OVERRIDE_OUT_OF_BOUNDS"

// override builds the override decision of d0 with the new limit, within
// the policy's bounds (see the top of this file).
func override(pol *rules.Policy, d0 *Decision, limit, otherLimits decimal.Decimal, actor, why string, now time.Time) (*Decision, error) {
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
func lowestEligibleRate(pol *rules.Policy) (decimal.Decimal, bool) {
	for i := len(pol.Grades) - 1; i >= 0; i-- {
		g := pol.Grades[i]
		if r, ok := pol.Rates.ByGrade[g.Name]; ok && g.Eligible {
			return r.Rate, true
		}
	}
	return decimal.Zero, false
}

// MethodListReviews is the query-record method of a bank listing review
// requests.
const MethodListReviews = "list_reviews"

// ListReviews lists review requests of a bank product
// (banks/{b}/products/{p}), of every product of a bank (banks/{b}) or of
// a household, newest first. A bank's
// principal sees only its bank's requests, and of those only where it has
// a lawful basis (lending.ActAnswer: an open request is the household's
// own ask of the bank; a closed one needs consent or a balance); each
// household shown is a query record.
//
// pageSize 0 means 50, at most 100. A page may come back short,
// even empty, with a next token: keep paging until the token is "". A bad
// page_size or page_token (one issued for another parent or state) is
// fault.Invalid naming that field, reported before any other check.
func (s *Service) ListReviews(ctx context.Context, p *access.Principal, parent string, state ReviewState, pageSize int32, pageToken string) (ReviewPage, error) {
	var v fault.Violations
	scope := "reviews:" + parent + "\x00" + string(state)
	before := paging.Cursor(pageToken, scope, &v)
	size := paging.LimitOf(pageSize, 50, maxListSize, &v)
	if err := v.Err(); err != nil {
		return ReviewPage{}, err
	}
	q := ReviewQuery{State: state, Before: before, Limit: size}
	product := ""
	if b, err := ParseBank(parent, "parent"); err == nil {
		q.Bank = b // every product of the bank (its console's list)
	} else if strings.HasPrefix(parent, "banks/") {
		b, p, err := ParseProduct(parent, "parent")
		if err != nil {
			return ReviewPage{}, err
		}
		q.Bank, product = b, p
	} else {
		_, hid, err := household.ParseName(parent, "parent")
		if err != nil {
			return ReviewPage{}, err
		}
		q.HouseholdID = hid
	}
	bankRead := p != nil && isBankRole(p.Role)
	now := s.clock()
	var out []*Review
	var next string
	decs := map[string]*Decision{}
	list := func(tx Reader, record func(r *Review, b lending.Basis) error) error {
		rs, err := tx.Reviews(ctx, q)
		if err != nil {
			return err
		}
		out, next = out[:0], ""
		clear(decs)
		if len(rs) == q.Limit {
			next = rs[len(rs)-1].ID
		}
		for _, r := range rs {
			if bankRead && r.Bank != p.Scope.Bank {
				continue // a household's list, seen by a bank: its own requests only
			}
			d, err := tx.Decision(ctx, r.DecisionID)
			if err != nil {
				return err
			}
			if product != "" && d.Product != product {
				continue
			}
			if record != nil {
				consents, drawn, err := householdStanding(ctx, tx, r.Bank, r.HouseholdID, now)
				if err != nil {
					return err
				}
				st := lending.StandingOf(consents, r.Bank, drawn, now)
				// The household's own open ask is a basis to answer it; a
				// review the bank opened is not the household's ask.
				st.Requested = r.State == ReviewOpen && !r.ByBank
				b, err := st.Basis(lending.ActAnswer, "")
				if isConsentRequired(err) {
					continue
				}
				if err != nil {
					return err
				}
				if err := record(r, b); err != nil {
					return err
				}
			}
			decs[r.DecisionID] = d
			out = append(out, r)
		}
		return nil
	}
	var err error
	if bankRead {
		err = s.store.Write(ctx, func(tx Writer) error {
			return list(tx, func(r *Review, b lending.Basis) error {
				hh := HouseholdRef{Village: r.Village, ID: r.HouseholdID}.Name()
				return tx.Record(ctx, basisRecord(queryRecord(p, hh, r.Bank, product, string(b.Purpose),
					MethodListReviews, OutcomeAllowed, now), b))
			})
		})
	} else {
		err = s.store.Read(ctx, func(tx Reader) error { return list(tx, nil) })
	}
	if err == nil {
		for _, d := range decs {
			if err = s.explained(ctx, d); err != nil {
				break
			}
		}
	}
	if err != nil {
		return ReviewPage{}, err
	}
	page := ReviewPage{Reviews: out, Decisions: decs}
	if next != "" {
		page.NextToken = paging.Token(scope, next)
	}
	return page, nil
}

// ReviewPage is a page of review requests, the decisions they ask about
// (by id) and the token for the next page.
type ReviewPage struct {
	Reviews   []*Review
	Decisions map[string]*Decision
	NextToken string // "" at the end
}

// DecisionPage is a page of decisions and the token for the next.
type DecisionPage struct {
	Decisions []*Decision
	NextToken string // "" at the end
}

// maxListSize bounds page_size of decisions and reviews, as the API does
// (lines page by paging.Limit).
const maxListSize = 100

// MethodListDecisions is the query-record method of a bank listing a
// household's decisions.
const MethodListDecisions = "list_decisions"

// ListDecisions lists a household's decisions, automated and overrides
// side by side, newest first; bank limits them to one bank ("" for all,
// which only the household and the regulator may ask).
//
// pageSize 0 means 20, at most 100. A bad page_size or page_token
// (one issued for another household or bank) is fault.Invalid naming that
// field, reported before any other check.
func (s *Service) ListDecisions(ctx context.Context, p *access.Principal, householdName, bankName string, pageSize int32, pageToken string) (DecisionPage, error) {
	var v fault.Violations
	scope := "decisions:" + householdName + "\x00" + bankName
	before := paging.Cursor(pageToken, scope, &v)
	size := paging.LimitOf(pageSize, 20, maxListSize, &v)
	if err := v.Err(); err != nil {
		return DecisionPage{}, err
	}
	village, hid, err := household.ParseName(householdName, "household")
	if err != nil {
		return DecisionPage{}, err
	}
	bank := ""
	if bankName != "" {
		if bank, err = ParseBank(bankName, "bank"); err != nil {
			return DecisionPage{}, err
		}
	}
	if isBankRole(p.Role) && bank != p.Scope.Bank {
		return DecisionPage{}, fault.New(fault.PermissionDenied, "OUT_OF_SCOPE", "a bank lists its own decisions only: set bank to banks/%s", p.Scope.Bank)
	}
	var out []*Decision
	list := func(tx Reader) error {
		if _, err := tx.Household(ctx, village, hid); err != nil {
			return err
		}
		var err error
		out, err = tx.Decisions(ctx, hid, bank, before, size)
		return err
	}
	if isBankRole(p.Role) {
		// A bank's decisions about a household are the household's data
		// too: the lawful-basis rule (ActMonitor) holds, and the listing
		// is a query record.
		now := s.clock()
		err = s.store.Write(ctx, func(tx Writer) error {
			consents, drawn, err := householdStanding(ctx, tx, bank, hid, now)
			if err != nil {
				return err
			}
			b, err := lending.LawfulBasis(lending.BasisQuery{Act: lending.ActMonitor, Bank: bank, Consents: consents,
				Drawn: drawn, At: now})
			if err != nil {
				return err
			}
			if err := list(tx); err != nil {
				return err
			}
			return tx.Record(ctx, basisRecord(queryRecord(p, householdName, bank, "", string(b.Purpose),
				MethodListDecisions, OutcomeAllowed, now), b))
		})
		if isConsentRequired(err) {
			return DecisionPage{}, s.denied(ctx, p, householdName, bank, "", string(lending.PurposePostLoan), MethodListDecisions, err)
		}
	} else {
		err = s.store.Read(ctx, list)
	}
	if err == nil {
		err = s.explained(ctx, out...)
	}
	if err != nil {
		return DecisionPage{}, err
	}
	page := DecisionPage{Decisions: out}
	if len(out) == size {
		page.NextToken = paging.Token(scope, out[len(out)-1].ID)
	}
	return page, nil
}
