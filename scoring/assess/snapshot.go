// Package assess gathers what a credit policy reads about a household into
// one input snapshot (rules.Input): governance points and their domains,
// star rating, 黑榜 status and the village's recommendation from the
// evidence ledger; income, land, debt and the dishonest-debtor flag from
// the household register; the applicant's age (the member applying, the
// head unless another is named); the repayment record the lending side
// builds from the banks' loan status reports. The snapshot is what a
// decision's InputHash pins, so assembling it is pure and deterministic:
// the caller reads the parts, Snapshot puts them together.
package assess

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

// Parts are what Snapshot needs, each read as of the same day.
type Parts struct {
	Household *household.Household
	// ApplicantBirth is the applicant's date of birth (from their
	// 身份证号, which only the caller may decrypt): the member the
	// assessment names, the head unless another is named. The policy's
	// personal rules (applicant.age) read it; the household's points,
	// facts and standing stay the household's.
	ApplicantBirth time.Time
	Points         points.Balance
	Standing       evidence.Standing
	// Repayment and OtherBanks come from the lending side; zero values
	// mean no record and no lines elsewhere.
	Repayment  rules.RepaymentInput
	OtherBanks rules.OtherBanksInput
}

// Snapshot builds the policy input as of the Balance's day.
func Snapshot(p Parts) rules.Input {
	f := p.Household.Facts
	in := rules.Input{
		Points: rules.PointsInput{
			Credit:         p.Points.Credit,
			SelfGovernance: p.Points.ByDomain[points.SelfGovernance],
			RuleOfLaw:      p.Points.ByDomain[points.RuleOfLaw],
			Virtue:         p.Points.ByDomain[points.Virtue],
		},
		Star:        rules.StarInput{Level: rules.StarNone},
		Blacklisted: p.Standing.Blacklisted(),
		Facts: rules.FactsInput{
			AnnualIncome: f.AnnualIncome, Labourers: int(f.Labourers), Members: int(f.Members),
			LandMu: f.LandAreaMu, CollectiveShares: f.CollectiveShares, ExistingDebt: f.ExistingDebt,
			DishonestDebtor: f.DishonestDebtor,
		},
		Repayment:  p.Repayment,
		Applicant:  rules.ApplicantInput{Age: age(p.ApplicantBirth, p.Points.AsOf)},
		OtherBanks: p.OtherBanks,
	}
	if f.Members > 0 {
		// Yuan, rounded down to the fen: the same figure every time.
		in.Facts.IncomePerCapita = f.AnnualIncome.Div(decimal.NewFromInt32(f.Members)).RoundDown(2)
	}
	if s := p.Standing.Star; s != nil {
		in.Star = rules.StarInput{Level: rules.StarLevel(s.Level), Stars: int(s.Stars)}
	}
	if r := p.Standing.Recommendation; r != nil {
		in.Recommendation = rules.RecommendationInput{Present: true, Creditworthy: r.Creditworthy, Amount: r.ProposedAmount}
	}
	items := map[string]decimal.Decimal{}
	for _, e := range p.Points.Entries {
		if e.ItemCode != "" {
			items[e.ItemCode] = items[e.ItemCode].Add(e.Points)
		}
	}
	if len(items) > 0 {
		in.Items = items
	}
	return in
}

// age is the whole years from birth to the day, in Asia/Shanghai.
func age(birth time.Time, on household.Date) int {
	if birth.IsZero() || on == "" {
		return 0
	}
	d := on.Time()
	y := d.Year() - birth.Year()
	if d.Month() < birth.Month() || (d.Month() == birth.Month() && d.Day() < birth.Day()) {
		y--
	}
	return max(y, 0)
}
