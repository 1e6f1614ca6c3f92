package access

import (
	"slices"
	"strings"

	"github.com/sanzhi/sanzhi/fault"
)

// This file is the one authorisation policy: "may principal P do action A
// on target T". Every transport asks it — the gRPC interceptor (and, for
// streams, on the stream's request), the HTTP gateway through gRPC, the CLI
// — so a rule found anywhere else is a defect. What a target names is
// read from the request by the transport; what may be done with it is
// decided here.
//
// The policy decides who may ask. Whether a bank may learn about a
// particular household is the lawful-basis rule (lending.LawfulBasis),
// which needs stored consents and balances and so runs inside the
// service's transaction; the policy only makes sure a bank asks about its
// own bank.

// Action is something a principal asks to do, named after the resource and
// the verb, e.g. "household.create".
type Action string

// Target is what an action is on, as far as the request names it. An
// empty field is one the request does not name, or names in a malformed
// way: the service then refuses the request with a field violation, a more
// useful answer than "denied", and reaches no data.
type Target struct {
	Village   string // 12-digit village code
	County    string // 6-digit county code (a county's catalogue base)
	Household string // household id
	Bank      string // bank id
}

// Reach is how far a role's grant on an action extends.
type Reach int

const (
	// Anywhere: every target (regulators, and operators on what they run).
	Anywhere Reach = iota + 1
	// OwnVillages: targets in the principal's villages. A target naming a
	// county but no village is out of reach (a county base is not a
	// village's to change).
	OwnVillages
	// OwnVillagesAndCounty: OwnVillages, plus the county resources of the
	// counties those villages are in (reading the county base).
	OwnVillagesAndCounty
	// CountyOnly: county resources only, not a village's.
	CountyOnly
	// OwnHousehold: the principal's own household, and nothing it cannot
	// name as its own.
	OwnHousehold
	// OwnBank: resources of the principal's own bank.
	OwnBank
	// StoreChecked: the principal's tie to the target is known only to the
	// store, so the service checks it in its transaction — whether a
	// household belongs to a village (evidence.Service.CheckVillager), or
	// whether a decision is about the household (a review request).
	StoreChecked
)

// Grants maps each role that may take an action to how far it reaches.
// A role missing from it may not take the action.
type Grants map[Role]Reach

// Rule is the policy for one action.
type Rule struct {
	Grants Grants
	// Writes marks actions that change state: each appends exactly one
	// audit entry in its transaction (a test holds every such RPC to it).
	Writes bool
}

// Shorthands for the common grants below.
var (
	staffOwn  = Grants{VillageClerk: OwnVillages, VillageReviewer: OwnVillages}
	bankOwn   = Grants{BankOfficer: OwnBank, BankRisk: OwnBank}
	everyRole = func() Grants {
		g := Grants{}
		for _, r := range Roles {
			g[r] = Anywhere
		}
		return g
	}()
)

// with returns g plus the extra grants (g is not changed).
func with(g Grants, extra Grants) Grants {
	out := make(Grants, len(g)+len(extra))
	for r, x := range g {
		out[r] = x
	}
	for r, x := range extra {
		out[r] = x
	}
	return out
}

