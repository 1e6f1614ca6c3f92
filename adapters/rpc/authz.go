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
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/scoring/catalogue"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/idnum"
)

// rule says who may call a method: one of roles, and, when scope is set,
// only on resources the principal's scope covers.
type rule struct {
	roles []access.Role
	scope scopeRule
	// writes marks methods that change state: each must append exactly
	// one audit entry in its transaction (a test holds every such method
	// to that).
	writes bool
}

// scopeRule checks the request against the principal's scope.
type scopeRule func(p *access.Principal, req proto.Message) error

// publicServices need no credentials: probes and tooling must work before
// anyone has a key, and they reveal nothing about households.
var publicServices = []string{
	grpc_health_v1.Health_ServiceDesc.ServiceName,
	"grpc.reflection.v1.ServerReflection",
	"grpc.reflection.v1alpha.ServerReflection",
}

var (
	villageStaff  = []access.Role{access.VillageClerk, access.VillageReviewer}
	householdRead = []access.Role{access.VillageClerk, access.VillageReviewer, access.Regulator, access.Household}
	auditReaders  = []access.Role{access.Regulator, access.VillageClerk, access.VillageReviewer, access.Household}
	// Catalogues are read by the villages that use them, the regulators
	// and the operators who publish the county base.
	catalogueReaders = []access.Role{access.VillageClerk, access.VillageReviewer, access.Regulator, access.Operator}
	// What a village posts for its villagers (the 公示 board, the ranking)
	// is read by its staff, the regulators and its households.
	villagers = []access.Role{access.VillageClerk, access.VillageReviewer, access.Regulator, access.Household}
)

// bankStaff are a bank's loan officers and risk managers.
var bankStaff = []access.Role{access.BankOfficer, access.BankRisk}

// byRole applies household to household principals and bank to bank
// principals (either may be nil: no further check); other roles pass to
// the service, which knows what they may see.
func byRole(household, bank scopeRule) scopeRule {
	return func(p *access.Principal, req proto.Message) error {
		switch {
		case p.Role == access.Household && household != nil:
			return household(p, req)
		case (p.Role == access.BankOfficer || p.Role == access.BankRisk) && bank != nil:
			return bank(p, req)
		}
		return nil
	}
}

// consentIn lets a household principal reach only its own household's
// consents (villages/{v}/households/{h}/consents/{id}).
func consentIn(field string) scopeRule {
	return func(p *access.Principal, req proto.Message) error {
		hh, _, _ := strings.Cut(stringField(req, field), "/consents/")
		if _, id, err := household.ParseName(hh, field); err == nil && id == p.Scope.Household {
			return nil
		}
		return fault.New(fault.PermissionDenied, "OUT_OF_SCOPE", "a household may act on its own consents only")
	}
}

// policyReaders read banks' credit policies.
var policyReaders = []access.Role{access.BankRisk, access.BankOfficer, access.Regulator}

// bankIn lets a bank's principals reach only their bank's resources
// (banks/{bank}/...); regulators reach every bank's.
func bankIn(field string) scopeRule {
	return func(p *access.Principal, req proto.Message) error {
		rest, ok := strings.CutPrefix(stringField(req, field), "banks/")
		if !ok || p.Role == access.Regulator {
			return nil // malformed: the service names the field
		}
		bank, _, _ := strings.Cut(rest, "/")
		if bank == p.Scope.Bank {
			return nil
		}
		return fault.New(fault.PermissionDenied, "OUT_OF_SCOPE", "bank %s is outside the scope of %s", bank, p.Name)
	}
}

