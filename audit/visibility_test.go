package audit

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sanzhi/sanzhi/access"
)

const (
	vA    = "330483102201"
	vB    = "330483103205"
	hhA   = "villages/" + vA + "/households/0190a1b2-0000-7000-8000-00000000000a"
	hhA2  = "villages/" + vA + "/households/0190a1b2-0000-7000-8000-00000000000c"
	hhB   = "villages/" + vB + "/households/0190a1b2-0000-7000-8000-00000000000b"
	bank  = "tongxiang-rcb"
	other = "other-bank"
)

func hid(name string) string { return name[strings.LastIndex(name, "/")+1:] }

// TestVisible is the rule as a table: every role against every kind of
// entry the service writes.
func TestVisible(t *testing.T) {
	line := "banks/" + bank + "/products/p/creditLines/L1"
	entries := map[string]Entry{
		"household.create A":      {Record: Record{Actor: "clerk-x", Action: "household.create", Subject: hhA}},
		"household.update B":      {Record: Record{Actor: "clerk-y", Action: "household.update", Subject: hhB}},
		"evidence.submit A":       {Record: Record{Actor: "clerk-x", Action: "evidence.submit", Subject: hhA + "/evidence/e1"}},
		"evidence.review A2":      {Record: Record{Actor: "rev-x", Action: "evidence.review", Subject: hhA2 + "/evidence/e2"}},
		"points.redeem A":         {Record: Record{Actor: "clerk-x", Action: "points.redeem", Subject: hhA}},
		"shop.redeem A":           {Record: Record{Actor: "clerk-x", Action: "shop.redeem", Subject: hhA, Payload: map[string]string{"household": hhA, "good": "rice"}}},
		"shop.arrival vA":         {Record: Record{Actor: "clerk-x", Action: "shop.arrival", Subject: "villages/" + vA + "/goods/rice"}},
		"shop.good_update vB":     {Record: Record{Actor: "clerk-y", Action: "shop.good_update", Subject: "villages/" + vB + "/goods/oil"}},
		"catalogue.upload vA":     {Record: Record{Actor: "clerk-x", Action: "catalogue.upload", Subject: "villages/" + vA + "/catalogues/2"}},
		"catalogue.activate cnty": {Record: Record{Actor: "op-x", Action: "catalogue.activate", Subject: "counties/330483/catalogues/1"}},
		"consent.grant A bank":    {Record: Record{Actor: "officer-x", Action: "consent.grant", Subject: hhA + "/consents/c1", Payload: map[string]string{"bank": bank, "household": hhA}}},
		"consent.grant A other":   {Record: Record{Actor: "officer-o", Action: "consent.grant", Subject: hhA + "/consents/c2", Payload: map[string]string{"bank": other, "household": hhA}}},
		"credit.query A bank":     {Record: Record{Actor: "officer-x", Action: "credit.query", Subject: hhA, Payload: map[string]string{"bank": bank, "product": "p"}}},
		"credit.assess A2 bank":   {Record: Record{Actor: "officer-x", Action: "credit.assess", Subject: hhA2, Payload: map[string]string{"bank": bank, "limit": "30000.00", "grade": "A"}}},
		"credit.drawdown A bank":  {Record: Record{Actor: "officer-x", Action: "credit.drawdown", Subject: line, Payload: map[string]string{"household": hhA}}},
		"credit.freeze A bank":    {Record: Record{Actor: "sanzhid", Action: "credit.freeze", Subject: line, Payload: map[string]string{"household": hhA, "reason": "black_list"}}},
		"credit.assess A run":     {Record: Record{Actor: "sanzhid", Action: "credit.assess", Subject: hhA, Payload: map[string]string{"bank": bank, "method": "reassess_run", "run": "banks/" + bank + "/products/p/reassessments/r1", "eligible": "true", "grade": "A", "limit": "30000.00", "rate": "0.043500"}}},
		"credit.reassess_page":    {Record: Record{Actor: "sanzhid", Action: "credit.reassess_page", Subject: "banks/" + bank + "/products/p/reassessments/r1"}},
		"policy.upload bank":      {Record: Record{Actor: "risk-x", Action: "policy.upload", Subject: "banks/" + bank + "/products/p/policies/1", Payload: map[string]string{"bank": bank}}},
		"policy.simulate other":   {Record: Record{Actor: "risk-o", Action: "policy.simulate", Subject: "banks/" + other + "/products/p/policies/1", Payload: map[string]string{"bank": other}}},
		"webhook.set bank":        {Record: Record{Actor: "risk-x", Action: "webhook.set", Subject: "banks/" + bank + "/webhook", Payload: map[string]string{"bank": bank}}},
		"principal.create":        {Record: Record{Actor: "local-operator", Action: "principal.create", Subject: "principals/p1", Payload: map[string]string{"role": "bank_officer"}}},
	}
	principals := map[string]*access.Principal{
		"regulator":   {ID: "reg", Role: access.Regulator},
		"clerk A":     {ID: "clerk-a", Role: access.VillageClerk, Scope: access.Scope{Villages: []string{vA}}},
		"reviewer B":  {ID: "rev-b", Role: access.VillageReviewer, Scope: access.Scope{Villages: []string{vB}}},
		"officer":     {ID: "officer-a", Role: access.BankOfficer, Scope: access.Scope{Bank: bank}},
		"risk other":  {ID: "risk-b", Role: access.BankRisk, Scope: access.Scope{Bank: other}},
		"household A": {ID: "hh-a", Role: access.Household, Scope: access.Scope{Household: hid(hhA)}},
		"household B": {ID: "hh-b", Role: access.Household, Scope: access.Scope{Household: hid(hhB)}},
		"operator":    {ID: "op-a", Role: access.Operator},
	}
	// want[principal] lists the entries it sees; every other is hidden.
	want := map[string][]string{
		"regulator": nil, // everything, checked below
		"clerk A": {"household.create A", "evidence.submit A", "evidence.review A2", "points.redeem A",
			"shop.redeem A", "shop.arrival vA", "catalogue.upload vA", "catalogue.activate cnty"},
		"reviewer B": {"household.update B", "shop.good_update vB", "catalogue.activate cnty"},
		"officer": {"consent.grant A bank", "credit.query A bank", "credit.assess A2 bank", "credit.drawdown A bank",
			"credit.freeze A bank", "credit.assess A run", "credit.reassess_page", "policy.upload bank", "webhook.set bank"},
		"risk other": {"consent.grant A other", "policy.simulate other"},
		"household A": {"household.create A", "evidence.submit A", "points.redeem A", "shop.redeem A", "consent.grant A bank",
			"consent.grant A other", "credit.query A bank", "credit.drawdown A bank", "credit.freeze A bank",
			"credit.assess A run"},
		"household B": {"household.update B"},
		"operator":    {"catalogue.activate cnty", "principal.create"},
	}
	for pn, p := range principals {
		for en, e := range entries {
			expect := pn == "regulator"
			for _, w := range want[pn] {
				expect = expect || w == en
			}
			assert.Equal(t, expect, Visible(p, e), "%s reading %s", pn, en)
			if expect {
				assert.True(t, ScopeFor(p).Matches(e), "%s's coarse scope must admit %s", pn, en)
			}
		}
	}
	// Whoever acted sees its own entry.
	assert.True(t, Visible(&access.Principal{ID: "officer-o", Role: access.BankOfficer, Scope: access.Scope{Bank: "third"}}, entries["consent.grant A other"]))
	assert.True(t, ScopeFor(&access.Principal{ID: "officer-o", Role: access.BankOfficer, Scope: access.Scope{Bank: "third"}}).Matches(entries["consent.grant A other"]))
	assert.False(t, Visible(nil, entries["household.create A"]))
	assert.False(t, Visible(&access.Principal{Role: access.BankOfficer}, entries["household.create A"]), "a bank principal without a bank sees nothing")
}
