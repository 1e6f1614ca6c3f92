// Package signin is how people sign in to the web console (issue 14):
// village staff with a username and password, households with a personal
// access code a clerk of their village printed for them. It holds the
// rules (password policy and hashing, code format, throttling, session
// lifetimes) and the Service over a Store port; it knows no HTTP. The
// console's transport (adapters/console) calls the Service and words the
// stable reason codes below for people, in zh-CN and English (Messages).
//
// Decisions:
//   - Staff (any role but household) sign in with their principal's name
//     and a password. Passwords are hashed with argon2id at the parameters
//     OWASP recommends (m=19 MiB, t=2, p=1) with a random 16-byte salt,
//     stored as a PHC string "$argon2id$v=19$m=19456,t=2,p=1$salt$hash",
//     and compared in constant time. An operator sets a password
//     (SetPassword, which marks it to be changed at first sign-in); the user
//     changes it (ChangePassword, with the old one).
//   - A household signs in with a code of 80 random bits, printed as four
//     groups of four from an alphabet without 0/O, 1/I (Code). Only its
//     SHA-256 is stored: 80 random bits cannot be guessed from it, so a slow
//     hash would add nothing but time. Issuing a new code revokes the old
//     one. The household acts as its household principal (role household,
//     scoped to the household), created on first issue.
//   - After MaxFailures failed sign-ins for one username, one code prefix
//     or one client address within FailureWindow, attempts for it are
//     refused for LockoutTime (RESOURCE_EXHAUSTED, SIGNIN_THROTTLED)
//     without checking the password. A success clears the username's
//     counter (not the address's: one address may try many usernames).
//   - A session is an opaque 256-bit token, returned once, stored as its
//     SHA-256; it carries a CSRF token of its own random bits, so neither
//     can be derived from the other. It dies after IdleTimeout without use,
//     after AbsoluteTimeout in any case, at sign-out, when its principal is
//     revoked, when the password is set or changed (the changing session
//     survives a change), and when the household's code is reissued or
//     revoked.
//   - Every sign-in, failure, sign-out, password set or change and code
//     issue or revoke commits with one audit record. A record never holds a
//     password, a code or a token; a failure names the username tried only
//     when it is a principal's (people type passwords into the name box).
package signin

import (
	"context"
	"time"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/audit"
)

// Lifetimes and limits.
const (
	IdleTimeout     = 30 * time.Minute
	AbsoluteTimeout = 12 * time.Hour
	// TouchEvery is how stale a session's last-seen time may get before
	// Session writes it again: one write a minute per active user, not one
	// per page.
	TouchEvery    = time.Minute
	MaxFailures   = 5
	FailureWindow = 15 * time.Minute
	LockoutTime   = 15 * time.Minute
)

// Audit actions.
const (
	ActionSuccess        = "signin.success"
	ActionFailure        = "signin.failure"
	ActionSignOut        = "signin.signout"
	ActionPasswordSet    = "signin.password_set"
	ActionPasswordChange = "signin.password_change"
	ActionCodeIssue      = "signin.code_issue"
	ActionCodeRevoke     = "signin.code_revoke"
)

// Password is a staff principal's stored password.
type Password struct {
	PrincipalID string
	// Hash is the PHC string (HashPassword).
	Hash string
	// MustChange is set by an operator's SetPassword and cleared by the
	// user's ChangePassword.
	MustChange bool
	SetBy      string // principal id of whoever set it
	SetTime    time.Time
}

// Session is a signed-in browser.
type Session struct {
	ID          string // uuid; names the session in audit records
	PrincipalID string
	// CSRF is the session's anti-forgery token: random, independent of the
	// session token, to be echoed by every form the console posts.
	CSRF string
	// Village is the household's village for a household session ("" for
	// staff, whose villages are in the principal's scope).
	Village    string
	ClientAddr string
	CreateTime time.Time
	LastSeen   time.Time
	// ExpireTime is the absolute end: CreateTime + AbsoluteTimeout.
	ExpireTime time.Time
	RevokeTime *time.Time
	// MustChangePassword is filled in by Service.Session from the stored
	// password: the console lets such a session change the password only.
	MustChangePassword bool
}

// HouseholdCode is a stored personal access code (its hash only).
type HouseholdCode struct {
	Hash        []byte // SHA-256 of the normalised code
	Household   string
	Village     string
	PrincipalID string // the household principal it signs in as
	IssuedBy    string
	IssueTime   time.Time
	RevokeTime  *time.Time
}

