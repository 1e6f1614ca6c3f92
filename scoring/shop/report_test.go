package shop

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
)

func TestParseMonth(t *testing.T) {
	from, to, err := ParseMonth("month", "2026-02", "2026-03-10")
	require.NoError(t, err)
	assert.Equal(t, household.Date("2026-02-01"), from)
	assert.Equal(t, household.Date("2026-02-28"), to)
	_, to, err = ParseMonth("month", "2024-02", "2026-03-10")
	require.NoError(t, err)
	assert.Equal(t, household.Date("2024-02-29"), to, "leap year")
	_, to, err = ParseMonth("month", "2026-03", "2026-03-01")
	require.NoError(t, err, "the current month, on its first day")
	assert.Equal(t, household.Date("2026-03-31"), to)
	for _, bad := range []string{"2026-3", "2026-13", "202603", "2026-04", ""} {
		_, _, err := ParseMonth("month", bad, "2026-03-10")
		require.Error(t, err, bad)
		assert.Equal(t, fault.Invalid, fault.KindOf(err), bad)
	}
}

func TestBuildReport(t *testing.T) {
	goods := []*Good{
		{Code: "rice", NameZH: "大米", NameEN: "Rice", Unit: "袋"},
		{Code: "oil", NameZH: "油", Unit: "桶"},
		{Code: "soap", NameZH: "肥皂", Unit: "块"}, // no activity: no row
	}
	rc := func(code, day string, q int64, pts string) *Receipt {
		return &Receipt{Code: code, NameZH: "旧名", Unit: "x", Quantity: q, Points: d(pts), Day: household.Date(day)}
	}
	receipts := []*Receipt{
		rc("rice", "2026-02-01", 2, "40"),
		rc("rice", "2026-02-28", 1, "20"),
		rc("oil", "2026-02-14", 1, "35.5"),
		rc("rice", "2026-01-31", 9, "180"), // the month before: outside
		rc("rice", "2026-03-01", 9, "180"), // the month after: outside
		rc("towel", "2026-02-10", 3, "15"), // a good since deleted from the list: its receipt names it
	}
	arrivals := []*Arrival{{Code: "oil", Quantity: 10, Day: "2026-02-02"}, {Code: "rice", Quantity: 5, Day: "2026-03-01"}}
	r := BuildReport("330483102201", "2026-02", "2026-02-01", "2026-02-28", "2026-03-05", goods, receipts, arrivals)
	assert.True(t, r.Final)
	require.Len(t, r.Rows, 3)
	assert.Equal(t, []string{"oil", "rice", "towel"}, []string{r.Rows[0].Code, r.Rows[1].Code, r.Rows[2].Code})
	oil, rice, towel := r.Rows[0], r.Rows[1], r.Rows[2]
	assert.Equal(t, "油", oil.NameZH)
	assert.Equal(t, int64(10), oil.Arrived)
	assert.Equal(t, "35.5", oil.Points.String())
	assert.Equal(t, "Rice", rice.NameEN)
	assert.Equal(t, 2, rice.Receipts)
	assert.Equal(t, int64(3), rice.Quantity)
	assert.Equal(t, "60", rice.Points.String())
	assert.Equal(t, int64(0), rice.Arrived, "March's arrival is not February's")
	assert.Equal(t, "旧名", towel.NameZH)
	assert.Equal(t, 4, r.Receipts)
	assert.Equal(t, int64(7), r.Quantity)
	assert.Equal(t, "110.5", r.Points.String())
	assert.Equal(t, int64(10), r.Arrived)

	open := BuildReport("330483102201", "2026-02", "2026-02-01", "2026-02-28", "2026-02-28", goods, receipts, arrivals)
	assert.False(t, open.Final, "the month's last day is not over")

	var buf bytes.Buffer
	require.NoError(t, r.WriteCSV(&buf, false))
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\r\n"), "\r\n")
	assert.Equal(t, []string{
		"\ufeff物品编码,物品,单位,兑换笔数,兑换数量,消耗积分,到货数量",
		"oil,油,桶,1,1,35.5,10",
		"rice,大米,袋,2,3,60,0",
		"towel,旧名,x,1,3,15,0",
		"合计,,,4,7,110.5,10",
	}, lines)
	buf.Reset()
	require.NoError(t, r.WriteCSV(&buf, true))
	assert.Contains(t, buf.String(), "Code,Good,Unit,Redemptions,Quantity,Points spent,Arrived\r\n")
	assert.Contains(t, buf.String(), "rice,Rice,袋,2,3,60,0\r\n")
	assert.Contains(t, buf.String(), "oil,油,桶", "no English name: the Chinese one")

	evil := BuildReport("v", "2026-02", "2026-02-01", "2026-02-28", "2026-03-05", []*Good{{Code: "x", NameZH: "=HYPERLINK(1)", Unit: "+"}},
		[]*Receipt{{Code: "x", Quantity: 1, Points: d("1"), Day: "2026-02-02"}}, nil)
	buf.Reset()
	require.NoError(t, evil.WriteCSV(&buf, false))
	assert.Contains(t, buf.String(), "x,'=HYPERLINK(1),'+,1,1,1,0")
}
