package evidence

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// Catalogues gives the service the points catalogue a village uses.
// scoring/catalogue.Service implements it.
type Catalogues interface {
	// Effective returns the catalogue the village uses now.
	Effective(ctx context.Context, village string) (*points.Catalogue, error)
	// EffectiveAt returns the catalogue the village used at instant t.
	EffectiveAt(ctx context.Context, village string, t time.Time) (*points.Catalogue, error)
}

// Service runs the evidence workflow and the points ledger. Who may call
// which method for which village has already been checked by the caller
// (the RPC authorisation table); Service checks the business rules:
// maker-checker, states, dates, caps, balances.
type Service struct {
	store Store
	cats  Catalogues
	now   func() time.Time
	// homes lets a single submission skip reading its household
	// (Writer.SendEvidence checks it instead).
	homes registrations
}

// NewService returns a Service. now is the clock (time.Now in production).
func NewService(store Store, cats Catalogues, now func() time.Time) *Service {
	return &Service{store: store, cats: cats, now: now}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

var (
	sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)
	// periodRE: a year, a half year or a quarter.
	periodRE = regexp.MustCompile(`^(20[0-9]{2})(H[12]|Q[1-4])?$`)
)

// parsed is a submission after field validation.
type parsed struct {
	in         SubmitInput
	village    string
	household  string
	occurred   household.Date
	validUntil household.Date
	amount     decimal.Decimal
}

// parseInput validates the fields of a submission that need no store or
// catalogue.
func parseInput(in SubmitInput, today household.Date) (parsed, error) {
	var v fault.Violations
	out := parsed{in: in}
	village, hh, err := household.ParseName(in.Parent, "parent")
	if err != nil {
		v.Add("parent", "must be villages/{village_code}/households/{household_id}, got %q", in.Parent)
	}
	out.village, out.household = village, hh
	if !in.Kind.Valid() {
		v.Add("kind", "must be one of points, star_rating, red_list, black_list, recommendation; got %q", in.Kind)
	}
	if in.OccurredOn == "" {
		v.Add("occurred_on", "is required")
	} else if d, err := household.ParseDate(in.OccurredOn); err != nil {
		v.Add("occurred_on", "%q is not a date in YYYY-MM-DD form", in.OccurredOn)
	} else if d.After(today) {
		v.Add("occurred_on", "%s is in the future (today is %s in Asia/Shanghai)", d, today)
	} else {
		out.occurred = d
	}
	if utf8.RuneCountInString(in.Note) > MaxReason {
		v.Add("note", "must be at most %d characters", MaxReason)
	}
	if len(in.Attachments) > 20 {
		v.Add("attachments", "at most 20 attachments, got %d", len(in.Attachments))
	}
	for i, a := range in.Attachments {
		f := fmt.Sprintf("attachments[%d]", i)
		if a.Kind != "photo" && a.Kind != "document" {
			v.Add(f+".kind", "must be photo or document, got %q", a.Kind)
		}
		if !sha256Hex.MatchString(a.SHA256) {
			v.Add(f+".sha256", "must be 64 lower-case hex digits (a SHA-256)")
		}
	}
	if utf8.RuneCountInString(in.Witness) > 100 {
		v.Add("witness", "must be at most 100 characters")
	}
	if utf8.RuneCountInString(in.SystemSource) > 100 {
		v.Add("system_source", "must be at most 100 characters")
	}
	switch {
	case in.RequestID == "":
		v.Add("request_id", "is required")
	case len(in.RequestID) > 100:
		v.Add("request_id", "must be at most 100 bytes")
	}
	// Free text reaches the permanent audit log: never a 身份证号.
	for _, f := range []struct{ field, zh, en, value string }{
		{"note", "备注", "note", in.Note}, {"witness", "证明人", "witness", in.Witness},
		{"system_source", "系统来源", "system_source", in.SystemSource}, {"request_id", "请求号", "request_id", in.RequestID},
	} {
		if m := idnum.FreeTextProblem(f.zh, f.en, f.value); m != "" {
			v.Add(f.field, "%s", m)
		}
	}

	isPoints := in.Kind == Points
	if isPoints {
		if in.ItemCode == "" {
			v.Add("item_code", "is required for points evidence")
		}
		if in.Quantity < 1 {
			v.Add("quantity", "must be at least 1, got %d", in.Quantity)
		}
	} else {
		if in.ItemCode != "" {
			v.Add("item_code", "only points evidence names an item")
		}
		if in.Quantity != 0 {
			v.Add("quantity", "only points evidence has a quantity")
		}
	}
	if in.Kind == StarRating {
		if in.Level.Rank() == 0 {
			v.Add("level", "must be village, town or county; got %q", in.Level)
		}
		if in.Stars < 1 || in.Stars > 5 {
			v.Add("stars", "must be 1 to 5, got %d", in.Stars)
		}
	} else {
		if in.Level != "" {
			v.Add("level", "only a star rating has a level")
		}
		if in.Stars != 0 {
			v.Add("stars", "only a star rating has stars")
		}
	}
	if in.Kind == Recommendation {
		if m := periodRE.FindStringSubmatch(in.Period); m == nil {
			v.Add("period", "must be a year (2026), a half (2026H1) or a quarter (2026Q3); got %q", in.Period)
		}
		switch amt, err := decimal.NewFromString(strings.TrimSpace(in.ProposedAmount)); {
		case in.ProposedAmount == "" && !in.Creditworthy:
			out.amount = decimal.Zero
		case err != nil:
			v.Add("proposed_amount", "%q is not a decimal amount in yuan", in.ProposedAmount)
		case amt.Sign() < 0:
			v.Add("proposed_amount", "must not be negative, got %s", amt)
		case amt.Exponent() < -2:
			v.Add("proposed_amount", "%s has more than 2 decimal places (fen)", amt)
		case amt.GreaterThan(decimal.NewFromInt(10_000_000)):
			v.Add("proposed_amount", "%s is more than ¥10,000,000", amt)
		case !in.Creditworthy && amt.Sign() != 0:
			v.Add("proposed_amount", "must be 0 when the household is not listed as creditworthy")
		case in.Creditworthy && amt.Sign() == 0:
			v.Add("proposed_amount", "is required when the household is listed as creditworthy")
		default:
			out.amount = amt
		}
	} else {
		if in.Period != "" {
			v.Add("period", "only a recommendation has a period")
		}
		if in.ProposedAmount != "" || in.Creditworthy {
			v.Add("proposed_amount", "only a recommendation proposes an amount")
		}
	}
	if isPoints {
		if in.ValidUntil != "" {
			v.Add("valid_until", "points evidence is valid for the item's validity months; do not set valid_until")
		}
	} else if in.Kind.Valid() {
		switch d, err := household.ParseDate(in.ValidUntil); {
		case in.ValidUntil == "":
			v.Add("valid_until", "is required for a %s", in.Kind)
		case err != nil:
			v.Add("valid_until", "%q is not a date in YYYY-MM-DD form", in.ValidUntil)
		case !d.After(today):
			v.Add("valid_until", "%s is not after today (%s)", d, today)
		case d.After(points.AddMonths(today, 60)):
			v.Add("valid_until", "%s is more than five years away", d)
		default:
			out.validUntil = d
		}
	}
	return out, v.Err()
}