// The actions, grouped by the resource they act on.
const (
	HouseholdCreate      Action = "household.create"
	HouseholdUpdate      Action = "household.update"
	HouseholdRead        Action = "household.read"
	HouseholdList        Action = "household.list"
	HouseholdLookup      Action = "household.lookup"
	AuditCheckpoint      Action = "audit.checkpoint"
	AuditRefresh         Action = "audit.refresh"
	AuditEntryRead       Action = "audit.entry.read"
	AuditExport          Action = "audit.export"
	DecisionReplay       Action = "decision.replay"
	DecisionReceipt      Action = "decision.receipt"
	CatalogueUpload      Action = "catalogue.upload"
	CatalogueActivate    Action = "catalogue.activate"
	CatalogueLint        Action = "catalogue.lint"
	CatalogueRead        Action = "catalogue.read"
	EvidenceSubmit       Action = "evidence.submit"
	EvidenceReview       Action = "evidence.review"
	EvidenceResolve      Action = "evidence.resolve"
	EvidenceRevoke       Action = "evidence.revoke"
	EvidenceObject       Action = "evidence.object"
	EvidenceRead         Action = "evidence.read"
	NoticeBoardRead      Action = "noticeboard.read"
	PointsRead           Action = "points.read"
	PointsRedeem         Action = "points.redeem"
	RankingRead          Action = "ranking.read"
	ShopGoodRead         Action = "shop.good.read"
	ShopGoodWrite        Action = "shop.good.write"
	ShopArrival          Action = "shop.arrival"
	ShopRedeem           Action = "shop.redeem"
	ShopReceiptRead      Action = "shop.receipt.read"
	ShopReportRead       Action = "shop.report.read"
	PolicyUpload         Action = "policy.upload"
	PolicyApprove        Action = "policy.approve"
	PolicyActivate       Action = "policy.activate"
	PolicyLint           Action = "policy.lint"
	PolicyRead           Action = "policy.read"
	PolicySimulate       Action = "policy.simulate"
	PolicyGateEvaluate   Action = "policy.gate.evaluate"
	PolicyGateRead       Action = "policy.gate.read"
	PolicyChallenge      Action = "policy.challenger.write"
	PolicyChallengerRead Action = "policy.challenger.read"
	PolicyBacktest       Action = "policy.backtest"
	WebhookSet           Action = "webhook.set"
	WebhookRead          Action = "webhook.read"
	WebhookReplay        Action = "webhook.replay"
	ConsentGrant         Action = "consent.grant"
	ConsentRevoke        Action = "consent.revoke"
	ConsentConfirm       Action = "consent.confirm"
	ConsentCountersign   Action = "consent.countersign"
	ConsentList          Action = "consent.list"
	QueryRecordList      Action = "queryrecord.list"
	CreditAssess         Action = "credit.assess"
	CreditRead           Action = "credit.read"
	CustomerLookup       Action = "customer.lookup"
	CreditList           Action = "credit.list"
	CreditDraw           Action = "credit.draw"
	CreditUnfreeze       Action = "credit.unfreeze"
	LoanStatusReport     Action = "loanstatus.report"
	LoanStatusList       Action = "loanstatus.list"
	CreditWatch          Action = "credit.watch"
	DecisionList         Action = "decision.list"
	ReviewRequest        Action = "review.request"
	ReviewList           Action = "review.list"
	ReviewResolve        Action = "review.resolve"
	OverrideApprove      Action = "override.approve"
	ReassessmentStart    Action = "reassessment.start"
	ReassessmentRead     Action = "reassessment.read"
	BenchFloor           Action = "bench.floor"
	BenchFloorWrite      Action = "bench.floor.write"
	PrincipalAdminister  Action = "principal.administer"
	SigninCodeAdminister Action = "signin.code.administer"

	// The village's 股份+积分 dividends (scoring/dividend).
	DividendRuleUpload   Action = "dividend.rule.upload"
	DividendRuleActivate Action = "dividend.rule.activate"
	DividendRuleLint     Action = "dividend.rule.lint"
	DividendRuleRead     Action = "dividend.rule.read"
	DividendRoundCreate  Action = "dividend.round.create"
	DividendRoundRead    Action = "dividend.round.read"
	DividendRoundReview  Action = "dividend.round.review"
	DividendRoundApprove Action = "dividend.round.approve"
	DividendObject       Action = "dividend.object"
	DividendResolve      Action = "dividend.resolve"
	DividendStatement    Action = "dividend.statement"
	DividendPayout       Action = "dividend.payout"
)

