package sqlstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
)

// Record queues an audit record in the current write transaction: it
// commits, or rolls back, with the change it describes. The sequencer
// (Integrate) gives it its place in the log.
func (tx *Tx) Record(ctx context.Context, r audit.Record) error {
	if err := checkRecord(r); err != nil {
		return err
	}
	if tx.records != nil {
		*tx.records = append(*tx.records, r)
		return nil
	}
	return tx.insertRecords(ctx, []audit.Record{r})
}

// flushRecords inserts the records a write transaction queued, in order.
func (tx *Tx) flushRecords(ctx context.Context) error {
	rs := *tx.records
	*tx.records = nil
	return tx.queueRecords(ctx, rs)
}

// queueRecords appends rs to the audit queue, in order: where the engine
// takes arrays, several records go as one statement of arrays whatever
// their count, so that its text, and the statement prepared on each
// connection, is the same for every count (a write's page of a thousand
// records; the recorder's groups of reads, of any size from 2 to
// maxGroup); else up to 500 records a multi-row statement.
func (tx *Tx) queueRecords(ctx context.Context, rs []audit.Record) error {
	if tx.d.Arrays && len(rs) > 1 {
		return tx.insertRecordArrays(ctx, rs)
	}
	for len(rs) > 0 {
		n := min(len(rs), 500) // 7 parameters a row, far below either engine's limit
		if err := tx.insertRecords(ctx, rs[:n]); err != nil {
			return err
		}
		rs = rs[n:]
	}
	return nil
}

// checkRecord refuses a record that would put personal data or junk into
// a leaf: that is a bug in the write path, so the whole transaction fails
// rather than log it.
func checkRecord(r audit.Record) error {
	if err := r.Validate(); err != nil {
		return fault.Wrap(err, fault.Internal, "AUDIT_RECORD_INVALID", "refusing an invalid audit record")
	}
	return nil
}

// auditQueueColumns are the audit_queue columns recordText fills, in order.
const auditQueueColumns = `time, actor, action, subject, request_hash, result_hash, payload`

// recordText is r as audit_queue stores it, in auditQueueColumns order.
func recordText(r audit.Record) [7]string {
	return [...]string{tsArg(r.Time), r.Actor, r.Action, r.Subject, r.RequestHash, r.ResultHash,
		string(audit.PayloadJSON(r.Payload))}
}

// insertRecords appends rs to the audit queue in one statement; queue ids
// follow the order of rs.
func (tx *Tx) insertRecords(ctx context.Context, rs []audit.Record) error {
	var sb strings.Builder
	args := make([]any, 0, 7*len(rs))
	for i, r := range rs {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("(" + tx.d.params(len(args)+1, 7) + ")")
		for _, v := range recordText(r) {
			args = append(args, v)
		}
	}
	return tx.send(ctx, false, func(err error) error { return internal(err, "queueing audit records") },
		`INSERT INTO audit_queue (`+auditQueueColumns+`) VALUES `+sb.String(), args...)
}

// insertRecordArrays is insertRecords in one statement of one array per
// column (issue 19: a re-assessment's page of a thousand records went as
// two 500-row statements of 3,500 parameters). The ordinality keeps queue
// ids in the order of rs.
func (tx *Tx) insertRecordArrays(ctx context.Context, rs []audit.Record) error {
	var cols [7][]string
	for i := range cols {
		cols[i] = make([]string, len(rs))
	}
	for i, r := range rs {
		for j, v := range recordText(r) {
			cols[j][i] = v
		}
	}
	return tx.send(ctx, false, func(err error) error { return internal(err, "queueing audit records") },
		`INSERT INTO audit_queue (`+auditQueueColumns+`)
		SELECT time::timestamptz, actor, action, subject, request_hash, result_hash, payload
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
			WITH ORDINALITY AS r(`+auditQueueColumns+`, n)
		ORDER BY n`, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6])
}

// TreeHead is the state of the log.
type TreeHead struct {
	Size uint64
	Root []byte
}

