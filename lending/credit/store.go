package credit

import (
	"context"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// Store is the lending port: consents, decisions, credit lines, the banks'
// transactions, review requests and the per-bank line event outbox. It is
// implemented by adapters/sqlstore for SQLite and PostgreSQL and checked by
// the conformance suite in adapters/storetest.
//
// Errors, for every method: a fault of kind NotFound when the thing asked
// for does not exist, AlreadyExists where stated, and otherwise Internal or
// Unavailable; context errors are returned as they are.
type Store interface {
	// Read runs fn in a read-only transaction with a consistent snapshot.
	Read(ctx context.Context, fn func(Reader) error) error
	// Write runs fn in one read-write transaction (SERIALIZABLE on
	// PostgreSQL). fn may run more than once, so it must not have effects
	// outside the transaction.
	Write(ctx context.Context, fn func(Writer) error) error
	// Locked runs fn in one read-write transaction meant for money: fn
	// must call LockHouseholdLines before reading any line it changes.
	// On PostgreSQL it runs at READ COMMITTED, so that a hundred
	// concurrent drawdowns queue on the row locks instead of aborting
	// each other; the lock makes each read current. fn may run more than
	// once.
	Locked(ctx context.Context, fn func(Writer) error) error
	// QueryLine is the hot read of GetCreditLine. The facts of the
	// lawful-basis rule and the read are one statement: whether a consent
	// of q.Bank for q.Purpose is live at q.At for the household, and the
	// line of (q.Bank, q.Product, household) with its drawn balance; the
	// rule itself is lending's (Standing.Basis with ActRead: a live
	// consent for the purpose, or for post_loan a drawn balance on this
	// line). Under a basis it reads the line's decision, and rec, with a
	// "basis" entry added, is appended to the audit log, durably, before
	// QueryLine returns the line (concurrent calls share one commit).
	// Without one it writes nothing and returns a PermissionDenied fault
	// with reason lending.ReasonConsentRequired. When there is a consent
	// but no line, rec is still appended (the query happened) and the
	// error is NotFound. If rec cannot be appended, the error is returned
	// and the line is not.
	QueryLine(ctx context.Context, q LineQuery, rec audit.Record) (*Line, *Decision, error)
}

// LineQuery names one line and why it is read.
type LineQuery struct {
	Bank, Product      string
	Village, Household string // household id
	Purpose            lending.Purpose
	At                 time.Time
}

// Reader reads lending state.
type Reader interface {
	// Household returns household id of village; NotFound when it does
	// not exist or belongs to another village.
	Household(ctx context.Context, village, id string) (*household.Household, error)
	// Consent returns one consent by id.
	Consent(ctx context.Context, id string) (*lending.Consent, error)
	// Consents returns every consent of the household (all banks,
	// including expired and revoked ones), oldest first.
	Consents(ctx context.Context, householdID string) ([]*lending.Consent, error)
	// LiveConsentHouseholds returns up to limit households (by id, above
	// afterID, in id order) with a consent of bank live at at for any
	// purpose: the population of a batch re-assessment.
	LiveConsentHouseholds(ctx context.Context, bank string, at time.Time, afterID string, limit int) ([]HouseholdRef, error)
	// Line returns the line of (bank, product, household id).
	Line(ctx context.Context, bank, product, householdID string) (*Line, error)
	// LineByID returns a line by its id.
	LineByID(ctx context.Context, id string) (*Line, error)
	// HouseholdLines returns every line of the household at every bank,
	// in id order.
	HouseholdLines(ctx context.Context, householdID string) ([]*Line, error)
	// Lines returns up to q.Limit lines of q.Bank matching q, in id order.
	Lines(ctx context.Context, q ListQuery) ([]*Line, error)
	// Decision returns one decision by id.
	Decision(ctx context.Context, id string) (*Decision, error)
	// Decisions returns up to limit decisions of the household (of bank
	// when bank is not ""), newest first, with ids below before when
	// before is not "".
	Decisions(ctx context.Context, householdID, bank, before string, limit int) ([]*Decision, error)
	// Transaction returns the transaction the bank reported under id.
	Transaction(ctx context.Context, bank, id string) (*Transaction, error)
	// Review returns one review request by id.
	Review(ctx context.Context, id string) (*Review, error)
	// Reviews returns up to q.Limit review requests matching q, newest
	// first.
	Reviews(ctx context.Context, q ReviewQuery) ([]*Review, error)
	// LineEvents returns up to limit events of bank with Seq > after, in
	// Seq order.
	LineEvents(ctx context.Context, bank string, after int64, limit int) ([]*LineEvent, error)
	// LineEventsBefore returns up to q.Limit events of q.Bank (of line
	// q.LineID only when it is not "") with Seq < q.Before (any Seq when
	// q.Before is 0), newest (highest Seq) first: a bank's inbox and a
	// line's history, read a page at a time.
	LineEventsBefore(ctx context.Context, q EventQuery) ([]*LineEvent, error)
	// DueHouseholds returns up to limit households marked for
	// re-assessment, oldest mark first.
	DueHouseholds(ctx context.Context, limit int) ([]string, error)
	// CountLiveConsentHouseholds counts the households
	// LiveConsentHouseholds would list from the start.
	CountLiveConsentHouseholds(ctx context.Context, bank string, at time.Time) (int64, error)
	// Run returns one batch re-assessment run.
	Run(ctx context.Context, id string) (*Run, error)
	// Runs returns every run in the state, oldest first.
	Runs(ctx context.Context, state RunState) ([]*Run, error)
	// ReassessCandidates is the bulk read of a batch re-assessment: up to
	// limit households (by id, above afterID, in id order) with a consent
	// of bank live at at for any purpose, each with everything assessing
	// it reads: the household with its latest facts, its points sheet's
	// entries, its posted or revoked non-points evidence (star ratings,
	// listings, recommendations) and its lines at every bank (not
	// locked). A page costs a few statements whatever its size. Errors:
	// Internal or Unavailable; context errors as they are.
	ReassessCandidates(ctx context.Context, bank string, at time.Time, afterID string, limit int) ([]*Candidate, error)
	// AssessInput is ReassessCandidates for one household, whatever its
	// consents: the household of village with its latest facts and their
	// members, its points sheet's entries, its posted or revoked
	// non-points evidence and the loan status reports of its lines (Lines
	// is left empty: the caller has locked them). NotFound when there is
	// no such household in village.
	AssessInput(ctx context.Context, village, householdID string) (*Candidate, error)
	// LoanStatus returns the report bank recorded under its event id.
	LoanStatus(ctx context.Context, bank, eventID string) (*LoanStatus, error)
	// LineStatuses returns up to limit reports of the line with Seq
	// below before (any when before is 0), newest (highest Seq) first:
	// the line's latest status first, then its history a page at a time.
	LineStatuses(ctx context.Context, lineID string, before, limit int) ([]*LoanStatus, error)
	// DrawnSince reports whether the bank reported a drawdown on the
	// line recorded after since.
	DrawnSince(ctx context.Context, lineID string, since time.Time) (bool, error)
	// ReviewsDue returns up to limit households, in id order, with a line
	// that is not closed whose review day is on or before today and whose
	// bank has a consent of the household live at at (any purpose): the
	// lines a re-assessment can review.
	ReviewsDue(ctx context.Context, today household.Date, at time.Time, limit int) ([]string, error)
}

// Writer reads and writes within one transaction.
type Writer interface {
	Reader
	// Record appends an audit record that commits with this transaction.
	Record(ctx context.Context, r audit.Record) error
	// InsertConsent stores c. AlreadyExists when its id is taken.
	InsertConsent(ctx context.Context, c *lending.Consent) error
	// RevokeConsent sets the consent's revoke time and revoker where it
	// is not revoked yet; NotFound when it does not exist.
	RevokeConsent(ctx context.Context, id string, at time.Time, by string) error
	// SettleConsent moves a pending, unrevoked consent to state to
	// (granted or refused), recording by and at as its confirmation;
	// FailedPrecondition CONSENT_NOT_PENDING when it is not pending or is
	// revoked, NotFound when it does not exist.
	SettleConsent(ctx context.Context, id string, to lending.ConsentState, at time.Time, by string) error
	// LockHouseholdLines locks every line of the household (all banks)
	// until the transaction ends and returns them in id order: the
	// serialisation point of drawdowns, repayments, assessments and
	// freezes of one household, and of the cross-bank cap.
	LockHouseholdLines(ctx context.Context, householdID string) ([]*Line, error)
	// InsertDecision stores d. Decisions never change.
	InsertDecision(ctx context.Context, d *Decision) error
	// InsertShadowDecisions stores challengers' shadows of decisions
	// stored in this transaction (challenger.go). Shadows never change.
	InsertShadowDecisions(ctx context.Context, shs []*ShadowDecision) error
	// InsertLine stores a new line (Version as given). AlreadyExists when
	// the household already has a line of that bank and product.
	InsertLine(ctx context.Context, l *Line) error
	// UpdateLine stores l's mutable fields (limit, drawn, rate, exposure
	// cap, status, valid until, decision, freeze reason, update time) and
	// its Version, where the stored version is prevVersion.
	// FailedPrecondition (reason CONCURRENT_CHANGE) when it differs.
	UpdateLine(ctx context.Context, l *Line, prevVersion int) error
	// InsertTransaction stores t. AlreadyExists when (bank, id) is taken.
	InsertTransaction(ctx context.Context, t *Transaction) error
	// InsertLoanStatus stores a report; reports never change.
	// AlreadyExists when (bank, event id) or (line, seq) is taken.
	// InvalidArgument for an amount with more decimal places than its
	// column.
	InsertLoanStatus(ctx context.Context, s *LoanStatus) error
	// InsertReview stores r.
	InsertReview(ctx context.Context, r *Review) error
	// UpdateReview stores r's resolution fields.
	UpdateReview(ctx context.Context, r *Review) error
	// AppendLineEvent writes ev to its bank's outbox and sets ev.Seq.
	AppendLineEvent(ctx context.Context, ev *LineEvent) error
	// ClearDue removes the re-assessment marks of the households.
	ClearDue(ctx context.Context, householdIDs []string) error
	// ClaimDue locks the household's re-assessment mark until the
	// transaction ends and reports whether it holds it: false when there
	// is no mark, or (PostgreSQL: FOR UPDATE SKIP LOCKED) when another
	// transaction holds it, so that two re-assessors never assess one
	// household at once. A change marking the household meanwhile waits
	// for the claim's transaction and marks it anew after it.
	ClaimDue(ctx context.Context, householdID string) (bool, error)
	// MarkDue marks the household for re-assessment (a no-op when marked).
	MarkDue(ctx context.Context, householdID string, at time.Time) error
	// InsertRun stores a new run. AlreadyExists when a run of the same
	// bank and product is running.
	InsertRun(ctx context.Context, r *Run) error
	// UpdateRun stores r's progress fields (state, cursor, done, total,
	// update time, error).
	UpdateRun(ctx context.Context, r *Run) error
	// LockPage is LockHouseholdLines for a page of households: it locks
	// every line of the households (all banks) until the transaction
	// ends, taking them in (household id, line id) order, the order
	// LockHouseholdLines takes one household's lines in, so the two never
	// deadlock. It returns the lines in that order and, of the
	// households, those with a consent of bank live at at (any purpose),
	// in id order. Errors: Internal or Unavailable; context errors as
	// they are.
	LockPage(ctx context.Context, bank string, at time.Time, householdIDs []string) (live []string, lines []*Line, err error)
	// WritePage stores one page of a batch re-assessment with multi-row
	// statements, in this order: its plans' decisions; their new lines
	// and updated lines (each where the stored version is still
	// PrevVersion; drawn is never written); then, after p.Turn, their
	// line events (given consecutive Seqs of their bank, set on the
	// events); and last the run's progress (state, cursor, done, total,
	// update time, error), where the stored run is running at cursor
	// p.PrevCursor. Errors: FailedPrecondition CONCURRENT_CHANGE when a
	// line changed or appeared since it was locked; FailedPrecondition
	// RUN_CHANGED when the run was advanced or ended by someone else;
	// NotFound when the run does not exist; InvalidArgument for an
	// amount with more decimal places than its column; p.Turn's error as
	// it is; otherwise Internal or Unavailable, and context errors as
	// they are. After an error the caller must roll back.
	WritePage(ctx context.Context, p *Page) error
}

// Candidate is one household of a re-assessment page, as
// ReassessCandidates reads it.
type Candidate struct {
	Household *household.Household // with its latest facts and their members
	Entries   []points.Entry
	Listings  []*evidence.Evidence
	Lines     []*Line // every line of the household at every bank
	// Statuses are the loan status reports of the household's lines at
	// every bank, by line and in the order recorded.
	Statuses []lending.LineStatus
}

// Page is what WritePage stores for one page of a run: each plan's
// decision, line and event, and the run's progress.
type Page struct {
	Run        *Run // the run after the page
	PrevCursor string
	Plans      []*Plan
	// Turn, when set, is called after the decisions and lines are
	// written and before the events and the run's move: a caller writing
	// several pages at once waits there for the page before (its error
	// ends WritePage with that error).
	Turn func(context.Context) error
}

// HouseholdRef names a household.
type HouseholdRef struct{ Village, ID string }

// Name is the household's resource name.
func (h HouseholdRef) Name() string { return resource.Household(h.Village, h.ID) }

// Line is a stored credit line: the pure line with what storage and the
// API need around it.
type Line struct {
	lending.Line
	Product     string
	Village     string
	HouseholdID string
	// ExposureCap is the policy's cap on the household's total exposure
	// across banks at the last decision (0: none); drawdowns respect it.
	ExposureCap decimal.Decimal
	// ApplicantMember is the household member (by number; 1 is the head)
	// the last decision assessed: re-assessments keep assessing them.
	ApplicantMember int32
	OpenTime        time.Time
	UpdateTime      time.Time
}

// ListQuery selects a bank's lines. Empty fields do not filter.
type ListQuery struct {
	Bank    string // required
	Product string
	Village string
	Status  lending.Status // stored status (expiry by date is applied by the caller)
	AfterID string
	Limit   int
}

// DecisionKind tells an automated decision from a person's override.
type DecisionKind string

// Decision kinds.
const (
	Automated DecisionKind = "automated"
	Override  DecisionKind = "override"
)

// Decision is a decision as stored: the policy's outcome, or an officer's
// override of one, with its explanation and the exact input it read.
type Decision struct {
	ID            string
	Bank, Product string
	Village       string
	HouseholdID   string
	Kind          DecisionKind
	PolicyVersion int
	PolicyHash    string
	InputHash     string
	On            household.Date
	ValidUntil    household.Date
	ReviewOn      household.Date // "" when the policy has no review period
	// ApplicantMember is the member (by number; 1 is the head) whose
	// age and personal facts the policy read.
	ApplicantMember int32
	Eligible        bool
	Score           int
	// Bins are the index of the bin each scorecard characteristic fell
	// in, in scorecard order (rules.Decision.Bins), kept for
	// back-testing. An override keeps the bins and score of the decision
	// it replaces. Nil for a policy without characteristics and for
	// decisions stored before bins were kept (the back-test re-scores
	// their stored input).
	Bins          []int
	Grade         string
	Limit         decimal.Decimal
	Rate          decimal.Decimal
	ExposureCap   decimal.Decimal
	Explanation   Explanation
	Input         string // the canonical policy input (JSON)
	Overrides     string // for an override: the decision it replaces
	Justification string // for an override: the officer's written reason
	DecidedBy     string
	Time          time.Time
}

// Explanation is what a decision tells the household and the bank, each
// item in Chinese and English.
type Explanation struct {
	KnockOuts       []Text `json:"knock_outs,omitempty"`
	Declines        []Text `json:"declines,omitempty"`
	Reasons         []Text `json:"reasons,omitempty"`
	Counterfactuals []Text `json:"counterfactuals,omitempty"`
	// LimitSteps are the policy's working of the limit (rules.LimitStep),
	// kept with the decision so the bank can be shown why the limit is
	// what it is (Working). Figures are decimal strings.
	LimitSteps []StoredStep `json:"limit_steps,omitempty"`
}

// StoredStep is one rules.LimitStep as a decision keeps it.
type StoredStep struct {
	Step   string `json:"step"`
	ID     string `json:"id,omitempty"`
	Amount string `json:"amount"`
	Result string `json:"result"`
}

// Text is one coded statement in zh-CN and en.
type Text struct {
	Code string `json:"code"`
	ZH   string `json:"zh-CN"`
	EN   string `json:"en"`
}

// TxKind is what a bank reported.
type TxKind string

// Transaction kinds.
const (
	Drawdown  TxKind = "drawdown"
	Repayment TxKind = "repayment"
)

// Transaction is a drawdown or repayment as the bank reported it, with the
// line's drawn amount right after it.
type Transaction struct {
	Bank        string
	ID          string // the bank's transaction id
	LineID      string
	Kind        TxKind
	Amount      decimal.Decimal
	Use         lending.Use // drawdowns only
	RequestHash string
	DrawnAfter  decimal.Decimal
	RecordedBy  string
	Time        time.Time
}

// LoanStatus is a loan status report as stored: the bank's report with
// the line it is about and who recorded it when.
type LoanStatus struct {
	lending.StatusReport
	LineID      string
	Seq         int // 1, 2, … per line, in the order recorded
	Bank        string
	EventID     string // the bank's own id: the idempotency key
	Village     string
	HouseholdID string
	RequestHash string
	RecordedBy  string
	Time        time.Time
}

// ReviewState is where a review request stands.
type ReviewState string

// Review states.
const (
	ReviewOpen       ReviewState = "open"
	ReviewUpheld     ReviewState = "upheld"
	ReviewOverridden ReviewState = "overridden"
)

// Review is a request for a human review of a decision: the household's
// (PIPL art. 24), or one a bank officer opened.
type Review struct {
	ID          string
	DecisionID  string
	Bank        string
	Village     string
	HouseholdID string
	Reason      string
	State       ReviewState
	RequestedBy string
	// ByBank: an officer of the bank opened it, not the household; an
	// open one is then no ask of the household's and no lawful basis of
	// its own (see ListReviews).
	ByBank          bool
	RequestTime     time.Time
	ResolvedBy      string
	ResolveTime     *time.Time
	Resolution      string
	OutcomeDecision string // the override decision, when overridden
	// An override proposed by one bank principal and waiting for a
	// second (four-eyes); ProposedBy is "" when there is none.
	ProposedLimit         decimal.Decimal
	ProposedBy            string
	ProposeTime           *time.Time
	ProposalJustification string
}

// ReviewQuery selects review requests. Empty fields do not filter; one of
// Bank or HouseholdID is required.
type ReviewQuery struct {
	Bank        string
	HouseholdID string
	State       ReviewState
	Before      string
	Limit       int
}

// EventQuery selects a bank's line events, newest first.
type EventQuery struct {
	Bank   string // required
	LineID string // "": every line of the bank
	Before int64  // 0: from the newest
	Limit  int
}

// LineEvent is one change of a line, in its bank's outbox.
type LineEvent struct {
	Bank        string
	Seq         int64 // per bank, assigned by the store
	ID          string
	Type        string
	LineID      string
	Village     string
	HouseholdID string
	Payload     []byte // the JSON a webhook delivers
	Time        time.Time
}

// Line event types.
const (
	EventLineOpened   = "credit_line.opened"
	EventLineUpdated  = "credit_line.updated"
	EventLineFrozen   = "credit_line.frozen"
	EventLineUnfrozen = "credit_line.unfrozen"
	EventDrawdown     = "credit_line.drawdown"
	EventRepayment    = "credit_line.repayment"
)

// RunState is where a batch re-assessment stands.
type RunState string

// Run states.
const (
	RunRunning RunState = "running"
	RunDone    RunState = "done"
	RunFailed  RunState = "failed"
)

// Run is a batch re-assessment of a bank product's consenting households.
type Run struct {
	ID            string
	Bank, Product string
	PolicyVersion int
	State         RunState
	Cursor        string // the last household id done
	Done, Total   int64
	StartedBy     string
	StartTime     time.Time
	UpdateTime    time.Time
	Error         string
}
