package sqlstore

import (
	"context"
	"errors"
	"iter"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/scoring/policies"
)

// Champion / challenger (issue 16 §6): the designations
// (policy_challengers) and the shadow decisions (shadow_decisions,
// append-only).

const challengerColumns = `bank, product, version, started_by, start_time, stopped_by, stop_time, stop_reason`

func scanChallenger(r interface{ Scan(...any) error }) (*policies.Challenger, error) {
	c := &policies.Challenger{}
	err := r.Scan(&c.Bank, &c.Product, &c.Version, &c.StartedBy, ts{&c.StartTime}, &c.StoppedBy,
		nullTS{&c.StopTime}, &c.StopReason)
	return c, err
}

// CurrentChallenger implements policies.Reader.
func (tx *Tx) CurrentChallenger(ctx context.Context, bank, product string) (*policies.Challenger, error) {
	c, err := scanChallenger(tx.q.QueryRow(ctx, `SELECT `+challengerColumns+` FROM policy_challengers
		WHERE bank = $1 AND product = $2 AND stop_time IS NULL`, bank, product))
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, policies.ReasonChallengerNotFound, "%s has no challenger",
			policies.ProductName(bank, product))
	}
	if err != nil {
		return nil, internal(err, "reading a challenger")
	}
	return c, nil
}

// ShadowCounts implements policies.Reader: one aggregate over the
// challenger's shadows joined to their champion decisions.
func (tx *Tx) ShadowCounts(ctx context.Context, bank, product string, version int) (policies.ShadowCounts, error) {
	var n policies.ShadowCounts
	err := tx.q.QueryRow(ctx, `SELECT COUNT(*),
		COALESCE(SUM(CASE WHEN s.eligible AND NOT d.eligible THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN d.eligible AND NOT s.eligible THEN 1 ELSE 0 END), 0)
		FROM shadow_decisions s JOIN credit_decisions d ON d.id = s.decision_id
		WHERE s.bank = $1 AND s.product = $2 AND s.challenger_version = $3`, bank, product, version).
		Scan(&n.Total, &n.SwapIn, &n.SwapOut)
	return n, internal(err, "counting shadow decisions")
}

// InsertChallenger implements policies.Writer.
func (tx *Tx) InsertChallenger(ctx context.Context, c *policies.Challenger) error {
	_, err := tx.q.Exec(ctx, `INSERT INTO policy_challengers (`+challengerColumns+`)
		VALUES ($1, $2, $3, $4, $5, '', NULL, '')`, c.Bank, c.Product, c.Version, c.StartedBy, tsArg(c.StartTime))
	if err != nil && tx.d.IsUniqueViolation(err) {
		return fault.Wrap(err, fault.AlreadyExists, policies.ReasonChallengerExists, "%s already has a challenger", c.Parent())
	}
	return internal(err, "inserting a challenger")
}

// StopChallenger implements policies.Writer.
func (tx *Tx) StopChallenger(ctx context.Context, c *policies.Challenger) error {
	n, err := tx.q.Exec(ctx, `UPDATE policy_challengers SET stopped_by = $1, stop_time = $2, stop_reason = $3
		WHERE bank = $4 AND product = $5 AND version = $6 AND stop_time IS NULL`,
		c.StoppedBy, optTSArg(c.StopTime), c.StopReason, c.Bank, c.Product, c.Version)
	if err != nil {
		return internal(err, "stopping a challenger")
	}
	if n == 0 {
		return fault.New(fault.NotFound, policies.ReasonChallengerNotFound, "%s is not the challenger of %s",
			c.VersionName(), c.Parent())
	}
	return nil
}

var shadowCols = []string{"decision_id", "bank", "product", "champion_version", "challenger_version",
	"policy_hash", "eligible", "score", "grade", "limit_amount", "rate", "bins", "knock_outs", "time"}

var shadowColumns = columns("", shadowCols)

