package demo

import (
	"context"
	"fmt"
	"slices"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/access/signin"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/resource"
)

// FirstPassword is every demo clerk's and reviewer's password until they
// change it, which the console asks at first sign-in. It is printed by
// `make run`: the demo county holds no real data.
const FirstPassword = "sanzhi-demo-2026"

// Logins say how to sign in to the demo console.
type Logins struct {
	// Staff are the demo clerks' and reviewers' usernames, whose first
	// password is FirstPassword (those already set keep theirs).
	Staff []string
	// Household is the demo household's name and Code its access code,
	// issued anew at every start (the previous one stops working).
	Household, Code string
}

// SignIns gives the demo staff their first passwords where they have none
// and issues the demo household a fresh access code, as the demo
// operator and the clerk of its village would.
func SignIns(ctx context.Context, svc *signin.Service, res Result) (Logins, error) {
	var out Logins
	op := &access.Principal{ID: operatorName, Name: operatorName, Role: access.Operator, Demo: true}
	var hh *Principal
	for i := range res.Principals {
		p := &res.Principals[i]
		switch p.Role {
		case access.VillageClerk, access.VillageReviewer, access.BankOfficer, access.BankRisk, access.Regulator:
			has, err := svc.HasPassword(ctx, p.Name)
			if err != nil {
				return out, fmt.Errorf("demo password of %s: %w", p.Name, err)
			}
			if !has {
				if err := svc.SetPassword(ctx, op, p.Name, FirstPassword); err != nil {
					return out, fmt.Errorf("demo password of %s: %w", p.Name, err)
				}
			}
			out.Staff = append(out.Staff, p.Name)
		case access.Household:
			hh = p
		}
	}
	if hh == nil || hh.Scope.Household == "" {
		return out, nil
	}
	// The code is issued by the clerk of the household's village.
	var clerk *access.Principal
	village := ""
	for _, v := range res.Villages {
		err := svc.HouseholdIn(ctx, v.Code, hh.Scope.Household)
		if err == nil {
			village = v.Code
			break
		}
		if !fault.Is(err, fault.NotFound) {
			return out, err
		}
	}
	for i := range res.Principals {
		p := &res.Principals[i]
		if village != "" && p.Role == access.VillageClerk && slices.Contains(p.Scope.Villages, village) {
			clerk = &access.Principal{ID: p.ID, Name: p.Name, Role: p.Role, Scope: p.Scope, Demo: true}
			break
		}
	}
	if clerk == nil {
		return out, fmt.Errorf("the demo household %s is in no demo village with a clerk", hh.Scope.Household)
	}
	code, _, err := svc.IssueCode(ctx, clerk, village, hh.Scope.Household)
	if err != nil {
		return out, fmt.Errorf("demo household code: %w", err)
	}
	out.Household, out.Code = resource.Household(village, hh.Scope.Household), code
	return out, nil
}
