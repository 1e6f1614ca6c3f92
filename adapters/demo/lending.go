package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// The demo bank's book (issue 16): a sample of the county's households
// with a line opened eleven months ago, money drawn on it, and the bank's
// month-end loan status reports since — most paid on time, some with a
// late month, a few in serious arrears and in default, a few with
// repeated short arrears, one in twenty settled. The households whose
// head is past the policy's age borrow through a working-age member. Then
// the re-assessor's work of today: every reported household is decided
// again, so the policy's "bad credit record" knock-out is seen on the
// lines of the households in arrears.
//
// Everything goes through credit.Service under a simulated clock, as a
// bank's officer and a village clerk would do it over the API: paper
// consents countersigned by the clerk, assessments, drawdowns, repayments
// and reports, each audited. The statuses are synthetic (seeded by the
// household's place in its village), not drawn from any data.

// LendingSample takes one household in this many of each village.
const LendingSample = 40

// LendingResult is what SeedLending did.
type LendingResult struct {
	Lines    int // lines opened
	Statuses int // loan status reports recorded
	// InArrears counts lines whose latest report is past due;
	// KnockedOut the lines decided today with a knock-out.
	InArrears, KnockedOut int
	// ThroughMember counts lines assessed through a member other than
	// the head.
	ThroughMember int
}

// NewLending builds a lending service with clock now (app.NewLending over
// the seeded store): SeedLending runs the bank's past under a simulated
// clock and its present under the real one.
type NewLending func(now func() time.Time) *credit.Service

// SeedLending gives the demo bank its book, unless it has a line already
// (a county seeded with lines keeps them). res is Seed's result; hs reads
// the households with their members; now is the real clock.
func SeedLending(ctx context.Context, hs *household.Service, svc NewLending, res Result, now func() time.Time) (LendingResult, error) {
	var out LendingResult
	real := svc(now)
	officer, clerks := lendingActors(res)
	if officer == nil {
		return out, fmt.Errorf("the demo principals have no bank officer")
	}
	productName := credit.ProductName(Bank, Product)
	existing, err := real.ListLines(ctx, &access.Principal{ID: regulatorName, Role: access.Regulator}, productName, "", "", 1, "")
	if err != nil {
		return out, err
	}
	if len(existing.Views) > 0 {
		return out, nil
	}
	clk := &simClock{t: now().UTC()}
	sim := svc(clk.now)
	today := household.Today(now())
	opened := today.AddMonths(-11)
	for vi, v := range Villages {
		var hhs []*household.Household
		token := ""
		for {
			page, err := hs.List(ctx, resource.Village(v.Code), 0, 1000, token)
			if err != nil {
				return out, err
			}
			hhs = append(hhs, page.Items...)
			if token = page.NextToken; token == "" {
				break
			}
		}
		for i, h := range hhs {
			if i%LendingSample != 7 {
				continue
			}
			r := rand.New(rand.NewPCG(0x1e4d, uint64(vi*100_000+i)))
			b := book{svc: sim, clk: clk, officer: officer, clerk: clerks[v.Code], h: h, r: r, today: today, opened: opened,
				limit: now().UTC()}
			if err := b.run(ctx, &out); err != nil {
				return out, fmt.Errorf("demo book, %s: %w", h.Name(), err)
			}
		}
	}
	// Today: the re-assessor decides every reported household again.
	for {
		n, err := real.ReassessDue(ctx, 200)
		if err != nil {
			return out, err
		}
		if n == 0 {
			break
		}
	}
	page, err := real.ListLines(ctx, &access.Principal{ID: regulatorName, Role: access.Regulator}, productName, "", "", 1000, "")
	if err != nil {
		return out, err
	}
	for _, v := range page.Views {
		if v.Decision != nil && len(v.Decision.Explanation.KnockOuts) > 0 {
			out.KnockedOut++
		}
	}
	return out, nil
}

