package rpc

import (
	"context"
	"sort"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/dectext"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// Points serves sanzhi.v1.PointsService over the evidence service, which
// keeps the ledger. Each method converts the request, calls the domain
// service once and converts the result: no rules live here.
// (GetVillageRanking first asks the service whether the caller may see the
// village: a household's village is known only to the store.)
type Points struct {
	sanzhiv1.UnimplementedPointsServiceServer
	svc *evidence.Service
}

// NewPoints returns the handler over svc.
func NewPoints(svc *evidence.Service) *Points { return &Points{svc: svc} }

func (s *Points) GetPoints(ctx context.Context, req *sanzhiv1.GetPointsRequest) (*sanzhiv1.Points, error) {
	b, err := s.svc.Points(ctx, req.GetHousehold(), req.GetAsOf())
	if err != nil {
		return nil, err
	}
	village, id, _ := household.ParseName(req.GetHousehold(), "household")
	return PointsOut(village, id, b), nil
}

func (s *Points) RedeemPoints(ctx context.Context, req *sanzhiv1.RedeemPointsRequest) (*sanzhiv1.RedeemPointsResponse, error) {
	r, err := s.svc.Redeem(ctx, access.FromContext(ctx), evidence.RedeemInput{
		Household: req.GetHousehold(), Amount: req.GetAmount(), Note: req.GetNote(), RequestID: req.GetRequestId(),
	})
	if err != nil {
		return nil, err
	}
	village, id, _ := household.ParseName(req.GetHousehold(), "household")
	return &sanzhiv1.RedeemPointsResponse{
		Entry: ledgerEntryOut(village, id, r.Entry), Balance: PointsOut(village, id, r.Balance), Duplicate: r.Duplicate,
	}, nil
}

func (s *Points) GetStanding(ctx context.Context, req *sanzhiv1.GetStandingRequest) (*sanzhiv1.Standing, error) {
	st, err := s.svc.Standing(ctx, req.GetHousehold(), req.GetAsOf())
	if err != nil {
		return nil, err
	}
	today := s.svc.Today()
	village, id, _ := household.ParseName(req.GetHousehold(), "household")
	out := &sanzhiv1.Standing{
		Household: householdName(village, id), AsOf: string(st.AsOf), Blacklisted: st.Blacklisted(),
	}
	if st.Star != nil {
		out.Star = EvidenceOut(st.Star, today)
	}
	for _, e := range st.RedList {
		out.RedList = append(out.RedList, EvidenceOut(e, today))
	}
	for _, e := range st.BlackList {
		out.BlackList = append(out.BlackList, EvidenceOut(e, today))
	}
	if st.Recommendation != nil {
		out.Recommendation = EvidenceOut(st.Recommendation, today)
	}
	return out, nil
}

func (s *Points) GetVillageRanking(ctx context.Context, req *sanzhiv1.GetVillageRankingRequest) (*sanzhiv1.VillageRanking, error) {
	if err := s.svc.CheckVillager(ctx, access.FromContext(ctx), household.VillageOf(req.GetParent())); err != nil {
		return nil, err
	}
	r, err := s.svc.Ranking(ctx, req.GetParent(), req.GetQuarter())
	if err != nil {
		return nil, err
	}
	out := &sanzhiv1.VillageRanking{
		Parent: resource.Village(r.Village), Quarter: r.Quarter, FromDate: string(r.From), ToDate: string(r.To), Final: r.Final,
	}
	for _, row := range r.Rows {
		out.Rows = append(out.Rows, &sanzhiv1.RankRow{
			Household: householdName(r.Village, row.Household), HeadName: row.HeadName, Group: row.Group,
			Points: row.Points.String(), Rank: int32(row.Rank),
		})
	}
	return out, nil
}

func householdName(village, id string) string { return resource.Household(village, id) }

// PointsOut converts the balances of household id of village to their
// API form.
func PointsOut(village, id string, b points.Balance) *sanzhiv1.Points {
	out := &sanzhiv1.Points{
		Household: householdName(village, id), AsOf: string(b.AsOf), Base: dectext.String(b.Base), Credit: dectext.String(b.Credit),
		Earned: dectext.String(b.Earned), Redeemed: dectext.String(b.Redeemed), Redeemable: dectext.String(b.Redeemable),
		NotForCredit: dectext.String(b.NotForCredit),
	}
	for _, d := range points.Domains {
		l := d.Label()
		out.ByDomain = append(out.ByDomain, &sanzhiv1.DomainSubtotal{
			Domain: domainOut(d), LabelZh: l.ZH, LabelEn: l.EN, Points: dectext.String(b.ByDomain[d]),
		})
	}
	areas := make([]string, 0, len(b.ByArea))
	for a := range b.ByArea {
		areas = append(areas, a)
	}
	sort.Strings(areas)
	for _, a := range areas {
		out.ByArea = append(out.ByArea, &sanzhiv1.AreaSubtotal{Area: a, Points: dectext.String(b.ByArea[a])})
	}
	// One allocation for all the entries rather than one each: a household
	// can have thousands, and GetPoints returns them all.
	entries := make([]sanzhiv1.LedgerEntry, len(b.Entries))
	out.Entries = make([]*sanzhiv1.LedgerEntry, len(b.Entries))
	evidence := out.Household + "/evidence/"
	for i, e := range b.Entries {
		fillLedgerEntry(&entries[i], evidence, e)
		out.Entries[i] = &entries[i]
	}
	return out
}

func ledgerEntryOut(village, id string, e points.Entry) *sanzhiv1.LedgerEntry {
	out := &sanzhiv1.LedgerEntry{}
	fillLedgerEntry(out, householdName(village, id)+"/evidence/", e)
	return out
}

// fillLedgerEntry sets out's fields from e; evidence is the prefix of the
// names of the household's evidence.
func fillLedgerEntry(out *sanzhiv1.LedgerEntry, evidence string, e points.Entry) {
	out.Id, out.Kind, out.ItemCode, out.Domain, out.Area = e.ID, entryKindOut(e.Kind), e.ItemCode, domainOut(e.Domain), e.Area
	out.Quantity, out.Requested, out.Points, out.Capped = e.Quantity, dectext.String(e.Requested), dectext.String(e.Points), dectext.String(e.Capped)
	out.OccurredOn, out.EffectiveOn, out.ValidUntil = string(e.OccurredOn), string(e.EffectiveOn), string(e.ValidUntil)
	out.ForCredit, out.Reverses, out.ReversedKind = e.ForCredit, e.Reverses, entryKindOut(e.ReversedKind)
	if e.EvidenceID != "" {
		out.Evidence = evidence + e.EvidenceID
	}
}

func domainOut(d points.Domain) sanzhiv1.PointsDomain {
	switch d {
	case points.SelfGovernance:
		return sanzhiv1.PointsDomain_POINTS_DOMAIN_SELF_GOVERNANCE
	case points.RuleOfLaw:
		return sanzhiv1.PointsDomain_POINTS_DOMAIN_RULE_OF_LAW
	case points.Virtue:
		return sanzhiv1.PointsDomain_POINTS_DOMAIN_VIRTUE
	}
	return sanzhiv1.PointsDomain_POINTS_DOMAIN_UNSPECIFIED
}

func entryKindOut(k points.Kind) sanzhiv1.LedgerEntryKind {
	switch k {
	case points.Award:
		return sanzhiv1.LedgerEntryKind_LEDGER_ENTRY_KIND_AWARD
	case points.Deduction:
		return sanzhiv1.LedgerEntryKind_LEDGER_ENTRY_KIND_DEDUCTION
	case points.Reversal:
		return sanzhiv1.LedgerEntryKind_LEDGER_ENTRY_KIND_REVERSAL
	case points.Redemption:
		return sanzhiv1.LedgerEntryKind_LEDGER_ENTRY_KIND_REDEMPTION
	}
	return sanzhiv1.LedgerEntryKind_LEDGER_ENTRY_KIND_UNSPECIFIED
}
