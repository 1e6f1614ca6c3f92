package lending

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
)

const testHousehold = "villages/330483102215/households/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"

var (
	t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	t1 = t0.AddDate(1, 0, 0)
)

func validConsent() Consent {
	return Consent{
		ID:                "c1",
		Household:         testHousehold,
		Bank:              "banks/tongxiang-rcb",
		Purposes:          []Purpose{PurposeAssessment},
		GrantTime:         t0,
		Expires:           t1,
		Channel:           ChannelApp,
		AuthorisationHash: strings.Repeat("ab", 32),
		State:             ConsentGranted,
	}
}

func TestConsentValidate(t *testing.T) {
	before := t0.Add(-time.Second)
	tests := []struct {
		name  string
		edit  func(*Consent)
		field string // "" = valid
	}{
		{"valid", func(*Consent) {}, ""},
		{"valid revoked later", func(c *Consent) { r := t0.Add(time.Hour); c.RevokeTime = &r }, ""},
		{"valid both purposes, counter", func(c *Consent) {
			c.Purposes = []Purpose{PurposeAssessment, PurposePostLoan}
			c.Channel = ChannelCounter
		}, ""},
		{"valid paper", func(c *Consent) { c.Channel = ChannelPaper }, ""},
		{"no id", func(c *Consent) { c.ID = "" }, "consent.id"},
		{"bad household name", func(c *Consent) { c.Household = "households/x" }, "consent.household"},
		{"bad village code", func(c *Consent) {
			c.Household = strings.Replace(testHousehold, "330483102215", "330483102000", 1)
		}, "consent.household"},
		{"no bank", func(c *Consent) { c.Bank = "" }, "consent.bank"},
		{"no purpose", func(c *Consent) { c.Purposes = nil }, "consent.purposes"},
		{"unknown purpose", func(c *Consent) { c.Purposes = []Purpose{"marketing"} }, "consent.purposes"},
		{"duplicate purpose", func(c *Consent) { c.Purposes = []Purpose{PurposePostLoan, PurposePostLoan} }, "consent.purposes"},
		{"no grant time", func(c *Consent) { c.GrantTime = time.Time{} }, "consent.grant_time"},
		{"no expiry", func(c *Consent) { c.Expires = time.Time{} }, "consent.expire_time"},
		{"expiry at grant", func(c *Consent) { c.Expires = c.GrantTime }, "consent.expire_time"},
		{"bad channel", func(c *Consent) { c.Channel = "phone" }, "consent.channel"},
		{"hash upper case", func(c *Consent) { c.AuthorisationHash = strings.Repeat("AB", 32) }, "consent.authorisation_hash"},
		{"hash short", func(c *Consent) { c.AuthorisationHash = strings.Repeat("ab", 31) }, "consent.authorisation_hash"},
		{"hash not hex", func(c *Consent) { c.AuthorisationHash = strings.Repeat("zz", 32) }, "consent.authorisation_hash"},
		{"revoked before grant", func(c *Consent) { c.RevokeTime = &before }, "consent.revoke_time"},
		{"valid pending", func(c *Consent) { c.State = ConsentPending; c.Channel = ChannelCounter }, ""},
		{"no state", func(c *Consent) { c.State = "" }, "consent.state"},
		{"unknown state", func(c *Consent) { c.State = "confirmed" }, "consent.state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConsent()
			tt.edit(&c)
			err := c.Validate()
			if tt.field == "" {
				require.NoError(t, err)
				return
			}
			requireInvalidField(t, err, tt.field)
		})
	}
}

func TestConsentValidateReportsEveryViolation(t *testing.T) {
	err := Consent{}.Validate()
	f := requireFault(t, err, fault.Invalid, "INVALID_ARGUMENT")
	assert.GreaterOrEqual(t, len(f.Violations), 7)
}