// lendingActors are the demo bank's officer and each village's clerk.
func lendingActors(res Result) (*access.Principal, map[string]*access.Principal) {
	var officer *access.Principal
	clerks := map[string]*access.Principal{}
	for _, p := range res.Principals {
		ap := &access.Principal{ID: p.ID, Name: p.Name, Role: p.Role, Scope: p.Scope, Demo: true}
		switch {
		case p.Name == "demo-bank-officer":
			officer = ap
		case p.Role == access.VillageClerk && len(p.Scope.Villages) == 1:
			clerks[p.Scope.Villages[0]] = ap
		}
	}
	return officer, clerks
}

// book is one household's line at the demo bank, from its opening.
type book struct {
	svc            *credit.Service
	clk            *simClock
	officer, clerk *access.Principal
	h              *household.Household
	r              *rand.Rand
	today, opened  household.Date
	limit          time.Time // the real now: the past never runs ahead of it
}

// at sets the simulated clock to hh:mm of day, or to the real now when
// that is earlier (a report of yesterday recorded this morning, before
// nine).
func (b *book) at(day household.Date, hh, mm int) { b.clk.at(day, hh, mm, b.limit) }

// applicant is the member the bank assesses: the head while of the
// policy's age (18 to 65), else the first working member aged 18 to 60,
// else the head.
func (b *book) applicant() int32 {
	for _, m := range b.h.Members {
		if m.Relation == household.Head {
			if a := m.Age(b.opened); a >= 18 && a <= 65 {
				return 0
			}
		}
	}
	for _, m := range b.h.Members {
		if a := m.Age(b.opened); m.Relation != household.Head && m.Labour == household.Labourer && a >= 18 && a <= 60 {
			return m.Number
		}
	}
	return 0
}

func (b *book) run(ctx context.Context, out *LendingResult) error {
	h := b.h
	sum := sha256.Sum256([]byte("demo paper consent " + h.ID))
	hash := hex.EncodeToString(sum[:])
	b.at(b.opened, 9, 30)
	c, err := b.svc.Grant(ctx, b.officer, credit.GrantInput{Household: h.Name(), Bank: resource.Bank(Bank),
		Purposes:   []string{string(lending.PurposeAssessment), string(lending.PurposePostLoan)},
		ExpireTime: b.clk.t.Add(credit.MaxConsentTerm - time.Hour), Channel: lending.ChannelPaper, AuthorisationHash: hash})
	if err != nil {
		return err
	}
	b.at(b.opened, 10, 0)
	if _, err := b.svc.Countersign(ctx, b.clerk, credit.ConsentName(h.Village, h.ID, c.ID), hash); err != nil {
		return err
	}
	b.at(b.opened, 10, 30)
	member := b.applicant()
	v, err := b.svc.AssessApplicant(ctx, b.officer, credit.ProductName(Bank, Product), h.Name(), member)
	if err != nil {
		return err
	}
	out.Lines++
	if member != 0 {
		out.ThroughMember++
	}
	if !v.Decision.Eligible {
		return nil // declined: nothing drawn, nothing to report
	}
	line := credit.LineName(Bank, Product, v.Line.ID)
	share := decimal.NewFromInt(int64(30 + b.r.IntN(41))).Div(decimal.NewFromInt(100))
	drawn := v.Line.Limit.Mul(share).Div(decimal.NewFromInt(1000)).Floor().Mul(decimal.NewFromInt(1000))
	if !drawn.IsPositive() {
		return nil
	}
	b.at(b.opened, 15, 0)
	uses := []lending.Use{lending.UseAgriculture, lending.UseLivestock, lending.UseBusiness}
	if _, err := b.svc.Drawdown(ctx, b.officer, credit.TxInput{Line: line, TransactionID: "demo-dd-" + v.Line.ID,
		Amount: drawn.StringFixed(2), Use: string(uses[b.r.IntN(len(uses))])}); err != nil {
		return err
	}

	// The month-end reports, each recorded the next morning.
	var ends []household.Date
	for m := 0; ; m++ {
		end := monthEnd(b.opened.AddMonths(m))
		if end >= b.today {
			break
		}
		if end > b.opened {
			ends = append(ends, end)
		}
	}
	plan := b.profile(len(ends))
	var last lending.StatusReport
	for k, end := range ends {
		st := plan[k]
		if st.skip {
			continue
		}
		r := lending.StatusReport{AsOf: end, DaysPastDue: st.dpd, Class: lending.ClassNormal,
			OverduePrincipal: decimal.Zero, OverdueInterest: decimal.Zero, Defaulted: st.defaulted, Settled: st.settled}
		if st.dpd > 0 {
			r.OverduePrincipal = drawn.Mul(decimal.New(5, -2)).Round(2)
			r.OverdueInterest = r.OverduePrincipal.Mul(v.Line.Rate).Mul(decimal.NewFromInt(int64(st.dpd))).
				Div(decimal.NewFromInt(365)).Round(2)
			if !r.OverdueInterest.IsPositive() {
				r.OverdueInterest = decimal.New(1, -2)
			}
			r.Class = classFor(st.dpd, st.defaulted)
		}
		if st.settled {
			b.at(end, 16, 0)
			if _, err := b.svc.Repayment(ctx, b.officer, credit.TxInput{Line: line, TransactionID: "demo-rp-" + v.Line.ID,
				Amount: drawn.StringFixed(2)}); err != nil {
				return err
			}
		}
		b.at(points.AddDays(end, 1), 9, 0)
		if _, err := b.svc.ReportLoanStatus(ctx, b.officer, credit.StatusInput{Line: line,
			EventID: fmt.Sprintf("demo-%s-%02d", v.Line.ID, k+1), AsOf: string(end), DaysPastDue: r.DaysPastDue,
			OverduePrincipal: r.OverduePrincipal.StringFixed(2), OverdueInterest: r.OverdueInterest.StringFixed(2),
			Classification: string(r.Class), Defaulted: r.Defaulted, Settled: r.Settled}); err != nil {
			return err
		}
		out.Statuses++
		last = r
		if st.settled {
			break
		}
	}
	if last.DaysPastDue > 0 {
		out.InArrears++
	}
	return nil
}

