package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/modelrisk"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// The demo bank's book (issue 16): one household in LendingSample of each
// village has a line at the demo bank, opened between 13 and 20 months
// ago (one in ten more recently, 3 to 11 months ago), money drawn on it,
// and the bank's month-end loan status reports since. The households
// whose head is past the policy's age borrow through a working-age
// member. Then the re-assessor's work of today: every reported household
// is decided again, so the policy's "bad credit record" knock-out is seen
// on the lines of the households in arrears.
//
// The repayment stories are synthetic, drawn from a PCG seeded by the
// household's place in its village (the same county always gets the same
// book), and they depend on the decision that opened the line: the line
// goes bad — arrears past 90 days and a default within the twelve months
// after the decision, so the back-test counts it bad — with probability
// 1/(1+odds) at the decision's score, odds = base_odds·2^((score−base)/pdo)
// (modelrisk.Scaling.BadRate) with twice the slope of the active policy's
// own scaling, anchored at the book's median score (steeper). A higher
// score, from more points and better facts, makes a bad loan less likely,
// so the back-testing and fairness report of the demo county shows a
// real signal, and a calibration finding: the scorecard separates less
// than the county's (synthetic) borrowers do. The bad loans then cure, are written
// off, or stay in growing arrears; the others are paid on time, some
// with a few short late months that cure, some settled early. The
// reports are only those of the month-ends where something changes,
// and one as of the last month-end.
//
// Everything goes through credit.Service under a simulated clock, as a
// bank's officer and a village clerk would do it over the API: paper
// consents countersigned by the clerk, assessments, drawdowns, repayments
// and reports, each audited and each checked by the loan status state
// machine (lending/loanstatus.go). None of it is drawn from real data.

// LendingSample takes one household in this many of each village.
const LendingSample = 8

