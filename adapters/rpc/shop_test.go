package rpc_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// zhOf is the zh-CN localized message of the violation of field.
func zhOf(err error, field string) string {
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.FieldViolations {
				if v.Field == field && v.LocalizedMessage != nil {
					return v.LocalizedMessage.Message
				}
			}
		}
	}
	return ""
}

// shopState is what a shop write could change: every good's stock, the
// village's receipts, the households' points and the audit log.
func shopState(t *testing.T, e *env, households ...string) string {
	t.Helper()
	var b strings.Builder
	goods, err := e.shop.ListGoods(e.as("clerk-a"), &sanzhiv1.ListGoodsRequest{Parent: "villages/" + villageA, ShowArchived: true})
	require.NoError(t, err)
	for _, g := range goods.Goods {
		fmt.Fprintf(&b, "%s stock=%d price=%s v%d\n", g.Code, g.Stock, g.Price, g.Version)
	}
	rs, err := e.shop.ListRedemptions(e.as("clerk-a"), &sanzhiv1.ListRedemptionsRequest{Parent: "villages/" + villageA, PageSize: 1000})
	require.NoError(t, err)
	fmt.Fprintf(&b, "receipts=%d\n", len(rs.Receipts))
	b.WriteString(snapshot(t, e, households...))
	return b.String()
}

