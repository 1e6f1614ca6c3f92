package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sanzhi/sanzhi/lending/credit"
)

// DecisionScan selects the decisions of a range replay (`sanzhi audit
// replay --from --to`, or a whole bank product).
type DecisionScan struct {
	Bank, Product string    // a bank product's decisions; both or neither
	Since, Until  time.Time // decided in [Since, Until); zero = unbounded
	AfterID       string    // keyset cursor: decisions with id > AfterID
	Limit         int
}

// ScanDecisions returns up to q.Limit decisions matching q in id order (a
// decision id is a UUIDv7, so id order is nearly decision order). Each
// call is one statement: a long range is read page by page, never in one
// long transaction.
func (s *Store) ScanDecisions(ctx context.Context, q DecisionScan) ([]*credit.Decision, error) {
	where, args := q.where()
	args = append(args, q.Limit)
	query := `SELECT ` + decisionColumns + ` FROM credit_decisions WHERE ` + where +
		fmt.Sprintf(` ORDER BY id LIMIT $%d`, len(args))
	out := make([]*credit.Decision, 0, q.Limit)
	err := s.conn.ReadOne(ctx, func(qr Querier) error {
		out = out[:0]
		rows, err := qr.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			d := &credit.Decision{}
			if err := rows.Scan(decisionDest(d)...); err != nil {
				return err
			}
			out = append(out, d)
		}
		return rows.Err()
	})
	return out, internal(err, "scanning decisions")
}

// CountDecisions counts the decisions q selects (AfterID and Limit
// aside), for a progress bar.
func (s *Store) CountDecisions(ctx context.Context, q DecisionScan) (int64, error) {
	q.AfterID = ""
	where, args := q.where()
	var n int64
	err := s.conn.ReadOne(ctx, func(qr Querier) error {
		return qr.QueryRow(ctx, `SELECT count(*) FROM credit_decisions WHERE `+where, args...).Scan(&n)
	})
	return n, internal(err, "counting decisions")
}

func (q DecisionScan) where() (string, []any) {
	where := []string{"id > $1"}
	args := []any{q.AfterID}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if q.Bank != "" {
		add("bank = $%d", q.Bank)
		add("product = $%d", q.Product)
	}
	if !q.Since.IsZero() {
		add("time >= $%d", tsArg(q.Since))
	}
	if !q.Until.IsZero() {
		add("time < $%d", tsArg(q.Until))
	}
	return strings.Join(where, " AND "), args
}