// Integrate moves up to max queued records into the log in queue order,
// extending the Merkle tree and storing every newly completed subtree. It
// runs in one transaction: sequence numbers never have gaps. Concurrent
// integrators serialise on the head row.
func (s *Store) Integrate(ctx context.Context, max int) (TreeHead, int, error) {
	var head TreeHead
	var n int
	err := s.conn.SequenceTx(ctx, func(q Querier) error {
		tx := &Tx{q: q, d: &s.dialect}
		var size int64
		var root, border []byte
		if err := q.QueryRow(ctx, `SELECT size, root, border FROM audit_head WHERE id = 1`+s.dialect.ForUpdate).
			Scan(&size, &root, &border); err != nil {
			return internal(err, "reading the tree head")
		}
		head = TreeHead{Size: uint64(size), Root: root}
		queued, err := tx.queued(ctx, max)
		if err != nil || len(queued) == 0 {
			n = 0
			return err
		}
		app, err := audit.NewAppender(uint64(size), splitHashes(border))
		if err != nil {
			return fault.Wrap(err, fault.Internal, "AUDIT_HEAD", "stored tree head is inconsistent")
		}
		var nodes []nodeRow
		visit := func(level uint, index uint64, hash []byte) {
			nodes = append(nodes, nodeRow{level, index, hash})
		}
		leaves := make([]leafRow, 0, len(queued))
		ids := make([]any, 0, len(queued))
		for i, r := range queued {
			e := audit.Entry{Seq: uint64(size) + uint64(i), Record: r.rec}
			data := e.Canonical()
			lh := audit.LeafHash(data)
			if err := app.Append(lh, visit); err != nil {
				return fault.Wrap(err, fault.Internal, "AUDIT_APPEND", "cannot extend the tree")
			}
			leaves = append(leaves, leafRow{e: e, data: data, hash: lh})
			ids = append(ids, r.id)
		}
		if err := tx.insertLeaves(ctx, leaves); err != nil {
			return err
		}
		if err := tx.insertNodes(ctx, nodes); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `DELETE FROM audit_queue WHERE id IN (`+tx.d.params(1, len(ids))+`)`, ids...); err != nil {
			return internal(err, "dequeuing audit records")
		}
		newRoot, err := app.Root()
		if err != nil {
			return fault.Wrap(err, fault.Internal, "AUDIT_ROOT", "cannot compute the root")
		}
		if _, err := q.Exec(ctx, `UPDATE audit_head SET size = $1, root = $2, border = $3 WHERE id = 1`,
			int64(app.Size()), newRoot, bytes.Join(app.Border(), nil)); err != nil {
			return internal(err, "updating the tree head")
		}
		head = TreeHead{Size: app.Size(), Root: newRoot}
		n = len(leaves)
		return nil
	})
	return head, n, err
}

type queuedRecord struct {
	id  int64
	rec audit.Record
}

type leafRow struct {
	e    audit.Entry
	data []byte
	hash []byte
}

type nodeRow struct {
	level uint
	index uint64
	hash  []byte
}

func (tx *Tx) queued(ctx context.Context, max int) ([]queuedRecord, error) {
	rows, err := tx.q.Query(ctx, `SELECT id, time, actor, action, subject, request_hash, result_hash, payload
		FROM audit_queue ORDER BY id LIMIT $1`, max)
	if err != nil {
		return nil, internal(err, "reading the audit queue")
	}
	defer rows.Close()
	var out []queuedRecord
	for rows.Next() {
		var q queuedRecord
		var payload string
		if err := rows.Scan(&q.id, ts{&q.rec.Time}, &q.rec.Actor, &q.rec.Action, &q.rec.Subject,
			&q.rec.RequestHash, &q.rec.ResultHash, &payload); err != nil {
			return nil, internal(err, "reading the audit queue")
		}
		if err := json.Unmarshal([]byte(payload), &q.rec.Payload); err != nil {
			return nil, internal(err, "decoding an audit payload")
		}
		out = append(out, q)
	}
	return out, internal(rows.Err(), "reading the audit queue")
}

// batchRows bounds rows per INSERT: far below both engines' parameter
// limits, large enough to amortise round trips.
const batchRows = 200

