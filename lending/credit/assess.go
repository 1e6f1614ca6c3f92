package credit

import (
	"context"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/dectext"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/paging"
	"github.com/sanzhi/sanzhi/scoring/assess"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

// View is a line as a caller sees it on a day: the stored line, the
// decision behind it and the status the date gives it.
type View struct {
	Line     *Line
	Decision *Decision
	Status   lending.Status // effective on the day (expiry by date applied)
	// Working is the decision's limit working as the bank is shown it
	// (Working), filled by the reads that return views.
	Working []WorkingStep
}

// Available is what the household may draw today: the line's headroom
// while it is active, nothing while it is frozen, expired or closed.
func (v *View) Available() decimal.Decimal {
	if v.Status != lending.StatusActive {
		return decimal.Zero
	}
	return v.Line.Available()
}

func view(l *Line, d *Decision, today household.Date) *View {
	return &View{Line: l, Decision: d, Status: l.StatusOn(today)}
}

// Assess is AssessApplicant with no member named: the line's applicant,
// or the head for a household without a line at the product.
func (s *Service) Assess(ctx context.Context, p *access.Principal, productName, householdName string) (*View, error) {
	return s.AssessApplicant(ctx, p, productName, householdName, 0)
}

// MaxMember bounds a member number in a request.
const MaxMember = 1000

// AssessApplicant evaluates the bank's active policy for the product on
// the household now, through member applicant (its number; 0: the
// applicant of the household's line at the product, or the head when it
// has none), stores the decision and opens or updates the line, in one
// transaction with its audit record and line event. The policy's personal
// rules (applicant.age) read the applicant; the household's points, facts
// and standing stay the household's. It needs a live consent of the bank
// for assessment; a refused attempt is audited. A member the household's
// register does not list is Invalid (applicant_member).
func (s *Service) AssessApplicant(ctx context.Context, p *access.Principal, productName, householdName string, applicant int32) (*View, error) {
	bank, product, err := ParseProduct(productName, "product")
	if err != nil {
		return nil, err
	}
	village, hid, err := household.ParseName(householdName, "household")
	if err != nil {
		return nil, err
	}
	if applicant < 0 || applicant > MaxMember {
		return nil, fault.InvalidField("applicant_member", "must be a member number between 1 and %d (0: the line's applicant, or the head), got %d", MaxMember, applicant)
	}
	v, err := s.assess(ctx, p.ID, bank, product, village, hid, true, applicant)
	if isConsentRequired(err) {
		return nil, s.denied(ctx, p, householdName, bank, product, string(lending.PurposeAssessment), MethodAssess, err)
	}
	if err != nil {
		return nil, err
	}
	return v, s.explainedViews(ctx, []*View{v}, nil)
}

// assess is Assess for an actor (a person, or the service re-assessing)
// in a transaction of its own. requireAssessment asks for an
// "assessment" consent (lending.ActAssess); re-assessment of an existing
// line accepts a live consent for either purpose (lending.ActReassess).
func (s *Service) assess(ctx context.Context, actor, bank, product, village, hid string, requireAssessment bool, applicant int32) (*View, error) {
	pol, err := s.policies.Active(ctx, bank, product)
	if err != nil {
		return nil, err
	}
	chal := s.challenger(ctx, bank, product)
	base, err := s.inputs.BasePoints(ctx, village)
	if err != nil {
		return nil, err
	}
	var out *View
	err = s.store.Locked(ctx, func(tx Writer) error {
		var err error
		out, err = s.assessTx(ctx, tx, actor, pol, chal, base, bank, product, village, hid, requireAssessment, applicant)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.Poke(bank)
	return out, nil
}

// assessTx assesses within tx, which it locks the household's lines in
// before reading anything the decision rests on: the consents, and the
// inputs themselves (household, facts, points sheet, listings: AssessInput),
// so that the decision is of the state the transaction commits over, not
// of a read before it. Only the village catalogue's base points (base) and
// the policy are read before, both versioned and immutable once active;
// chal, when not nil, is the product's challenger, whose shadow of the
// decision is stored with it.
func (s *Service) assessTx(ctx context.Context, tx Writer, actor string, pol, chal *rules.Policy, base decimal.Decimal,
	bank, product, village, hid string, requireAssessment bool, applicant int32) (*View, error) {
	now := s.clock()
	today := household.Today(now)
	lines, err := tx.LockHouseholdLines(ctx, hid)
	if err != nil {
		return nil, err
	}
	consents, err := tx.Consents(ctx, hid)
	if err != nil {
		return nil, err
	}
	// A new decision rests on consent only: an outstanding balance is a
	// basis for monitoring the loan, not for deciding another.
	act := lending.ActAssess
	if !requireAssessment {
		act = lending.ActReassess
	}
	if _, err := lending.LawfulBasis(lending.BasisQuery{Act: act, Bank: bank, Consents: consentValues(consents),
		At: now}); err != nil {
		return nil, err
	}
	in, err := tx.AssessInput(ctx, village, hid)
	if err != nil {
		return nil, err
	}
	parts := assess.Parts{Household: in.Household, Points: points.Balances(base, in.Entries, today),
		Standing: evidence.StandingOf(in.Listings, today), Repayment: lending.Record(in.Statuses, today)}
	member, birth, err := s.applicant(in.Household, applicant, lineOf(lines, bank, product))
	if err != nil {
		return nil, err
	}
	parts.ApplicantBirth = birth
	plan, err := PlanAssessment(PlanInput{Policy: pol, Bank: bank, Product: product, Parts: parts, Lines: lines,
		Applicant: member, Actor: actor, Now: now, Challenger: chal})
	if err != nil {
		return nil, err
	}
	d, l := plan.Decision, plan.Line
	if err := tx.InsertDecision(ctx, d); err != nil {
		return nil, err
	}
	if err := insertShadow(ctx, tx, plan); err != nil {
		return nil, err
	}
	if plan.Opened {
		err = tx.InsertLine(ctx, l)
	} else {
		err = tx.UpdateLine(ctx, l, plan.PrevVersion)
	}
	if err != nil {
		return nil, err
	}
	if err := tx.AppendLineEvent(ctx, plan.Event); err != nil {
		return nil, err
	}
	return view(l, d, today), tx.Record(ctx, DecisionRecord(d, actor, MethodAssess, ""))
}

// lineOf is the line of bank and product among lines, or nil.
func lineOf(lines []*Line, bank, product string) *Line {
	for _, l := range lines {
		if l.Bank == bank && l.Product == product {
			return l
		}
	}
	return nil
}

// applicant is the member an assessment of h reads, by number, and their
// date of birth. want names the member (0: the applicant of cur, the
// household's line at the product, or the head when there is none). A
// member named in the request must be on the register of h's latest
// facts (Invalid applicant_member otherwise); a line's applicant who has
// since left the register gives way to the head.
func (s *Service) applicant(h *household.Household, want int32, cur *Line) (int32, time.Time, error) {
	n := want
	if n == 0 && cur != nil {
		n = cur.ApplicantMember
	}
	if n <= 0 {
		n = headMember
	}
	var m *household.Member
	for i := range h.Members {
		if h.Members[i].Number == n {
			m = &h.Members[i]
		}
	}
	if m == nil && want != 0 {
		return 0, time.Time{}, fault.InvalidField("applicant_member", "household %s has no member %d on its register", h.Name(), want)
	}
	if m == nil || m.Relation == household.Head {
		// The head, as every assessment read before members existed:
		// from the household's own sealed number.
		if m != nil {
			n = m.Number
		} else {
			n = headMember
		}
		birth, err := s.inputs.HeadBirth(h)
		return n, birth, err
	}
	birth, err := s.inputs.MemberBirth(h, m)
	return n, birth, err
}

// headMember is the head's member number (docs/MEMBERS.md).
const headMember = 1

// MethodReassessRun is the query-record method of a decision made by a
// batch re-assessment run.
const MethodReassessRun = "reassess_run"

// payloadRun names the run in the record of a batch decision.
const payloadRun = "run"

// DecisionRecord is the audit record of an automated decision d, made by
// actor through method; run names the batch re-assessment run that made
// it ("" for a single assessment). A single AssessCredit and every
// decision of a run write this same record, one leaf per decision:
//
//   - subject: the household, so that it is a query record the household
//     reads (ListQueryRecords) and audit.Visible shows it to the household
//     and to the deciding bank (payload "bank") only;
//   - request_hash: the decision's input hash (its canonical input);
//   - result_hash: OutputHash(d), the SHA-256 of the whole outcome
//     (eligibility, score, grade, limit, rate, exposure cap, validity,
//     knock-out and decline codes): what a replay's stored output hash is;
//   - payload: the decision's name, policy version, and the outcome
//     itself, eligible, grade, limit and rate, in the text the output
//     hash is taken over.
//
// The leaf therefore binds the outcome: change any of those fields and
// the entry's bytes, so its leaf hash and inclusion proof, no longer
// match the signed checkpoint.
func DecisionRecord(d *Decision, actor, method, run string) audit.Record {
	// Sized for the thirteen entries below: a batch re-assessment makes a
	// million of these.
	p := make(map[string]string, 13)
	p[payloadBank], p[payloadProduct] = d.Bank, d.Product
	p[payloadPurpose], p[payloadMethod] = string(lending.PurposeAssessment), method
	p[payloadOutcome], p[payloadBasis] = OutcomeAllowed, string(lending.BasisConsent)
	p[payloadDecision], p["policy_version"] = DecisionName(d.Bank, d.Product, d.ID), strconv.Itoa(d.PolicyVersion)
	fields := storedOutcome(d).fields()
	for _, f := range fields {
		switch f[0] {
		case "eligible", "grade", "limit", "rate":
			p[f[0]] = f[1]
		}
	}
	if run != "" {
		p[payloadRun] = run
	}
	return audit.Record{Time: d.Time, Actor: actor, Action: ActionAssess, Subject: householdOf(d),
		RequestHash: d.InputHash, ResultHash: hashFields(fields), Payload: p}
}

// consentValues copies the stored consents for the pure rule.
func consentValues(consents []*lending.Consent) []lending.Consent {
	cs := make([]lending.Consent, len(consents))
	for i, c := range consents {
		cs[i] = *c
	}
	return cs
}

// applyDecision opens or updates the line from d (an override's
// decision) and stores it.
func applyDecision(ctx context.Context, tx Writer, cur *Line, d *Decision, dec rules.Decision, householdName string, now time.Time) (*Line, string, error) {
	l := applyToLine(cur, dec, d, householdName, now)
	if cur == nil {
		return l, EventLineOpened, tx.InsertLine(ctx, l)
	}
	return l, EventLineUpdated, tx.UpdateLine(ctx, l, cur.Version)
}

// explain keeps a decision's statements in both languages.
func explain(dec rules.Decision) Explanation {
	var e Explanation
	for _, k := range dec.KnockOuts {
		e.KnockOuts = append(e.KnockOuts, Text{Code: k.ID, ZH: k.Reason.ZH, EN: k.Reason.EN})
	}
	for _, x := range dec.Declines {
		e.Declines = append(e.Declines, Text{Code: x.Code, ZH: x.Text.ZH, EN: x.Text.EN})
	}
	for _, r := range dec.Reasons {
		e.Reasons = append(e.Reasons, Text{Code: r.Code, ZH: r.Text.ZH, EN: r.Text.EN})
	}
	for _, c := range dec.Counterfactuals {
		code := c.Kind + ":" + c.Input
		if c.KnockOut != "" {
			code = c.Kind + ":" + c.KnockOut
		}
		e.Counterfactuals = append(e.Counterfactuals, Text{Code: code, ZH: c.Text.ZH, EN: c.Text.EN})
	}
	for _, s := range dec.LimitSteps {
		e.LimitSteps = append(e.LimitSteps, StoredStep{Step: s.Step, ID: s.ID, Amount: dectext.String(s.Amount), Result: dectext.String(s.Result)})
	}
	return e
}

// GetLine returns the household's line at the bank product, for the
// stated purpose, under a live consent; the read and a refused attempt
// are both audited query records.
func (s *Service) GetLine(ctx context.Context, p *access.Principal, productName, householdName, purpose string, detail Detail) (*View, error) {
	bank, product, err := ParseProduct(productName, "product")
	if err != nil {
		return nil, err
	}
	village, hid, err := household.ParseName(householdName, "household")
	if err != nil {
		return nil, err
	}
	pu := lending.Purpose(purpose)
	if pu != lending.PurposeAssessment && pu != lending.PurposePostLoan {
		return nil, fault.InvalidField("purpose", "must be %q or %q", lending.PurposeAssessment, lending.PurposePostLoan)
	}
	if detail != Basic && detail != Full {
		return nil, fault.InvalidField("view", "must be the basic or the full view")
	}
	now := s.clock()
	rec := queryRecord(p, householdName, bank, product, purpose, MethodGetLine, OutcomeAllowed, now)
	rec.Payload[payloadView] = string(detail)
	l, d, err := s.store.QueryLine(ctx, LineQuery{Bank: bank, Product: product, Village: village, Household: hid,
		Purpose: pu, At: now}, rec)
	if isConsentRequired(err) {
		return nil, s.denied(ctx, p, householdName, bank, product, purpose, MethodGetLine, err)
	}
	if err != nil {
		return nil, err
	}
	v := view(l, d, household.Today(now))
	if detail == Basic {
		return v.basic(), nil
	}
	return v, s.explainedViews(ctx, []*View{v}, nil)
}

// Detail is how much of a line a read discloses, recorded in its query
// record: a bank's systems poll limits far more often than an officer
// reads the reasons, and the basic view skips replaying them.
type Detail string

// The details of a read.
const (
	// Basic is the line and its decision's outcome (grade, score,
	// eligibility), without the explanation or the limit's working.
	Basic Detail = "basic"
	// Full adds the reasons, counterfactuals and the limit's working.
	Full Detail = "full"
)

// basic returns v with its decision's explanation left out. The decision
// may be shared with the decision cache, so it is copied, not changed.
func (v *View) basic() *View {
	if v.Decision == nil {
		return v
	}
	d := *v.Decision
	d.Explanation = Explanation{}
	out := *v
	out.Decision, out.Working = &d, nil
	return &out
}

// LinePage is a page of a bank's lines and the token for the next.
type LinePage struct {
	Views     []*View
	NextToken string // "" at the end
}

// MethodListLines is the query-record method of a portfolio listing.
const MethodListLines = "list_credit_lines"

// ListLines returns a page of the bank product's lines in id order. For a
// bank's principal a listing is a read of every household on the page, so
// it holds to the lawful-basis rule (lending.ActMonitor): only lines whose
// household has a live consent for the bank, or owes money on the line,
// are listed, and each listed line is a query record naming its basis and
// purpose, written in the listing's transaction. A regulator's listing is
// supervision: every line, no consent needed.
//
// pageSize 0 means paging.DefaultSize. A page may come back short, even
// empty, with a next token: keep paging until the token is "". A bad
// page_size or page_token (one issued for another product, village or
// status) is fault.Invalid naming that field, reported before any other
// check.
func (s *Service) ListLines(ctx context.Context, p *access.Principal, productName, village string, status lending.Status, pageSize int32, pageToken string) (LinePage, error) {
	var v fault.Violations
	scope := "creditLines:" + productName + "\x00" + village + "\x00" + string(status)
	after := paging.Cursor(pageToken, scope, &v)
	size := paging.Limit(pageSize, &v)
	if err := v.Err(); err != nil {
		return LinePage{}, err
	}
	bank, product, err := ParseProduct(productName, "product")
	if err != nil {
		return LinePage{}, err
	}
	return s.listLines(ctx, p, bank, product, LineFilter{Village: village, Status: status}, scope, after, size)
}

// explainedViews completes the views' decisions after a read that ended
// with err (see Service.explained).
func (s *Service) explainedViews(ctx context.Context, vs []*View, err error) error {
	if err != nil {
		return err
	}
	for _, v := range vs {
		if err := s.explained(ctx, v.Decision); err != nil {
			return err
		}
		w, err := s.working(ctx, v.Decision)
		if err != nil {
			return err
		}
		v.Working = w
	}
	return nil
}

// working is d's limit working in the words of the policy version it was
// decided under (read once per version, see Policies.Version).
func (s *Service) working(ctx context.Context, d *Decision) ([]WorkingStep, error) {
	if len(d.Explanation.LimitSteps) == 0 && d.Kind != Override {
		return nil, nil
	}
	pol, err := s.policies.Version(ctx, d.Bank, d.Product, d.PolicyVersion)
	if err != nil {
		return nil, err
	}
	return Working(d, pol), nil
}
