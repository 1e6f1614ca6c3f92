package dividend

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
	"github.com/sanzhi/sanzhi/paging"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/docver"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// Service keeps the rule versions and runs the rounds. Who may call which
// method for which village has been decided by the caller (access's
// policy); the service checks input, states and the second person.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService returns a Service; now is the clock.
func NewService(store Store, now func() time.Time) *Service {
	return &Service{store: store, now: now}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Today is the business date now, in Asia/Shanghai.
func (s *Service) Today() household.Date { return household.Today(s.clock()) }

// lifecycle is the rule document's kind of versioned document: like a
// catalogue, the second person's step is the activation.
var lifecycle = docver.Doc{
	Reason:     "DIVIDEND_RULE",
	ReturnHint: "to return to its content, upload it as a new version",
	NameNext:   true,
}

// Limits of a round's free text.
const (
	MaxTitle  = 100
	MaxReason = 500
)

// UploadRule validates doc and stores it as a draft version of the rule
// of the village named by parent, which must be the one the document
// declares. Uploading a stored version again with identical text returns
// it and writes nothing; other text is AlreadyExists.
func (s *Service) UploadRule(ctx context.Context, p *access.Principal, parent string, doc []byte) (*RuleVersion, error) {
	var v fault.Violations
	village := household.ParseVillageParent(parent, "parent", &v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	rule, err := ParseRule(doc)
	if err != nil {
		return nil, err
	}
	if rule.Village != village {
		return nil, fault.InvalidField("parent", "the document is the rule of village %s; upload it to %s",
			rule.Village, resource.Village(rule.Village))
	}
	now := s.clock()
	var out *RuleVersion
	err = s.store.Write(ctx, func(tx Writer) error {
		prev, err := tx.DividendRule(ctx, village, rule.Version)
		switch {
		case err == nil:
			if err := lifecycle.Reupload(prev.Name(), prev.Version, prev.Document, string(doc)); err != nil {
				return err
			}
			out = prev
			return nil
		case !fault.Is(err, fault.NotFound):
			return err
		}
		rv := &RuleVersion{Village: village, Version: rule.Version, Document: string(doc), ContentHash: rule.Hash,
			Title: rule.Name, State: docver.Draft, UploadedBy: p.ID, UploadTime: now}
		if err := tx.InsertDividendRule(ctx, rv); err != nil {
			return err
		}
		out = rv
		return tx.Record(ctx, ruleRecord(p.ID, "dividend.rule.upload", rv, now, nil))
	})
	return out, err
}

// ActivateRule makes the named draft the village's active rule; the
// version it replaces becomes superseded. The activator must not be the
// uploader, and only a version newer than the active one is activated.
// Activating the active version again returns it.
func (s *Service) ActivateRule(ctx context.Context, p *access.Principal, name string) (*RuleVersion, error) {
	village, n, err := ParseRuleName(name, "name", false)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	var out *RuleVersion
	err = s.store.Write(ctx, func(tx Writer) error {
		v, err := tx.DividendRule(ctx, village, n)
		if err != nil {
			return err
		}
		change, err := lifecycle.Activate(v.Name(), v.State, v.UploadedBy, p.ID)
		if err != nil {
			return err
		}
		out = v
		if !change {
			return nil
		}
		extra := map[string]string{}
		cur, err := tx.ActiveDividendRule(ctx, village)
		switch {
		case err == nil:
			if err := lifecycle.Supersede(v.Name(), v.Version, cur.Version); err != nil {
				return err
			}
			cur.State, cur.SupersedeTime = docver.Superseded, &now
			if err := tx.UpdateDividendRuleState(ctx, cur); err != nil {
				return err
			}
			extra["superseded_version"] = strconv.Itoa(cur.Version)
		case !fault.Is(err, fault.NotFound):
			return err
		}
		v.State, v.ActivatedBy, v.ActivateTime = docver.Active, p.ID, &now
		if err := tx.UpdateDividendRuleState(ctx, v); err != nil {
			return err
		}
		return tx.Record(ctx, ruleRecord(p.ID, "dividend.rule.activate", v, now, extra))
	})
	return out, err
}

func ruleRecord(actor, action string, v *RuleVersion, at time.Time, extra map[string]string) audit.Record {
	payload := map[string]string{
		"village": v.Village, "version": strconv.Itoa(v.Version), "content_hash": v.ContentHash, "state": string(v.State),
	}
	for k, x := range extra {
		payload[k] = x
	}
	return audit.Record{
		Time: at, Actor: actor, Action: action, Subject: v.Name(),
		RequestHash: audit.HashBytes([]byte(action + "\x00" + v.Name() + "\x00" + v.ContentHash)),
		ResultHash:  audit.HashBytes(fmt.Appendf(nil, "%s\x00%s\x00%s\x00%s\x00%s", v.Name(), v.ContentHash, v.State, v.UploadedBy, v.ActivatedBy)),
		Payload:     payload,
	}
}

// GetRule returns the named version with its text; the version may be
// "active".
func (s *Service) GetRule(ctx context.Context, name string) (*RuleVersion, error) {
	village, n, err := ParseRuleName(name, "name", true)
	if err != nil {
		return nil, err
	}
	var out *RuleVersion
	err = s.store.Read(ctx, func(tx Reader) error {
		if n == 0 {
			out, err = tx.ActiveDividendRule(ctx, village)
		} else {
			out, err = tx.DividendRule(ctx, village, n)
		}
		return err
	})
	return out, err
}

// RulePage is one page of rule versions.
type RulePage = docver.Page[*RuleVersion]

// ListRules returns a page of the village's rule versions, newest first,
// without their text.
func (s *Service) ListRules(ctx context.Context, parent string, size int32, token string) (RulePage, error) {
	var v fault.Violations
	village := household.ParseVillageParent(parent, "parent", &v)
	return docver.List(&v, "dividendRules|"+parent, size, token,
		func(before, limit int) (items []*RuleVersion, err error) {
			err = s.store.Read(ctx, func(tx Reader) error {
				items, err = tx.DividendRules(ctx, RuleQuery{Village: village, Before: before, Limit: limit})
				return err
			})
			return items, err
		}, func(v *RuleVersion) int { return v.Version })
}

// CreateInput is what a clerk gives to start a round.
type CreateInput struct {
	// Parent is villages/{village}.
	Parent string
	Title  string
	// Pool is in yuan, e.g. "125000.00".
	Pool string
	// RecordDate is YYYY-MM-DD, not after today.
	RecordDate string
	// RuleVersion must be the village's active version; 0 takes it.
	RuleVersion int
	// RequestID makes the call idempotent: repeating it returns the round.
	RequestID string
}

var amountSyntax = regexp.MustCompile(`^-?[0-9]{1,30}(\.[0-9]{1,30})?$`)

// parseCreate checks a round's input on its own.
func parseCreate(in CreateInput, today household.Date) (village string, pool decimal.Decimal, day household.Date, err error) {
	var v fault.Violations
	village = household.ParseVillageParent(in.Parent, "parent", &v)
	title := strings.TrimSpace(in.Title)
	switch {
	case title == "":
		v.Add("round.title", "is required, e.g. 2025年度集体经济股份+积分分红")
	case utf8.RuneCountInString(title) > MaxTitle:
		v.Add("round.title", "must be at most %d characters", MaxTitle)
	default:
		if m := idnum.FreeTextProblem("标题", "title", title); m != "" {
			v.Add("round.title", "%s", m)
		}
	}
	switch p := strings.TrimSpace(in.Pool); {
	case p == "":
		v.Add("round.pool", "is required: the amount to share, in yuan, e.g. 125000.00")
	case !amountSyntax.MatchString(p):
		v.Add("round.pool", "must be an amount in yuan such as 125000.00, got %q", short(p))
	default:
		pool = decimal.RequireFromString(p)
		if err := CheckPool("round.pool", pool); err != nil {
			var f *fault.Error
			errors.As(err, &f)
			v = append(v, f.Violations...)
		}
	}
	if in.RecordDate == "" {
		v.Add("round.record_date", "is required: the day whose roll and points count (YYYY-MM-DD)")
	} else if d, derr := household.ParseDate(in.RecordDate); derr != nil {
		v.Add("round.record_date", "%q is not a date in YYYY-MM-DD form", short(in.RecordDate))
	} else if d.After(today) {
		v.Add("round.record_date", "%s is in the future (today is %s in Asia/Shanghai); the roll and the points are known only up to today", d, today)
	} else {
		day = d
	}
	if in.RuleVersion < 0 || in.RuleVersion > MaxVersion {
		v.Add("round.rule_version", "must be a version number 1..%d, or 0 for the active one", MaxVersion)
	}
	if in.RequestID == "" || len(in.RequestID) > 100 {
		v.Add("request_id", "is required, at most 100 bytes")
	} else if m := idnum.FreeTextProblem("请求号", "request_id", in.RequestID); m != "" {
		v.Add("request_id", "%s", m)
	}
	return village, pool, day, v.Err()
}

func short(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Holdings turns the roll into the allocation's input under rule, as of
// day, and keeps the rows' names for the outputs.
func Holdings(rule *Rule, day household.Date, roll []*RollRow) ([]Holding, map[string]*RollRow) {
	hs := make([]Holding, len(roll))
	byID := make(map[string]*RollRow, len(roll))
	for i, r := range roll {
		hs[i] = Holding{Household: r.Household, Shares: r.Shares, Points: decimal.Zero,
			BlackListed: BlackListedOn(r.BlackLists, day)}
		if rule.PointsPercent.IsPositive() {
			hs[i].Points = PointsOf(rule, r.Entries, day)
		}
		byID[r.Household] = r
	}
	return hs, byID
}

// roll reads the village's roll at day as rows carrying their holdings
// under rule and their names (no amounts yet), in household id order.
func (s *Service) roll(ctx context.Context, village string, day household.Date, rule *Rule) ([]*Row, error) {
	var rows []*Row
	err := s.store.Roll(ctx, village, day, func(r *RollRow) error {
		h, _ := Holdings(rule, day, []*RollRow{r})
		rows = append(rows, &Row{Line: Line{Holding: h[0]}, HeadName: r.HeadName, Group: r.Group})
		return nil
	})
	return rows, err
}

// allocateRows allocates pool over rows and fills in their lines.
func allocateRows(village string, day household.Date, pool decimal.Decimal, rule *Rule, rows []*Row) (*Allocation, error) {
	hs := make([]Holding, len(rows))
	byID := make(map[string]*Row, len(rows))
	for i, r := range rows {
		hs[i] = r.Holding
		byID[r.Household] = r
	}
	a, err := Allocate(Input{Village: village, RecordDate: day, Pool: pool, Rule: rule, Holdings: hs})
	if err != nil {
		return nil, err
	}
	for _, l := range a.Lines {
		byID[l.Household].Line = l
	}
	return a, nil
}

func createHash(village string, in CreateInput, pool decimal.Decimal) string {
	return audit.HashBytes(fmt.Appendf(nil, "dividend.round.create\x00%s\x00%s\x00%s\x00%s\x00%d",
		village, strings.TrimSpace(in.Title), pool.StringFixed(2), in.RecordDate, in.RuleVersion))
}

// CreateRound computes a round from the roll at the record date under the
// village's active rule and stores it as a draft. Refusals, each writing
// nothing: bad input (Invalid: pool not positive, not whole fen or too
// large; a record date in the future; …); no active rule
// (FailedPrecondition, NO_ACTIVE_RULE), a version that is not the active
// one (RULE_NOT_ACTIVE); a live round of the same record date
// (ROUND_EXISTS); a roll that cannot take the pool (Allocate's refusals).
// Repeating a request id with the same input returns the round; with
// other input it is AlreadyExists (REQUEST_ID_REUSED).
func (s *Service) CreateRound(ctx context.Context, p *access.Principal, in CreateInput) (*Round, error) {
	now := s.clock()
	village, pool, day, err := parseCreate(in, household.Today(now))
	if err != nil {
		return nil, err
	}
	reqHash := createHash(village, in, pool)
	var active *RuleVersion
	var existing *Round
	err = s.store.Read(ctx, func(tx Reader) error {
		r, err := tx.RoundByRequest(ctx, village, in.RequestID)
		switch {
		case err == nil:
			existing = r
			return nil
		case !fault.Is(err, fault.NotFound):
			return err
		}
		active, err = activeRule(ctx, tx, village, in.RuleVersion)
		return err
	})
	if err != nil {
		return nil, err
	}
	if existing != nil {
		return sameRequest(existing, reqHash, in.RequestID)
	}
	rule, err := ParseRule([]byte(active.Document))
	if err != nil {
		return nil, fault.Wrap(err, fault.FailedPrecondition, "DIVIDEND_RULE_UNREADABLE",
			"%s no longer passes validation; upload a corrected version", active.Name())
	}
	rows, err := s.roll(ctx, village, day, rule)
	if err != nil {
		return nil, err
	}
	alloc, err := allocateRows(village, day, pool, rule, rows)
	if err != nil {
		return nil, err
	}
	r := &Round{
		ID: uuid.Must(uuid.NewV7()).String(), Village: village, Title: strings.TrimSpace(in.Title),
		RecordDate: day, Pool: pool, RuleVersion: active.Version, RuleHash: active.ContentHash,
		State: Draft, Households: len(alloc.Lines), Paid: countPaid(alloc.Lines),
		TotalShares: alloc.TotalShares, TotalPoints: alloc.TotalPoints, AllocationHash: alloc.Hash,
		RequestID: in.RequestID, RequestHash: reqHash, CreatedBy: p.ID, CreateTime: now, Version: 1,
	}
	var out *Round
	err = s.store.Write(ctx, func(tx Writer) error {
		prev, err := tx.RoundByRequest(ctx, village, in.RequestID)
		switch {
		case err == nil:
			out, err = sameRequest(prev, reqHash, in.RequestID)
			return err
		case !fault.Is(err, fault.NotFound):
			return err
		}
		// The rule may have changed while the roll was read.
		cur, err := activeRule(ctx, tx, village, in.RuleVersion)
		if err != nil {
			return err
		}
		if cur.Version != active.Version {
			return fault.New(fault.FailedPrecondition, "CONCURRENT_CHANGE",
				"the village's active rule changed to version %d while the round was computed; create it again", cur.Version)
		}
		if live, err := tx.LiveRound(ctx, village, day); err == nil {
			return fault.New(fault.FailedPrecondition, "ROUND_EXISTS",
				"%s (%s) already covers the record date %s; a rejected or withdrawn round makes room for a new one",
				live.Name(), live.State, day)
		} else if !fault.Is(err, fault.NotFound) {
			return err
		}
		if err := tx.InsertRound(ctx, r, rows); err != nil {
			return err
		}
		out = r
		return tx.Record(ctx, roundRecord(p.ID, "dividend.round.create", r, now, reqHash, nil))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// activeRule reads village's active rule, which version n (0: any) must be.
func activeRule(ctx context.Context, tx Reader, village string, n int) (*RuleVersion, error) {
	v, err := tx.ActiveDividendRule(ctx, village)
	if fault.Is(err, fault.NotFound) {
		return nil, fault.New(fault.FailedPrecondition, "NO_ACTIVE_RULE",
			"village %s has no active dividend rule: upload one and have a second person activate it", village)
	}
	if err != nil {
		return nil, err
	}
	if n != 0 && n != v.Version {
		return nil, fault.New(fault.FailedPrecondition, "RULE_NOT_ACTIVE",
			"%s is not the village's active rule (version %d is); a round uses the active rule", RuleName(village, n), v.Version)
	}
	return v, nil
}

func sameRequest(r *Round, hash, requestID string) (*Round, error) {
	if r.RequestHash != hash {
		return nil, fault.New(fault.AlreadyExists, "REQUEST_ID_REUSED",
			"request id %q was already used for %s with other input", requestID, r.Name())
	}
	return r, nil
}

// roundRecord describes a round's step for the log: identity, state,
// money and the allocation's hash; never a name or a reason's text.
func roundRecord(actor, action string, r *Round, at time.Time, reqHash string, extra map[string]string) audit.Record {
	payload := map[string]string{
		"village": r.Village, "state": string(r.State), "record_date": string(r.RecordDate),
		"pool": r.Pool.StringFixed(2), "rule_version": strconv.Itoa(r.RuleVersion), "rule_hash": r.RuleHash,
		"households": strconv.Itoa(r.Households), "allocation_hash": r.AllocationHash,
	}
	for k, x := range extra {
		payload[k] = x
	}
	return audit.Record{
		Time: at, Actor: actor, Action: action, Subject: r.Name(), RequestHash: reqHash,
		ResultHash: audit.HashBytes(fmt.Appendf(nil, "%s\x00%s\x00%s\x00%s\x00%d",
			r.Name(), r.State, r.AllocationHash, r.NoticeEnd, r.Version)),
		Payload: payload,
	}
}

// GetRound returns the named round.
func (s *Service) GetRound(ctx context.Context, name string) (*Round, error) {
	village, id, err := ParseRoundName(name, "name")
	if err != nil {
		return nil, err
	}
	var out *Round
	err = s.store.Read(ctx, func(tx Reader) error {
		out, err = tx.Round(ctx, village, id)
		return err
	})
	return out, err
}

// RoundPage is one page of rounds.
type RoundPage struct {
	Rounds    []*Round
	NextToken string
}

// ListRounds returns a page of the village's rounds, newest first.
func (s *Service) ListRounds(ctx context.Context, parent string, size int32, token string) (RoundPage, error) {
	var v fault.Violations
	village := household.ParseVillageParent(parent, "parent", &v)
	scope := "dividendRounds|" + parent
	before := paging.Cursor(token, scope, &v)
	limit := paging.Limit(size, &v)
	if err := v.Err(); err != nil {
		return RoundPage{}, err
	}
	var items []*Round
	err := s.store.Read(ctx, func(tx Reader) error {
		var err error
		items, err = tx.Rounds(ctx, RoundQuery{Village: village, Before: before, Limit: limit + 1})
		return err
	})
	if err != nil {
		return RoundPage{}, err
	}
	page := RoundPage{Rounds: items}
	if len(items) > limit {
		page.Rounds = items[:limit]
		page.NextToken = paging.Token(scope, items[limit-1].ID)
	}
	return page, nil
}

// step loads the named round in a write transaction, lets fn move it,
// stores it and appends the audit record.
func (s *Service) step(ctx context.Context, p *access.Principal, name, action string,
	fn func(tx Writer, r *Round, now time.Time, today household.Date) (map[string]string, error)) (*Round, error) {
	village, id, err := ParseRoundName(name, "name")
	if err != nil {
		return nil, err
	}
	now := s.clock()
	var out *Round
	err = s.store.Write(ctx, func(tx Writer) error {
		r, err := tx.Round(ctx, village, id)
		if err != nil {
			return err
		}
		extra, err := fn(tx, r, now, household.Today(now))
		if err != nil {
			return err
		}
		if err := tx.UpdateRound(ctx, r); err != nil {
			return err
		}
		out = r
		reqHash := audit.HashBytes([]byte(action + "\x00" + r.Name() + "\x00" + strconv.Itoa(r.Version)))
		return tx.Record(ctx, roundRecord(p.ID, action, r, now, reqHash, extra))
	})
	return out, err
}

func checkReason(field, reason string, required bool) error {
	r := strings.TrimSpace(reason)
	switch {
	case required && r == "":
		return fault.InvalidField(field, "is required")
	case utf8.RuneCountInString(r) > MaxReason:
		return fault.InvalidField(field, "must be at most %d characters", MaxReason)
	}
	if m := idnum.FreeTextProblem("理由", field, r); m != "" {
		return fault.InvalidField(field, "%s", m)
	}
	return nil
}

// ReviewRound is the second person's review of a draft: approval starts
// the 公示 today for the rule's notice days; a rejection needs a reason
// and ends the round. The reviewer must not be the creator.
func (s *Service) ReviewRound(ctx context.Context, p *access.Principal, name string, approve bool, reason string) (*Round, error) {
	if err := checkReason("reason", reason, !approve); err != nil {
		return nil, err
	}
	return s.step(ctx, p, name, "dividend.round.review", func(tx Writer, r *Round, now time.Time, today household.Date) (map[string]string, error) {
		if err := checkReview(r, p.ID); err != nil {
			return nil, err
		}
		r.ReviewedBy, r.ReviewTime, r.ReviewReason = p.ID, &now, strings.TrimSpace(reason)
		if !approve {
			r.State = Rejected
			return map[string]string{"decision": "reject"}, nil
		}
		rv, err := tx.DividendRule(ctx, r.Village, r.RuleVersion)
		if err != nil {
			return nil, err
		}
		rule, err := ParseRule([]byte(rv.Document))
		if err != nil {
			return nil, fault.Wrap(err, fault.FailedPrecondition, "DIVIDEND_RULE_UNREADABLE", "%s no longer passes validation", rv.Name())
		}
		r.State, r.NoticeStart, r.NoticeEnd = OnNotice, today, points.AddDays(today, rule.NoticeDays)
		return map[string]string{"decision": "approve", "notice_end": string(r.NoticeEnd)}, nil
	})
}

// Object records a household's objection to its line while the round is
// on notice. The objector is the household itself or village staff
// recording a villager's objection (the caller has checked the
// principal's reach); the household must be on the round's roll, and has
// at most one open objection per round.
func (s *Service) Object(ctx context.Context, p *access.Principal, roundName, householdName, reason string) (*Objection, error) {
	village, id, err := ParseRoundName(roundName, "round")
	if err != nil {
		return nil, err
	}
	hv, hh, err := household.ParseName(householdName, "household")
	if err != nil {
		return nil, err
	}
	if hv != village {
		return nil, fault.InvalidField("household", "%s is not of village %s, whose round this is", householdName, village)
	}
	if err := checkReason("reason", reason, true); err != nil {
		return nil, err
	}
	now := s.clock()
	var out *Objection
	err = s.store.Write(ctx, func(tx Writer) error {
		r, err := tx.Round(ctx, village, id)
		if err != nil {
			return err
		}
		if err := checkObject(r, household.Today(now)); err != nil {
			return err
		}
		if _, err := tx.RoundRow(ctx, r.ID, hh); err != nil {
			if fault.Is(err, fault.NotFound) && p.Role == access.Household {
				// A household learns nothing of another village's rounds.
				return roundNotFound(r)
			}
			if fault.Is(err, fault.NotFound) {
				return fault.New(fault.FailedPrecondition, "NOT_ON_ROLL",
					"%s was not on the roll of %s at the record date %s", householdName, r.Name(), r.RecordDate)
			}
			return err
		}
		prior, err := tx.Objections(ctx, r.ID, hh)
		if err != nil {
			return err
		}
		for _, o := range prior {
			if o.State == Open {
				return fault.New(fault.FailedPrecondition, "ALREADY_OBJECTED",
					"the household's objection %s is still open", o.Name())
			}
		}
		o := &Objection{ID: uuid.Must(uuid.NewV7()).String(), Round: r.ID, Village: village, Household: hh,
			Reason: strings.TrimSpace(reason), ObjectedBy: p.ID, ObjectTime: now, State: Open}
		if err := tx.InsertObjection(ctx, o); err != nil {
			return err
		}
		r.OpenObjections++
		if err := tx.UpdateRound(ctx, r); err != nil {
			return err
		}
		out = o
		return tx.Record(ctx, objectionRecord(p.ID, "dividend.round.object", r, o, now))
	})
	return out, err
}

func roundNotFound(r *Round) error {
	return fault.New(fault.NotFound, "DIVIDEND_ROUND_NOT_FOUND", "%s not found", r.Name())
}

func objectionRecord(actor, action string, r *Round, o *Objection, at time.Time) audit.Record {
	return audit.Record{
		Time: at, Actor: actor, Action: action, Subject: o.Name(),
		RequestHash: audit.HashBytes([]byte(action + "\x00" + o.Name() + "\x00" + o.Reason + "\x00" + o.ResolveReason)),
		ResultHash:  audit.HashBytes(fmt.Appendf(nil, "%s\x00%s\x00%s\x00%d", o.Name(), o.State, r.State, r.OpenObjections)),
		Payload: map[string]string{
			"village": r.Village, "round": r.Name(), "household": o.HouseholdName(), "state": string(o.State),
			"round_state": string(r.State), "open_objections": strconv.Itoa(r.OpenObjections),
		},
	}
}

// ResolveObjection decides an open objection. Dismissing it leaves the
// allocation as it is; upholding it withdraws the round, since the data it
// was computed from are wrong: correct them and create a new round. A
// reason is required; the resolver is neither the objector nor the
// round's creator.
func (s *Service) ResolveObjection(ctx context.Context, p *access.Principal, name string, uphold bool, reason string) (*Objection, error) {
	village, roundID, id, err := ParseObjectionName(name, "name")
	if err != nil {
		return nil, err
	}
	if err := checkReason("reason", reason, true); err != nil {
		return nil, err
	}
	now := s.clock()
	var out *Objection
	err = s.store.Write(ctx, func(tx Writer) error {
		r, err := tx.Round(ctx, village, roundID)
		if err != nil {
			return err
		}
		o, err := tx.Objection(ctx, roundID, id)
		if err != nil {
			return err
		}
		if err := checkResolve(r, o, p.ID); err != nil {
			return err
		}
		o.ResolvedBy, o.ResolveTime, o.ResolveReason = p.ID, &now, strings.TrimSpace(reason)
		o.State = Dismissed
		r.OpenObjections--
		if uphold {
			o.State = Upheld
			r.State, r.WithdrawnBy, r.WithdrawTime, r.WithdrawReason = Withdrawn, p.ID, &now, "objection upheld: "+o.Name()
		}
		if err := tx.UpdateObjection(ctx, o); err != nil {
			return err
		}
		if err := tx.UpdateRound(ctx, r); err != nil {
			return err
		}
		out = o
		return tx.Record(ctx, objectionRecord(p.ID, "dividend.round.resolve", r, o, now))
	})
	return out, err
}

// ListObjections returns a round's objections, oldest first.
func (s *Service) ListObjections(ctx context.Context, roundName string) ([]*Objection, error) {
	village, id, err := ParseRoundName(roundName, "parent")
	if err != nil {
		return nil, err
	}
	var out []*Objection
	err = s.store.Read(ctx, func(tx Reader) error {
		if _, err := tx.Round(ctx, village, id); err != nil {
			return err
		}
		out, err = tx.Objections(ctx, id, "")
		return err
	})
	return out, err
}

// ApproveRound approves a round whose 公示 has ended with no objection
// open. The approver must not be the creator. Before approving it the
// allocation is recomputed from the stored inputs and must give the
// stored hash, so what is approved is what was reviewed and posted.
func (s *Service) ApproveRound(ctx context.Context, p *access.Principal, name string) (*Round, error) {
	return s.step(ctx, p, name, "dividend.round.approve", func(tx Writer, r *Round, now time.Time, today household.Date) (map[string]string, error) {
		if err := checkApprove(r, p.ID, today); err != nil {
			return nil, err
		}
		a, err := replay(ctx, tx, r)
		if err != nil {
			return nil, err
		}
		if a.Hash != r.AllocationHash {
			return nil, fault.New(fault.Internal, "ALLOCATION_MISMATCH",
				"%s recomputes to %s, not the stored %s: the stored lines were changed; do not pay", r.Name(), a.Hash, r.AllocationHash)
		}
		r.State, r.ApprovedBy, r.ApproveTime = Approved, p.ID, &now
		return map[string]string{"total_fen": strconv.FormatInt(a.Total(), 10), "paid": strconv.Itoa(r.Paid)}, nil
	})
}

// readRows reads every row of a round.
func readRows(ctx context.Context, tx Reader, round string, paidOnly bool) ([]*Row, error) {
	var all []*Row
	after := ""
	for {
		page, err := tx.Rows(ctx, RowQuery{Round: round, After: after, Limit: 5000, PaidOnly: paidOnly})
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < 5000 {
			return all, nil
		}
		after = page[len(page)-1].Household
	}
}

// replay recomputes a round's allocation from its stored inputs (the
// rows' holdings) under its stored rule version.
func replay(ctx context.Context, tx Reader, r *Round) (*Allocation, error) {
	rv, err := tx.DividendRule(ctx, r.Village, r.RuleVersion)
	if err != nil {
		return nil, err
	}
	rule, err := ParseRule([]byte(rv.Document))
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "DIVIDEND_RULE_UNREADABLE", "%s no longer parses", rv.Name())
	}
	if rule.Hash != r.RuleHash {
		return nil, fault.New(fault.Internal, "RULE_HASH_MISMATCH", "%s hashes to %s, the round pinned %s", rv.Name(), rule.Hash, r.RuleHash)
	}
	rows, err := readRows(ctx, tx, r.ID, false)
	if err != nil {
		return nil, err
	}
	hs := make([]Holding, len(rows))
	for i, row := range rows {
		hs[i] = row.Holding
	}
	return Allocate(Input{Village: r.Village, RecordDate: r.RecordDate, Pool: r.Pool, Rule: rule, Holdings: hs})
}