// InsertShadowDecisions implements credit.Writer, bulkRows at a time.
func (tx *Tx) InsertShadowDecisions(ctx context.Context, shs []*credit.ShadowDecision) error {
	step := tx.bulkRows(len(shadowCols))
	args := make([]any, 0, min(step, len(shs))*len(shadowCols))
	for start := 0; start < len(shs); start += step {
		chunk := shs[start:min(start+step, len(shs))]
		args = args[:0]
		for _, sh := range chunk {
			if err := scale("shadow.limit", sh.Limit, moneyPlaces); err != nil {
				return err
			}
			if err := scale("shadow.rate", sh.Rate, ratePlaces); err != nil {
				return err
			}
			args = append(args, sh.DecisionID, sh.Bank, sh.Product, sh.ChampionVersion, sh.ChallengerVersion,
				sh.PolicyHash, sh.Eligible, sh.Score, sh.Grade, moneyArg(sh.Limit), moneyArg(sh.Rate), sh.Bins,
				sh.KnockOuts, tsArg(sh.Time))
		}
		if _, err := tx.q.Exec(ctx, `INSERT INTO shadow_decisions (`+shadowColumns+`) VALUES `+
			rowsOf(len(chunk), len(shadowCols)), args...); err != nil {
			if tx.d.IsUniqueViolation(err) {
				return fault.Wrap(err, fault.AlreadyExists, "SHADOW_EXISTS", "a shadow decision already exists")
			}
			return internal(err, "inserting shadow decisions")
		}
	}
	return nil
}

// ShadowDecision reads the shadow of decision id under challenger
// version; NotFound when there is none. Tests and tools read it.
func (s *Store) ShadowDecision(ctx context.Context, id string, version int) (*credit.ShadowDecision, error) {
	sh := &credit.ShadowDecision{}
	err := s.conn.ReadOne(ctx, func(q Querier) error {
		return q.QueryRow(ctx, `SELECT `+shadowColumns+` FROM shadow_decisions
			WHERE decision_id = $1 AND challenger_version = $2`, id, version).
			Scan(&sh.DecisionID, &sh.Bank, &sh.Product, &sh.ChampionVersion, &sh.ChallengerVersion,
				&sh.PolicyHash, &sh.Eligible, &sh.Score, &sh.Grade, money{&sh.Limit}, money{&sh.Rate},
				&sh.Bins, &sh.KnockOuts, ts{&sh.Time})
	})
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, "SHADOW_NOT_FOUND", "decision %s has no shadow under version %d", id, version)
	}
	if err != nil {
		return nil, internal(err, "reading a shadow decision")
	}
	return sh, nil
}

// ChallengerVersion is the version number of the product's current
// challenger, 0 when it has none: one statement on the index of open
// designations, what every assessment reads (app.Challengers).
func (s *Store) ChallengerVersion(ctx context.Context, bank, product string) (int, error) {
	var n int
	err := s.conn.ReadOne(ctx, func(q Querier) error {
		return q.QueryRow(ctx, `SELECT version FROM policy_challengers
			WHERE bank = $1 AND product = $2 AND stop_time IS NULL`, bank, product).Scan(&n)
	})
	if errors.Is(err, ErrNoRows) {
		return 0, nil
	}
	return n, internal(err, "reading the challenger")
}

// ShadowPage is how many shadows one statement of ShadowPairs reads.
const ShadowPage = 1000

// ShadowPairs yields, in decision id order, the champion decisions of
// policy version champion of the product that have a shadow under
// challenger version challenger, each with the challenger's score, bins,
// eligibility and grade: what a back-test joins to compare the two
// versions on the same households. It reads keyset pages of ShadowPage,
// each in one statement, so no snapshot is held while the caller works;
// the first error ends the sequence.
func (s *Store) ShadowPairs(ctx context.Context, bank, product string, champion, challenger int) iter.Seq2[credit.ShadowPair, error] {
	return func(yield func(credit.ShadowPair, error) bool) {
		after := ""
		page := make([]credit.ShadowPair, 0, ShadowPage)
		for {
			page = page[:0]
			err := s.conn.ReadOne(ctx, func(q Querier) error {
				page = page[:0]
				rows, err := q.Query(ctx, `SELECT decision_id, score, bins, eligible, grade FROM shadow_decisions
					WHERE bank = $1 AND product = $2 AND challenger_version = $3 AND champion_version = $4
					AND decision_id > $5 ORDER BY decision_id LIMIT $6`,
					bank, product, challenger, champion, after, ShadowPage)
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
					var p credit.ShadowPair
					if err := rows.Scan(&p.DecisionID, &p.Score, &p.Bins, &p.Eligible, &p.Grade); err != nil {
						return err
					}
					page = append(page, p)
				}
				return rows.Err()
			})
			if err != nil {
				yield(credit.ShadowPair{}, internal(err, "reading shadow decisions"))
				return
			}
			for _, p := range page {
				if !yield(p, nil) {
					return
				}
			}
			if len(page) < ShadowPage {
				return
			}
			after = page[len(page)-1].DecisionID
		}
	}
}
