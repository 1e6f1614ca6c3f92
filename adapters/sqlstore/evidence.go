package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/dectext"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// evidenceCols are the columns of the evidence table; scanEvidence reads
// them and InsertEvidence writes them in this order.
var evidenceCols = []string{"id", "village_code", "household_id", "kind", "item_code", "quantity", "catalogue_hash",
	"level", "stars", "valid_until", "period", "creditworthy", "proposed_amount", "occurred_on", "note",
	"attachments", "witness", "system_source", "state", "submitted_by", "submit_time", "request_id",
	"request_hash", "reviewed_by", "review_time", "review_reason", "notice_start", "notice_end",
	"objected_by", "object_time", "object_reason", "resolved_by", "resolve_time", "resolve_reason",
	"upheld", "revoked_by", "revoke_time", "revoke_reason", "version"}

var evidenceColumns = columns("", evidenceCols)

// attachmentJSON is the stored form of an evidence.Attachment.
type attachmentJSON struct {
	Kind   string `json:"kind"`
	SHA256 string `json:"sha256"`
}

func encodeAttachments(as []evidence.Attachment) (string, error) {
	out := make([]attachmentJSON, len(as))
	for i, a := range as {
		out[i] = attachmentJSON(a)
	}
	b, err := json.Marshal(out)
	return string(b), err
}

func decodeAttachments(s string) ([]evidence.Attachment, error) {
	var in []attachmentJSON
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("bad stored attachments: %w", err)
	}
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]evidence.Attachment, len(in))
	for i, a := range in {
		out[i] = evidence.Attachment(a)
	}
	return out, nil
}

func scanEvidence(r interface{ Scan(...any) error }) (*evidence.Evidence, error) {
	e := &evidence.Evidence{}
	var kind, level, state, attachments string
	err := r.Scan(&e.ID, &e.Village, &e.Household, &kind, &e.ItemCode, &e.Quantity, &e.CatalogueHash,
		&level, &e.Stars, optDate[household.Date]{&e.ValidUntil}, &e.Period, &e.Creditworthy,
		money{&e.ProposedAmount}, date[household.Date]{&e.OccurredOn}, &e.Note,
		&attachments, &e.Witness, &e.SystemSource, &state, &e.SubmittedBy, ts{&e.SubmitTime}, &e.RequestID,
		&e.RequestHash, &e.ReviewedBy, nullTS{&e.ReviewTime}, &e.ReviewReason,
		optDate[household.Date]{&e.NoticeStart}, optDate[household.Date]{&e.NoticeEnd},
		&e.ObjectedBy, nullTS{&e.ObjectTime}, &e.ObjectReason, &e.ResolvedBy, nullTS{&e.ResolveTime}, &e.ResolveReason,
		&e.Upheld, &e.RevokedBy, nullTS{&e.RevokeTime}, &e.RevokeReason, &e.Version)
	if err != nil {
		return nil, err
	}
	e.Kind, e.Level, e.State = evidence.Kind(kind), evidence.Level(level), evidence.State(state)
	e.Attachments, err = decodeAttachments(attachments)
	return e, err
}

// Evidence implements evidence.Reader.
func (tx *Tx) Evidence(ctx context.Context, village, householdID, id string) (*evidence.Evidence, error) {
	var (
		e   *evidence.Evidence
		err error
		pre prefetchedSheet
	)
	if tx.records != nil { // a write transaction: the sheet comes along
		e, err = scanEvidence(scanSheet{tx.q.QueryRow(ctx, evidenceWithSheetSQL, id, village, householdID, prefetchMax), &pre})
	} else {
		e, err = scanEvidence(tx.q.QueryRow(ctx, `SELECT `+evidenceColumns+` FROM evidence
		WHERE id = $1 AND village_code = $2 AND household_id = $3`, id, village, householdID))
	}
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, "EVIDENCE_NOT_FOUND",
			"evidence villages/%s/households/%s/evidence/%s not found", village, householdID, id)
	}
	if err != nil {
		return nil, internal(err, "reading evidence")
	}
	if tx.records != nil { // a write transaction
		if tx.read == nil {
			tx.read = map[evidenceKey]bool{}
		}
		tx.read[evidenceKey{village, householdID, id}] = true
		if pre.text.Valid || !pre.version.Valid {
			if tx.sheets == nil {
				tx.sheets = map[string]prefetchedSheet{}
			}
			tx.sheets[householdID] = pre
		}
	}
	return e, nil
}