// checkAgainst checks a parsed submission against the village's catalogue
// and the household's registration date; it returns the item for points
// evidence.
func checkAgainst(p parsed, cat *points.Catalogue, registered, today household.Date) (points.Item, error) {
	var v fault.Violations
	var item points.Item
	if p.in.Kind == Points {
		it, ok := cat.Item(p.in.ItemCode)
		if !ok {
			return item, fault.InvalidField("item_code", "%q is not an item of the catalogue village %s uses (county version %d, village version %d)",
				p.in.ItemCode, cat.Village, cat.CountyVersion, cat.VillageVersion)
		}
		item = it
		if err := points.CheckQuantity(it, p.in.Quantity); err != nil {
			return item, err
		}
		has := map[string]bool{}
		for _, a := range p.in.Attachments {
			has[a.Kind] = true
		}
		for _, k := range it.Evidence {
			switch {
			case k == points.PhotoHash && !has["photo"]:
				v.Add("attachments", "item %s needs the SHA-256 of a photo", it.Code)
			case k == points.DocumentHash && !has["document"]:
				v.Add("attachments", "item %s needs the SHA-256 of a document", it.Code)
			case k == points.Witness && strings.TrimSpace(p.in.Witness) == "":
				v.Add("witness", "item %s needs a named witness", it.Code)
			case k == points.SystemRecord && strings.TrimSpace(p.in.SystemSource) == "":
				v.Add("system_source", "item %s is machine-recorded: name the system that recorded it", it.Code)
			}
		}
	}
	if p.occurred != "" {
		if err := cat.CheckOccurred(p.occurred, today); err != nil {
			return item, err
		}
		if registered.After(p.occurred) {
			v.Add("occurred_on", "%s is before the household was registered (%s)", p.occurred, registered)
		}
	}
	return item, v.Err()
}

// requestHash fingerprints what a submission asks for, so that a repeated
// request id with different content is told apart from a retry.
func requestHash(in SubmitInput) string {
	var b strings.Builder
	fmt.Fprintf(&b, "evidence.submit\x00%s\x00%s\x00%s\x00%d\x00%s\x00%d\x00%s\x00%s\x00%t\x00%s\x00%s\x00%s\x00%s\x00%s",
		in.Parent, in.Kind, in.ItemCode, in.Quantity, in.Level, in.Stars, in.ValidUntil, in.Period, in.Creditworthy,
		in.ProposedAmount, in.OccurredOn, in.Note, in.Witness, in.SystemSource)
	for _, a := range in.Attachments {
		b.WriteString("\x00" + a.Kind + ":" + a.SHA256)
	}
	return audit.HashBytes([]byte(b.String()))
}

