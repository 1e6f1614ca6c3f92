package rpc_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// The scope matrix: every RPC × every role × {own scope, other scope,
// cnty} against the expected answer, from one table written here by
// hand — not derived from the policy it checks — on both stores, through
// the real chain. A cell is "allowed" when the answer is anything but
// PERMISSION_DENIED or UNAUTHENTICATED: requests are built to pass
// authorisation and then stop harmlessly (a missing field, an id that does
// not exist), so the matrix checks who may ask, not what the service does.
// What a bank may learn about a household under each consent state is the
// lawful-basis matrix (TestLawfulBasisMatrix).

// side is where a request points, from the caller's view.
type side string

const (
	own   side = "own"    // the caller's village, household or bank
	other side = "other"  // another village, household and bank
	cnty  side = "county" // the cnty's own resources (catalogue base)
)

// reach is how far a role's grant extends, in this test's words.
type reach string

const (
	anyScope reach = "any"   // every side
	ownScope reach = "own"   // own side only
	ownCnty  reach = "own+c" // own side and the cnty of its villages
	cntyOnly reach = "c"     // the cnty only
	storeChk reach = "store" // own side only, checked by the service against stored data
)

// matrixCallers: the principal that plays each role (nil name: no
// credentials).
var matrixCallers = []struct{ role, name string }{
	{"clerk", "clerk-a"},
	{"reviewer", "reviewer-a"},
	{"household", "hh"}, // the household principal of world.hhA
	{"officer", "officer"},
	{"risk", "risk-1"},
	{"regulator", "regulator"},
	{"operator", "operator"},
	{"anonymous", ""},
}

// world holds the names a request can point at, per side.
type world struct {
	hh       map[side]string // household names
	decision map[side]string // a real decision about each side's household
}

func (w *world) village(s side) string {
	if s == own {
		return "villages/" + villageA
	}
	return "villages/" + villageB
}

func (w *world) bank(s side) string {
	if s == own {
		return "banks/" + strings.TrimPrefix(bankName, "banks/")
	}
	return "banks/other-bank"
}

func (w *world) product(s side) string { return w.bank(s) + "/products/sanzhi-xindai" }

// catalogueParent is a village's catalogue collection, or the cnty's.
func (w *world) catalogueParent(s side) string {
	if s == cnty {
		return "counties/330483"
	}
	return w.village(s)
}

type matrixRow struct {
	method string
	grants map[string]reach // role -> reach; a role missing may not call
	// req builds the request for a side; nil when the method has no such
	// side (only catalogues have a cnty side).
	req func(w *world, s side, role string) proto.Message
	// refresh-style variants of the same RPC get their own row name.
	variant string
}

func g(spec string) map[string]reach {
	out := map[string]reach{}
	for _, f := range strings.Fields(spec) {
		role, r, _ := strings.Cut(f, ":")
		out[role] = reach(r)
	}
	return out
}

// noCounty wraps a builder for methods without a cnty side.
func noCounty(f func(w *world, s side) proto.Message) func(*world, side, string) proto.Message {
	return func(w *world, s side, _ string) proto.Message {
		if s == cnty {
			return nil
		}
		return f(w, s)
	}
}

func missing() string { return uuid.Must(uuid.NewV7()).String() }

