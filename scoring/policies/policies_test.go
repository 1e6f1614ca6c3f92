package policies

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
)

func TestNames(t *testing.T) {
	bank, product, n, err := ParseName("banks/tongxiang-rcb/products/sanzhi-xindai/policies/3", "name", false)
	require.NoError(t, err)
	assert.Equal(t, []any{"tongxiang-rcb", "sanzhi-xindai", 3}, []any{bank, product, n})
	v := &Version{Bank: bank, Product: product, Version: n}
	assert.Equal(t, "banks/tongxiang-rcb/products/sanzhi-xindai/policies/3", v.Name())

	_, _, n, err = ParseName("banks/tongxiang-rcb/products/sanzhi-xindai/policies/active", "name", true)
	require.NoError(t, err)
	assert.Zero(t, n)
	for _, bad := range []string{
		"banks/tongxiang-rcb/products/sanzhi-xindai/policies/active", // not allowed here
		"banks/tongxiang-rcb/products/sanzhi-xindai/policies/0",
		"banks/tongxiang-rcb/products/sanzhi-xindai/policies/03",
		"banks/Tongxiang/products/sanzhi-xindai/policies/1",
		"banks/tongxiang-rcb/policies/1",
		"",
	} {
		_, _, _, err := ParseName(bad, "name", false)
		assert.True(t, fault.Is(err, fault.Invalid), "%q: %v", bad, err)
	}
}

func TestUnifiedDiff(t *testing.T) {
	a := "a: 1\nb: 2\nc: 3\nd: 4\n"
	b := "a: 1\nb: 20\nc: 3\nd: 4\ne: 5\n"
	got := UnifiedDiff("v1", "v2", a, b)
	assert.Contains(t, got, "--- v1\n+++ v2\n")
	assert.Contains(t, got, "-b: 2\n+b: 20\n")
	assert.Contains(t, got, "+e: 5\n")
	assert.NotContains(t, got, "-a: 1")
	assert.Empty(t, UnifiedDiff("v1", "v2", a, a), "no change, no hunks")
}
