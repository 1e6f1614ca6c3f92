package simulate

import (
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/access"
)

// View is what a simulation's caller may see of the population. A
// simulation reads every household without any household's consent, so
// what leaves it must not be data about a household (DESIGN.md §3,
// "Lawful basis"): a bank (and an operator) gets aggregates only; a
// regulator, who may read every decision anyway, also gets the sample
// rows, masked.
type View int

const (
	// Aggregate: distributions, migrations, exposure by village and
	// knock-out counts. No sample rows, and villages with fewer than
	// MinCell households pooled into one row.
	Aggregate View = iota
	// Masked: Aggregate's figures unpooled, plus the sample rows with the
	// household's resource name (a pseudonymous id) and the head's name
	// masked (沈建国 → 沈*国). Never a 身份证号.
	Masked
)

// MinCell is the smallest number of households a by-village row may
// describe in the Aggregate view: a cell of one or two households is those
// households' grades and limits. A village with fewer is pooled with the
// other small villages into one row, and a pool still smaller than MinCell
// takes in the smallest other village. Rows are pooled rather than shown
// as "<5": a withheld cell is recovered by subtracting the others from the
// total, a pool of five or more is not.
const MinCell = 5

// ViewFor is the view a principal's simulation is rendered in: regulators
// see masked sample rows, everyone else aggregates only. The caller's
// right to simulate at all is the authorisation table's business.
func ViewFor(p *access.Principal) View {
	if p != nil && p.Role == access.Regulator {
		return Masked
	}
	return Aggregate
}

// MaskName keeps a name's first and (for three characters or more) last
// character: 沈建国 → 沈*国, 王伟 → 王*, 欧阳娜娜 → 欧**娜. A one-character
// name becomes "*".
func MaskName(name string) string {
	r := []rune(strings.TrimSpace(name))
	switch len(r) {
	case 0:
		return ""
	case 1:
		return "*"
	case 2:
		return string(r[0]) + "*"
	default:
		return string(r[0]) + strings.Repeat("*", len(r)-2) + string(r[len(r)-1])
	}
}

// For returns a copy of the report fit for view v. The receiver is not
// changed.
func (r *Report) For(v View) *Report {
	out := *r
	out.View = v
	out.Gained, out.Lost = r.Gained.forView(v), r.Lost.forView(v)
	if v == Masked {
		out.ByVillage = append([]VillageRow(nil), r.ByVillage...)
		return &out
	}
	out.Fairness = poolFairness(r.Fairness)
	out.ByVillage = nil
	pool := VillageRow{Pooled: 0, Base: decimal.Zero, New: decimal.Zero}
	for _, row := range r.ByVillage {
		if row.Households >= MinCell {
			out.ByVillage = append(out.ByVillage, row)
			continue
		}
		pool.Pooled++
		pool.Households += row.Households
		pool.EligibleBase += row.EligibleBase
		pool.EligibleNew += row.EligibleNew
		pool.Base, pool.New = pool.Base.Add(row.Base), pool.New.Add(row.New)
	}
	if pool.Pooled > 0 && pool.Households < MinCell && len(out.ByVillage) > 0 {
		// A pool of fewer than MinCell households would be recoverable
		// from the totals (total minus the other rows), so the smallest
		// village joins it: every row then covers MinCell households or
		// more, and no subtraction isolates fewer.
		small := 0
		for i, row := range out.ByVillage {
			if row.Households < out.ByVillage[small].Households {
				small = i
			}
		}
		row := out.ByVillage[small]
		out.ByVillage = append(out.ByVillage[:small:small], out.ByVillage[small+1:]...)
		pool.Pooled++
		pool.Households += row.Households
		pool.EligibleBase += row.EligibleBase
		pool.EligibleNew += row.EligibleNew
		pool.Base, pool.New = pool.Base.Add(row.Base), pool.New.Add(row.New)
	}
	if pool.Pooled > 0 {
		out.ByVillage = append(out.ByVillage, pool)
	}
	return &out
}

// samples returns the sample rows a renderer may print: only a report
// cut for the Masked view has any (and their names are masked), so a
// report that skipped For prints none.
func (r *Report) samples(c Change) []Sample {
	if r.View != Masked {
		return nil
	}
	return c.Sample
}

func (c Change) forView(v View) Change {
	out := Change{Count: c.Count}
	if v != Masked {
		return out
	}
	for _, s := range c.Sample {
		s.HeadName = MaskName(s.HeadName)
		out.Sample = append(out.Sample, s)
	}
	return out
}

// PooledLabel names the row of pooled small villages, in zh-CN or English.
func PooledLabel(en bool) string {
	return labels(en).t("其他村（合并，单村不足5户）", "other villages (pooled: fewer than 5 households each)")
}

// villageLabel names a row of the by-village table.
func villageLabel(l labels, v VillageRow) string {
	if v.Pooled > 0 {
		return PooledLabel(bool(l))
	}
	return v.Village
}

// villageCells renders a by-village row: households, eligible base,
// eligible new, exposure base, new and change.
func (r *Report) villageCells(l labels, v VillageRow, money func(decimal.Decimal) string, change func(decimal.Decimal) string) []string {
	return []string{strconv.Itoa(v.Households), r.baseOr(l, strconv.Itoa(v.EligibleBase)), strconv.Itoa(v.EligibleNew),
		r.baseOr(l, money(v.Base)), money(v.New), r.baseOr(l, change(v.Change()))}
}
