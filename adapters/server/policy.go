package server

import (
	"errors"

	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/scoring/policies"
	"github.com/sanzhi/sanzhi/scoring/policy"
)

// PolicyChecker validates a credit policy document with scoring/policy
// and returns its identity for the lifecycle service.
//
// Item inputs (item.CODE) are checked for form only here: which catalogue
// an item must come from depends on the villages a bank lends in, which
// the service does not record yet. `sanzhi policy lint --catalogue`
// checks them against a county catalogue before upload.
func PolicyChecker(doc []byte) (policies.Meta, error) {
	p, err := policy.Parse(doc, nil)
	if err != nil {
		return policies.Meta{}, err
	}
	return policies.Meta{
		Bank: p.Bank, Product: p.Product, Version: p.Version,
		EffectiveDate: string(p.EffectiveDate), ContentHash: p.Hash(),
	}, nil
}

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
