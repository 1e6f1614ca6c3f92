// Package credit runs the lending side for partner banks: households'
// consents, assessments under a bank's active policy, credit lines and
// their utilisation as the bank reports it, freezes on knock-out events,
// human review of automated decisions, and the per-bank stream of line
// events behind WatchCreditLines and webhooks.
//
// The rules themselves are pure and live in package lending (consent,
// money, line) and scoring/rules (the decision); this package orders them
// around the storage port (store.go) so that each operation is one
// transaction with its audit record. Who may call what for which bank or
// household is checked by the caller (the RPC authorisation table); the
// service checks consent, ownership and states.
package credit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

// Policies gives the active policy of a bank product, parsed.
type Policies interface {
	// Active returns the active policy; a FailedPrecondition fault
	// NO_ACTIVE_POLICY when the product has none.
	Active(ctx context.Context, bank, product string) (*rules.Policy, error)
	// Version returns version n of the product's policy, whatever its
	// state (a stored decision's explanation is replayed under it);
	// NotFound when there is no such version.
	Version(ctx context.Context, bank, product string, n int) (*rules.Policy, error)
}

// Inputs gives what an assessment needs about a household besides what
// it reads in its own transaction (Reader.AssessInput: household, facts,
// members, points sheet, listings, loan statuses): the catalogue's base
// points and the applicant's date of birth. Other banks' exposure and the
// repayment record are filled in here, not by Inputs.
type Inputs interface {
	// BasePoints is the base points of the catalogue the village uses
	// now, which a balance of today starts from; a batch re-assessment
	// builds the parts of households it read in bulk with it.
	BasePoints(ctx context.Context, village string) (decimal.Decimal, error)
	// HeadBirth is the household head's date of birth, read from the
	// sealed 身份证号. It is safe for concurrent use.
	HeadBirth(h *household.Household) (time.Time, error)
	// MemberBirth is member m's date of birth, read from their sealed
	// 身份证号 (bound to household h). It is safe for concurrent use.
	MemberBirth(h *household.Household, m *household.Member) (time.Time, error)
}

// Service is the lending service.
type Service struct {
	store    Store
	policies Policies
	inputs   Inputs
	now      func() time.Time
	rules    lending.Rules
	runPage  int // households per page of a batch re-assessment; 0 is RunPage
	// runCommitters is how many pages of a run write at once; 0 is one.
	runCommitters int
	// replays caches explanations recomputed on read (replay.go).
	replays replayCache
	// challengers gives a product's challenger for shadow evaluation
	// (challenger.go); nil: none.
	challengers Challengers

	// changed holds, per bank, a channel closed (and dropped) when line
	// events of that bank commit, waking that bank's watchers only: a
	// commit for one bank does not make every other bank's streams read
	// the store.
	mu       sync.Mutex
	changed  map[string]chan struct{}
	onCommit []func()
	// onRefusal is told of every refusal (OnRefusal).
	onRefusal []func(context.Context, Refusal)
}

// NewService returns a Service. now is the clock (time.Now in production).
func NewService(store Store, pol Policies, in Inputs, now func() time.Time) *Service {
	return &Service{store: store, policies: pol, inputs: in, now: now, rules: lending.DefaultRules(),
		changed: map[string]chan struct{}{}}
}

// OnCommit registers f to run after every commit that wrote line events
// (e.g. to wake the webhook dispatcher).
func (s *Service) OnCommit(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onCommit = append(s.onCommit, f)
}

// Refusal is a request a consent said no to: a bank's read or
// assessment refused for want of a live consent (Reason
// CONSENT_REQUIRED, Method the query method, Purpose the one stated), or
// a household refusing a bank's pending consent (Reason CONSENT_REFUSED,
// Method MethodRefuseConsent).
type Refusal struct {
	Reason, Method, Purpose string
}

// MethodRefuseConsent is the Method of a household's refusal.
const MethodRefuseConsent = "refuse_consent"

