package rpc

import (
	"bytes"
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sanzhi/sanzhi/access"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/shop"
)

// Shop serves sanzhi.v1.ShopService over the shop service. Each method
// converts the request, calls the service once and converts the result.
type Shop struct {
	sanzhiv1.UnimplementedShopServiceServer
	svc *shop.Service
}

// NewShop returns the handler over svc.
func NewShop(svc *shop.Service) *Shop { return &Shop{svc: svc} }

func (s *Shop) ListGoods(ctx context.Context, req *sanzhiv1.ListGoodsRequest) (*sanzhiv1.ListGoodsResponse, error) {
	goods, err := s.svc.Goods(ctx, req.GetParent(), req.GetShowArchived())
	if err != nil {
		return nil, err
	}
	out := &sanzhiv1.ListGoodsResponse{}
	for _, g := range goods {
		out.Goods = append(out.Goods, GoodOut(g))
	}
	return out, nil
}

func (s *Shop) GetGood(ctx context.Context, req *sanzhiv1.GetGoodRequest) (*sanzhiv1.Good, error) {
	g, err := s.svc.Good(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return GoodOut(g), nil
}

func (s *Shop) CreateGood(ctx context.Context, req *sanzhiv1.CreateGoodRequest) (*sanzhiv1.Good, error) {
	in := req.GetGood()
	g, _, err := s.svc.CreateGood(ctx, access.FromContext(ctx), shop.GoodInput{
		Parent: req.GetParent(), Code: in.GetCode(), NameZH: in.GetNameZh(), NameEN: in.GetNameEn(), Unit: in.GetUnit(), Price: in.GetPrice(),
	})
	if err != nil {
		return nil, err
	}
	return GoodOut(g), nil
}

func (s *Shop) UpdateGood(ctx context.Context, req *sanzhiv1.UpdateGoodRequest) (*sanzhiv1.Good, error) {
	g, err := s.svc.UpdateGood(ctx, access.FromContext(ctx), shop.UpdateInput{
		Name: req.GetName(), NameZH: req.GetNameZh(), NameEN: req.GetNameEn(), Unit: req.GetUnit(), Price: req.GetPrice(),
		Version: int(req.GetVersion()),
	})
	if err != nil {
		return nil, err
	}
	return GoodOut(g), nil
}

func (s *Shop) ArchiveGood(ctx context.Context, req *sanzhiv1.ArchiveGoodRequest) (*sanzhiv1.Good, error) {
	archived := req.GetArchived()
	g, err := s.svc.UpdateGood(ctx, access.FromContext(ctx), shop.UpdateInput{Name: req.GetName(), Archived: &archived})
	if err != nil {
		return nil, err
	}
	return GoodOut(g), nil
}

func (s *Shop) RecordArrival(ctx context.Context, req *sanzhiv1.RecordArrivalRequest) (*sanzhiv1.RecordArrivalResponse, error) {
	a, g, dup, err := s.svc.RecordArrival(ctx, access.FromContext(ctx), shop.ArrivalInput{
		Good: req.GetGood(), Quantity: req.GetQuantity(), Note: req.GetNote(), RequestID: req.GetRequestId(),
	})
	if err != nil {
		return nil, err
	}
	return &sanzhiv1.RecordArrivalResponse{
		Arrival: &sanzhiv1.Arrival{
			Id: a.ID, Good: shop.GoodName(a.Village, a.Code), Quantity: a.Quantity, Note: a.Note, Day: string(a.Day),
			StockAfter: a.StockAfter, RecordTime: timestamppb.New(a.Time),
		},
		Good: GoodOut(g), Duplicate: dup,
	}, nil
}

func (s *Shop) Redeem(ctx context.Context, req *sanzhiv1.RedeemRequest) (*sanzhiv1.RedeemResponse, error) {
	r, err := s.svc.Redeem(ctx, access.FromContext(ctx), shop.RedeemInput{
		Household: req.GetHousehold(), Good: req.GetGood(), Quantity: req.GetQuantity(), Note: req.GetNote(), RequestID: req.GetRequestId(),
	})
	if err != nil {
		return nil, err
	}
	village, id, _ := household.ParseName(req.GetHousehold(), "household")
	return &sanzhiv1.RedeemResponse{
		Receipt: ReceiptOut(r.Receipt), Balance: PointsOut(village, id, r.Balance), Good: GoodOut(r.Good), Duplicate: r.Duplicate,
	}, nil
}

func (s *Shop) GetReceipt(ctx context.Context, req *sanzhiv1.GetReceiptRequest) (*sanzhiv1.Receipt, error) {
	r, err := s.svc.Receipt(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return ReceiptOut(r), nil
}

func (s *Shop) ListRedemptions(ctx context.Context, req *sanzhiv1.ListRedemptionsRequest) (*sanzhiv1.ListRedemptionsResponse, error) {
	page, err := s.svc.Receipts(ctx, req.GetParent(), req.GetMonth(), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &sanzhiv1.ListRedemptionsResponse{NextPageToken: page.NextToken}
	for _, r := range page.Receipts {
		out.Receipts = append(out.Receipts, ReceiptOut(r))
	}
	return out, nil
}

func (s *Shop) GetMonthlyReport(ctx context.Context, req *sanzhiv1.GetMonthlyReportRequest) (*sanzhiv1.MonthlyReport, error) {
	r, err := s.svc.MonthlyReport(ctx, req.GetParent(), req.GetMonth())
	if err != nil {
		return nil, err
	}
	var csv bytes.Buffer
	if err := r.WriteCSV(&csv, false); err != nil {
		return nil, err
	}
	out := &sanzhiv1.MonthlyReport{
		Parent: resource.Village(r.Village), Month: r.Month, FromDate: string(r.From), ToDate: string(r.To), Final: r.Final,
		Receipts: int32(r.Receipts), Quantity: r.Quantity, Points: r.Points.String(), Arrived: r.Arrived, Csv: csv.Bytes(),
	}
	for _, x := range r.Rows {
		out.Rows = append(out.Rows, &sanzhiv1.MonthlyReportRow{
			GoodCode: x.Code, NameZh: x.NameZH, NameEn: x.NameEN, Unit: x.Unit, Receipts: int32(x.Receipts),
			Quantity: x.Quantity, Points: x.Points.String(), Arrived: x.Arrived,
		})
	}
	return out, nil
}

// GoodOut converts a good to its API form.
func GoodOut(g *shop.Good) *sanzhiv1.Good {
	return &sanzhiv1.Good{
		Name: g.Name(), Code: g.Code, NameZh: g.NameZH, NameEn: g.NameEN, Unit: g.Unit, Price: g.Price.String(),
		Stock: g.Stock, Archived: g.Archived, Version: int32(g.Version),
		CreateTime: timestamppb.New(g.CreateTime), UpdateTime: timestamppb.New(g.UpdateTime),
	}
}

// ReceiptOut converts a receipt to its API form.
func ReceiptOut(r *shop.Receipt) *sanzhiv1.Receipt {
	return &sanzhiv1.Receipt{
		Name: r.Name(), Household: r.HouseholdName(), GoodCode: r.Code, NameZh: r.NameZH, NameEn: r.NameEN, Unit: r.Unit,
		Quantity: r.Quantity, Price: r.Price.String(), Points: r.Points.String(), RedeemableAfter: r.RedeemableAfter.String(),
		StockAfter: r.StockAfter, LedgerEntry: r.EntryID, Note: r.Note, Day: string(r.Day),
		RedeemTime: timestamppb.New(r.Time), Clerk: r.Clerk,
	}
}