// insertLeaves stores the new leaves: by COPY where the engine has it.
// There a leaf's data (hundreds of bytes) is encoded once into a reused
// buffer; in a 200-row INSERT, the sequencer's largest cost in a profile
// of sanzhid under load, it was copied again each time the statement's
// parameter buffers grew (BENCHMARKS.md, issue 19).
func (tx *Tx) insertLeaves(ctx context.Context, leaves []leafRow) error {
	if c, ok := tx.q.(Copier); ok {
		_, err := c.CopyFrom(ctx, "audit_leaves", []string{"seq", "time", "actor", "action", "subject", "data", "leaf_hash"},
			len(leaves), func(i int) []any {
				l := &leaves[i]
				// The instant as tsArg gives it: UTC, to the microsecond.
				return []any{int64(l.e.Seq), l.e.Time.UTC().Truncate(time.Microsecond), l.e.Actor, l.e.Action, l.e.Subject, l.data, l.hash}
			})
		return internal(err, "appending audit leaves")
	}
	for start := 0; start < len(leaves); start += batchRows {
		chunk := leaves[start:min(start+batchRows, len(leaves))]
		args := make([]any, 0, len(chunk)*7)
		var sb strings.Builder
		for i, l := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(" + tx.d.params(i*7+1, 7) + ")")
			args = append(args, int64(l.e.Seq), tsArg(l.e.Time), l.e.Actor, l.e.Action, l.e.Subject, l.data, l.hash)
		}
		if _, err := tx.q.Exec(ctx, `INSERT INTO audit_leaves (seq, time, actor, action, subject, data, leaf_hash) VALUES `+sb.String(), args...); err != nil {
			return internal(err, "appending audit leaves")
		}
	}
	return nil
}

func (tx *Tx) insertNodes(ctx context.Context, nodes []nodeRow) error {
	if c, ok := tx.q.(Copier); ok {
		_, err := c.CopyFrom(ctx, "audit_nodes", []string{"level", "idx", "hash"}, len(nodes), func(i int) []any {
			return []any{int32(nodes[i].level), int64(nodes[i].index), nodes[i].hash}
		})
		return internal(err, "storing subtree hashes")
	}
	for start := 0; start < len(nodes); start += batchRows {
		chunk := nodes[start:min(start+batchRows, len(nodes))]
		args := make([]any, 0, len(chunk)*3)
		var sb strings.Builder
		for i, n := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(" + tx.d.params(i*3+1, 3) + ")")
			args = append(args, int(n.level), int64(n.index), n.hash)
		}
		if _, err := tx.q.Exec(ctx, `INSERT INTO audit_nodes (level, idx, hash) VALUES `+sb.String(), args...); err != nil {
			return internal(err, "storing subtree hashes")
		}
	}
	return nil
}

// placeholders returns "$from, $from+1, …" (n of them). Every write
// builds its statements' lists with it, so it appends digits rather than
// formatting: fmt took 5 % of sanzhid's CPU in a submission (issue 19).
func placeholders(from, n int) string {
	b := make([]byte, 0, n*6)
	for i := range n {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(from+i), 10)
	}
	return string(b)
}

func splitHashes(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 32 {
		out = append(out, b[:32:32])
		b = b[32:]
	}
	return out
}

// Head returns the current tree size and root.
func (s *Store) Head(ctx context.Context) (TreeHead, error) {
	var h TreeHead
	err := s.read(ctx, func(tx *Tx) error {
		var size int64
		if err := tx.q.QueryRow(ctx, `SELECT size, root FROM audit_head WHERE id = 1`).Scan(&size, &h.Root); err != nil {
			return internal(err, "reading the tree head")
		}
		h.Size = uint64(size)
		return nil
	})
	return h, err
}

// QueueLength returns how many records wait to be sequenced.
func (s *Store) QueueLength(ctx context.Context) (int64, error) {
	var n int64
	err := s.read(ctx, func(tx *Tx) error {
		return internal(tx.q.QueryRow(ctx, `SELECT COUNT(*) FROM audit_queue`).Scan(&n), "counting the audit queue")
	})
	return n, err
}

// StoredCheckpoint is a signed checkpoint as stored.
type StoredCheckpoint struct {
	Size uint64
	Root []byte
	Note string
	Time time.Time
}

// SaveCheckpoint stores a signed checkpoint; saving the same size twice is
// a no-op (the first signature stands).
func (s *Store) SaveCheckpoint(ctx context.Context, c StoredCheckpoint) error {
	return s.write(ctx, func(tx *Tx) error {
		var exists int
		err := tx.q.QueryRow(ctx, `SELECT 1 FROM audit_checkpoints WHERE size = $1`, int64(c.Size)).Scan(&exists)
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrNoRows) {
			return internal(err, "reading checkpoints")
		}
		_, err = tx.q.Exec(ctx, `INSERT INTO audit_checkpoints (size, root, note, time) VALUES ($1, $2, $3, $4)`,
			int64(c.Size), c.Root, c.Note, tsArg(c.Time))
		return internal(err, "storing a checkpoint")
	})
}

