package rules

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sanzhi/sanzhi/scoring/yamldoc"
)

// Backtest is the policy document's optional definition of a bad outcome
// (issue 16 §3): what back-testing the version counts as a loan gone bad,
// so a version is judged by the definition it was approved with. It does
// not affect a decision, so it is not part of the canonical form (Hash).
//
// A decision is bad when, within WindowMonths of the decision date, any
// loan status report of the household's line at the bank meets the
// definition: at least DaysPastDue days past due (0: days past due do not
// count), a classification among Classifications, in default (Default) or
// written off (WriteOff). It is good when the window has fully passed, the
// line was drawn and nothing bad was reported; otherwise it has no outcome
// (docs/MODEL-RISK.md).
type Backtest struct {
	// Set is true when the document has a backtest section; what it
	// leaves out takes the recommended definition.
	Set          bool
	WindowMonths int
	Bad          BadDefinition
}

// BadDefinition is what makes one loan status report bad.
type BadDefinition struct {
	// DaysPastDue is the fewest days past due that make a report bad; 0
	// means days past due alone never do.
	DaysPastDue int
	// Classifications are the 五级分类 that make a report bad, in the
	// order the classes go (normal … loss), each at most once.
	Classifications []string
	// Default and WriteOff make a report in default, or written off, bad.
	Default, WriteOff bool
}

// The recommended definition (docs/MODEL-RISK.md): 90 or more days past
// due, 次级, 可疑 or 损失, in default or written off, within 12 months.
const (
	DefaultBacktestWindowMonths = 12
	DefaultBadDaysPastDue       = 90
)

// backtestClasses are the 五级分类 a bad definition may name, best first
// (lending.Classes; the domain below lending cannot import it).
var backtestClasses = []string{"normal", "special_mention", "substandard", "doubtful", "loss"}

// DefaultBacktest is the definition of a document without a backtest
// section, and what a section leaves out.
func DefaultBacktest() Backtest {
	return Backtest{WindowMonths: DefaultBacktestWindowMonths, Bad: BadDefinition{
		DaysPastDue: DefaultBadDaysPastDue, Classifications: []string{"substandard", "doubtful", "loss"},
		Default: true, WriteOff: true}}
}

// backtest reads the optional backtest section:
//
//	backtest:
//	  window_months: 12          # 1..120
//	  bad:
//	    days_past_due: 90        # 0..36500; 0: days past due alone are never bad
//	    classifications: [substandard, doubtful, loss]
//	    default: true
//	    write_off: true
func (r *reader) backtest(n *yaml.Node) {
	r.p.Backtest = DefaultBacktest()
	if n == nil {
		return
	}
	m := r.Fields(n, "backtest", []string{"window_months", "bad"})
	if m == nil {
		return
	}
	b := &r.p.Backtest
	b.Set = true
	if v := m.Get("window_months"); v != nil {
		if w, ok := r.Integer(v, "backtest.window_months", 1, 120); ok {
			b.WindowMonths = w
		}
	}
	bn := m.Get("bad")
	if bn == nil {
		return
	}
	bm := r.Fields(bn, "backtest.bad", []string{"days_past_due", "classifications", "default", "write_off"})
	if bm == nil {
		return
	}
	if v := bm.Get("days_past_due"); v != nil {
		if d, ok := r.Integer(v, "backtest.bad.days_past_due", 0, 36_500); ok {
			b.Bad.DaysPastDue = d
		}
	}
	if v := bm.Get("classifications"); v != nil {
		if items, ok := r.List(v, "backtest.bad.classifications", len(backtestClasses)); ok {
			seen := map[string]bool{}
			for i, it := range items {
				path := yamldoc.Index("backtest.bad.classifications", i)
				s, ok := r.Str(it, path)
				if !ok {
					continue
				}
				if !isBacktestClass(s) {
					r.Add(it, path, "must be one of %s, got %q", strings.Join(backtestClasses, ", "), s)
					continue
				}
				if seen[s] {
					r.Add(it, path, "%q is listed twice", s)
					continue
				}
				seen[s] = true
			}
			var classes []string
			for _, c := range backtestClasses {
				if seen[c] {
					classes = append(classes, c)
				}
			}
			b.Bad.Classifications = classes
		}
	}
	if v := bm.Get("default"); v != nil {
		if d, ok := r.Boolean(v, "backtest.bad.default"); ok {
			b.Bad.Default = d
		}
	}
	if v := bm.Get("write_off"); v != nil {
		if d, ok := r.Boolean(v, "backtest.bad.write_off"); ok {
			b.Bad.WriteOff = d
		}
	}
	if b.Bad.DaysPastDue == 0 && len(b.Bad.Classifications) == 0 && !b.Bad.Default && !b.Bad.WriteOff {
		r.Add(bn, "backtest.bad", "defines nothing as bad: give days_past_due, classifications, default or write_off")
	}
}

func isBacktestClass(s string) bool {
	for _, c := range backtestClasses {
		if c == s {
			return true
		}
	}
	return false
}
