package csvrows

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/evidence"
)

// A refusal without a sentence of its own is told by its reason code, in
// both languages; the service's text never shows.
func TestRefusalWithoutSentence(t *testing.T) {
	row := Row{Row: 7, Input: evidence.SubmitInput{Parent: "villages/330483102215/households/x", ItemCode: "ZZ-MS-01"}}
	for _, c := range []struct {
		err    error
		zh, en string
	}{
		{errors.New("pq: connection reset by peer"), "第 7 行未被接受（原因代码 INTERNAL）", "row 7: refused (reason INTERNAL)"},
		{fault.InvalidField("kind", "must be one of points, ...; got %q", "x"), "第 7 行未被接受（原因代码 INVALID_ARGUMENT）", "row 7: refused (reason INVALID_ARGUMENT)"},
		{fmt.Errorf("batch: %w", fault.New(fault.FailedPrecondition, "ITEM_WITHDRAWN", "item ZZ-MS-01 was withdrawn")),
			"第 7 行未被接受（原因代码 ITEM_WITHDRAWN）", "row 7: refused (reason ITEM_WITHDRAWN)"},
	} {
		p := Refusal(row, c.err)
		assert.Equal(t, Refused, p.Reason)
		assert.Contains(t, p.Message("zh-CN"), c.zh)
		assert.Contains(t, p.Message("en"), c.en)
		for _, l := range []string{"zh-CN", "en"} {
			assert.NotContains(t, p.Message(l), "connection reset")
			assert.NotContains(t, p.Message(l), "must be one of")
			assert.NotContains(t, p.Message(l), "withdrawn")
		}
	}
	// A known field keeps its column.
	p := Refusal(row, fault.InvalidField("item_code", "%q is not an item of the catalogue village %s uses", "ZZ-MS-01", "330483102215"))
	assert.Equal(t, UnknownItem, p.Reason)
	assert.Equal(t, "第 7 行「事项代码」列的值「ZZ-MS-01」不在本村的积分目录里，请对照本村积分目录核对事项代码", p.Message("zh-CN"))
}