// OnRefusal registers f to be told of every refusal (the service's
// consent-refusal counter); f must not block.
func (s *Service) OnRefusal(f func(context.Context, Refusal)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onRefusal = append(s.onRefusal, f)
}

func (s *Service) refused(ctx context.Context, r Refusal) {
	s.mu.Lock()
	fs := slices.Clone(s.onRefusal)
	s.mu.Unlock()
	for _, f := range fs {
		f(ctx, r)
	}
}

// Changed returns a channel closed at the next commit of the bank's line
// events.
func (s *Service) Changed(bank string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.changed[bank]
	if !ok {
		ch = make(chan struct{})
		s.changed[bank] = ch
	}
	return ch
}

// Poke signals that line events of the banks committed; callers that
// write events through a hook (in another service's transaction) call it
// after commit. With no bank it wakes every watcher.
func (s *Service) Poke(banks ...string) {
	s.mu.Lock()
	wake := func(b string) {
		if ch, ok := s.changed[b]; ok {
			close(ch)
			delete(s.changed, b)
		}
	}
	if len(banks) == 0 {
		for b := range s.changed {
			wake(b)
		}
	}
	for _, b := range banks {
		wake(b)
	}
	fs := slices.Clone(s.onCommit)
	s.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// MaxConsentTerm bounds how far ahead a consent may run; DefaultConsentTerm
// is used when the request gives no expiry.
const (
	MaxConsentTerm     = 3 * 365 * 24 * time.Hour
	DefaultConsentTerm = 365 * 24 * time.Hour
)

// GrantInput is a consent to record.
type GrantInput struct {
	Household         string // villages/{v}/households/{h}
	Bank              string // banks/{bank}
	Purposes          []string
	ExpireTime        time.Time // zero: DefaultConsentTerm from now
	Channel           string
	AuthorisationHash string
}

func isBankRole(r access.Role) bool { return r == access.BankOfficer || r == access.BankRisk }

// Grant records a consent. The household grants it itself in the app,
// and it is granted at once. A bank officer records one signed at the
// counter or on paper, for their own bank: it is pending, and authorises
// nothing, until the household confirms it (Confirm) or a clerk of its
// village countersigns it having seen the form (Countersign). The same
// signed authorisation recorded twice is one consent.
func (s *Service) Grant(ctx context.Context, p *access.Principal, in GrantInput) (*lending.Consent, error) {
	now := s.clock()
	var v fault.Violations
	village, hid, err := household.ParseName(in.Household, "parent")
	if err != nil {
		return nil, err
	}
	bank, err := ParseBank(in.Bank, "bank")
	if err != nil {
		return nil, err
	}
	expires := in.ExpireTime
	if expires.IsZero() {
		expires = now.Add(DefaultConsentTerm)
	}
	expires = expires.UTC().Truncate(time.Microsecond)
	switch {
	case !expires.After(now):
		v.Add("expire_time", "must be in the future")
	case expires.After(now.Add(MaxConsentTerm)):
		v.Add("expire_time", "must be at most three years ahead")
	}
	switch {
	case p.Role == access.Household && in.Channel != lending.ChannelApp:
		v.Add("channel", "a household grants consent in the app (channel %q); counter and paper authorisations are recorded by the bank", lending.ChannelApp)
	case isBankRole(p.Role) && in.Channel == lending.ChannelApp:
		v.Add("channel", "a bank records counter or paper authorisations; app consents are granted by the household")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if isBankRole(p.Role) && p.Scope.Bank != bank {
		return nil, fault.New(fault.PermissionDenied, "OUT_OF_SCOPE", "a bank records consents to itself only")
	}
	if p.Role == access.Household && p.Scope.Household != hid {
		return nil, fault.New(fault.PermissionDenied, "OUT_OF_SCOPE", "a household grants its own consents only")
	}
	c := &lending.Consent{
		ID:        consentID(hid, bank, in.AuthorisationHash),
		Household: in.Household, Bank: bank, GrantTime: now, Expires: expires,
		Channel: in.Channel, AuthorisationHash: in.AuthorisationHash, RecordedBy: p.ID,
		State: lending.ConsentPending,
	}
	if p.Role == access.Household {
		// The household's own credential: nothing more to wait for.
		c.State, c.ConfirmedBy, c.ConfirmTime = lending.ConsentGranted, p.ID, &now
	}
	for _, pu := range in.Purposes {
		c.Purposes = append(c.Purposes, lending.Purpose(pu))
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var out *lending.Consent
	err = s.store.Write(ctx, func(tx Writer) error {
		if _, err := tx.Household(ctx, village, hid); err != nil {
			return err
		}
		prev, err := tx.Consent(ctx, c.ID)
		switch {
		case err == nil:
			if prev.RevokeTime != nil {
				return fault.New(fault.FailedPrecondition, "CONSENT_REVOKED",
					"this authorisation was revoked; the household must sign a new one")
			}
			if prev.State == lending.ConsentRefused {
				return fault.New(fault.FailedPrecondition, ReasonConsentRefused,
					"the household refused this authorisation; it must sign a new one")
			}
			out = prev
			return nil
		case !fault.Is(err, fault.NotFound):
			return err
		}
		if err := tx.InsertConsent(ctx, c); err != nil {
			return err
		}
		out = c
		return tx.Record(ctx, consentRecord(p.ID, "consent.grant", c, now))
	})
	return out, err
}

// Fault reasons of consent transitions.
const (
	ReasonConsentNotPending         = "CONSENT_NOT_PENDING"
	ReasonConsentRefused            = "CONSENT_REFUSED"
	ReasonConsentExpired            = "CONSENT_EXPIRED"
	ReasonAuthorisationMismatch     = "AUTHORISATION_MISMATCH"
	reasonOutOfScope                = "OUT_OF_SCOPE"
	actionConsentConfirm            = "consent.confirm"
	actionConsentRefuse             = "consent.refuse"
	actionConsentCountersign        = "consent.countersign"
	payloadConsentState             = "state"
	payloadConsentCountersignedHash = "countersigned_hash"
)

// Confirm is the household confirming, with its own credential, a
// pending consent a bank recorded for it: granted from now on.
func (s *Service) Confirm(ctx context.Context, p *access.Principal, name string) (*lending.Consent, error) {
	return s.settle(ctx, p, name, "", lending.ConsentGranted, actionConsentConfirm)
}

// Refuse is the household refusing a pending consent: refused for good.
func (s *Service) Refuse(ctx context.Context, p *access.Principal, name string) (*lending.Consent, error) {
	c, err := s.settle(ctx, p, name, "", lending.ConsentRefused, actionConsentRefuse)
	if err == nil {
		s.refused(ctx, Refusal{Reason: ReasonConsentRefused, Method: MethodRefuseConsent})
	}
	return c, err
}

// Countersign is a clerk or reviewer of the household's village granting
// a pending consent on the household's behalf, having seen the signed
// form: authHash is the SHA-256 of the form they saw, and must be the one
// the bank recorded.
func (s *Service) Countersign(ctx context.Context, p *access.Principal, name, authHash string) (*lending.Consent, error) {
	if !isSHA256Hex(authHash) {
		return nil, fault.InvalidField("authorisation_hash", "must be the SHA-256 of the signed form in 64 lower-case hex digits")
	}
	return s.settle(ctx, p, name, authHash, lending.ConsentGranted, actionConsentCountersign)
}

func isSHA256Hex(h string) bool {
	if len(h) != 64 {
		return false
	}
	for _, r := range h {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// settle moves a pending consent to granted or refused, in one
// transaction with its audit record. Who may: the household itself
// (confirm, refuse) or, with authHash, staff of its village
// (countersign); anyone else is PermissionDenied, checked here as well as
// in the RPC table so that no transport can skip it.
func (s *Service) settle(ctx context.Context, p *access.Principal, name, authHash string, to lending.ConsentState, action string) (*lending.Consent, error) {
	village, hid, id, err := ParseConsentName(name, "name")
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fault.New(fault.Unauthenticated, "UNAUTHENTICATED", "missing credentials")
	}
	switch {
	case action == actionConsentCountersign:
		if (p.Role != access.VillageClerk && p.Role != access.VillageReviewer) || !p.CoversVillage(village) {
			return nil, fault.New(fault.PermissionDenied, reasonOutOfScope,
				"only a clerk or reviewer of the household's village countersigns its consents")
		}
	case p.Role != access.Household || p.Scope.Household != hid:
		return nil, fault.New(fault.PermissionDenied, reasonOutOfScope,
			"only the household itself confirms or refuses its consents")
	}
	now := s.clock()
	var out *lending.Consent
	err = s.store.Write(ctx, func(tx Writer) error {
		c, err := tx.Consent(ctx, id)
		if err != nil {
			return err
		}
		if c.Household != resource.Household(village, hid) {
			// Another household's consent under this household's name.
			return fault.New(fault.PermissionDenied, reasonOutOfScope, "consent %s is not this household's", name)
		}
		if c.State != lending.ConsentPending || c.RevokeTime != nil {
			return fault.New(fault.FailedPrecondition, ReasonConsentNotPending,
				"consent %s is %s, not pending: only a request a bank recorded can be confirmed, countersigned or refused", name, stateWord(c))
		}
		if to == lending.ConsentGranted && !now.Before(c.Expires) {
			return fault.New(fault.FailedPrecondition, ReasonConsentExpired,
				"consent %s expired before it was confirmed; the bank must record a new one", name)
		}
		if action == actionConsentCountersign && authHash != c.AuthorisationHash {
			// The bank recorded a hash that is not the form's: its request
			// stays pending (the household may still confirm it itself).
			return fault.New(fault.FailedPrecondition, ReasonAuthorisationMismatch,
				"the signed form's hash is not the one the bank recorded: do not countersign; the consent stays pending")
		}
		if err := tx.SettleConsent(ctx, id, to, now, p.ID); err != nil {
			return err
		}
		c.State, c.ConfirmedBy, c.ConfirmTime = to, p.ID, &now
		out = c
		rec := consentRecord(p.ID, action, c, now)
		rec.Payload[payloadConsentState] = string(to)
		if action == actionConsentCountersign {
			rec.Payload[payloadConsentCountersignedHash] = authHash
		}
		return tx.Record(ctx, rec)
	})
	return out, err
}

func stateWord(c *lending.Consent) string {
	if c.RevokeTime != nil {
		return "revoked"
	}
	return string(c.State)
}

// consentID derives the consent's id from what identifies the signed
// authorisation, so that recording it twice finds the first.
func consentID(householdID, bank, authHash string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("sanzhi:consent:"+householdID+"\x00"+bank+"\x00"+authHash)).String()
}

func consentRecord(actor, action string, c *lending.Consent, now time.Time) audit.Record {
	village, hid, _ := household.ParseName(c.Household, "")
	ps := make([]string, len(c.Purposes))
	for i, p := range c.Purposes {
		ps[i] = string(p)
	}
	return audit.Record{Time: now, Actor: actor, Action: action,
		Subject: ConsentName(village, hid, c.ID),
		Payload: map[string]string{"bank": c.Bank, "household": c.Household, "purposes": strings.Join(ps, ","),
			"channel": c.Channel, "expire_time": c.Expires.Format(time.RFC3339),
			"authorisation_hash": c.AuthorisationHash, payloadConsentState: string(c.State)}}
}

// Revoke revokes a consent at once. The household may revoke any of its
// consents; a bank principal only one given to its bank. Revoking a
// revoked consent returns it unchanged.
func (s *Service) Revoke(ctx context.Context, p *access.Principal, name string) (*lending.Consent, error) {
	now := s.clock()
	village, hid, id, err := ParseConsentName(name, "name")
	if err != nil {
		return nil, err
	}
	var out *lending.Consent
	err = s.store.Write(ctx, func(tx Writer) error {
		c, err := tx.Consent(ctx, id)
		if err != nil {
			return err
		}
		if c.Household != resource.Household(village, hid) || (isBankRole(p.Role) && c.Bank != p.Scope.Bank) {
			return fault.New(fault.NotFound, "CONSENT_NOT_FOUND", "consent %s not found", name)
		}
		out = c
		if c.RevokeTime != nil {
			return nil
		}
		if err := tx.RevokeConsent(ctx, id, now, p.ID); err != nil {
			return err
		}
		c.RevokeTime, c.RevokedBy = &now, p.ID
		return tx.Record(ctx, consentRecord(p.ID, "consent.revoke", c, now))
	})
	return out, err
}

// ListConsents returns a household's consents, oldest first, in state
// (all when ""); a bank principal sees only those given to its bank.
func (s *Service) ListConsents(ctx context.Context, p *access.Principal, householdName string, state lending.ConsentState) ([]*lending.Consent, error) {
	if state != "" && !state.Known() {
		return nil, fault.InvalidField("state", "must be pending, granted or refused")
	}
	village, hid, err := household.ParseName(householdName, "parent")
	if err != nil {
		return nil, err
	}
	var out []*lending.Consent
	err = s.store.Read(ctx, func(tx Reader) error {
		if _, err := tx.Household(ctx, village, hid); err != nil {
			return err
		}
		all, err := tx.Consents(ctx, hid)
		if err != nil {
			return err
		}
		out = out[:0]
		for _, c := range all {
			// A pending request the bank withdrew (revoked) waits for no one.
			inState := state == "" || (c.State == state && (state != lending.ConsentPending || c.RevokeTime == nil))
			if (!isBankRole(p.Role) || c.Bank == p.Scope.Bank) && inState {
				out = append(out, c)
			}
		}
		return nil
	})
	return out, err
}

// Now is the service's clock, for callers that report liveness.
func (s *Service) Now() time.Time { return s.clock() }

// Query records: every read of a household's credit by a bank is an audit
// entry with action ActionQuery whose subject is the household; the
// household and the regulator list them (ListQueryRecords). Assessments
// are their own audited writes (ActionAssess) and count as queries too.
const (
	ActionQuery  = "credit.query"
	ActionAssess = "credit.assess"
)

// Query methods and outcomes in a query record's payload.
const (
	MethodGetLine   = "get_credit_line"
	MethodAssess    = "assess_credit"
	OutcomeAllowed  = "allowed"
	OutcomeDenied   = "denied"
	payloadMethod   = "method"
	payloadOutcome  = "outcome"
	payloadPurpose  = "purpose"
	payloadBank     = "bank"
	payloadProduct  = "product"
	payloadDecision = "decision"
	payloadView     = "view"
)

func queryRecord(p *access.Principal, householdName, bank, product, purpose, method, outcome string, now time.Time) audit.Record {
	return audit.Record{Time: now, Actor: p.ID, Action: ActionQuery, Subject: householdName,
		Payload: map[string]string{payloadBank: bank, payloadProduct: product, payloadPurpose: purpose,
			payloadMethod: method, payloadOutcome: outcome}}
}

// denied records a refused attempt in its own transaction (the attempt's
// own transaction, if any, rolled back) and returns the refusal.
func (s *Service) denied(ctx context.Context, p *access.Principal, householdName, bank, product, purpose, method string, refusal error) error {
	s.refused(ctx, Refusal{Reason: lending.ReasonConsentRequired, Method: method, Purpose: purpose})
	rec := queryRecord(p, householdName, bank, product, purpose, method, OutcomeDenied, s.clock())
	if err := s.store.Write(ctx, func(tx Writer) error { return tx.Record(ctx, rec) }); err != nil {
		return fmt.Errorf("recording a refused query: %w", err)
	}
	return refusal
}

func isConsentRequired(err error) bool {
	var f *fault.Error
	return errors.As(err, &f) && f.Reason == lending.ReasonConsentRequired
}

// requestHash fingerprints a request's identifying fields.
func requestHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}