func TestShop(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		e.noonTomorrow()
		activateCounty(t, e)
		clerk := e.as("clerk-a")
		village := "villages/" + villageA
		h1, p1 := newHousehold(t, e, villageA, true)
		h2, p2 := newHousehold(t, e, villageA, true)
		hB, _ := newHousehold(t, e, villageB, false)
		for _, h := range []string{h1, h2} {
			_, err := e.evidence.SubmitEvidence(clerk, pointsReq(e, h, "ZZ-MS-05", 6))
			require.NoError(t, err)
		}
		e.clock.Advance(time.Duration(noticeDays+1) * 24 * time.Hour)

		// The catalogue: each bad field named, in both languages.
		for _, tc := range []struct {
			good  *sanzhiv1.Good
			field string
		}{
			{&sanzhiv1.Good{Code: "Rice 5kg", NameZh: "大米", Unit: "袋", Price: "5"}, "good.code"},
			{&sanzhiv1.Good{Code: "rice", NameZh: "", Unit: "袋", Price: "5"}, "good.name_zh"},
			{&sanzhiv1.Good{Code: "rice", NameZh: "大米", Unit: "", Price: "5"}, "good.unit"},
			{&sanzhiv1.Good{Code: "rice", NameZh: "大米", Unit: "袋", Price: "0"}, "good.price"},
			{&sanzhiv1.Good{Code: "rice", NameZh: "大米", Unit: "袋", Price: "-5"}, "good.price"},
			{&sanzhiv1.Good{Code: "rice", NameZh: "大米", Unit: "袋", Price: "1.25"}, "good.price"}, // the catalogue's precision is 1
		} {
			_, err := e.shop.CreateGood(clerk, &sanzhiv1.CreateGoodRequest{Parent: village, Good: tc.good})
			requireCode(t, err, codes.InvalidArgument, tc.field, "")
			assert.NotEmpty(t, zhOf(err, tc.field), tc.field)
		}
		rice := &sanzhiv1.Good{Code: "rice-5kg", NameZh: "大米 5kg", NameEn: "Rice 5 kg", Unit: "袋", Price: "5"}
		g, err := e.shop.CreateGood(clerk, &sanzhiv1.CreateGoodRequest{Parent: village, Good: rice})
		require.NoError(t, err)
		assert.Equal(t, village+"/goods/rice-5kg", g.Name)
		assert.Equal(t, int64(0), g.Stock)
		again, err := e.shop.CreateGood(clerk, &sanzhiv1.CreateGoodRequest{Parent: village, Good: rice})
		require.NoError(t, err, "the same good again is the stored one")
		assert.Equal(t, g.CreateTime.AsTime(), again.CreateTime.AsTime())
		_, err = e.shop.CreateGood(clerk, &sanzhiv1.CreateGoodRequest{Parent: village,
			Good: &sanzhiv1.Good{Code: "rice-5kg", NameZh: "香米", Unit: "袋", Price: "9"}})
		requireCode(t, err, codes.AlreadyExists, "", "")
		assert.Equal(t, "GOOD_EXISTS", reasonOf(err))
		soap, err := e.shop.CreateGood(clerk, &sanzhiv1.CreateGoodRequest{Parent: village,
			Good: &sanzhiv1.Good{Code: "soap", NameZh: "肥皂", Unit: "块", Price: "2.5"}})
		require.NoError(t, err)

		// Stock arrives, once per request id.
		arrival := &sanzhiv1.RecordArrivalRequest{Good: g.Name, Quantity: 2, Note: "送货单 0311", RequestId: "a-1"}
		a, err := e.shop.RecordArrival(clerk, arrival)
		require.NoError(t, err)
		assert.Equal(t, int64(2), a.Good.Stock)
		a2, err := e.shop.RecordArrival(clerk, arrival)
		require.NoError(t, err)
		assert.True(t, a2.Duplicate)
		assert.Equal(t, a.Arrival.Id, a2.Arrival.Id)
		assert.Equal(t, int64(2), a2.Good.Stock, "a retry adds nothing")
		_, err = e.shop.RecordArrival(clerk, &sanzhiv1.RecordArrivalRequest{Good: g.Name, Quantity: 3, RequestId: "a-1"})
		requireCode(t, err, codes.AlreadyExists, "", "")
		_, err = e.shop.RecordArrival(clerk, &sanzhiv1.RecordArrivalRequest{Good: g.Name, Quantity: 0, RequestId: "a-2"})
		requireCode(t, err, codes.InvalidArgument, "quantity", "")
		_, err = e.shop.RecordArrival(clerk, &sanzhiv1.RecordArrivalRequest{Good: village + "/goods/none", Quantity: 1, RequestId: "a-3"})
		requireCode(t, err, codes.NotFound, "", "")
		_, err = e.shop.RecordArrival(clerk, &sanzhiv1.RecordArrivalRequest{Good: soap.Name, Quantity: 10, RequestId: "a-4"})
		require.NoError(t, err)

		// Refusals write nothing: more than the stock, more than the
		// balance, another village's household, a bank, a reviewer.
		before := shopState(t, e, h1, h2)
		_, err = e.shop.Redeem(clerk, &sanzhiv1.RedeemRequest{Household: h1, Good: "rice-5kg", Quantity: 3, RequestId: "c-stock"})
		requireCode(t, err, codes.FailedPrecondition, "quantity", "only 2")
		assert.Equal(t, "INSUFFICIENT_STOCK", reasonOf(err))
		assert.Equal(t, "大米 5kg库存只剩 2 袋，要兑换 3 袋", zhOf(err, "quantity"))
		_, err = e.shop.Redeem(clerk, &sanzhiv1.RedeemRequest{Household: h1, Good: "soap", Quantity: 3, RequestId: "c-points"})
		requireCode(t, err, codes.FailedPrecondition, "quantity", "7.5 points")
		assert.Equal(t, "INSUFFICIENT_POINTS", reasonOf(err))
		assert.Equal(t, "3 块肥皂需 7.5 积分；该户可兑换积分只有 6", zhOf(err, "quantity"))
		_, err = e.shop.Redeem(clerk, &sanzhiv1.RedeemRequest{Household: h1, Good: "oil", Quantity: 1, RequestId: "c-none"})
		requireCode(t, err, codes.NotFound, "", "")
		_, err = e.shop.Redeem(clerk, &sanzhiv1.RedeemRequest{Household: hB, Good: "rice-5kg", Quantity: 1, RequestId: "c-other"})
		requireCode(t, err, codes.PermissionDenied, "", "")
		for _, who := range []string{"officer", "risk-1", "reviewer-a", p1, "clerk-b"} {
			_, err = e.shop.Redeem(e.as(who), &sanzhiv1.RedeemRequest{Household: h1, Good: "rice-5kg", Quantity: 1, RequestId: "c-" + who})
			requireCode(t, err, codes.PermissionDenied, "", "")
		}
		_, err = e.shop.Redeem(clerk, &sanzhiv1.RedeemRequest{Household: h1, Good: "rice-5kg", Quantity: 1001, RequestId: "c-many"})
		requireCode(t, err, codes.InvalidArgument, "quantity", "")
		assert.Equal(t, before, shopState(t, e, h1, h2), "no refusal wrote anything")

		// A redemption: stock and redeemable points down together, credit
		// untouched; a retry is the same receipt.
		req := &sanzhiv1.RedeemRequest{Household: h1, Good: "rice-5kg", Quantity: 1, Note: "春节", RequestId: "c-1"}
		r, err := e.shop.Redeem(clerk, req)
		require.NoError(t, err)
		assert.False(t, r.Duplicate)
		assert.Equal(t, "5", r.Receipt.Points)
		assert.Equal(t, "1", r.Receipt.RedeemableAfter)
		assert.Equal(t, int64(1), r.Receipt.StockAfter)
		assert.Equal(t, int64(1), r.Good.Stock)
		assert.Equal(t, "1", r.Balance.Redeemable)
		assert.Equal(t, "106", r.Balance.Credit, "credit points untouched")
		assert.Equal(t, "大米 5kg", r.Receipt.NameZh)
		assert.True(t, strings.HasPrefix(r.Receipt.Name, h1+"/redemptions/"))
		dup, err := e.shop.Redeem(clerk, req)
		require.NoError(t, err)
		assert.True(t, dup.Duplicate)
		assert.Equal(t, r.Receipt.Name, dup.Receipt.Name)
		assert.Equal(t, int64(1), dup.Good.Stock)
		req.Quantity = 2
		_, err = e.shop.Redeem(clerk, req)
		requireCode(t, err, codes.AlreadyExists, "", "")
		assert.Equal(t, "REQUEST_ID_REUSED", reasonOf(err))
		pts, err := e.points.GetPoints(e.as(p1), &sanzhiv1.GetPointsRequest{Household: h1})
		require.NoError(t, err)
		assert.Equal(t, "5", pts.Redeemed)
		assert.Equal(t, "106", pts.Credit)

		r2, err := e.shop.Redeem(clerk, &sanzhiv1.RedeemRequest{Household: h2, Good: "soap", Quantity: 2, RequestId: "c-2"})
		require.NoError(t, err)
		assert.Equal(t, "5", r2.Receipt.Points)

		// Reading receipts: the household its own only; staff their
		// village; banks nothing.
		got, err := e.shop.GetReceipt(e.as(p1), &sanzhiv1.GetReceiptRequest{Name: r.Receipt.Name})
		require.NoError(t, err)
		assert.Equal(t, "春节", got.Note)
		_, err = e.shop.GetReceipt(e.as(p2), &sanzhiv1.GetReceiptRequest{Name: r.Receipt.Name})
		requireCode(t, err, codes.PermissionDenied, "", "")
		mine, err := e.shop.ListRedemptions(e.as(p1), &sanzhiv1.ListRedemptionsRequest{Parent: h1})
		require.NoError(t, err)
		require.Len(t, mine.Receipts, 1)
		assert.Equal(t, r.Receipt.Name, mine.Receipts[0].Name)
		_, err = e.shop.ListRedemptions(e.as(p1), &sanzhiv1.ListRedemptionsRequest{Parent: village})
		requireCode(t, err, codes.PermissionDenied, "", "")
		for _, who := range []string{"officer", "risk-1", "clerk-b"} {
			_, err = e.shop.ListRedemptions(e.as(who), &sanzhiv1.ListRedemptionsRequest{Parent: village})
			requireCode(t, err, codes.PermissionDenied, "", "")
			_, err = e.shop.ListGoods(e.as(who), &sanzhiv1.ListGoodsRequest{Parent: village})
			requireCode(t, err, codes.PermissionDenied, "", "")
		}
		all, err := e.shop.ListRedemptions(e.as("reviewer-a"), &sanzhiv1.ListRedemptionsRequest{Parent: village, PageSize: 1})
		require.NoError(t, err)
		require.Len(t, all.Receipts, 1)
		assert.Equal(t, r2.Receipt.Name, all.Receipts[0].Name, "newest first")
		next, err := e.shop.ListRedemptions(e.as("reviewer-a"), &sanzhiv1.ListRedemptionsRequest{Parent: village, PageSize: 1, PageToken: all.NextPageToken})
		require.NoError(t, err)
		require.Len(t, next.Receipts, 1)
		assert.Equal(t, r.Receipt.Name, next.Receipts[0].Name)
		_, err = e.shop.ListRedemptions(e.as("reviewer-a"), &sanzhiv1.ListRedemptionsRequest{Parent: h1, PageToken: all.NextPageToken})
		requireCode(t, err, codes.InvalidArgument, "page_token", "")

		// The month's report.
		month := e.today()[:7]
		rep, err := e.shop.GetMonthlyReport(e.as("reviewer-a"), &sanzhiv1.GetMonthlyReportRequest{Parent: village, Month: month})
		require.NoError(t, err)
		assert.False(t, rep.Final)
		require.Len(t, rep.Rows, 2)
		assert.Equal(t, "rice-5kg", rep.Rows[0].GoodCode)
		assert.Equal(t, int64(1), rep.Rows[0].Quantity)
		assert.Equal(t, int64(2), rep.Rows[0].Arrived)
		assert.Equal(t, "soap", rep.Rows[1].GoodCode)
		assert.Equal(t, int64(2), rep.Rows[1].Quantity)
		assert.Equal(t, "10", rep.Points)
		assert.Equal(t, int32(2), rep.Receipts)
		assert.Contains(t, string(rep.Csv), "合计,,,2,3,10,12")
		_, err = e.shop.GetMonthlyReport(clerk, &sanzhiv1.GetMonthlyReportRequest{Parent: village, Month: nextYear(e.today())})
		requireCode(t, err, codes.InvalidArgument, "month", "not started")
		_, err = e.shop.GetMonthlyReport(clerk, &sanzhiv1.GetMonthlyReportRequest{Parent: village, Month: "2026-13"})
		requireCode(t, err, codes.InvalidArgument, "month", "")

		// Price changes keep old receipts; a stale version is refused;
		// an archived good is neither listed nor redeemed.
		up, err := e.shop.UpdateGood(clerk, &sanzhiv1.UpdateGoodRequest{Name: g.Name, Price: "6", Version: g.Version})
		require.NoError(t, err)
		assert.Equal(t, "6", up.Price)
		_, err = e.shop.UpdateGood(clerk, &sanzhiv1.UpdateGoodRequest{Name: g.Name, Price: "7", Version: g.Version})
		requireCode(t, err, codes.FailedPrecondition, "", "")
		assert.Equal(t, "CONCURRENT_CHANGE", reasonOf(err))
		_, err = e.shop.UpdateGood(clerk, &sanzhiv1.UpdateGoodRequest{Name: g.Name, Price: "0.05"})
		requireCode(t, err, codes.InvalidArgument, "price", "")
		old, err := e.shop.GetReceipt(clerk, &sanzhiv1.GetReceiptRequest{Name: r.Receipt.Name})
		require.NoError(t, err)
		assert.Equal(t, "5", old.Price)
		_, err = e.shop.ArchiveGood(clerk, &sanzhiv1.ArchiveGoodRequest{Name: soap.Name, Archived: true})
		require.NoError(t, err)
		list, err := e.shop.ListGoods(clerk, &sanzhiv1.ListGoodsRequest{Parent: village})
		require.NoError(t, err)
		require.Len(t, list.Goods, 1)
		_, err = e.shop.Redeem(clerk, &sanzhiv1.RedeemRequest{Household: h2, Good: "soap", Quantity: 1, RequestId: "c-3"})
		requireCode(t, err, codes.FailedPrecondition, "good", "archived")
		assert.Equal(t, "GOOD_ARCHIVED", reasonOf(err))
	})
}

// nextYear is January of the year after day's.
func nextYear(day string) string {
	var y int
	_, _ = fmt.Sscanf(day, "%d-", &y)
	return fmt.Sprintf("%d-01", y+1)
}
