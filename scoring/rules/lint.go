package rules

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/sanzhi/sanzhi/fault"
)

// LintError is one problem in a policy document.
type LintError struct {
	// Line and Column are 1-based positions in the YAML (inside a
	// condition, of the offending word); 0 when the problem has none.
	Line   int
	Column int
	// Path names the field, e.g. "scorecard.characteristics[2].bins[1]"
	// (indexes 0-based); empty for the document as a whole.
	Path    string
	Message string
}

func (e LintError) String() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d:%d: ", e.Line, e.Column)
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// LintErrors is every problem found in a policy document, sorted by line
// and column; Parse and Lint return it as their error and it is never
// empty. Under errors.As it converts to a *fault.Error of kind
// fault.Invalid (reason POLICY_INVALID, one violation per problem).
type LintErrors []LintError

// Error lists the problems one per line, e.g.
// "line 40:9: scorecard.characteristics[1].bins[2]: overlaps the bin before it".
func (e LintErrors) Error() string {
	lines := make([]string, len(e))
	for i, le := range e {
		lines[i] = le.String()
	}
	return strings.Join(lines, "\n")
}

// Fault returns the problems as an Invalid fault with one violation per
// problem (field = path, description = "line N:C: message").
func (e LintErrors) Fault() *fault.Error {
	v := make(fault.Violations, 0, len(e))
	for _, le := range e {
		desc := le.Message
		if le.Line > 0 {
			desc = fmt.Sprintf("line %d:%d: %s", le.Line, le.Column, le.Message)
		}
		v = append(v, fault.Violation{Field: le.Path, Description: desc})
	}
	msg := "credit policy is invalid"
	if len(e) > 0 {
		msg += ": " + e[0].String()
		if len(e) > 1 {
			msg += fmt.Sprintf(" (and %d more)", len(e)-1)
		}
	}
	return &fault.Error{Kind: fault.Invalid, Reason: "POLICY_INVALID", Message: msg, Violations: v}
}

// As lets errors.As convert the problems into a *fault.Error.
func (e LintErrors) As(target any) bool {
	if p, ok := target.(**fault.Error); ok {
		*p = e.Fault()
		return true
	}
	return false
}

// position is where something was written.
type position struct{ line, col int }

// linter collects problems.
type linter struct{ errs LintErrors }

func (l *linter) add(p *position, path, format string, args ...any) {
	e := LintError{Path: path, Message: fmt.Sprintf(format, args...)}
	if p != nil {
		e.Line, e.Column = p.line, p.col
	}
	l.errs = append(l.errs, e)
}

// result returns the problems sorted by position, or nil.
func (l *linter) result() error {
	if len(l.errs) == 0 {
		return nil
	}
	errs := append(LintErrors(nil), l.errs...)
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].Line != errs[j].Line {
			return errs[i].Line < errs[j].Line
		}
		return errs[i].Column < errs[j].Column
	})
	return errs
}

func indexPath(list string, i int) string { return list + "[" + strconv.Itoa(i) + "]" }
