package console

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// memberRoutes registers the clerk's member pages: entering a member of a
// household and changing one, each a new facts version (scoring/household).
func (c *Console) memberRoutes() {
	v := "villages/{village}/households/{id}/members"
	c.page("GET "+Prefix+v+"/new", false, c.memberNew)
	c.page("POST "+Prefix+v, false, c.memberAdd)
	c.page("GET "+Prefix+v+"/{n}/edit", false, c.memberEdit)
	c.page("POST "+Prefix+v+"/{n}", false, c.memberUpdate)
}

type memberFormView struct {
	Village   string
	Household *household.Household
	Member    *household.Member // nil when adding
	Form      form
}

// memberFields are the inputs of a household.MemberInput. The head's name
// and 身份证号 are the household's, changed on the household form: for the
// head only the labour status is asked.
func memberFields(m *household.Member) []*field {
	var fs []*field
	if m == nil || m.Relation != household.Head {
		fs = append(fs, &field{Name: "name", Label: "member.name", Type: "text", Required: true})
		var rel []option
		for _, r := range household.Relations()[1:] { // 户主 is the head's alone
			w := r.Words()
			rel = append(rel, option{Value: w.Code, Label: points.Label{ZH: w.ZH, EN: w.EN}})
		}
		fs = append(fs, &field{Name: "relation", Label: "member.relation", Type: "select", Required: true,
			Groups: []optGroup{{Options: rel}}})
		id := &field{Name: "id_number", Label: "member.id_number", Hint: "member.id_number_hint", Type: "text", Required: true}
		if m != nil {
			id.Hint, id.Required = "member.id_number_keep", false
		}
		fs = append(fs, id)
	}
	var lab []option
	for _, l := range household.Labours() {
		w := l.Words()
		lab = append(lab, option{Value: w.Code, Label: points.Label{ZH: w.ZH, EN: w.EN}})
	}
	return append(fs, &field{Name: "labour", Label: "member.labour", Type: "select", Required: true,
		Groups: []optGroup{{Options: lab}}})
}

// choose marks the option of each select that holds its value.
func (f *form) choose() {
	for _, fd := range f.Fields {
		for gi := range fd.Groups {
			for oi := range fd.Groups[gi].Options {
				o := &fd.Groups[gi].Options[oi]
				o.Selected = o.Value == fd.Value
			}
		}
	}
}