// methods is the authorisation table: every RPC the server registers must
// appear here (a test walks the server to check), and a method missing from
// it is denied.
var methods = map[string]rule{
	sanzhiv1.HouseholdService_CreateHousehold_FullMethodName:    {roles: []access.Role{access.VillageClerk}, scope: villageIn("parent"), writes: true},
	sanzhiv1.HouseholdService_UpdateHousehold_FullMethodName:    {roles: []access.Role{access.VillageClerk}, scope: villageIn("household.name"), writes: true},
	sanzhiv1.HouseholdService_GetHousehold_FullMethodName:       {roles: householdRead, scope: householdIn("name")},
	sanzhiv1.HouseholdService_ListHouseholdFacts_FullMethodName: {roles: householdRead, scope: householdIn("parent")},
	sanzhiv1.HouseholdService_ListHouseholds_FullMethodName:     {roles: append(slices.Clone(villageStaff), access.Regulator), scope: villageIn("parent")},
	sanzhiv1.HouseholdService_LookupHousehold_FullMethodName:    {roles: append(slices.Clone(villageStaff), access.Regulator), scope: villageIn("parent")},

	// Checkpoints and consistency proofs reveal only sizes and hashes.
	// GetCheckpoint with refresh sequences queued records but changes no
	// one's data, so it is not a write.
	sanzhiv1.AuditService_GetCheckpoint_FullMethodName:       {roles: auditReaders},
	sanzhiv1.AuditService_GetConsistencyProof_FullMethodName: {roles: auditReaders},
	// GetEntry checks the entry's subject against the scope once read.
	sanzhiv1.AuditService_GetEntry_FullMethodName: {roles: auditReaders},
	sanzhiv1.AuditService_ListEntries_FullMethodName: {roles: auditReaders, scope: func(p *access.Principal, req proto.Message) error {
		return listScope(p, req.(*sanzhiv1.ListEntriesRequest))
	}},

	// Maker-checker: a county base is uploaded by one operator and
	// activated by another; a village document is uploaded by the
	// village's clerk or reviewer and activated by a reviewer of that
	// village other than the uploader (the service refuses self-activation).
	sanzhiv1.CatalogueService_UploadCatalogue_FullMethodName: {
		roles:  []access.Role{access.Operator, access.VillageClerk, access.VillageReviewer},
		scope:  catalogueWrite("parent", []access.Role{access.Operator}, villageStaff),
		writes: true,
	},
	sanzhiv1.CatalogueService_ActivateCatalogue_FullMethodName: {
		roles:  []access.Role{access.Operator, access.VillageReviewer},
		scope:  catalogueWrite("name", []access.Role{access.Operator}, []access.Role{access.VillageReviewer}),
		writes: true,
	},
	// Lint stores nothing and reads only a county base.
	sanzhiv1.CatalogueService_LintCatalogue_FullMethodName:  {roles: catalogueReaders},
	sanzhiv1.CatalogueService_GetCatalogue_FullMethodName:   {roles: catalogueReaders, scope: catalogueRead("name")},
	sanzhiv1.CatalogueService_ListCatalogues_FullMethodName: {roles: catalogueReaders, scope: catalogueRead("parent")},

	// Evidence: a village's clerk or reviewer submits, one of its
	// reviewers other than the submitter approves (the service refuses
	// self-review). A batch appends one audit entry per row it writes.
	sanzhiv1.EvidenceService_SubmitEvidence_FullMethodName:      {roles: villageStaff, scope: villageIn("parent"), writes: true},
	sanzhiv1.EvidenceService_BatchSubmitEvidence_FullMethodName: {roles: villageStaff, scope: villageIn("parent"), writes: true},
	sanzhiv1.EvidenceService_ReviewEvidence_FullMethodName:      {roles: []access.Role{access.VillageReviewer}, scope: villageIn("name"), writes: true},
	sanzhiv1.EvidenceService_ResolveDispute_FullMethodName:      {roles: []access.Role{access.VillageReviewer}, scope: villageIn("name"), writes: true},
	sanzhiv1.EvidenceService_RevokeEvidence_FullMethodName:      {roles: villageStaff, scope: villageIn("name"), writes: true},
	// Households of the village object to its notices themselves; staff
	// record a villager's objection. The service checks a household's
	// village.
	sanzhiv1.EvidenceService_ObjectToEvidence_FullMethodName: {
		roles:  []access.Role{access.Household, access.VillageClerk, access.VillageReviewer},
		scope:  villagerIn("name"),
		writes: true,
	},
	sanzhiv1.EvidenceService_GetEvidence_FullMethodName:  {roles: householdRead, scope: evidenceIn("name")},
	sanzhiv1.EvidenceService_ListEvidence_FullMethodName: {roles: householdRead, scope: householdIn("parent")},
	// The 公示 board is public to the village's households, not to other
	// villages': the handler asks the service (CheckVillager).
	sanzhiv1.EvidenceService_GetNoticeBoard_FullMethodName: {roles: villagers, scope: villagerIn("parent")},

	sanzhiv1.PointsService_GetPoints_FullMethodName:         {roles: householdRead, scope: householdIn("household")},
	sanzhiv1.PointsService_GetStanding_FullMethodName:       {roles: householdRead, scope: householdIn("household")},
	sanzhiv1.PointsService_RedeemPoints_FullMethodName:      {roles: []access.Role{access.VillageClerk}, scope: villageIn("household"), writes: true},
	sanzhiv1.PointsService_GetVillageRanking_FullMethodName: {roles: villagers, scope: villagerIn("parent")},

	// A bank's risk managers write its policies: one uploads, another
	// approves (the service refuses self-approval). Its loan officers and
	// the regulators read them. Linting stores nothing and reveals nothing.
	sanzhiv1.PolicyService_UploadPolicy_FullMethodName:   {roles: []access.Role{access.BankRisk}, scope: bankIn("parent"), writes: true},
	sanzhiv1.PolicyService_ApprovePolicy_FullMethodName:  {roles: []access.Role{access.BankRisk}, scope: bankIn("name"), writes: true},
	sanzhiv1.PolicyService_ActivatePolicy_FullMethodName: {roles: []access.Role{access.BankRisk}, scope: bankIn("name"), writes: true},
	sanzhiv1.PolicyService_LintPolicy_FullMethodName:     {roles: policyReaders},
	sanzhiv1.PolicyService_GetPolicy_FullMethodName:      {roles: policyReaders, scope: bankIn("name")},
	sanzhiv1.PolicyService_ListPolicies_FullMethodName:   {roles: policyReaders, scope: bankIn("parent")},
	sanzhiv1.PolicyService_DiffPolicies_FullMethodName:   {roles: policyReaders, scope: bankIn("name")},
	// A simulation reads every household's snapshot and reports only
	// aggregates and a few sample names: for the bank's risk managers and
	// the regulators.
	sanzhiv1.PolicyService_SimulatePolicy_FullMethodName: {roles: []access.Role{access.BankRisk, access.Regulator}, scope: bankIn("name")},

	// A bank's risk managers set its webhook (and receive its secret) and
	// see its dead letters; operators do the same for every bank.
	sanzhiv1.WebhookService_SetWebhook_FullMethodName:       {roles: webhookAdmins, scope: webhookScope("bank"), writes: true},
	sanzhiv1.WebhookService_GetWebhook_FullMethodName:       {roles: webhookAdmins, scope: webhookScope("name")},
	sanzhiv1.WebhookService_ListDeadLetters_FullMethodName:  {roles: webhookAdmins, scope: webhookScope("parent")},
	sanzhiv1.WebhookService_ReplayDeadLetter_FullMethodName: {roles: webhookAdmins, scope: webhookScope("name"), writes: true},

	// Lending. Consents: a household grants its own in the app; a bank's
	// officer records a counter or paper authorisation for that bank (the
	// service checks the channel and the bank). Every bank read needs a
	// live consent, which the service checks and audits as a query record.
	sanzhiv1.ConsentService_GrantConsent_FullMethodName: {roles: []access.Role{access.Household, access.BankOfficer},
		scope: byRole(householdIn("parent"), bankIn("bank")), writes: true},
	sanzhiv1.ConsentService_RevokeConsent_FullMethodName: {roles: []access.Role{access.Household, access.BankOfficer},
		scope: byRole(consentIn("name"), nil), writes: true},
	sanzhiv1.ConsentService_ListConsents_FullMethodName: {roles: []access.Role{access.Household, access.BankOfficer, access.BankRisk, access.Regulator},
		scope: byRole(householdIn("parent"), nil)},
	// A pending consent a bank recorded is settled by the household itself
	// or countersigned by its village's staff (the service checks both
	// again, and the form's hash).
	sanzhiv1.ConsentService_ConfirmConsent_FullMethodName:     {roles: []access.Role{access.Household}, scope: consentIn("name"), writes: true},
	sanzhiv1.ConsentService_RefuseConsent_FullMethodName:      {roles: []access.Role{access.Household}, scope: consentIn("name"), writes: true},
	sanzhiv1.ConsentService_CountersignConsent_FullMethodName: {roles: villageStaff, scope: villageIn("name"), writes: true},
	// Who looked at a household's credit: the household and the regulators.
	sanzhiv1.ConsentService_ListQueryRecords_FullMethodName: {roles: []access.Role{access.Household, access.Regulator},
		scope: householdIn("parent")},
	sanzhiv1.CreditService_AssessCredit_FullMethodName:  {roles: bankStaff, scope: bankIn("product"), writes: true},
	sanzhiv1.CreditService_GetCreditLine_FullMethodName: {roles: bankStaff, scope: bankIn("product")},
	sanzhiv1.CreditService_ListCreditLines_FullMethodName: {roles: append(slices.Clone(bankStaff), access.Regulator),
		scope: bankIn("product")},
	sanzhiv1.CreditService_ReportDrawdown_FullMethodName:     {roles: []access.Role{access.BankOfficer}, scope: bankIn("line"), writes: true},
	sanzhiv1.CreditService_ReportRepayment_FullMethodName:    {roles: []access.Role{access.BankOfficer}, scope: bankIn("line"), writes: true},
	sanzhiv1.CreditService_UnfreezeCreditLine_FullMethodName: {roles: []access.Role{access.BankRisk}, scope: bankIn("name"), writes: true},
	// The handler checks the bank of a stream.
	sanzhiv1.CreditService_WatchCreditLines_FullMethodName: {roles: append(slices.Clone(bankStaff), access.Regulator)},
	// Decisions about a household: the household, the regulators, and a
	// bank for its own (the service requires the bank filter).
	sanzhiv1.CreditService_ListDecisions_FullMethodName: {roles: []access.Role{access.Household, access.Regulator, access.BankOfficer, access.BankRisk},
		scope: byRole(householdIn("household"), bankIn("bank"))},
	// Human review (PIPL art. 24): the household asks (the service checks
	// the decision is about it), the bank's staff resolve.
	sanzhiv1.CreditService_RequestReview_FullMethodName: {roles: []access.Role{access.Household}, writes: true},
	sanzhiv1.CreditService_ListReviews_FullMethodName: {roles: []access.Role{access.Household, access.Regulator, access.BankOfficer, access.BankRisk},
		scope: byRole(householdIn("parent"), bankIn("parent"))},
	sanzhiv1.CreditService_ResolveReview_FullMethodName:     {roles: bankStaff, scope: bankIn("name"), writes: true},
	sanzhiv1.CreditService_ApproveOverride_FullMethodName:   {roles: bankStaff, scope: bankIn("name"), writes: true},
	sanzhiv1.CreditService_StartReassessment_FullMethodName: {roles: []access.Role{access.BankRisk}, scope: bankIn("product"), writes: true},
	sanzhiv1.CreditService_GetReassessment_FullMethodName:   {roles: append(slices.Clone(bankStaff), access.Regulator), scope: bankIn("name")},

	// The load-test floors (registered only with --bench-floors) are open
	// to any authenticated principal, so that a benchmark calls them with
	// the same key and the same chain as the RPC it measures. InsertOne
	// writes only its own bench_floor table, no one's data: it is not an
	// audited write.
	sanzhiv1.FloorService_Empty_FullMethodName:     {roles: access.Roles},
	sanzhiv1.FloorService_InsertOne_FullMethodName: {roles: access.Roles},
	sanzhiv1.FloorService_SelectOne_FullMethodName: {roles: access.Roles},
}

