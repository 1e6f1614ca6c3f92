package sqlstore

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/access/signin"
	"github.com/sanzhi/sanzhi/fault"
)

// SignIn returns the web console's sign-in port (access/signin):
// passwords, sessions, household access codes and failure counters.
func (s *Store) SignIn() signin.Store { return signinStore{s} }

type signinStore struct{ s *Store }

func (ss signinStore) Read(ctx context.Context, fn func(signin.Reader) error) error {
	return ss.s.read(ctx, func(tx *Tx) error { return fn(signinTx{tx}) })
}

func (ss signinStore) Write(ctx context.Context, fn func(signin.Writer) error) error {
	return ss.s.write(ctx, func(tx *Tx) error { return fn(signinTx{tx}) })
}

// signinTx is a transaction seen as a signin.Reader and Writer.
type signinTx struct{ *Tx }

func (tx signinTx) principal(ctx context.Context, what, where string, arg any) (*access.Principal, error) {
	p, err := scanPrincipal(tx.q.QueryRow(ctx, `SELECT `+principalColumns+` FROM principals WHERE `+where, arg))
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, "PRINCIPAL_NOT_FOUND", "%s not found", what)
	}
	return p, internal(err, "reading a principal")
}

func (tx signinTx) PrincipalByName(ctx context.Context, name string) (*access.Principal, error) {
	return tx.principal(ctx, "principal "+name, `name = $1`, name)
}

func (tx signinTx) PrincipalByID(ctx context.Context, id string) (*access.Principal, error) {
	return tx.principal(ctx, "principal", `id = $1`, id)
}

func (tx signinTx) HouseholdPrincipal(ctx context.Context, household string) (*access.Principal, error) {
	return tx.principal(ctx, "household principal", `role = 'household' AND scope_household = $1
		AND revoke_time IS NULL ORDER BY create_time, id LIMIT 1`, household)
}

func (tx signinTx) InsertPrincipal(ctx context.Context, p *access.Principal) error {
	_, err := tx.q.Exec(ctx, `INSERT INTO principals (id, name, role, scope_villages, scope_bank,
		scope_household, demo, key_hash, create_time) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8)`,
		p.ID, p.Name, string(p.Role), strings.Join(p.Scope.Villages, ","), p.Scope.Bank,
		p.Scope.Household, p.Demo, tsArg(p.CreateTime))
	if err != nil && tx.d.IsUniqueViolation(err) {
		return fault.Wrap(err, fault.AlreadyExists, "PRINCIPAL_EXISTS", "principal %q already exists", p.Name)
	}
	return internal(err, "creating a principal")
}

func (tx signinTx) Password(ctx context.Context, principalID string) (*signin.Password, error) {
	p := &signin.Password{PrincipalID: principalID}
	err := tx.q.QueryRow(ctx, `SELECT hash, must_change, set_by, set_time FROM principal_passwords
		WHERE principal_id = $1`, principalID).Scan(&p.Hash, &p.MustChange, &p.SetBy, ts{&p.SetTime})
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, "PASSWORD_NOT_SET", "no password is set")
	}
	return p, internal(err, "reading a password")
}

func (tx signinTx) PutPassword(ctx context.Context, p *signin.Password) error {
	_, err := tx.q.Exec(ctx, `INSERT INTO principal_passwords (principal_id, hash, must_change, set_by, set_time)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (principal_id) DO UPDATE SET hash = excluded.hash, must_change = excluded.must_change,
			set_by = excluded.set_by, set_time = excluded.set_time`,
		p.PrincipalID, p.Hash, p.MustChange, p.SetBy, tsArg(p.SetTime))
	return internal(err, "storing a password")
}

const sessionColumns = `id, principal_id, csrf, village, client_addr, create_time, last_seen, expire_time, revoke_time`

func (tx signinTx) SessionByHash(ctx context.Context, tokenHash []byte) (*signin.Session, error) {
	s := &signin.Session{}
	err := tx.q.QueryRow(ctx, `SELECT `+sessionColumns+` FROM signin_sessions WHERE token_hash = $1`, tokenHash).
		Scan(&s.ID, &s.PrincipalID, &s.CSRF, &s.Village, &s.ClientAddr, ts{&s.CreateTime}, ts{&s.LastSeen},
			ts{&s.ExpireTime}, nullTS{&s.RevokeTime})
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, signin.ReasonSessionUnknown, "no such session")
	}
	return s, internal(err, "reading a session")
}

