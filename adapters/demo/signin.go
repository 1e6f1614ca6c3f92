package demo

import (
	"context"
	"fmt"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/access/signin"
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
	var clerk *access.Principal
	var hh *Principal
	for i := range res.Principals {
		p := &res.Principals[i]
		switch p.Role {
		case access.VillageClerk, access.VillageReviewer:
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
	village := ""
	for _, v := range res.Villages {
		for i := range res.Principals {
			p := &res.Principals[i]
			if p.Role == access.VillageClerk && len(p.Scope.Villages) == 1 && p.Scope.Villages[0] == v.Code && village == "" {
				if err := svc.HouseholdIn(ctx, v.Code, hh.Scope.Household); err == nil {
					village = v.Code
					clerk = &access.Principal{ID: p.ID, Name: p.Name, Role: p.Role, Scope: p.Scope, Demo: true}
				}
			}
		}
	}
	if clerk == nil {
		return out, fmt.Errorf("the demo household %s is in no demo village", hh.Scope.Household)
	}
	code, _, err := svc.IssueCode(ctx, clerk, village, hh.Scope.Household)
	if err != nil {
		return out, fmt.Errorf("demo household code: %w", err)
	}
	out.Household, out.Code = resource.Household(village, hh.Scope.Household), code
	return out, nil
}