func isPublic(method string) bool {
	svc, _, _ := strings.Cut(strings.TrimPrefix(method, "/"), "/")
	return slices.Contains(publicServices, svc)
}

// Authorize decides whether p may call method with req.
func Authorize(p *access.Principal, method string, req proto.Message) error {
	if isPublic(method) {
		return nil
	}
	r, ok := methods[method]
	if !ok {
		return fault.New(fault.PermissionDenied, "METHOD_NOT_ALLOWED", "%s is not open to any role", method)
	}
	if p == nil {
		return fault.New(fault.Unauthenticated, "UNAUTHENTICATED", "missing credentials")
	}
	if !slices.Contains(r.roles, p.Role) {
		return fault.New(fault.PermissionDenied, "ROLE_NOT_ALLOWED", "role %s may not call %s", p.Role, method)
	}
	if r.scope != nil {
		return r.scope(p, req)
	}
	return nil
}

// villageIn requires the village named by the resource name in field to be
// in the principal's scope. Regulators see every village.
func villageIn(field string) scopeRule {
	return func(p *access.Principal, req proto.Message) error {
		village := household.VillageOf(stringField(req, field))
		if _, err := idnum.ParseVillageCode(village); err != nil {
			// A malformed name reaches no data: the service rejects it
			// with a field violation, a better answer than "denied".
			return nil
		}
		if p.CoversVillage(village) {
			return nil
		}
		return fault.New(fault.PermissionDenied, "OUT_OF_SCOPE", "village %s is outside the scope of %s", village, p.Name)
	}
}