// Checkpoint returns the stored checkpoint of a tree size, or the latest
// when size is 0. NotFound when there is none.
func (s *Store) Checkpoint(ctx context.Context, size uint64) (StoredCheckpoint, error) {
	var c StoredCheckpoint
	err := s.read(ctx, func(tx *Tx) error {
		q := `SELECT size, root, note, time FROM audit_checkpoints WHERE size = $1`
		arg := any(int64(size))
		if size == 0 {
			q = `SELECT size, root, note, time FROM audit_checkpoints WHERE size >= $1 ORDER BY size DESC LIMIT 1`
		}
		var sz int64
		err := tx.q.QueryRow(ctx, q, arg).Scan(&sz, &c.Root, &c.Note, ts{&c.Time})
		if errors.Is(err, ErrNoRows) {
			if size == 0 {
				return fault.New(fault.NotFound, "CHECKPOINT_NOT_FOUND", "no checkpoint has been published yet")
			}
			return fault.New(fault.NotFound, "CHECKPOINT_NOT_FOUND", "no checkpoint was published at tree size %d", size)
		}
		c.Size = uint64(sz)
		return internal(err, "reading a checkpoint")
	})
	return c, err
}

// Leaf is one stored leaf.
type Leaf struct {
	Seq      uint64
	Data     []byte
	LeafHash []byte
	// Cols are the row's plain columns, filled by ScanLeaves and
	// ListEntries; unsigned, see Columns.
	Cols Columns
}

// Leaf returns leaf seq. NotFound past the end.
func (s *Store) Leaf(ctx context.Context, seq uint64) (Leaf, error) {
	var l Leaf
	err := s.read(ctx, func(tx *Tx) error {
		var sq int64
		err := tx.q.QueryRow(ctx, `SELECT seq, data, leaf_hash FROM audit_leaves WHERE seq = $1`, int64(seq)).
			Scan(&sq, &l.Data, &l.LeafHash)
		if errors.Is(err, ErrNoRows) {
			return fault.New(fault.NotFound, "ENTRY_NOT_FOUND", "audit entry %d not found", seq)
		}
		l.Seq = uint64(sq)
		return internal(err, "reading a leaf")
	})
	return l, err
}

// ScanLeaves calls fn for every stored leaf with from <= seq < to, in
// stored order, streaming (memory stays flat). It reports rows as stored,
// gaps and all, so verification can see tampering.
func (s *Store) ScanLeaves(ctx context.Context, from, to uint64, fn func(Leaf) error) error {
	return s.read(ctx, func(tx *Tx) error {
		rows, err := tx.q.Query(ctx, `SELECT seq, data, leaf_hash, time, actor, action, subject FROM audit_leaves
			WHERE seq >= $1 AND seq < $2 ORDER BY seq`, int64(from), int64(to))
		if err != nil {
			return internal(err, "scanning leaves")
		}
		defer rows.Close()
		for rows.Next() {
			var l Leaf
			var sq int64
			if err := rows.Scan(&sq, &l.Data, &l.LeafHash, ts{&l.Cols.Time}, &l.Cols.Actor, &l.Cols.Action, &l.Cols.Subject); err != nil {
				return internal(err, "scanning leaves")
			}
			l.Seq = uint64(sq)
			if err := fn(l); err != nil {
				return err
			}
		}
		return internal(rows.Err(), "scanning leaves")
	})
}

// NodeID names a perfect subtree: level 0 is a leaf.
type NodeID struct {
	Level uint
	Index uint64
}

