package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/sanzhi/sanzhi/access"
	dividends "github.com/sanzhi/sanzhi/examples/dividends"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/dividend"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// DividendVillage is the demo village with a 股份+积分 dividend rule and
// rounds: 南阳村.
var DividendVillage = Villages[0]

// Pools of the demo rounds, in yuan.
const (
	// ApprovedPool is last month's round, approved: its payout file is
	// ready.
	ApprovedPool = "118600.00"
	// NoticePool is the round on notice today.
	NoticePool = "23500.00"
)

// seedDividends gives 南阳村 its example rule (uploaded by its clerk,
// activated by its reviewer) unless it has an active one, and, when the
// village has no round yet, two: one approved three weeks ago's record
// date, its 公示 over and its payout file ready, and one of yesterday's
// record date on notice since today, to which the demo household has
// objected. They go through dividend.Service on a simulated clock, with
// the same second-person rules as real ones. It returns the rounds' names.
func seedDividends(ctx context.Context, db DB, ps []Principal, t0 time.Time) ([]string, error) {
	actor := map[string]*access.Principal{}
	for _, p := range ps {
		actor[p.Name] = &access.Principal{ID: p.ID, Name: p.Name, Role: p.Role, Scope: p.Scope, Demo: true}
	}
	v := DividendVillage
	clerk, rev, villager := actor["demo-clerk-"+v.Slug], actor["demo-reviewer-"+v.Slug], actor[householdName]
	if clerk == nil || rev == nil || villager == nil {
		return nil, fmt.Errorf("demo dividends: the principals of %s are missing", v.Name)
	}
	c := &simClock{t: t0}
	svc := dividend.NewService(db.Dividends(), c.now)
	parent := resource.Village(v.Code)
	today := household.Today(t0)
	day := func(n int) household.Date { return points.AddDays(today, n) }

	if _, err := svc.GetRule(ctx, parent+"/dividendRules/active"); fault.Is(err, fault.NotFound) {
		doc, err := dividends.FS.ReadFile(dividends.NanyangFile)
		if err != nil {
			return nil, err
		}
		c.at(day(-22), 9, 0, t0)
		r, err := svc.UploadRule(ctx, clerk, parent, doc)
		if err != nil {
			return nil, fmt.Errorf("uploading the demo dividend rule: %w", err)
		}
		if r.State == "draft" {
			c.at(day(-22), 11, 0, t0)
			if _, err := svc.ActivateRule(ctx, rev, r.Name()); err != nil {
				return nil, fmt.Errorf("activating the demo dividend rule: %w", err)
			}
		}
	} else if err != nil {
		return nil, err
	}

	page, err := svc.ListRounds(ctx, parent, 1, "")
	if err != nil {
		return nil, err
	}
	if len(page.Rounds) > 0 {
		return nil, nil
	}
	var names []string
	// The approved round: computed, reviewed, on notice for the rule's
	// seven days, approved the day after.
	c.at(day(-20), 10, 0, t0)
	a, err := svc.CreateRound(ctx, clerk, dividend.CreateInput{Parent: parent, Title: "2025年度集体经济股份+积分分红",
		Pool: ApprovedPool, RecordDate: string(day(-21)), RequestID: "demo-dividend-1"})
	if err != nil {
		return nil, fmt.Errorf("the demo's approved dividend round: %w", err)
	}
	c.at(day(-20), 15, 0, t0)
	if a, err = svc.ReviewRound(ctx, rev, a.Name(), true, ""); err != nil {
		return nil, err
	}
	c.at(a.NoticeEnd, 9, 30, t0)
	if a, err = svc.ApproveRound(ctx, rev, a.Name()); err != nil {
		return nil, fmt.Errorf("approving the demo's dividend round: %w", err)
	}
	names = append(names, a.Name())

	// The round on notice: reviewed this morning, objected to by the
	// demo household.
	c.at(today, 8, 30, t0)
	b, err := svc.CreateRound(ctx, clerk, dividend.CreateInput{Parent: parent, Title: "2026年一季度村集体物业租金分红",
		Pool: NoticePool, RecordDate: string(day(-1)), RequestID: "demo-dividend-2"})
	if err != nil {
		return nil, fmt.Errorf("the demo's dividend round on notice: %w", err)
	}
	c.at(today, 9, 0, t0)
	if b, err = svc.ReviewRound(ctx, rev, b.Name(), true, ""); err != nil {
		return nil, err
	}
	c.at(today, 9, 30, t0)
	if _, err := svc.Object(ctx, villager, b.Name(), resource.Household(v.Code, villager.Scope.Household),
		"我家去年新增了两股，股份数应为登记后的数目"); err != nil {
		return nil, fmt.Errorf("the demo household's objection: %w", err)
	}
	return append(names, b.Name()), nil
}