// A write transaction that reads evidence (a review, an objection, a
// revocation) usually posts to the household's sheet next, and the sheet
// read was a round trip of its own: Evidence reads the sheet in the same
// statement, when it is at most prefetchMax bytes (octet_length does not
// decompress a TOASTed value, so a large sheet costs nothing here and is
// read by Sheet as before), and Sheet serves it once, unless
// AppendEntries wrote the sheet in between. Reading the sheet a statement
// earlier changes nothing a transaction may rely on: its append is checked
// against the version read either way (issue 19).
const prefetchMax = 32 << 10

var evidenceWithSheetSQL = `SELECT ` + columns("e.", evidenceCols) + `,
		p.village_code, p.version, CASE WHEN octet_length(p.entries) + octet_length(p.tail) <= $4 THEN ` + sheetText("p") + ` END
	FROM evidence e LEFT JOIN household_points p ON p.household_id = e.household_id
	WHERE e.id = $1 AND e.village_code = $2 AND e.household_id = $3`

// prefetchedSheet is a sheet as Evidence read it: no row (version not
// valid), or its text when it was small enough to come along.
type prefetchedSheet struct {
	village sql.NullString
	version sql.NullInt64
	text    sql.NullString
}

// scanSheet scans a row of evidenceWithSheetSQL: the evidence's columns
// into dest, then the sheet's.
type scanSheet struct {
	r   interface{ Scan(...any) error }
	pre *prefetchedSheet
}

func (s scanSheet) Scan(dest ...any) error {
	return s.r.Scan(append(dest, &s.pre.village, &s.pre.version, &s.pre.text)...)
}

// EvidenceByRequests implements evidence.Reader.
func (tx *Tx) EvidenceByRequests(ctx context.Context, village string, requestIDs []string) (map[string]*evidence.Evidence, error) {
	out := map[string]*evidence.Evidence{}
	for start := 0; start < len(requestIDs); start += batchRows {
		chunk := requestIDs[start:min(start+batchRows, len(requestIDs))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, village)
		for _, id := range chunk {
			args = append(args, id)
		}
		found, err := tx.evidenceList(ctx, "reading evidence by request", `SELECT `+evidenceColumns+` FROM evidence
			WHERE village_code = $1 AND request_id IN (`+placeholders(2, len(chunk))+`)`, args...)
		if err != nil {
			return nil, err
		}
		for _, e := range found {
			out[e.RequestID] = e
		}
	}
	return out, nil
}

// ListEvidence implements evidence.Reader.
func (tx *Tx) ListEvidence(ctx context.Context, q evidence.ListQuery) ([]*evidence.Evidence, error) {
	// Only the filters in use go into the query: each parameter then
	// appears once, in a context that gives PostgreSQL its type (a DATE
	// compared with an untyped text parameter would not), and the planner
	// sees the indexable shape.
	args := []any{q.Village}
	where := []string{"village_code = $1"}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if q.Household != "" {
		add("household_id = $%d", q.Household)
	}
	if q.Kind != "" {
		add("kind = $%d", string(q.Kind))
	}
	if q.ItemCode != "" {
		add("item_code = $%d", q.ItemCode)
	}
	if q.State != "" && q.OnNotice == "" {
		add("state = $%d", string(q.State))
	}
	if q.Before != "" {
		add("id < $%d", q.Before)
	}
	if q.OnNotice != "" {
		// On notice: posted and not yet ended, or disputed. As two legs,
		// each on an index of its own (evidence_board_idx, then
		// evidence_disputed_idx): one OR made both engines walk every
		// entry of the village in id order to find the few on notice.
		common := strings.Join(where, " AND ")
		args = append(args, string(q.OnNotice))
		posted := fmt.Sprintf("%s AND state = 'posted' AND notice_end > $%d", common, len(args))
		args = append(args, q.Limit)
		return tx.evidenceList(ctx, "listing evidence", `SELECT `+evidenceColumns+` FROM evidence WHERE `+posted+`
			UNION ALL SELECT `+evidenceColumns+` FROM evidence WHERE `+common+` AND state = 'disputed'
			`+fmt.Sprintf(`ORDER BY id DESC LIMIT $%d`, len(args)), args...)
	}
	args = append(args, q.Limit)
	return tx.evidenceList(ctx, "listing evidence", `SELECT `+evidenceColumns+` FROM evidence
		WHERE `+strings.Join(where, " AND ")+fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args)), args...)
}

