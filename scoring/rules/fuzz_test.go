package rules

import (
	"bytes"
	"testing"
)

// FuzzParse: the loader never panics, whatever the bytes; a document it
// accepts has a stable hash and evaluates without panicking; one it
// refuses says why.
func FuzzParse(f *testing.F) {
	f.Add(exampleBytes(f))
	f.Add([]byte(smallYAML))
	f.Add([]byte("bank: x\n"))
	f.Add([]byte("knockouts:\n  - {id: a, when: \"not (x or y) and z in [a, b]\", reason: {zh-CN: a, en: a}}\n"))
	f.Add([]byte(`scorecard: {characteristics: [{id: a, input: points.credit, bins: [{range: "(-inf, 5]", points: 1}]}]}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := Parse(src, catalogueItems)
		if err != nil {
			errs, ok := err.(LintErrors)
			if !ok || len(errs) == 0 {
				t.Fatalf("error %T %v is not a non-empty LintErrors", err, err)
			}
			for _, e := range errs {
				if e.Message == "" {
					t.Fatalf("empty message in %v", errs)
				}
			}
			return
		}
		again, err := Parse(src, catalogueItems)
		if err != nil || again.Hash() != p.Hash() {
			t.Fatalf("re-parse differs: %v", err)
		}
		for _, in := range []Input{{}, typical()} {
			a := Evaluate(p, in, "2024-03-01").Canonical()
			if b := Evaluate(again, in, "2024-03-01").Canonical(); !bytes.Equal(a, b) {
				t.Fatalf("evaluation is not deterministic")
			}
		}
	})
}
