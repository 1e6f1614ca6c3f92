package points

import (
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/yamldoc"
)

// LintError is one problem in a catalogue document: its line and column
// (1-based, 0 when it has none), the field's path, e.g. "items[3].points"
// (indexes 0-based; empty for the document as a whole), and the message.
type LintError = yamldoc.Problem

// LintErrors is every problem found in a catalogue document, sorted by line
// and column. ParseCounty, ParseVillage, Resolve, ForVillage and Lint return
// it as their error; it is never empty. Error lists the problems one per
// line, e.g.
// "line 12:13: items[3].points: has 2 decimal places, catalogue precision is 1".
//
// It converts to a *fault.Error of kind fault.Invalid (reason
// CATALOGUE_INVALID, one violation per problem) under errors.As, so
// fault.KindOf reports Invalid and adapters map it like any other fault.
type LintErrors []LintError

func (e LintErrors) Error() string { return yamldoc.Problems(e).Error() }

// Fault returns the problems as an Invalid fault with one violation per
// problem (field = path, description = "line N:C: message").
func (e LintErrors) Fault() *fault.Error {
	return yamldoc.Problems(e).Fault("CATALOGUE_INVALID", "catalogue")
}

// As lets errors.As convert the problems into a *fault.Error.
func (e LintErrors) As(target any) bool { return yamldoc.SetFault(target, e.Fault) }

// lintResult returns the problems sorted as LintErrors, or nil.
func lintResult(ps yamldoc.Problems) error {
	if s := ps.Sorted(); s != nil {
		return LintErrors(s)
	}
	return nil
}
