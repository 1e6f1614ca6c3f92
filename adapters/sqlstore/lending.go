package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// Lending returns the lending port.
func (s *Store) Lending() credit.Store { return lendingStore{s} }

type lendingStore struct{ s *Store }

func (l lendingStore) Read(ctx context.Context, fn func(credit.Reader) error) error {
	return l.s.read(ctx, func(tx *Tx) error { return fn(tx) })
}

func (l lendingStore) Write(ctx context.Context, fn func(credit.Writer) error) error {
	return l.s.write(ctx, func(tx *Tx) error { return fn(tx) })
}

// Locked is a write transaction of LockTx's kind (READ COMMITTED on
// PostgreSQL), with its audit records flushed like Write's.
func (l lendingStore) Locked(ctx context.Context, fn func(credit.Writer) error) error {
	return l.s.writeWith(ctx, l.s.conn.LockTx, func(tx *Tx) error { return fn(tx) })
}

// Compile-time checks that a transaction serves the lending port.
var (
	_ credit.Reader = (*Tx)(nil)
	_ credit.Writer = (*Tx)(nil)
)

// --- scanners ---------------------------------------------------------

// text scans a column into a string type of the domain (a status, a kind).
type text[T ~string] struct{ s *T }

func (v text[T]) Scan(src any) error {
	switch x := src.(type) {
	case string:
		*v.s = T(x)
	case []byte:
		*v.s = T(x)
	default:
		return fmt.Errorf("cannot scan %T into text", src)
	}
	return nil
}

// jsonText scans a TEXT column holding JSON into v.
type jsonText struct{ v any }

func (j jsonText) Scan(src any) error {
	var b []byte
	switch x := src.(type) {
	case string:
		b = []byte(x)
	case []byte:
		b = x
	default:
		return fmt.Errorf("cannot scan %T into JSON", src)
	}
	if err := json.Unmarshal(b, j.v); err != nil {
		return fmt.Errorf("bad stored JSON: %w", err)
	}
	return nil
}

// purposeList scans the comma-separated purposes of a consent.
type purposeList struct{ p *[]lending.Purpose }

func (l purposeList) Scan(src any) error {
	var s string
	if err := (text[string]{&s}).Scan(src); err != nil {
		return err
	}
	*l.p = nil
	if s == "" {
		return nil
	}
	for _, p := range strings.Split(s, ",") {
		*l.p = append(*l.p, lending.Purpose(p))
	}
	return nil
}

// orNull scans a column of a LEFT JOIN that may have matched nothing: NULL
// leaves dest at its zero value, anything else is scanned as dest would be.
type orNull struct{ dest any }

func (o orNull) Scan(src any) error {
	if src == nil {
		return nil
	}
	switch d := o.dest.(type) {
	case sql.Scanner:
		return d.Scan(src)
	case *string:
		return assign(d, src)
	case *int:
		return assign(d, src)
	case *int64:
		return assign(d, src)
	case *int32:
		return assign(d, src)
	case *bool:
		return assign(d, src)
	default:
		return fmt.Errorf("orNull cannot scan into %T", o.dest)
	}
}

// assign converts a driver value as database/sql would.
func assign[T any](dest *T, src any) error {
	var n sql.Null[T]
	if err := n.Scan(src); err != nil {
		return err
	}
	*dest = n.V
	return nil
}

func nullable(dest []any) []any {
	out := make([]any, len(dest))
	for i, d := range dest {
		out[i] = orNull{d}
	}
	return out
}

// columns writes names as a select list, each prefixed (e.g. "l.").
func columns(prefix string, names []string) string {
	var sb strings.Builder
	for i, n := range names {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(prefix + n)
	}
	return sb.String()
}

