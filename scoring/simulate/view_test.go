package simulate

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
)

func TestMaskName(t *testing.T) {
	for in, want := range map[string]string{"沈建国": "沈*国", "王伟": "王*", "欧阳娜娜": "欧**娜", "李": "*", "": "", " 张三 ": "张*"} {
		assert.Equal(t, want, MaskName(in), in)
	}
}

func TestViewFor(t *testing.T) {
	assert.Equal(t, Masked, ViewFor(&access.Principal{Role: access.Regulator}))
	for _, r := range []access.Role{access.BankRisk, access.BankOfficer, access.Operator, access.VillageClerk} {
		assert.Equal(t, Aggregate, ViewFor(&access.Principal{Role: r}), r)
	}
	assert.Equal(t, Aggregate, ViewFor(nil))
}

func row(v string, n int, limit int64) VillageRow {
	return VillageRow{Village: v, Households: n, EligibleNew: n, Base: decimal.Zero, New: decimal.NewFromInt(limit)}
}

// Small villages are pooled; a pool still under MinCell takes in the
// smallest village, so that no row, and no difference of a row from the
// total, describes fewer than MinCell households.
func TestAggregatePoolsSmallVillages(t *testing.T) {
	r := &Report{
		Gained:    Change{Count: 1, Sample: []Sample{{Name: "villages/1/households/x", HeadName: "沈建国"}}},
		ByVillage: []VillageRow{row("A", 9, 900), row("B", 2, 20), row("C", 6, 60), row("D", 1, 1)},
	}
	agg := r.For(Aggregate)
	assert.Equal(t, 1, agg.Gained.Count)
	assert.Empty(t, agg.Gained.Sample)
	require.Len(t, agg.ByVillage, 2)
	assert.Equal(t, "A", agg.ByVillage[0].Village)
	pool := agg.ByVillage[1]
	assert.Equal(t, 3, pool.Pooled, "B and D, then C, the smallest other village")
	assert.Equal(t, 9, pool.Households)
	assert.Equal(t, "81", pool.New.String())
	for _, v := range agg.ByVillage {
		assert.GreaterOrEqual(t, v.Households, MinCell)
	}
	assert.Len(t, r.ByVillage, 4, "the receiver is unchanged")

	// A pool of MinCell or more stands alone.
	r.ByVillage = []VillageRow{row("A", 9, 900), row("B", 3, 30), row("D", 2, 2)}
	agg = r.For(Aggregate)
	require.Len(t, agg.ByVillage, 2)
	assert.Equal(t, 5, agg.ByVillage[1].Households)

	m := r.For(Masked)
	assert.Equal(t, "沈*国", m.Gained.Sample[0].HeadName)
	assert.Equal(t, "沈建国", r.Gained.Sample[0].HeadName, "the receiver is unchanged")
	assert.Len(t, m.ByVillage, 3)
}

// A report that skipped For prints no sample rows in any format: the
// renderers show rows only for the Masked view, whose names are masked.
func TestRenderersPrintRowsOnlyWhenMasked(t *testing.T) {
	r := &Report{Base: &PolicyRef{Bank: "b"}, New: PolicyRef{Bank: "b"},
		Lost: Change{Count: 1, Sample: []Sample{{Name: "villages/1/households/h-1", HeadName: "沈建国"}}}}
	render := func(r *Report) string {
		var b strings.Builder
		require.NoError(t, r.WriteTable(&b, true))
		require.NoError(t, r.WriteCSV(&b))
		require.NoError(t, r.WriteHTML(&b, false))
		return b.String()
	}
	out := render(r)
	assert.NotContains(t, out, "沈建国")
	assert.NotContains(t, out, "h-1")
	out = render(r.For(Masked))
	assert.NotContains(t, out, "沈建国")
	assert.Contains(t, out, "沈*国")
	assert.Contains(t, out, "h-1")
}