var matrix = []matrixRow{
	// Households.
	{method: sanzhiv1.HouseholdService_CreateHousehold_FullMethodName, grants: g("clerk:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.CreateHouseholdRequest{Parent: w.village(s), RequestId: "matrix"}
		})},
	{method: sanzhiv1.HouseholdService_UpdateHousehold_FullMethodName, grants: g("clerk:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.UpdateHouseholdRequest{Household: &sanzhiv1.Household{Name: w.hh[s]}}
		})},
	{method: sanzhiv1.HouseholdService_GetHousehold_FullMethodName, grants: g("clerk:own reviewer:own regulator:any household:own"),
		req: noCounty(func(w *world, s side) proto.Message { return &sanzhiv1.GetHouseholdRequest{Name: w.hh[s]} })},
	{method: sanzhiv1.HouseholdService_ListHouseholdFacts_FullMethodName, grants: g("clerk:own reviewer:own regulator:any household:own"),
		req: noCounty(func(w *world, s side) proto.Message { return &sanzhiv1.ListHouseholdFactsRequest{Parent: w.hh[s]} })},
	{method: sanzhiv1.HouseholdService_ListHouseholds_FullMethodName, grants: g("clerk:own reviewer:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message { return &sanzhiv1.ListHouseholdsRequest{Parent: w.village(s)} })},
	{method: sanzhiv1.HouseholdService_LookupHousehold_FullMethodName, grants: g("clerk:own reviewer:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message { return &sanzhiv1.LookupHouseholdRequest{Parent: w.village(s)} })},

	// The audit log: who may read it at all (which entries each reader
	// sees is the visibility test's).
	{method: sanzhiv1.AuditService_GetCheckpoint_FullMethodName,
		grants: g("clerk:any reviewer:any household:any officer:any risk:any regulator:any operator:any"),
		req:    noCounty(func(*world, side) proto.Message { return &sanzhiv1.GetCheckpointRequest{} })},
	{method: sanzhiv1.AuditService_GetCheckpoint_FullMethodName, variant: "refresh", grants: g("regulator:any operator:any"),
		req: noCounty(func(*world, side) proto.Message { return &sanzhiv1.GetCheckpointRequest{Refresh: true} })},
	{method: sanzhiv1.AuditService_GetConsistencyProof_FullMethodName,
		grants: g("clerk:any reviewer:any household:any officer:any risk:any regulator:any operator:any"),
		req:    noCounty(func(*world, side) proto.Message { return &sanzhiv1.GetConsistencyProofRequest{OldSize: 1, NewSize: 1} })},
	{method: sanzhiv1.AuditService_GetEntry_FullMethodName,
		grants: g("clerk:any reviewer:any household:any officer:any risk:any regulator:any operator:any"),
		req:    noCounty(func(*world, side) proto.Message { return &sanzhiv1.GetEntryRequest{Name: "entries/999999999"} })},
	// Listing is open to every reader: what each sees is filtered by
	// audit.Visible, not refused (TestAuditVisibility holds that rule).
	{method: sanzhiv1.AuditService_ListEntries_FullMethodName,
		grants: g("clerk:any reviewer:any household:any officer:any risk:any regulator:any operator:any"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ListEntriesRequest{Village: strings.TrimPrefix(w.village(s), "villages/")}
		})},
	// Exporting the whole log (every entry, whatever its visibility):
	// regulators only. The bad format stops an allowed call before it
	// reads the log.
	{method: sanzhiv1.AuditService_ExportEntries_FullMethodName, grants: g("regulator:any"),
		req: noCounty(func(*world, side) proto.Message { return &sanzhiv1.ExportEntriesRequest{Format: "x"} })},
	// Decision replay: regulators and the deciding bank; receipts also
	// for the household the decision is about.
	{method: sanzhiv1.AuditService_ReplayDecision_FullMethodName, grants: g("officer:own risk:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ReplayDecisionRequest{Decision: w.product(s) + "/decisions/" + missing()}
		})},
	{method: sanzhiv1.AuditService_GetDecisionReceipt_FullMethodName, grants: g("household:store officer:own risk:own regulator:any"),
		req: func(w *world, s side, role string) proto.Message {
			if s == cnty {
				return nil
			}
			if role == "household" {
				return &sanzhiv1.GetDecisionReceiptRequest{Decision: w.decision[s]}
			}
			return &sanzhiv1.GetDecisionReceiptRequest{Decision: w.product(s) + "/decisions/" + missing()}
		}},

	// Catalogues.
	{method: sanzhiv1.CatalogueService_UploadCatalogue_FullMethodName, grants: g("clerk:own reviewer:own operator:c"),
		req: func(w *world, s side, _ string) proto.Message {
			return &sanzhiv1.UploadCatalogueRequest{Parent: w.catalogueParent(s)}
		}},
	{method: sanzhiv1.CatalogueService_ActivateCatalogue_FullMethodName, grants: g("reviewer:own operator:c"),
		req: func(w *world, s side, _ string) proto.Message {
			return &sanzhiv1.ActivateCatalogueRequest{Name: w.catalogueParent(s) + "/catalogues/999"}
		}},
	{method: sanzhiv1.CatalogueService_LintCatalogue_FullMethodName, grants: g("clerk:any reviewer:any regulator:any operator:any"),
		req: noCounty(func(*world, side) proto.Message { return &sanzhiv1.LintCatalogueRequest{} })},
	{method: sanzhiv1.CatalogueService_GetCatalogue_FullMethodName, grants: g("clerk:own+c reviewer:own+c regulator:any operator:any"),
		req: func(w *world, s side, _ string) proto.Message {
			return &sanzhiv1.GetCatalogueRequest{Name: w.catalogueParent(s) + "/catalogues/999"}
		}},
	{method: sanzhiv1.CatalogueService_ListCatalogues_FullMethodName, grants: g("clerk:own+c reviewer:own+c regulator:any operator:any"),
		req: func(w *world, s side, _ string) proto.Message {
			return &sanzhiv1.ListCataloguesRequest{Parent: w.catalogueParent(s)}
		}},

	// Evidence and points.
	{method: sanzhiv1.EvidenceService_SubmitEvidence_FullMethodName, grants: g("clerk:own reviewer:own"),
		req: noCounty(func(w *world, s side) proto.Message { return &sanzhiv1.SubmitEvidenceRequest{Parent: w.hh[s]} })},
	{method: sanzhiv1.EvidenceService_BatchSubmitEvidence_FullMethodName, grants: g("clerk:own reviewer:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.BatchSubmitEvidenceRequest{Parent: w.village(s)}
		})},
	{method: sanzhiv1.EvidenceService_ReviewEvidence_FullMethodName, grants: g("reviewer:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ReviewEvidenceRequest{Name: w.hh[s] + "/evidence/" + missing()}
		})},
	{method: sanzhiv1.EvidenceService_ResolveDispute_FullMethodName, grants: g("reviewer:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ResolveDisputeRequest{Name: w.hh[s] + "/evidence/" + missing()}
		})},
	{method: sanzhiv1.EvidenceService_RevokeEvidence_FullMethodName, grants: g("clerk:own reviewer:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.RevokeEvidenceRequest{Name: w.hh[s] + "/evidence/" + missing()}
		})},
	{method: sanzhiv1.EvidenceService_ObjectToEvidence_FullMethodName, grants: g("clerk:own reviewer:own household:store"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ObjectToEvidenceRequest{Name: w.hh[s] + "/evidence/" + missing(), Reason: "不是我家"}
		})},
	{method: sanzhiv1.EvidenceService_GetEvidence_FullMethodName, grants: g("clerk:own reviewer:own regulator:any household:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.GetEvidenceRequest{Name: w.hh[s] + "/evidence/" + missing()}
		})},
	{method: sanzhiv1.EvidenceService_ListEvidence_FullMethodName, grants: g("clerk:own reviewer:own regulator:any household:own"),
		req: noCounty(func(w *world, s side) proto.Message { return &sanzhiv1.ListEvidenceRequest{Parent: w.hh[s]} })},
	{method: sanzhiv1.EvidenceService_GetNoticeBoard_FullMethodName, grants: g("clerk:own reviewer:own regulator:any household:store"),
		req: noCounty(func(w *world, s side) proto.Message { return &sanzhiv1.GetNoticeBoardRequest{Parent: w.village(s)} })},
	{method: sanzhiv1.PointsService_GetPoints_FullMethodName, grants: g("clerk:own reviewer:own regulator:any household:own"),
		req: noCounty(func(w *world, s side) proto.Message { return &sanzhiv1.GetPointsRequest{Household: w.hh[s]} })},
	{method: sanzhiv1.PointsService_GetStanding_FullMethodName, grants: g("clerk:own reviewer:own regulator:any household:own"),
		req: noCounty(func(w *world, s side) proto.Message { return &sanzhiv1.GetStandingRequest{Household: w.hh[s]} })},
	{method: sanzhiv1.PointsService_RedeemPoints_FullMethodName, grants: g("clerk:own"),
		req: noCounty(func(w *world, s side) proto.Message { return &sanzhiv1.RedeemPointsRequest{Household: w.hh[s]} })},
	{method: sanzhiv1.PointsService_GetVillageRanking_FullMethodName, grants: g("clerk:own reviewer:own regulator:any household:store"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.GetVillageRankingRequest{Parent: w.village(s), Quarter: "2026Q4"}
		})},

	// The 兑换超市: the village's clerks keep it, its staff and the
	// regulators read it, a household reads its own receipts, banks nothing.
	{method: sanzhiv1.ShopService_ListGoods_FullMethodName, grants: g("clerk:own reviewer:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message { return &sanzhiv1.ListGoodsRequest{Parent: w.village(s)} })},
	{method: sanzhiv1.ShopService_GetGood_FullMethodName, grants: g("clerk:own reviewer:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.GetGoodRequest{Name: w.village(s) + "/goods/none"}
		})},
	{method: sanzhiv1.ShopService_CreateGood_FullMethodName, grants: g("clerk:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.CreateGoodRequest{Parent: w.village(s), Good: &sanzhiv1.Good{}}
		})},
	{method: sanzhiv1.ShopService_UpdateGood_FullMethodName, grants: g("clerk:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.UpdateGoodRequest{Name: w.village(s) + "/goods/none", Price: "1"}
		})},
	{method: sanzhiv1.ShopService_ArchiveGood_FullMethodName, grants: g("clerk:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ArchiveGoodRequest{Name: w.village(s) + "/goods/none", Archived: true}
		})},
	{method: sanzhiv1.ShopService_RecordArrival_FullMethodName, grants: g("clerk:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.RecordArrivalRequest{Good: w.village(s) + "/goods/none"}
		})},
	{method: sanzhiv1.ShopService_Redeem_FullMethodName, grants: g("clerk:own"),
		req: noCounty(func(w *world, s side) proto.Message { return &sanzhiv1.RedeemRequest{Household: w.hh[s]} })},
	{method: sanzhiv1.ShopService_GetReceipt_FullMethodName, grants: g("clerk:own reviewer:own regulator:any household:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.GetReceiptRequest{Name: w.hh[s] + "/redemptions/" + missing()}
		})},
	{method: sanzhiv1.ShopService_ListRedemptions_FullMethodName, grants: g("clerk:own reviewer:own regulator:any household:own"),
		req: noCounty(func(w *world, s side) proto.Message { return &sanzhiv1.ListRedemptionsRequest{Parent: w.hh[s]} })},
	{method: sanzhiv1.ShopService_ListRedemptions_FullMethodName, variant: "village", grants: g("clerk:own reviewer:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message { return &sanzhiv1.ListRedemptionsRequest{Parent: w.village(s)} })},
	{method: sanzhiv1.ShopService_GetMonthlyReport_FullMethodName, grants: g("clerk:own reviewer:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.GetMonthlyReportRequest{Parent: w.village(s), Month: "2020-01"}
		})},

	// Credit policies.
	{method: sanzhiv1.PolicyService_UploadPolicy_FullMethodName, grants: g("risk:own"),
		req: noCounty(func(w *world, s side) proto.Message { return &sanzhiv1.UploadPolicyRequest{Parent: w.product(s)} })},
	{method: sanzhiv1.PolicyService_ApprovePolicy_FullMethodName, grants: g("risk:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ApprovePolicyRequest{Name: w.product(s) + "/policies/999"}
		})},
	{method: sanzhiv1.PolicyService_ActivatePolicy_FullMethodName, grants: g("risk:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ActivatePolicyRequest{Name: w.product(s) + "/policies/999"}
		})},
	{method: sanzhiv1.PolicyService_LintPolicy_FullMethodName, grants: g("officer:any risk:any regulator:any"),
		req: noCounty(func(*world, side) proto.Message { return &sanzhiv1.LintPolicyRequest{} })},
	{method: sanzhiv1.PolicyService_GetPolicy_FullMethodName, grants: g("officer:own risk:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.GetPolicyRequest{Name: w.product(s) + "/policies/999"}
		})},
	{method: sanzhiv1.PolicyService_ListPolicies_FullMethodName, grants: g("officer:own risk:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message { return &sanzhiv1.ListPoliciesRequest{Parent: w.product(s)} })},
	{method: sanzhiv1.PolicyService_DiffPolicies_FullMethodName, grants: g("officer:own risk:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.DiffPoliciesRequest{Name: w.product(s) + "/policies/998", Other: w.product(s) + "/policies/999"}
		})},
	{method: sanzhiv1.PolicyService_SimulatePolicy_FullMethodName, grants: g("risk:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.SimulatePolicyRequest{Name: w.product(s) + "/policies/999"}
		})},
	// Challengers: the bank's risk managers start and stop; they and the
	// regulators read; not its loan officers.
	{method: sanzhiv1.PolicyService_StartChallenger_FullMethodName, grants: g("risk:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.StartChallengerRequest{Name: w.product(s) + "/policies/999"}
		})},
	{method: sanzhiv1.PolicyService_StopChallenger_FullMethodName, grants: g("risk:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.StopChallengerRequest{Parent: w.product(s)}
		})},
	{method: sanzhiv1.PolicyService_GetChallenger_FullMethodName, grants: g("risk:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.GetChallengerRequest{Parent: w.product(s)}
		})},
	{method: sanzhiv1.ModelRiskService_GetBacktestReport_FullMethodName, grants: g("risk:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.GetBacktestReportRequest{Name: w.product(s) + "/policies/999"}
		})},
	{method: sanzhiv1.PolicyService_EvaluatePolicyGate_FullMethodName, grants: g("risk:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.EvaluatePolicyGateRequest{Name: w.product(s) + "/policies/999"}
		})},
	{method: sanzhiv1.PolicyService_GetPolicyGate_FullMethodName, grants: g("risk:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.GetPolicyGateRequest{Name: w.product(s) + "/policies/999"}
		})},

	// Webhooks: only the bank's own risk managers set one (and get its
	// secret); operators may look at delivery and replay dead letters.
	{method: sanzhiv1.WebhookService_SetWebhook_FullMethodName, grants: g("risk:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.SetWebhookRequest{Bank: w.bank(s), Url: "https://bank.example/hook"}
		})},
	{method: sanzhiv1.WebhookService_GetWebhook_FullMethodName, grants: g("risk:own operator:any"),
		req: noCounty(func(w *world, s side) proto.Message { return &sanzhiv1.GetWebhookRequest{Name: w.bank(s) + "/webhook"} })},
	{method: sanzhiv1.WebhookService_ListDeadLetters_FullMethodName, grants: g("risk:own operator:any"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ListDeadLettersRequest{Parent: w.bank(s) + "/webhook"}
		})},
	{method: sanzhiv1.WebhookService_ReplayDeadLetter_FullMethodName, grants: g("risk:own operator:any"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ReplayDeadLetterRequest{Name: w.bank(s) + "/webhook/deadLetters/999"}
		})},

	// Consents. A bank's officer may ask to record a consent for any
	// household (it stays pending until the household or its clerk
	// confirms); revoking or listing, the service keeps a bank to its own
	// consents.
	{method: sanzhiv1.ConsentService_GrantConsent_FullMethodName, grants: g("household:own officer:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.GrantConsentRequest{Parent: w.hh[s], Bank: w.bank(s)}
		})},
	{method: sanzhiv1.ConsentService_RevokeConsent_FullMethodName, grants: g("household:own officer:any"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.RevokeConsentRequest{Name: w.hh[s] + "/consents/" + missing()}
		})},
	{method: sanzhiv1.ConsentService_ListConsents_FullMethodName, grants: g("household:own officer:any risk:any regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message { return &sanzhiv1.ListConsentsRequest{Parent: w.hh[s]} })},
	// A pending consent a bank recorded is settled by the household
	// itself, or countersigned by the staff of its village.
	{method: sanzhiv1.ConsentService_ConfirmConsent_FullMethodName, grants: g("household:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ConfirmConsentRequest{Name: w.hh[s] + "/consents/" + missing()}
		})},
	{method: sanzhiv1.ConsentService_RefuseConsent_FullMethodName, grants: g("household:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.RefuseConsentRequest{Name: w.hh[s] + "/consents/" + missing()}
		})},
	{method: sanzhiv1.ConsentService_CountersignConsent_FullMethodName, grants: g("clerk:own reviewer:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.CountersignConsentRequest{Name: w.hh[s] + "/consents/" + missing(), AuthorisationHash: sha}
		})},
	{method: sanzhiv1.ConsentService_ListQueryRecords_FullMethodName, grants: g("household:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message { return &sanzhiv1.ListQueryRecordsRequest{Parent: w.hh[s]} })},

	// Dividends: the village's staff; a household objects to and reads
	// its own line.
	{method: sanzhiv1.DividendService_UploadDividendRule_FullMethodName, grants: g("clerk:own reviewer:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.UploadDividendRuleRequest{Parent: w.village(s)}
		})},
	{method: sanzhiv1.DividendService_LintDividendRule_FullMethodName, grants: g("clerk:any reviewer:any regulator:any"),
		req: noCounty(func(*world, side) proto.Message { return &sanzhiv1.LintDividendRuleRequest{} })},
	{method: sanzhiv1.DividendService_ActivateDividendRule_FullMethodName, grants: g("reviewer:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ActivateDividendRuleRequest{Name: w.village(s) + "/dividendRules/999"}
		})},
	{method: sanzhiv1.DividendService_GetDividendRule_FullMethodName, grants: g("clerk:own reviewer:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.GetDividendRuleRequest{Name: w.village(s) + "/dividendRules/999"}
		})},
	{method: sanzhiv1.DividendService_ListDividendRules_FullMethodName, grants: g("clerk:own reviewer:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message { return &sanzhiv1.ListDividendRulesRequest{Parent: w.village(s)} })},
	{method: sanzhiv1.DividendService_CreateRound_FullMethodName, grants: g("clerk:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.CreateRoundRequest{Parent: w.village(s), RequestId: "matrix"}
		})},
	{method: sanzhiv1.DividendService_GetRound_FullMethodName, grants: g("clerk:own reviewer:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.GetRoundRequest{Name: w.village(s) + "/dividendRounds/" + missing()}
		})},
	{method: sanzhiv1.DividendService_ListRounds_FullMethodName, grants: g("clerk:own reviewer:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message { return &sanzhiv1.ListRoundsRequest{Parent: w.village(s)} })},
	{method: sanzhiv1.DividendService_ReviewRound_FullMethodName, grants: g("reviewer:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ReviewRoundRequest{Name: w.village(s) + "/dividendRounds/" + missing()}
		})},
	{method: sanzhiv1.DividendService_ObjectToAllocation_FullMethodName, grants: g("clerk:own reviewer:own household:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ObjectToAllocationRequest{Round: w.village(s) + "/dividendRounds/" + missing(), Household: w.hh[s], Reason: "不对"}
		})},
	{method: sanzhiv1.DividendService_ListObjections_FullMethodName, grants: g("clerk:own reviewer:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ListObjectionsRequest{Parent: w.village(s) + "/dividendRounds/" + missing()}
		})},
	{method: sanzhiv1.DividendService_ResolveObjection_FullMethodName, grants: g("reviewer:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ResolveObjectionRequest{Name: w.village(s) + "/dividendRounds/" + missing() + "/objections/" + missing()}
		})},
	{method: sanzhiv1.DividendService_ApproveRound_FullMethodName, grants: g("reviewer:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ApproveRoundRequest{Name: w.village(s) + "/dividendRounds/" + missing()}
		})},
	{method: sanzhiv1.DividendService_ListAllocations_FullMethodName, grants: g("clerk:own reviewer:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ListAllocationsRequest{Parent: w.village(s) + "/dividendRounds/" + missing()}
		})},
	{method: sanzhiv1.DividendService_GetStatement_FullMethodName, grants: g("clerk:own reviewer:own regulator:any household:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.GetStatementRequest{Round: w.village(s) + "/dividendRounds/" + missing(), Household: w.hh[s]}
		})},
	{method: sanzhiv1.DividendService_ExportPayout_FullMethodName, grants: g("clerk:own reviewer:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ExportPayoutRequest{Name: w.village(s) + "/dividendRounds/" + missing()}
		})},
	{method: sanzhiv1.DividendService_VerifyRound_FullMethodName, grants: g("clerk:own reviewer:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.VerifyRoundRequest{Name: w.village(s) + "/dividendRounds/" + missing()}
		})},

	// Credit.
	{method: sanzhiv1.CreditService_AssessCredit_FullMethodName, grants: g("officer:own risk:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.AssessCreditRequest{Product: w.product(s), Household: w.hh[s]}
		})},
	{method: sanzhiv1.CreditService_GetCreditLine_FullMethodName, grants: g("officer:own risk:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.GetCreditLineRequest{Product: w.product(s), Household: w.hh[s]}
		})},
	{method: sanzhiv1.CreditService_LookupCustomer_FullMethodName, grants: g("officer:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			// A number with a wrong check digit: past the policy, the
			// service names the field (what it may learn is rpc's
			// lookup tests').
			return &sanzhiv1.LookupCustomerRequest{Bank: w.bank(s), IdNumber: "110105194912310021", Purpose: "assessment"}
		})},
	{method: sanzhiv1.CreditService_ListCreditLines_FullMethodName, grants: g("officer:own risk:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message { return &sanzhiv1.ListCreditLinesRequest{Product: w.product(s)} })},
	{method: sanzhiv1.CreditService_ReportDrawdown_FullMethodName, grants: g("officer:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ReportDrawdownRequest{Line: w.product(s) + "/creditLines/" + missing()}
		})},
	{method: sanzhiv1.CreditService_ReportRepayment_FullMethodName, grants: g("officer:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ReportRepaymentRequest{Line: w.product(s) + "/creditLines/" + missing()}
		})},
	{method: sanzhiv1.CreditService_ReportLoanStatus_FullMethodName, grants: g("officer:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ReportLoanStatusRequest{Line: w.product(s) + "/creditLines/" + missing(), EventId: "EV-1",
				AsOf: "2026-01-31", Classification: "normal"}
		})},
	{method: sanzhiv1.CreditService_ListLoanStatuses_FullMethodName, grants: g("officer:own risk:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ListLoanStatusesRequest{Line: w.product(s) + "/creditLines/" + missing()}
		})},
	{method: sanzhiv1.CreditService_UnfreezeCreditLine_FullMethodName, grants: g("risk:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.UnfreezeCreditLineRequest{Name: w.product(s) + "/creditLines/" + missing()}
		})},
	{method: sanzhiv1.CreditService_WatchCreditLines_FullMethodName, grants: g("officer:own risk:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message { return &sanzhiv1.WatchCreditLinesRequest{Bank: w.bank(s)} })},
	{method: sanzhiv1.CreditService_ListDecisions_FullMethodName, grants: g("household:own officer:own risk:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ListDecisionsRequest{Household: w.hh[s], Bank: w.bank(s)}
		})},
	// A household asks about a real decision; a bank's officer opens one
	// on a decision of the side's bank (the own bank or another).
	{method: sanzhiv1.CreditService_RequestReview_FullMethodName, grants: g("household:store officer:own"),
		req: func(w *world, s side, role string) proto.Message {
			if s == cnty {
				return nil
			}
			if role == "household" {
				return &sanzhiv1.RequestReviewRequest{Decision: w.decision[s], Reason: "请人工复核"}
			}
			return &sanzhiv1.RequestReviewRequest{Decision: w.product(s) + "/decisions/" + missing(), Reason: "请人工复核"}
		}},
	{method: sanzhiv1.CreditService_ListReviews_FullMethodName, grants: g("household:own officer:own risk:own regulator:any"),
		req: func(w *world, s side, role string) proto.Message {
			if s == cnty {
				return nil
			}
			if role == "household" {
				return &sanzhiv1.ListReviewsRequest{Parent: w.hh[s]}
			}
			return &sanzhiv1.ListReviewsRequest{Parent: w.product(s)}
		}},
	{method: sanzhiv1.CreditService_ResolveReview_FullMethodName, grants: g("officer:own risk:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ResolveReviewRequest{Name: w.product(s) + "/reviews/" + missing()}
		})},
	{method: sanzhiv1.CreditService_ApproveOverride_FullMethodName, grants: g("officer:own risk:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.ApproveOverrideRequest{Name: w.product(s) + "/reviews/" + missing(), Limit: "1000"}
		})},
	{method: sanzhiv1.CreditService_StartReassessment_FullMethodName, grants: g("risk:own"),
		req: noCounty(func(w *world, s side) proto.Message {
			// Another product: nothing to re-assess, but the call is real.
			return &sanzhiv1.StartReassessmentRequest{Product: w.bank(s) + "/products/matrix-none"}
		})},
	{method: sanzhiv1.CreditService_GetReassessment_FullMethodName, grants: g("officer:own risk:own regulator:any"),
		req: noCounty(func(w *world, s side) proto.Message {
			return &sanzhiv1.GetReassessmentRequest{Name: w.product(s) + "/reassessments/" + missing()}
		})},
}

