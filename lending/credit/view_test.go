package credit

import (
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"

	"github.com/sanzhi/sanzhi/lending"
)

// A line shows what can be drawn today: its headroom while active, nothing
// otherwise, whatever its limit says (every transport shows this figure).
func TestViewAvailable(t *testing.T) {
	l := &Line{Line: lending.Line{Limit: decimal.RequireFromString("50000.00"), Drawn: decimal.RequireFromString("12000.50")}}
	for status, want := range map[lending.Status]string{
		lending.StatusActive: "37999.50", lending.StatusFrozen: "0", lending.StatusExpired: "0", lending.StatusClosed: "0",
	} {
		v := &View{Line: l, Status: status}
		assert.True(t, decimal.RequireFromString(want).Equal(v.Available()), "%s: %s", status, v.Available())
	}
	over := &View{Line: &Line{Line: lending.Line{Limit: decimal.NewFromInt(100), Drawn: decimal.NewFromInt(150)}}, Status: lending.StatusActive}
	assert.True(t, over.Available().IsZero(), "a line drawn past a lowered limit has nothing left, not a negative")
}