func (tx *Tx) evidenceList(ctx context.Context, what, query string, args ...any) ([]*evidence.Evidence, error) {
	rows, err := tx.q.Query(ctx, query, args...)
	if err != nil {
		return nil, internal(err, what)
	}
	defer rows.Close()
	var out []*evidence.Evidence
	for rows.Next() {
		e, err := scanEvidence(rows)
		if err != nil {
			return nil, internal(err, what)
		}
		out = append(out, e)
	}
	return out, internal(rows.Err(), what)
}

// InsertEvidence implements evidence.Writer.
func (tx *Tx) InsertEvidence(ctx context.Context, e *evidence.Evidence) error {
	stored, err := tx.InsertEvidences(ctx, []*evidence.Evidence{e})
	if err != nil {
		return err
	}
	if !stored[e.ID] {
		return fault.New(fault.AlreadyExists, "EVIDENCE_EXISTS",
			"evidence with request id %q already exists in village %s", e.RequestID, e.Village)
	}
	return nil
}

// evidenceWidth is the number of columns InsertEvidences writes a row.
const evidenceWidth = 39

// InsertEvidences implements evidence.Writer: multi-row INSERTs of up to
// 50 rows.
func (tx *Tx) InsertEvidences(ctx context.Context, es []*evidence.Evidence) (map[string]bool, error) {
	stored := make(map[string]bool, len(es))
	for len(es) > 0 {
		n := min(len(es), 50)
		if err := tx.insertEvidences(ctx, es[:n], stored); err != nil {
			return nil, err
		}
		es = es[n:]
	}
	return stored, nil
}

// SendEvidence implements evidence.Writer: insertEvidences' statement for
// one row, sent as a keyed write (tx.send with one), its row selected
// from the household as given, so that the write itself checks what the
// caller did not read. A taken request id (ON CONFLICT) or a household
// not as given inserts nothing, which fails the statement, and so the
// transaction, where the engine defers it (PostgreSQL's pipe refuses to
// go on to COMMIT), and this call where it does not (SQLite).
func (tx *Tx) SendEvidence(ctx context.Context, e *evidence.Evidence, registered household.Date) error {
	es := []*evidence.Evidence{e}
	_, args, err := tx.evidenceRows(es)
	if err != nil {
		return err
	}
	n := len(args)
	args = append(args, e.Household, e.Village, string(registered))
	err = tx.send(ctx, true, func(err error) error {
		if errors.Is(err, ErrNotOne) {
			return fault.New(fault.FailedPrecondition, evidence.ReasonNotSent,
				"evidence %s not sent: request id %q is taken in village %s, or household %s is no longer registered on %s there",
				e.Name(), e.RequestID, e.Village, e.Household, registered)
		}
		return tx.insertEvidenceErr(err, es)
	}, `INSERT INTO evidence (`+evidenceColumns+`) SELECT `+tx.d.params(1, n)+`
		FROM households WHERE id = `+tx.d.params(n+1, 1)+` AND village_code = `+tx.d.params(n+2, 1)+
		` AND registered_on = `+tx.d.params(n+3, 1)+`
		ON CONFLICT (village_code, request_id) DO NOTHING`, args...)
	if err != nil {
		return err
	}
	e.Version = 1
	return nil
}