// householdIn is villageIn, plus: a household principal reaches only its
// own household.
func householdIn(field string) scopeRule {
	byVillage := villageIn(field)
	return func(p *access.Principal, req proto.Message) error {
		if p.Role != access.Household {
			return byVillage(p, req)
		}
		name := stringField(req, field)
		if _, id, err := household.ParseName(name, field); err == nil && id == p.Scope.Household {
			return nil
		}
		return fault.New(fault.PermissionDenied, "OUT_OF_SCOPE", "a household may read only its own record")
	}
}

// villagerIn is villageIn for staff and regulators. A household principal
// passes here: whether its household is of the village is known only to
// the store, so the service checks it (evidence.Service.CheckVillager,
// and Object itself).
func villagerIn(field string) scopeRule {
	byVillage := villageIn(field)
	return func(p *access.Principal, req proto.Message) error {
		if p.Role == access.Household {
			return nil
		}
		return byVillage(p, req)
	}
}

// evidenceIn is householdIn for an evidence name
// (villages/{v}/households/{h}/evidence/{id}): a household principal
// reaches only its own household's evidence.
func evidenceIn(field string) scopeRule {
	byVillage := villageIn(field)
	return func(p *access.Principal, req proto.Message) error {
		if p.Role != access.Household {
			return byVillage(p, req)
		}
		if _, hh, _, err := evidence.ParseName(stringField(req, field), field); err == nil && hh == p.Scope.Household {
			return nil
		}
		return fault.New(fault.PermissionDenied, "OUT_OF_SCOPE", "a household may read only its own evidence")
	}
}

