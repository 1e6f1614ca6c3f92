package resource_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sanzhi/sanzhi/resource"
)

func TestNames(t *testing.T) {
	assert.Equal(t, "villages/330483102215", resource.Village("330483102215"))
	assert.Equal(t, "villages/330483102215/households/h1", resource.Household("330483102215", "h1"))
	assert.Equal(t, "counties/330483", resource.County("330483"))
	assert.Equal(t, "banks/tongxiang-rcb", resource.Bank("tongxiang-rcb"))
	assert.Equal(t, "banks/tongxiang-rcb/products/sanzhi-xindai", resource.Product("tongxiang-rcb", "sanzhi-xindai"))
}
