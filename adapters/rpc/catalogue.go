package rpc

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sanzhi/sanzhi/access"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/scoring/catalogue"
)

// Catalogues serves sanzhi.v1.CatalogueService. Each method converts the
// request, calls the domain service once and converts the result: no rules
// live here.
type Catalogues struct {
	sanzhiv1.UnimplementedCatalogueServiceServer
	svc *catalogue.Service
}

// NewCatalogues returns the handler over svc.
func NewCatalogues(svc *catalogue.Service) *Catalogues { return &Catalogues{svc: svc} }

func (s *Catalogues) UploadCatalogue(ctx context.Context, req *sanzhiv1.UploadCatalogueRequest) (*sanzhiv1.Catalogue, error) {
	v, err := s.svc.Upload(ctx, access.FromContext(ctx), req.GetParent(), []byte(req.GetDocument()))
	if err != nil {
		return nil, err
	}
	return CatalogueOut(v), nil
}

func (s *Catalogues) LintCatalogue(ctx context.Context, req *sanzhiv1.LintCatalogueRequest) (*sanzhiv1.LintCatalogueResponse, error) {
	res, err := s.svc.Lint(ctx, []byte(req.GetDocument()))
	if err != nil {
		return nil, err
	}
	out := &sanzhiv1.LintCatalogueResponse{
		Valid: len(res.Problems) == 0, Kind: kindOut(res.Kind), CountyCode: res.County, VillageCode: res.Village,
		Version: int32(res.Version), BaseVersion: int32(res.BaseVersion), BaseChecked: res.BaseChecked,
		ContentHash: res.ContentHash, ItemCount: int32(res.ItemCount),
	}
	for _, p := range res.Problems {
		out.Problems = append(out.Problems, &sanzhiv1.CatalogueProblem{
			Line: int32(p.Line), Column: int32(p.Column), Path: p.Path, Message: p.Message,
		})
	}
	return out, nil
}

func (s *Catalogues) ActivateCatalogue(ctx context.Context, req *sanzhiv1.ActivateCatalogueRequest) (*sanzhiv1.Catalogue, error) {
	v, err := s.svc.Activate(ctx, access.FromContext(ctx), req.GetName())
	if err != nil {
		return nil, err
	}
	return CatalogueOut(v), nil
}

func (s *Catalogues) GetCatalogue(ctx context.Context, req *sanzhiv1.GetCatalogueRequest) (*sanzhiv1.Catalogue, error) {
	v, err := s.svc.Get(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return CatalogueOut(v), nil
}

func (s *Catalogues) ListCatalogues(ctx context.Context, req *sanzhiv1.ListCataloguesRequest) (*sanzhiv1.ListCataloguesResponse, error) {
	page, err := s.svc.List(ctx, req.GetParent(), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	resp := &sanzhiv1.ListCataloguesResponse{NextPageToken: page.NextToken}
	for _, v := range page.Versions {
		resp.Catalogues = append(resp.Catalogues, CatalogueOut(v))
	}
	return resp, nil
}

// CatalogueOut converts a stored version to its API form (the CLI prints
// the same form).
func CatalogueOut(v *catalogue.Version) *sanzhiv1.Catalogue {
	out := &sanzhiv1.Catalogue{
		Name: v.Name(), Kind: kindOut(v.Kind), CountyCode: v.County, VillageCode: v.Village,
		Version: int32(v.Version), BaseVersion: int32(v.BaseVersion), State: stateOut(v.State),
		Document: v.Document, ContentHash: v.ContentHash, ItemCount: int32(v.ItemCount),
		UploadedBy: v.UploadedBy, UploadTime: timestamppb.New(v.UploadTime), ActivatedBy: v.ActivatedBy,
	}
	if v.ActivateTime != nil {
		out.ActivateTime = timestamppb.New(*v.ActivateTime)
	}
	if v.SupersedeTime != nil {
		out.SupersedeTime = timestamppb.New(*v.SupersedeTime)
	}
	return out
}

func kindOut(k catalogue.Kind) sanzhiv1.CatalogueKind {
	switch k {
	case catalogue.County:
		return sanzhiv1.CatalogueKind_CATALOGUE_KIND_COUNTY
	case catalogue.Village:
		return sanzhiv1.CatalogueKind_CATALOGUE_KIND_VILLAGE
	}
	return sanzhiv1.CatalogueKind_CATALOGUE_KIND_UNSPECIFIED
}

func stateOut(s catalogue.State) sanzhiv1.CatalogueState {
	switch s {
	case catalogue.Draft:
		return sanzhiv1.CatalogueState_CATALOGUE_STATE_DRAFT
	case catalogue.Active:
		return sanzhiv1.CatalogueState_CATALOGUE_STATE_ACTIVE
	case catalogue.Superseded:
		return sanzhiv1.CatalogueState_CATALOGUE_STATE_SUPERSEDED
	}
	return sanzhiv1.CatalogueState_CATALOGUE_STATE_UNSPECIFIED
}