// scale refuses an amount with more decimal places than its column keeps:
// PostgreSQL's NUMERIC would round it where SQLite's text keeps it, and the
// two stores must hold the same value.
func scale(field string, d decimal.Decimal, places int32) error {
	// Written with no more places than the column's: nothing to round
	// (and no math/big work on a million rows of a re-assessment).
	if d.Exponent() >= -places {
		return nil
	}
	if !d.Equal(d.Round(places)) {
		return fault.InvalidField(field, "%s has more than %d decimal places", d, places)
	}
	return nil
}

// Money columns keep whole fen, rate columns six places.
const moneyPlaces, ratePlaces = 2, 6

// insertOnce runs an INSERT with ON CONFLICT DO NOTHING appended and
// returns exists when a row with the same key is stored. DO NOTHING rather
// than a failing insert: a unique violation would abort a PostgreSQL
// transaction, and callers go on reading to answer an idempotent retry.
func (tx *Tx) insertOnce(ctx context.Context, what string, exists func() error, query string, args ...any) error {
	n, err := tx.q.Exec(ctx, query+` ON CONFLICT DO NOTHING`, args...)
	if err != nil {
		return internal(err, what)
	}
	if n == 0 {
		return exists()
	}
	return nil
}

// --- consents ---------------------------------------------------------

var consentCols = []string{"id", "village_code", "household_id", "bank", "purposes", "grant_time",
	"expire_time", "channel", "authorisation_hash", "recorded_by", "revoke_time", "revoked_by",
	"state", "confirmed_by", "confirm_time"}

var consentColumns = columns("", consentCols)

func scanConsent(r interface{ Scan(...any) error }) (*lending.Consent, error) {
	c := &lending.Consent{}
	var village, id string
	err := r.Scan(&c.ID, &village, &id, &c.Bank, purposeList{&c.Purposes}, ts{&c.GrantTime},
		ts{&c.Expires}, &c.Channel, &c.AuthorisationHash, &c.RecordedBy, nullTS{&c.RevokeTime}, &c.RevokedBy,
		text[lending.ConsentState]{&c.State}, &c.ConfirmedBy, nullTS{&c.ConfirmTime})
	c.Household = credit.HouseholdRef{Village: village, ID: id}.Name()
	return c, err
}

// Consent implements credit.Reader.
func (tx *Tx) Consent(ctx context.Context, id string) (*lending.Consent, error) {
	c, err := scanConsent(tx.q.QueryRow(ctx, `SELECT `+consentColumns+` FROM consents WHERE id = $1`, id))
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, "CONSENT_NOT_FOUND", "consent %s not found", id)
	}
	return c, internal(err, "reading a consent")
}

// Consents implements credit.Reader.
func (tx *Tx) Consents(ctx context.Context, householdID string) ([]*lending.Consent, error) {
	rows, err := tx.q.Query(ctx, `SELECT `+consentColumns+` FROM consents WHERE household_id = $1
		ORDER BY grant_time, id`, householdID)
	if err != nil {
		return nil, internal(err, "listing consents")
	}
	defer rows.Close()
	var out []*lending.Consent
	for rows.Next() {
		c, err := scanConsent(rows)
		if err != nil {
			return nil, internal(err, "listing consents")
		}
		out = append(out, c)
	}
	return out, internal(rows.Err(), "listing consents")
}

// liveConsent is the condition on consents for "live at $at": in state
// granted, granted, not expired and not revoked at that instant (both ends
// exclusive), as lending.Consent.Live says; the conformance suite holds the
// two to the same answers (testLiveConsentTwin).
func liveConsent(at int) string {
	return fmt.Sprintf(`state = 'granted' AND grant_time <= $%[1]d AND expire_time > $%[1]d AND (revoke_time IS NULL OR revoke_time > $%[1]d)`, at)
}