// policy is the table: every action any transport can ask for.
var policy = map[Action]Rule{
	// Households: a village's clerk registers and updates them; its
	// staff, the regulators and the household itself read them.
	HouseholdCreate: {Grants: Grants{VillageClerk: OwnVillages}, Writes: true},
	HouseholdUpdate: {Grants: Grants{VillageClerk: OwnVillages}, Writes: true},
	HouseholdRead:   {Grants: with(staffOwn, Grants{Regulator: Anywhere, Household: OwnHousehold})},
	HouseholdList:   {Grants: with(staffOwn, Grants{Regulator: Anywhere})},
	HouseholdLookup: {Grants: with(staffOwn, Grants{Regulator: Anywhere})},

	// Checkpoints and consistency proofs reveal only sizes and hashes.
	// Refreshing one sequences queued records and signs a new checkpoint:
	// regulators and operators only, as it costs the service work.
	AuditCheckpoint: {Grants: Grants{Regulator: Anywhere, VillageClerk: Anywhere, VillageReviewer: Anywhere,
		Household: Anywhere, BankOfficer: Anywhere, BankRisk: Anywhere, Operator: Anywhere}},
	AuditRefresh: {Grants: Grants{Regulator: Anywhere, Operator: Anywhere}},
	// Which entries a reader sees is the audit visibility rule, applied
	// by the service to each entry; here only who may read the log at all.
	AuditEntryRead: {Grants: Grants{Regulator: Anywhere, VillageClerk: Anywhere, VillageReviewer: Anywhere,
		Household: Anywhere, BankOfficer: Anywhere, BankRisk: Anywhere, Operator: Anywhere}},
	// Exporting the log streams every entry, whatever its visibility:
	// regulators only (operators have `sanzhi audit export` on the
	// database). Each export is audited (who, range, checkpoint root).
	AuditExport: {Grants: Grants{Regulator: Anywhere}, Writes: true},
	// Replaying a decision (evaluating it again under its pinned policy)
	// is for the regulators and the deciding bank; each replay is audited.
	DecisionReplay: {Grants: with(bankOwn, Grants{Regulator: Anywhere}), Writes: true},
	// A decision's receipt (its log entry and proof): the deciding bank,
	// the regulators and the household the decision is about (the service
	// checks that against the stored decision).
	DecisionReceipt: {Grants: with(bankOwn, Grants{Regulator: Anywhere, Household: StoreChecked})},

	// Maker-checker: a county base is uploaded by one operator and
	// activated by another; a village document is uploaded by the
	// village's clerk or reviewer and activated by a reviewer of that
	// village other than the uploader (the service refuses self-activation).
	CatalogueUpload:   {Grants: Grants{Operator: CountyOnly, VillageClerk: OwnVillages, VillageReviewer: OwnVillages}, Writes: true},
	CatalogueActivate: {Grants: Grants{Operator: CountyOnly, VillageReviewer: OwnVillages}, Writes: true},
	// Lint stores nothing and reads only a county base.
	CatalogueLint: {Grants: Grants{VillageClerk: Anywhere, VillageReviewer: Anywhere, Regulator: Anywhere, Operator: Anywhere}},
	CatalogueRead: {Grants: Grants{VillageClerk: OwnVillagesAndCounty, VillageReviewer: OwnVillagesAndCounty,
		Regulator: Anywhere, Operator: Anywhere}},

	// Evidence: a village's clerk or reviewer submits, one of its
	// reviewers other than the submitter approves (the service refuses
	// self-review). Households object to notices about themselves; staff
	// record a villager's objection.
	EvidenceSubmit:  {Grants: staffOwn, Writes: true},
	EvidenceReview:  {Grants: Grants{VillageReviewer: OwnVillages}, Writes: true},
	EvidenceResolve: {Grants: Grants{VillageReviewer: OwnVillages}, Writes: true},
	EvidenceRevoke:  {Grants: staffOwn, Writes: true},
	EvidenceObject:  {Grants: with(staffOwn, Grants{Household: StoreChecked}), Writes: true},
	EvidenceRead:    {Grants: with(staffOwn, Grants{Regulator: Anywhere, Household: OwnHousehold})},
	// What a village posts for its villagers (the 公示 board, the
	// ranking) is read by its staff, the regulators and its households.
	NoticeBoardRead: {Grants: with(staffOwn, Grants{Regulator: Anywhere, Household: StoreChecked})},
	RankingRead:     {Grants: with(staffOwn, Grants{Regulator: Anywhere, Household: StoreChecked})},
	PointsRead:      {Grants: with(staffOwn, Grants{Regulator: Anywhere, Household: OwnHousehold})},
	PointsRedeem:    {Grants: Grants{VillageClerk: OwnVillages}, Writes: true},

	// The 兑换超市 (scoring/shop) is the village's own business: its
	// clerks keep the goods and serve the counter, its reviewers and the
	// regulators read; a household reads its own receipts. Banks see
	// nothing of it: what a household spends is not a bank's to know.
	ShopGoodRead:    {Grants: with(staffOwn, Grants{Regulator: Anywhere})},
	ShopGoodWrite:   {Grants: Grants{VillageClerk: OwnVillages}, Writes: true},
	ShopArrival:     {Grants: Grants{VillageClerk: OwnVillages}, Writes: true},
	ShopRedeem:      {Grants: Grants{VillageClerk: OwnVillages}, Writes: true},
	ShopReceiptRead: {Grants: with(staffOwn, Grants{Regulator: Anywhere, Household: OwnHousehold})},
	ShopReportRead:  {Grants: with(staffOwn, Grants{Regulator: Anywhere})},

	// A bank's risk managers write its policies: one uploads, another
	// approves (the service refuses self-approval). Its loan officers and
	// the regulators read them; linting stores and reveals nothing.
	PolicyUpload:   {Grants: Grants{BankRisk: OwnBank}, Writes: true},
	PolicyApprove:  {Grants: Grants{BankRisk: OwnBank}, Writes: true},
	PolicyActivate: {Grants: Grants{BankRisk: OwnBank}, Writes: true},
	PolicyLint:     {Grants: Grants{BankRisk: Anywhere, BankOfficer: Anywhere, Regulator: Anywhere}},
	PolicyRead:     {Grants: with(bankOwn, Grants{Regulator: Anywhere})},
	// A simulation runs a policy over the whole population: a bank's risk
	// The activation gate (issue 16 §5): a bank's risk managers evaluate
	// their versions' gates (a simulation, stored and audited); they and
	// the regulators read the reports.
	PolicyGateEvaluate: {Grants: Grants{BankRisk: OwnBank}, Writes: true},
	PolicyGateRead:     {Grants: Grants{BankRisk: OwnBank, Regulator: Anywhere}},
	// managers get aggregates only, regulators may see masked samples. It
	// is audited like a write.
	PolicySimulate: {Grants: Grants{BankRisk: OwnBank, Regulator: Anywhere}, Writes: true},
	// A challenger is evaluated in shadow beside the champion and changes
	// no line: a bank's risk manager starts and stops it alone (no second
	// person). Its risk managers and the regulators read it with its
	// counts; its loan officers do not (model risk is not their desk).
	PolicyChallenge:      {Grants: Grants{BankRisk: OwnBank}, Writes: true},
	PolicyChallengerRead: {Grants: Grants{BankRisk: OwnBank, Regulator: Anywhere}},
	// A back-test reads a version's decisions and their loans' outcomes
	// (aggregates: a bank's small fairness groups pooled). Its own risk
	// managers and the regulators; audited like a simulation.
	PolicyBacktest: {Grants: Grants{BankRisk: OwnBank, Regulator: Anywhere}, Writes: true},

	// A bank's risk managers set its webhook and receive its secret; no
	// one else may redirect a bank's events. Operators may look at the
	// delivery state and replay dead letters for any bank (they run the
	// service), but never see or set the secret or the URL's owner.
	WebhookSet:    {Grants: Grants{BankRisk: OwnBank}, Writes: true},
	WebhookRead:   {Grants: Grants{BankRisk: OwnBank, Operator: Anywhere}},
	WebhookReplay: {Grants: Grants{BankRisk: OwnBank, Operator: Anywhere}, Writes: true},

	// Consents: a household grants its own in the app (live at once); a
	// bank's officer records a counter or paper authorisation for its own
	// bank, which stays pending until the household confirms it or a
	// clerk of its village countersigns having seen the signed form.
	ConsentGrant:  {Grants: Grants{Household: OwnHousehold, BankOfficer: OwnBank}, Writes: true},
	ConsentRevoke: {Grants: Grants{Household: OwnHousehold, BankOfficer: OwnBank}, Writes: true},
	// Confirming and refusing a pending consent are the same grant: the
	// household's own say.
	ConsentConfirm:     {Grants: Grants{Household: OwnHousehold}, Writes: true},
	ConsentCountersign: {Grants: staffOwn, Writes: true},
	ConsentList:        {Grants: Grants{Household: OwnHousehold, BankOfficer: OwnBank, BankRisk: OwnBank, Regulator: Anywhere}},
	// Who looked at a household's data: the household and the regulators.
	QueryRecordList: {Grants: Grants{Household: OwnHousehold, Regulator: Anywhere}},

	// Credit: a bank acts on its own products and lines; whether it may
	// learn about the household is the lawful-basis rule, checked by the
	// service in its transaction.
	CreditAssess: {Grants: bankOwn, Writes: true},
	CreditRead:   {Grants: bankOwn},
	// A loan officer looks a customer up at the counter by the head's
	// 身份证号; the lawful-basis rule decides what the bank learns.
	CustomerLookup: {Grants: Grants{BankOfficer: OwnBank}},
	CreditList:     {Grants: with(bankOwn, Grants{Regulator: Anywhere})},
	CreditDraw:     {Grants: Grants{BankOfficer: OwnBank}, Writes: true},
	CreditUnfreeze: {Grants: Grants{BankRisk: OwnBank}, Writes: true},
	// A bank's loan officers report how the loans on its own lines stand
	// (days past due, 五级分类, default, write-off, settlement): its own
	// records under the credit contract. Its staff and the regulators
	// read them back.
	LoanStatusReport: {Grants: Grants{BankOfficer: OwnBank}, Writes: true},
	LoanStatusList:   {Grants: with(bankOwn, Grants{Regulator: Anywhere})},
	CreditWatch:      {Grants: with(bankOwn, Grants{Regulator: Anywhere})},
	// Decisions about a household: the household, the regulators, and a
	// bank for its own (the service requires the bank filter).
	DecisionList: {Grants: with(bankOwn, Grants{Household: OwnHousehold, Regulator: Anywhere})},
	// Human review (PIPL art. 24): the household asks (the service checks
	// the decision is about it), or a loan officer of the decision's bank
	// opens one (the service checks the bank's lawful basis); the bank's
	// staff resolve.
	ReviewRequest: {Grants: Grants{Household: StoreChecked, BankOfficer: OwnBank}, Writes: true},
	ReviewList:    {Grants: with(bankOwn, Grants{Household: OwnHousehold, Regulator: Anywhere})},
	ReviewResolve: {Grants: bankOwn, Writes: true},
	// An override proposed in ResolveReview takes effect only when a
	// second person of the bank approves it (the service refuses the
	// proposer: MAKER_CHECKER).
	OverrideApprove:   {Grants: bankOwn, Writes: true},
	ReassessmentStart: {Grants: Grants{BankRisk: OwnBank}, Writes: true},
	ReassessmentRead:  {Grants: with(bankOwn, Grants{Regulator: Anywhere})},

	// Principals are created, revoked and re-keyed by operators (the CLI
	// on the server's machine); each change is audited.
	PrincipalAdminister: {Grants: Grants{Operator: Anywhere}, Writes: true},
	// A household's personal access code (the web console's sign-in) is
	// issued and revoked by a clerk of its village, who hands over the
	// printed slip; the service checks the household is of that village.
	SigninCodeAdminister: {Grants: Grants{VillageClerk: OwnVillages}, Writes: true},

	// Dividends: a village's clerk or reviewer uploads its rule and a
	// reviewer other than the uploader activates it (the service refuses
	// self-activation). The clerk creates a round; a reviewer other than
	// its creator reviews and approves it (the service refuses the
	// creator). A household objects to its own line during 公示 and staff
	// record a villager's objection; a reviewer resolves it. A household
	// reads its own statement once the round is on notice (the service
	// checks the state). The payout file goes to the village's staff, its
	// handing-out audited. Regulators read everything; lint stores nothing.
	DividendRuleUpload:   {Grants: staffOwn, Writes: true},
	DividendRuleActivate: {Grants: Grants{VillageReviewer: OwnVillages}, Writes: true},
	DividendRuleLint:     {Grants: Grants{VillageClerk: Anywhere, VillageReviewer: Anywhere, Regulator: Anywhere}},
	DividendRuleRead:     {Grants: with(staffOwn, Grants{Regulator: Anywhere})},
	DividendRoundCreate:  {Grants: Grants{VillageClerk: OwnVillages}, Writes: true},
	DividendRoundRead:    {Grants: with(staffOwn, Grants{Regulator: Anywhere})},
	DividendRoundReview:  {Grants: Grants{VillageReviewer: OwnVillages}, Writes: true},
	DividendRoundApprove: {Grants: Grants{VillageReviewer: OwnVillages}, Writes: true},
	DividendObject:       {Grants: with(staffOwn, Grants{Household: OwnHousehold}), Writes: true},
	DividendResolve:      {Grants: Grants{VillageReviewer: OwnVillages}, Writes: true},
	DividendStatement:    {Grants: with(staffOwn, Grants{Regulator: Anywhere, Household: OwnHousehold})},
	DividendPayout:       {Grants: staffOwn, Writes: true},

	// The load-test floors (only in the bench binary's server) are open
	// to any principal, so a benchmark calls them with the same key and
	// chain as the RPC it measures. The write floor touches only its own
	// table, no one's data: not an audited write.
	BenchFloor:      {Grants: everyRole},
	BenchFloorWrite: {Grants: everyRole},
}