func (tx *Tx) insertEvidences(ctx context.Context, es []*evidence.Evidence, stored map[string]bool) error {
	values, args, err := tx.evidenceRows(es)
	if err != nil {
		return err
	}
	// ON CONFLICT DO NOTHING on the request id: a taken id skips its row
	// and leaves the transaction usable, so the caller can read the first
	// submission. (Under SERIALIZABLE, an id taken by a transaction this
	// one cannot see is a serialisation failure, which the store retries.)
	rows, err := tx.q.Query(ctx, `INSERT INTO evidence (`+evidenceColumns+`)
		VALUES `+values+`
		ON CONFLICT (village_code, request_id) DO NOTHING
		RETURNING id`, args...)
	if err != nil {
		return tx.insertEvidenceErr(err, es)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return internal(err, "inserting evidence")
		}
		stored[id] = true
	}
	if err := rows.Err(); err != nil {
		return tx.insertEvidenceErr(err, es)
	}
	for _, e := range es {
		if stored[e.ID] {
			e.Version = 1
		}
	}
	return nil
}

// evidenceRows are es as the VALUES of an INSERT into evidenceColumns,
// amounts checked.
func (tx *Tx) evidenceRows(es []*evidence.Evidence) (string, []any, error) {
	var sb strings.Builder
	args := make([]any, 0, evidenceWidth*len(es))
	for i, e := range es {
		// NUMERIC(17, 2) would round a third decimal place where
		// SQLite's text keeps it: refuse it on both.
		if !e.ProposedAmount.Equal(e.ProposedAmount.Round(2)) {
			return "", nil, fault.InvalidField("proposed_amount", "%s has more than 2 decimal places", e.ProposedAmount)
		}
		attachments, err := encodeAttachments(e.Attachments)
		if err != nil {
			return "", nil, internal(err, "encoding attachments")
		}
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("(" + tx.d.params(evidenceWidth*i+1, evidenceWidth) + ")")
		args = append(args,
			e.ID, e.Village, e.Household, string(e.Kind), e.ItemCode, e.Quantity, e.CatalogueHash,
			string(e.Level), e.Stars, optDateArg(e.ValidUntil), e.Period, e.Creditworthy,
			moneyArg(e.ProposedAmount), string(e.OccurredOn), e.Note,
			attachments, e.Witness, e.SystemSource, string(e.State), e.SubmittedBy, tsArg(e.SubmitTime), e.RequestID,
			e.RequestHash, e.ReviewedBy, optTSArg(e.ReviewTime), e.ReviewReason,
			optDateArg(e.NoticeStart), optDateArg(e.NoticeEnd),
			e.ObjectedBy, optTSArg(e.ObjectTime), e.ObjectReason, e.ResolvedBy, optTSArg(e.ResolveTime), e.ResolveReason,
			e.Upheld, e.RevokedBy, optTSArg(e.RevokeTime), e.RevokeReason, 1)
	}
	return sb.String(), args, nil
}

func (tx *Tx) insertEvidenceErr(err error, es []*evidence.Evidence) error {
	if tx.d.IsUniqueViolation(err) {
		// The evidence id itself collided (ids are UUIDv7, so this is a
		// caller reusing one). On PostgreSQL the transaction is aborted.
		return fault.Wrap(err, fault.AlreadyExists, "EVIDENCE_EXISTS",
			"evidence with one of these ids already exists (first %s)", es[0].ID)
	}
	return internal(err, "inserting evidence")
}

