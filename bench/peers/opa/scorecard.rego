# The example credit policy examples/policies/tongxiang-rcb-sanzhi.yaml
# (桐乡农商银行「三治信农贷」, version 1) written by hand in Rego, for the
# benchmark in ../peers_test.go. It computes the core decision only:
# eligible, knock-outs, score, grade, limit and rate.
#
# NOT reproduced here (our engine does them, so sanzhi/full does more work
# per decision than this policy does):
#   - reasons (the principal characteristics below their best bin) and
#     counterfactuals (the smallest change that clears a knock-out or lifts
#     the grade): a search that re-evaluates the policy many times;
#   - the labels and texts of knock-outs, declines and bins, the limit's
#     step-by-step working, implied odds, clamping notes, input and policy
#     hashes, the decision's validity date and its canonical encoding.
# The YAML is data that our engine validates on load (bins without gap or
# overlap, monotone points, grades covering every score, ...); this file is
# code, and none of those checks apply to it: it is correct only because
# the peers test compares it with our engine on hundreds of households.
#
# NUMBERS. Rego numbers are JSON numbers. OPA keeps integers exact, but any
# arithmetic on a non-integer (0.2 × a recommended amount, 500 × fractional
# points, the rate 0.0345 + spread) is binary floating point (math/big.Float
# with a 64-bit mantissa in OPA v1.22's Go evaluator; float64 once a caller
# decodes the result with encoding/json into an any), so 0.1 is not 0.1: this
# policy's grade-B rate 0.0345 + 180/10000 comes out 0.052500000000000000002,
# and a sum with fen can land a hair below a ¥1,000 boundary before
# round_down_to. Our engine is decimal (shopspring/decimal) end to end:
# the only rounding of money is the one the policy declares. That alone is
# one reason a bank cannot use Rego for money as it is: it would have to
# re-express every amount in integer fen by hand.
#
# INPUT. The caller passes the household as a JSON object that mirrors
# policy.Input (see toOPAInput in ../peers_test.go):
#   points {credit, self_governance, rule_of_law, virtue}, star {level},
#   blacklisted, facts {income_per_capita, annual_income, labourers,
#   land_mu, existing_debt, dishonest_debtor}, repayment
#   {overdue_days_max_24m, overdue_count_24m}, applicant {age},
#   recommendation {present, creditworthy, amount}, other_banks
#   {total_limit, total_drawn}, items {CODE: net points}.
# Query: data.sanzhi.scorecard.decision.
package sanzhi.scorecard

# --- inputs ----------------------------------------------------------------

item(code) := object.get(input, ["items", code], 0)

default star_level := "none"

star_level := input.star.level if input.star.level != ""

# Input validity: the ranges our engine accepts for the inputs this policy
# reads (scoring/policy/inputs.go). A value outside them declines the
# household (INPUT_INVALID); our generator never produces one, but the
# check is part of the decision, so it is here too.
max_points := 100000

max_money := 1000000000000

within(x, lo, hi) if {
	x >= lo
	x <= hi
}

invalid contains "points.credit" if not within(input.points.credit, 0 - max_points, max_points)

invalid contains "points.self_governance" if not within(input.points.self_governance, 0 - max_points, max_points)

invalid contains "points.rule_of_law" if not within(input.points.rule_of_law, 0 - max_points, max_points)

invalid contains "points.virtue" if not within(input.points.virtue, 0 - max_points, max_points)

invalid contains "star.level" if not star_points_by_level[star_level]

invalid contains "facts.income_per_capita" if not within(input.facts.income_per_capita, 0, max_money)

invalid contains "facts.annual_income" if not within(input.facts.annual_income, 0, max_money)

invalid contains "facts.labourers" if not within(input.facts.labourers, 0, 50)

invalid contains "facts.land_mu" if not within(input.facts.land_mu, 0, 1000000)

invalid contains "facts.existing_debt" if not within(input.facts.existing_debt, 0, max_money)

invalid contains "repayment.overdue_days_max_24m" if not within(input.repayment.overdue_days_max_24m, 0, 36500)

invalid contains "repayment.overdue_count_24m" if not within(input.repayment.overdue_count_24m, 0, 1000)

invalid contains "applicant.age" if not within(input.applicant.age, 0, 150)

invalid contains "recommendation.amount" if not within(input.recommendation.amount, 0, max_money)

invalid contains "other_banks.total_limit" if not within(input.other_banks.total_limit, 0, max_money)

invalid contains "other_banks.total_drawn" if not within(input.other_banks.total_drawn, 0, max_money)

invalid contains sprintf("item.%s", [code]) if {
	some code in ["FZ-PA-06", "FZ-PA-08", "FZ-PA-15"]
	not within(item(code), 0 - max_points, max_points)
}

# --- knock-outs (六无) -------------------------------------------------------

knockouts contains "dishonest_debtor" if input.facts.dishonest_debtor

knockouts contains "bad_credit_record" if input.repayment.overdue_days_max_24m > 90

knockouts contains "bad_credit_record" if input.repayment.overdue_count_24m >= 6

knockouts contains "black_list" if input.blacklisted

knockouts contains "criminal_record" if item("FZ-PA-08") < 0

knockouts contains "gambling_drugs" if item("FZ-PA-06") < 0

knockouts contains "usury" if item("FZ-PA-15") < 0