// matrixWorld registers a household in each village, each with its own
// principal, lets each consent (in its app) to the bank, and assesses
// both, so that each side has a real decision.
func matrixWorld(t *testing.T, e *env) *world {
	t.Helper()
	w := &world{hh: map[side]string{}, decision: map[side]string{}}
	for s, village := range map[side]string{own: villageA, other: villageB} {
		hh, principal := newHousehold(t, e, village, true)
		_, err := e.consents.GrantConsent(e.as(principal), &sanzhiv1.GrantConsentRequest{Parent: hh, Bank: bankName,
			Purposes: []string{"assessment", "post_loan"}, Channel: "app", AuthorisationHash: sha})
		require.NoError(t, err)
		res, err := e.credit.AssessCredit(e.as("officer"), &sanzhiv1.AssessCreditRequest{Product: product, Household: hh})
		require.NoError(t, err)
		w.hh[s], w.decision[s] = hh, res.Line.Decision
		if s == own {
			e.keys["hh"] = e.keys[principal]
		}
	}
	return w
}

// expected says whether role may call the row's method on side s.
func (r matrixRow) expected(role string, s side) bool {
	switch r.grants[role] {
	case anyScope:
		return true
	case ownScope, storeChk:
		return s == own
	case ownCnty:
		return s == own || s == cnty
	case cntyOnly:
		return s == cnty
	}
	return false
}

