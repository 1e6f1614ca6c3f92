package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/rekey"
	"github.com/sanzhi/sanzhi/fault"
)

// sealedColumns is where a rekey.Field is stored.
type sealedColumns struct {
	table, key, cipher string
	// ref is the row's primary key, the columns of rekey.Ref in order
	// (ID, then Version and Member where there are three).
	ref []string
}

var sealedFields = map[rekey.Field]sealedColumns{
	rekey.HouseholdHead:   {"households", "head_id_key", "head_id_cipher", []string{"id"}},
	rekey.Member:          {"household_members", "id_key", "id_cipher", []string{"household_id", "version", "member_no"}},
	rekey.WebhookSecret:   {"webhook_endpoints", "secret_key_id", "secret_cipher", []string{"bank"}},
	rekey.WebhookPrevious: {"webhook_endpoints", "previous_key_id", "previous_cipher", []string{"bank"}},
}

func columnsOf(f rekey.Field) (sealedColumns, error) {
	c, ok := sealedFields[f]
	if !ok {
		return c, fault.New(fault.Invalid, "UNKNOWN_SEALED_FIELD", "%q is not a sealed field", string(f))
	}
	return c, nil
}

// refArgs are r's values for c.ref.
func (c sealedColumns) refArgs(r rekey.Ref) []any {
	return []any{r.ID, r.Version, r.Member}[:len(c.ref)]
}

// refDest are scan destinations for c.ref into r.
func (c sealedColumns) refDest(r *rekey.Ref) []any {
	return []any{&r.ID, &r.Version, &r.Member}[:len(c.ref)]
}

// SealedCounts implements rekey.Store. A key id of "" is no value (a
// webhook without a previous secret). The key-id indexes (migration
// 00017 on SQLite, 00016 on PostgreSQL) make these index-only counts.
func (s *Store) SealedCounts(ctx context.Context) ([]rekey.Count, error) {
	var out []rekey.Count
	err := s.conn.ReadTx(ctx, func(q Querier) error {
		out = out[:0]
		for _, f := range rekey.Fields {
			c := sealedFields[f]
			rows, err := q.Query(ctx, fmt.Sprintf(`SELECT %[2]s, COUNT(*) FROM %[1]s WHERE %[2]s <> ''
				GROUP BY %[2]s ORDER BY %[2]s`, c.table, c.key))
			if err != nil {
				return internal(err, "counting sealed values")
			}
			for rows.Next() {
				n := rekey.Count{Field: f}
				if err := rows.Scan(&n.KeyID, &n.Values); err != nil {
					rows.Close()
					return internal(err, "counting sealed values")
				}
				out = append(out, n)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return internal(err, "counting sealed values")
			}
		}
		return nil
	})
	return out, err
}

// SealedKeyIDs implements rekey.KeyLister. Each table is read by a loose
// index scan: the smallest key id, then the smallest one greater than
// that, and so on, one index probe per key id in use rather than a read
// of every row (sanzhid calls it at every start).
func (s *Store) SealedKeyIDs(ctx context.Context) ([]string, error) {
	var out []string
	err := s.conn.ReadTx(ctx, func(q Querier) error {
		out = out[:0]
		for _, f := range rekey.Fields {
			c := sealedFields[f]
			next := fmt.Sprintf(`SELECT %[2]s FROM %[1]s WHERE %[2]s > %%s ORDER BY %[2]s LIMIT 1`, c.table, c.key)
			rows, err := q.Query(ctx, `WITH RECURSIVE k (id) AS (
				SELECT (`+fmt.Sprintf(next, "''")+`)
				UNION ALL
				SELECT (`+fmt.Sprintf(next, "k.id")+`) FROM k WHERE k.id IS NOT NULL
			) SELECT id FROM k WHERE id IS NOT NULL`)
			if err != nil {
				return internal(err, "listing the data keys in use")
			}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return internal(err, "listing the data keys in use")
				}
				out = append(out, id)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return internal(err, "listing the data keys in use")
			}
		}
		return nil
	})
	slices.Sort(out)
	return slices.Compact(out), err
}

// SealedBatch implements rekey.Store: a keyset page in primary-key order,
// which the key-id indexes serve as one range.
func (s *Store) SealedBatch(ctx context.Context, f rekey.Field, keyID string, after rekey.Ref, limit int) ([]rekey.Value, error) {
	c, err := columnsOf(f)
	if err != nil {
		return nil, err
	}
	if keyID == "" || limit < 1 {
		return nil, fault.New(fault.Invalid, "INVALID_BATCH", "a batch needs a key id and a limit of at least 1")
	}
	cols := strings.Join(c.ref, ", ")
	n := len(c.ref)
	query := fmt.Sprintf(`SELECT %[1]s, %[2]s FROM %[3]s WHERE %[4]s = $1 AND (%[1]s) > (%[5]s)
		ORDER BY %[1]s LIMIT $%[6]d`, cols, c.cipher, c.table, c.key, placeholders(2, n), n+2)
	args := append(append([]any{keyID}, c.refArgs(after)...), limit)
	var out []rekey.Value
	err = s.conn.ReadOne(ctx, func(q Querier) error {
		out = out[:0]
		rows, err := q.Query(ctx, query, args...)
		if err != nil {
			return internal(err, "reading sealed values")
		}
		defer rows.Close()
		for rows.Next() {
			v := rekey.Value{Sealed: pii.Sealed{KeyID: keyID}}
			if err := rows.Scan(append(c.refDest(&v.Ref), &v.Sealed.Ciphertext)...); err != nil {
				return internal(err, "reading sealed values")
			}
			out = append(out, v)
		}
		return internal(rows.Err(), "reading sealed values")
	})
	return out, err
}