// UpdateEvidence implements evidence.Writer.
func (tx *Tx) UpdateEvidence(ctx context.Context, e *evidence.Evidence) error {
	const update = `UPDATE evidence SET state = $1, catalogue_hash = $2,
		reviewed_by = $3, review_time = $4, review_reason = $5, notice_start = $6, notice_end = $7,
		objected_by = $8, object_time = $9, object_reason = $10,
		resolved_by = $11, resolve_time = $12, resolve_reason = $13, upheld = $14,
		revoked_by = $15, revoke_time = $16, revoke_reason = $17, version = $18
		WHERE id = $19 AND village_code = $20 AND household_id = $21 AND version = $22`
	args := []any{string(e.State), e.CatalogueHash,
		e.ReviewedBy, optTSArg(e.ReviewTime), e.ReviewReason, optDateArg(e.NoticeStart), optDateArg(e.NoticeEnd),
		e.ObjectedBy, optTSArg(e.ObjectTime), e.ObjectReason,
		e.ResolvedBy, optTSArg(e.ResolveTime), e.ResolveReason, e.Upheld,
		e.RevokedBy, optTSArg(e.RevokeTime), e.RevokeReason, e.Version + 1,
		e.ID, e.Village, e.Household, e.Version}
	if tx.read[evidenceKey{e.Village, e.Household, e.ID}] {
		// Read in this transaction, so it exists (evidence is never
		// deleted): an update that changes nothing lost to a concurrent
		// change, and the write can go with the commit.
		from := e.Version
		err := tx.send(ctx, true, func(err error) error {
			if errors.Is(err, ErrNotOne) {
				return concurrentChange("evidence %s is no longer at version %d", e.Name(), from)
			}
			return internal(err, "updating evidence")
		}, update, args...)
		if err != nil {
			return err
		}
		e.Version++
		return nil
	}
	n, err := tx.q.Exec(ctx, update, args...)
	if err != nil {
		return internal(err, "updating evidence")
	}
	if n == 0 {
		var stored int
		err := tx.q.QueryRow(ctx, `SELECT version FROM evidence WHERE id = $1 AND village_code = $2 AND household_id = $3`,
			e.ID, e.Village, e.Household).Scan(&stored)
		if errors.Is(err, ErrNoRows) {
			return fault.New(fault.NotFound, "EVIDENCE_NOT_FOUND", "evidence %s not found", e.Name())
		}
		if err != nil {
			return internal(err, "reading an evidence version")
		}
		return concurrentChange("evidence %s is at version %d, not %d", e.Name(), stored, e.Version)
	}
	e.Version++
	return nil
}

// ReasonConcurrentChange is the reason of concurrentChange's faults:
// Conn.GuardedTx retries a transaction that fails with it.
const ReasonConcurrentChange = "CONCURRENT_CHANGE"

// concurrentChange reports a failed optimistic check. The fault package
// has no Aborted kind, so it is FailedPrecondition with a reason of its
// own.
func concurrentChange(format string, args ...any) error {
	return fault.New(fault.FailedPrecondition, ReasonConcurrentChange, "changed concurrently: "+format, args...)
}

// exactDecimal writes d keeping its scale: decimal.String drops trailing
// zeros. Through dectext, as moneyArg: every ledger entry's figures pass
// here.
func exactDecimal(d decimal.Decimal) string {
	if d.Exponent() < 0 {
		return dectext.Fixed(d, -d.Exponent())
	}
	return dectext.String(d)
}

// householdSheet reads a household's sheet in one statement, NotFound
// when the household is not one of village's. A sheet of version known
// comes from the cache without its text being read or decoded.
func (tx *Tx) householdSheet(ctx context.Context, cache *sheetCache, village, id string) (*evidence.Sheet, error) {
	s := &evidence.Sheet{Household: id, Village: village}
	known, cached := cache.get(id)
	var version sql.NullInt64
	var entries sql.NullString
	err := tx.q.QueryRow(ctx, `SELECT p.version, CASE WHEN p.version = $3 THEN NULL ELSE `+sheetText("p")+` END
		FROM households h LEFT JOIN household_points p ON p.household_id = h.id
		WHERE h.id = $1 AND h.village_code = $2`, id, village, known).Scan(&version, &entries)
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, "HOUSEHOLD_NOT_FOUND", "household villages/%s/households/%s does not exist", village, id)
	}
	if err != nil {
		return nil, internal(err, "reading a points sheet")
	}
	if !version.Valid {
		return s, nil
	}
	s.Version = int(version.Int64)
	if !entries.Valid && s.Version == known {
		s.Entries = cached
		return s, nil
	}
	s.Entries, err = decodeEntries(entries.String)
	if err != nil {
		return nil, internal(err, "reading a points sheet")
	}
	cache.put(id, s.Version, s.Entries)
	return s, nil
}