// LiveConsentHouseholds implements credit.Reader.
func (tx *Tx) LiveConsentHouseholds(ctx context.Context, bank string, at time.Time, afterID string, limit int) ([]credit.HouseholdRef, error) {
	rows, err := tx.q.Query(ctx, `SELECT DISTINCT household_id, village_code FROM consents
		WHERE bank = $1 AND household_id > $2 AND `+liveConsent(3)+`
		ORDER BY household_id LIMIT $4`, bank, afterID, tsArg(at), limit)
	if err != nil {
		return nil, internal(err, "listing consenting households")
	}
	defer rows.Close()
	var out []credit.HouseholdRef
	for rows.Next() {
		var h credit.HouseholdRef
		if err := rows.Scan(&h.ID, &h.Village); err != nil {
			return nil, internal(err, "listing consenting households")
		}
		out = append(out, h)
	}
	return out, internal(rows.Err(), "listing consenting households")
}

// CountLiveConsentHouseholds implements credit.Reader.
func (tx *Tx) CountLiveConsentHouseholds(ctx context.Context, bank string, at time.Time) (int64, error) {
	var n int64
	err := tx.q.QueryRow(ctx, `SELECT COUNT(DISTINCT household_id) FROM consents
		WHERE bank = $1 AND `+liveConsent(2), bank, tsArg(at)).Scan(&n)
	return n, internal(err, "counting consenting households")
}

// InsertConsent implements credit.Writer.
func (tx *Tx) InsertConsent(ctx context.Context, c *lending.Consent) error {
	village, id, err := household.ParseName(c.Household, "consent.household")
	if err != nil {
		return err
	}
	purposes := make([]string, len(c.Purposes))
	for i, p := range c.Purposes {
		// A comma would split one stored purpose into two.
		if p == "" || strings.Contains(string(p), ",") {
			return fault.InvalidField("consent.purposes", "purpose %q cannot be stored", p)
		}
		purposes[i] = string(p)
	}
	return tx.insertOnce(ctx, "inserting a consent",
		func() error {
			return fault.New(fault.AlreadyExists, "CONSENT_EXISTS", "consent %s already exists", c.ID)
		},
		`INSERT INTO consents (`+consentColumns+`) VALUES (`+placeholders(1, len(consentCols))+`)`,
		c.ID, village, id, c.Bank, strings.Join(purposes, ","), tsArg(c.GrantTime), tsArg(c.Expires),
		c.Channel, c.AuthorisationHash, c.RecordedBy, optTSArg(c.RevokeTime), c.RevokedBy,
		string(c.State), c.ConfirmedBy, optTSArg(c.ConfirmTime))
}

// SettleConsent implements credit.Writer: a compare-and-set from pending,
// so two settlements racing (the household confirming while its clerk
// countersigns, or refusing) leave exactly one of them.
func (tx *Tx) SettleConsent(ctx context.Context, id string, to lending.ConsentState, at time.Time, by string) error {
	n, err := tx.q.Exec(ctx, `UPDATE consents SET state = $1, confirmed_by = $2, confirm_time = $3
		WHERE id = $4 AND state = 'pending' AND revoke_time IS NULL`, string(to), by, tsArg(at), id)
	if err != nil {
		return internal(err, "settling a consent")
	}
	if n == 0 {
		c, err := tx.Consent(ctx, id)
		if err != nil {
			return err
		}
		return fault.New(fault.FailedPrecondition, credit.ReasonConsentNotPending, "consent %s is %s, not pending", id, consentStateWord(c))
	}
	return nil
}

func consentStateWord(c *lending.Consent) string {
	if c.RevokeTime != nil {
		return "revoked"
	}
	return string(c.State)
}

// RevokeConsent implements credit.Writer. Revoking twice keeps the first
// revocation.
func (tx *Tx) RevokeConsent(ctx context.Context, id string, at time.Time, by string) error {
	n, err := tx.q.Exec(ctx, `UPDATE consents SET revoke_time = $1, revoked_by = $2 WHERE id = $3 AND revoke_time IS NULL`,
		tsArg(at), by, id)
	if err != nil {
		return internal(err, "revoking a consent")
	}
	if n == 0 {
		_, err := tx.Consent(ctx, id)
		return err
	}
	return nil
}

