package rpc

import (
	"context"
	"errors"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/fault"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// Evidence serves sanzhi.v1.EvidenceService. Each method converts the
// request, calls the domain service once and converts the result: no rules
// live here. (GetNoticeBoard first asks the service whether the caller may
// see the village: a household's village is known only to the store.)
type Evidence struct {
	sanzhiv1.UnimplementedEvidenceServiceServer
	svc *evidence.Service
	// counted is told the rows of every batch written (not a dry run).
	counted func(ctx context.Context, channel string, res []evidence.RowResult)
}

// NewEvidence returns the handler over svc.
func NewEvidence(svc *evidence.Service) *Evidence { return &Evidence{svc: svc} }

// WithImportCounter has the rows of every written batch counted by f
// (app.CountImportRows, for /metrics).
func (s *Evidence) WithImportCounter(f func(ctx context.Context, channel string, res []evidence.RowResult)) *Evidence {
	s.counted = f
	return s
}

func (s *Evidence) SubmitEvidence(ctx context.Context, req *sanzhiv1.SubmitEvidenceRequest) (*sanzhiv1.Evidence, error) {
	e, err := s.svc.Submit(ctx, access.FromContext(ctx), submitIn(req))
	if err != nil {
		return nil, renameFields(err, submitField)
	}
	return EvidenceOut(e, s.svc.Today()), nil
}

func (s *Evidence) BatchSubmitEvidence(ctx context.Context, req *sanzhiv1.BatchSubmitEvidenceRequest) (*sanzhiv1.BatchSubmitEvidenceResponse, error) {
	rows := make([]evidence.SubmitInput, len(req.GetRequests()))
	for i, r := range req.GetRequests() {
		rows[i] = submitIn(r)
	}
	res, err := s.svc.SubmitBatch(ctx, access.FromContext(ctx), req.GetParent(), rows, req.GetDryRun())
	if err != nil {
		return nil, renameFields(err, batchField)
	}
	if s.counted != nil && !req.GetDryRun() {
		s.counted(ctx, "api", res)
	}
	today := s.svc.Today()
	out := &sanzhiv1.BatchSubmitEvidenceResponse{Results: make([]*sanzhiv1.BatchRowResult, len(res))}
	for i, r := range res {
		row := &sanzhiv1.BatchRowResult{Row: int32(r.Row), Duplicate: r.Duplicate}
		if r.Evidence != nil {
			row.Evidence = EvidenceOut(r.Evidence, today)
		}
		if r.Err != nil {
			if fault.KindOf(r.Err) == fault.Internal {
				// Never expected of a row; the chain logs it and hides it.
				return nil, r.Err
			}
			row.Evidence, row.Status = nil, rowStatus(renameFields(r.Err, submitField))
		}
		out.Results[i] = row
	}
	return out, nil
}

func (s *Evidence) ReviewEvidence(ctx context.Context, req *sanzhiv1.ReviewEvidenceRequest) (*sanzhiv1.Evidence, error) {
	var approve bool
	switch req.GetDecision() {
	case sanzhiv1.ReviewDecision_REVIEW_DECISION_APPROVE:
		approve = true
	case sanzhiv1.ReviewDecision_REVIEW_DECISION_REJECT:
	default:
		return nil, fault.InvalidField("decision", "must be APPROVE or REJECT")
	}
	e, err := s.svc.Review(ctx, access.FromContext(ctx), req.GetName(), approve, req.GetReason())
	if err != nil {
		return nil, err
	}
	return EvidenceOut(e, s.svc.Today()), nil
}

func (s *Evidence) ObjectToEvidence(ctx context.Context, req *sanzhiv1.ObjectToEvidenceRequest) (*sanzhiv1.Evidence, error) {
	e, err := s.svc.Object(ctx, access.FromContext(ctx), req.GetName(), req.GetReason())
	if err != nil {
		return nil, err
	}
	return EvidenceOut(e, s.svc.Today()), nil
}

func (s *Evidence) ResolveDispute(ctx context.Context, req *sanzhiv1.ResolveDisputeRequest) (*sanzhiv1.Evidence, error) {
	var uphold bool
	switch req.GetOutcome() {
	case sanzhiv1.DisputeOutcome_DISPUTE_OUTCOME_UPHOLD:
		uphold = true
	case sanzhiv1.DisputeOutcome_DISPUTE_OUTCOME_OVERTURN:
	default:
		return nil, fault.InvalidField("outcome", "must be UPHOLD or OVERTURN")
	}
	e, err := s.svc.Resolve(ctx, access.FromContext(ctx), req.GetName(), uphold, req.GetReason())
	if err != nil {
		return nil, err
	}
	return EvidenceOut(e, s.svc.Today()), nil
}

func (s *Evidence) RevokeEvidence(ctx context.Context, req *sanzhiv1.RevokeEvidenceRequest) (*sanzhiv1.Evidence, error) {
	e, err := s.svc.Revoke(ctx, access.FromContext(ctx), req.GetName(), req.GetReason())
	if err != nil {
		return nil, err
	}
	return EvidenceOut(e, s.svc.Today()), nil
}

func (s *Evidence) GetEvidence(ctx context.Context, req *sanzhiv1.GetEvidenceRequest) (*sanzhiv1.Evidence, error) {
	e, err := s.svc.Get(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return EvidenceOut(e, s.svc.Today()), nil
}

func (s *Evidence) ListEvidence(ctx context.Context, req *sanzhiv1.ListEvidenceRequest) (*sanzhiv1.ListEvidenceResponse, error) {
	// The store keeps "posted"; on notice and effective are the same
	// evidence seen on different days, so they are told apart here.
	state, phase := stateIn(req.GetState())
	page, err := s.svc.List(ctx, evidence.Filter{
		Parent: req.GetParent(), Kind: kindIn(req.GetKind()), State: state, ItemCode: req.GetItemCode(),
	}, req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	today := s.svc.Today()
	resp := &sanzhiv1.ListEvidenceResponse{NextPageToken: page.NextToken}
	for _, e := range page.Evidence {
		if phase != "" && e.Phase(today) != phase {
			continue
		}
		resp.Evidence = append(resp.Evidence, EvidenceOut(e, today))
	}
	return resp, nil
}

func (s *Evidence) GetNoticeBoard(ctx context.Context, req *sanzhiv1.GetNoticeBoardRequest) (*sanzhiv1.GetNoticeBoardResponse, error) {
	if err := s.svc.CheckVillager(ctx, access.FromContext(ctx), household.VillageOf(req.GetParent())); err != nil {
		return nil, err
	}
	page, today, err := s.svc.Board(ctx, req.GetParent(), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	resp := &sanzhiv1.GetNoticeBoardResponse{Today: string(today), NextPageToken: page.NextToken}
	for _, e := range page.Evidence {
		resp.Evidence = append(resp.Evidence, EvidenceOut(e, today))
	}
	return resp, nil
}

// submitIn converts one submission; the service validates every field.
func submitIn(req *sanzhiv1.SubmitEvidenceRequest) evidence.SubmitInput {
	ev := req.GetEvidence()
	in := evidence.SubmitInput{
		Parent:         req.GetParent(),
		Kind:           kindIn(ev.GetKind()),
		ItemCode:       ev.GetItemCode(),
		Quantity:       ev.GetQuantity(),
		Level:          levelIn(ev.GetLevel()),
		Stars:          ev.GetStars(),
		ValidUntil:     ev.GetValidUntil(),
		Period:         ev.GetPeriod(),
		Creditworthy:   ev.GetCreditworthy(),
		ProposedAmount: ev.GetProposedAmount(),
		OccurredOn:     ev.GetOccurredOn(),
		Note:           ev.GetNote(),
		Witness:        ev.GetWitness(),
		SystemSource:   ev.GetSystemSource(),
		RequestID:      req.GetRequestId(),
	}
	for _, a := range ev.GetAttachments() {
		in.Attachments = append(in.Attachments, evidence.Attachment{Kind: attachmentKindIn(a.GetKind()), SHA256: a.GetSha256()})
	}
	return in
}

// submitField maps a field the service names (relative to a submission:
// item_code, attachments[0].sha256, parent, request_id) to its path in
// SubmitEvidenceRequest, where the evidence fields sit under "evidence".
func submitField(f string) string {
	switch f {
	case "parent", "request_id", "":
		return f
	}
	return "evidence." + f
}

// batchField maps the fields of a whole-batch error to
// BatchSubmitEvidenceRequest's: the service's rows are our requests.
func batchField(f string) string {
	if rest, ok := strings.CutPrefix(f, "rows"); ok {
		return "requests" + rest
	}
	return f
}

// renameFields returns err with its field violations renamed by rename
// (and its message rebuilt when it was made from them).
func renameFields(err error, rename func(string) string) error {
	var f *fault.Error
	if !errors.As(err, &f) || len(f.Violations) == 0 {
		return err
	}
	vs := make(fault.Violations, len(f.Violations))
	for i, v := range f.Violations {
		vs[i] = fault.Violation{Field: rename(v.Field), Description: v.Description}
	}
	if f.Kind == fault.Invalid && f.Reason == "INVALID_ARGUMENT" {
		return vs.Err()
	}
	out := *f
	out.Violations = vs
	return &out
}

// rowStatus renders a row's fault as the status SubmitEvidence would have
// returned for it, through the same mapping as every RPC error.
func rowStatus(err error) *sanzhiv1.RowStatus {
	var f *fault.Error
	if !errors.As(err, &f) {
		f = &fault.Error{Kind: fault.Internal, Reason: "INTERNAL", Message: "internal error"}
	}
	st := (&apiError{f: f}).GRPCStatus()
	out := &sanzhiv1.RowStatus{Code: int32(st.Code()), Message: st.Message()}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			out.Reason = d.GetReason()
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				out.FieldViolations = append(out.FieldViolations, &sanzhiv1.FieldViolation{
					Field: v.GetField(), Description: v.GetDescription(),
				})
			}
		}
	}
	return out
}

// EvidenceOut converts evidence to its API form, its state as seen on day
// today.
func EvidenceOut(e *evidence.Evidence, today household.Date) *sanzhiv1.Evidence {
	out := &sanzhiv1.Evidence{
		Name: e.Name(), Household: e.HouseholdName(), Kind: evidenceKindOut(e.Kind), State: phaseOut(e.Phase(today)),
		ItemCode: e.ItemCode, Quantity: e.Quantity, CatalogueHash: e.CatalogueHash,
		Level: levelOut(e.Level), Stars: e.Stars, ValidUntil: string(e.ValidUntil),
		Period: e.Period, Creditworthy: e.Creditworthy,
		OccurredOn: string(e.OccurredOn), Note: e.Note, Witness: e.Witness, SystemSource: e.SystemSource,
		SubmittedBy: e.SubmittedBy, SubmitTime: timestamppb.New(e.SubmitTime),
		ReviewedBy: e.ReviewedBy, ReviewTime: tsOut(e.ReviewTime), ReviewReason: e.ReviewReason,
		NoticeStart: string(e.NoticeStart), NoticeEnd: string(e.NoticeEnd),
		ObjectedBy: e.ObjectedBy, ObjectTime: tsOut(e.ObjectTime), ObjectReason: e.ObjectReason,
		ResolvedBy: e.ResolvedBy, ResolveTime: tsOut(e.ResolveTime), ResolveReason: e.ResolveReason, Upheld: e.Upheld,
		RevokedBy: e.RevokedBy, RevokeTime: tsOut(e.RevokeTime), RevokeReason: e.RevokeReason,
	}
	if e.Kind == evidence.Recommendation {
		out.ProposedAmount = e.ProposedAmount.StringFixed(2)
	}
	for _, a := range e.Attachments {
		out.Attachments = append(out.Attachments, &sanzhiv1.Attachment{Kind: attachmentKindOut(a.Kind), Sha256: a.SHA256})
	}
	return out
}

func tsOut(t *time.Time) *timestamppb.Timestamp {
	if t == nil {
		return nil
	}
	return timestamppb.New(*t)
}

var evidenceKinds = map[sanzhiv1.EvidenceKind]evidence.Kind{
	sanzhiv1.EvidenceKind_EVIDENCE_KIND_POINTS:         evidence.Points,
	sanzhiv1.EvidenceKind_EVIDENCE_KIND_STAR_RATING:    evidence.StarRating,
	sanzhiv1.EvidenceKind_EVIDENCE_KIND_RED_LIST:       evidence.RedList,
	sanzhiv1.EvidenceKind_EVIDENCE_KIND_BLACK_LIST:     evidence.BlackList,
	sanzhiv1.EvidenceKind_EVIDENCE_KIND_RECOMMENDATION: evidence.Recommendation,
}

// kindIn maps UNSPECIFIED to "" (no kind, or no filter).
func kindIn(k sanzhiv1.EvidenceKind) evidence.Kind { return evidenceKinds[k] }

func evidenceKindOut(k evidence.Kind) sanzhiv1.EvidenceKind {
	for pk, dk := range evidenceKinds {
		if dk == k {
			return pk
		}
	}
	return sanzhiv1.EvidenceKind_EVIDENCE_KIND_UNSPECIFIED
}

// stateIn maps a state filter to the stored state and, for the two phases
// of posted evidence, the phase to keep.
func stateIn(s sanzhiv1.EvidenceState) (evidence.State, evidence.Phase) {
	switch s {
	case sanzhiv1.EvidenceState_EVIDENCE_STATE_PENDING_REVIEW:
		return evidence.PendingReview, ""
	case sanzhiv1.EvidenceState_EVIDENCE_STATE_REJECTED:
		return evidence.Rejected, ""
	case sanzhiv1.EvidenceState_EVIDENCE_STATE_ON_NOTICE:
		return evidence.Posted, evidence.OnNotice
	case sanzhiv1.EvidenceState_EVIDENCE_STATE_EFFECTIVE:
		return evidence.Posted, evidence.Effective
	case sanzhiv1.EvidenceState_EVIDENCE_STATE_DISPUTED:
		return evidence.Disputed, ""
	case sanzhiv1.EvidenceState_EVIDENCE_STATE_OVERTURNED:
		return evidence.Overturned, ""
	case sanzhiv1.EvidenceState_EVIDENCE_STATE_REVOKED:
		return evidence.Revoked, ""
	}
	return "", ""
}

func phaseOut(p evidence.Phase) sanzhiv1.EvidenceState {
	switch p {
	case evidence.Phase(evidence.PendingReview):
		return sanzhiv1.EvidenceState_EVIDENCE_STATE_PENDING_REVIEW
	case evidence.Phase(evidence.Rejected):
		return sanzhiv1.EvidenceState_EVIDENCE_STATE_REJECTED
	case evidence.OnNotice:
		return sanzhiv1.EvidenceState_EVIDENCE_STATE_ON_NOTICE
	case evidence.Effective:
		return sanzhiv1.EvidenceState_EVIDENCE_STATE_EFFECTIVE
	case evidence.Phase(evidence.Disputed):
		return sanzhiv1.EvidenceState_EVIDENCE_STATE_DISPUTED
	case evidence.Phase(evidence.Overturned):
		return sanzhiv1.EvidenceState_EVIDENCE_STATE_OVERTURNED
	case evidence.Phase(evidence.Revoked):
		return sanzhiv1.EvidenceState_EVIDENCE_STATE_REVOKED
	}
	return sanzhiv1.EvidenceState_EVIDENCE_STATE_UNSPECIFIED
}

func levelIn(l sanzhiv1.StarLevel) evidence.Level {
	switch l {
	case sanzhiv1.StarLevel_STAR_LEVEL_VILLAGE:
		return evidence.LevelVillage
	case sanzhiv1.StarLevel_STAR_LEVEL_TOWN:
		return evidence.LevelTown
	case sanzhiv1.StarLevel_STAR_LEVEL_COUNTY:
		return evidence.LevelCounty
	}
	return ""
}

func levelOut(l evidence.Level) sanzhiv1.StarLevel {
	switch l {
	case evidence.LevelVillage:
		return sanzhiv1.StarLevel_STAR_LEVEL_VILLAGE
	case evidence.LevelTown:
		return sanzhiv1.StarLevel_STAR_LEVEL_TOWN
	case evidence.LevelCounty:
		return sanzhiv1.StarLevel_STAR_LEVEL_COUNTY
	}
	return sanzhiv1.StarLevel_STAR_LEVEL_UNSPECIFIED
}

func attachmentKindIn(k sanzhiv1.AttachmentKind) string {
	switch k {
	case sanzhiv1.AttachmentKind_ATTACHMENT_KIND_PHOTO:
		return "photo"
	case sanzhiv1.AttachmentKind_ATTACHMENT_KIND_DOCUMENT:
		return "document"
	}
	return ""
}

func attachmentKindOut(k string) sanzhiv1.AttachmentKind {
	switch k {
	case "photo":
		return sanzhiv1.AttachmentKind_ATTACHMENT_KIND_PHOTO
	case "document":
		return sanzhiv1.AttachmentKind_ATTACHMENT_KIND_DOCUMENT
	}
	return sanzhiv1.AttachmentKind_ATTACHMENT_KIND_UNSPECIFIED
}
