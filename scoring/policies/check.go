package policies

import "github.com/sanzhi/sanzhi/scoring/rules"

// Check is the Checker for real documents: scoring/policy validates them.
//
// Item inputs (item.CODE) are checked for form only: which catalogue an
// item must come from depends on the villages a bank lends in, which the
// service does not record yet. `sanzhi policy lint --catalogue` checks
// them against a county catalogue before upload.
func Check(doc []byte) (Meta, error) {
	p, err := rules.Parse(doc, nil)
	if err != nil {
		return Meta{}, err
	}
	return Meta{
		Bank: p.Bank, Product: p.Product, Version: p.Version,
		EffectiveDate: string(p.EffectiveDate), ContentHash: p.Hash(),
	}, nil
}