knockouts contains "village_compact" if input.points.credit < 60

knockouts contains "over_borrowing" if input.facts.existing_debt > 500000

knockouts contains "over_borrowing" if input.other_banks.total_drawn > 300000

knockouts contains "age" if input.applicant.age < 18

knockouts contains "age" if input.applicant.age > 65

# --- scorecard -------------------------------------------------------------
# Each characteristic's bins, lowest first. A value below the first bin is
# scored there and one above the last bin there, as our engine clamps to
# the declared range.

governance_points := 0 if {
	input.points.credit < 80
} else := 40 if {
	input.points.credit < 100
} else := 70 if {
	input.points.credit < 110
} else := 95 if {
	input.points.credit < 120
} else := 120 if {
	input.points.credit < 140
} else := 150

virtue_points := 0 if {
	input.points.virtue < 0
} else := 15 if {
	input.points.virtue < 10
} else := 30 if {
	input.points.virtue < 20
} else := 45 if {
	input.points.virtue < 30
} else := 60

rule_of_law_points := 0 if {
	input.points.rule_of_law < 0
} else := 20 if {
	input.points.rule_of_law < 5
} else := 40

self_governance_points := 0 if {
	input.points.self_governance < 0
} else := 15 if {
	input.points.self_governance < 10
} else := 30

star_points_by_level := {"none": 0, "village": 20, "town": 35, "county": 50}

# An unknown level is invalid input (declined) and scored as "none".
star_rating := object.get(star_points_by_level, star_level, 0)

income_per_capita := 10 if {
	input.facts.income_per_capita < 20000
} else := 30 if {
	input.facts.income_per_capita < 40000
} else := 45 if {
	input.facts.income_per_capita < 60000
} else := 60

existing_debt := 50 if {
	input.facts.existing_debt <= 50000
} else := 30 if {
	input.facts.existing_debt <= 150000
} else := 10 if {
	input.facts.existing_debt <= 300000
} else := 0

repayment_record := 60 if {
	input.repayment.overdue_days_max_24m <= 0
} else := 30 if {
	input.repayment.overdue_days_max_24m <= 30
} else := 0

land := 5 if {
	input.facts.land_mu < 2
} else := 15 if {
	input.facts.land_mu < 5
} else := 25 if {
	input.facts.land_mu < 20
} else := 30

village_recommendation := 40 if {
	input.recommendation.creditworthy
} else := 0

labourers := 0 if {
	input.facts.labourers <= 0
} else := 15 if {
	input.facts.labourers <= 1
} else := 30

applicant_age := 10 if {
	input.applicant.age <= 25
} else := 30 if {
	input.applicant.age <= 55
} else := 15

score := sum([
	governance_points,
	virtue_points,
	rule_of_law_points,
	self_governance_points,
	star_rating,
	income_per_capita,
	existing_debt,
	repayment_record,
	land,
	village_recommendation,
	labourers,
	applicant_age,
])

# --- grade -----------------------------------------------------------------

grade := "AAA" if {
	score >= 540
} else := "AA" if {
	score >= 480
} else := "A" if {
	score >= 420
} else := "B" if {
	score >= 360
} else := "C" if {
	score >= 300
} else := "D"

base_by_grade := {"AAA": 300000, "AA": 200000, "A": 100000, "B": 50000, "C": 30000}

spread_bp := {"AAA": 40, "AA": 80, "A": 130, "B": 180, "C": 250}

base_rate := 0.0345

# --- limit -----------------------------------------------------------------

# round(x, 2) of our engine: to the fen, half away from zero.
fen(x) := round(x * 100) / 100

# points_above_base: ¥500 for every governance point above 100, at most ¥50,000.
adj_points_above_base := fen(min([(input.points.credit - 100) * 500, 50000])) if {
	input.points.credit > 100
} else := 0

# village_recommendation: a fifth of the proposed amount, at most ¥20,000.
adj_village_recommendation := min([fen(input.recommendation.amount * 0.2), 20000]) if {
	input.recommendation.present
	input.recommendation.creditworthy
} else := 0

# county_star: ¥10,000 for a county-level star-rated household.
adj_county_star := 10000 if star_level == "county" else := 0

debt_deducted := input.facts.existing_debt if input.facts.existing_debt > 0 else := 0

# Defined for an eligible grade only (base_by_grade has no D).
before_caps := max([
	(((base_by_grade[grade] + adj_points_above_base) + adj_village_recommendation) + adj_county_star) - debt_deducted,
	0,
])

capped := min([
	before_caps,
	300000, # product_max
	3 * input.facts.annual_income, # income_multiple
	max([500000 - input.other_banks.total_limit, 0]), # total_exposure_max
])

# round_down_to 1000 (capped is never negative, so floor is truncation).
computed_limit := floor(capped / 1000) * 1000

# --- decision --------------------------------------------------------------

default eligible := false

eligible if {
	count(invalid) == 0
	count(knockouts) == 0
	computed_limit >= 10000 # min_amount; undefined for grade D
}

default limit := 0

limit := computed_limit if eligible

default rate := 0

rate := base_rate + (spread_bp[grade] / 10000) if eligible

decision := {
	"eligible": eligible,
	"knockouts": knockouts,
	"invalid": invalid,
	"score": score,
	"grade": grade,
	"limit": limit,
	"rate": rate,
}
