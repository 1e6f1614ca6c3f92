package yamldoc

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sanzhi/sanzhi/fault"
)

// Position is where a value was written: 1-based line and column.
type Position struct{ Line, Column int }

// At is where n was written, or nil for a nil node.
func At(n *yaml.Node) *Position {
	if n == nil {
		return nil
	}
	return &Position{n.Line, n.Column}
}

// Problem is one problem in a document.
type Problem struct {
	// Line and Column are 1-based positions in the YAML; 0 when the
	// problem has none (an empty document, a value that did not come
	// from YAML). A syntax error has a line but no column.
	Line   int
	Column int
	// Path names the field, e.g. "items[3].points" (indexes are 0-based);
	// empty for the document as a whole.
	Path    string
	Message string
}

// String is "line N:C: path: message", leaving out what the problem lacks
// (the column of a syntax error, the place, the path).
func (e Problem) String() string {
	var b strings.Builder
	if e.Line > 0 {
		b.WriteString(e.place())
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

func (e Problem) place() string {
	if e.Column > 0 {
		return fmt.Sprintf("line %d:%d", e.Line, e.Column)
	}
	return fmt.Sprintf("line %d", e.Line)
}

// Problems is every problem found in a document; Sorted orders them by
// line and column.
type Problems []Problem

// Add records a problem at n (nil: the problem has no place).
func (ps *Problems) Add(n *yaml.Node, path, format string, args ...any) {
	ps.AddAt(At(n), path, format, args...)
}

// AddAt records a problem at p (nil: the problem has no place).
func (ps *Problems) AddAt(p *Position, path, format string, args ...any) {
	e := Problem{Path: path, Message: fmt.Sprintf(format, args...)}
	if p != nil {
		e.Line, e.Column = p.Line, p.Column
	}
	*ps = append(*ps, e)
}

// Sorted returns a copy of the problems sorted by line and column (stable:
// problems at one place keep the order they were found in), or nil when
// there are none.
func (ps Problems) Sorted() Problems {
	if len(ps) == 0 {
		return nil
	}
	out := append(Problems(nil), ps...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		return out[i].Column < out[j].Column
	})
	return out
}

// Error lists the problems one per line, e.g.
// "line 12:13: items[3].points: has 2 decimal places, catalogue precision is 1".
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, e := range ps {
		lines[i] = e.String()
	}
	return strings.Join(lines, "\n")
}

// Fault returns the problems as a fault.Invalid with the given reason
// (e.g. "CATALOGUE_INVALID") and one violation per problem (field = path,
// description = "line N:C: message"); what names the document in the
// fault's message, e.g. "catalogue" gives "catalogue is invalid: …".
func (ps Problems) Fault(reason, what string) *fault.Error {
	v := make(fault.Violations, 0, len(ps))
	for _, e := range ps {
		desc := e.Message
		if e.Line > 0 {
			desc = e.place() + ": " + e.Message
		}
		v = append(v, fault.Violation{Field: e.Path, Description: desc})
	}
	msg := what + " is invalid"
	if len(ps) > 0 {
		msg += ": " + ps[0].String()
		if len(ps) > 1 {
			msg += fmt.Sprintf(" (and %d more)", len(ps)-1)
		}
	}
	return &fault.Error{Kind: fault.Invalid, Reason: reason, Message: msg, Violations: v}
}

// SetFault is the body of an As method for an error type built on
// Problems: when target is a **fault.Error it stores f() there.
func SetFault(target any, f func() *fault.Error) bool {
	p, ok := target.(**fault.Error)
	if ok {
		*p = f()
	}
	return ok
}