// Nodes returns the hashes of ids in order: level 0 from the leaves, higher
// levels from the stored subtree hashes. One statement (ReadOne: on
// PostgreSQL no BEGIN and COMMIT either), whatever the proof's length, so
// a proof costs one round trip and a cold cache a few page reads. A
// missing node is an Internal fault (the tree is damaged).
func (s *Store) Nodes(ctx context.Context, ids []NodeID) ([][]byte, error) {
	out := make([][]byte, len(ids))
	var args []any
	var leafPH, nodeConds []string
	for _, id := range ids {
		if id.Level == 0 {
			args = append(args, int64(id.Index))
			leafPH = append(leafPH, fmt.Sprintf("$%d", len(args)))
		} else {
			args = append(args, int(id.Level), int64(id.Index))
			nodeConds = append(nodeConds, fmt.Sprintf("(level = $%d AND idx = $%d)", len(args)-1, len(args)))
		}
	}
	var parts []string
	if len(leafPH) > 0 {
		parts = append(parts, `SELECT 0, seq, leaf_hash FROM audit_leaves WHERE seq IN (`+strings.Join(leafPH, ", ")+`)`)
	}
	if len(nodeConds) > 0 {
		parts = append(parts, `SELECT level, idx, hash FROM audit_nodes WHERE `+strings.Join(nodeConds, " OR "))
	}
	if len(parts) == 0 {
		return out, nil
	}
	found := map[NodeID][]byte{}
	err := s.conn.ReadOne(ctx, func(q Querier) error {
		clear(found) // a retried statement starts again
		rows, err := q.Query(ctx, strings.Join(parts, " UNION ALL "), args...)
		if err != nil {
			return internal(err, "reading subtree hashes")
		}
		defer rows.Close()
		for rows.Next() {
			var level int
			var idx int64
			var h []byte
			if err := rows.Scan(&level, &idx, &h); err != nil {
				return internal(err, "reading subtree hashes")
			}
			found[NodeID{Level: uint(level), Index: uint64(idx)}] = h
		}
		return internal(rows.Err(), "reading subtree hashes")
	})
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		h, ok := found[id]
		if !ok {
			return nil, fault.New(fault.Internal, "AUDIT_NODE_MISSING", "subtree hash (%d, %d) is missing", id.Level, id.Index)
		}
		out[i] = h
	}
	return out, nil
}

// ScanNodes calls fn for the stored subtree hashes of level with
// lo <= index <= hi, in index order.
func (s *Store) ScanNodes(ctx context.Context, level uint, lo, hi uint64, fn func(index uint64, hash []byte) error) error {
	return s.read(ctx, func(tx *Tx) error {
		rows, err := tx.q.Query(ctx, `SELECT idx, hash FROM audit_nodes WHERE level = $1 AND idx >= $2 AND idx <= $3 ORDER BY idx`,
			int(level), int64(lo), int64(hi))
		if err != nil {
			return internal(err, "scanning subtree hashes")
		}
		defer rows.Close()
		for rows.Next() {
			var idx int64
			var h []byte
			if err := rows.Scan(&idx, &h); err != nil {
				return internal(err, "scanning subtree hashes")
			}
			if err := fn(uint64(idx), h); err != nil {
				return err
			}
		}
		return internal(rows.Err(), "scanning subtree hashes")
	})
}

// EntryQuery filters ListEntries. Empty fields match everything.
type EntryQuery struct {
	Actor, Action string
	Subject       string // exact
	SubjectPrefix string // e.g. "villages/330483102215/" for a village's entries
	Since, Until  time.Time
	AfterSeq      int64 // keyset cursor: entries with seq > AfterSeq (-1 = from the start)
	Limit         int
	// Scope is the caller's coarse visibility filter (audit.ScopeFor),
	// applied in the query; nil for none.
	Scope *audit.Scope
}