// Sheet implements evidence.Reader.
func (tx *Tx) Sheet(ctx context.Context, householdID string) (*evidence.Sheet, error) {
	s := &evidence.Sheet{Household: householdID}
	if pre, ok := tx.sheets[householdID]; ok {
		delete(tx.sheets, householdID)
		if !pre.version.Valid {
			return s, nil // no sheet yet
		}
		s.Village, s.Version = pre.village.String, int(pre.version.Int64)
		var err error
		s.Entries, err = decodeEntries(pre.text.String)
		return s, internal(err, "reading a points sheet")
	}
	var entries string
	err := tx.q.QueryRow(ctx, `SELECT p.village_code, p.version, `+sheetText("p")+` FROM household_points p WHERE p.household_id = $1`,
		householdID).Scan(&s.Village, &s.Version, &entries)
	if errors.Is(err, ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return nil, internal(err, "reading a points sheet")
	}
	s.Entries, err = decodeEntries(entries)
	return s, internal(err, "reading a points sheet")
}

// ledgerColumns are the columns AppendEntries writes, in order.
const ledgerColumns = `id, household_id, village_code, evidence_id, item_code, domain, area, kind, quantity,
	requested, points, capped, occurred_on, effective_on, valid_until, for_credit, reverses, reversed_kind`

const ledgerWidth = 18

