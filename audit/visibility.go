package audit

import (
	"slices"
	"strings"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/resource"
)

// Who may read which entry of the log (GetEntry, ListEntries). An entry
// carries what it is about — a village's household, a bank's credit line, a
// consent between them — and each role sees its own side only:
//
//   - a regulator sees every entry;
//   - village staff see the village side of their villages: households,
//     evidence, points, the 兑换超市 and catalogues (and their county's
//     base catalogue), never an entry that involves a bank (consents,
//     credit, queries);
//   - a bank's staff see the entries of their bank: its consents, its
//     queries and assessments, its lines, reviews, policies, simulations and
//     webhook — whatever names the bank as subject (banks/{bank}/...) or in
//     the payload's "bank";
//   - a household sees the entries about itself: its record, evidence,
//     points, redemptions and consents, and every bank's query record,
//     assessment and line event about it (subject or payload "household");
//   - an operator sees operational entries: principals and the county base
//     catalogues it publishes;
//   - anyone sees the entries it caused itself (actor).
//
// The rule is one pure function, Visible; Scope is a coarse superset of it
// that a store can turn into a WHERE clause, so that a list is filtered
// before it is paged, not after.

// villageSide lists the action families that are a village's own business.
var villageSide = []string{"household.", "evidence.", "points.", "catalogue.", "shop.", "dividend."}

// OperationalActions are the action families an operator sees.
var operationalActions = []string{"principal."}

// Visible reports whether p may read e.
func Visible(p *access.Principal, e Entry) bool {
	if p == nil {
		return false
	}
	if p.Role == access.Regulator {
		return true
	}
	if p.ID != "" && e.Actor == p.ID {
		return true
	}
	switch p.Role {
	case access.VillageClerk, access.VillageReviewer:
		if !hasPrefix(e.Action, villageSide) || bankOf(e) != "" {
			return false
		}
		if v, ok := villageOf(e.Subject); ok {
			return slices.Contains(p.Scope.Villages, v)
		}
		if c, ok := countyOf(e.Subject); ok && strings.HasPrefix(e.Action, "catalogue.") {
			for _, v := range p.Scope.Villages {
				if strings.HasPrefix(v, c) {
					return true
				}
			}
		}
		return false
	case access.BankOfficer, access.BankRisk:
		return p.Scope.Bank != "" && bankOf(e) == p.Scope.Bank
	case access.Household:
		return p.Scope.Household != "" && householdOf(e) == p.Scope.Household
	case access.Operator:
		if hasPrefix(e.Action, operationalActions) {
			return true
		}
		_, county := countyOf(e.Subject)
		return county && strings.HasPrefix(e.Action, "catalogue.")
	}
	return false
}

// Scope is a coarse filter a store can apply in its query: an entry
// matches when All is set, or its actor is Actor, or any one of Any
// matches. Every entry Visible admits matches the principal's Scope; the
// store still applies Visible to each row it reads.
type Scope struct {
	All   bool
	Actor string
	Any   []Cond
}

// Cond holds when every non-empty part of it holds.
type Cond struct {
	SubjectPrefix   string // subject starts with it
	SubjectContains string // subject contains it
	ActionPrefix    string // action starts with it
}

// Matches evaluates c on e, as the store's WHERE clause does.
func (c Cond) Matches(e Entry) bool {
	return strings.HasPrefix(e.Subject, c.SubjectPrefix) && strings.Contains(e.Subject, c.SubjectContains) &&
		strings.HasPrefix(e.Action, c.ActionPrefix)
}

// Matches evaluates s on e, as the store's WHERE clause does.
func (s Scope) Matches(e Entry) bool {
	if s.All || (s.Actor != "" && e.Actor == s.Actor) {
		return true
	}
	for _, c := range s.Any {
		if c.Matches(e) {
			return true
		}
	}
	return false
}

// ScopeFor returns p's coarse filter.
func ScopeFor(p *access.Principal) Scope {
	if p == nil {
		return Scope{}
	}
	if p.Role == access.Regulator {
		return Scope{All: true}
	}
	s := Scope{Actor: p.ID}
	switch p.Role {
	case access.VillageClerk, access.VillageReviewer:
		counties := map[string]bool{}
		for _, v := range p.Scope.Villages {
			s.Any = append(s.Any, Cond{SubjectPrefix: resource.Village(v) + "/"})
			if len(v) >= 6 && !counties[v[:6]] {
				counties[v[:6]] = true
				s.Any = append(s.Any, Cond{SubjectPrefix: resource.County(v[:6]) + "/", ActionPrefix: "catalogue."})
			}
		}
	case access.BankOfficer, access.BankRisk:
		if p.Scope.Bank != "" {
			s.Any = []Cond{
				{SubjectPrefix: resource.Bank(p.Scope.Bank) + "/"},
				// A household's consents, query records and assessments
				// name the bank in the payload only.
				{SubjectPrefix: "villages/", ActionPrefix: "consent."},
				{SubjectPrefix: "villages/", ActionPrefix: "credit."},
			}
		}
	case access.Household:
		if p.Scope.Household != "" {
			s.Any = []Cond{
				{SubjectPrefix: "villages/", SubjectContains: "/households/" + p.Scope.Household},
				// Line, review and freeze entries name a bank's resource
				// as subject and the household in the payload.
				{SubjectPrefix: "banks/", ActionPrefix: "credit."},
			}
		}
	case access.Operator:
		s.Any = []Cond{{SubjectPrefix: "counties/", ActionPrefix: "catalogue."}}
		for _, a := range operationalActions {
			s.Any = append(s.Any, Cond{ActionPrefix: a})
		}
	}
	return s
}

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// bankOf is the bank an entry concerns: the subject's banks/{bank}/...,
// else the payload's "bank"; "" for none.
func bankOf(e Entry) string {
	if rest, ok := strings.CutPrefix(e.Subject, "banks/"); ok {
		b, _, _ := strings.Cut(rest, "/")
		return b
	}
	b := e.Payload["bank"]
	return strings.TrimPrefix(b, "banks/")
}

// householdOf is the id of the household an entry concerns: the subject's
// villages/{v}/households/{id}[/...], else the payload's "household"
// (a household resource name); "" for none.
func householdOf(e Entry) string {
	if id, ok := householdID(e.Subject); ok {
		return id
	}
	if id, ok := householdID(e.Payload["household"]); ok {
		return id
	}
	return ""
}

// householdID parses villages/{v}/households/{id}[/...].
func householdID(name string) (string, bool) {
	parts := strings.SplitN(name, "/", 5)
	if len(parts) < 4 || parts[0] != "villages" || parts[2] != "households" || parts[1] == "" || parts[3] == "" {
		return "", false
	}
	return parts[3], true
}

// villageOf parses villages/{v}/....
func villageOf(subject string) (string, bool) {
	rest, ok := strings.CutPrefix(subject, "villages/")
	if !ok {
		return "", false
	}
	v, _, _ := strings.Cut(rest, "/")
	return v, v != ""
}

// countyOf parses counties/{c}/....
func countyOf(subject string) (string, bool) {
	rest, ok := strings.CutPrefix(subject, "counties/")
	if !ok {
		return "", false
	}
	c, _, _ := strings.Cut(rest, "/")
	return c, c != ""
}
