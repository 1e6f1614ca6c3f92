package sqlstore

import (
	"context"

	"github.com/sanzhi/sanzhi/scoring/policies"
)

// policyVersions is the table of credit policy versions, keyed by bank
// and product.
var policyVersions = versionTable[*policies.Version]{
	table: "policy_versions", parent: [2]string{"bank", "product"},
	meta: `bank, product, version, content_hash, effective_date, state, uploaded_by, upload_time,
	approved_by, approve_time, activated_by, activate_time, supersede_time`,
	set: `state = $4, approved_by = $5, approve_time = $6, activated_by = $7, activate_time = $8,
		supersede_time = $9`,
	reason: "POLICY", noun: "policy", nouns: "policies",
	scan: scanPolicy,
}

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

// PolicyVersion implements policies.Reader.
func (tx *Tx) PolicyVersion(ctx context.Context, bank, product string, n int) (*policies.Version, error) {
	name := (&policies.Version{Bank: bank, Product: product, Version: n}).Name()
	return policyVersions.version(ctx, tx, name, bank, product, n)
}

// ActivePolicy implements policies.Reader.
func (tx *Tx) ActivePolicy(ctx context.Context, bank, product string) (*policies.Version, error) {
	return policyVersions.active(ctx, tx, "an active policy of "+policies.ProductName(bank, product), bank, product)
}

// PolicyVersions implements policies.Reader.
func (tx *Tx) PolicyVersions(ctx context.Context, q policies.ListQuery) ([]*policies.Version, error) {
	return policyVersions.list(ctx, tx, q.Bank, q.Product, q.Before, q.Limit)
}

// InsertPolicyVersion implements policies.Writer.
func (tx *Tx) InsertPolicyVersion(ctx context.Context, v *policies.Version) error {
	return policyVersions.insert(ctx, tx, v.Name(),
		v.Bank, v.Product, v.Version, v.ContentHash, v.EffectiveDate, string(v.State), v.UploadedBy,
		tsArg(v.UploadTime), v.ApprovedBy, optTSArg(v.ApproveTime), v.ActivatedBy, optTSArg(v.ActivateTime),
		optTSArg(v.SupersedeTime), v.Document)
}

// UpdatePolicyState implements policies.Writer.
func (tx *Tx) UpdatePolicyState(ctx context.Context, v *policies.Version) error {
	return policyVersions.update(ctx, tx, v.Name(), v.Parent(), v.Bank, v.Product, v.Version,
		string(v.State), v.ApprovedBy, optTSArg(v.ApproveTime), v.ActivatedBy, optTSArg(v.ActivateTime),
		optTSArg(v.SupersedeTime))
}

// PolicyProducts lists, in name order, the products of bank that have a
// policy version in any state: the products a bank's risk manager works
// on, a first draft's included (ActiveProducts knows active ones only).
func (s *Store) PolicyProducts(ctx context.Context, bank string) ([]string, error) {
	var out []string
	err := s.conn.ReadOne(ctx, func(q Querier) error {
		out = out[:0]
		rows, err := q.Query(ctx, `SELECT DISTINCT product FROM policy_versions WHERE bank = $1 ORDER BY product`, bank)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p string
			if err := rows.Scan(&p); err != nil {
				return err
			}
			out = append(out, p)
		}
		return rows.Err()
	})
	return out, internal(err, "listing a bank's policy products")
}
