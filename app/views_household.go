package app

import (
	"context"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

// maxSuggestions bounds the catalogue items one improvement names: a
// phone shows a few, not the catalogue.
const maxSuggestions = 3

// Improvement is one counterfactual of a decision as the household reads
// it: the decision's own words and, when the change is in points, how
// many more points and which catalogue items earn them.
type Improvement struct {
	Text credit.Text
	// Points is the change in points the counterfactual needs; zero when
	// it is not about points.
	Points decimal.Decimal
	// Items are awards of the household's catalogue in the area (domain)
	// the counterfactual names, most points first.
	Items []points.Item
}

// HouseholdLine is one of the household's credit lines.
type HouseholdLine struct {
	View *credit.View
	// Product is the product's name (the bank's policy's), when its
	// policy version can be read.
	Product   rules.Label
	Available decimal.Decimal
	Improve   []Improvement
}

// HouseholdCredit is what a household reads on its My credit page: each
// of its lines at every bank, with the decision behind it.
type HouseholdCredit struct {
	Household *household.Household
	Lines     []HouseholdLine
}

// HouseholdCredit reads the lines of the household named hh
// (villages/…/households/…) at every bank, for p, the household itself.
// The lending service offers the household its decisions
// (ListDecisions), not a line read (those are the banks', under consent):
// the lines are read from the store, the decisions through the service,
// which completes their explanations. NotFound when the household does
// not exist.
func (a *App) HouseholdCredit(ctx context.Context, p *access.Principal, hh string) (*HouseholdCredit, error) {
	h, err := a.Households.Get(ctx, hh)
	if err != nil {
		return nil, err
	}
	var lines []*credit.Line
	if err := a.Store.Lending().Read(ctx, func(tx credit.Reader) error {
		lines, err = tx.HouseholdLines(ctx, h.ID)
		return err
	}); err != nil {
		return nil, err
	}
	decisions := map[string]*credit.Decision{}
	page, err := a.Lending.ListDecisions(ctx, p, hh, "", 100, "")
	if err != nil {
		return nil, err
	}
	for _, d := range page.Decisions {
		decisions[d.ID] = d
	}
	cat, err := a.Catalogues.Effective(ctx, h.Village)
	if err != nil {
		return nil, err
	}
	pols := NewActivePolicies(a.Store.Policies())
	today := household.Today(a.Lending.Now())
	out := &HouseholdCredit{Household: h}
	for _, l := range lines {
		d := decisions[l.DecisionID]
		if d == nil { // older than the newest 100: read it, unexplained
			if d, err = a.Lending.GetDecision(ctx, p, credit.DecisionName(l.Bank, l.Product, l.DecisionID)); err != nil {
				return nil, err
			}
		}
		v := &credit.View{Line: l, Decision: d, Status: l.StatusOn(today)}
		hl := HouseholdLine{View: v, Available: v.Available()}
		pol, err := pols.Version(ctx, l.Bank, l.Product, d.PolicyVersion)
		if err == nil {
			hl.Product = pol.Name
			hl.Improve = improvements(pol, d, cat)
		} else {
			// Without the policy the decision's own words still stand.
			for _, t := range d.Explanation.Counterfactuals {
				hl.Improve = append(hl.Improve, Improvement{Text: t})
			}
		}
		out.Lines = append(out.Lines, hl)
	}
	return out, nil
}

// improvements pairs d's counterfactuals with the points they need. The
// stored texts keep no amounts: d's input is evaluated again under its
// policy version (as a replay does) to read them.
func improvements(pol *rules.Policy, d *credit.Decision, cat *points.Catalogue) []Improvement {
	var cfs []rules.Counterfactual
	if in, err := rules.DecodeInput([]byte(d.Input)); err == nil {
		cfs = rules.Evaluate(pol, in, d.On).Counterfactuals
	}
	var out []Improvement
	for _, t := range d.Explanation.Counterfactuals {
		im := Improvement{Text: t}
		for _, c := range cfs {
			code := c.Kind + ":" + c.Input
			if c.KnockOut != "" {
				code = c.Kind + ":" + c.KnockOut
			}
			if code != t.Code || !c.Change.IsPositive() {
				continue
			}
			if items := earners(cat, c.Input); len(items) > 0 {
				im.Points, im.Items = c.Change, items
			}
			break
		}
		out = append(out, im)
	}
	return out
}

// earners returns the catalogue's awards that raise input: any credit
// item for points.credit, the domain's for points.<domain>, the item
// itself for item.<CODE>.
func earners(cat *points.Catalogue, input string) []points.Item {
	var out []points.Item
	for _, it := range cat.Items {
		if !it.IsAward() || !it.ForCredit {
			continue
		}
		switch {
		case input == "points.credit",
			strings.TrimPrefix(input, "points.") == string(it.Domain),
			strings.TrimPrefix(input, "item.") == it.Code:
			out = append(out, it)
		}
	}
	slices.SortFunc(out, func(a, b points.Item) int {
		if c := b.Points.Cmp(a.Points); c != 0 {
			return c
		}
		return strings.Compare(a.Code, b.Code)
	})
	if len(out) > maxSuggestions {
		out = out[:maxSuggestions]
	}
	return out
}

// HouseholdData is what a household reads on its My data page: its
// consents, who looked at its data, and its decisions (to ask for a
// human review) with the reviews it asked for.
type HouseholdData struct {
	Household *household.Household
	Consents  []*lending.Consent
	Records   []QueryRecord
	Decisions []*credit.Decision
	// Reviewed holds the ids of decisions with a review asked for.
	Reviewed map[string]*credit.Review
	// Banks are the banks by id, with their names: people read names.
	Banks map[string]*access.Bank
}

// maxRecords bounds the query records one page shows, newest kept.
const maxRecords = 200

// HouseholdData reads the My data page of the household named hh for p,
// the household itself. NotFound when the household does not exist.
func (a *App) HouseholdData(ctx context.Context, p *access.Principal, hh string) (*HouseholdData, error) {
	h, err := a.Households.Get(ctx, hh)
	if err != nil {
		return nil, err
	}
	out := &HouseholdData{Household: h, Reviewed: map[string]*credit.Review{}}
	if out.Banks, err = a.Banks(ctx); err != nil {
		return nil, err
	}
	if out.Consents, err = a.Lending.ListConsents(ctx, p, hh, ""); err != nil {
		return nil, err
	}
	token := ""
	for {
		page, err := QueryRecords(ctx, a.Store, hh, 0, token)
		if err != nil {
			return nil, err
		}
		out.Records = append(out.Records, page.Records...)
		if token = page.NextToken; token == "" || len(out.Records) >= 5*maxRecords {
			break
		}
	}
	slices.Reverse(out.Records) // newest first
	if len(out.Records) > maxRecords {
		out.Records = out.Records[:maxRecords]
	}
	dp, err := a.Lending.ListDecisions(ctx, p, hh, "", 100, "")
	if err != nil {
		return nil, err
	}
	out.Decisions = dp.Decisions
	rp, err := a.Lending.ListReviews(ctx, p, hh, "", 100, "")
	if err != nil {
		return nil, err
	}
	for _, r := range rp.Reviews {
		if _, ok := out.Reviewed[r.DecisionID]; !ok {
			out.Reviewed[r.DecisionID] = r
		}
	}
	return out, nil
}
