package rules

import (
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/yamldoc"
)

// LintError is one problem in a policy document: its line and column
// (1-based; inside a condition, of the offending word; 0 when it has
// none), the field's path, e.g. "scorecard.characteristics[2].bins[1]"
// (indexes 0-based; empty for the document as a whole), and the message.
type LintError = yamldoc.Problem

// LintErrors is every problem found in a policy document, sorted by line
// and column; Parse and Lint return it as their error and it is never
// empty. Error lists the problems one per line, e.g.
// "line 40:9: scorecard.characteristics[1].bins[2]: overlaps the bin before it".
// Under errors.As it converts to a *fault.Error of kind fault.Invalid
// (reason POLICY_INVALID, one violation per problem).
type LintErrors []LintError

func (e LintErrors) Error() string { return yamldoc.Problems(e).Error() }

// Fault returns the problems as an Invalid fault with one violation per
// problem (field = path, description = "line N:C: message").
func (e LintErrors) Fault() *fault.Error {
	return yamldoc.Problems(e).Fault("POLICY_INVALID", "credit policy")
}

// As lets errors.As convert the problems into a *fault.Error.
func (e LintErrors) As(target any) bool { return yamldoc.SetFault(target, e.Fault) }