// step is one month-end's status in a household's story.
type step struct {
	dpd       int
	defaulted bool
	settled   bool
	skip      bool
}

// profile draws the household's story over n month-ends: mostly paid on
// time; some with one late month; a few in serious, growing arrears and
// in default; a few late month after month; some settled half way.
func (b *book) profile(n int) []step {
	out := make([]step, n)
	if n == 0 {
		return out
	}
	switch p := b.r.IntN(100); {
	case p < 68: // paid on time
	case p < 83: // one late month, then caught up
		k := 2 + b.r.IntN(max(n-3, 1))
		if k < n {
			out[k].dpd = 10 + b.r.IntN(21)
		}
	case p < 91: // serious arrears: 30, 60, 95 days (default), then growing
		k := 2 + b.r.IntN(max(n-5, 1))
		for j, d := k, 30; j < n; j, d = j+1, d+30 {
			if d == 90 {
				d = 95
			}
			out[j] = step{dpd: d, defaulted: d > 90}
		}
	case p < 96: // late month after month, never long
		for j := 1; j < n; j += 2 {
			out[j].dpd = 10 + b.r.IntN(20)
		}
	default: // repaid in full half way
		k := n / 2
		out[k].settled = true
		for j := k + 1; j < n; j++ {
			out[j].skip = true
		}
	}
	return out
}

// classFor is the class a demo bank gives a loan dpd days past due: the
// floor of the rules (lending.StatusReport.Check), 关注 from the first day.
func classFor(dpd int, defaulted bool) lending.Class {
	switch {
	case dpd > 360:
		return lending.ClassLoss
	case dpd > 270:
		return lending.ClassDoubtful
	case dpd > 90 || defaulted:
		return lending.ClassSubstandard
	case dpd > 0:
		return lending.ClassSpecialMention
	}
	return lending.ClassNormal
}

// monthEnd is the last day of d's month.
func monthEnd(d household.Date) household.Date {
	t := d.Time()
	return household.Date(time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, time.UTC).Format(time.DateOnly))
}
