package sqlstore

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/fault"
)

type principalStore struct{ s *Store }

const principalColumns = `id, name, role, scope_villages, scope_bank, scope_household, demo, create_time, revoke_time`

func scanPrincipal(r interface{ Scan(...any) error }) (*access.Principal, error) {
	p := &access.Principal{}
	var role, villages string
	err := r.Scan(&p.ID, &p.Name, &role, &villages, &p.Scope.Bank, &p.Scope.Household, &p.Demo,
		ts{&p.CreateTime}, nullTS{&p.RevokeTime})
	p.Role = access.Role(role)
	if villages != "" {
		p.Scope.Villages = strings.Split(villages, ",")
	}
	return p, err
}

func (ps principalStore) CreatePrincipal(ctx context.Context, p *access.Principal, keyHash []byte) error {
	return ps.s.write(ctx, func(tx *Tx) error {
		_, err := tx.q.Exec(ctx, `INSERT INTO principals (id, name, role, scope_villages, scope_bank,
			scope_household, demo, key_hash, create_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			p.ID, p.Name, string(p.Role), strings.Join(p.Scope.Villages, ","), p.Scope.Bank,
			p.Scope.Household, p.Demo, keyHash, tsArg(p.CreateTime))
		if err != nil && tx.d.IsUniqueViolation(err) {
			return fault.Wrap(err, fault.AlreadyExists, "PRINCIPAL_EXISTS", "principal %q already exists", p.Name)
		}
		return internal(err, "creating a principal")
	})
}

func (ps principalStore) one(ctx context.Context, what, where string, arg any) (*access.Principal, error) {
	var p *access.Principal
	err := ps.s.read(ctx, func(tx *Tx) error {
		var err error
		p, err = scanPrincipal(tx.q.QueryRow(ctx, `SELECT `+principalColumns+` FROM principals WHERE `+where, arg))
		if errors.Is(err, ErrNoRows) {
			return fault.New(fault.NotFound, "PRINCIPAL_NOT_FOUND", "%s not found", what)
		}
		return internal(err, "reading a principal")
	})
	return p, err
}

func (ps principalStore) PrincipalByKey(ctx context.Context, keyHash []byte) (*access.Principal, error) {
	return ps.one(ctx, "API key", `key_hash = $1`, keyHash)
}

func (ps principalStore) PrincipalByName(ctx context.Context, name string) (*access.Principal, error) {
	return ps.one(ctx, "principal "+name, `name = $1`, name)
}

func (ps principalStore) ListPrincipals(ctx context.Context) ([]*access.Principal, error) {
	var out []*access.Principal
	err := ps.s.read(ctx, func(tx *Tx) error {
		rows, err := tx.q.Query(ctx, `SELECT `+principalColumns+` FROM principals ORDER BY id`)
		if err != nil {
			return internal(err, "listing principals")
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scanPrincipal(rows)
			if err != nil {
				return internal(err, "listing principals")
			}
			out = append(out, p)
		}
		return internal(rows.Err(), "listing principals")
	})
	return out, err
}

func (ps principalStore) RevokePrincipal(ctx context.Context, name string, t time.Time) error {
	return ps.s.write(ctx, func(tx *Tx) error {
		n, err := tx.q.Exec(ctx, `UPDATE principals SET revoke_time = COALESCE(revoke_time, $1) WHERE name = $2`,
			tsArg(t), name)
		if err != nil {
			return internal(err, "revoking a principal")
		}
		if n == 0 {
			return fault.New(fault.NotFound, "PRINCIPAL_NOT_FOUND", "principal %s not found", name)
		}
		return nil
	})
}

func (ps principalStore) PutBank(ctx context.Context, b *access.Bank) error {
	if err := b.Validate(); err != nil {
		return fault.Wrap(err, fault.Invalid, "INVALID_BANK", "%v", err)
	}
	return ps.s.write(ctx, func(tx *Tx) error { return principalTx{tx}.PutBank(ctx, b) })
}

func (ps principalStore) Banks(ctx context.Context) ([]*access.Bank, error) {
	var out []*access.Bank
	err := ps.s.read(ctx, func(tx *Tx) error {
		rows, err := tx.q.Query(ctx, `SELECT id, name, name_en FROM banks ORDER BY id`)
		if err != nil {
			return internal(err, "listing banks")
		}
		defer rows.Close()
		for rows.Next() {
			b := &access.Bank{}
			if err := rows.Scan(&b.ID, &b.Name, &b.NameEN); err != nil {
				return internal(err, "listing banks")
			}
			out = append(out, b)
		}
		return internal(rows.Err(), "listing banks")
	})
	return out, err
}
