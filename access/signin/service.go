package signin

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
)

// Service signs people in and out and manages their credentials.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService returns the service over store with clock now.
func NewService(store Store, now func() time.Time) *Service {
	return &Service{store: store, now: now}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// SignedIn is a new session: the token (returned once; only its SHA-256
// is stored) for the console's cookie, and the session with its CSRF
// token and principal.
type SignedIn struct {
	Token     string
	Session   *Session
	Principal *access.Principal
}

// anonymous is the audit actor of a failure that names no principal.
const anonymous = "anonymous"

func failed() error {
	return fault.New(fault.Unauthenticated, ReasonFailed, "%s", Messages[ReasonFailed].EN)
}

func throttled() error {
	return fault.New(fault.ResourceExhausted, ReasonThrottled, "%s", Messages[ReasonThrottled].EN)
}

// Throttle keys.
func userKey(name string) string   { return "user:" + name }
func codeKey(prefix string) string { return "code:" + prefix }
func addrKey(addr string) string   { return "addr:" + addr }

// keys returns the non-empty throttle keys of an attempt.
func keys(ks ...string) []string {
	out := ks[:0]
	for _, k := range ks {
		if k != "" && k[len(k)-1] != ':' {
			out = append(out, k)
		}
	}
	return out
}

// lockedOut reports whether any key is locked at now.
func lockedOut(ctx context.Context, r Reader, now time.Time, ks []string) (bool, error) {
	for _, k := range ks {
		t, err := r.Throttle(ctx, k)
		if err != nil {
			return false, err
		}
		if now.Before(t.LockedUntil) {
			return true, nil
		}
	}
	return false, nil
}

// countFailure adds a failure to each key's counter, locking a key out
// when it reaches MaxFailures within FailureWindow.
func countFailure(ctx context.Context, w Writer, now time.Time, ks []string) error {
	for _, k := range ks {
		t, err := w.Throttle(ctx, k)
		if err != nil {
			return err
		}
		t.Key = k
		if t.Failures == 0 || now.Sub(t.WindowStart) >= FailureWindow {
			t.Failures, t.WindowStart = 0, now
		}
		t.Failures++
		if t.Failures >= MaxFailures {
			t.LockedUntil = now.Add(LockoutTime)
			// The lockout starts a fresh window: after it, five more tries.
			t.Failures, t.WindowStart = 0, now
		}
		if err := w.PutThrottle(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// SignIn signs a staff member in with username (the principal's name) and
// password, from client address addr (for throttling and the audit
// record; may be ""). Errors: ResourceExhausted SIGNIN_THROTTLED when the
// username or address is locked out (the password is not checked);
// Unauthenticated SIGNIN_FAILED for an unknown username, a wrong
// password, a principal without a password, a household principal or a
// revoked one, all alike and in similar time (an unknown name is checked
// against a dummy hash). A session of a password marked MustChange has
// Session.MustChangePassword set.
func (s *Service) SignIn(ctx context.Context, username, password, addr string) (*SignedIn, error) {
	now := s.clock()
	ks := keys(userKey(username), addrKey(addr))
	var (
		p      *access.Principal
		pw     *Password
		locked bool
	)
	// Read what the check needs; the slow hash runs outside any
	// transaction, so it never holds SQLite's one writer.
	err := s.store.Read(ctx, func(r Reader) error {
		p, pw = nil, nil
		var err error
		if locked, err = lockedOut(ctx, r, now, ks); err != nil || locked {
			return err
		}
		p, err = r.PrincipalByName(ctx, username)
		if fault.Is(err, fault.NotFound) {
			p = nil
			return nil
		}
		if err != nil {
			return err
		}
		pw, err = r.Password(ctx, p.ID)
		if fault.Is(err, fault.NotFound) {
			pw = nil
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if locked {
		return nil, throttled()
	}
	hash := dummyHash()
	if pw != nil {
		hash = pw.Hash
	}
	ok, err := VerifyPassword(hash, password)
	if err != nil {
		return nil, fmt.Errorf("sign-in of %s: %w", username, err)
	}
	why := ""
	switch {
	case p == nil:
		why = "unknown_user"
	case pw == nil:
		why = "no_password"
	case !ok:
		why = "wrong_password"
	case p.Role == access.Household:
		why = "household_principal"
	case !p.Active():
		why = "principal_revoked"
	}
	if why != "" {
		return nil, s.fail(ctx, now, p, addr, why, ks)
	}
	return s.start(ctx, now, p, "", addr, "password", func(w Writer) (bool, error) {
		// The password may have changed since it was read.
		cur, err := w.Password(ctx, p.ID)
		if err != nil {
			return false, err
		}
		if cur.Hash != pw.Hash {
			return false, nil
		}
		return true, w.ClearThrottle(ctx, userKey(username))
	}, ks)
}

// fail records a failed sign-in (counting it against ks) and returns the
// one answer every failure gets.
func (s *Service) fail(ctx context.Context, now time.Time, p *access.Principal, addr, why string, ks []string) error {
	err := s.store.Write(ctx, func(w Writer) error {
		if err := countFailure(ctx, w, now, ks); err != nil {
			return err
		}
		return w.Record(ctx, failureRecord(now, p, addr, why))
	})
	if err != nil {
		return err
	}
	return failed()
}

// start opens a session for p after its credential checked out. check runs
// first in the transaction (re-checking what may have changed since the
// credential was read); false fails the sign-in.
func (s *Service) start(ctx context.Context, now time.Time, p *access.Principal, village, addr, method string,
	check func(Writer) (bool, error), ks []string) (*SignedIn, error) {
	token, err := newSecret()
	if err != nil {
		return nil, err
	}
	token = TokenPrefix + token
	csrf, err := newSecret()
	if err != nil {
		return nil, err
	}
	sess := &Session{ID: uuid.Must(uuid.NewV7()).String(), PrincipalID: p.ID, CSRF: csrf, Village: village,
		ClientAddr: addr, CreateTime: now, LastSeen: now, ExpireTime: now.Add(AbsoluteTimeout)}
	var outcome error
	err = s.store.Write(ctx, func(w Writer) error {
		outcome = nil
		if locked, err := lockedOut(ctx, w, now, ks); err != nil {
			return err
		} else if locked {
			outcome = throttled()
			return nil
		}
		ok, err := check(w)
		if err != nil {
			return err
		}
		if !ok {
			outcome = failed()
			if err := countFailure(ctx, w, now, ks); err != nil {
				return err
			}
			return w.Record(ctx, failureRecord(now, p, addr, "credential_changed"))
		}
		if pw, err := w.Password(ctx, p.ID); err == nil {
			sess.MustChangePassword = pw.MustChange
		} else if !fault.Is(err, fault.NotFound) {
			return err
		}
		if err := w.InsertSession(ctx, sess, HashToken(token)); err != nil {
			return err
		}
		return w.Record(ctx, sessionRecord(now, p, ActionSuccess, sess, map[string]string{"method": method}))
	})
	if err != nil {
		return nil, err
	}
	if outcome != nil {
		return nil, outcome
	}
	return &SignedIn{Token: token, Session: sess, Principal: p}, nil
}

// SignInCode signs a household in with its access code (separators and
// case ignored), from client address addr. Errors: ResourceExhausted
// SIGNIN_THROTTLED when the code's first group or the address is locked
// out; Unauthenticated SIGNIN_FAILED for a malformed, unknown or revoked
// code or a revoked household principal.
func (s *Service) SignInCode(ctx context.Context, code, addr string) (*SignedIn, error) {
	now := s.clock()
	norm, wellFormed := NormaliseCode(code)
	prefix := ""
	if wellFormed {
		prefix = norm[:4]
	}
	ks := keys(codeKey(prefix), addrKey(addr))
	hash := HashCode(norm)
	var (
		c      *HouseholdCode
		p      *access.Principal
		locked bool
	)
	err := s.store.Read(ctx, func(r Reader) error {
		c, p = nil, nil
		var err error
		if locked, err = lockedOut(ctx, r, now, ks); err != nil || locked || !wellFormed {
			return err
		}
		c, err = r.CodeByHash(ctx, hash)
		if fault.Is(err, fault.NotFound) {
			c = nil
			return nil
		}
		if err != nil {
			return err
		}
		p, err = r.PrincipalByID(ctx, c.PrincipalID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if locked {
		return nil, throttled()
	}
	why := ""
	switch {
	case !wellFormed:
		why = "malformed_code"
	case c == nil:
		why = "unknown_code"
	case c.RevokeTime != nil:
		why = "revoked_code"
	case !p.Active():
		why = "principal_revoked"
	}
	if why != "" {
		if c == nil {
			p = nil // the record names no one for a code that names no one
		}
		return nil, s.fail(ctx, now, p, addr, why, ks)
	}
	return s.start(ctx, now, p, c.Village, addr, "code", func(w Writer) (bool, error) {
		cur, err := w.CodeByHash(ctx, hash)
		if err != nil {
			return false, err
		}
		return cur.RevokeTime == nil, nil
	}, ks)
}

// Session returns the live session of token and its principal, and
// refreshes its last-seen time when it is older than TouchEvery. Errors:
// Unauthenticated SESSION_EXPIRED after IdleTimeout without use or
// AbsoluteTimeout after sign-in; Unauthenticated SESSION_UNKNOWN for a
// token no session has, a session signed out or ended (password change,
// code reissued) or one whose principal is revoked.
func (s *Service) Session(ctx context.Context, token string) (*Session, *access.Principal, error) {
	now := s.clock()
	var (
		sess *Session
		p    *access.Principal
	)
	err := s.store.Read(ctx, func(r Reader) error {
		var err error
		sess, err = r.SessionByHash(ctx, HashToken(token))
		if err != nil {
			return err
		}
		if p, err = r.PrincipalByID(ctx, sess.PrincipalID); err != nil {
			return err
		}
		pw, err := r.Password(ctx, p.ID)
		switch {
		case err == nil:
			sess.MustChangePassword = pw.MustChange
		case fault.Is(err, fault.NotFound):
			sess.MustChangePassword = false
		default:
			return err
		}
		return nil
	})
	if fault.Is(err, fault.NotFound) {
		return nil, nil, unknownSession()
	}
	if err != nil {
		return nil, nil, err
	}
	if sess.RevokeTime != nil || !p.Active() {
		return nil, nil, unknownSession()
	}
	if !now.Before(sess.ExpireTime) || now.Sub(sess.LastSeen) >= IdleTimeout {
		return nil, nil, fault.New(fault.Unauthenticated, ReasonSessionExpired, "%s", Messages[ReasonSessionExpired].EN)
	}
	if now.Sub(sess.LastSeen) >= TouchEvery {
		if err := s.store.Write(ctx, func(w Writer) error { return w.TouchSession(ctx, sess.ID, now) }); err != nil {
			return nil, nil, err
		}
		sess.LastSeen = now
	}
	return sess, p, nil
}

func unknownSession() error {
	return fault.New(fault.Unauthenticated, ReasonSessionUnknown, "%s", Messages[ReasonSessionUnknown].EN)
}

// SignOut ends the session of token. An unknown or already ended session
// is no error (and no record): signing out twice is harmless.
func (s *Service) SignOut(ctx context.Context, token string) error {
	now := s.clock()
	return s.store.Write(ctx, func(w Writer) error {
		sess, err := w.SessionByHash(ctx, HashToken(token))
		if fault.Is(err, fault.NotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		revoked, err := w.RevokeSession(ctx, sess.ID, now)
		if err != nil || !revoked {
			return err
		}
		p, err := w.PrincipalByID(ctx, sess.PrincipalID)
		if err != nil {
			return err
		}
		return w.Record(ctx, sessionRecord(now, p, ActionSignOut, sess, nil))
	})
}

// operatorOnly asks the one policy whether actor may manage principals'
// credentials (operators only).
func operatorOnly(actor *access.Principal) error {
	err := access.Authorise(actor, access.PrincipalAdminister, access.Target{})
	if fault.Is(err, fault.PermissionDenied) {
		return fault.New(fault.PermissionDenied, "ROLE_NOT_ALLOWED", "only operators set passwords, not role %s", actor.Role)
	}
	return err
}

// SetPassword sets the password of the named staff principal, marked to
// be changed at its first sign-in, and ends the principal's sessions.
// Operators only. Errors: PermissionDenied ROLE_NOT_ALLOWED for any other
// actor; Invalid (CheckPassword) for a password the policy refuses;
// NotFound PRINCIPAL_NOT_FOUND; FailedPrecondition PRINCIPAL_REVOKED or
// PASSWORD_NOT_FOR_HOUSEHOLDS.
func (s *Service) SetPassword(ctx context.Context, actor *access.Principal, name, password string) error {
	if err := operatorOnly(actor); err != nil {
		return err
	}
	if err := CheckPassword(name, password); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	now := s.clock()
	return s.store.Write(ctx, func(w Writer) error {
		p, err := w.PrincipalByName(ctx, name)
		if err != nil {
			return err
		}
		if err := staff(p); err != nil {
			return err
		}
		if err := w.PutPassword(ctx, &Password{PrincipalID: p.ID, Hash: hash, MustChange: true, SetBy: actor.ID, SetTime: now}); err != nil {
			return err
		}
		n, err := w.RevokeSessionsOf(ctx, p.ID, "", now)
		if err != nil {
			return err
		}
		return w.Record(ctx, principalRecord(now, actor, ActionPasswordSet, p, map[string]string{
			"must_change": "true", "sessions_ended": fmt.Sprint(n)}))
	})
}

func staff(p *access.Principal) error {
	if !p.Active() {
		return fault.New(fault.FailedPrecondition, ReasonPrincipalRevoked, "principal %s is revoked", p.Name)
	}
	if p.Role == access.Household {
		return fault.New(fault.FailedPrecondition, ReasonNotStaff, "%s", Messages[ReasonNotStaff].EN)
	}
	return nil
}

// ChangePassword changes the password of the session's principal, given
// the old one, clears MustChange and ends the principal's other sessions
// (this one stays signed in). Errors: those of Session for the token;
// ResourceExhausted SIGNIN_THROTTLED when the username is locked out;
// Invalid PASSWORD_WRONG (violation on "old_password", counted as a
// failed sign-in) for a wrong old password; Invalid (CheckPassword) for a
// new password the policy refuses or equal to the old one;
// FailedPrecondition PASSWORD_NOT_FOR_HOUSEHOLDS for a household session.
func (s *Service) ChangePassword(ctx context.Context, token, oldPassword, newPassword string) error {
	sess, p, err := s.Session(ctx, token)
	if err != nil {
		return err
	}
	if err := staff(p); err != nil {
		return err
	}
	if err := CheckPassword(p.Name, newPassword); err != nil {
		return err
	}
	now := s.clock()
	ks := keys(userKey(p.Name), addrKey(sess.ClientAddr))
	var (
		pw     *Password
		locked bool
	)
	err = s.store.Read(ctx, func(r Reader) error {
		var err error
		if locked, err = lockedOut(ctx, r, now, ks); err != nil || locked {
			return err
		}
		pw, err = r.Password(ctx, p.ID)
		return err
	})
	if err != nil {
		return err
	}
	if locked {
		return throttled()
	}
	ok, err := VerifyPassword(pw.Hash, oldPassword)
	if err != nil {
		return err
	}
	if !ok {
		err := s.store.Write(ctx, func(w Writer) error {
			if err := countFailure(ctx, w, now, ks); err != nil {
				return err
			}
			return w.Record(ctx, failureRecord(now, p, sess.ClientAddr, "wrong_old_password"))
		})
		if err != nil {
			return err
		}
		m := Messages[ReasonPasswordWrong]
		return &fault.Error{Kind: fault.Invalid, Reason: "INVALID_ARGUMENT", Message: "invalid request: old_password: " + m.EN,
			Violations: []fault.Violation{{Field: "old_password", Description: m.EN, ZH: m.ZH, Reason: ReasonPasswordWrong}}}
	}
	if oldPassword == newPassword {
		m := Message{"The new password must differ from the current one.", "新密码不能与当前密码相同。"}
		return &fault.Error{Kind: fault.Invalid, Reason: "INVALID_ARGUMENT", Message: "invalid request: password: " + m.EN,
			Violations: []fault.Violation{{Field: "password", Description: m.EN, ZH: m.ZH, Reason: "PASSWORD_UNCHANGED"}}}
	}
	hash, err := HashPassword(newPassword)
	if err != nil {
		return err
	}
	return s.store.Write(ctx, func(w Writer) error {
		cur, err := w.Password(ctx, p.ID)
		if err != nil {
			return err
		}
		if cur.Hash != pw.Hash {
			return fault.New(fault.FailedPrecondition, "CONCURRENT_CHANGE", "the password changed meanwhile; sign in again")
		}
		if err := w.PutPassword(ctx, &Password{PrincipalID: p.ID, Hash: hash, SetBy: p.ID, SetTime: now}); err != nil {
			return err
		}
		n, err := w.RevokeSessionsOf(ctx, p.ID, sess.ID, now)
		if err != nil {
			return err
		}
		if err := w.ClearThrottle(ctx, userKey(p.Name)); err != nil {
			return err
		}
		return w.Record(ctx, principalRecord(now, p, ActionPasswordChange, p, map[string]string{
			"session": sess.ID, "sessions_ended": fmt.Sprint(n)}))
	})
}

// IssueCode issues a new access code for household id of village,
// revoking its previous code and ending its sessions, and returns the code
// (shown once: only its SHA-256 is kept) with the household principal it
// signs in as, created on first issue. Village clerks of that village
// only. Errors: PermissionDenied (access.Authorise, action
// signin.code.administer); NotFound HOUSEHOLD_NOT_FOUND when the household
// is not registered in village.
func (s *Service) IssueCode(ctx context.Context, actor *access.Principal, village, household string) (string, *access.Principal, error) {
	if err := access.Authorise(actor, access.SigninCodeAdminister, access.Target{Village: village, Household: household}); err != nil {
		return "", nil, err
	}
	code, err := NewCode()
	if err != nil {
		return "", nil, err
	}
	norm, _ := NormaliseCode(code)
	now := s.clock()
	var hp *access.Principal
	err = s.store.Write(ctx, func(w Writer) error {
		if err := w.HouseholdInVillage(ctx, village, household); err != nil {
			return err
		}
		var err error
		if hp, err = householdPrincipal(ctx, w, household, now); err != nil {
			return err
		}
		revoked, err := w.RevokeCodes(ctx, household, now)
		if err != nil {
			return err
		}
		ended, err := w.RevokeSessionsOf(ctx, hp.ID, "", now)
		if err != nil {
			return err
		}
		if err := w.InsertCode(ctx, &HouseholdCode{Hash: HashCode(norm), Household: household, Village: village,
			PrincipalID: hp.ID, IssuedBy: actor.ID, IssueTime: now}); err != nil {
			return err
		}
		return w.Record(ctx, codeRecord(now, actor, ActionCodeIssue, village, household, hp, map[string]string{
			"codes_revoked": fmt.Sprint(revoked), "sessions_ended": fmt.Sprint(ended)}))
	})
	if err != nil {
		return "", nil, err
	}
	return code, hp, nil
}

// householdPrincipal returns the household's active principal, creating
// it (named "household-<id>", no API key) when there is none.
func householdPrincipal(ctx context.Context, w Writer, household string, now time.Time) (*access.Principal, error) {
	p, err := w.HouseholdPrincipal(ctx, household)
	if err == nil || !fault.Is(err, fault.NotFound) {
		return p, err
	}
	p = &access.Principal{ID: uuid.Must(uuid.NewV7()).String(), Name: "household-" + household, Role: access.Household,
		Scope: access.Scope{Household: household}, CreateTime: now}
	if _, err := w.PrincipalByName(ctx, p.Name); err == nil {
		// A revoked principal holds the name: a new one gets its own.
		p.Name += "-" + p.ID[len(p.ID)-12:]
	} else if !fault.Is(err, fault.NotFound) {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("household principal: %w", err)
	}
	return p, w.InsertPrincipal(ctx, p)
}

// RevokeCode revokes the household's access code and ends its sessions
// (a lost slip). Village clerks of that village only. Revoking when no
// code is live changes nothing and records nothing. Errors as IssueCode.
func (s *Service) RevokeCode(ctx context.Context, actor *access.Principal, village, household string) error {
	if err := access.Authorise(actor, access.SigninCodeAdminister, access.Target{Village: village, Household: household}); err != nil {
		return err
	}
	now := s.clock()
	return s.store.Write(ctx, func(w Writer) error {
		if err := w.HouseholdInVillage(ctx, village, household); err != nil {
			return err
		}
		revoked, err := w.RevokeCodes(ctx, household, now)
		if err != nil || revoked == 0 {
			return err
		}
		hp, err := w.HouseholdPrincipal(ctx, household)
		ended := 0
		switch {
		case err == nil:
			if ended, err = w.RevokeSessionsOf(ctx, hp.ID, "", now); err != nil {
				return err
			}
		case fault.Is(err, fault.NotFound):
			hp = nil
		default:
			return err
		}
		return w.Record(ctx, codeRecord(now, actor, ActionCodeRevoke, village, household, hp, map[string]string{
			"codes_revoked": fmt.Sprint(revoked), "sessions_ended": fmt.Sprint(ended)}))
	})
}

// Audit records. None holds a password, code or token, or a hash of one.

func failureRecord(now time.Time, p *access.Principal, addr, why string) audit.Record {
	actor, subject, name := anonymous, "signin", ""
	if p != nil {
		actor, subject, name = p.ID, "principals/"+p.ID, p.Name
	}
	return audit.Record{Time: now, Actor: actor, Action: ActionFailure, Subject: subject,
		Payload: map[string]string{"name": name, "client_addr": addr, "why": why}}
}

func sessionRecord(now time.Time, p *access.Principal, action string, sess *Session, extra map[string]string) audit.Record {
	payload := map[string]string{"name": p.Name, "role": string(p.Role), "session": sess.ID, "client_addr": sess.ClientAddr}
	for k, v := range extra {
		payload[k] = v
	}
	return audit.Record{Time: now, Actor: p.ID, Action: action, Subject: "principals/" + p.ID, Payload: payload}
}

func principalRecord(now time.Time, actor *access.Principal, action string, p *access.Principal, extra map[string]string) audit.Record {
	payload := map[string]string{"name": p.Name, "role": string(p.Role), "actor_name": actor.Name}
	for k, v := range extra {
		payload[k] = v
	}
	return audit.Record{Time: now, Actor: actor.ID, Action: action, Subject: "principals/" + p.ID, Payload: payload}
}

func codeRecord(now time.Time, actor *access.Principal, action, village, household string, hp *access.Principal, extra map[string]string) audit.Record {
	payload := map[string]string{"actor_name": actor.Name}
	if hp != nil {
		payload["principal"] = hp.ID
	}
	for k, v := range extra {
		payload[k] = v
	}
	return audit.Record{Time: now, Actor: actor.ID, Action: action,
		Subject: "villages/" + village + "/households/" + household, Payload: payload}
}

// HasPassword reports whether the staff principal named name has a
// password (the demo sets its first passwords only where none is set).
// NotFound when there is no such principal.
func (s *Service) HasPassword(ctx context.Context, name string) (bool, error) {
	var has bool
	err := s.store.Read(ctx, func(r Reader) error {
		p, err := r.PrincipalByName(ctx, name)
		if err != nil {
			return err
		}
		_, err = r.Password(ctx, p.ID)
		if fault.Is(err, fault.NotFound) {
			return nil
		}
		has = err == nil
		return err
	})
	return has, err
}

// HouseholdIn reports (nil) whether household id is of village; NotFound
// HOUSEHOLD_NOT_FOUND otherwise.
func (s *Service) HouseholdIn(ctx context.Context, village, id string) error {
	return s.store.Read(ctx, func(r Reader) error { return r.HouseholdInVillage(ctx, village, id) })
}