// Submit records one piece of evidence. Items that need no review are
// posted at once (公示 starts today); everything else waits for Review.
// Repeating a request id with the same content returns the first result;
// with other content it is AlreadyExists.
func (s *Service) Submit(ctx context.Context, p *access.Principal, in SubmitInput) (*Evidence, error) {
	res, err := s.submit(ctx, p, household.VillageOf(in.Parent), []SubmitInput{in}, false, true)
	if err != nil {
		return nil, err
	}
	return res[0].Evidence, res[0].Err
}

// SubmitBatch submits up to MaxBatch rows for households of the village
// named by parent. Every row is validated first; with dryRun nothing is
// written. Valid rows are written in one transaction, each with its own
// audit record; invalid rows are reported and skipped, so a batch never
// half-applies a row. Rows whose request id was already used with the same
// content are reported as duplicates and write nothing, which makes
// re-running an import safe.
func (s *Service) SubmitBatch(ctx context.Context, p *access.Principal, parent string, rows []SubmitInput, dryRun bool) ([]RowResult, error) {
	var v fault.Violations
	village := household.ParseVillageParent(parent, "parent", &v)
	switch {
	case len(rows) == 0:
		v.Add("rows", "at least one row is required")
	case len(rows) > MaxBatch:
		v.Add("rows", "at most %d rows per call, got %d; split the import", MaxBatch, len(rows))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.submit(ctx, p, village, rows, dryRun, false)
}

// submit validates rows and writes the valid ones in one transaction.
// With single, a row's error is returned as the call's error.
func (s *Service) submit(ctx context.Context, p *access.Principal, village string, rows []SubmitInput, dryRun, single bool) ([]RowResult, error) {
	now := s.clock()
	today := household.Today(now)
	results := make([]RowResult, len(rows))
	ps := make([]parsed, len(rows))
	seen := map[string]int{}
	for i, in := range rows {
		results[i].Row = i
		pr, err := parseInput(in, today)
		if err != nil {
			if single {
				return nil, err
			}
			results[i].Err = err
			continue
		}
		if pr.village != village {
			results[i].Err = fault.InvalidField("parent", "%q is not a household of villages/%s; one batch covers one village", in.Parent, village)
			continue
		}
		if j, dup := seen[in.RequestID]; dup {
			results[i].Err = fault.InvalidField("request_id", "row %d uses the same request id", j)
			continue
		}
		seen[in.RequestID] = i
		ps[i] = pr
	}
	valid := false
	for i := range rows {
		valid = valid || results[i].Err == nil
	}
	if !valid {
		return results, nil
	}
	cat, err := s.cats.Effective(ctx, village)
	if err != nil {
		return nil, err
	}
	// One submission sends its evidence with the audit record and COMMIT
	// (Writer.SendEvidence), its household's registration date
	// remembered from an earlier submission rather than read: one round
	// trip in all. The insert itself checks the id and the date: a
	// repeated request id or a household changed since fails the
	// transaction (EVIDENCE_NOT_SENT), and the submission runs again
	// reading both first, as a batch does on a conflict.
	send := single && !dryRun
	write := func(tx Writer) error {
		// fn may be retried: start from the field-validation results.
		out := make([]RowResult, len(results))
		copy(out, results)
		// A dry run looks request ids up first; a real one inserts first
		// and reads only on a conflict, because under SERIALIZABLE a read
		// of the request-id index before the insert makes concurrent
		// submissions abort each other. A submission whose sent evidence
		// met a taken id looks it up first too: it is taken.
		prior := map[string]*Evidence{}
		if dryRun || (single && !send) {
			var ids []string
			for i := range rows {
				if out[i].Err == nil {
					ids = append(ids, rows[i].RequestID)
				}
			}
			var err error
			if prior, err = tx.EvidenceByRequests(ctx, village, ids); err != nil {
				return err
			}
		}
		seenBefore := func(i int, hash string) (bool, error) {
			e, ok := prior[rows[i].RequestID]
			if !ok {
				return false, nil
			}
			if e.RequestHash != hash {
				out[i].Err = fault.New(fault.AlreadyExists, "REQUEST_ID_REUSED",
					"request id %q was already used for %s with different content", rows[i].RequestID, e.Name())
			} else {
				out[i].Evidence, out[i].Duplicate = e, true
			}
			return true, nil
		}
		homes := map[string]household.Date{} // registration dates
		var fresh []int                      // rows to insert
		posts := map[int]points.Item{}       // of those, the ones posted at once
		batch := &ledgerBatch{sheets: map[string]*Sheet{}, pending: map[string][]points.Entry{}}
		for i, in := range rows {
			if out[i].Err != nil {
				continue
			}
			hash := requestHash(in)
			if done, err := seenBefore(i, hash); done || err != nil {
				if err != nil {
					return err
				}
				continue
			}
			registered, ok := homes[ps[i].household]
			remembered := false
			if !ok && send {
				registered, ok = s.homes.get(ps[i].village, ps[i].household)
				remembered = ok
			}
			if !ok {
				h, err := tx.Household(ctx, ps[i].village, ps[i].household)
				if fault.Is(err, fault.NotFound) {
					out[i].Err = fault.New(fault.NotFound, "HOUSEHOLD_NOT_FOUND", "household %s does not exist", in.Parent)
					continue
				}
				if err != nil {
					return err
				}
				registered = h.Registered
				s.homes.put(h.Village, h.ID, registered)
			}
			homes[ps[i].household] = registered
			item, err := checkAgainst(ps[i], cat, registered, today)
			if err != nil && remembered {
				// Only the insert checks a remembered date, so a refusal
				// must rest on a read: run again, reading.
				return errRemembered
			}
			if err != nil {
				out[i].Err = err
				continue
			}
			e := newEvidence(ps[i], p, now, hash, cat)
			out[i].Evidence = e
			if dryRun {
				continue
			}
			// Machine-recorded items need no review: straight to 公示.
			if ps[i].in.Kind == Points && !item.Review {
				if err := openNotice(e, cat, today); err != nil {
					return err
				}
				posts[i] = item
			}
			fresh = append(fresh, i)
		}
		if dryRun || len(fresh) == 0 {
			copy(results, out)
			return nil
		}
		es := make([]*Evidence, len(fresh))
		for k, i := range fresh {
			es[k] = out[i].Evidence
		}
		stored := map[string]bool{}
		if send {
			if err := tx.SendEvidence(ctx, es[0], homes[es[0].Household]); err != nil {
				return err
			}
			stored[es[0].ID] = true
		} else {
			var err error
			if stored, err = tx.InsertEvidences(ctx, es); err != nil {
				return err
			}
		}
		var taken []string
		for _, i := range fresh {
			if !stored[out[i].Evidence.ID] {
				taken = append(taken, rows[i].RequestID)
			}
		}
		if len(taken) > 0 {
			if prior, err = tx.EvidenceByRequests(ctx, village, taken); err != nil {
				return err
			}
		}
		for _, i := range fresh {
			e := out[i].Evidence
			if !stored[e.ID] {
				if _, ok := prior[rows[i].RequestID]; !ok {
					// Taken by a transaction this one cannot see yet.
					return errRequestRace
				}
				out[i].Evidence = nil
				if _, err := seenBefore(i, e.RequestHash); err != nil {
					return err
				}
				continue
			}
			if item, ok := posts[i]; ok {
				if err := s.postEntry(ctx, tx, e, item, e.NoticeEnd, batch); err != nil {
					return err
				}
			}
			if err := tx.Record(ctx, s.record(p, "evidence.submit", e, now, e.RequestHash, nil)); err != nil {
				return err
			}
		}
		if err := batch.flush(ctx, tx); err != nil {
			return err
		}
		copy(results, out)
		return nil
	}
	if dryRun {
		err = s.store.Read(ctx, func(r Reader) error { return write(readOnly{r}) })
	} else {
		for range 3 {
			err = s.store.Write(ctx, write)
			var f *fault.Error
			if send && (err == errRemembered || (errors.As(err, &f) && f.Reason == ReasonNotSent)) {
				send = false
				continue
			}
			if err != errRequestRace {
				break
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if single && results[0].Err != nil {
		return nil, results[0].Err
	}
	return results, nil
}

// readOnly lets a dry run share the write path: it must never reach a
// write, since dryRun returns before each one.
type readOnly struct{ Reader }

func (readOnly) Record(context.Context, audit.Record) error { return errDryRunWrite }
func (readOnly) InsertEvidence(context.Context, *Evidence) error {
	return errDryRunWrite
}
func (readOnly) SendEvidence(context.Context, *Evidence, household.Date) error {
	return errDryRunWrite
}
func (readOnly) InsertEvidences(context.Context, []*Evidence) (map[string]bool, error) {
	return nil, errDryRunWrite
}
func (readOnly) UpdateEvidence(context.Context, *Evidence) error { return errDryRunWrite }
func (readOnly) AppendEntries(context.Context, *Sheet, []points.Entry) error {
	return errDryRunWrite
}
func (readOnly) AppendEvent(context.Context, *Event) error { return errDryRunWrite }

// ReasonNotSent is Writer.SendEvidence's refusal of evidence whose request
// id is already used in the village or whose household is no longer as
// given. Submit never returns it: it runs again, reading both first.
const ReasonNotSent = "EVIDENCE_NOT_SENT"

// errRemembered sends a single submission refused on a remembered
// registration date to be run again reading its household.
var errRemembered = errors.New("refused on a remembered registration date")

var errRequestRace = fault.New(fault.Unavailable, "REQUEST_RACE", "a concurrent request with the same request id is being stored; retry")

var errDryRunWrite = fault.New(fault.Internal, "INTERNAL", "a dry run tried to write")

func newEvidence(p parsed, by *access.Principal, now time.Time, hash string, cat *points.Catalogue) *Evidence {
	id := uuid.Must(uuid.NewV7())
	e := &Evidence{
		ID: id.String(), Village: p.village, Household: p.household, Kind: p.in.Kind,
		ItemCode: p.in.ItemCode, Quantity: p.in.Quantity,
		Level: p.in.Level, Stars: p.in.Stars, ValidUntil: p.validUntil,
		Period: p.in.Period, Creditworthy: p.in.Creditworthy, ProposedAmount: p.amount,
		OccurredOn: p.occurred, Note: strings.TrimSpace(p.in.Note), Attachments: p.in.Attachments,
		Witness: strings.TrimSpace(p.in.Witness), SystemSource: strings.TrimSpace(p.in.SystemSource),
		State: PendingReview, SubmittedBy: by.ID, SubmitTime: now,
		RequestID: p.in.RequestID, RequestHash: hash, Version: 1,
	}
	if e.Kind == Points {
		e.CatalogueHash = cat.Hash
	}
	return e
}

// post moves e to Posted with 公示 starting today: points evidence appends
// its ledger entry (effective when the notice ends, capped by what the
// household already has this year), a black-list listing raises its event.
func (s *Service) post(ctx context.Context, tx Writer, e *Evidence, cat *points.Catalogue, item points.Item,
	today household.Date, batch *ledgerBatch) error {
	if err := openNotice(e, cat, today); err != nil {
		return err
	}
	switch e.Kind {
	case Points:
		return s.postEntry(ctx, tx, e, item, e.NoticeEnd, batch)
	case BlackList:
		return s.event(ctx, tx, EventBlacklisted, e, e.NoticeEnd)
	}
	return nil
}

// openNotice moves e to Posted with 公示 from today for the catalogue's
// number of days.
func openNotice(e *Evidence, cat *points.Catalogue, today household.Date) error {
	end, err := cat.EffectiveOn(today)
	if err != nil {
		return err
	}
	e.State, e.NoticeStart, e.NoticeEnd = Posted, today, end
	if e.Kind == Points {
		e.CatalogueHash = cat.Hash
	}
	return nil
}

func (s *Service) postEntry(ctx context.Context, tx Writer, e *Evidence, item points.Item, effective household.Date, batch *ledgerBatch) error {
	sh, err := batch.sheet(ctx, tx, e)
	if err != nil {
		return err
	}
	entry, err := points.Post(item, e.Quantity, e.OccurredOn, effective,
		points.PostedInYear(sh.Entries, item.Code, points.Year(e.OccurredOn)))
	if err != nil {
		return err
	}
	return batch.append(ctx, tx, sh, e, entry)
}

// ledgerBatch collects the entries a batch posts, so that each
// household's sheet is written once per transaction rather than once per
// row. A nil *ledgerBatch writes every entry at once.
type ledgerBatch struct {
	sheets  map[string]*Sheet
	pending map[string][]points.Entry
	order   []string
}

func (b *ledgerBatch) sheet(ctx context.Context, tx Reader, e *Evidence) (*Sheet, error) {
	if b != nil {
		if sh, ok := b.sheets[e.Household]; ok {
			return sh, nil
		}
	}
	sh, err := tx.Sheet(ctx, e.Household)
	if err != nil {
		return nil, err
	}
	sh.Household, sh.Village = e.Household, e.Village
	if b != nil {
		b.sheets[e.Household] = sh
	}
	return sh, nil
}

// append appends entry to the household's sheet and, unbatched, to the
// ledger. Redemptions have no evidence and bring their own
// (deterministic) ID.
func (b *ledgerBatch) append(ctx context.Context, tx Writer, sh *Sheet, e *Evidence, entry points.Entry) error {
	if entry.ID == "" {
		entry.ID = uuid.Must(uuid.NewV7()).String()
	}
	entry.Household = sh.Household
	if e != nil {
		entry.EvidenceID = e.ID
	}
	sh.Entries = append(sh.Entries, entry)
	if b != nil {
		if _, ok := b.pending[sh.Household]; !ok {
			b.order = append(b.order, sh.Household)
		}
		b.pending[sh.Household] = append(b.pending[sh.Household], entry)
		return nil
	}
	if err := tx.AppendEntries(ctx, sh, []points.Entry{entry}); err != nil {
		sh.Entries = sh.Entries[:len(sh.Entries)-1]
		return err
	}
	return nil
}

// flush writes the collected entries and each touched sheet once.
func (b *ledgerBatch) flush(ctx context.Context, tx Writer) error {
	for _, h := range b.order {
		if err := tx.AppendEntries(ctx, b.sheets[h], b.pending[h]); err != nil {
			return err
		}
	}
	return nil
}

// reverse appends the reversal of e's live entry, effective on the given
// day.
func (s *Service) reverse(ctx context.Context, tx Writer, e *Evidence, on household.Date) error {
	var unbatched *ledgerBatch
	sh, err := unbatched.sheet(ctx, tx, e)
	if err != nil {
		return err
	}
	live, ok := liveEntry(sh.Entries, e.ID)
	if !ok {
		return fault.New(fault.Internal, "LEDGER_INCONSISTENT", "evidence %s is posted but has no live ledger entry", e.Name())
	}
	rev, err := points.Reverse(live, on)
	if err != nil {
		return err
	}
	return unbatched.append(ctx, tx, sh, e, rev)
}

func (s *Service) event(ctx context.Context, tx Writer, typ string, e *Evidence, effective household.Date) error {
	ev := &Event{
		ID: uuid.Must(uuid.NewV7()).String(), Type: typ, Village: e.Village, Household: e.Household,
		EvidenceID: e.ID, EffectiveOn: effective, Time: s.clock(),
	}
	return tx.AppendEvent(ctx, ev)
}

// record is the audit record of one transition: the evidence's identity,
// kind and new state, never its note or witness (free text may hold
// personal data).
func (s *Service) record(p *access.Principal, action string, e *Evidence, now time.Time, reqHash string, extra map[string]string) audit.Record {
	payload := map[string]string{
		"village": e.Village, "household": e.Household, "kind": string(e.Kind), "state": string(e.State),
	}
	if e.Kind == Points {
		payload["item_code"] = e.ItemCode
		payload["quantity"] = strconv.Itoa(int(e.Quantity))
		payload["catalogue_hash"] = e.CatalogueHash
	}
	if e.NoticeEnd != "" {
		payload["notice_end"] = string(e.NoticeEnd)
	}
	for k, v := range extra {
		payload[k] = v
	}
	return audit.Record{
		Time: now, Actor: p.ID, Action: action, Subject: e.Name(),
		RequestHash: reqHash, ResultHash: resultHash(e), Payload: payload,
	}
}

func resultHash(e *Evidence) string {
	return audit.HashBytes(fmt.Appendf(nil, "%s\x00%s\x00%s\x00%s\x00%s\x00%d\x00%s\x00%s\x00%s\x00%s\x00%d",
		e.Name(), e.Kind, e.ItemCode, e.State, e.OccurredOn, e.Quantity, e.NoticeStart, e.NoticeEnd,
		e.ValidUntil, e.ProposedAmount.String(), e.Version))
}

func checkReason(field, reason string, required bool) error {
	r := strings.TrimSpace(reason)
	switch {
	case required && r == "":
		return fault.InvalidField(field, "is required")
	case utf8.RuneCountInString(r) > MaxReason:
		return fault.InvalidField(field, "must be at most %d characters", MaxReason)
	}
	// The reason is kept verbatim in the audit log: never a 身份证号.
	zh := map[string]string{"reason": "理由", "note": "备注"}[field]
	if m := idnum.FreeTextProblem(cmpOr(zh, field), field, r); m != "" {
		return fault.InvalidField(field, "%s", m)
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// transition loads the named evidence in a write transaction, lets fn
// move it, stores it and appends the audit record.
func (s *Service) transition(ctx context.Context, p *access.Principal, name, action string,
	fn func(tx Writer, e *Evidence, now time.Time, today household.Date) (map[string]string, error)) (*Evidence, error) {
	return s.transitionIn(ctx, s.store.Write, p, name, action, fn)
}

// transitionIn is transition in a transaction that write runs.
func (s *Service) transitionIn(ctx context.Context, write func(context.Context, func(Writer) error) error,
	p *access.Principal, name, action string,
	fn func(tx Writer, e *Evidence, now time.Time, today household.Date) (map[string]string, error)) (*Evidence, error) {
	village, hh, id, err := ParseName(name, "name")
	if err != nil {
		return nil, err
	}
	now := s.clock()
	today := household.Today(now)
	var out *Evidence
	err = write(ctx, func(tx Writer) error {
		e, err := tx.Evidence(ctx, village, hh, id)
		if err != nil {
			return err
		}
		extra, err := fn(tx, e, now, today)
		if err != nil {
			return err
		}
		if err := tx.UpdateEvidence(ctx, e); err != nil {
			return err
		}
		out = e
		reqHash := audit.HashBytes([]byte(action + "\x00" + e.Name() + "\x00" + strconv.Itoa(e.Version)))
		return tx.Record(ctx, s.record(p, action, e, now, reqHash, extra))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Review approves or rejects evidence awaiting review. The reviewer must not
// be the submitter. Approval posts it with 公示 starting today, against the
// catalogue the village uses today; a rejection needs a reason.
func (s *Service) Review(ctx context.Context, p *access.Principal, name string, approve bool, reason string) (*Evidence, error) {
	if err := checkReason("reason", reason, !approve); err != nil {
		return nil, err
	}
	village := household.VillageOf(name)
	var cat *points.Catalogue
	if approve {
		if _, _, _, err := ParseName(name, "name"); err != nil {
			return nil, err
		}
		var err error
		if cat, err = s.cats.Effective(ctx, village); err != nil {
			return nil, err
		}
	}
	review := func(guarded bool) func(Writer, *Evidence, time.Time, household.Date) (map[string]string, error) {
		return func(tx Writer, e *Evidence, now time.Time, today household.Date) (map[string]string, error) {
			if err := checkReview(e, p.ID); err != nil {
				return nil, err
			}
			if guarded && approve && (e.Kind == Recommendation || e.Kind == BlackList) {
				return nil, errNotGuarded
			}
			e.ReviewedBy, e.ReviewTime, e.ReviewReason = p.ID, &now, strings.TrimSpace(reason)
			if !approve {
				e.State = Rejected
				return map[string]string{"decision": "reject"}, nil
			}
			var item points.Item
			if e.Kind == Points {
				it, ok := cat.Item(e.ItemCode)
				if !ok {
					return nil, fault.New(fault.FailedPrecondition, "ITEM_WITHDRAWN",
						"item %s is no longer in the catalogue village %s uses; reject the evidence", e.ItemCode, e.Village)
				}
				item = it
			}
			if e.Kind == Recommendation {
				if err := s.checkOneRecommendation(ctx, tx, e, today); err != nil {
					return nil, err
				}
			}
			return map[string]string{"decision": "approve"}, s.post(ctx, tx, e, cat, item, today, nil)
		}
	}
	// Most reviews run guarded (Store.WriteGuarded: READ COMMITTED on
	// PostgreSQL), which is safe because everything a rejection or the
	// approval of points or a listing acts on is checked by a write:
	//   - the evidence, read by this transaction, is updated only at the
	//     version read;
	//   - points are posted by appending to the household's sheet only at
	//     the version and entry count read, and the annual cap is counted
	//     on that sheet, so a posting that raced this one is caught;
	//   - the ledger rows have unique keys, the audit record is new;
	//   - the catalogue was read above, before the transaction, as it is
	//     for a SERIALIZABLE review.
	// Two approvals are not: a recommendation's reads a predicate (no
	// other live recommendation of the household), and a black-list
	// entry's event makes lending freeze lines it reads. They leave the
	// guarded transaction at once, having written nothing, and run
	// SERIALIZABLE. Under SERIALIZABLE, 50 concurrent reviews retried
	// about once each (SSI's page locks on the evidence key; BENCHMARKS.md,
	// issue 19).
	e, err := s.transitionIn(ctx, s.store.WriteGuarded, p, name, "evidence.review", review(true))
	if errors.Is(err, errNotGuarded) {
		return s.transitionIn(ctx, s.store.Write, p, name, "evidence.review", review(false))
	}
	return e, err
}

// errNotGuarded sends a review out of a guarded transaction (see Review).
var errNotGuarded = errors.New("this review must run serializable")

// checkOneRecommendation refuses a second recommendation of the same
// household and period while one is posted or disputed: the earlier one
// must be revoked or overturned first, so a bank never sees two answers.
func (s *Service) checkOneRecommendation(ctx context.Context, tx Reader, e *Evidence, today household.Date) error {
	var list []*Evidence
	for _, st := range []State{Posted, Disputed} {
		l, err := tx.ListEvidence(ctx, ListQuery{Village: e.Village, Household: e.Household, Kind: Recommendation, State: st, Limit: 100})
		if err != nil {
			return err
		}
		list = append(list, l...)
	}
	for _, x := range list {
		if x.Period == e.Period && x.ID != e.ID {
			return fault.New(fault.FailedPrecondition, "RECOMMENDATION_EXISTS",
				"%s already holds the village's recommendation for %s; revoke it first", x.Name(), e.Period)
		}
	}
	return nil
}

// Object records an objection during 公示: the evidence becomes disputed
// and, for points, a reversal effective on the day the notice would have
// ended keeps the points from ever counting until the dispute is resolved.
// The objector is a household of the village or village staff recording
// a villager's objection; the caller has checked the village.
func (s *Service) Object(ctx context.Context, p *access.Principal, name, reason string) (*Evidence, error) {
	if err := checkReason("reason", reason, true); err != nil {
		return nil, err
	}
	if p.Role == access.Household {
		// Before the evidence is read, so that a household of another
		// village cannot learn which evidence exists.
		if err := s.CheckVillager(ctx, p, household.VillageOf(name)); err != nil {
			return nil, err
		}
	}
	return s.transition(ctx, p, name, "evidence.object", func(tx Writer, e *Evidence, now time.Time, today household.Date) (map[string]string, error) {
		if err := checkObject(e, p.ID, today); err != nil {
			return nil, err
		}
		e.State, e.ObjectedBy, e.ObjectTime, e.ObjectReason = Disputed, p.ID, &now, strings.TrimSpace(reason)
		if e.Kind == Points {
			if err := s.reverse(ctx, tx, e, e.NoticeEnd); err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
}

// Resolve decides a dispute. Upholding the evidence re-posts it: its
// points count from the later of the original end of notice and today.
// Overturning it ends it; a black-list listing is lifted.
func (s *Service) Resolve(ctx context.Context, p *access.Principal, name string, uphold bool, reason string) (*Evidence, error) {
	if err := checkReason("reason", reason, true); err != nil {
		return nil, err
	}
	var cat *points.Catalogue
	if uphold {
		if _, _, _, err := ParseName(name, "name"); err != nil {
			return nil, err
		}
		var err error
		if cat, err = s.cats.Effective(ctx, household.VillageOf(name)); err != nil {
			return nil, err
		}
	}
	return s.transition(ctx, p, name, "evidence.resolve", func(tx Writer, e *Evidence, now time.Time, today household.Date) (map[string]string, error) {
		if err := checkResolve(e, p.ID); err != nil {
			return nil, err
		}
		e.ResolvedBy, e.ResolveTime, e.ResolveReason, e.Upheld = p.ID, &now, strings.TrimSpace(reason), uphold
		if !uphold {
			e.State = Overturned
			if e.Kind == BlackList {
				return map[string]string{"outcome": "overturn"}, s.event(ctx, tx, EventBlacklistLifted, e, today)
			}
			return map[string]string{"outcome": "overturn"}, nil
		}
		e.State = Posted
		e.NoticeEnd = laterOf(e.NoticeEnd, today)
		if e.Kind == BlackList {
			// Lending treats the events as idempotent: this one only
			// restates the listing with the date it now counts from.
			if err := s.event(ctx, tx, EventBlacklisted, e, e.NoticeEnd); err != nil {
				return nil, err
			}
		}
		if e.Kind == Recommendation {
			if err := s.checkOneRecommendation(ctx, tx, e, today); err != nil {
				return nil, err
			}
		}
		if e.Kind == Points {
			item, ok := cat.Item(e.ItemCode)
			if !ok {
				return nil, fault.New(fault.FailedPrecondition, "ITEM_WITHDRAWN",
					"item %s is no longer in the catalogue village %s uses; overturn the evidence instead", e.ItemCode, e.Village)
			}
			if err := s.postEntry(ctx, tx, e, item, e.NoticeEnd, nil); err != nil {
				return nil, err
			}
		}
		return map[string]string{"outcome": "uphold"}, nil
	})
}

// Revoke withdraws posted evidence: points evidence appends a reversal
// (effective today, or when the notice would have ended if it is still on
// notice), a black-list listing is lifted. Revoking twice is refused.
func (s *Service) Revoke(ctx context.Context, p *access.Principal, name, reason string) (*Evidence, error) {
	if err := checkReason("reason", reason, true); err != nil {
		return nil, err
	}
	return s.transition(ctx, p, name, "evidence.revoke", func(tx Writer, e *Evidence, now time.Time, today household.Date) (map[string]string, error) {
		if err := checkRevoke(e); err != nil {
			return nil, err
		}
		on := laterOf(e.NoticeEnd, today)
		e.State, e.RevokedBy, e.RevokeTime, e.RevokeReason = Revoked, p.ID, &now, strings.TrimSpace(reason)
		switch e.Kind {
		case Points:
			return nil, s.reverse(ctx, tx, e, on)
		case BlackList:
			return nil, s.event(ctx, tx, EventBlacklistLifted, e, on)
		}
		return nil, nil
	})
}

// Get returns the named evidence.
func (s *Service) Get(ctx context.Context, name string) (*Evidence, error) {
	village, hh, id, err := ParseName(name, "name")
	if err != nil {
		return nil, err
	}
	var out *Evidence
	err = s.store.Read(ctx, func(tx Reader) error {
		out, err = tx.Evidence(ctx, village, hh, id)
		return err
	})
	return out, err
}

// Today is the business date now, in Asia/Shanghai.
func (s *Service) Today() household.Date { return household.Today(s.clock()) }