// likeEscape escapes LIKE's wildcards for ESCAPE '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ListEntries returns leaves matching q in seq order.
func (s *Store) ListEntries(ctx context.Context, q EntryQuery) ([]Leaf, error) {
	where := []string{"seq > $1"}
	args := []any{q.AfterSeq}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if sc := q.Scope; sc != nil && !sc.All {
		// The coarse visibility filter: any of its conditions.
		var anyOf []string
		or := func(cond string, v any) {
			args = append(args, v)
			anyOf = append(anyOf, fmt.Sprintf(cond, len(args)))
		}
		if sc.Actor != "" {
			or("actor = $%d", sc.Actor)
		}
		for _, c := range sc.Any {
			var all []string
			and := func(cond string, v any) {
				args = append(args, v)
				all = append(all, fmt.Sprintf(cond, len(args)))
			}
			if c.SubjectPrefix != "" {
				and(`subject LIKE $%d ESCAPE '\'`, likeEscape(c.SubjectPrefix)+"%")
			}
			if c.SubjectContains != "" {
				and(`subject LIKE $%d ESCAPE '\'`, "%"+likeEscape(c.SubjectContains)+"%")
			}
			if c.ActionPrefix != "" {
				and(`action LIKE $%d ESCAPE '\'`, likeEscape(c.ActionPrefix)+"%")
			}
			if len(all) == 0 {
				anyOf = append(anyOf, "TRUE")
				continue
			}
			anyOf = append(anyOf, "("+strings.Join(all, " AND ")+")")
		}
		if len(anyOf) == 0 {
			return nil, nil // sees nothing
		}
		where = append(where, "("+strings.Join(anyOf, " OR ")+")")
	}
	if q.Actor != "" {
		add("actor = $%d", q.Actor)
	}
	if q.Action != "" {
		add("action = $%d", q.Action)
	}
	if q.Subject != "" {
		add("subject = $%d", q.Subject)
	}
	if q.SubjectPrefix != "" {
		// LIKE rather than a range: PostgreSQL's collation need not order
		// bytes the way SQLite does.
		add(`subject LIKE $%d ESCAPE '\'`, likeEscape(q.SubjectPrefix)+"%")
	}
	if !q.Since.IsZero() {
		add("time >= $%d", tsArg(q.Since))
	}
	if !q.Until.IsZero() {
		add("time < $%d", tsArg(q.Until))
	}
	query := fmt.Sprintf(`SELECT seq, data, leaf_hash, time, actor, action, subject FROM audit_leaves
		WHERE %s ORDER BY seq LIMIT $%d`, strings.Join(where, " AND "), len(args)+1)
	// The WHERE clause reads unsigned columns: each row is checked against
	// its signed data (trustRow) and a row that disagrees is left out. A
	// page short of Limit means the end of the log to callers, so rows left
	// out are made up by reading on past them.
	var out []Leaf
	for {
		want := q.Limit - len(out)
		var got, dropped int
		err := s.read(ctx, func(tx *Tx) error {
			rows, err := tx.q.Query(ctx, query, append(args, want)...)
			if err != nil {
				return internal(err, "listing audit entries")
			}
			defer rows.Close()
			for rows.Next() {
				var l Leaf
				var sq int64
				if err := rows.Scan(&sq, &l.Data, &l.LeafHash, ts{&l.Cols.Time}, &l.Cols.Actor, &l.Cols.Action, &l.Cols.Subject); err != nil {
					return internal(err, "listing audit entries")
				}
				l.Seq = uint64(sq)
				got++
				args[0] = sq // the keyset cursor, for reading on
				if !s.trustRow(ctx, l) {
					dropped++
					continue
				}
				out = append(out, l)
			}
			return internal(rows.Err(), "listing audit entries")
		})
		if err != nil {
			return nil, err
		}
		if dropped == 0 || got < want {
			return out, nil
		}
	}
}

// ScanCheckpoints calls fn for every stored checkpoint in size order.
func (s *Store) ScanCheckpoints(ctx context.Context, fn func(StoredCheckpoint) error) error {
	return s.read(ctx, func(tx *Tx) error {
		rows, err := tx.q.Query(ctx, `SELECT size, root, note, time FROM audit_checkpoints ORDER BY size`)
		if err != nil {
			return internal(err, "scanning checkpoints")
		}
		defer rows.Close()
		for rows.Next() {
			var c StoredCheckpoint
			var sz int64
			if err := rows.Scan(&sz, &c.Root, &c.Note, ts{&c.Time}); err != nil {
				return internal(err, "scanning checkpoints")
			}
			c.Size = uint64(sz)
			if err := fn(c); err != nil {
				return err
			}
		}
		return internal(rows.Err(), "scanning checkpoints")
	})
}

// HeadState returns the stored tree head with its border hashes (the
// compact range of [0, size)), for verification.
func (s *Store) HeadState(ctx context.Context) (TreeHead, [][]byte, error) {
	var h TreeHead
	var border []byte
	err := s.read(ctx, func(tx *Tx) error {
		var size int64
		if err := tx.q.QueryRow(ctx, `SELECT size, root, border FROM audit_head WHERE id = 1`).Scan(&size, &h.Root, &border); err != nil {
			return internal(err, "reading the tree head")
		}
		h.Size = uint64(size)
		return nil
	})
	return h, splitHashes(border), err
}
