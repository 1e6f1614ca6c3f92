package credit

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/scoring/assess"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

// Planning an assessment is pure: from the household's policy input parts,
// its current lines at every bank and the policy, it yields the decision,
// the line as it is to be stored and the line event. The single-household
// Assess and the batch re-assessment both plan with PlanAssessment, so the
// rules of opening and updating a line (lending.Apply: a frozen line stays
// frozen, a closed one is refused, drawn never changes) live in one place.

// PlanInput is what planning one assessment reads.
type PlanInput struct {
	Policy        *rules.Policy
	Bank, Product string
	// Parts are the household's parts as of the decision's day; their
	// OtherBanks is filled in from Lines.
	Parts assess.Parts
	// Lines are every line of the household at every bank, as the caller
	// locked them.
	Lines []*Line
	// Applicant is the member (by number) whose birth date Parts carry:
	// the decision and the line record it.
	Applicant int32
	Actor     string
	Now       time.Time
	// Outcome stores the decision with the policy's outcome only (its
	// knock-outs and declines, not its reasons and counterfactuals),
	// which Service.explained replays on read: what a batch run does.
	Outcome bool
	// Challenger, when set, is the product's challenger policy: the plan
	// then carries its shadow decision on the same input (challenger.go).
	Challenger *rules.Policy
}

// Plan is one assessment, ready to store.
type Plan struct {
	Decision *Decision
	// Line is the line after the decision: a new line when Opened, else
	// the stored line updated from version PrevVersion.
	Line        *Line
	Opened      bool
	PrevVersion int
	Event       *LineEvent
	// Shadow is the challenger's decision on the same input, nil when
	// there is none; it changes nothing above.
	Shadow *ShadowDecision
}

// PlanAssessment evaluates in.Policy on the household and plans the
// decision, the line change and its event. The policy sees the other
// banks' lines (and this bank's other products) only as an aggregate. A
// closed line cannot take a decision: FailedPrecondition LINE_CLOSED, as
// lending.CanApply says.
func PlanAssessment(in PlanInput) (*Plan, error) {
	today := household.Today(in.Now)
	h := in.Parts.Household
	p := in.Parts
	var cur *Line
	for _, l := range in.Lines {
		if l.Bank == in.Bank && l.Product == in.Product {
			cur = l
			continue
		}
		if l.StatusOn(today) == lending.StatusActive {
			p.OtherBanks.TotalLimit = p.OtherBanks.TotalLimit.Add(l.Limit)
		}
		p.OtherBanks.TotalDrawn = p.OtherBanks.TotalDrawn.Add(l.Drawn)
	}
	snap := assess.Snapshot(p)
	evaluate := rules.Evaluate
	if in.Outcome {
		evaluate = rules.Outcome
	}
	dec := evaluate(in.Policy, snap, today)
	if cur != nil {
		if err := lending.CanApply(cur.Line, dec); err != nil {
			return nil, err
		}
	}
	canonical := snap.Canonical()
	d := newDecision(dec, canonical, in.Policy, h.Village, h.ID, in.Actor, in.Now)
	d.ApplicantMember = max(in.Applicant, headMember)
	plan := &Plan{Decision: d, Line: applyToLine(cur, dec, d, h.Name(), in.Now), Opened: cur == nil}
	if cur != nil {
		plan.PrevVersion = cur.Version
	}
	typ := EventLineUpdated
	if plan.Opened {
		typ = EventLineOpened
	}
	ev, err := newLineEvent(typ, plan.Line, nil, in.Now)
	if err != nil {
		return nil, err
	}
	plan.Event = ev
	plan.Shadow = shadowOf(in.Challenger, snap, today, d)
	return plan, nil
}

func newDecision(dec rules.Decision, canonicalInput []byte, pol *rules.Policy, village, hid, actor string, now time.Time) *Decision {
	inputHash := dec.InputHash
	if inputHash == "" { // an outcome without explanation carries no hash
		sum := sha256.Sum256(canonicalInput)
		inputHash = hex.EncodeToString(sum[:])
	}
	return &Decision{
		ID: uuid.Must(uuid.NewV7()).String(), Bank: dec.Bank, Product: dec.Product, Village: village, HouseholdID: hid,
		Kind: Automated, PolicyVersion: dec.PolicyVersion, PolicyHash: dec.PolicyHash, InputHash: inputHash,
		On: dec.On, ValidUntil: dec.ValidUntil, ReviewOn: dec.ReviewOn, ApplicantMember: headMember,
		Eligible: dec.Eligible, Score: dec.Score, Bins: dec.Bins, Grade: dec.Grade,
		Limit: dec.Limit, Rate: dec.Rate, ExposureCap: pol.Limit.Caps.TotalExposureMax,
		Explanation: explain(dec), Input: string(canonicalInput), DecidedBy: actor, Time: now,
	}
}

// applyToLine is the line after decision d, whose policy outcome is dec:
// a new line when cur is nil, else cur as lending.Apply changes it.
func applyToLine(cur *Line, dec rules.Decision, d *Decision, householdName string, now time.Time) *Line {
	if cur == nil {
		return &Line{Line: lending.Apply(lending.Line{ID: uuid.Must(uuid.NewV7()).String(), Household: householdName,
			Drawn: decimal.Zero}, dec, d.ID),
			Product: d.Product, Village: d.Village, HouseholdID: d.HouseholdID, ExposureCap: d.ExposureCap,
			ApplicantMember: d.ApplicantMember, OpenTime: now, UpdateTime: now}
	}
	next := *cur
	next.Line = lending.Apply(cur.Line, dec, d.ID)
	next.ExposureCap = d.ExposureCap
	next.ApplicantMember = d.ApplicantMember
	next.UpdateTime = now
	return &next
}

// sameLines reports whether two reads of a household's lines agree: the
// same lines at the same versions. A plan made from a read is valid under
// the lock only when they do.
func sameLines(a, b []*Line) bool {
	if len(a) != len(b) {
		return false
	}
	seen := make(map[string]int, len(a))
	for _, l := range a {
		seen[l.ID] = l.Version
	}
	for _, l := range b {
		if v, ok := seen[l.ID]; !ok || v != l.Version {
			return false
		}
	}
	return true
}