func (c *Console) memberNew(q *request) error {
	h, err := c.householdOf(q, access.HouseholdUpdate, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	f := form{Fields: memberFields(nil)}
	f.get("labour").Value = household.Labourer.String()
	f.choose()
	c.render(q, http.StatusOK, "clerk_member_form", memberFormView{Village: h.Village, Household: h, Form: f})
	return nil
}

func (c *Console) memberEdit(q *request) error {
	h, err := c.householdOf(q, access.HouseholdUpdate, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	m, err := memberOf(q, h)
	if err != nil {
		return err
	}
	f := form{Fields: memberFields(m)}
	for name, val := range map[string]string{"name": m.Name, "relation": m.Relation.String(), "labour": m.Labour.String()} {
		if fd := f.get(name); fd != nil {
			fd.Value = val
		}
	}
	f.choose()
	c.render(q, http.StatusOK, "clerk_member_form", memberFormView{Village: h.Village, Household: h, Member: m, Form: f})
	return nil
}

// memberOf reads the path's member number; an unknown one is NotFound.
func memberOf(q *request, h *household.Household) (*household.Member, error) {
	n, err := strconv.Atoi(q.r.PathValue("n"))
	for i := range h.Members {
		if err == nil && h.Members[i].Number == int32(n) {
			return &h.Members[i], nil
		}
	}
	return nil, fault.New(fault.NotFound, "MEMBER_NOT_FOUND", "no member %q", q.r.PathValue("n"))
}

func (c *Console) memberAdd(q *request) error { return c.memberSave(q, false) }

func (c *Console) memberUpdate(q *request) error { return c.memberSave(q, true) }

// memberSave sends the household's whole member list with the posted
// member added or changed: the service checks it and records it as a new
// facts version, the counts following the list.
func (c *Console) memberSave(q *request, existing bool) error {
	h, err := c.householdOf(q, access.HouseholdUpdate, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	var m *household.Member
	if existing {
		if m, err = memberOf(q, h); err != nil {
			return err
		}
	}
	f := form{Fields: memberFields(m)}
	f.fill(q.r)
	f.choose()
	posted := household.MemberInput{Relation: household.Head.String(), Labour: f.get("labour").Value}
	if fd := f.get("name"); fd != nil {
		posted.Name, posted.Relation = fd.Value, f.get("relation").Value
		posted.IDNumber = strings.ToUpper(f.get("id_number").Value)
	}
	list := make([]household.MemberInput, 0, len(h.Members)+1)
	at := len(h.Members)
	for i, cur := range h.Members {
		if m != nil && cur.Number == m.Number {
			posted.Number, at = cur.Number, i
			list = append(list, posted)
			continue
		}
		list = append(list, household.MemberInput{Number: cur.Number, Name: cur.Name,
			Relation: cur.Relation.String(), Labour: cur.Labour.String()})
	}
	if m == nil {
		list = append(list, posted)
	}
	fields := map[string]string{}
	for _, name := range []string{"name", "relation", "id_number", "labour_status"} {
		input := name
		if name == "labour_status" {
			input = "labour"
		}
		fields[fmt.Sprintf("household.members[%d].%s", at, name)] = input
	}
	if f.ok() {
		_, err = c.app.Households.Update(q.r.Context(), q.p, household.UpdateInput{Name: h.Name(),
			Paths: []string{"members"}, Members: list})
		if err != nil && !f.explain(q.lang, err, fields) {
			return err
		}
	}
	if !f.ok() {
		// As on the register form, the number field keeps what the clerk
		// typed (the page is no-store); a number in the name is blanked.
		id := f.get("id_number")
		keep := ""
		if id != nil {
			keep = id.Value
		}
		f.scrub()
		if id != nil {
			id.Value = keep
		}
		c.render(q, http.StatusBadRequest, "clerk_member_form", memberFormView{Village: h.Village, Household: h, Member: m, Form: f})
		return nil
	}
	done := "member_added"
	if existing {
		done = "member_updated"
	}
	http.Redirect(q.w, q.r, Prefix+"villages/"+h.Village+"/households/"+h.ID+"?done="+done, http.StatusSeeOther)
	return nil
}

var memberMessages = map[string][2]string{
	"member.title":              {"家庭成员", "Household members"},
	"member.add":                {"添加成员", "Add a member"},
	"member.edit":               {"修改", "Change"},
	"member.edit_title":         {"修改成员信息", "Change a member"},
	"member.number":             {"编号", "No."},
	"member.name":               {"姓名", "Name"},
	"member.relation":           {"与户主关系", "Relation to the head"},
	"member.id_number":          {"身份证号", "ID card number"},
	"member.id_number_hint":     {"18位，最后一位可以是X。", "18 characters; the last may be X."},
	"member.id_number_keep":     {"不改身份证号就留空。", "Leave empty to keep the number on record."},
	"member.age":                {"年龄", "Age"},
	"member.labour":             {"劳动力状况", "Able to work"},
	"member.age_n":              {"%d岁", "%d"},
	"member.age_unknown":        {"—", "—"},
	"member.missing":            {"户籍人数%d人，还有%d人未登记为成员。", "The register counts %d people; %d are not entered as members yet."},
	"member.head_note":          {"户主的姓名和身份证号在户主信息里修改。", "The head's name and ID number are changed with the household's details."},
	"member.new_version":        {"保存后记为家庭信息的新版本；家庭人口和劳动力人数随成员调整。", "Saving records a new version of the household's facts; the counts of people and working adults follow the members."},
	"member.submit":             {"保存", "Save"},
	"member.pick":               {"请选择", "Choose"},
	"clerk.done_member_added":   {"已添加成员。", "The member was added."},
	"clerk.done_member_updated": {"已保存成员信息。", "The member was saved."},
}

func init() {
	addMessages(memberMessages)
	funcs["members"] = func(h *household.Household) app.Members { return app.HouseholdMembers(h, time.Now()) }
	funcs["words"] = func(l lang, w household.Words) string {
		if l == en {
			return w.EN
		}
		return w.ZH
	}
}
