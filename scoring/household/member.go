package household

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/idnum"
)

// Member is one person on the household's register (户口簿) as of a facts
// version: members change only with a new version, like the facts. The
// head (户主) is always a member; its name and 身份证号 are the
// household's head's.
type Member struct {
	Number   int32 // stable within the household: 1 is the head as registered
	Name     string
	Relation Relation // to the head
	IDMasked string
	ID       SealedID // sealed exactly as the head's: bound to the household
	Labour   Labour
	// BirthDate comes from the 身份证号; the store keeps it only sealed
	// inside the number, so it is set by Service reads (zero otherwise).
	BirthDate Date
}

// Age returns the member's age in whole years on day, or -1 when the
// birth date is not known.
func (m *Member) Age(day Date) int {
	if m.BirthDate == "" || day == "" {
		return -1
	}
	b, d := m.BirthDate.Time(), day.Time()
	age := d.Year() - b.Year()
	if d.Month() < b.Month() || d.Month() == b.Month() && d.Day() < b.Day() {
		age-- // the birthday is still to come this year
	}
	return age
}

// Words is a code with its words in zh-CN and English, as people read it.
type Words struct{ Code, ZH, EN string }

// Relation is a member's relation to the head, as the 户口簿 writes it.
type Relation uint8

// The relations; the zero value is not a relation.
const (
	RelationUnknown Relation = iota
	Head
	Spouse
	Child
	Parent
	Sibling
	Grandchild
	OtherRelative
)

var relationWords = [...]Words{
	{"", "", ""},
	{"head", "户主", "head of household"},
	{"spouse", "配偶", "spouse"},
	{"child", "子女", "child"},
	{"parent", "父母", "parent"},
	{"sibling", "兄弟姐妹", "brother or sister"},
	{"grandchild", "孙子女", "grandchild"},
	{"other", "其他", "other"},
}

// Relations lists the relations in the order forms offer them.
func Relations() []Relation {
	return []Relation{Head, Spouse, Child, Parent, Sibling, Grandchild, OtherRelative}
}

// Words returns r's code and words.
func (r Relation) Words() Words {
	if int(r) >= len(relationWords) {
		return relationWords[0]
	}
	return relationWords[r]
}

// String returns r's code, the form stored and sent over the API.
func (r Relation) String() string { return r.Words().Code }

// ParseRelation reads a relation code or its zh-CN word.
func ParseRelation(s string) (Relation, bool) {
	s = strings.TrimSpace(s)
	for i, w := range relationWords {
		if i > 0 && (s == w.Code || s == w.ZH) {
			return Relation(i), true
		}
	}
	return RelationUnknown, false
}

// Labour is whether a member can work, as the village counts 劳动力.
type Labour uint8

// The labour statuses; the zero value is not a status.
const (
	LabourUnknown Labour = iota
	Labourer             // 劳动力: counted in Facts.Labourers
	NotLabourer          // 非劳动力: elderly, ill or disabled, at home
	Student              // 在校学生
)

var labourWords = [...]Words{
	{"", "", ""},
	{"labourer", "劳动力", "able to work"},
	{"not_labourer", "非劳动力", "not able to work"},
	{"student", "在校学生", "in school"},
}

// Labours lists the statuses in the order forms offer them.
func Labours() []Labour { return []Labour{Labourer, NotLabourer, Student} }

// Words returns l's code and words.
func (l Labour) Words() Words {
	if int(l) >= len(labourWords) {
		return labourWords[0]
	}
	return labourWords[l]
}

// String returns l's code, the form stored and sent over the API.
func (l Labour) String() string { return l.Words().Code }

// ParseLabour reads a labour status code or its zh-CN word.
func ParseLabour(s string) (Labour, bool) {
	s = strings.TrimSpace(s)
	for i, w := range labourWords {
		if i > 0 && (s == w.Code || s == w.ZH) {
			return Labour(i), true
		}
	}
	return LabourUnknown, false
}

// MemberInput is one member as typed. Number names an existing member (0
// for a new one); IDNumber is required for a new member and, for an
// existing one, left empty to keep the stored number. The head's entry
// may leave Name and IDNumber empty: they are the household's head's.
type MemberInput struct {
	Number   int32
	Name     string
	Relation string // a Relation code or its zh-CN word
	IDNumber string
	Labour   string // a Labour code or its zh-CN word
}

// parsedMember is a MemberInput checked on its own, before it is set
// against the household's current members.
type parsedMember struct {
	in       MemberInput
	field    string // e.g. household.members[2]
	name     string
	relation Relation
	labour   Labour
	id       idnum.PersonID // zero when not given
}

