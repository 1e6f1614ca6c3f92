package sqlstore

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/access/principals"
	"github.com/sanzhi/sanzhi/fault"
)

// PrincipalAdmin returns the port that changes principals together with
// their audit entries (access/principals).
func (s *Store) PrincipalAdmin() principals.Store { return principalAdmin{s} }

type principalAdmin struct{ s *Store }

func (a principalAdmin) Write(ctx context.Context, fn func(principals.Writer) error) error {
	return a.s.write(ctx, func(tx *Tx) error { return fn(principalTx{tx}) })
}

// principalTx is a write transaction seen as a principals.Writer.
type principalTx struct{ *Tx }

func (tx principalTx) PrincipalByName(ctx context.Context, name string) (*access.Principal, error) {
	p, err := scanPrincipal(tx.q.QueryRow(ctx, `SELECT `+principalColumns+` FROM principals WHERE name = $1`, name))
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, "PRINCIPAL_NOT_FOUND", "principal %s not found", name)
	}
	return p, internal(err, "reading a principal")
}

func (tx principalTx) InsertPrincipal(ctx context.Context, p *access.Principal, keyHash []byte) error {
	_, err := tx.q.Exec(ctx, `INSERT INTO principals (id, name, role, scope_villages, scope_bank,
		scope_household, demo, key_hash, create_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		p.ID, p.Name, string(p.Role), strings.Join(p.Scope.Villages, ","), p.Scope.Bank,
		p.Scope.Household, p.Demo, keyHash, tsArg(p.CreateTime))
	if err != nil && tx.d.IsUniqueViolation(err) {
		return fault.Wrap(err, fault.AlreadyExists, "PRINCIPAL_EXISTS", "principal %q already exists", p.Name)
	}
	return internal(err, "creating a principal")
}

func (tx principalTx) SetPrincipalRevoked(ctx context.Context, id string, t time.Time) error {
	n, err := tx.q.Exec(ctx, `UPDATE principals SET revoke_time = COALESCE(revoke_time, $1) WHERE id = $2`, tsArg(t), id)
	if err != nil {
		return internal(err, "revoking a principal")
	}
	if n == 0 {
		return fault.New(fault.NotFound, "PRINCIPAL_NOT_FOUND", "principal %s not found", id)
	}
	return nil
}

func (tx principalTx) SetPrincipalKey(ctx context.Context, id string, keyHash []byte) error {
	n, err := tx.q.Exec(ctx, `UPDATE principals SET key_hash = $1 WHERE id = $2`, keyHash, id)
	if err != nil {
		if tx.d.IsUniqueViolation(err) {
			return fault.Wrap(err, fault.AlreadyExists, "KEY_EXISTS", "that key is taken")
		}
		return internal(err, "re-keying a principal")
	}
	if n == 0 {
		return fault.New(fault.NotFound, "PRINCIPAL_NOT_FOUND", "principal %s not found", id)
	}
	return nil
}

func (tx principalTx) PutBank(ctx context.Context, b *access.Bank) error {
	_, err := tx.q.Exec(ctx, `INSERT INTO banks (id, name, name_en) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_en = excluded.name_en`, b.ID, b.Name, b.NameEN)
	return internal(err, "naming a bank")
}