// call invokes method with req as the named principal and returns the
// error. A stream is opened and its first answer awaited; when the cell is
// allowed the wait is brief, since an allowed watch simply waits for
// events. A refusal is always awaited in full: under load (make test runs
// packages side by side) a short deadline would turn a slow refusal into
// DEADLINE_EXCEEDED and fail the cell for the wrong reason.
func call(e *env, method string, req proto.Message, principal string, allowed bool) error {
	ctx := context.Background()
	if principal != "" {
		ctx = e.as(principal)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	md, err := methodDescriptor(method)
	if err != nil {
		return err
	}
	resp := dynamicpb.NewMessage(md.Output())
	if md.IsStreamingServer() {
		sctx, scancel := ctx, context.CancelFunc(func() {})
		if allowed {
			sctx, scancel = context.WithTimeout(ctx, 300*time.Millisecond)
		}
		defer scancel()
		desc := &grpc.StreamDesc{ServerStreams: true}
		cs, err := e.conn.NewStream(sctx, desc, method)
		if err != nil {
			return err
		}
		if err := cs.SendMsg(req); err != nil {
			return err
		}
		if err := cs.CloseSend(); err != nil {
			return err
		}
		return cs.RecvMsg(resp)
	}
	return e.conn.Invoke(ctx, method, req, resp)
}

func methodDescriptor(full string) (protoreflect.MethodDescriptor, error) {
	svc, m, ok := strings.Cut(strings.TrimPrefix(full, "/"), "/")
	if !ok {
		return nil, fmt.Errorf("bad method %q", full)
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		return nil, err
	}
	md := d.(protoreflect.ServiceDescriptor).Methods().ByName(protoreflect.Name(m))
	if md == nil {
		return nil, fmt.Errorf("no method %q", full)
	}
	return md, nil
}

func TestScopeMatrix(t *testing.T) {
	t.Parallel()
	// Every method the policy binds is in the matrix (the floors are the
	// bench binary's, not the product's).
	covered := map[string]bool{}
	for _, r := range matrix {
		covered[r.method] = true
	}
	for _, m := range rpc.Methods() {
		if strings.Contains(m, "FloorService") {
			continue
		}
		assert.True(t, covered[m], "the scope matrix has no row for %s", m)
	}

	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := lendingEnv(t, st)
		w := matrixWorld(t, e)
		cells := 0
		for _, r := range matrix {
			name := strings.TrimPrefix(r.method, "/sanzhi.v1.")
			if r.variant != "" {
				name += "+" + r.variant
			}
			for _, c := range matrixCallers {
				for _, s := range []side{own, other, cnty} {
					req := r.req(w, s, c.role)
					if req == nil {
						continue
					}
					cells++
					err := call(e, r.method, req, c.name, c.name != "" && r.expected(c.role, s))
					code := status.Code(err)
					where := fmt.Sprintf("%s as %s on the %s side: %v", name, c.role, s, err)
					switch {
					case c.name == "":
						assert.Equal(t, codes.Unauthenticated, code, where)
					case r.expected(c.role, s):
						assert.NotContains(t, []codes.Code{codes.PermissionDenied, codes.Unauthenticated, codes.Unimplemented}, code, where)
					case r.grants[c.role] == storeChk:
						// The service may hide that the thing exists at all.
						assert.Contains(t, []codes.Code{codes.PermissionDenied, codes.NotFound}, code, where)
					default:
						assert.Equal(t, codes.PermissionDenied, code, where)
					}
				}
			}
		}
		t.Logf("%d cells", cells)
	})
}