// LendingResult is what SeedLending did.
type LendingResult struct {
	Lines    int // lines opened
	Statuses int // loan status reports recorded
	// Bad counts the lines that went bad: more than 90 days past due
	// and in default.
	Bad int
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
// the households with their members; pols gives the product's active
// policy, whose scaling relates a line's chance of going bad to its
// score; now is the real clock.
func SeedLending(ctx context.Context, hs *household.Service, svc NewLending, pols credit.Policies, res Result, now func() time.Time) (LendingResult, error) {
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
	pol, err := pols.Active(ctx, Bank, Product)
	if err != nil {
		return out, fmt.Errorf("the demo bank's active policy: %w", err)
	}
	scaling := modelrisk.SpecOf(pol).Scaling
	clk := &simClock{t: now().UTC()}
	sim := svc(clk.now)
	today := household.Today(now())
	// First every sampled household's line is opened and drawn on,
	// then the lines that go bad are chosen, then each line's reports.
	var books []*book
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
			if i%LendingSample != 7%LendingSample {
				continue
			}
			r := rand.New(rand.NewPCG(0x1e4d, uint64(vi*100_000+i)))
			// Most lines are old enough for a whole year of reports
			// after their decision; one in ten is younger.
			ago := 13 + r.IntN(8)
			if r.IntN(10) == 0 {
				ago = 3 + r.IntN(9)
			}
			b := &book{svc: sim, clk: clk, officer: officer, clerk: clerks[v.Code], h: h, r: r, today: today,
				opened: points.AddDays(today.AddMonths(-ago), -r.IntN(28)), limit: now().UTC()}
			if err := b.open(ctx, &out); err != nil {
				return out, fmt.Errorf("demo book, %s: %w", h.Name(), err)
			}
			if b.lineID != "" {
				books = append(books, b)
			}
		}
	}
	chooseBad(books, steeper(scaling, books), rand.New(rand.NewPCG(0x1e4d, 0xbad)))
	for _, b := range books {
		if err := b.report(ctx, &out); err != nil {
			return out, fmt.Errorf("demo book, %s: %w", b.h.Name(), err)
		}
	}
	// Today: the re-assessor decides every reported household again, and
	// every line whose yearly review has come (as sanzhid's re-assessor
	// would, on its first tick).
	for {
		marked, err := real.MarkReviewsDue(ctx, 1000)
		if err != nil {
			return out, err
		}
		for {
			n, err := real.ReassessDue(ctx, 200)
			if err != nil {
				return out, err
			}
			if n == 0 {
				break
			}
		}
		if marked == 0 {
			break
		}
	}
	token := ""
	for {
		page, err := real.ListLines(ctx, &access.Principal{ID: regulatorName, Role: access.Regulator}, productName, "", "", 1000, token)
		if err != nil {
			return out, err
		}
		for _, v := range page.Views {
			if v.Decision != nil && len(v.Decision.Explanation.KnockOuts) > 0 {
				out.KnockedOut++
			}
		}
		if token = page.NextToken; token == "" {
			break
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

	// After open, for a line drawn on: its id, the amount drawn, the
	// rate and the score of the decision that opened it; bad when
	// chooseBad has chosen it to go bad.
	lineID      string
	drawn, rate decimal.Decimal
	score       int
	bad         bool
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

// open opens the household's line on the opening day: the paper consent
// countersigned by the clerk, the assessment, a drawdown of 30 to 70 % of
// the limit. A declined household has no line to draw on (b.lineID
// stays "").
func (b *book) open(ctx context.Context, out *LendingResult) error {
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
	b.lineID, b.drawn, b.rate, b.score = v.Line.ID, drawn, v.Line.Rate, v.Decision.Score
	return nil
}

// steeper is the demo county's synthetic reality: odds that double every
// half of the policy's PDO, anchored where the policy's own odds are at
// the book's median score. A policy's scores cluster in a band or two
// (the example policy's borrowers score 300–420, where its own scaling
// implies 8–14 % bad), so outcomes drawn from the policy's odds show an
// AUC near 0.57, hard to tell from chance on a few hundred loans. Twice
// as steep, the report shows a clear signal, and its calibration table
// shows the scorecard under-separating: low grades worse, high grades
// better than the scaling says — the kind of finding back-testing exists
// to make.
func steeper(sc modelrisk.Scaling, books []*book) modelrisk.Scaling {
	if len(books) == 0 {
		return sc
	}
	scores := make([]int, len(books))
	for i, b := range books {
		scores[i] = b.score
	}
	slices.Sort(scores)
	mid := scores[len(scores)/2]
	return modelrisk.Scaling{BaseScore: mid, BaseOdds: sc.Odds(mid), PDO: max(1, sc.PDO/2)}
}

// chooseBad marks which of the opened lines go bad, so that a line goes
// bad with probability scaling.BadRate(score), the bad rate the policy
// implies at the score of the decision that opened it. The draw is
// systematic: the lines in score order (ties in a seeded shuffle), one
// uniform start, and a line is bad when the running sum of the rates
// passes a whole number on it. Each line keeps its probability, and the
// number of bad lines in any range of scores is within one of the sum of
// their rates, so a book of a few hundred lines shows the policy's
// gradient rather than the noise of independent draws.
func chooseBad(books []*book, scaling modelrisk.Scaling, r *rand.Rand) {
	order := slices.Clone(books)
	r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	slices.SortStableFunc(order, func(a, b *book) int { return a.score - b.score })
	acc := r.Float64()
	for _, b := range order {
		acc += scaling.BadRate(b.score)
		if acc >= 1 {
			acc--
			b.bad = true
		}
	}
}

// report records the line's month-end reports since the opening, each
// the next morning: a bad loan's story or a good one's.
func (b *book) report(ctx context.Context, out *LendingResult) error {
	line, lineID, drawn := credit.LineName(Bank, Product, b.lineID), b.lineID, b.drawn
	// The month-ends since the opening.
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
	var plan []report
	if b.bad {
		plan = b.badStory(ends)
	} else {
		plan = b.goodStory(ends)
	}
	var last report
	for k, st := range plan {
		r := lending.StatusReport{AsOf: st.asOf, DaysPastDue: st.dpd, Class: classFor(st.dpd, st.defaulted),
			OverduePrincipal: decimal.Zero, OverdueInterest: decimal.Zero, Defaulted: st.defaulted,
			WrittenOff: st.writtenOff, Settled: st.settled}
		switch {
		case st.writtenOff:
			r.Class = lending.ClassLoss
		case st.class != "":
			r.Class = st.class
		}
		if st.dpd > 0 {
			// A tenth of the loan falls due each month it is unpaid.
			months := min(int64(st.dpd+29)/30, 10)
			r.OverduePrincipal = drawn.Mul(decimal.New(months, -1)).Round(2)
			r.OverdueInterest = r.OverduePrincipal.Mul(b.rate).Mul(decimal.NewFromInt(int64(st.dpd))).
				Div(decimal.NewFromInt(365)).Round(2)
			if !r.OverdueInterest.IsPositive() {
				r.OverdueInterest = decimal.New(1, -2)
			}
		}
		if st.settled {
			b.at(st.asOf, 16, 0)
			if _, err := b.svc.Repayment(ctx, b.officer, credit.TxInput{Line: line, TransactionID: "demo-rp-" + lineID,
				Amount: drawn.StringFixed(2)}); err != nil {
				return err
			}
		}
		b.at(points.AddDays(st.asOf, 1), 9, 0)
		if _, err := b.svc.ReportLoanStatus(ctx, b.officer, credit.StatusInput{Line: line,
			EventID: fmt.Sprintf("demo-%s-%02d", lineID, k+1), AsOf: string(st.asOf), DaysPastDue: r.DaysPastDue,
			OverduePrincipal: r.OverduePrincipal.StringFixed(2), OverdueInterest: r.OverdueInterest.StringFixed(2),
			Classification: string(r.Class), Defaulted: r.Defaulted, WrittenOff: r.WrittenOff, Settled: r.Settled}); err != nil {
			return err
		}
		out.Statuses++
		last = st
	}
	if b.bad && slices.ContainsFunc(plan, func(r report) bool { return r.defaulted }) {
		out.Bad++
	}
	if last.dpd > 0 {
		out.InArrears++
	}
	return nil
}

// report is one month-end's status in a line's story.
type report struct {
	asOf                           household.Date
	dpd                            int
	defaulted, writtenOff, settled bool
	class                          lending.Class // "": classFor(dpd, defaulted)
}

// goodStory draws the reports of a loan that does not go bad over the
// month-ends ends: mostly paid on time (only the last month-end is
// reported); some with one short late month that cures the month after;
// a few late now and then, three times, never for long; some repaid in
// full within the line's first year. Each report says something new.
func (b *book) goodStory(ends []household.Date) []report {
	n := len(ends)
	if n == 0 {
		return nil
	}
	var out []report
	late := func(k int) {
		if k+1 < n {
			dpd := min(5+b.r.IntN(26), b.age(ends[k]))
			out = append(out, report{asOf: ends[k], dpd: dpd}, report{asOf: ends[k+1]})
		}
	}
	switch p := b.r.IntN(100); {
	case p < 72: // paid on time
	case p < 87: // one late month, then caught up
		late(b.r.IntN(n))
	case p < 93: // late three times, a month each
		for k := b.r.IntN(max(n-5, 1)); k < n && len(out) < 6; k += 2 {
			late(k)
		}
	default: // repaid in full within the first year
		k := b.r.IntN(min(n, 11))
		return []report{{asOf: ends[k], settled: true}}
	}
	if len(out) == 0 || out[len(out)-1].asOf != ends[n-1] {
		out = append(out, report{asOf: ends[n-1]})
	}
	return out
}

// badStory draws the reports of a loan that goes bad: a missed payment
// at one of the first eight month-ends after the opening, reported 关注
// that month-end; the first month-end more than 90 days past due, in
// default and 次级, within the year after the decision (when the line is
// that old); then a quarter cure (paid up and 关注, then 正常 at the last
// month-end), a third are written off (损失) two to six months later, and
// the rest stay in arrears, reported 可疑 past 270 days and at the last
// month-end.
func (b *book) badStory(ends []household.Date) []report {
	n := len(ends)
	if n == 0 {
		return nil
	}
	k := b.r.IntN(min(n, 8))
	first := min(1+b.r.IntN(28), b.age(ends[k]))
	dpd := func(j int) int { return first + daysBetween(ends[k], ends[j]) }
	out := []report{{asOf: ends[k], dpd: first}}
	j := k + 1
	for j < n && dpd(j) <= 90 {
		j++
	}
	if j >= n { // not yet 90 days past due
		if k < n-1 {
			out = append(out, report{asOf: ends[n-1], dpd: dpd(n - 1)})
		}
		return out
	}
	out = append(out, report{asOf: ends[j], dpd: dpd(j), defaulted: true})
	switch p := b.r.IntN(100); {
	case p < 25: // paid up: 关注 while watched, then 正常
		if c := j + 1 + b.r.IntN(3); c < n {
			out = append(out, report{asOf: ends[c], class: lending.ClassSpecialMention})
			if c < n-1 {
				out = append(out, report{asOf: ends[n-1]})
			}
			return out
		}
	case p < 58: // written off
		if w := j + 2 + b.r.IntN(5); w < n {
			return append(out, report{asOf: ends[w], dpd: dpd(w), defaulted: true, writtenOff: true})
		}
	default: // arrears growing
		for d := j + 1; d < n-1; d++ {
			if dpd(d) > 270 {
				out = append(out, report{asOf: ends[d], dpd: dpd(d), defaulted: true})
				break
			}
		}
	}
	if out[len(out)-1].asOf != ends[n-1] {
		out = append(out, report{asOf: ends[n-1], dpd: dpd(n - 1), defaulted: true})
	}
	return out
}

// age is the number of days from the line's opening to day.
func (b *book) age(day household.Date) int { return daysBetween(b.opened, day) }

// daysBetween is the number of days from a to b.
func daysBetween(a, b household.Date) int {
	return int(b.Time().Sub(a.Time()).Round(time.Hour).Hours() / 24)
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