// RuleOf returns the rule of action a and whether the policy has one.
func RuleOf(a Action) (Rule, bool) {
	r, ok := policy[a]
	return r, ok
}

// Actions lists every action of the policy, sorted, for tests and docs.
func Actions() []Action {
	out := make([]Action, 0, len(policy))
	for a := range policy {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// Authorise decides whether p may take action a on t. A nil principal is
// UNAUTHENTICATED; an action the policy does not name, a role without a
// grant, or a target out of the grant's reach is PERMISSION_DENIED with
// reason METHOD_NOT_ALLOWED, ROLE_NOT_ALLOWED or OUT_OF_SCOPE.
func Authorise(p *Principal, a Action, t Target) error {
	r, ok := policy[a]
	if !ok {
		return fault.New(fault.PermissionDenied, "METHOD_NOT_ALLOWED", "%s is not open to any role", a)
	}
	if p == nil {
		return fault.New(fault.Unauthenticated, "UNAUTHENTICATED", "missing credentials")
	}
	reach, ok := r.Grants[p.Role]
	if !ok {
		return fault.New(fault.PermissionDenied, "ROLE_NOT_ALLOWED", "role %s may not call %s", p.Role, a)
	}
	return reaches(p, reach, t)
}

// reaches checks t against the reach of p's grant.
func reaches(p *Principal, reach Reach, t Target) error {
	switch reach {
	case Anywhere, StoreChecked:
		return nil
	case OwnVillages, OwnVillagesAndCounty, CountyOnly:
		return reachesPlace(p, reach, t)
	case OwnHousehold:
		if t.Household != "" && t.Household == p.Scope.Household {
			return nil
		}
		return fault.New(fault.PermissionDenied, "OUT_OF_SCOPE", "a household may act on its own record only")
	case OwnBank:
		if t.Bank == "" || t.Bank == p.Scope.Bank {
			return nil
		}
		return fault.New(fault.PermissionDenied, "OUT_OF_SCOPE", "bank %s is outside the scope of %s", t.Bank, p.Name)
	}
	return fault.New(fault.PermissionDenied, "OUT_OF_SCOPE", "no grant reaches this resource")
}

// reachesPlace checks village and county targets.
func reachesPlace(p *Principal, reach Reach, t Target) error {
	switch {
	case t.Village != "":
		if reach == CountyOnly {
			return fault.New(fault.PermissionDenied, "ROLE_NOT_ALLOWED", "role %s may not do this to village catalogues", p.Role)
		}
		if p.CoversVillage(t.Village) {
			return nil
		}
		return fault.New(fault.PermissionDenied, "OUT_OF_SCOPE", "village %s is outside the scope of %s", t.Village, p.Name)
	case t.County != "":
		switch reach {
		case CountyOnly:
			return nil
		case OwnVillagesAndCounty:
			for _, v := range p.Scope.Villages {
				if strings.HasPrefix(v, t.County) {
					return nil
				}
			}
			return fault.New(fault.PermissionDenied, "OUT_OF_SCOPE", "county %s is outside the scope of %s", t.County, p.Name)
		}
		// Only catalogues have a county form.
		return fault.New(fault.PermissionDenied, "ROLE_NOT_ALLOWED", "role %s may not change county catalogues", p.Role)
	}
	return nil // unnamed or malformed: the service names the field
}
