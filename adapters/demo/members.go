package demo

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// memberYear is the year the demo families' ages are reckoned in: members
// are drawn from the head's birth date, not from today, so the county is
// the same whatever day it is seeded (and no one is born in the future).
const memberYear = 2026

// person is a member being drawn.
type person struct {
	relation household.Relation
	birth    time.Time
	male     bool
	head     bool
}

// age is the person's age on New Year's Day of memberYear.
func (p person) age() int {
	a := memberYear - p.birth.Year()
	if p.birth.YearDay() > 1 {
		a-- // the birthday is still to come on 1 January
	}
	return a
}

// family draws the members of a household whose head was born on birth:
// a spouse, parents while the head is young enough to have them, children,
// and grandchildren once the children are grown, as many as the facts
// count; exactly `labourers` of them work (the working-age first). It
// draws from its own generator (seeded by the village and the household's
// number) so the rest of the county is drawn as it was before members
// existed; used holds the village's 身份证号 stems.
func family(vi int, code uint64, n int, headName string, birth time.Time, male bool,
	members, labourers int32, used map[string]bool) []household.MemberInput {
	r := rand.New(rand.NewPCG(0x4d454d42, code*100_000+uint64(n)))
	people := []person{{relation: household.Head, birth: birth, male: male, head: true}}
	left := int(members) - 1
	shift := func(from time.Time, years int) time.Time {
		t := from.AddDate(years, 0, r.IntN(365)-182)
		if last := time.Date(memberYear-1, 12, 31, 0, 0, 0, 0, time.UTC); t.After(last) {
			t = last.AddDate(0, 0, -r.IntN(300))
		}
		return t
	}
	if left > 0 && r.IntN(100) < 85 { // some heads are widowed or single
		people = append(people, person{relation: household.Spouse, birth: shift(birth, r.IntN(7)-2), male: !male})
		left--
	}
	headAge := memberYear - birth.Year()
	for i := 0; left > 0 && i < 2 && headAge < 60 && r.IntN(100) < 60; i++ {
		b := shift(birth, -(24 + r.IntN(9)))
		if memberYear-b.Year() > 92 {
			break
		}
		people = append(people, person{relation: household.Parent, birth: b, male: i == 0})
		left--
	}
	var children []person
	for i := 0; left > 0 && i < 3; i++ {
		b := shift(birth, 23+3*i+r.IntN(6))
		if b.Year() >= memberYear || (len(children) > 0 && memberYear-b.Year() < 1) {
			break
		}
		c := person{relation: household.Child, birth: b, male: r.IntN(2) == 0}
		children = append(children, c)
		people = append(people, c)
		left--
	}
	for _, c := range children {
		for j := 0; left > 0 && j < 2 && c.age() >= 25; j++ {
			b := shift(c.birth, 24+2*j+r.IntN(6))
			if b.Year() >= memberYear {
				break
			}
			people = append(people, person{relation: household.Grandchild, birth: b, male: r.IntN(2) == 0})
			left--
		}
	}
	for ; left > 0; left-- { // a brother or sister who never left home
		people = append(people, person{relation: household.Sibling, birth: shift(birth, r.IntN(13)-6), male: r.IntN(2) == 0})
	}

	// The labourers are those most likely to work: prime working age first.
	order := make([]int, len(people))
	for i := range order {
		order[i] = i
	}
	fitness := func(p person) int {
		a := p.age()
		switch {
		case a >= 18 && a <= 60:
			return 100 - abs(a-38)
		case a > 60:
			return 40 - (a - 60)
		default:
			return a - 20 // children last, the oldest first
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return fitness(people[order[i]]) > fitness(people[order[j]]) })
	labour := make([]household.Labour, len(people))
	for k, i := range order {
		a := people[i].age()
		switch {
		case k < int(labourers):
			labour[i] = household.Labourer
		case a >= 6 && a <= 22:
			labour[i] = household.Student
		default:
			labour[i] = household.NotLabourer
		}
	}

	out := make([]household.MemberInput, len(people))
	for i, p := range people {
		in := household.MemberInput{Relation: p.relation.String(), Labour: labour[i].String()}
		if p.head {
			in.Name = headName
		} else {
			in.Name = memberName(r, headName, p)
			in.IDNumber = memberID(r, vi, p, used)
		}
		out[i] = in
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// memberName draws a name: children and grandchildren take the head's
// surname, spouses and parents-in-law their own.
func memberName(r *rand.Rand, headName string, p person) string {
	g := &gen{r: r}
	name := g.name(p.male, p.birth.Year())
	switch p.relation {
	case household.Child, household.Grandchild, household.Sibling:
		return string([]rune(headName)[:1]) + string([]rune(name)[1:])
	case household.Parent:
		if p.male {
			return string([]rune(headName)[:1]) + string([]rune(name)[1:])
		}
	}
	return name
}

// memberID draws a 身份证号 for a member. Heads' sequence codes start with
// the village index (0-2); members' with it plus 5, so a member never
// takes a head's number and the heads are drawn as before.
func memberID(r *rand.Rand, vi int, p person, used map[string]bool) string {
	birth := p.birth
	for tries := 0; ; tries++ {
		if tries > 0 && tries%10 == 0 {
			birth = birth.AddDate(0, 0, -1) // that day is full in this village
		}
		sex := 2 * r.IntN(5)
		if p.male {
			sex++
		}
		stem := fmt.Sprintf("%s%s%d%d%d", County, birth.Format("20060102"), vi+5, r.IntN(10), sex)
		if used[stem] {
			continue
		}
		used[stem] = true
		check, err := idnum.CheckDigit(stem)
		if err != nil {
			panic(err) // the stem is 17 digits by construction
		}
		return stem + string(check)
	}
}