// catalogueWrite lets countyRoles change county catalogues and
// villageRoles change the catalogues of villages in their scope, by the
// resource name in field.
func catalogueWrite(field string, countyRoles, villageRoles []access.Role) scopeRule {
	return func(p *access.Principal, req proto.Message) error {
		o, ok := catalogue.OwnerOf(stringField(req, field))
		if !ok {
			return nil // malformed: the service names the field
		}
		if o.Kind == catalogue.County {
			if slices.Contains(countyRoles, p.Role) {
				return nil
			}
			return fault.New(fault.PermissionDenied, "ROLE_NOT_ALLOWED", "role %s may not change county catalogues", p.Role)
		}
		if !slices.Contains(villageRoles, p.Role) {
			return fault.New(fault.PermissionDenied, "ROLE_NOT_ALLOWED", "role %s may not do this to village catalogues", p.Role)
		}
		if _, err := idnum.ParseVillageCode(o.Code); err != nil {
			return nil
		}
		if p.CoversVillage(o.Code) {
			return nil
		}
		return fault.New(fault.PermissionDenied, "OUT_OF_SCOPE", "village %s is outside the scope of %s", o.Code, p.Name)
	}
}

// catalogueRead lets regulators and operators read every catalogue, and
// village staff their villages' catalogues and the base of their counties.
func catalogueRead(field string) scopeRule {
	return func(p *access.Principal, req proto.Message) error {
		o, ok := catalogue.OwnerOf(stringField(req, field))
		if !ok || p.Role == access.Regulator || p.Role == access.Operator {
			return nil
		}
		if o.Kind == catalogue.County {
			if _, err := catalogue.ParseParent("counties/"+o.Code, field); err != nil {
				return nil
			}
			for _, v := range p.Scope.Villages {
				if strings.HasPrefix(v, o.Code) {
					return nil
				}
			}
			return fault.New(fault.PermissionDenied, "OUT_OF_SCOPE", "county %s is outside the scope of %s", o.Code, p.Name)
		}
		if _, err := idnum.ParseVillageCode(o.Code); err != nil {
			return nil
		}
		if p.CoversVillage(o.Code) {
			return nil
		}
		return fault.New(fault.PermissionDenied, "OUT_OF_SCOPE", "village %s is outside the scope of %s", o.Code, p.Name)
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

func authorization() Interceptor {
	return Interceptor{
		Name: "authorization",
		Unary: func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			m, _ := req.(proto.Message)
			if err := Authorize(access.FromContext(ctx), info.FullMethod, m); err != nil {
				return nil, err
			}
			return h(ctx, req)
		},
		// Streams are authorised on role at open; scope rules that need the
		// request are checked per message by the stream's handler.
		Stream: func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			if isPublic(info.FullMethod) {
				return h(srv, ss)
			}
			r, ok := methods[info.FullMethod]
			p := access.FromContext(ss.Context())
			if !ok || p == nil || !slices.Contains(r.roles, p.Role) {
				return fault.New(fault.PermissionDenied, "METHOD_NOT_ALLOWED", "%s is not open to this caller", info.FullMethod)
			}
			return h(srv, ss)
		},
	}
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

// WritingMethods lists the methods marked as writes, for tests.
func WritingMethods() []string {
	var out []string
	for m, r := range methods {
		if r.writes {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out
}

// IsPublic reports whether method needs no credentials, for tests.
func IsPublic(method string) bool { return isPublic(method) }