// --- decisions --------------------------------------------------------

var decisionCols = []string{"id", "bank", "product", "village_code", "household_id", "kind",
	"policy_version", "policy_hash", "input_hash", "decided_on", "valid_until", "eligible", "score",
	"grade", "limit_amount", "rate", "exposure_cap", "explanation", "input", "overrides",
	"justification", "decided_by", "time", "applicant_member", "review_on", "bins"}

var decisionColumns = columns("", decisionCols)

func decisionDest(d *credit.Decision) []any {
	return []any{&d.ID, &d.Bank, &d.Product, &d.Village, &d.HouseholdID, text[credit.DecisionKind]{&d.Kind},
		&d.PolicyVersion, &d.PolicyHash, &d.InputHash, date[household.Date]{&d.On},
		date[household.Date]{&d.ValidUntil}, &d.Eligible, &d.Score, &d.Grade, money{&d.Limit},
		money{&d.Rate}, money{&d.ExposureCap}, jsonText{&d.Explanation}, &d.Input, &d.Overrides,
		&d.Justification, &d.DecidedBy, ts{&d.Time}, &d.ApplicantMember, optDate[household.Date]{&d.ReviewOn}, binList{&d.Bins}}
}

// Decision implements credit.Reader.
func (tx *Tx) Decision(ctx context.Context, id string) (*credit.Decision, error) {
	d := &credit.Decision{}
	err := tx.q.QueryRow(ctx, `SELECT `+decisionColumns+` FROM credit_decisions WHERE id = $1`, id).Scan(decisionDest(d)...)
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, "DECISION_NOT_FOUND", "decision %s not found", id)
	}
	if err != nil {
		return nil, internal(err, "reading a decision")
	}
	return d, nil
}

// Decisions implements credit.Reader.
func (tx *Tx) Decisions(ctx context.Context, householdID, bank, before string, limit int) ([]*credit.Decision, error) {
	args := []any{householdID}
	where := []string{"household_id = $1"}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if bank != "" {
		add("bank = $%d", bank)
	}
	if before != "" {
		add("id < $%d", before)
	}
	args = append(args, limit)
	rows, err := tx.q.Query(ctx, `SELECT `+decisionColumns+` FROM credit_decisions WHERE `+
		strings.Join(where, " AND ")+fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, internal(err, "listing decisions")
	}
	defer rows.Close()
	var out []*credit.Decision
	for rows.Next() {
		d := &credit.Decision{}
		if err := rows.Scan(decisionDest(d)...); err != nil {
			return nil, internal(err, "listing decisions")
		}
		out = append(out, d)
	}
	return out, internal(rows.Err(), "listing decisions")
}

// InsertDecision implements credit.Writer.
func (tx *Tx) InsertDecision(ctx context.Context, d *credit.Decision) error {
	args, err := decisionArgs(d)
	if err != nil {
		return err
	}
	return tx.insertOnce(ctx, "inserting a decision",
		func() error {
			return fault.New(fault.AlreadyExists, "DECISION_EXISTS", "decision %s already exists", d.ID)
		},
		`INSERT INTO credit_decisions (`+decisionColumns+`) VALUES (`+placeholders(1, len(decisionCols))+`)`, args...)
}

// --- lines ------------------------------------------------------------

var lineCols = []string{"id", "bank", "product", "village_code", "household_id", "limit_amount",
	"drawn", "rate", "exposure_cap", "status", "valid_until", "decision_id", "freeze_reason",
	"version", "open_time", "update_time", "applicant_member", "review_on"}

var lineColumns = columns("", lineCols)

