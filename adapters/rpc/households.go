package rpc

import (
	"context"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sanzhi/sanzhi/access"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// Households serves sanzhi.v1.HouseholdService. Each method converts the
// request, calls the domain service once and converts the result: no rules
// live here.
type Households struct {
	sanzhiv1.UnimplementedHouseholdServiceServer
	svc *household.Service
}

// NewHouseholds returns the handler over svc.
func NewHouseholds(svc *household.Service) *Households { return &Households{svc: svc} }

func (s *Households) CreateHousehold(ctx context.Context, req *sanzhiv1.CreateHouseholdRequest) (*sanzhiv1.Household, error) {
	h := req.GetHousehold()
	out, err := s.svc.Create(ctx, access.FromContext(ctx), household.CreateInput{
		Parent:       req.GetParent(),
		HeadName:     h.GetHeadName(),
		HeadIDNumber: h.GetHeadIdNumber(),
		Group:        h.GetGroup(),
		Address:      h.GetAddress(),
		Registered:   h.GetRegisteredDate(),
		Facts:        factsIn(h.GetFacts()),
		Members:      membersIn(h.GetMembers()),
		RequestID:    req.GetRequestId(),
	})
	if err != nil {
		return nil, err
	}
	return householdOut(out), nil
}

func (s *Households) GetHousehold(ctx context.Context, req *sanzhiv1.GetHouseholdRequest) (*sanzhiv1.Household, error) {
	out, err := s.svc.Get(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return householdOut(out), nil
}

func (s *Households) ListHouseholds(ctx context.Context, req *sanzhiv1.ListHouseholdsRequest) (*sanzhiv1.ListHouseholdsResponse, error) {
	page, err := s.svc.List(ctx, req.GetParent(), req.GetGroup(), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	resp := &sanzhiv1.ListHouseholdsResponse{NextPageToken: page.NextToken}
	for _, h := range page.Items {
		resp.Households = append(resp.Households, householdOut(h))
	}
	return resp, nil
}

func (s *Households) UpdateHousehold(ctx context.Context, req *sanzhiv1.UpdateHouseholdRequest) (*sanzhiv1.Household, error) {
	h := req.GetHousehold()
	out, err := s.svc.Update(ctx, access.FromContext(ctx), household.UpdateInput{
		Name:     h.GetName(),
		Paths:    req.GetUpdateMask().GetPaths(),
		HeadName: h.GetHeadName(),
		Group:    h.GetGroup(),
		Address:  h.GetAddress(),
		Facts:    factsIn(h.GetFacts()),
		Members:  membersIn(h.GetMembers()),
	})
	if err != nil {
		return nil, err
	}
	return householdOut(out), nil
}

func (s *Households) LookupHousehold(ctx context.Context, req *sanzhiv1.LookupHouseholdRequest) (*sanzhiv1.Household, error) {
	out, err := s.svc.Lookup(ctx, req.GetParent(), req.GetHeadIdNumber())
	if err != nil {
		return nil, err
	}
	return householdOut(out), nil
}

func (s *Households) ListHouseholdFacts(ctx context.Context, req *sanzhiv1.ListHouseholdFactsRequest) (*sanzhiv1.ListHouseholdFactsResponse, error) {
	page, err := s.svc.ListFacts(ctx, req.GetParent(), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	resp := &sanzhiv1.ListHouseholdFactsResponse{NextPageToken: page.NextToken}
	for _, f := range page.Items {
		resp.Facts = append(resp.Facts, factsOut(f))
	}
	return resp, nil
}

func factsIn(f *sanzhiv1.HouseholdFacts) *household.FactsInput {
	if f == nil {
		return nil
	}
	return &household.FactsInput{
		Members:          f.GetMembers(),
		Labourers:        f.GetLabourers(),
		AnnualIncome:     f.GetAnnualIncome(),
		LandAreaMu:       f.GetLandAreaMu(),
		CollectiveShares: f.GetCollectiveShares(),
		ExistingDebt:     f.GetExistingBankDebt(),
		DishonestDebtor:  f.GetDishonestDebtor(),
		Source:           f.GetSource(),
		AsOf:             f.GetAsOfDate(),
	}
}

// householdOut never sets head_id_number: the raw number is not returned.
func householdOut(h *household.Household) *sanzhiv1.Household {
	return &sanzhiv1.Household{
		Name:               h.Name(),
		VillageCode:        h.Village,
		HeadName:           h.HeadName,
		HeadIdNumberMasked: h.HeadIDMasked,
		Group:              h.Group,
		Address:            h.Address,
		RegisteredDate:     string(h.Registered),
		Facts:              factsOut(h.Facts),
		CreateTime:         timestamppb.New(h.CreateTime),
		UpdateTime:         timestamppb.New(h.UpdateTime),
		Members:            membersOut(h.Members),
	}
}

// membersIn passes the enums on as the domain's codes (HOUSEHOLD_RELATION_
// SPOUSE as "spouse"); UNSPECIFIED becomes "", which the service refuses.
// nil stays nil: no members given.
func membersIn(ms []*sanzhiv1.HouseholdMember) []household.MemberInput {
	if ms == nil {
		return nil
	}
	out := make([]household.MemberInput, len(ms))
	for i, m := range ms {
		out[i] = household.MemberInput{Number: m.GetNumber(), Name: m.GetName(), IDNumber: m.GetIdNumber(),
			Relation: enumCode(m.GetRelation().String(), "HOUSEHOLD_RELATION_"),
			Labour:   enumCode(m.GetLabourStatus().String(), "LABOUR_STATUS_")}
	}
	return out
}

func enumCode(name, prefix string) string {
	code := strings.ToLower(strings.TrimPrefix(name, prefix))
	if code == "unspecified" {
		return ""
	}
	return code
}

// membersOut never sets id_number: only the masked form is returned.
func membersOut(ms []household.Member) []*sanzhiv1.HouseholdMember {
	out := make([]*sanzhiv1.HouseholdMember, len(ms))
	for i, m := range ms {
		out[i] = &sanzhiv1.HouseholdMember{Number: m.Number, Name: m.Name, IdNumberMasked: m.IDMasked,
			Relation:     sanzhiv1.HouseholdRelation(sanzhiv1.HouseholdRelation_value["HOUSEHOLD_RELATION_"+strings.ToUpper(m.Relation.String())]),
			LabourStatus: sanzhiv1.LabourStatus(sanzhiv1.LabourStatus_value["LABOUR_STATUS_"+strings.ToUpper(m.Labour.String())]),
			BirthDate:    string(m.BirthDate)}
	}
	return out
}

func factsOut(f household.Facts) *sanzhiv1.HouseholdFacts {
	return &sanzhiv1.HouseholdFacts{
		Version:          f.Version,
		Members:          f.Members,
		Labourers:        f.Labourers,
		AnnualIncome:     f.AnnualIncome.StringFixed(2),
		LandAreaMu:       f.LandAreaMu.StringFixed(2),
		CollectiveShares: f.CollectiveShares.StringFixed(2),
		ExistingBankDebt: f.ExistingDebt.StringFixed(2),
		DishonestDebtor:  f.DishonestDebtor,
		Source:           f.Source,
		AsOfDate:         string(f.AsOf),
		RecordedBy:       f.RecordedBy,
		RecordTime:       timestamppb.New(f.RecordTime),
	}
}