// AppendEntries implements evidence.Writer.
func (tx *Tx) AppendEntries(ctx context.Context, s *evidence.Sheet, entries []points.Entry) error {
	// An entry the ledger would keep forever is checked first: a bad one
	// is a bug in the write path, so it fails the whole transaction.
	inSheet := make(map[string]bool, len(s.Entries))
	for _, e := range s.Entries {
		inSheet[e.ID] = true
	}
	for _, e := range entries {
		var problem error
		switch {
		case e.ID == "":
			problem = errors.New("entry has no id")
		case e.Household != s.Household:
			problem = fmt.Errorf("entry %s is of household %q, the sheet of %q", e.ID, e.Household, s.Household)
		case !inSheet[e.ID]:
			problem = fmt.Errorf("entry %s is not in the sheet", e.ID)
		default:
			problem = e.Validate()
		}
		if problem != nil {
			return fault.Wrap(problem, fault.Internal, "LEDGER_ENTRY_INVALID", "refusing an invalid ledger entry")
		}
	}

	// The service always names the village (it read the household in
	// this transaction); only a caller that does not pays a query for it.
	village := s.Village
	var err error
	if village == "" {
		err = tx.q.QueryRow(ctx, `SELECT village_code FROM households WHERE id = $1`, s.Household).Scan(&village)
	}
	if errors.Is(err, ErrNoRows) {
		return fault.New(fault.NotFound, "HOUSEHOLD_NOT_FOUND", "household %s not found", s.Household)
	}
	if err != nil {
		return internal(err, "reading a household's village")
	}

	delete(tx.sheets, s.Household) // read before this write: stale now
	// The version check comes first, so a lost race writes nothing.
	sheetFail := func(err error) error {
		if errors.Is(err, ErrNotOne) {
			return concurrentChange("the points sheet of household %s is no longer at version %d", s.Household, s.Version)
		}
		return internal(err, "storing a points sheet")
	}
	switch kept := len(s.Entries) - len(entries); {
	case s.Version > 0 && kept >= 0 && sameIDs(s.Entries[kept:], entries):
		// The usual case: the new entries end the sheet as read. Only they
		// are sent and added to the stored text, whose lines are
		// self-contained; at the version read, the stored sheet holds
		// exactly the first kept entries (checked too, in case a caller
		// dropped some).
		lines, err := encodeNewestFirst(entries)
		if err != nil {
			return internal(err, "encoding a points sheet")
		}
		// The lines go to the front of tail, or they and tail into
		// entries as a run once tail would pass tailFold (sheet.go):
		// entries, left alone, is not written again.
		err = tx.send(ctx, true, sheetFail, `UPDATE household_points SET version = $1, entry_count = $2,
			entries = CASE WHEN length(tail) + length($3) > $7 THEN entries || '`+runMark+`' || $3 || tail ELSE entries END,
			tail = CASE WHEN length(tail) + length($3) > $7 THEN '' ELSE $3 || tail END
			WHERE household_id = $4 AND version = $5 AND entry_count = $6`,
			s.Version+1, len(s.Entries), lines, s.Household, s.Version, kept, tailFold)
		if err != nil {
			return err
		}
	default:
		doc, err := encodeEntries(s.Entries)
		if err != nil {
			return internal(err, "encoding a points sheet")
		}
		if s.Version == 0 {
			err = tx.send(ctx, true, sheetFail, `INSERT INTO household_points (household_id, village_code, version, entry_count, entries)
				VALUES ($1, $2, 1, $3, $4) ON CONFLICT DO NOTHING`, s.Household, village, len(s.Entries), doc)
		} else {
			err = tx.send(ctx, true, sheetFail, `UPDATE household_points SET version = $1, entry_count = $2, entries = $3, tail = ''
				WHERE household_id = $4 AND version = $5`, s.Version+1, len(s.Entries), doc, s.Household, s.Version)
		}
		if err != nil {
			return err
		}
	}

	ledgerFail := func(err error) error {
		if tx.d.IsUniqueViolation(err) {
			return fault.Wrap(err, fault.AlreadyExists, "LEDGER_ENTRY_EXISTS",
				"a ledger entry of household %s already exists or already reverses the same entry", s.Household)
		}
		return internal(err, "appending ledger entries")
	}
	for start := 0; start < len(entries); start += batchRows {
		chunk := entries[start:min(start+batchRows, len(entries))]
		args := make([]any, 0, len(chunk)*ledgerWidth)
		var sb strings.Builder
		for i, e := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(" + tx.d.params(i*ledgerWidth+1, ledgerWidth) + ")")
			args = append(args, e.ID, e.Household, village, e.EvidenceID, e.ItemCode, string(e.Domain), e.Area,
				string(e.Kind), e.Quantity, exactDecimal(e.Requested), exactDecimal(e.Points), exactDecimal(e.Capped),
				string(e.OccurredOn), string(e.EffectiveOn), optDateArg(e.ValidUntil), e.ForCredit,
				e.Reverses, string(e.ReversedKind))
		}
		if err := tx.send(ctx, false, ledgerFail, `INSERT INTO ledger_entries (`+ledgerColumns+`) VALUES `+sb.String(), args...); err != nil {
			return err
		}
	}
	s.Village = village
	s.Version++
	return nil
}

// sameIDs reports whether a and b hold entries of the same IDs in the same
// order.
func sameIDs(a, b []points.Entry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID {
			return false
		}
	}
	return true
}

