package rpc

import (
	"context"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/idnum"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/catalogue"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// binding is the gRPC face of the authorisation policy (access.Authorise):
// the action a method asks for, and the request fields whose resource
// names say what it is on. Every RPC the server registers must appear in
// methods (a test walks the server to check); a method missing from it is
// denied. No rule lives here: who may do what is access's policy.
type binding struct {
	action access.Action
	// on lists the fields (dotted paths) holding resource names; each
	// fills what it names of the target.
	on []string
}

// publicServices need no credentials: probes and tooling must work before
// anyone has a key, and they reveal nothing about households.
var publicServices = []string{
	grpc_health_v1.Health_ServiceDesc.ServiceName,
	"grpc.reflection.v1.ServerReflection",
	"grpc.reflection.v1alpha.ServerReflection",
}

func on(a access.Action, fields ...string) binding { return binding{action: a, on: fields} }

// methods binds every RPC to its action.
var methods = map[string]binding{
	sanzhiv1.HouseholdService_CreateHousehold_FullMethodName:    on(access.HouseholdCreate, "parent"),
	sanzhiv1.HouseholdService_UpdateHousehold_FullMethodName:    on(access.HouseholdUpdate, "household.name"),
	sanzhiv1.HouseholdService_GetHousehold_FullMethodName:       on(access.HouseholdRead, "name"),
	sanzhiv1.HouseholdService_ListHouseholdFacts_FullMethodName: on(access.HouseholdRead, "parent"),
	sanzhiv1.HouseholdService_ListHouseholds_FullMethodName:     on(access.HouseholdList, "parent"),
	sanzhiv1.HouseholdService_LookupHousehold_FullMethodName:    on(access.HouseholdLookup, "parent"),

	sanzhiv1.AuditService_GetCheckpoint_FullMethodName:       on(access.AuditCheckpoint),
	sanzhiv1.AuditService_GetConsistencyProof_FullMethodName: on(access.AuditCheckpoint),
	sanzhiv1.AuditService_GetEntry_FullMethodName:            on(access.AuditEntryRead),
	sanzhiv1.AuditService_ListEntries_FullMethodName:         on(access.AuditEntryRead),
	sanzhiv1.AuditService_ExportEntries_FullMethodName:       on(access.AuditExport),
	sanzhiv1.AuditService_ReplayDecision_FullMethodName:      on(access.DecisionReplay, "decision"),
	sanzhiv1.AuditService_GetDecisionReceipt_FullMethodName:  on(access.DecisionReceipt, "decision"),

	sanzhiv1.CatalogueService_UploadCatalogue_FullMethodName:   on(access.CatalogueUpload, "parent"),
	sanzhiv1.CatalogueService_ActivateCatalogue_FullMethodName: on(access.CatalogueActivate, "name"),
	sanzhiv1.CatalogueService_LintCatalogue_FullMethodName:     on(access.CatalogueLint),
	sanzhiv1.CatalogueService_GetCatalogue_FullMethodName:      on(access.CatalogueRead, "name"),
	sanzhiv1.CatalogueService_ListCatalogues_FullMethodName:    on(access.CatalogueRead, "parent"),

	sanzhiv1.EvidenceService_SubmitEvidence_FullMethodName:      on(access.EvidenceSubmit, "parent"),
	sanzhiv1.EvidenceService_BatchSubmitEvidence_FullMethodName: on(access.EvidenceSubmit, "parent"),
	sanzhiv1.EvidenceService_ReviewEvidence_FullMethodName:      on(access.EvidenceReview, "name"),
	sanzhiv1.EvidenceService_ResolveDispute_FullMethodName:      on(access.EvidenceResolve, "name"),
	sanzhiv1.EvidenceService_RevokeEvidence_FullMethodName:      on(access.EvidenceRevoke, "name"),
	sanzhiv1.EvidenceService_ObjectToEvidence_FullMethodName:    on(access.EvidenceObject, "name"),
	sanzhiv1.EvidenceService_GetEvidence_FullMethodName:         on(access.EvidenceRead, "name"),
	sanzhiv1.EvidenceService_ListEvidence_FullMethodName:        on(access.EvidenceRead, "parent"),
	sanzhiv1.EvidenceService_GetNoticeBoard_FullMethodName:      on(access.NoticeBoardRead, "parent"),

	sanzhiv1.PointsService_GetPoints_FullMethodName:         on(access.PointsRead, "household"),
	sanzhiv1.PointsService_GetStanding_FullMethodName:       on(access.PointsRead, "household"),
	sanzhiv1.PointsService_RedeemPoints_FullMethodName:      on(access.PointsRedeem, "household"),
	sanzhiv1.PointsService_GetVillageRanking_FullMethodName: on(access.RankingRead, "parent"),

	sanzhiv1.ShopService_ListGoods_FullMethodName:        on(access.ShopGoodRead, "parent"),
	sanzhiv1.ShopService_GetGood_FullMethodName:          on(access.ShopGoodRead, "name"),
	sanzhiv1.ShopService_CreateGood_FullMethodName:       on(access.ShopGoodWrite, "parent"),
	sanzhiv1.ShopService_UpdateGood_FullMethodName:       on(access.ShopGoodWrite, "name"),
	sanzhiv1.ShopService_ArchiveGood_FullMethodName:      on(access.ShopGoodWrite, "name"),
	sanzhiv1.ShopService_RecordArrival_FullMethodName:    on(access.ShopArrival, "good"),
	sanzhiv1.ShopService_Redeem_FullMethodName:           on(access.ShopRedeem, "household"),
	sanzhiv1.ShopService_GetReceipt_FullMethodName:       on(access.ShopReceiptRead, "name"),
	sanzhiv1.ShopService_ListRedemptions_FullMethodName:  on(access.ShopReceiptRead, "parent"),
	sanzhiv1.ShopService_GetMonthlyReport_FullMethodName: on(access.ShopReportRead, "parent"),

	sanzhiv1.PolicyService_UploadPolicy_FullMethodName:       on(access.PolicyUpload, "parent"),
	sanzhiv1.PolicyService_ApprovePolicy_FullMethodName:      on(access.PolicyApprove, "name"),
	sanzhiv1.PolicyService_ActivatePolicy_FullMethodName:     on(access.PolicyActivate, "name"),
	sanzhiv1.PolicyService_LintPolicy_FullMethodName:         on(access.PolicyLint),
	sanzhiv1.PolicyService_GetPolicy_FullMethodName:          on(access.PolicyRead, "name"),
	sanzhiv1.PolicyService_ListPolicies_FullMethodName:       on(access.PolicyRead, "parent"),
	sanzhiv1.PolicyService_DiffPolicies_FullMethodName:       on(access.PolicyRead, "name"),
	sanzhiv1.PolicyService_SimulatePolicy_FullMethodName:     on(access.PolicySimulate, "name"),
	sanzhiv1.PolicyService_StartChallenger_FullMethodName:    on(access.PolicyChallenge, "name"),
	sanzhiv1.PolicyService_StopChallenger_FullMethodName:     on(access.PolicyChallenge, "parent"),
	sanzhiv1.PolicyService_GetChallenger_FullMethodName:      on(access.PolicyChallengerRead, "parent"),
	sanzhiv1.PolicyService_EvaluatePolicyGate_FullMethodName: on(access.PolicyGateEvaluate, "name"),
	sanzhiv1.PolicyService_GetPolicyGate_FullMethodName:      on(access.PolicyGateRead, "name"),

	sanzhiv1.ModelRiskService_GetBacktestReport_FullMethodName: on(access.PolicyBacktest, "name"),

	sanzhiv1.WebhookService_SetWebhook_FullMethodName:       on(access.WebhookSet, "bank"),
	sanzhiv1.WebhookService_GetWebhook_FullMethodName:       on(access.WebhookRead, "name"),
	sanzhiv1.WebhookService_ListDeadLetters_FullMethodName:  on(access.WebhookRead, "parent"),
	sanzhiv1.WebhookService_ReplayDeadLetter_FullMethodName: on(access.WebhookReplay, "name"),

	sanzhiv1.ConsentService_GrantConsent_FullMethodName:       on(access.ConsentGrant, "parent", "bank"),
	sanzhiv1.ConsentService_RevokeConsent_FullMethodName:      on(access.ConsentRevoke, "name"),
	sanzhiv1.ConsentService_ListConsents_FullMethodName:       on(access.ConsentList, "parent"),
	sanzhiv1.ConsentService_ListQueryRecords_FullMethodName:   on(access.QueryRecordList, "parent"),
	sanzhiv1.ConsentService_ConfirmConsent_FullMethodName:     on(access.ConsentConfirm, "name"),
	sanzhiv1.ConsentService_RefuseConsent_FullMethodName:      on(access.ConsentConfirm, "name"),
	sanzhiv1.ConsentService_CountersignConsent_FullMethodName: on(access.ConsentCountersign, "name"),

	sanzhiv1.CreditService_AssessCredit_FullMethodName:       on(access.CreditAssess, "product"),
	sanzhiv1.CreditService_GetCreditLine_FullMethodName:      on(access.CreditRead, "product"),
	sanzhiv1.CreditService_ListCreditLines_FullMethodName:    on(access.CreditList, "product"),
	sanzhiv1.CreditService_ReportDrawdown_FullMethodName:     on(access.CreditDraw, "line"),
	sanzhiv1.CreditService_ReportRepayment_FullMethodName:    on(access.CreditDraw, "line"),
	sanzhiv1.CreditService_UnfreezeCreditLine_FullMethodName: on(access.CreditUnfreeze, "name"),
	sanzhiv1.CreditService_WatchCreditLines_FullMethodName:   on(access.CreditWatch, "bank"),
	sanzhiv1.CreditService_ListDecisions_FullMethodName:      on(access.DecisionList, "household", "bank"),
	sanzhiv1.CreditService_RequestReview_FullMethodName:      on(access.ReviewRequest, "decision"),
	sanzhiv1.CreditService_ListReviews_FullMethodName:        on(access.ReviewList, "parent"),
	sanzhiv1.CreditService_ResolveReview_FullMethodName:      on(access.ReviewResolve, "name"),
	sanzhiv1.CreditService_ApproveOverride_FullMethodName:    on(access.OverrideApprove, "name"),
	sanzhiv1.CreditService_StartReassessment_FullMethodName:  on(access.ReassessmentStart, "product"),
	sanzhiv1.CreditService_GetReassessment_FullMethodName:    on(access.ReassessmentRead, "name"),
	sanzhiv1.CreditService_LookupCustomer_FullMethodName:     on(access.CustomerLookup, "bank"),
	sanzhiv1.CreditService_ReportLoanStatus_FullMethodName:   on(access.LoanStatusReport, "line"),
	sanzhiv1.CreditService_ListLoanStatuses_FullMethodName:   on(access.LoanStatusList, "line"),

	sanzhiv1.DividendService_UploadDividendRule_FullMethodName:   on(access.DividendRuleUpload, "parent"),
	sanzhiv1.DividendService_LintDividendRule_FullMethodName:     on(access.DividendRuleLint),
	sanzhiv1.DividendService_ActivateDividendRule_FullMethodName: on(access.DividendRuleActivate, "name"),
	sanzhiv1.DividendService_GetDividendRule_FullMethodName:      on(access.DividendRuleRead, "name"),
	sanzhiv1.DividendService_ListDividendRules_FullMethodName:    on(access.DividendRuleRead, "parent"),
	sanzhiv1.DividendService_CreateRound_FullMethodName:          on(access.DividendRoundCreate, "parent"),
	sanzhiv1.DividendService_GetRound_FullMethodName:             on(access.DividendRoundRead, "name"),
	sanzhiv1.DividendService_ListRounds_FullMethodName:           on(access.DividendRoundRead, "parent"),
	sanzhiv1.DividendService_ReviewRound_FullMethodName:          on(access.DividendRoundReview, "name"),
	sanzhiv1.DividendService_ObjectToAllocation_FullMethodName:   on(access.DividendObject, "round", "household"),
	sanzhiv1.DividendService_ListObjections_FullMethodName:       on(access.DividendRoundRead, "parent"),
	sanzhiv1.DividendService_ResolveObjection_FullMethodName:     on(access.DividendResolve, "name"),
	sanzhiv1.DividendService_ApproveRound_FullMethodName:         on(access.DividendRoundApprove, "name"),
	sanzhiv1.DividendService_ListAllocations_FullMethodName:      on(access.DividendRoundRead, "parent"),
	sanzhiv1.DividendService_GetStatement_FullMethodName:         on(access.DividendStatement, "round", "household"),
	sanzhiv1.DividendService_ExportPayout_FullMethodName:         on(access.DividendPayout, "name"),
	sanzhiv1.DividendService_VerifyRound_FullMethodName:          on(access.DividendRoundRead, "name"),

	sanzhiv1.FloorService_Empty_FullMethodName:     on(access.BenchFloor),
	sanzhiv1.FloorService_InsertOne_FullMethodName: on(access.BenchFloorWrite),
	sanzhiv1.FloorService_SelectOne_FullMethodName: on(access.BenchFloor),
}

func isPublic(method string) bool {
	svc, _, _ := strings.Cut(strings.TrimPrefix(method, "/"), "/")
	return slices.Contains(publicServices, svc)
}

// Authorise decides whether p may call method with req: it reads the
// target from req and asks the policy.
func Authorise(p *access.Principal, method string, req proto.Message) error {
	if isPublic(method) {
		return nil
	}
	b, ok := methods[method]
	if !ok {
		return fault.New(fault.PermissionDenied, "METHOD_NOT_ALLOWED", "%s is not open to any role", method)
	}
	action := b.action
	// Refreshing the checkpoint signs a new one: a separate action.
	if r, ok := req.(*sanzhiv1.GetCheckpointRequest); ok && r.GetRefresh() {
		action = access.AuditRefresh
	}
	return access.Authorise(p, action, targetOf(req, b.on))
}

// targetOf reads the target from the resource names in req's fields.
func targetOf(req proto.Message, fields []string) access.Target {
	var t access.Target
	if req == nil {
		return t
	}
	for _, f := range fields {
		named(&t, stringField(req, f))
	}
	return t
}

// Target is what the resource names say, for transports that hold names
// rather than requests (the CLI): they ask access.Authorise with it.
func Target(names ...string) access.Target {
	var t access.Target
	for _, n := range names {
		named(&t, n)
	}
	return t
}

// named fills t with what the resource name says: villages/{v}[/households/{h}/…],
// counties/{c}/…, banks/{b}/…. Malformed parts are left empty: the service
// rejects them with a field violation.
func named(t *access.Target, name string) {
	coll, rest, ok := strings.Cut(name, "/")
	if !ok {
		return
	}
	id, _, _ := strings.Cut(rest, "/")
	switch coll {
	case "villages":
		if _, err := idnum.ParseVillageCode(id); err != nil {
			return
		}
		t.Village = id
		parts := strings.SplitN(name, "/", 5)
		if len(parts) >= 4 && parts[2] == "households" {
			if _, hh, err := household.ParseName(strings.Join(parts[:4], "/"), "name"); err == nil {
				t.Household = hh
			}
		}
	case "counties":
		if _, err := catalogue.ParseParent(resource.County(id), "name"); err == nil {
			t.County = id
		}
	case "banks":
		if id != "" {
			t.Bank = id
		}
	}
}

// stringField reads a dotted path of singular fields, e.g. "household.name".
func stringField(m proto.Message, path string) string {
	msg := m.ProtoReflect()
	parts := strings.Split(path, ".")
	for i, part := range parts {
		fd := msg.Descriptor().Fields().ByName(protoreflect.Name(part))
		if fd == nil {
			return ""
		}
		if i == len(parts)-1 {
			if fd.Kind() != protoreflect.StringKind {
				return ""
			}
			return msg.Get(fd).String()
		}
		if fd.Message() == nil || !msg.Has(fd) {
			return ""
		}
		msg = msg.Get(fd).Message()
	}
	return ""
}

func authorisation() Interceptor {
	return Interceptor{
		Name: "authorisation",
		Unary: func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			m, _ := req.(proto.Message)
			if err := Authorise(access.FromContext(ctx), info.FullMethod, m); err != nil {
				return nil, err
			}
			return h(ctx, req)
		},
		// A stream is authorised on its request: the first message the
		// handler receives passes the same policy as a unary call's, before
		// the handler sees it.
		Stream: func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			if isPublic(info.FullMethod) {
				return h(srv, ss)
			}
			p := access.FromContext(ss.Context())
			if _, ok := methods[info.FullMethod]; !ok || p == nil {
				return Authorise(p, info.FullMethod, nil)
			}
			return h(srv, &authorisedStream{ServerStream: ss, method: info.FullMethod, p: p})
		},
	}
}

// authorisedStream checks each request message it receives.
type authorisedStream struct {
	grpc.ServerStream
	method string
	p      *access.Principal
}

func (s *authorisedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	msg, _ := m.(proto.Message)
	return Authorise(s.p, s.method, msg)
}

// Methods lists the table's methods, for tests.
func Methods() []string {
	var out []string
	for m := range methods {
		out = append(out, m)
	}
	slices.Sort(out)
	return out
}

// WritingMethods lists the methods whose action is a write, for tests.
func WritingMethods() []string {
	var out []string
	for m, b := range methods {
		if r, _ := access.RuleOf(b.action); r.Writes {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out
}

// ActionOf returns the policy action method asks for, for tests and the
// generated scope matrix.
func ActionOf(method string) (access.Action, bool) {
	b, ok := methods[method]
	return b.action, ok
}

// IsPublic reports whether method needs no credentials, for tests.
func IsPublic(method string) bool { return isPublic(method) }
