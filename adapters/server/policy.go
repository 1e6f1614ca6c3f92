package server

import (
	"errors"

	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/scoring/policies"
	"github.com/sanzhi/sanzhi/scoring/policy"
)

// PolicyChecker validates a credit policy document (see policies.Check).
var PolicyChecker policies.Checker = policies.Check

// PolicyLinter reports every problem of a document for LintPolicy.
func PolicyLinter(doc []byte) (policies.Meta, []*sanzhiv1.PolicyProblem, error) {
	meta, err := PolicyChecker(doc)
	var le policy.LintErrors
	if errors.As(err, &le) {
		out := make([]*sanzhiv1.PolicyProblem, len(le))
		for i, p := range le {
			out[i] = &sanzhiv1.PolicyProblem{Line: int32(p.Line), Column: int32(p.Column), Path: p.Path, Message: p.Message}
		}
		return policies.Meta{}, out, nil
	}
	return meta, nil, err
}
