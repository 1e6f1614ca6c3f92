package sqlstore

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/policies"
)

// This file stores the policy versions' activation gate reports
// (issue 16 §5) in policy_gate_reports: append-only, numbered per version
// from 1.

const gateCols = `bank, product, version, seq, policy_hash, against_version, as_of, households, passed,
	checks, summary, reference, evaluated_by, time`

// InsertGateReport implements policies.Writer: r goes in under its
// version's next seq, which r.Seq is set to.
func (tx *Tx) InsertGateReport(ctx context.Context, r *policies.GateReport) error {
	if _, err := tx.PolicyVersion(ctx, r.Bank, r.Product, r.Version); err != nil {
		return err
	}
	checks, err := json.Marshal(r.Checks)
	if err != nil {
		return fault.Wrap(err, fault.Internal, "INTERNAL", "cannot encode the gate checks")
	}
	if r.Checks == nil {
		checks = []byte("[]")
	}
	var seq int
	if err := tx.q.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM policy_gate_reports
		WHERE bank = $1 AND product = $2 AND version = $3`, r.Bank, r.Product, r.Version).Scan(&seq); err != nil {
		return internal(err, "numbering a gate report")
	}
	_, err = tx.q.Exec(ctx, `INSERT INTO policy_gate_reports (`+gateCols+`) VALUES (`+placeholders(1, 14)+`)`,
		r.Bank, r.Product, r.Version, seq, r.PolicyHash, r.AgainstVersion, r.AsOf, r.Households, r.Passed,
		string(checks), r.Summary, r.Reference, r.EvaluatedBy, tsArg(r.Time))
	if err != nil {
		if tx.d.IsUniqueViolation(err) {
			return fault.Wrap(err, fault.FailedPrecondition, "CONCURRENT_CHANGE", "another gate report of %s was stored at the same time; evaluate again", r.Name())
		}
		return internal(err, "inserting a gate report")
	}
	r.Seq = seq
	return nil
}

// LatestGateReport implements policies.Reader.
func (tx *Tx) LatestGateReport(ctx context.Context, bank, product string, version int) (*policies.GateReport, error) {
	r := &policies.GateReport{}
	var checks string
	err := tx.q.QueryRow(ctx, `SELECT `+gateCols+` FROM policy_gate_reports
		WHERE bank = $1 AND product = $2 AND version = $3 ORDER BY seq DESC LIMIT 1`, bank, product, version).Scan(
		&r.Bank, &r.Product, &r.Version, &r.Seq, &r.PolicyHash, &r.AgainstVersion, date[string]{&r.AsOf}, &r.Households,
		&r.Passed, &checks, &r.Summary, &r.Reference, &r.EvaluatedBy, ts{&r.Time})
	if errors.Is(err, ErrNoRows) {
		name := (&policies.Version{Bank: bank, Product: product, Version: version}).Name()
		return nil, fault.New(fault.NotFound, "GATE_REPORT_NOT_FOUND", "%s has no gate report", name)
	}
	if err != nil {
		return nil, internal(err, "reading a gate report")
	}
	if err := json.Unmarshal([]byte(checks), &r.Checks); err != nil {
		return nil, fault.Wrap(err, fault.Internal, "STORAGE", "the stored checks of gate report %d of %s are not readable", r.Seq, r.Name())
	}
	return r, nil
}
