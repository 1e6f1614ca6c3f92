package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/internal/cli"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// A clerk runs the demo village's 兑换超市 from the terminal: the goods,
// a delivery (once per request id), a redemption with its receipt, the
// refusals (more than the stock, another village's clerk, a bank) that
// write nothing, and the month's report.
func TestShopCommands(t *testing.T) {
	db := demoCopy(t)
	ctx := context.Background()
	// A household of 南阳村 with at least 10 redeemable points.
	st, err := server.OpenStore(ctx, db)
	require.NoError(t, err)
	a, err := app.New(app.Deps{Store: st.Store()})
	require.NoError(t, err)
	var hh string
	var before decimal.Decimal
	require.NoError(t, st.Store().Households().Read(ctx, func(r household.Reader) error {
		hs, err := r.Households(ctx, household.ListQuery{Village: nanyang, Limit: 200})
		for _, h := range hs {
			b, err := a.Evidence.Points(ctx, h.Name(), "")
			if err != nil {
				return err
			}
			if b.Redeemable.GreaterThanOrEqual(decimal.NewFromInt(10)) {
				hh, before = h.Name(), b.Redeemable
				break
			}
		}
		return err
	}))
	st.Close()
	require.NotEmpty(t, hh)
	clerk := []string{"--database", db, "--key", "sz_demo_clerk_nanyang"}
	village := "villages/" + nanyang
	rice := village + "/goods/rice-2.5kg"

	out, err := run(t, append([]string{"shop", "goods", village}, clerk...)...)
	require.NoError(t, err)
	assert.Contains(t, out, "大米 2.5kg")
	assert.Contains(t, out, "rice-2.5kg")

	out, err = run(t, append([]string{"shop", "arrive", rice, "5", "--note", "送货单 88", "--request-id", "cli-d1"}, clerk...)...)
	require.NoError(t, err)
	stock := func() string {
		out, err := run(t, append([]string{"shop", "goods", village}, clerk...)...)
		require.NoError(t, err)
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) > 0 && f[0] == "rice-2.5kg" {
				return f[len(f)-2]
			}
		}
		return ""
	}
	assert.Contains(t, out, "stock now "+stock())
	s1 := stock()
	out, err = run(t, append([]string{"shop", "arrive", rice, "5", "--note", "送货单 88", "--request-id", "cli-d1"}, clerk...)...)
	require.NoError(t, err)
	assert.Contains(t, out, "nothing added")
	assert.Equal(t, s1, stock())

	// More than the stock: the reason in zh-CN, nothing written.
	out, err = run(t, append([]string{"shop", "redeem", hh, "rice-2.5kg", "1001", "--request-id", "cli-r0"}, clerk...)...)
	require.Error(t, err)
	assert.Contains(t, out, "quantity: 数量至多为 1000，现为 1001")
	out, err = run(t, append([]string{"shop", "redeem", hh, "rice-2.5kg", "999", "--request-id", "cli-r0"}, clerk...)...)
	require.Error(t, err)
	assert.Contains(t, out, "quantity: 大米 2.5kg库存只剩")
	assert.Contains(t, err.Error(), "INSUFFICIENT_STOCK: nothing written")
	out, err = run(t, append([]string{"shop", "redeem", hh, "rice-2.5kg", "999", "--request-id", "cli-r0", "--lang", "en"}, clerk...)...)
	require.Error(t, err)
	assert.Contains(t, out, "quantity: only ")
	assert.Equal(t, s1, stock())

	// Another village's clerk, a bank's officer: refused.
	_, err = run(t, "shop", "redeem", hh, "rice-2.5kg", "1", "--request-id", "cli-x", "--database", db, "--key", "sz_demo_clerk_yantou")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "outside the scope")
	_, err = run(t, "shop", "goods", village, "--database", db, "--key", "sz_demo_bank_officer")
	require.Error(t, err)
	_, err = run(t, "shop", "goods", village, "--database", db)
	require.Error(t, err, "no key: the local operator has no grant")

	// The redemption and its receipt; the same request id again takes
	// nothing.
	out, err = run(t, append([]string{"shop", "redeem", hh, "rice-2.5kg", "1", "--note", "春节", "--request-id", "cli-r1"}, clerk...)...)
	require.NoError(t, err)
	assert.Contains(t, out, "兑换超市收据")
	assert.Contains(t, out, "大米 2.5kg（rice-2.5kg）")
	assert.Contains(t, out, "可兑换积分 "+before.Sub(decimal.NewFromInt(10)).String())
	assert.Contains(t, out, "备注  春节")
	s2 := stock()
	assert.NotEqual(t, s1, s2)
	out, err = run(t, append([]string{"shop", "redeem", hh, "rice-2.5kg", "1", "--note", "春节", "--request-id", "cli-r1"}, clerk...)...)
	require.NoError(t, err)
	assert.Contains(t, out, "nothing taken again")
	assert.Equal(t, s2, stock())

	out, err = run(t, append([]string{"shop", "receipts", hh}, clerk...)...)
	require.NoError(t, err)
	assert.Contains(t, out, "rice-2.5kg")

	month := time.Now().In(household.Shanghai).Format("2006-01")
	out, err = run(t, append([]string{"shop", "report", village, month, "--csv"}, clerk...)...)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(out, "\ufeff物品编码,物品"), out)
	assert.Contains(t, out, "\r\n合计,,,")
	out, err = run(t, append([]string{"shop", "report", village, month, "--lang", "en"}, clerk...)...)
	require.NoError(t, err)
	assert.Contains(t, out, "Rice 2.5 kg")
	_, err = run(t, append([]string{"shop", "report", village, "2026-13"}, clerk...)...)
	require.Error(t, err)

	_, err = run(t, append([]string{"shop", "redeem", hh, "rice-2.5kg", "two"}, clerk...)...)
	assert.Equal(t, cli.ExitUsage, cli.Code(err), "a quantity that is not a number is a bad command line")

	out, err = run(t, append([]string{"shop", "set-price", rice, "0"}, clerk...)...)
	require.Error(t, err)
	assert.Contains(t, out, "price: 积分价须大于 0")
}
