package rpc

import (
	"google.golang.org/grpc"

	"github.com/sanzhi/sanzhi/app"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// Serving is how the handlers behave beyond the services they call.
type Serving struct {
	// WatchStreams caps a bank's open WatchCreditLines streams (0: the
	// default).
	WatchStreams int
	// Draining, once closed, ends open watch streams (shutdown).
	Draining <-chan struct{}
}

// Register puts every sanzhi service of a on gs: the one place a handler
// is bound to its services, for sanzhid and the test harnesses alike. The
// evidence service serves both EvidenceService and PointsService.
func Register(gs *grpc.Server, a *app.App, o Serving) {
	sanzhiv1.RegisterHouseholdServiceServer(gs, NewHouseholds(a.Households))
	sanzhiv1.RegisterAuditServiceServer(gs, NewAudit(a.Audit, a.Store).WithCredit(a.Lending))
	sanzhiv1.RegisterCatalogueServiceServer(gs, NewCatalogues(a.Catalogues))
	sanzhiv1.RegisterEvidenceServiceServer(gs, NewEvidence(a.Evidence).WithImportCounter(a.CountImportRows))
	sanzhiv1.RegisterPointsServiceServer(gs, NewPoints(a.Evidence))
	sanzhiv1.RegisterShopServiceServer(gs, NewShop(a.Shop))
	var sim Simulator
	if a.Simulator != nil {
		sim = a.Simulator
	}
	sanzhiv1.RegisterPolicyServiceServer(gs, NewPolicies(a.Policies, sim))
	var bt Backtester
	if a.Backtester != nil {
		bt = a.Backtester
	}
	sanzhiv1.RegisterModelRiskServiceServer(gs, NewModelRisk(bt))
	sanzhiv1.RegisterDividendServiceServer(gs, NewDividends(a.Dividends))
	sanzhiv1.RegisterWebhookServiceServer(gs, NewWebhooks(a.Webhooks))
	sanzhiv1.RegisterConsentServiceServer(gs, NewConsents(a.Lending, a.Store))
	var re Reassessor
	if a.Reassessor != nil {
		re = a.Reassessor
	}
	sanzhiv1.RegisterCreditServiceServer(gs, NewCredit(a.Lending, re).WithCustomers(a).WithWatchLimit(o.WatchStreams).WithShutdown(o.Draining))
}
