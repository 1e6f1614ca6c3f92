package lending

import (
	"regexp"
	"slices"
	"time"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// Purpose is what a bank may use a consent for (征信业管理条例 art. 18: a
// stated purpose for every query).
type Purpose string

const (
	// PurposeAssessment covers querying and assessing a household before
	// lending (贷前).
	PurposeAssessment Purpose = "assessment"
	// PurposePostLoan covers monitoring a household with a line (贷后).
	PurposePostLoan Purpose = "post_loan"
)

func (p Purpose) known() bool { return p == PurposeAssessment || p == PurposePostLoan }

// Channels through which a household can sign an authorisation.
const (
	ChannelApp     = "app"
	ChannelCounter = "counter"
	ChannelPaper   = "paper"
)

// ConsentState is where a consent stands between its recording and its
// confirmation.
type ConsentState string

// Consent states. A consent the household grants itself (in the app) is
// granted at once. A counter or paper authorisation a bank records is
// pending: the bank's word that a signed form exists proves nothing, so it
// authorises nothing until the household confirms it with its own
// credential, or a clerk of the household's village countersigns it having
// seen the signed form (re-entering the form's hash). The household may
// refuse a pending consent instead; refused is final. Revocation is
// orthogonal (RevokeTime) and applies in every state.
const (
	ConsentPending ConsentState = "pending"
	ConsentGranted ConsentState = "granted"
	ConsentRefused ConsentState = "refused"
)

// Known reports whether s is one of the consent states.
func (s ConsentState) Known() bool {
	return s == ConsentPending || s == ConsentGranted || s == ConsentRefused
}

// Consent is a household's authorisation for one bank to query it for the
// listed purposes from GrantTime until Expires (exclusive), unless revoked
// earlier, once it is granted (State).
type Consent struct {
	ID        string
	Household string // villages/{village_code}/households/{household_id}
	Bank      string
	Purposes  []Purpose
	GrantTime time.Time
	Expires   time.Time
	Channel   string // app | counter | paper
	// AuthorisationHash is the SHA-256 of the signed authorisation, 64
	// lower-case hex digits; the document itself is kept elsewhere.
	AuthorisationHash string
	// RevokeTime is when the household revoked the consent; nil if never.
	RevokeTime *time.Time
	// RecordedBy and RevokedBy are the principals who recorded the grant
	// (the household itself, or the bank's officer for a counter or paper
	// authorisation) and the revocation.
	RecordedBy string
	RevokedBy  string
	// State is the consent's state now; only a granted consent is ever
	// live. The zero value is not a state: it authorises nothing.
	State ConsentState
	// ConfirmedBy and ConfirmTime record who moved a pending consent to
	// granted or refused (the household, or the countersigning clerk);
	// for a consent the household granted itself they are its recording.
	ConfirmedBy string
	ConfirmTime *time.Time
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Validate checks the consent's own fields and reports every violation.
func (c Consent) Validate() error {
	var v fault.Violations
	if c.ID == "" {
		v.Add("consent.id", "is required")
	}
	if _, _, err := household.ParseName(c.Household, "consent.household"); err != nil {
		var f *fault.Error
		if asFault(err, &f) && len(f.Violations) > 0 {
			v = append(v, f.Violations...)
		} else {
			v.Add("consent.household", "%s", err)
		}
	}
	if c.Bank == "" {
		v.Add("consent.bank", "is required")
	}
	if len(c.Purposes) == 0 {
		v.Add("consent.purposes", "at least one purpose is required")
	}
	for i, p := range c.Purposes {
		switch {
		case !p.known():
			v.Add("consent.purposes", "purpose %d is %q; must be %q or %q", i, p, PurposeAssessment, PurposePostLoan)
		case slices.Contains(c.Purposes[:i], p):
			v.Add("consent.purposes", "purpose %q is listed twice", p)
		}
	}
	if c.GrantTime.IsZero() {
		v.Add("consent.grant_time", "is required")
	}
	if c.Expires.IsZero() {
		v.Add("consent.expire_time", "is required")
	} else if !c.GrantTime.IsZero() && !c.Expires.After(c.GrantTime) {
		v.Add("consent.expire_time", "must be after grant_time")
	}
	switch c.Channel {
	case ChannelApp, ChannelCounter, ChannelPaper:
	default:
		v.Add("consent.channel", "must be %q, %q or %q, got %q", ChannelApp, ChannelCounter, ChannelPaper, c.Channel)
	}
	if !sha256Hex.MatchString(c.AuthorisationHash) {
		v.Add("consent.authorisation_hash", "must be a SHA-256 in 64 lower-case hex digits")
	}
	if !c.State.Known() {
		v.Add("consent.state", "must be %q, %q or %q, got %q", ConsentPending, ConsentGranted, ConsentRefused, c.State)
	}
	if c.RevokeTime != nil && !c.GrantTime.IsZero() && c.RevokeTime.Before(c.GrantTime) {
		v.Add("consent.revoke_time", "must not be before grant_time")
	}
	return v.Err()
}

// Live reports whether the consent covers purpose at the instant at: in
// state granted (a pending or refused consent authorises nothing), granted
// (GrantTime ≤ at), not expired (at < Expires: the expiry instant itself is
// expired), not revoked (at < *RevokeTime: likewise), and purpose listed. A
// zero Expires is never live. The SQL twin of this rule is liveConsent in
// adapters/sqlstore; the storage conformance suite holds the two equal.
func (c Consent) Live(purpose Purpose, at time.Time) bool {
	if c.State != ConsentGranted || c.GrantTime.IsZero() || c.Expires.IsZero() || at.Before(c.GrantTime) || !at.Before(c.Expires) {
		return false
	}
	if c.RevokeTime != nil && !at.Before(*c.RevokeTime) {
		return false
	}
	return slices.Contains(c.Purposes, purpose)
}

// ReasonConsentRequired is the fault reason when no live consent exists.
const ReasonConsentRequired = "CONSENT_REQUIRED"

// Require returns nil when one of consents (the household's, as loaded by
// the caller) is a live consent for bank and purpose at the instant at, and
// otherwise a PermissionDenied fault CONSENT_REQUIRED. The message names
// the bank and purpose only, never the household.
func Require(consents []Consent, bank string, purpose Purpose, at time.Time) error {
	_, err := LawfulBasis(BasisQuery{Act: ActRead, Bank: bank, Purpose: purpose, Consents: consents, At: at})
	return err
}