func lineDest(l *credit.Line) []any {
	return []any{&l.ID, &l.Bank, &l.Product, &l.Village, &l.HouseholdID, money{&l.Limit},
		money{&l.Drawn}, money{&l.Rate}, money{&l.ExposureCap}, text[lending.Status]{&l.Status},
		date[household.Date]{&l.ValidUntil}, &l.DecisionID, &l.FreezeReason, &l.Version,
		ts{&l.OpenTime}, ts{&l.UpdateTime}, &l.ApplicantMember, optDate[household.Date]{&l.ReviewOn}}
}

// fillLine sets what the pure line derives from the stored columns.
func fillLine(l *credit.Line) *credit.Line {
	l.Household = credit.HouseholdRef{Village: l.Village, ID: l.HouseholdID}.Name()
	return l
}

func (tx *Tx) oneLine(ctx context.Context, what, where string, args ...any) (*credit.Line, error) {
	l := &credit.Line{}
	err := tx.q.QueryRow(ctx, `SELECT `+lineColumns+` FROM credit_lines WHERE `+where, args...).Scan(lineDest(l)...)
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, "LINE_NOT_FOUND", "%s not found", what)
	}
	if err != nil {
		return nil, internal(err, "reading a credit line")
	}
	return fillLine(l), nil
}

func (tx *Tx) lineList(ctx context.Context, what, query string, args ...any) ([]*credit.Line, error) {
	rows, err := tx.q.Query(ctx, query, args...)
	if err != nil {
		return nil, internal(err, what)
	}
	defer rows.Close()
	var out []*credit.Line
	for rows.Next() {
		l := &credit.Line{}
		if err := rows.Scan(lineDest(l)...); err != nil {
			return nil, internal(err, what)
		}
		out = append(out, fillLine(l))
	}
	return out, internal(rows.Err(), what)
}

// Line implements credit.Reader.
func (tx *Tx) Line(ctx context.Context, bank, product, householdID string) (*credit.Line, error) {
	return tx.oneLine(ctx, fmt.Sprintf("a %s line of bank %s for household %s", product, bank, householdID),
		`bank = $1 AND product = $2 AND household_id = $3`, bank, product, householdID)
}

// LineByID implements credit.Reader.
func (tx *Tx) LineByID(ctx context.Context, id string) (*credit.Line, error) {
	return tx.oneLine(ctx, "credit line "+id, `id = $1`, id)
}

// HouseholdLines implements credit.Reader.
func (tx *Tx) HouseholdLines(ctx context.Context, householdID string) ([]*credit.Line, error) {
	return tx.lineList(ctx, "listing a household's lines", `SELECT `+lineColumns+` FROM credit_lines
		WHERE household_id = $1 ORDER BY id`, householdID)
}

// LockHouseholdLines implements credit.Writer.
func (tx *Tx) LockHouseholdLines(ctx context.Context, householdID string) ([]*credit.Line, error) {
	// In id order, so two transactions locking the same lines cannot
	// deadlock on the order they take them in.
	return tx.lineList(ctx, "locking a household's lines", `SELECT `+lineColumns+` FROM credit_lines
		WHERE household_id = $1 ORDER BY id`+tx.d.ForUpdate, householdID)
}

// Lines implements credit.Reader.
func (tx *Tx) Lines(ctx context.Context, q credit.ListQuery) ([]*credit.Line, error) {
	// Only the filters in use go into the query, as in ListEvidence.
	args := []any{q.Bank, q.AfterID}
	where := []string{"bank = $1", "id > $2"}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if q.Product != "" {
		add("product = $%d", q.Product)
	}
	if q.Village != "" {
		add("village_code = $%d", q.Village)
	}
	if q.Status != "" {
		add("status = $%d", string(q.Status))
	}
	args = append(args, q.Limit)
	return tx.lineList(ctx, "listing credit lines", `SELECT `+lineColumns+` FROM credit_lines WHERE `+
		strings.Join(where, " AND ")+fmt.Sprintf(` ORDER BY id LIMIT $%d`, len(args)), args...)
}