func (tx signinTx) InsertSession(ctx context.Context, s *signin.Session, tokenHash []byte) error {
	_, err := tx.q.Exec(ctx, `INSERT INTO signin_sessions (id, token_hash, principal_id, csrf, village, client_addr,
		create_time, last_seen, expire_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		s.ID, tokenHash, s.PrincipalID, s.CSRF, s.Village, s.ClientAddr,
		tsArg(s.CreateTime), tsArg(s.LastSeen), tsArg(s.ExpireTime))
	return internal(err, "storing a session")
}

func (tx signinTx) TouchSession(ctx context.Context, id string, t time.Time) error {
	_, err := tx.q.Exec(ctx, `UPDATE signin_sessions SET last_seen = $1 WHERE id = $2`, tsArg(t), id)
	return internal(err, "touching a session")
}

func (tx signinTx) RevokeSession(ctx context.Context, id string, t time.Time) (bool, error) {
	n, err := tx.q.Exec(ctx, `UPDATE signin_sessions SET revoke_time = $1 WHERE id = $2 AND revoke_time IS NULL`, tsArg(t), id)
	return n > 0, internal(err, "revoking a session")
}

func (tx signinTx) RevokeSessionsOf(ctx context.Context, principalID, except string, t time.Time) (int, error) {
	n, err := tx.q.Exec(ctx, `UPDATE signin_sessions SET revoke_time = $1
		WHERE principal_id = $2 AND id <> $3 AND revoke_time IS NULL`, tsArg(t), principalID, except)
	return int(n), internal(err, "ending sessions")
}

func (tx signinTx) CodeByHash(ctx context.Context, hash []byte) (*signin.HouseholdCode, error) {
	c := &signin.HouseholdCode{Hash: hash}
	err := tx.q.QueryRow(ctx, `SELECT household_id, village_code, principal_id, issued_by, issue_time, revoke_time
		FROM household_codes WHERE hash = $1`, hash).
		Scan(&c.Household, &c.Village, &c.PrincipalID, &c.IssuedBy, ts{&c.IssueTime}, nullTS{&c.RevokeTime})
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, "CODE_UNKNOWN", "no such access code")
	}
	return c, internal(err, "reading an access code")
}

func (tx signinTx) InsertCode(ctx context.Context, c *signin.HouseholdCode) error {
	_, err := tx.q.Exec(ctx, `INSERT INTO household_codes (hash, household_id, village_code, principal_id, issued_by,
		issue_time) VALUES ($1, $2, $3, $4, $5, $6)`,
		c.Hash, c.Household, c.Village, c.PrincipalID, c.IssuedBy, tsArg(c.IssueTime))
	if err != nil && tx.d.IsUniqueViolation(err) {
		return fault.Wrap(err, fault.AlreadyExists, "CODE_EXISTS", "access code taken, or the household has a live one")
	}
	return internal(err, "storing an access code")
}

func (tx signinTx) RevokeCodes(ctx context.Context, household string, t time.Time) (int, error) {
	n, err := tx.q.Exec(ctx, `UPDATE household_codes SET revoke_time = $1
		WHERE household_id = $2 AND revoke_time IS NULL`, tsArg(t), household)
	return int(n), internal(err, "revoking access codes")
}

func (tx signinTx) HouseholdInVillage(ctx context.Context, village, id string) error {
	var one int
	err := tx.q.QueryRow(ctx, `SELECT 1 FROM households WHERE id = $1 AND village_code = $2`, id, village).Scan(&one)
	if errors.Is(err, ErrNoRows) {
		return fault.New(fault.NotFound, "HOUSEHOLD_NOT_FOUND", "household %s not found in village %s", id, village)
	}
	return internal(err, "reading a household")
}

func (tx signinTx) Throttle(ctx context.Context, key string) (signin.Throttle, error) {
	t := signin.Throttle{Key: key}
	err := tx.q.QueryRow(ctx, `SELECT failures, window_start, locked_until FROM signin_throttle WHERE key = $1`, key).
		Scan(&t.Failures, ts{&t.WindowStart}, ts{&t.LockedUntil})
	if errors.Is(err, ErrNoRows) {
		return signin.Throttle{Key: key}, nil
	}
	return t, internal(err, "reading a sign-in counter")
}

func (tx signinTx) PutThrottle(ctx context.Context, t signin.Throttle) error {
	_, err := tx.q.Exec(ctx, `INSERT INTO signin_throttle (key, failures, window_start, locked_until)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start,
			locked_until = excluded.locked_until`,
		t.Key, t.Failures, tsArg(t.WindowStart), tsArg(t.LockedUntil))
	return internal(err, "storing a sign-in counter")
}

func (tx signinTx) ClearThrottle(ctx context.Context, key string) error {
	_, err := tx.q.Exec(ctx, `DELETE FROM signin_throttle WHERE key = $1`, key)
	return internal(err, "clearing a sign-in counter")
}
