package simulate

import (
	"fmt"
	"io"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/scoring/modelrisk"
)

// This file is the fairness part of the report: pooling small groups for
// the Aggregate view, and the tables.

// PooledGroup is the key of a dimension's pooled small groups.
const PooledGroup = "pooled"

// poolFairness returns fr with, in each dimension, the groups of fewer
// than MinCell households pooled into one row, by the rule of the
// by-village table: a pool still under MinCell takes in the smallest other
// group. The most favoured group (at least modelrisk's MinGroup, which is
// above MinCell) is never pooled, so the pool's ratio is against it.
func poolFairness(fr modelrisk.FairnessReport) modelrisk.FairnessReport {
	out := fr
	out.Dimensions = nil
	for _, d := range fr.Dimensions {
		nd := modelrisk.Dimension{Name: d.Name, MostFavoured: d.MostFavoured}
		var ref *modelrisk.Group
		for i := range d.Groups {
			if d.Groups[i].Key == d.MostFavoured {
				ref = &d.Groups[i]
			}
		}
		pool := modelrisk.Group{Key: PooledGroup}
		pooled := 0
		add := func(g modelrisk.Group) {
			pooled++
			pool.Decisions += g.Decisions
			pool.Approved += g.Approved
			pool.LimitFen += g.LimitFen
			pool.RateMicro += g.RateMicro
		}
		for _, g := range d.Groups {
			if g.Decisions >= MinCell {
				nd.Groups = append(nd.Groups, g)
				continue
			}
			add(g)
		}
		if pooled > 0 && pool.Decisions < MinCell && len(nd.Groups) > 0 {
			small := -1
			for i, g := range nd.Groups {
				if g.Key != d.MostFavoured && (small < 0 || g.Decisions < nd.Groups[small].Decisions) {
					small = i
				}
			}
			if small >= 0 {
				add(nd.Groups[small])
				nd.Groups = append(nd.Groups[:small:small], nd.Groups[small+1:]...)
			}
		}
		if pooled > 0 {
			pool.ApprovalRate = float64(pool.Approved) / float64(pool.Decisions)
			pool.AvgLimit, pool.AvgRate = decimal.Zero, decimal.Zero
			if pool.Approved > 0 {
				n := decimal.NewFromInt(pool.Approved)
				pool.AvgLimit = decimal.New(pool.LimitFen, -2).DivRound(n, 2)
				pool.AvgRate = decimal.New(pool.RateMicro, -6).DivRound(n, 6)
			}
			pool.Small = pool.Decisions < int64(fr.MinGroup)
			if ref != nil && ref.Approved > 0 {
				pool.HasRatio = true
				pool.AdverseImpact = float64(pool.Approved*ref.Decisions) / float64(pool.Decisions*ref.Approved)
				pool.Flagged = !pool.Small && pool.AdverseImpact < fr.AdverseImpact
			}
			nd.Groups = append(nd.Groups, pool)
		}
		out.Dimensions = append(out.Dimensions, nd)
	}
	return out
}

// MinAdverseImpact is the lowest adverse-impact ratio of a group that
// may be flagged (not small, not unknown, not a pool mixing groups), and
// the dimension and group it belongs to; ok is false when no group has a
// ratio.
func MinAdverseImpact(fr modelrisk.FairnessReport) (ratio float64, dim, group string, ok bool) {
	for _, d := range fr.Dimensions {
		for _, g := range d.Groups {
			if !g.HasRatio || g.Small || g.Key == modelrisk.Unknown || g.Key == PooledGroup {
				continue
			}
			if !ok || g.AdverseImpact < ratio {
				ratio, dim, group, ok = g.AdverseImpact, d.Name, g.Key, true
			}
		}
	}
	return ratio, dim, group, ok
}

