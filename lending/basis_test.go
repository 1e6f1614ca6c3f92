package lending

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
)

// TestLawfulBasis is the rule's table: every act × the household's
// standing with the bank.
func TestLawfulBasis(t *testing.T) {
	at := t0.Add(time.Hour)
	revokedAt := t0.Add(time.Minute)
	with := func(state ConsentState, purposes ...Purpose) Consent {
		c := validConsent()
		c.State, c.Purposes = state, purposes
		return c
	}
	revoked := with(ConsentGranted, PurposeAssessment, PurposePostLoan)
	revoked.RevokeTime = &revokedAt
	expired := with(ConsentGranted, PurposeAssessment, PurposePostLoan)
	expired.Expires = at
	otherBank := with(ConsentGranted, PurposeAssessment, PurposePostLoan)
	otherBank.Bank = "banks/other"
	bank := validConsent().Bank

	standings := []struct {
		name     string
		consents []Consent
		drawn    string
	}{
		{"nothing", nil, "0"},
		{"assessment consent", []Consent{with(ConsentGranted, PurposeAssessment)}, "0"},
		{"post-loan consent", []Consent{with(ConsentGranted, PurposePostLoan)}, "0"},
		{"pending consent", []Consent{with(ConsentPending, PurposeAssessment, PurposePostLoan)}, "0"},
		{"refused consent", []Consent{with(ConsentRefused, PurposeAssessment, PurposePostLoan)}, "0"},
		{"revoked consent", []Consent{revoked}, "0"},
		{"expired consent", []Consent{expired}, "0"},
		{"other bank's consent", []Consent{otherBank}, "0"},
		{"balance only", nil, "0.01"},
		{"balance and pending", []Consent{with(ConsentPending, PurposeAssessment)}, "100"},
		{"balance and assessment consent", []Consent{with(ConsentGranted, PurposeAssessment)}, "100"},
	}
	type act struct {
		act     Act
		purpose Purpose
	}
	acts := []act{{ActRead, PurposeAssessment}, {ActRead, PurposePostLoan}, {ActAssess, ""}, {ActReassess, ""}, {ActMonitor, ""}}
	// want[standing][act]: "" refused, else kind/purpose.
	want := map[string][5]string{
		"nothing":                        {"", "", "", "", ""},
		"assessment consent":             {"consent/assessment", "", "consent/assessment", "consent/assessment", "consent/assessment"},
		"post-loan consent":              {"", "consent/post_loan", "", "consent/post_loan", "consent/post_loan"},
		"pending consent":                {"", "", "", "", ""},
		"refused consent":                {"", "", "", "", ""},
		"revoked consent":                {"", "", "", "", ""},
		"expired consent":                {"", "", "", "", ""},
		"other bank's consent":           {"", "", "", "", ""},
		"balance only":                   {"", "contract/post_loan", "", "", "contract/post_loan"},
		"balance and pending":            {"", "contract/post_loan", "", "", "contract/post_loan"},
		"balance and assessment consent": {"consent/assessment", "contract/post_loan", "consent/assessment", "consent/assessment", "consent/assessment"},
	}
	for _, st := range standings {
		for i, a := range acts {
			t.Run(st.name+"/"+string(a.act)+"/"+string(a.purpose), func(t *testing.T) {
				b, err := LawfulBasis(BasisQuery{Act: a.act, Bank: bank, Purpose: a.purpose, Consents: st.consents,
					Drawn: dec(st.drawn), At: at})
				exp := want[st.name][i]
				if exp == "" {
					f := requireFault(t, err, fault.PermissionDenied, ReasonConsentRequired)
					assert.NotContains(t, f.Message, "villages/")
					return
				}
				require.NoError(t, err)
				assert.Equal(t, exp, string(b.Kind)+"/"+string(b.Purpose))
			})
		}
	}
}

func TestLawfulBasisRefusesAnUnstatedReadPurpose(t *testing.T) {
	_, err := LawfulBasis(BasisQuery{Act: ActRead, Bank: "banks/b", Purpose: "marketing", At: t0})
	requireInvalidField(t, err, "purpose")
}

func TestLawfulBasisNeedsABank(t *testing.T) {
	c := validConsent()
	c.Bank = ""
	_, err := LawfulBasis(BasisQuery{Act: ActMonitor, Consents: []Consent{c}, Drawn: dec("5"), At: t0.Add(time.Hour)})
	requireFault(t, err, fault.PermissionDenied, ReasonConsentRequired)
}

// An open request of the household's (a review it asked for) is the
// basis for the bank answering it, and for nothing else.
func TestLawfulBasisAnswer(t *testing.T) {
	st := Standing{Bank: "banks/b", Requested: true}
	b, err := st.Basis(ActAnswer, "")
	require.NoError(t, err)
	assert.Equal(t, BasisRequest, b.Kind)
	for _, act := range []Act{ActMonitor, ActAssess, ActReassess} {
		_, err := st.Basis(act, "")
		requireFault(t, err, fault.PermissionDenied, ReasonConsentRequired)
	}
	_, err = st.Basis(ActRead, PurposePostLoan)
	requireFault(t, err, fault.PermissionDenied, ReasonConsentRequired)
	_, err = Standing{Bank: "banks/b"}.Basis(ActAnswer, "")
	requireFault(t, err, fault.PermissionDenied, ReasonConsentRequired)
	b, err = Standing{Bank: "banks/b", Owes: true}.Basis(ActAnswer, "")
	require.NoError(t, err)
	assert.Equal(t, BasisContract, b.Kind)
}