func TestConsentLive(t *testing.T) {
	revoke := t0.Add(48 * time.Hour)
	tests := []struct {
		name    string
		edit    func(*Consent)
		purpose Purpose
		at      time.Time
		want    bool
	}{
		{"at grant", func(*Consent) {}, PurposeAssessment, t0, true},
		{"middle", func(*Consent) {}, PurposeAssessment, t0.Add(24 * time.Hour), true},
		{"just before expiry", func(*Consent) {}, PurposeAssessment, t1.Add(-time.Nanosecond), true},
		{"exactly at expiry", func(*Consent) {}, PurposeAssessment, t1, false},
		{"after expiry", func(*Consent) {}, PurposeAssessment, t1.Add(time.Hour), false},
		{"before grant", func(*Consent) {}, PurposeAssessment, t0.Add(-time.Nanosecond), false},
		{"other purpose", func(*Consent) {}, PurposePostLoan, t0.Add(time.Hour), false},
		{"second purpose", func(c *Consent) { c.Purposes = append(c.Purposes, PurposePostLoan) }, PurposePostLoan, t0.Add(time.Hour), true},
		{"before revocation", func(c *Consent) { c.RevokeTime = &revoke }, PurposeAssessment, revoke.Add(-time.Nanosecond), true},
		{"exactly at revocation", func(c *Consent) { c.RevokeTime = &revoke }, PurposeAssessment, revoke, false},
		{"after revocation", func(c *Consent) { c.RevokeTime = &revoke }, PurposeAssessment, revoke.Add(time.Hour), false},
		{"expiry in another zone", func(c *Consent) { c.Expires = t1.In(time.FixedZone("CST", 8*3600)) }, PurposeAssessment, t1, false},
		{"zero expiry", func(c *Consent) { c.Expires = time.Time{} }, PurposeAssessment, t0.Add(time.Hour), false},
		// Attacker: a bank records a counter consent; until the household
		// confirms it (or its clerk countersigns) it authorises nothing.
		{"pending", func(c *Consent) { c.State = ConsentPending; c.Channel = ChannelCounter }, PurposeAssessment, t0.Add(time.Hour), false},
		{"refused", func(c *Consent) { c.State = ConsentRefused; c.Channel = ChannelPaper }, PurposeAssessment, t0.Add(time.Hour), false},
		{"no state", func(c *Consent) { c.State = "" }, PurposeAssessment, t0.Add(time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConsent()
			tt.edit(&c)
			assert.Equal(t, tt.want, c.Live(tt.purpose, tt.at))
		})
	}
}

func TestRequire(t *testing.T) {
	revoke := t0.Add(time.Hour)
	live := validConsent()
	otherBank := validConsent()
	otherBank.Bank = "banks/other"
	revoked := validConsent()
	revoked.RevokeTime = &revoke
	at := t0.Add(2 * time.Hour)

	tests := []struct {
		name     string
		consents []Consent
		bank     string
		purpose  Purpose
		ok       bool
	}{
		{"live consent", []Consent{live}, live.Bank, PurposeAssessment, true},
		{"live among others", []Consent{otherBank, revoked, live}, live.Bank, PurposeAssessment, true},
		{"none", nil, live.Bank, PurposeAssessment, false},
		{"other bank only", []Consent{otherBank}, live.Bank, PurposeAssessment, false},
		{"revoked only", []Consent{revoked}, live.Bank, PurposeAssessment, false},
		{"wrong purpose", []Consent{live}, live.Bank, PurposePostLoan, false},
		{"empty bank never matches", []Consent{func() Consent { c := live; c.Bank = ""; return c }()}, "", PurposeAssessment, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Require(tt.consents, tt.bank, tt.purpose, at)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			f := requireFault(t, err, fault.PermissionDenied, ReasonConsentRequired)
			assert.Contains(t, f.Message, tt.bank)
			assert.Contains(t, f.Message, string(tt.purpose))
			assert.NotContains(t, f.Message, "villages/", "no household in the message")
		})
	}
}

func TestRequireAtExpiryInstant(t *testing.T) {
	c := validConsent()
	require.NoError(t, Require([]Consent{c}, c.Bank, PurposeAssessment, t1.Add(-time.Nanosecond)))
	requireFault(t, Require([]Consent{c}, c.Bank, PurposeAssessment, t1), fault.PermissionDenied, ReasonConsentRequired)
}