// add records a violation with its zh-CN words, for the village counter.
func add(v *fault.Violations, field, zh, format string, args ...any) {
	*v = append(*v, fault.Violation{Field: field, Description: fmt.Sprintf(format, args...), ZH: zh})
}

// parseMembers checks each input on its own and that exactly one is the
// head; the checks that need the household's current members (numbers
// that exist, duplicate 身份证号) are in setMembers.
func parseMembers(prefix string, ins []MemberInput, now time.Time, v *fault.Violations) []parsedMember {
	if len(ins) == 0 {
		add(v, prefix, "至少要有户主一人", "must list at least the head (户主)")
		return nil
	}
	if len(ins) > 50 {
		add(v, prefix, "成员最多50人", "may list at most 50 members, got %d", len(ins))
		return nil
	}
	out := make([]parsedMember, len(ins))
	heads := 0
	numbers := map[int32]int{}
	for i, in := range ins {
		p := parsedMember{in: in, field: fmt.Sprintf("%s[%d]", prefix, i), name: strings.TrimSpace(in.Name)}
		r, ok := ParseRelation(in.Relation)
		if !ok {
			add(v, p.field+".relation", "请选择与户主的关系", "%q is not a relation to the head (head, spouse, child, parent, sibling, grandchild, other)", in.Relation)
		}
		p.relation = r
		if r == Head {
			heads++
			if heads == 2 {
				add(v, p.field+".relation", "一户只能有一名户主", "a household has one head (户主); another member is already the head")
			}
		}
		if l, ok := ParseLabour(in.Labour); ok {
			p.labour = l
		} else {
			add(v, p.field+".labour_status", "请选择劳动力状况", "%q is not a labour status (labourer, not_labourer, student)", in.Labour)
		}
		if p.name == "" && r != Head {
			add(v, p.field+".name", "请填写姓名", "is required")
		} else if len([]rune(p.name)) > 64 {
			add(v, p.field+".name", "姓名最多64个字", "must be at most 64 characters")
		}
		if m := idnum.FreeTextProblem("姓名", "name", in.Name); m != "" {
			zh, _, _ := strings.Cut(m, " / ")
			add(v, p.field+".name", zh, "%s", m)
		}
		if in.Number < 0 {
			add(v, p.field+".number", "成员编号不对", "must not be negative, got %d", in.Number)
		} else if in.Number > 0 {
			if j, dup := numbers[in.Number]; dup {
				add(v, p.field+".number", "同一成员填了两次", "member %d is listed twice (also at %d)", in.Number, j)
			}
			numbers[in.Number] = i
		}
		if in.IDNumber != "" {
			id, err := idnum.ParsePersonIDAt(strings.ToUpper(strings.TrimSpace(in.IDNumber)), now.In(Shanghai))
			if err != nil {
				add(v, p.field+".id_number", "身份证号不对："+idReasonZH(err), "%s", err)
			} else {
				p.id = id
			}
		} else if in.Number == 0 && r != Head {
			add(v, p.field+".id_number", "请填写身份证号", "is required for a new member")
		}
		out[i] = p
	}
	if heads == 0 {
		add(v, prefix, "必须有一名成员是户主", "one member must be the head (户主)")
	}
	return out
}

// idReasonZH says in zh-CN why a 身份证号 was refused.
func idReasonZH(err error) string {
	var e *idnum.Error
	if !errors.As(err, &e) {
		return "格式不对"
	}
	switch e.Reason {
	case idnum.ReasonLength:
		return "应为18位"
	case idnum.ReasonFormat:
		return "只能是数字，最后一位可以是X"
	case idnum.ReasonRegion:
		return "地区代码不对"
	case idnum.ReasonBirthDate:
		return "出生日期不对"
	case idnum.ReasonCheckDigit:
		return "校验位不对，请核对每一位"
	}
	return "格式不对"
}

