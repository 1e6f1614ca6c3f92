package rpc

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// Consents serves sanzhi.v1.ConsentService.
type Consents struct {
	sanzhiv1.UnimplementedConsentServiceServer
	svc *credit.Service
	st  *sqlstore.Store // the audit log, for query records
}

// NewConsents returns the handler.
func NewConsents(svc *credit.Service, st *sqlstore.Store) *Consents {
	return &Consents{svc: svc, st: st}
}

func (s *Consents) GrantConsent(ctx context.Context, req *sanzhiv1.GrantConsentRequest) (*sanzhiv1.Consent, error) {
	in := credit.GrantInput{Household: req.GetParent(), Bank: req.GetBank(), Purposes: req.GetPurposes(),
		Channel: req.GetChannel(), AuthorisationHash: req.GetAuthorisationHash()}
	if req.GetExpireTime() != nil {
		in.ExpireTime = req.GetExpireTime().AsTime()
	}
	c, err := s.svc.Grant(ctx, access.FromContext(ctx), in)
	if err != nil {
		return nil, err
	}
	return consentOut(c, s.svc.Now()), nil
}

func (s *Consents) RevokeConsent(ctx context.Context, req *sanzhiv1.RevokeConsentRequest) (*sanzhiv1.Consent, error) {
	c, err := s.svc.Revoke(ctx, access.FromContext(ctx), req.GetName())
	if err != nil {
		return nil, err
	}
	return consentOut(c, s.svc.Now()), nil
}

func (s *Consents) ListConsents(ctx context.Context, req *sanzhiv1.ListConsentsRequest) (*sanzhiv1.ListConsentsResponse, error) {
	state, err := consentStateIn(req.GetState())
	if err != nil {
		return nil, err
	}
	cs, err := s.svc.ListConsents(ctx, access.FromContext(ctx), req.GetParent(), state)
	if err != nil {
		return nil, err
	}
	now := s.svc.Now()
	out := &sanzhiv1.ListConsentsResponse{}
	for _, c := range cs {
		out.Consents = append(out.Consents, consentOut(c, now))
	}
	return out, nil
}

func (s *Consents) ConfirmConsent(ctx context.Context, req *sanzhiv1.ConfirmConsentRequest) (*sanzhiv1.Consent, error) {
	c, err := s.svc.Confirm(ctx, access.FromContext(ctx), req.GetName())
	if err != nil {
		return nil, err
	}
	return consentOut(c, s.svc.Now()), nil
}

func (s *Consents) RefuseConsent(ctx context.Context, req *sanzhiv1.RefuseConsentRequest) (*sanzhiv1.Consent, error) {
	c, err := s.svc.Refuse(ctx, access.FromContext(ctx), req.GetName())
	if err != nil {
		return nil, err
	}
	return consentOut(c, s.svc.Now()), nil
}

func (s *Consents) CountersignConsent(ctx context.Context, req *sanzhiv1.CountersignConsentRequest) (*sanzhiv1.Consent, error) {
	c, err := s.svc.Countersign(ctx, access.FromContext(ctx), req.GetName(), req.GetAuthorisationHash())
	if err != nil {
		return nil, err
	}
	return consentOut(c, s.svc.Now()), nil
}

var consentStates = map[lending.ConsentState]sanzhiv1.ConsentState{
	lending.ConsentPending: sanzhiv1.ConsentState_CONSENT_STATE_PENDING,
	lending.ConsentGranted: sanzhiv1.ConsentState_CONSENT_STATE_GRANTED,
	lending.ConsentRefused: sanzhiv1.ConsentState_CONSENT_STATE_REFUSED,
}

func consentStateIn(s sanzhiv1.ConsentState) (lending.ConsentState, error) {
	if s == sanzhiv1.ConsentState_CONSENT_STATE_UNSPECIFIED {
		return "", nil
	}
	for k, v := range consentStates {
		if v == s {
			return k, nil
		}
	}
	return "", fault.InvalidField("state", "is not a consent state")
}

