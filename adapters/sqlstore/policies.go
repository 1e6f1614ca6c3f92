package sqlstore

import (
	"context"
	"errors"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/policies"
)

// policyMeta is every column but the document; policyColumns adds it last.
// scanPolicy reads them in this order.
const policyMeta = `bank, product, version, content_hash, effective_date, state, uploaded_by, upload_time,
	approved_by, approve_time, activated_by, activate_time, supersede_time`

const policyColumns = policyMeta + `, document`

func scanPolicy(r interface{ Scan(...any) error }, withDocument bool) (*policies.Version, error) {
	v := &policies.Version{}
	var state string
	dest := []any{&v.Bank, &v.Product, &v.Version, &v.ContentHash, date[string]{&v.EffectiveDate}, &state,
		&v.UploadedBy, ts{&v.UploadTime}, &v.ApprovedBy, nullTS{&v.ApproveTime}, &v.ActivatedBy,
		nullTS{&v.ActivateTime}, nullTS{&v.SupersedeTime}}
	if withDocument {
		dest = append(dest, &v.Document)
	}
	err := r.Scan(dest...)
	v.State = policies.State(state)
	return v, err
}

func (tx *Tx) onePolicy(ctx context.Context, what, where string, args ...any) (*policies.Version, error) {
	v, err := scanPolicy(tx.q.QueryRow(ctx, `SELECT `+policyColumns+` FROM policy_versions WHERE `+where, args...), true)
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, "POLICY_NOT_FOUND", "%s not found", what)
	}
	return v, internal(err, "reading a policy")
}

// PolicyVersion implements policies.Reader.
func (tx *Tx) PolicyVersion(ctx context.Context, bank, product string, n int) (*policies.Version, error) {
	name := (&policies.Version{Bank: bank, Product: product, Version: n}).Name()
	return tx.onePolicy(ctx, name, `bank = $1 AND product = $2 AND version = $3`, bank, product, n)
}

// ActivePolicy implements policies.Reader.
func (tx *Tx) ActivePolicy(ctx context.Context, bank, product string) (*policies.Version, error) {
	return tx.onePolicy(ctx, "an active policy of "+policies.ProductName(bank, product),
		`bank = $1 AND product = $2 AND state = 'active'`, bank, product)
}

// PolicyVersions implements policies.Reader.
func (tx *Tx) PolicyVersions(ctx context.Context, q policies.ListQuery) ([]*policies.Version, error) {
	rows, err := tx.q.Query(ctx, `SELECT `+policyMeta+` FROM policy_versions
		WHERE bank = $1 AND product = $2 AND ($3 = 0 OR version < $3)
		ORDER BY version DESC LIMIT $4`, q.Bank, q.Product, q.Before, q.Limit)
	if err != nil {
		return nil, internal(err, "listing policies")
	}
	defer rows.Close()
	var out []*policies.Version
	for rows.Next() {
		v, err := scanPolicy(rows, false)
		if err != nil {
			return nil, internal(err, "listing policies")
		}
		out = append(out, v)
	}
	return out, internal(rows.Err(), "listing policies")
}

// InsertPolicyVersion implements policies.Writer.
func (tx *Tx) InsertPolicyVersion(ctx context.Context, v *policies.Version) error {
	_, err := tx.q.Exec(ctx, `INSERT INTO policy_versions (`+policyColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		v.Bank, v.Product, v.Version, v.ContentHash, v.EffectiveDate, string(v.State), v.UploadedBy,
		tsArg(v.UploadTime), v.ApprovedBy, optTSArg(v.ApproveTime), v.ActivatedBy, optTSArg(v.ActivateTime),
		optTSArg(v.SupersedeTime), v.Document)
	if err != nil {
		if tx.d.IsUniqueViolation(err) {
			return fault.Wrap(err, fault.AlreadyExists, "POLICY_VERSION_EXISTS", "%s already exists", v.Name())
		}
		return internal(err, "inserting a policy")
	}
	return nil
}

// UpdatePolicyState implements policies.Writer.
func (tx *Tx) UpdatePolicyState(ctx context.Context, v *policies.Version) error {
	n, err := tx.q.Exec(ctx, `UPDATE policy_versions SET state = $1, approved_by = $2, approve_time = $3,
		activated_by = $4, activate_time = $5, supersede_time = $6
		WHERE bank = $7 AND product = $8 AND version = $9`,
		string(v.State), v.ApprovedBy, optTSArg(v.ApproveTime), v.ActivatedBy, optTSArg(v.ActivateTime),
		optTSArg(v.SupersedeTime), v.Bank, v.Product, v.Version)
	if err != nil {
		if tx.d.IsUniqueViolation(err) {
			return fault.Wrap(err, fault.AlreadyExists, "POLICY_ALREADY_ACTIVE",
				"%s already has an active version", v.Parent())
		}
		return internal(err, "updating a policy")
	}
	if n == 0 {
		return fault.New(fault.NotFound, "POLICY_NOT_FOUND", "%s not found", v.Name())
	}
	return nil
}