// Totals implements evidence.Reader. The sum is taken here, not in SQL:
// SQLite would add the TEXT amounts as floats.
func (tx *Tx) Totals(ctx context.Context, village string, from, to household.Date) ([]evidence.Total, error) {
	rows, err := tx.q.Query(ctx, `SELECT h.id, h.head_name, h.group_no, l.points
		FROM households h
		LEFT JOIN ledger_entries l ON l.household_id = h.id AND l.for_credit
			AND l.kind IN ('award', 'deduction', 'reversal') AND l.reversed_kind <> 'redemption'
			AND l.effective_on >= $2 AND l.effective_on <= $3
		WHERE h.village_code = $1
		ORDER BY h.id`, village, string(from), string(to))
	if err != nil {
		return nil, internal(err, "totalling points")
	}
	defer rows.Close()
	var out []evidence.Total
	for rows.Next() {
		var t evidence.Total
		var p decimal.Decimal
		var has bool
		if err := rows.Scan(&t.Household, &t.HeadName, &t.Group, optMoney{&p, &has}); err != nil {
			return nil, internal(err, "totalling points")
		}
		if n := len(out); n == 0 || out[n-1].Household != t.Household {
			t.Points = decimal.Zero
			out = append(out, t)
		}
		if has {
			last := &out[len(out)-1]
			last.Points = last.Points.Add(p)
		}
	}
	return out, internal(rows.Err(), "totalling points")
}

// AppendEvent implements evidence.Writer.
func (tx *Tx) AppendEvent(ctx context.Context, ev *evidence.Event) error {
	// Lock the head row before taking a seq, and hold it to commit: event
	// writers then commit in seq order, so a consumer that has read seq n
	// can never later see a smaller seq appear (with bare identity values
	// on PostgreSQL, a transaction that took seq 5 could commit after one
	// that took seq 6 was read).
	var one int
	if err := tx.q.QueryRow(ctx, `SELECT id FROM domain_events_head WHERE id = 1`+tx.d.ForUpdate).Scan(&one); err != nil {
		return internal(err, "locking the event outbox")
	}
	var seq int64
	err := tx.q.QueryRow(ctx, `INSERT INTO domain_events (id, type, village_code, household_id, evidence_id, effective_on, time)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq`,
		ev.ID, ev.Type, ev.Village, ev.Household, ev.EvidenceID, optDateArg(ev.EffectiveOn), tsArg(ev.Time)).Scan(&seq)
	if err != nil {
		if tx.d.IsUniqueViolation(err) {
			return fault.Wrap(err, fault.AlreadyExists, "EVENT_EXISTS", "event %s already exists", ev.ID)
		}
		return internal(err, "appending an event")
	}
	ev.Seq = seq
	return tx.evidenceEvent(ctx, ev)
}

// Events implements evidence.Reader.
func (tx *Tx) Events(ctx context.Context, after int64, limit int) ([]evidence.Event, error) {
	rows, err := tx.q.Query(ctx, `SELECT seq, id, type, village_code, household_id, evidence_id, effective_on, time
		FROM domain_events WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	if err != nil {
		return nil, internal(err, "reading events")
	}
	defer rows.Close()
	var out []evidence.Event
	for rows.Next() {
		var ev evidence.Event
		if err := rows.Scan(&ev.Seq, &ev.ID, &ev.Type, &ev.Village, &ev.Household, &ev.EvidenceID,
			optDate[household.Date]{&ev.EffectiveOn}, ts{&ev.Time}); err != nil {
			return nil, internal(err, "reading events")
		}
		out = append(out, ev)
	}
	return out, internal(rows.Err(), "reading events")
}

// optDateArg carries an optional date: NULL when unset ("" is not a DATE).
func optDateArg(d household.Date) any {
	if d == "" {
		return nil
	}
	return string(d)
}

// optDate scans a nullable date; NULL is "".
type optDate[T ~string] struct{ d *T }

func (s optDate[T]) Scan(src any) error {
	if src == nil {
		*s.d = ""
		return nil
	}
	return date[T](s).Scan(src)
}

// optMoney scans a nullable decimal; ok reports whether it was set.
type optMoney struct {
	d  *decimal.Decimal
	ok *bool
}

func (m optMoney) Scan(src any) error {
	*m.ok = src != nil
	if src == nil {
		*m.d = decimal.Zero
		return nil
	}
	return money{m.d}.Scan(src)
}
