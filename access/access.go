// Package access holds who may do what: principals, their roles and scopes.
// It is pure; the RPC adapter decides which rule each method uses and asks
// this package whether a principal satisfies it.
package access

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Role is what a principal is to the system. A principal has exactly one.
type Role string

const (
	VillageClerk    Role = "village_clerk"
	VillageReviewer Role = "village_reviewer"
	Household       Role = "household"
	BankOfficer     Role = "bank_officer"
	BankRisk        Role = "bank_risk"
	Regulator       Role = "regulator"
	Operator        Role = "operator"
)

// Roles lists every role, in a stable order for help texts and validation.
var Roles = []Role{VillageClerk, VillageReviewer, Household, BankOfficer, BankRisk, Regulator, Operator}

// ParseRole returns the role named s or an error naming the valid ones.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if slices.Contains(Roles, r) {
		return r, nil
	}
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return "", fmt.Errorf("unknown role %q (want one of %s)", s, strings.Join(names, ", "))
}

// Scope limits which data a principal reaches. Which part applies depends
// on the role: villages for village staff, bank for bank staff, household
// for a household. Regulators and operators are unscoped.
type Scope struct {
	Villages  []string // 12-digit village codes
	Bank      string   // bank id
	Household string   // household id
}

// Principal is an authenticated caller.
type Principal struct {
	ID    string
	Name  string
	Role  Role
	Scope Scope
	// Demo principals exist only in demo mode and are accepted only from
	// loopback peers.
	Demo       bool
	CreateTime time.Time
	RevokeTime *time.Time
}

// Active reports whether the principal has not been revoked.
func (p *Principal) Active() bool { return p.RevokeTime == nil }

// CoversVillage reports whether the principal may act on data of village.
func (p *Principal) CoversVillage(village string) bool {
	switch p.Role {
	case Regulator:
		return true
	case VillageClerk, VillageReviewer:
		return slices.Contains(p.Scope.Villages, village)
	default:
		return false
	}
}

// Validate checks that the scope fits the role, so a principal can never be
// created with a scope that grants nothing or everything by accident.
func (p *Principal) Validate() error {
	switch p.Role {
	case VillageClerk, VillageReviewer:
		if len(p.Scope.Villages) == 0 {
			return fmt.Errorf("role %s needs at least one village in its scope", p.Role)
		}
		if p.Scope.Bank != "" || p.Scope.Household != "" {
			return fmt.Errorf("role %s is scoped by villages only", p.Role)
		}
	case BankOfficer, BankRisk:
		if p.Scope.Bank == "" {
			return fmt.Errorf("role %s needs a bank in its scope", p.Role)
		}
		if len(p.Scope.Villages) > 0 || p.Scope.Household != "" {
			return fmt.Errorf("role %s is scoped by bank only", p.Role)
		}
	case Household:
		if p.Scope.Household == "" {
			return fmt.Errorf("role %s needs a household in its scope", p.Role)
		}
		if len(p.Scope.Villages) > 0 || p.Scope.Bank != "" {
			return fmt.Errorf("role %s is scoped by household only", p.Role)
		}
	case Regulator, Operator:
		if len(p.Scope.Villages) > 0 || p.Scope.Bank != "" || p.Scope.Household != "" {
			return fmt.Errorf("role %s takes no scope", p.Role)
		}
	default:
		return fmt.Errorf("unknown role %q", p.Role)
	}
	if strings.TrimSpace(p.Name) == "" {
		return fmt.Errorf("principal needs a name")
	}
	return nil
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal of ctx, or nil when there is none.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}