// ListQueryRecords reads the household's query records from the audit
// log: entries about the household whose action is a credit query or
// assessment, oldest first. An assessment names its decision, and each
// decision of a batch re-assessment is its own entry naming its run.
func (s *Consents) ListQueryRecords(ctx context.Context, req *sanzhiv1.ListQueryRecordsRequest) (*sanzhiv1.ListQueryRecordsResponse, error) {
	page, err := app.QueryRecords(ctx, s.st, req.GetParent(), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &sanzhiv1.ListQueryRecordsResponse{NextPageToken: page.NextToken}
	for _, r := range page.Records {
		out.Records = append(out.Records, &sanzhiv1.QueryRecord{AuditSeq: r.Seq, Time: timestamppb.New(r.Time),
			Actor: r.Actor, Bank: resource.Bank(r.Bank), Method: r.Method, Purpose: r.Purpose, Outcome: r.Outcome,
			Basis: r.Basis, Decision: r.Decision, Run: r.Run, View: r.View})
	}
	return out, nil
}

func consentOut(c *lending.Consent, now time.Time) *sanzhiv1.Consent {
	village, hid, _ := household.ParseName(c.Household, "")
	out := &sanzhiv1.Consent{Name: credit.ConsentName(village, hid, c.ID), Bank: resource.Bank(c.Bank),
		GrantTime: timestamppb.New(c.GrantTime), ExpireTime: timestamppb.New(c.Expires), Channel: c.Channel,
		AuthorisationHash: c.AuthorisationHash, RecordedBy: c.RecordedBy, RevokedBy: c.RevokedBy,
		Live: c.Live(lending.PurposeAssessment, now) || c.Live(lending.PurposePostLoan, now)}
	for _, p := range c.Purposes {
		out.Purposes = append(out.Purposes, string(p))
	}
	if c.RevokeTime != nil {
		out.RevokeTime = timestamppb.New(*c.RevokeTime)
	}
	out.State, out.ConfirmedBy = consentStates[c.State], c.ConfirmedBy
	if c.ConfirmTime != nil {
		out.ConfirmTime = timestamppb.New(*c.ConfirmTime)
	}
	return out
}

// Credit serves sanzhi.v1.CreditService: convert, call the lending
// service once, convert back.
type Credit struct {
	sanzhiv1.UnimplementedCreditServiceServer
	svc *credit.Service
	// reassess starts or resumes a batch re-assessment; adapters/server
	// provides it (it runs in the background).
	reassess Reassessor
	// watch caps open WatchCreditLines streams and ends them at shutdown.
	watch *watchGate
	// customers finds a household by its head's 身份证号 for a bank
	// (app.App); nil: LookupCustomer is unimplemented.
	customers Customers
}

// Customers is a bank's look-up of a customer (app.App.LookupCustomer).
type Customers interface {
	LookupCustomer(ctx context.Context, p *access.Principal, bank, idNumber, purpose string) (*credit.Customer, error)
}

// WithCustomers serves LookupCustomer with c.
func (s *Credit) WithCustomers(c Customers) *Credit {
	s.customers = c
	return s
}

// LookupCustomer: the household and its lines at the bank, found by the
// head's 身份证号, which goes back masked only.
func (s *Credit) LookupCustomer(ctx context.Context, req *sanzhiv1.LookupCustomerRequest) (*sanzhiv1.LookupCustomerResponse, error) {
	if s.customers == nil {
		return nil, fault.New(fault.Unavailable, "NOT_SERVED", "customer look-up is not served here")
	}
	bank, err := credit.ParseBank(req.GetBank(), "bank")
	if err != nil {
		return nil, err
	}
	c, err := s.customers.LookupCustomer(ctx, access.FromContext(ctx), bank, req.GetIdNumber(), req.GetPurpose())
	if err != nil {
		return nil, err
	}
	h := c.Household
	out := &sanzhiv1.LookupCustomerResponse{Household: h.Name(), HeadName: h.HeadName,
		HeadIdNumberMasked: h.HeadIDMasked, Basis: string(c.Basis.Kind)}
	for _, v := range c.Views {
		out.Lines = append(out.Lines, LineOut(v))
	}
	return out, nil
}

// Reassessor starts batch re-assessments and reports their progress.
type Reassessor interface {
	Start(ctx context.Context, p *access.Principal, product string) (*credit.Run, error)
	Get(ctx context.Context, name string) (*credit.Run, error)
}

// NewCredit returns the handler.
func NewCredit(svc *credit.Service, r Reassessor) *Credit {
	return &Credit{svc: svc, reassess: r, watch: newWatchGate()}
}

func (s *Credit) AssessCredit(ctx context.Context, req *sanzhiv1.AssessCreditRequest) (*sanzhiv1.AssessCreditResponse, error) {
	v, err := s.svc.AssessApplicant(ctx, access.FromContext(ctx), req.GetProduct(), req.GetHousehold(), req.GetApplicantMember())
	if err != nil {
		return nil, err
	}
	return &sanzhiv1.AssessCreditResponse{Line: LineOut(v), Decision: DecisionOut(v.Decision)}, nil
}

func (s *Credit) ReportLoanStatus(ctx context.Context, req *sanzhiv1.ReportLoanStatusRequest) (*sanzhiv1.LoanStatus, error) {
	r, err := s.svc.ReportLoanStatus(ctx, access.FromContext(ctx), credit.StatusInput{Line: req.GetLine(),
		EventID: req.GetEventId(), AsOf: req.GetAsOf(), DaysPastDue: int(req.GetDaysPastDue()),
		OverduePrincipal: req.GetOverduePrincipal(), OverdueInterest: req.GetOverdueInterest(),
		Classification: req.GetClassification(), Defaulted: req.GetDefaulted(), WrittenOff: req.GetWrittenOff(),
		Settled: req.GetSettled()})
	if err != nil {
		return nil, err
	}
	out := LoanStatusOut(r.Status, productOf(req.GetLine()))
	out.Replayed = r.Replayed
	return out, nil
}

func (s *Credit) ListLoanStatuses(ctx context.Context, req *sanzhiv1.ListLoanStatusesRequest) (*sanzhiv1.ListLoanStatusesResponse, error) {
	page, err := s.svc.ListLoanStatuses(ctx, access.FromContext(ctx), req.GetLine(), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &sanzhiv1.ListLoanStatusesResponse{NextPageToken: page.NextToken}
	for _, st := range page.Statuses {
		out.LoanStatuses = append(out.LoanStatuses, LoanStatusOut(st, productOf(req.GetLine())))
	}
	return out, nil
}

// productOf is the product of a line name the service has accepted.
func productOf(line string) string {
	_, product, _, _ := credit.ParseLineName(line, "line")
	return product
}

// LoanStatusOut converts a stored report of a line of product.
func LoanStatusOut(st *credit.LoanStatus, product string) *sanzhiv1.LoanStatus {
	return &sanzhiv1.LoanStatus{Name: credit.LoanStatusName(st.Bank, product, st.LineID, st.Seq),
		Line: credit.LineName(st.Bank, product, st.LineID), Household: resource.Household(st.Village, st.HouseholdID),
		EventId: st.EventID, AsOf: string(st.AsOf), DaysPastDue: int32(st.DaysPastDue),
		OverduePrincipal: st.OverduePrincipal.StringFixed(2), OverdueInterest: st.OverdueInterest.StringFixed(2),
		Classification: string(st.Class), Defaulted: st.Defaulted, WrittenOff: st.WrittenOff, Settled: st.Settled,
		Time: timestamppb.New(st.Time)}
}

func (s *Credit) GetCreditLine(ctx context.Context, req *sanzhiv1.GetCreditLineRequest) (*sanzhiv1.CreditLine, error) {
	full := req.GetView() == sanzhiv1.CreditLineView_CREDIT_LINE_VIEW_FULL
	detail := credit.Basic
	if full {
		detail = credit.Full
	}
	v, err := s.svc.GetLine(ctx, access.FromContext(ctx), req.GetProduct(), req.GetHousehold(), req.GetPurpose(), detail)
	if err != nil {
		return nil, err
	}
	return lineOut(v, full), nil
}

func (s *Credit) ListCreditLines(ctx context.Context, req *sanzhiv1.ListCreditLinesRequest) (*sanzhiv1.ListCreditLinesResponse, error) {
	page, err := s.svc.ListLines(ctx, access.FromContext(ctx), req.GetProduct(), req.GetVillage(),
		lending.Status(req.GetStatus()), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &sanzhiv1.ListCreditLinesResponse{NextPageToken: page.NextToken}
	full := req.GetView() == sanzhiv1.CreditLineView_CREDIT_LINE_VIEW_FULL
	for _, l := range page.Views {
		out.Lines = append(out.Lines, lineOut(l, full))
	}
	return out, nil
}

func (s *Credit) ReportDrawdown(ctx context.Context, req *sanzhiv1.ReportDrawdownRequest) (*sanzhiv1.LineTransaction, error) {
	r, err := s.svc.Drawdown(ctx, access.FromContext(ctx), credit.TxInput{Line: req.GetLine(),
		TransactionID: req.GetTransactionId(), Amount: req.GetAmount(), Use: req.GetUse()})
	if err != nil {
		return nil, err
	}
	return txOut(r), nil
}

func (s *Credit) ReportRepayment(ctx context.Context, req *sanzhiv1.ReportRepaymentRequest) (*sanzhiv1.LineTransaction, error) {
	r, err := s.svc.Repayment(ctx, access.FromContext(ctx), credit.TxInput{Line: req.GetLine(),
		TransactionID: req.GetTransactionId(), Amount: req.GetAmount()})
	if err != nil {
		return nil, err
	}
	return txOut(r), nil
}

func (s *Credit) UnfreezeCreditLine(ctx context.Context, req *sanzhiv1.UnfreezeCreditLineRequest) (*sanzhiv1.CreditLine, error) {
	v, err := s.svc.Unfreeze(ctx, access.FromContext(ctx), req.GetName(), req.GetJustification())
	if err != nil {
		return nil, err
	}
	return LineOut(v), nil
}

// WatchCreditLines streams the bank's line events. The authorisation
// interceptor checked the request (role and bank) as it was received.
func (s *Credit) WatchCreditLines(req *sanzhiv1.WatchCreditLinesRequest, stream grpc.ServerStreamingServer[sanzhiv1.CreditLineEvent]) error {
	ctx := stream.Context()
	_, err := credit.ParseBank(req.GetBank(), "bank")
	if err != nil {
		return err
	}
	release, inUse, err := s.watch.acquire(access.FromContext(ctx))
	if err != nil {
		return err
	}
	defer release()
	if err := stream.SendHeader(metadata.Pairs(WatchStreamsHeader, inUse)); err != nil {
		return err
	}
	ctx, cancel := s.watch.bind(ctx)
	defer cancel()
	after := req.GetAfterSeq()
	err = s.svc.Watch(ctx, access.FromContext(ctx), req.GetBank(), after, func(d *credit.Delivery) error {
		e := d.Event
		out := &sanzhiv1.CreditLineEvent{Seq: e.Seq, Id: e.ID, Type: e.Type, Line: credit.EventLineName(e),
			Time: timestamppb.New(e.Time), Payload: string(e.Payload), Basis: string(d.Basis.Kind)}
		if e.HouseholdID != "" {
			out.Household = resource.Household(e.Village, e.HouseholdID)
		}
		if err := stream.Send(out); err != nil {
			return err
		}
		after = e.Seq
		return nil
	})
	if err != nil && s.watch.shuttingDown() && stream.Context().Err() == nil {
		return endedByShutdown(after)
	}
	return err
}

func (s *Credit) ListDecisions(ctx context.Context, req *sanzhiv1.ListDecisionsRequest) (*sanzhiv1.ListDecisionsResponse, error) {
	page, err := s.svc.ListDecisions(ctx, access.FromContext(ctx), req.GetHousehold(), req.GetBank(), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &sanzhiv1.ListDecisionsResponse{NextPageToken: page.NextToken}
	for _, d := range page.Decisions {
		out.Decisions = append(out.Decisions, DecisionOut(d))
	}
	return out, nil
}

func (s *Credit) RequestReview(ctx context.Context, req *sanzhiv1.RequestReviewRequest) (*sanzhiv1.Review, error) {
	r, err := s.svc.RequestReview(ctx, access.FromContext(ctx), req.GetDecision(), req.GetReason())
	if err != nil {
		return nil, err
	}
	_, product, _, _ := credit.ParseDecisionName(req.GetDecision(), "decision")
	return reviewOut(r, product), nil
}

func (s *Credit) ListReviews(ctx context.Context, req *sanzhiv1.ListReviewsRequest) (*sanzhiv1.ListReviewsResponse, error) {
	page, err := s.svc.ListReviews(ctx, access.FromContext(ctx), req.GetParent(), credit.ReviewState(req.GetState()),
		req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &sanzhiv1.ListReviewsResponse{NextPageToken: page.NextToken}
	for _, r := range page.Reviews {
		out.Reviews = append(out.Reviews, reviewOut(r, page.Decisions[r.DecisionID].Product))
	}
	return out, nil
}

func (s *Credit) ResolveReview(ctx context.Context, req *sanzhiv1.ResolveReviewRequest) (*sanzhiv1.ResolveReviewResponse, error) {
	res, err := s.svc.Resolve(ctx, access.FromContext(ctx), credit.Resolution{Review: req.GetName(),
		Override: req.GetOutcome() == "override", Limit: req.GetLimit(), Justification: req.GetJustification()})
	if err != nil {
		return nil, err
	}
	_, product, _, _ := credit.ParseReviewName(req.GetName(), "name")
	out := &sanzhiv1.ResolveReviewResponse{Review: reviewOut(res.Review, product)}
	if res.Decision != nil {
		out.Decision = DecisionOut(res.Decision)
		out.Line = LineOut(res.View)
	}
	return out, nil
}

func (s *Credit) ApproveOverride(ctx context.Context, req *sanzhiv1.ApproveOverrideRequest) (*sanzhiv1.ResolveReviewResponse, error) {
	res, err := s.svc.ApproveOverride(ctx, access.FromContext(ctx), req.GetName(), req.GetLimit())
	if err != nil {
		return nil, err
	}
	_, product, _, _ := credit.ParseReviewName(req.GetName(), "name")
	return &sanzhiv1.ResolveReviewResponse{Review: reviewOut(res.Review, product), Decision: DecisionOut(res.Decision),
		Line: LineOut(res.View)}, nil
}

func (s *Credit) StartReassessment(ctx context.Context, req *sanzhiv1.StartReassessmentRequest) (*sanzhiv1.Reassessment, error) {
	if s.reassess == nil {
		return nil, fault.New(fault.Unavailable, "REASSESSMENT_UNAVAILABLE", "this server does not run re-assessments")
	}
	r, err := s.reassess.Start(ctx, access.FromContext(ctx), req.GetProduct())
	if err != nil {
		return nil, err
	}
	return RunOut(r), nil
}

func (s *Credit) GetReassessment(ctx context.Context, req *sanzhiv1.GetReassessmentRequest) (*sanzhiv1.Reassessment, error) {
	if s.reassess == nil {
		return nil, fault.New(fault.Unavailable, "REASSESSMENT_UNAVAILABLE", "this server does not run re-assessments")
	}
	r, err := s.reassess.Get(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return RunOut(r), nil
}

// RunOut converts a re-assessment run.
func RunOut(r *credit.Run) *sanzhiv1.Reassessment {
	return &sanzhiv1.Reassessment{Name: credit.RunName(r.Bank, r.Product, r.ID), PolicyVersion: int32(r.PolicyVersion),
		State: string(r.State), Done: r.Done, Total: r.Total, Error: r.Error,
		StartTime: timestamppb.New(r.StartTime), UpdateTime: timestamppb.New(r.UpdateTime)}
}

func textsOut(ts []credit.Text) []*sanzhiv1.Explanation {
	out := make([]*sanzhiv1.Explanation, len(ts))
	for i, t := range ts {
		out[i] = &sanzhiv1.Explanation{Code: t.Code, ZhCn: t.ZH, En: t.EN}
	}
	return out
}

// LineOut converts a line view; amounts are strings with two decimals.
func LineOut(v *credit.View) *sanzhiv1.CreditLine { return lineOut(v, true) }

// lineOut converts a line in the basic view (no explanation, no working)
// or the full one.
func lineOut(v *credit.View, full bool) *sanzhiv1.CreditLine {
	l, d := v.Line, v.Decision
	out := &sanzhiv1.CreditLine{Name: credit.LineName(l.Bank, l.Product, l.ID), Household: l.Household,
		Limit: l.Limit.StringFixed(2), Drawn: l.Drawn.StringFixed(2), Available: v.Available().StringFixed(2),
		Rate: l.Rate.String(), Status: string(v.Status), ValidUntil: string(l.ValidUntil),
		Decision: credit.DecisionName(l.Bank, l.Product, l.DecisionID), FreezeReason: l.FreezeReason,
		ExposureCap: l.ExposureCap.StringFixed(2), Version: int32(l.Version), UpdateTime: timestamppb.New(l.UpdateTime),
		ApplicantMember: max(l.ApplicantMember, 1), ReviewOn: string(l.ReviewOn)}
	if d != nil {
		out.Grade, out.Score, out.Eligible = d.Grade, int32(d.Score), d.Eligible
	}
	if !full {
		return out
	}
	if d != nil {
		out.KnockOuts, out.Declines = textsOut(d.Explanation.KnockOuts), textsOut(d.Explanation.Declines)
		out.Reasons, out.Counterfactuals = textsOut(d.Explanation.Reasons), textsOut(d.Explanation.Counterfactuals)
	}
	for _, w := range v.Working {
		st := &sanzhiv1.LimitStep{Step: w.Step, Id: w.ID, Binding: w.Binding,
			Withheld: w.AmountWithheld || w.ResultWithheld, ZhCn: w.Text.ZH, En: w.Text.EN}
		if !w.AmountWithheld && w.Step != credit.StepOverride {
			st.Amount = w.Amount.StringFixed(2)
		}
		if !w.ResultWithheld {
			st.Result = w.Result.StringFixed(2)
		}
		out.LimitSteps = append(out.LimitSteps, st)
	}
	return out
}

// DecisionOut converts a stored decision.
func DecisionOut(d *credit.Decision) *sanzhiv1.Decision {
	out := &sanzhiv1.Decision{Name: credit.DecisionName(d.Bank, d.Product, d.ID),
		Household: resource.Household(d.Village, d.HouseholdID), Kind: string(d.Kind),
		PolicyVersion: int32(d.PolicyVersion), PolicyHash: d.PolicyHash, InputHash: d.InputHash,
		DecidedOn: string(d.On), ValidUntil: string(d.ValidUntil), Eligible: d.Eligible, Score: int32(d.Score),
		Grade: d.Grade, Limit: d.Limit.StringFixed(2), Rate: d.Rate.String(),
		KnockOuts: textsOut(d.Explanation.KnockOuts), Declines: textsOut(d.Explanation.Declines),
		Reasons: textsOut(d.Explanation.Reasons), Counterfactuals: textsOut(d.Explanation.Counterfactuals),
		Justification: d.Justification, DecidedBy: d.DecidedBy, Time: timestamppb.New(d.Time),
		ApplicantMember: max(d.ApplicantMember, 1), ReviewOn: string(d.ReviewOn)}
	if d.Overrides != "" {
		out.Overrides = credit.DecisionName(d.Bank, d.Product, d.Overrides)
	}
	return out
}

func txOut(r *credit.TxResult) *sanzhiv1.LineTransaction {
	t, l := r.Transaction, r.View.Line
	return &sanzhiv1.LineTransaction{Line: credit.LineName(l.Bank, l.Product, l.ID), TransactionId: t.ID,
		Kind: string(t.Kind), Amount: t.Amount.StringFixed(2), Use: string(t.Use), DrawnAfter: t.DrawnAfter.StringFixed(2),
		Time: timestamppb.New(t.Time), Replayed: r.Replayed, CreditLine: LineOut(r.View)}
}

func reviewOut(r *credit.Review, product string) *sanzhiv1.Review {
	out := &sanzhiv1.Review{Name: credit.ReviewName(r.Bank, product, r.ID),
		Decision:  credit.DecisionName(r.Bank, product, r.DecisionID),
		Household: resource.Household(r.Village, r.HouseholdID), Reason: r.Reason, State: string(r.State),
		RequestedBy: r.RequestedBy, RequestTime: timestamppb.New(r.RequestTime), ResolvedBy: r.ResolvedBy,
		Resolution: r.Resolution}
	if r.ResolveTime != nil {
		out.ResolveTime = timestamppb.New(*r.ResolveTime)
	}
	if r.OutcomeDecision != "" {
		out.OutcomeDecision = credit.DecisionName(r.Bank, product, r.OutcomeDecision)
	}
	if r.ProposedBy != "" {
		out.ProposedLimit, out.ProposedBy = r.ProposedLimit.StringFixed(2), r.ProposedBy
		out.ProposalJustification = r.ProposalJustification
		if r.ProposeTime != nil {
			out.ProposeTime = timestamppb.New(*r.ProposeTime)
		}
	}
	return out
}