func checkLineAmounts(l *credit.Line) error {
	for _, c := range []struct {
		field  string
		v      decimal.Decimal
		places int32
	}{{"line.limit", l.Limit, moneyPlaces}, {"line.drawn", l.Drawn, moneyPlaces},
		{"line.rate", l.Rate, ratePlaces}, {"line.exposure_cap", l.ExposureCap, moneyPlaces}} {
		if err := scale(c.field, c.v, c.places); err != nil {
			return err
		}
	}
	return nil
}

// InsertLine implements credit.Writer.
func (tx *Tx) InsertLine(ctx context.Context, l *credit.Line) error {
	args, err := lineArgs(l)
	if err != nil {
		return err
	}
	return tx.insertOnce(ctx, "inserting a credit line",
		func() error {
			return fault.New(fault.AlreadyExists, "LINE_EXISTS",
				"household %s already has a %s line of bank %s", l.HouseholdID, l.Product, l.Bank)
		},
		`INSERT INTO credit_lines (`+lineColumns+`) VALUES (`+placeholders(1, len(lineCols))+`)`, args...)
}

// UpdateLine implements credit.Writer. The fault package has no Aborted
// kind: a stale version is CONCURRENT_CHANGE, as for evidence.
func (tx *Tx) UpdateLine(ctx context.Context, l *credit.Line, prevVersion int) error {
	if err := checkLineAmounts(l); err != nil {
		return err
	}
	n, err := tx.q.Exec(ctx, `UPDATE credit_lines SET limit_amount = $1, drawn = $2, rate = $3,
		exposure_cap = $4, status = $5, valid_until = $6, decision_id = $7, freeze_reason = $8,
		update_time = $9, version = $10, applicant_member = $13, review_on = $14
		WHERE id = $11 AND version = $12`,
		moneyArg(l.Limit), moneyArg(l.Drawn), moneyArg(l.Rate), moneyArg(l.ExposureCap), string(l.Status),
		string(l.ValidUntil), l.DecisionID, l.FreezeReason, tsArg(l.UpdateTime), l.Version, l.ID, prevVersion,
		applicantArg(l.ApplicantMember), optDateArg(l.ReviewOn))
	if err != nil {
		return internal(err, "updating a credit line")
	}
	if n == 0 {
		var stored int
		err := tx.q.QueryRow(ctx, `SELECT version FROM credit_lines WHERE id = $1`, l.ID).Scan(&stored)
		if errors.Is(err, ErrNoRows) {
			return fault.New(fault.NotFound, "LINE_NOT_FOUND", "credit line %s not found", l.ID)
		}
		if err != nil {
			return internal(err, "reading a credit line version")
		}
		return concurrentChange("credit line %s is at version %d, not %d", l.ID, stored, prevVersion)
	}
	return nil
}

// --- the hot read -----------------------------------------------------

// queryLineSQL reads, in one statement, whether a consent is live ($1
// bank, $3 household, $4 village, $5 instant, $6 purpose pattern) and the
// line of ($1, $2 product, $3, $4): the line's drawn balance is the other
// fact of the lawful-basis rule, which QueryLine then applies. The line's
// decision comes from the decision cache (decisions never change).
var queryLineSQL = `WITH live AS (
		SELECT 1 FROM consents
		WHERE household_id = $3 AND village_code = $4 AND bank = $1 AND ` + liveConsentAt5 + `
			AND ',' || purposes || ',' LIKE $6 ESCAPE '\'
		LIMIT 1)
	SELECT EXISTS (SELECT 1 FROM live), ` + lineColumnsL + `
	FROM (SELECT 1 AS one) q
	LEFT JOIN credit_lines l ON l.bank = $1 AND l.product = $2 AND l.household_id = $3
		AND l.village_code = $4`

var (
	liveConsentAt5 = liveConsent(5)
	lineColumnsL   = columns("l.", lineCols)
)

