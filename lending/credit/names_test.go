package credit

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
)

func TestNames(t *testing.T) {
	bank, product, id, err := ParseLineName(LineName("tongxiang-rcb", "sanzhi-xindai", "01a2-x"), "line")
	require.NoError(t, err)
	assert.Equal(t, []string{"tongxiang-rcb", "sanzhi-xindai", "01a2-x"}, []string{bank, product, id})
	_, _, id, err = ParseDecisionName(DecisionName("b", "p", "d1"), "decision")
	require.NoError(t, err)
	assert.Equal(t, "d1", id)
	v, h, c, err := ParseConsentName(ConsentName("330483102215", "01a21027-6bfb-7c94-b7f8-e0de095a4717", "c1"), "name")
	require.NoError(t, err)
	assert.Equal(t, []string{"330483102215", "01a21027-6bfb-7c94-b7f8-e0de095a4717", "c1"}, []string{v, h, c})

	for _, bad := range []string{"", "banks/", "banks/B/products/p/creditLines/x", "banks/b/products/p/creditLines/",
		"banks/b/products/p/decisions/x", "banks/b/creditLines/x", "banks/b/products/p/creditLines/x/y",
		"banks/b/products/p/creditLines/../x"} {
		_, _, _, err := ParseLineName(bad, "line")
		require.Error(t, err, bad)
		assert.True(t, fault.Is(err, fault.Invalid), bad)
	}
	for _, bad := range []string{"banks/Big", "banks/b/x", "bank/b", "banks/-b"} {
		_, err := ParseBank(bad, "bank")
		assert.Error(t, err, bad)
	}
	_, _, _, err = ParseConsentName("villages/330483102215/households/h/consent/c", "name")
	assert.Error(t, err)
}