// Reseal implements rekey.Store. A row is changed only where it still
// holds the old key id and ciphertext: a row the service changed since the
// batch was read no longer matches and is left as the service wrote it.
//
// On SQLite, in process, that is one UPDATE a row by its primary key. On
// PostgreSQL, across a network, a round trip per value would be most of
// a run's time, so a chunk of rows is one UPDATE ... FROM (VALUES ...):
// 1.5 to 2 times the values per second of a statement per row even on
// loopback, more where the database is farther. A single portable
// statement (a CASE per row, an OR of the rows' keys) made both engines
// scan every row under the old key once per chunk: ten times slower.
func (s *Store) Reseal(ctx context.Context, f rekey.Field, changes []rekey.Change) (int, error) {
	c, err := columnsOf(f)
	if err != nil {
		return 0, err
	}
	if len(changes) == 0 {
		return 0, nil
	}
	from, to := changes[0].Old.KeyID, changes[0].New.KeyID
	for _, ch := range changes {
		if ch.New.KeyID == "" || len(ch.New.Ciphertext) == 0 || ch.Old.KeyID == "" {
			return 0, fault.New(fault.Invalid, "INVALID_RESEAL", "a re-encryption of %s %s needs the old and the new key id and the new ciphertext", string(f), ch.Ref.ID)
		}
		if ch.Old.KeyID != from || ch.New.KeyID != to {
			return 0, fault.New(fault.Invalid, "INVALID_RESEAL", "one re-encryption goes from one key to one key, not from %s and %s to %s and %s",
				from, ch.Old.KeyID, to, ch.New.KeyID)
		}
	}
	var applied int
	err = s.write(ctx, func(tx *Tx) error {
		applied = 0 // the transaction may be retried
		if tx.d.Name == "sqlite" {
			query := c.resealRow()
			for _, ch := range changes {
				args := append(append([]any{to, ch.New.Ciphertext}, c.refArgs(ch.Ref)...), from, ch.Old.Ciphertext)
				n, err := tx.q.Exec(ctx, query, args...)
				if err != nil {
					return internal(err, "writing re-encrypted values")
				}
				applied += int(n)
			}
			return nil
		}
		per := tx.bulkRows(len(c.ref) + 2)
		for rest := changes; len(rest) > 0; {
			chunk := rest[:min(len(rest), per)]
			rest = rest[len(chunk):]
			query, args := c.resealChunk(from, to, chunk)
			n, err := tx.q.Exec(ctx, query, args...)
			if err != nil {
				return internal(err, "writing re-encrypted values")
			}
			applied += int(n)
		}
		return nil
	})
	return applied, err
}

// resealRow updates one row: $1 and $2 the new key id and ciphertext,
// then the row's key, then the old key id and ciphertext.
func (c sealedColumns) resealRow() string {
	n := len(c.ref)
	where := make([]string, n)
	for i, col := range c.ref {
		where[i] = fmt.Sprintf("%s = $%d", col, i+3)
	}
	return fmt.Sprintf(`UPDATE %[1]s SET %[2]s = $1, %[3]s = $2 WHERE %[4]s AND %[2]s = $%[5]d AND %[3]s = $%[6]d`,
		c.table, c.key, c.cipher, strings.Join(where, " AND "), n+3, n+4)
}

// refTypes are the PostgreSQL types of Ref's columns, which VALUES cannot
// infer from parameters.
var refTypes = []string{"text", "bigint", "integer"}

// resealChunk updates chunk's rows in one statement (PostgreSQL).
func (c sealedColumns) resealChunk(from, to string, chunk []rekey.Change) (string, []any) {
	args := []any{to, from}
	var values strings.Builder
	for i, ch := range chunk {
		if i > 0 {
			values.WriteString(", ")
		}
		values.WriteString("(")
		for j, a := range c.refArgs(ch.Ref) {
			args = append(args, a)
			fmt.Fprintf(&values, "CAST($%d AS %s), ", len(args), refTypes[j])
		}
		args = append(args, ch.New.Ciphertext, ch.Old.Ciphertext)
		fmt.Fprintf(&values, "CAST($%d AS bytea), CAST($%d AS bytea))", len(args)-1, len(args))
	}
	match := make([]string, len(c.ref))
	for i, col := range c.ref {
		match[i] = fmt.Sprintf("t.%[1]s = v.%[1]s", col)
	}
	return fmt.Sprintf(`UPDATE %[1]s t SET %[2]s = $1, %[3]s = v.new_cipher
		FROM (VALUES %[4]s) AS v (%[5]s, new_cipher, old_cipher)
		WHERE %[6]s AND t.%[2]s = $2 AND t.%[3]s = v.old_cipher`,
		c.table, c.key, c.cipher, values.String(), strings.Join(c.ref, ", "), strings.Join(match, " AND ")), args
}
