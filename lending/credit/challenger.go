package credit

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

// Shadow evaluation (issue 16 §6, docs/MODEL-RISK.md): when a product has
// a challenger (scoring/policies, challenger.go), every live assessment
// and re-assessment of the product also evaluates the challenger on the
// very snapshot the champion decided on, and stores the outcome as a
// ShadowDecision in the decision's transaction. The shadow is written and
// never read on the way to a line: the champion's decision, the line, the
// reply and the line event are what they would be without it.

// Challengers gives a product's current challenger policy.
type Challengers interface {
	// Challenger returns the parsed policy of the product's current
	// challenger, or nil when the product has none.
	Challenger(ctx context.Context, bank, product string) (*rules.Policy, error)
}

// SetChallengers turns shadow evaluation on: assessments of a product
// with a challenger then store its shadow decision. Set it before the
// service is used.
func (s *Service) SetChallengers(c Challengers) { s.challengers = c }

// ShadowDecision is a challenger's outcome on the input of a live
// decision. Shadows never change.
type ShadowDecision struct {
	// DecisionID is the champion's decision, decided on the same input.
	DecisionID        string
	Bank, Product     string
	ChampionVersion   int
	ChallengerVersion int
	PolicyHash        string // the challenger's
	Eligible          bool
	Score             int
	Grade             string
	Limit, Rate       decimal.Decimal
	// Bins is the bin index of each scorecard characteristic, in
	// scorecard order, comma-separated (as credit_decisions.bins).
	Bins string
	// KnockOuts are the ids of the knock-outs that fired, comma-separated,
	// in document order.
	KnockOuts string
	Time      time.Time
}

// ShadowPair is one row of the comparison: a champion decision and the
// challenger's shadow of it (ShadowReader.ShadowPairs).
type ShadowPair struct {
	DecisionID string
	Score      int
	Bins       string
	Eligible   bool
	Grade      string
}

// shadowFailures counts challengers that failed to evaluate (their
// assessment went on without a shadow); ShadowFailures reads it.
var shadowFailures atomic.Int64

// ShadowFailures is how many shadow evaluations failed since start: the
// metric behind sanzhi_shadow_failures_total.
func ShadowFailures() int64 { return shadowFailures.Load() }

// shadowOf evaluates the challenger chal on snap, the input decision d
// was made on, as of day; nil when there is no challenger, when it is a
// policy of another product, or when its evaluation fails. A failure is
// counted and never fails the assessment; nothing about the household is
// logged.
func shadowOf(chal *rules.Policy, snap rules.Input, day household.Date, d *Decision) (sh *ShadowDecision) {
	if chal == nil || chal.Bank != d.Bank || chal.Product != d.Product || chal.Version == d.PolicyVersion {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			shadowFailures.Add(1)
			sh = nil
		}
	}()
	// The outcome and the bins: the explanation (reasons,
	// counterfactuals) is most of an evaluation's cost and a shadow
	// keeps none of it.
	dec := rules.Outcome(chal, snap, day)
	return &ShadowDecision{DecisionID: d.ID, Bank: d.Bank, Product: d.Product, ChampionVersion: d.PolicyVersion,
		ChallengerVersion: dec.PolicyVersion, PolicyHash: dec.PolicyHash, Eligible: dec.Eligible,
		Score: dec.Score, Grade: dec.Grade, Limit: dec.Limit, Rate: dec.Rate,
		Bins: joinBins(rules.ScorecardBins(chal, snap)), KnockOuts: knockOutIDs(dec), Time: d.Time}
}

// joinBins is bins as stored, "2,0,3".
func joinBins(bins []int) string {
	var sb strings.Builder
	for i, b := range bins {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.Itoa(b))
	}
	return sb.String()
}

func knockOutIDs(dec rules.Decision) string {
	ids := make([]string, len(dec.KnockOuts))
	for i, k := range dec.KnockOuts {
		ids[i] = k.ID
	}
	return strings.Join(ids, ",")
}

// challenger is the product's challenger policy, nil when it has none or
// shadow evaluation is off. A failure to read it does not fail the
// assessment: it is counted, and the assessment goes on without a shadow.
func (s *Service) challenger(ctx context.Context, bank, product string) *rules.Policy {
	if s.challengers == nil {
		return nil
	}
	p, err := s.challengers.Challenger(ctx, bank, product)
	if err != nil {
		if ctx.Err() == nil { // a caller giving up is no failure of the challenger
			shadowFailures.Add(1)
		}
		return nil
	}
	return p
}

// insertShadow stores the plan's shadow, if any, in tx.
func insertShadow(ctx context.Context, tx Writer, plan *Plan) error {
	if plan.Shadow == nil {
		return nil
	}
	return tx.InsertShadowDecisions(ctx, []*ShadowDecision{plan.Shadow})
}

// shadowsOf are the shadows of plans, in order.
func shadowsOf(plans []*Plan) []*ShadowDecision {
	var out []*ShadowDecision
	for _, p := range plans {
		if p.Shadow != nil {
			out = append(out, p.Shadow)
		}
	}
	return out
}