// decisionCache keeps decisions read by the hot path. A decision is never
// updated after insert, so a cached one is never stale; the cache is
// simply emptied when it reaches its bound.
type decisionCache struct {
	mu sync.RWMutex
	m  map[string]*credit.Decision
}

const decisionCacheSize = 1 << 16

// get returns a copy of the cached decision, so that a caller completing
// it (credit replays explanations into it) never touches the shared one.
func (c *decisionCache) get(id string) *credit.Decision {
	c.mu.RLock()
	defer c.mu.RUnlock()
	d, ok := c.m[id]
	if !ok {
		return nil
	}
	cp := *d
	return &cp
}

func (c *decisionCache) put(d *credit.Decision) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= decisionCacheSize {
		c.m = make(map[string]*credit.Decision, 1024)
	}
	c.m[d.ID] = d
}

// likeEscaper escapes LIKE's wildcards: post_loan's '_' would otherwise
// match any character.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// purposePattern matches purpose as one element of ",purposes,".
func purposePattern(p lending.Purpose) string { return "%," + likeEscaper.Replace(string(p)) + ",%" }

// QueryLine implements credit.Store: the facts the lawful-basis rule
// needs (a live consent for the purpose, the line's drawn balance) and the
// line are one statement outside any transaction; lending's rule
// (Standing.Basis, ActRead) decides; the query record, naming the basis,
// then joins the store's group commit, and QueryLine returns once it is
// durable.
func (l lendingStore) QueryLine(ctx context.Context, q credit.LineQuery, rec audit.Record) (*credit.Line, *credit.Decision, error) {
	// rec is checked once, by the recorder, when it is complete: an
	// invalid one fails the call there, and no line is returned.
	var (
		live bool
		line *credit.Line
		dec  *credit.Decision
	)
	err := l.s.conn.ReadOne(ctx, func(qr Querier) error {
		ln := &credit.Line{}
		dest := append([]any{&live}, nullable(lineDest(ln))...)
		if err := qr.QueryRow(ctx, queryLineSQL, q.Bank, q.Product, q.Household, q.Village, tsArg(q.At),
			purposePattern(q.Purpose)).Scan(dest...); err != nil {
			return internal(err, "reading a credit line")
		}
		line = nil
		if ln.ID != "" {
			line = fillLine(ln)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	st := lending.Standing{Bank: q.Bank, Owes: line != nil && line.Drawn.IsPositive()}
	switch q.Purpose {
	case lending.PurposeAssessment:
		st.Assessment = live
	case lending.PurposePostLoan:
		st.PostLoan = live
	}
	basis, err := st.Basis(lending.ActRead, q.Purpose)
	if err != nil {
		return nil, nil, err // no basis: nothing read, nothing recorded here
	}
	if line != nil {
		if dec = l.s.decisions.get(line.DecisionID); dec == nil {
			err = l.s.conn.ReadOne(ctx, func(qr Querier) error {
				var err error
				dec, err = (&Tx{q: qr, d: &l.s.dialect}).Decision(ctx, line.DecisionID)
				return err
			})
			if err != nil {
				return nil, nil, err
			}
			cp := *dec
			l.s.decisions.put(&cp)
		}
	}
	// The read happened: it is on record, with its basis, before anyone
	// sees its result.
	rec.Payload = maps.Clone(rec.Payload)
	if rec.Payload == nil {
		rec.Payload = map[string]string{}
	}
	rec.Payload["basis"] = string(basis.Kind)
	if err := l.s.records.Append(ctx, rec); err != nil {
		return nil, nil, err
	}
	if line == nil {
		return nil, nil, fault.New(fault.NotFound, "LINE_NOT_FOUND", "no %s line of bank %s for %s",
			q.Product, q.Bank, credit.HouseholdRef{Village: q.Village, ID: q.Household}.Name())
	}
	return line, dec, nil
}

// applicantArg is the applicant member stored: 0 (not set) is the head, 1.
func applicantArg(n int32) int32 { return max(n, 1) }
