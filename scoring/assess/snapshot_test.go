package assess

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"

	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

func TestSnapshot(t *testing.T) {
	d := decimal.RequireFromString
	h := &household.Household{Facts: household.Facts{Members: 3, Labourers: 2, AnnualIncome: d("100000"),
		LandAreaMu: d("2.5"), CollectiveShares: d("10"), ExistingDebt: d("20000"), DishonestDebtor: true}}
	bal := points.Balance{AsOf: "2026-06-15", Credit: d("123.5"),
		ByDomain: map[points.Domain]decimal.Decimal{points.Virtue: d("20"), points.RuleOfLaw: d("3.5")},
		Entries:  []points.Entry{{ItemCode: "DZ-XF-07", Points: d("2")}, {ItemCode: "DZ-XF-07", Points: d("4")}, {ItemCode: "FZ-PA-01", Points: d("-5")}}}
	st := evidence.Standing{
		Star:           &evidence.Evidence{Level: evidence.LevelTown, Stars: 4},
		BlackList:      []*evidence.Evidence{{}},
		Recommendation: &evidence.Evidence{Creditworthy: true, ProposedAmount: d("80000")},
	}
	in := Snapshot(Parts{Household: h, ApplicantBirth: time.Date(1970, 6, 16, 0, 0, 0, 0, household.Shanghai), Points: bal, Standing: st})

	assert.Equal(t, "123.5", in.Points.Credit.String())
	assert.Equal(t, "20", in.Points.Virtue.String())
	assert.Equal(t, "3.5", in.Points.RuleOfLaw.String())
	assert.True(t, in.Points.SelfGovernance.IsZero())
	assert.Equal(t, rules.StarInput{Level: rules.StarTown, Stars: 4}, in.Star)
	assert.True(t, in.Blacklisted)
	assert.Equal(t, "33333.33", in.Facts.IncomePerCapita.String(), "rounded down to the fen")
	assert.True(t, in.Facts.DishonestDebtor)
	assert.Equal(t, 55, in.Applicant.Age, "the birthday is tomorrow")
	assert.True(t, in.Recommendation.Present && in.Recommendation.Creditworthy)
	assert.Equal(t, "80000", in.Recommendation.Amount.String())
	assert.Equal(t, "6", in.Items["DZ-XF-07"].String())
	assert.Equal(t, "-5", in.Items["FZ-PA-01"].String())

	bare := Snapshot(Parts{Household: &household.Household{}, Points: points.Balance{AsOf: "2026-06-15"}})
	assert.Equal(t, rules.StarNone, bare.Star.Level)
	assert.False(t, bare.Recommendation.Present)
	assert.Zero(t, bare.Applicant.Age)
	assert.Nil(t, bare.Items)
	assert.Equal(t, in.Hash(), Snapshot(Parts{Household: h, ApplicantBirth: time.Date(1970, 6, 16, 0, 0, 0, 0, household.Shanghai), Points: bal, Standing: st}).Hash(),
		"the same parts give the same snapshot")
}
