package access_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/fault"
)

func reason(err error) string {
	var f *fault.Error
	if errors.As(err, &f) {
		return f.Reason
	}
	return ""
}

func TestAuthoriseReaches(t *testing.T) {
	clerk := &access.Principal{Name: "c", Role: access.VillageClerk, Scope: access.Scope{Villages: []string{"330483102201"}}}
	hh := &access.Principal{Name: "h", Role: access.Household, Scope: access.Scope{Household: "h1"}}
	officer := &access.Principal{Name: "o", Role: access.BankOfficer, Scope: access.Scope{Bank: "b1"}}
	operator := &access.Principal{Name: "op", Role: access.Operator}
	regulator := &access.Principal{Name: "r", Role: access.Regulator}

	cases := []struct {
		name   string
		p      *access.Principal
		a      access.Action
		t      access.Target
		reason string // "" = allowed
	}{
		{"clerk in own village", clerk, access.HouseholdCreate, access.Target{Village: "330483102201"}, ""},
		{"clerk in another village", clerk, access.HouseholdCreate, access.Target{Village: "330483103205"}, "OUT_OF_SCOPE"},
		{"clerk on a malformed target: the service names the field", clerk, access.HouseholdCreate, access.Target{}, ""},
		{"clerk may not change the county base", clerk, access.CatalogueUpload, access.Target{County: "330483"}, "ROLE_NOT_ALLOWED"},
		{"clerk reads its own county's base", clerk, access.CatalogueRead, access.Target{County: "330483"}, ""},
		{"clerk reads another county's base", clerk, access.CatalogueRead, access.Target{County: "330482"}, "OUT_OF_SCOPE"},
		{"operator uploads the county base", operator, access.CatalogueUpload, access.Target{County: "330483"}, ""},
		{"operator may not change a village's", operator, access.CatalogueUpload, access.Target{Village: "330483102201"}, "ROLE_NOT_ALLOWED"},
		{"household reads itself", hh, access.HouseholdRead, access.Target{Village: "330483102201", Household: "h1"}, ""},
		{"household reads another", hh, access.HouseholdRead, access.Target{Village: "330483102201", Household: "h2"}, "OUT_OF_SCOPE"},
		{"household with an unreadable name is refused", hh, access.HouseholdRead, access.Target{}, "OUT_OF_SCOPE"},
		{"officer on its bank", officer, access.CreditRead, access.Target{Bank: "b1"}, ""},
		{"officer on another bank", officer, access.CreditRead, access.Target{Bank: "b2"}, "OUT_OF_SCOPE"},
		{"officer may not read a household record", officer, access.HouseholdRead, access.Target{Village: "330483102201"}, "ROLE_NOT_ALLOWED"},
		{"operator may not set a bank's webhook", operator, access.WebhookSet, access.Target{Bank: "b1"}, "ROLE_NOT_ALLOWED"},
		{"only regulators and operators refresh checkpoints", officer, access.AuditRefresh, access.Target{}, "ROLE_NOT_ALLOWED"},
		{"regulator anywhere it is granted", regulator, access.CreditList, access.Target{Bank: "b2"}, ""},
		{"an action the policy does not know", regulator, access.Action("nope"), access.Target{}, "METHOD_NOT_ALLOWED"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := access.Authorise(tc.p, tc.a, tc.t)
			if tc.reason == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, fault.Is(err, fault.PermissionDenied), "%v", err)
			assert.Equal(t, tc.reason, reason(err))
		})
	}

	err := access.Authorise(nil, access.HouseholdRead, access.Target{})
	assert.True(t, fault.Is(err, fault.Unauthenticated), "%v", err)
}

// Every grant names a known reach, and every role in it is a real role.
func TestPolicyIsWellFormed(t *testing.T) {
	for _, a := range access.Actions() {
		r, ok := access.RuleOf(a)
		require.True(t, ok)
		assert.NotEmpty(t, r.Grants, "%s grants nothing", a)
		for role, reach := range r.Grants {
			_, err := access.ParseRole(string(role))
			assert.NoError(t, err, "%s", a)
			assert.True(t, reach >= access.Anywhere && reach <= access.StoreChecked, "%s: reach %d", a, reach)
		}
	}
}
