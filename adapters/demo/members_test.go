package demo_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/demo"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// Every demo household lists its whole register, consistent with its
// counts and its head, and old heads' households have working-age members
// (whom the policy may later lend to).
func TestMembersArePlausible(t *testing.T) {
	e, _ := seededCounty(t)
	today := household.Today(fixedNow)
	var households, oldHeads, oldWithWorker, spouses, members int
	seen := map[string]bool{}
	for _, v := range demo.Villages {
		for _, h := range all(t, e.svc, v.Code) {
			households++
			require.Len(t, h.Members, int(h.Facts.Members), h.Address)
			head := h.Members[0]
			require.Equal(t, household.Head, head.Relation)
			assert.Equal(t, h.HeadName, head.Name)
			assert.Equal(t, h.HeadID, head.ID)
			headAge := head.Age(today)
			var labourers int32
			workingAge := false
			for i, m := range h.Members {
				members++
				assert.Equal(t, int32(i+1), m.Number)
				assert.False(t, seen[string(m.ID.Index)], "one 身份证号 per person in the county")
				seen[string(m.ID.Index)] = true
				age := m.Age(today)
				require.GreaterOrEqual(t, age, 0, "%s member %d born %s", h.Address, m.Number, m.BirthDate)
				if m.Labour == household.Labourer {
					labourers++
				}
				if m.Labour == household.Student {
					assert.True(t, age >= 6 && age <= 23, "a student of %d", age) // 6-22 on New Year's Day
				}
				if age >= 18 && age <= 60 {
					workingAge = true
				}
				switch m.Relation {
				case household.Head:
					assert.Zero(t, i, "the head is member one")
				case household.Spouse:
					spouses++
					assert.InDelta(t, headAge, age, 5)
				case household.Child:
					assert.GreaterOrEqual(t, headAge-age, 20)
				case household.Parent:
					assert.GreaterOrEqual(t, age-headAge, 20)
				case household.Grandchild:
					assert.GreaterOrEqual(t, headAge-age, 40)
				}
			}
			assert.Equal(t, h.Facts.Labourers, labourers, "%s: the labourers counted are the members who work", h.Address)
			if headAge > 60 {
				oldHeads++
				if workingAge {
					oldWithWorker++
				}
			}
		}
	}
	assert.InDelta(t, 0.75, float64(spouses)/float64(households), 0.1, "most heads are married")
	assert.Greater(t, float64(oldWithWorker)/float64(oldHeads), 0.5, "%d of %d old heads' households have a working-age member", oldWithWorker, oldHeads)
	t.Logf("%d households, %d members; %d heads over 60, %d of them with a member aged 18-60", households, members, oldHeads, oldWithWorker)
}