// Throttle is the failure counter of one key ("user:NAME", "code:PREFIX",
// "addr:ADDRESS"). The zero value is a key with no failures.
type Throttle struct {
	Key         string
	Failures    int
	WindowStart time.Time
	LockedUntil time.Time
}

// Reader reads within one transaction. Errors: a fault of kind NotFound
// (reasons named below) for what is not there; anything else is Internal
// or Unavailable from the store.
type Reader interface {
	// PrincipalByName returns the named principal, revoked or not;
	// NotFound PRINCIPAL_NOT_FOUND.
	PrincipalByName(ctx context.Context, name string) (*access.Principal, error)
	// PrincipalByID returns the principal, revoked or not; NotFound
	// PRINCIPAL_NOT_FOUND.
	PrincipalByID(ctx context.Context, id string) (*access.Principal, error)
	// Password returns the principal's password; NotFound
	// PASSWORD_NOT_SET when it has none.
	Password(ctx context.Context, principalID string) (*Password, error)
	// SessionByHash returns the session whose token has this SHA-256,
	// revoked or expired or not; NotFound SESSION_UNKNOWN.
	SessionByHash(ctx context.Context, tokenHash []byte) (*Session, error)
	// CodeByHash returns the code with this SHA-256, revoked or not;
	// NotFound CODE_UNKNOWN.
	CodeByHash(ctx context.Context, hash []byte) (*HouseholdCode, error)
	// Throttle returns the counter of key: the zero Throttle (with Key
	// set) when there is none, never NotFound.
	Throttle(ctx context.Context, key string) (Throttle, error)
	// HouseholdInVillage returns nil when household id is registered in
	// village; NotFound HOUSEHOLD_NOT_FOUND otherwise (also when it is of
	// another village, which is not revealed).
	HouseholdInVillage(ctx context.Context, village, id string) error
	// HouseholdPrincipal returns the active household principal of the
	// household (the earliest created, if ever more than one); NotFound
	// PRINCIPAL_NOT_FOUND when there is none.
	HouseholdPrincipal(ctx context.Context, household string) (*access.Principal, error)
}

// Writer changes sign-in state within one transaction; it reads too.
// Errors as Reader, plus AlreadyExists where named.
type Writer interface {
	Reader
	// InsertPrincipal stores p without an API key (key hash NULL);
	// AlreadyExists PRINCIPAL_EXISTS for a taken name.
	InsertPrincipal(ctx context.Context, p *access.Principal) error
	// PutPassword stores p, replacing the principal's previous password.
	PutPassword(ctx context.Context, p *Password) error
	// InsertSession stores s under the SHA-256 of its token.
	InsertSession(ctx context.Context, s *Session, tokenHash []byte) error
	// TouchSession sets the session's last-seen time (no error when the
	// session is gone).
	TouchSession(ctx context.Context, id string, t time.Time) error
	// RevokeSession revokes session id at t unless it already is; it
	// reports whether it revoked it.
	RevokeSession(ctx context.Context, id string, t time.Time) (bool, error)
	// RevokeSessionsOf revokes at t every live session of the principal
	// except the session named except ("" for none), returning how many.
	RevokeSessionsOf(ctx context.Context, principalID, except string, t time.Time) (int, error)
	// InsertCode stores c; AlreadyExists CODE_EXISTS if its hash is taken
	// (which 80 random bits make a bug, not bad luck).
	InsertCode(ctx context.Context, c *HouseholdCode) error
	// RevokeCodes revokes at t every live code of the household,
	// returning how many.
	RevokeCodes(ctx context.Context, household string, t time.Time) (int, error)
	// PutThrottle stores the counter t (insert or replace).
	PutThrottle(ctx context.Context, t Throttle) error
	// ClearThrottle deletes the counter of key (no error when absent).
	ClearThrottle(ctx context.Context, key string) error
	// Record appends an audit record that commits with this transaction.
	Record(ctx context.Context, r audit.Record) error
}

// Store runs transactions; fn may be retried, so it must only touch the
// store through its argument. A Write whose fn returns an error rolls
// back, audit records included.
type Store interface {
	Read(ctx context.Context, fn func(Reader) error) error
	Write(ctx context.Context, fn func(Writer) error) error
}
