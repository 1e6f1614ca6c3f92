package csvrows

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// register is a village's households as a Resolver sees them.
type register struct {
	byID   map[string]string   // raw 身份证号 → resource name
	byName map[string][]string // "name/group" → resource names with their 门牌
	calls  int
}

func (r *register) resolve(refs []HouseholdRef) ([]Match, error) {
	r.calls++
	out := make([]Match, len(refs))
	for i, ref := range refs {
		if !ref.IDNumber.IsZero() {
			if p, ok := r.byID[ref.IDNumber.Raw()]; ok {
				out[i] = Match{Parent: p, Found: 1}
			}
			continue
		}
		var found []string
		for _, x := range r.byName[ref.HeadName+"/"+string(rune('0'+ref.Group))] {
			p, addr, _ := strings.Cut(x, "|")
			if ref.Address == "" || ref.Address == addr {
				found = append(found, p)
			}
		}
		out[i].Found = len(found)
		if len(found) == 1 {
			out[i].Parent = found[0]
		}
	}
	return out, nil
}

func newRegister() *register {
	return &register{
		byID: map[string]string{validID: parent1},
		byName: map[string][]string{
			"沈建国/3": {parent1 + "|3组27号"},
			"王芳/5":  {parent2 + "|5组1号", "villages/" + village + "/households/0190a6f2-7c4e-7d3a-9b1e-2f4c6a8e0d33|5组9号"},
		},
	}
}

func TestWordsColumns(t *testing.T) {
	head := "身份证号,户主姓名,组,门牌,事项代码,发生日期"
	data := head + "\n" +
		strings.ToLower(validID) + ",,,,A,2024-03-05\n" + // 2: by number (lower-case x)
		",沈建国,3组,,A,2024-03-05\n" + // 3: by name and group, same act as row 2
		",王芳,5,5组9号,A,2024-03-05\n" + // 4: the 门牌 says which
		",王芳,5,,A,2024-03-05\n" + // 5: two 王芳 in group 5
		validID2 + ",,,,A,2024-03-05\n" + // 6: nobody here
		"440306199001011237,,,,A,2024-03-05\n" + // 7: wrong check digit
		",沈建国,第三组,,A,2024-03-05\n" + // 8: not a group
		",沈建国,,,A,2024-03-05\n" + // 9: no group
		",,,,A,2024-03-05\n" // 10: no household at all
	reg := newRegister()
	f, err := ReadResolving(strings.NewReader(data), village, 0, reg.resolve)
	require.NoError(t, err)
	assert.Equal(t, 1, reg.calls, "one call for the whole file")
	require.Len(t, f.Rows, 3)
	assert.Equal(t, parent1, f.Rows[0].Input.Parent)
	assert.Equal(t, validID, f.Rows[0].Ref.IDNumber.Raw())
	assert.Equal(t, parent1, f.Rows[1].Input.Parent)
	assert.Equal(t, HouseholdRef{HeadName: "沈建国", Group: 3}, *f.Rows[1].Ref)
	assert.Equal(t, "villages/"+village+"/households/0190a6f2-7c4e-7d3a-9b1e-2f4c6a8e0d33", f.Rows[2].Input.Parent)
	// Rows 2 and 3 are the same act of the same household: the second is
	// a second act (as two identical 户编号 rows are), not the first again.
	assert.NotEqual(t, f.Rows[0].Input.RequestID, f.Rows[1].Input.RequestID)
	assert.Equal(t, []wantProblem{
		{5, "head_name", AmbiguousHousehold, "王芳（5组）", ""},
		{6, "id_number", NoSuchHousehold, "440306********1236", ""},
		{7, "id_number", BadIDNumber, "440306********1237", ""},
		{8, "group", BadGroup, "第三组", ""},
		{9, "group", MissingValue, "", ""},
		{10, "id_number", MissingHousehold, "", ""},
	}, problems(f))
	assert.Equal(t, 2, f.Problems[0].Got)
	for _, p := range f.Problems {
		assert.NotContains(t, p.Message("zh-CN"), validID2)
		assert.NotContains(t, p.Message("en"), validID2)
	}
	assert.Equal(t, "第 5 行：本村有 2 户都是「王芳（5组）」，请填户主身份证号或门牌以区分", f.Problems[0].Message("zh-CN"))
}

// A row naming its household by number derives the request id a row
// naming it by 户编号 derives: the same act imports once however named.
func TestWordsDeriveTheSameRequestID(t *testing.T) {
	byUUID := read(t, zhHead+"\n"+hh1+",A,2024-03-05\n")
	f, err := ReadResolving(strings.NewReader("身份证号,事项代码,发生日期\n"+validID+",A,2024/3/5\n"), village, 0, newRegister().resolve)
	require.NoError(t, err)
	require.Len(t, f.Rows, 1)
	assert.Equal(t, byUUID.Rows[0].Input.RequestID, f.Rows[0].Input.RequestID)
	assert.Nil(t, byUUID.Rows[0].Ref)
}

func TestWordsWithoutResolver(t *testing.T) {
	f := read(t, "户编号,身份证号,事项代码,发生日期\n,"+validID+",A,2024-03-05\n"+hh1+",,A,2024-03-05\n")
	require.Len(t, f.Rows, 1, "the 户编号 row imports as before")
	assert.Equal(t, []wantProblem{{2, "id_number", NotResolved, "110105********002X", ""}}, problems(f))
}

func TestWordsHeader(t *testing.T) {
	e := readErr(t, "户主姓名,事项代码,发生日期\n", 0)
	assert.Equal(t, []Reason{NoHouseholdColumn}, e.Reasons(), "a name without a group names no household")
	assert.Contains(t, e.Message("zh-CN"), "身份证号")
	for _, head := range []string{"身份证号,事项代码,发生日期", "户主,村民小组,事项代码,发生日期", "id_number,item_code,occurred_on"} {
		_, err := Read(strings.NewReader(head+"\n"), village, 0)
		assert.NoError(t, err, head)
	}
}

func TestResolverError(t *testing.T) {
	boom := errors.New("store down")
	_, err := ReadResolving(strings.NewReader("身份证号,事项代码,发生日期\n"+validID+",A,2024-03-05\n"), village, 0,
		func([]HouseholdRef) ([]Match, error) { return nil, boom })
	assert.ErrorIs(t, err, boom)
}

func TestWordsTemplate(t *testing.T) {
	b := WordsTemplate("zh-CN")
	assert.Equal(t, "\uFEFF身份证号,户主姓名,组,门牌,事项代码,发生日期,数量,说明,证明人,编号\r\n", string(b))
	assert.True(t, bytes.HasPrefix(WordsTemplate("en"), []byte("\uFEFFid_number,head_name,group,address,")))
	f, err := ReadResolving(bytes.NewReader(b), village, 1, newRegister().resolve)
	require.NoError(t, err)
	assert.Empty(t, f.Rows)
	assert.Empty(t, f.Problems)
}