// DimensionLabel names a fairness dimension.
func DimensionLabel(name string, en bool) string {
	l := labels(en)
	switch name {
	case modelrisk.ByVillage:
		return l.t("按村", "By village")
	case modelrisk.BySex:
		return l.t("按性别（户主，由身份证号推算）", "By sex (of the head, from the 身份证号)")
	case modelrisk.ByAge:
		return l.t("按年龄段（户主）", "By age band (of the head)")
	}
	return name
}

// GroupLabel names a group of a dimension.
func GroupLabel(key string, en bool) string {
	l := labels(en)
	switch key {
	case "female":
		return l.t("女", "female")
	case "male":
		return l.t("男", "male")
	case modelrisk.Unknown:
		return l.t("未知", "unknown")
	case PooledGroup:
		return l.t("其他（合并，单组不足5户）", "others (pooled: fewer than 5 each)")
	}
	return key
}

// FairnessHead is the header of a fairness table.
func FairnessHead(en bool) []string {
	l := labels(en)
	return []string{l.t("组", "group"), l.t("户数", "households"), l.t("可授信", "eligible"), l.t("通过率", "approval"),
		l.t("平均额度（元）", "avg limit (yuan)"), l.t("平均利率", "avg rate"), l.t("不利影响比", "adverse impact"), ""}
}

// FairnessCells renders one group's row.
func FairnessCells(g modelrisk.Group, en bool) []string {
	l := labels(en)
	ratio, flag := "—", ""
	if g.HasRatio {
		ratio = strconv.FormatFloat(g.AdverseImpact, 'f', 2, 64)
	}
	switch {
	case g.Flagged:
		flag = l.t("低于阈值", "below threshold")
	case g.Small:
		flag = l.t("样本小，不判定", "small: not judged")
	}
	return []string{GroupLabel(g.Key, en), strconv.FormatInt(g.Decisions, 10), strconv.FormatInt(g.Approved, 10),
		strconv.FormatFloat(100*g.ApprovalRate, 'f', 1, 64) + "%", Yuan(g.AvgLimit),
		g.AvgRate.Shift(2).StringFixed(2) + "%", ratio, flag}
}

// writeFairnessTable writes the fairness tables as aligned text.
func (r *Report) writeFairnessTable(w io.Writer, l labels) {
	if len(r.Fairness.Dimensions) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, l.t("公平性（新政策；不利影响比低于 %.2f 标记，不足 %d 户的组不判定）\n",
		"Fairness (new policy; adverse-impact ratios under %.2f flagged, groups under %d not judged)\n"),
		r.Fairness.AdverseImpact, r.Fairness.MinGroup)
	for _, d := range r.Fairness.Dimensions {
		fmt.Fprintln(w, DimensionLabel(d.Name, bool(l)))
		rows := [][]string{FairnessHead(bool(l))}
		for _, g := range d.Groups {
			rows = append(rows, FairnessCells(g, bool(l)))
		}
		table(w, rows)
	}
	if r.ScoreShift != nil {
		fmt.Fprintf(w, l.t("评分稳定性（新政策对照政策，同一批农户）：PSI %.4f（%s）\n", "Score stability (new against base, same households): PSI %.4f (%s)\n"),
			r.ScoreShift.Value, r.ScoreShift.Level)
	}
}

// fairnessCSV is the fairness section's rows.
func (r *Report) fairnessCSV() [][]string {
	var rows [][]string
	for _, d := range r.Fairness.Dimensions {
		for _, g := range d.Groups {
			ratio := ""
			if g.HasRatio {
				ratio = strconv.FormatFloat(g.AdverseImpact, 'f', 4, 64)
			}
			rows = append(rows, []string{d.Name, g.Key, strconv.FormatInt(g.Decisions, 10), strconv.FormatInt(g.Approved, 10),
				strconv.FormatFloat(g.ApprovalRate, 'f', 4, 64), g.AvgLimit.String(), g.AvgRate.String(), ratio,
				strconv.FormatBool(g.Small), strconv.FormatBool(g.Flagged)})
		}
	}
	return rows
}