// setMembers turns checked inputs into the household's next member list
// against its current members (cur): existing members keep their number
// and, unless a new number is typed, their sealed 身份证号; new ones are
// numbered from next. The head's entry is the household's head. New
// numbers are sealed by sealer, bound to h. Problems go to v.
func setMembers(h *Household, cur []Member, ps []parsedMember, next int32, sealer Sealer, v *fault.Violations) ([]Member, error) {
	byNumber := map[int32]Member{}
	for _, m := range cur {
		byNumber[m.Number] = m
	}
	headNumber := int32(0)
	for _, m := range cur {
		if m.Relation == Head {
			headNumber = m.Number
		}
	}
	out := make([]Member, 0, len(ps))
	seen := map[string]string{} // blind index → field that holds it
	for _, p := range ps {
		m := Member{Number: p.in.Number, Name: p.name, Relation: p.relation, Labour: p.labour}
		old, exists := byNumber[p.in.Number]
		if p.in.Number > 0 && !exists {
			add(v, p.field+".number", "没有这个成员", "the household has no member %d", p.in.Number)
			continue
		}
		if p.relation == Head {
			// The head is the household's: its name and number are the
			// head's fields, changed there (a new head is a new household).
			if p.name != "" && p.name != h.HeadName {
				add(v, p.field+".name", "户主姓名与户主登记的不一致，请在户主信息中修改", "is the household head's name %q; change it as the head's name", h.HeadName)
			}
			if !p.id.IsZero() && !bytes.Equal(sealer.Index(p.id), h.HeadID.Index) {
				add(v, p.field+".id_number", "户主的身份证号不能改；换户主须另行登记新户", "is the household head's 身份证号, which cannot change")
			}
			if p.in.Number > 0 && headNumber > 0 && p.in.Number != headNumber {
				add(v, p.field+".relation", "户主不能更换；换户主须另行登记新户", "member %d cannot become the head; a new head registers a new household", p.in.Number)
			}
			m.Number, m.Name, m.IDMasked, m.ID = headNumber, h.HeadName, h.HeadIDMasked, h.HeadID
			if m.Number == 0 {
				m.Number = next
				next++
			}
		} else if exists && old.Relation == Head {
			add(v, p.field+".relation", "户主不能更换；换户主须另行登记新户", "member %d is the head; a new head registers a new household", p.in.Number)
			continue
		} else if !p.id.IsZero() {
			sealed, err := sealer.Seal(h.ID, p.id)
			if err != nil {
				return nil, err
			}
			m.IDMasked, m.ID = p.id.Masked(), sealed
		} else {
			m.IDMasked, m.ID = old.IDMasked, old.ID
		}
		if m.Number == 0 {
			m.Number = next
			next++
		}
		key := string(m.ID.Index)
		if other, dup := seen[key]; dup && key != "" {
			add(v, p.field+".id_number", "与其他成员的身份证号重复", "is the same 身份证号 as %s", other)
		}
		seen[key] = p.field
		out = append(out, m)
	}
	return out, nil
}

// headMember is the head as member one, for a household registered
// without a member list. Its labour status is a guess from the counts
// (the head works when anyone does), which the clerk corrects.
func headMember(h *Household) Member {
	l := NotLabourer
	if h.Facts.Labourers > 0 {
		l = Labourer
	}
	return Member{Number: 1, Name: h.HeadName, Relation: Head, IDMasked: h.HeadIDMasked, ID: h.HeadID, Labour: l}
}

// tally counts the members and those of them who work.
func tally(ms []Member) (all, labourers int32) {
	for _, m := range ms {
		all++
		if m.Labour == Labourer {
			labourers++
		}
	}
	return all, labourers
}

// checkCounts holds the facts' counts to the member list: the list may be
// shorter than the register (members not yet entered, e.g. households
// migrated with the head alone), but it must fit — no more members, no
// more labourers and no more non-labourers than the counts say. A complete
// list therefore has exactly the counts.
func checkCounts(prefix string, f Facts, ms []Member, v *fault.Violations) {
	all, lab := tally(ms)
	if f.Members < all {
		add(v, prefix+".members", fmt.Sprintf("家庭人口不能少于已登记的成员（%d人）", all),
			"is %d but %d members are registered", f.Members, all)
	}
	if f.Labourers < lab {
		add(v, prefix+".labourers", fmt.Sprintf("劳动力人数不能少于已登记为劳动力的成员（%d人）", lab),
			"is %d but %d registered members are labourers", f.Labourers, lab)
	} else if f.Members-f.Labourers < all-lab && f.Members >= all {
		add(v, prefix+".labourers", fmt.Sprintf("已登记%d名非劳动力成员，劳动力人数最多%d人", all-lab, f.Members-(all-lab)),
			"is %d but %d registered members do not work, so at most %d of %d can", f.Labourers, all-lab, f.Members-(all-lab), f.Members)
	}
}

// fitCounts returns the counts f carries after the member list changed
// from prev to next without the clerk typing counts: a member who left
// takes their count with them, and the counts then grow only as far as
// the new list needs (a member entered is taken to be one the register
// already counted, while it has room).
func fitCounts(f Facts, prev, next []Member) Facts {
	kept := map[int32]bool{}
	for _, m := range next {
		kept[m.Number] = true
	}
	for _, m := range prev {
		if !kept[m.Number] {
			f.Members--
			if m.Labour == Labourer {
				f.Labourers--
			}
		}
	}
	all, lab := tally(next)
	f.Members = max(f.Members, all)
	f.Labourers = min(max(f.Labourers, lab, 0), f.Members)
	f.Members = max(f.Members, f.Labourers+(all-lab))
	return f
}
