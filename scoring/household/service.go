package household

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/paging"
	"github.com/sanzhi/sanzhi/resource"
)

// Sealer encrypts 身份证号 for storage. Implemented by adapters/pii.
type Sealer interface {
	// Seal encrypts id bound to the household it belongs to (so a sealed
	// value copied onto another household does not decrypt) and returns it
	// with its blind index.
	Seal(householdID string, id idnum.PersonID) (SealedID, error)
	// Index returns the blind index of id, for look-ups.
	Index(id idnum.PersonID) []byte
	// Open decrypts a number sealed for householdID.
	Open(householdID string, s SealedID) (idnum.PersonID, error)
}

// Service registers households and records their facts. Its methods check
// input and business rules; authorisation (role and scope) has already been
// enforced by the caller's interceptor chain.
type Service struct {
	store  Store
	sealer Sealer
	now    func() time.Time
}

// NewService returns a Service. now is the clock (time.Now in production).
func NewService(store Store, sealer Sealer, now func() time.Time) *Service {
	return &Service{store: store, sealer: sealer, now: now}
}

// clock returns now in UTC at the microsecond precision both stores keep,
// so what a write returns equals what a later read returns.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// CreateInput is a request to register a household, fields as the clerk
// typed them; the service parses and validates every one.
type CreateInput struct {
	Parent       string // villages/{code}
	HeadName     string
	HeadIDNumber string
	Group        int32
	Address      string
	Registered   string // YYYY-MM-DD
	Facts        *FactsInput
	// Members lists the household's members, the head among them; nil
	// registers the head alone (as member one).
	Members   []MemberInput
	RequestID string
}

// FactsInput is one version of facts as typed; amounts are decimal strings.
type FactsInput struct {
	Members          int32
	Labourers        int32
	AnnualIncome     string
	LandAreaMu       string
	CollectiveShares string
	ExistingDebt     string
	DishonestDebtor  bool
	Source           string
	AsOf             string
}

// Create registers a household with its first facts version. Repeating a
// request with the same RequestID returns the first result; reusing the
// RequestID for a different household is AlreadyExists.
func (s *Service) Create(ctx context.Context, p *access.Principal, in CreateInput) (*Household, error) {
	now := s.clock()
	today := Today(now)
	var v fault.Violations
	village := ParseVillageParent(in.Parent, "parent", &v)
	if strings.TrimSpace(in.HeadName) == "" {
		v.Add("household.head_name", "is required")
	}
	freeText(&v, "household.head_name", "户主姓名", "head_name", in.HeadName)
	freeText(&v, "household.address", "地址", "address", in.Address)
	freeText(&v, "request_id", "请求号", "request_id", in.RequestID)
	var pid idnum.PersonID
	if in.HeadIDNumber == "" {
		v.Add("household.head_id_number", "is required")
	} else if id, err := idnum.ParsePersonIDAt(in.HeadIDNumber, now.In(Shanghai)); err != nil {
		v.Add("household.head_id_number", "%s", err)
	} else {
		pid = id
	}
	if in.Group < 1 || in.Group > 99 {
		v.Add("household.group", "must be between 1 and 99, got %d", in.Group)
	}
	var registered Date
	if in.Registered == "" {
		v.Add("household.registered_date", "is required")
	} else if d, err := ParseDate(in.Registered); err != nil {
		v.Add("household.registered_date", "%q is not a date in YYYY-MM-DD form", in.Registered)
	} else if d.After(today) {
		v.Add("household.registered_date", "%s is in the future (today is %s in Asia/Shanghai)", d, today)
	} else {
		registered = d
	}
	var facts Facts
	if in.Facts == nil {
		v.Add("household.facts", "is required")
	} else {
		facts = in.Facts.parse("household.facts", today, &v)
	}
	if in.RequestID == "" {
		v.Add("request_id", "is required")
	}
	var members []parsedMember
	if in.Members != nil {
		members = parseMembers("household.members", in.Members, now, &v)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}

	id, err := uuid.NewV7()
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "INTERNAL", "cannot allocate household id")
	}
	h := &Household{
		ID:           id.String(),
		Village:      village,
		HeadName:     strings.TrimSpace(in.HeadName),
		HeadIDMasked: pid.Masked(),
		Group:        in.Group,
		Address:      strings.TrimSpace(in.Address),
		Registered:   registered,
		CreateTime:   now,
		UpdateTime:   now,
	}
	if h.HeadID, err = s.sealer.Seal(h.ID, pid); err != nil {
		return nil, fault.Wrap(err, fault.Internal, "INTERNAL", "cannot seal id number")
	}
	facts.Version = 1
	facts.RecordedBy = p.ID
	facts.RecordTime = now
	h.Facts = facts
	if in.Members == nil {
		h.Members = []Member{headMember(h)}
	} else if h.Members, err = setMembers(h, nil, members, 1, s.sealer, &v); err != nil {
		return nil, fault.Wrap(err, fault.Internal, "INTERNAL", "cannot seal id number")
	}
	checkCounts("household.facts", h.Facts, h.Members, &v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	reqHash := createHash(h)

	var out *Household
	err = s.store.Write(ctx, func(tx Writer) error {
		// Insert first and read only on a conflict: under SERIALIZABLE a
		// read-before-insert on the same index pages makes concurrent
		// creates abort each other; a plain insert does not.
		err := tx.InsertHousehold(ctx, h, in.RequestID, reqHash)
		if fault.Is(err, fault.AlreadyExists) {
			return s.explainConflict(ctx, tx, p, h, in.RequestID, reqHash, &out)
		}
		if err != nil {
			return err
		}
		out = h
		return tx.Record(ctx, auditRecord(p, "household.create", h, reqHash, map[string]string{
			"village": h.Village, "facts_version": "1",
		}))
	})
	if err != nil {
		return nil, err
	}
	return out, s.birthDates(out)
}

// explainConflict runs after an insert hit a unique constraint: a retry of
// the same request returns the first result (out); anything else says
// which rule it broke.
func (s *Service) explainConflict(ctx context.Context, tx Writer, p *access.Principal, h *Household, requestID, reqHash string, out **Household) error {
	prev, prevHash, err := tx.HouseholdByRequest(ctx, h.Village, requestID)
	switch {
	case err == nil && prevHash == reqHash:
		*out = prev
		return nil
	case err == nil:
		return fault.New(fault.AlreadyExists, "REQUEST_ID_REUSED",
			"request_id %q was already used for a different household", requestID)
	case !fault.Is(err, fault.NotFound):
		return err
	}
	// The head is taken. Where is the business of whoever may read that
	// household: a clerk of its village is told which household it is; any
	// other clerk only that this person cannot be registered here, without
	// the number, the village or the household, and is sent to the county
	// office, which can see the whole county. (The refusal itself
	// remains a signal: a valid number that cannot be registered is taken
	// somewhere. One household per head makes that unavoidable.)
	other, err := tx.HouseholdByIndex(ctx, h.HeadID.Index)
	if err == nil && p != nil && p.CoversVillage(other.Village) {
		return fault.New(fault.AlreadyExists, "HEAD_ALREADY_REGISTERED",
			"this person already heads household %s", other.Name())
	}
	if err != nil && !fault.Is(err, fault.NotFound) {
		return err
	}
	return headNotRegistrable()
}

// headNotRegistrable is the answer to a head this clerk cannot register:
// the same words whatever the cause.
func headNotRegistrable() error {
	return fault.New(fault.FailedPrecondition, "HEAD_NOT_REGISTRABLE",
		"this person cannot be registered as a household head here; ask the county office to check (此人无法在此登记为户主，请联系县（市）主管部门核查)")
}

// createHash fingerprints a create request (without the random id or the
// randomised ciphertext) so a retried request can be told from a reuse.
func createHash(h *Household) string {
	f := h.Facts
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%x\x00%d\x00%s\x00%s\x00%d\x00%d\x00%s\x00%s\x00%s\x00%s\x00%t\x00%s\x00%s",
		h.Village, h.HeadName, h.HeadID.Index, h.Group, h.Address, h.Registered,
		f.Members, f.Labourers, f.AnnualIncome, f.LandAreaMu, f.CollectiveShares, f.ExistingDebt,
		f.DishonestDebtor, f.Source, f.AsOf))
	if len(h.Members) > 1 || len(h.Members) == 1 && h.Members[0].Labour != headMember(h).Labour {
		// Only a member list beyond the default changes the fingerprint, so
		// requests hashed before members were kept still match.
		sum = sha256.Sum256(append(sum[:], membersDigest(h.Members)...))
	}
	return hex.EncodeToString(sum[:])
}

// membersDigest fingerprints a member list by what identifies each member
// (the blind index, never the number itself).
func membersDigest(ms []Member) []byte {
	var b []byte
	for _, m := range ms {
		b = fmt.Appendf(b, "%d\x00%s\x00%s\x00%x\x00%s\x00", m.Number, m.Name, m.Relation, m.ID.Index, m.Labour)
	}
	return b
}

// auditRecord describes a household write for the log. It carries ids and
// hashes only: the head's name and 身份证号 never enter a leaf.
func auditRecord(p *access.Principal, action string, h *Household, reqHash string, payload map[string]string) audit.Record {
	f := h.Facts
	result := audit.HashBytes(fmt.Appendf(nil, "%s\x00%s\x00%x\x00%d\x00%s\x00%d\x00%d\x00%d\x00%s\x00%s\x00%s\x00%s\x00%t\x00%s\x00%s\x00%s",
		h.Name(), h.HeadName, h.HeadID.Index, h.Group, h.Address, f.Version, f.Members, f.Labourers,
		f.AnnualIncome, f.LandAreaMu, f.CollectiveShares, f.ExistingDebt, f.DishonestDebtor, f.Source, f.AsOf,
		h.UpdateTime.Format(time.RFC3339Nano)))
	if len(h.Members) > 0 {
		result = audit.HashBytes(append([]byte(result), membersDigest(h.Members)...))
	}
	return audit.Record{
		Time: h.UpdateTime, Actor: p.ID, Action: action, Subject: h.Name(),
		RequestHash: reqHash, ResultHash: result, Payload: payload,
	}
}

func (in *FactsInput) parse(prefix string, today Date, v *fault.Violations) Facts {
	f := Facts{
		Members:         in.Members,
		Labourers:       in.Labourers,
		DishonestDebtor: in.DishonestDebtor,
		Source:          strings.TrimSpace(in.Source),
	}
	dec := func(name, s string) decimal.Decimal {
		d, err := decimal.NewFromString(s)
		if err != nil || !decimalPattern.MatchString(s) {
			v.Add(prefix+"."+name, "%q is not an amount like 12345.67", s)
			return decimal.Zero
		}
		return d
	}
	f.AnnualIncome = dec("annual_income", in.AnnualIncome)
	f.LandAreaMu = dec("land_area_mu", in.LandAreaMu)
	f.CollectiveShares = dec("collective_shares", in.CollectiveShares)
	f.ExistingDebt = dec("existing_bank_debt", in.ExistingDebt)
	if in.AsOf != "" {
		d, err := ParseDate(in.AsOf)
		if err != nil {
			v.Add(prefix+".as_of_date", "%q is not a date in YYYY-MM-DD form", in.AsOf)
		}
		f.AsOf = d
	}
	freeText(v, prefix+".source", "来源", "source", in.Source)
	f.Validate(prefix, today, v)
	return f
}

// freeText refuses free text holding a 身份证号 (the head's number has
// its own field, sealed; anywhere else it would be kept in clear).
func freeText(v *fault.Violations, field, labelZH, labelEN, value string) {
	if m := idnum.FreeTextProblem(labelZH, labelEN, value); m != "" {
		v.Add(field, "%s", m)
	}
}

// decimalPattern accepts plain decimal notation only: no exponent, sign or
// spaces, which decimal.NewFromString would otherwise allow.
var decimalPattern = regexp.MustCompile(`^\d{1,15}(\.\d{1,2})?$`)

// Get returns the household named villages/{code}/households/{id}.
func (s *Service) Get(ctx context.Context, name string) (*Household, error) {
	village, id, err := ParseName(name, "name")
	if err != nil {
		return nil, err
	}
	var out *Household
	err = s.store.Read(ctx, func(tx Reader) error {
		out, err = tx.Household(ctx, village, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, s.birthDates(out)
}

// Lookup finds a household of the village by its head's 身份证号.
func (s *Service) Lookup(ctx context.Context, parent, idNumber string) (*Household, error) {
	var v fault.Violations
	village := ParseVillageParent(parent, "parent", &v)
	pid, err := idnum.ParsePersonIDAt(idNumber, s.now().In(Shanghai))
	if err != nil {
		v.Add("head_id_number", "%s", err)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out *Household
	err = s.store.Read(ctx, func(tx Reader) error {
		out, err = tx.HouseholdByIndex(ctx, s.sealer.Index(pid))
		return err
	})
	if err != nil {
		return nil, err
	}
	if out.Village != village {
		// The head is registered elsewhere: say nothing about where.
		return nil, fault.New(fault.NotFound, "HOUSEHOLD_NOT_FOUND", "no household in %s is headed by %s", parent, pid.Masked())
	}
	return out, s.birthDates(out)
}

// ByHead finds the household whose head has the 身份证号 pid, in any
// village: for a caller whose own rule decides what it may learn of it (a
// bank's look-up of a customer, under the lawful-basis rule). NotFound
// HOUSEHOLD_NOT_FOUND, naming the number masked only.
func (s *Service) ByHead(ctx context.Context, pid idnum.PersonID) (*Household, error) {
	var out *Household
	err := s.store.Read(ctx, func(tx Reader) error {
		var err error
		out, err = tx.HouseholdByIndex(ctx, s.sealer.Index(pid))
		return err
	})
	if fault.Is(err, fault.NotFound) {
		return nil, fault.New(fault.NotFound, "HOUSEHOLD_NOT_FOUND", "no household is headed by %s", pid.Masked())
	}
	return out, err
}

// ListQuery selects a page of a village's households.
type ListQuery struct {
	Village string
	Group   int32  // 0 = all groups
	AfterID string // keyset cursor: ids sort in creation order
	Limit   int
	// HeadsOnly leaves the members out: a list that names households (the
	// 公示 board) needs the head, and reading the members was most of the
	// board's time.
	HeadsOnly bool
}

// Page is one page of results and the token for the next.
type Page[T any] struct {
	Items     []T
	NextToken string
}

// List returns a page of the village's households in creation order.
func (s *Service) List(ctx context.Context, parent string, group int32, pageSize int32, pageToken string) (Page[*Household], error) {
	return s.list(ctx, parent, group, pageSize, pageToken, false)
}

// ListHeads is List without the members: the households with their heads
// and facts, for pages that only name them.
func (s *Service) ListHeads(ctx context.Context, parent string, group int32, pageSize int32, pageToken string) (Page[*Household], error) {
	return s.list(ctx, parent, group, pageSize, pageToken, true)
}

func (s *Service) list(ctx context.Context, parent string, group int32, pageSize int32, pageToken string, headsOnly bool) (Page[*Household], error) {
	var v fault.Violations
	village := ParseVillageParent(parent, "parent", &v)
	if group < 0 || group > 99 {
		v.Add("group", "must be between 0 and 99, got %d", group)
	}
	scope := fmt.Sprintf("households|%s|%d", village, group)
	after := paging.Cursor(pageToken, scope, &v)
	limit := paging.Limit(pageSize, &v)
	if err := v.Err(); err != nil {
		return Page[*Household]{}, err
	}
	var items []*Household
	err := s.store.Read(ctx, func(tx Reader) error {
		var err error
		items, err = tx.Households(ctx, ListQuery{Village: village, Group: group, AfterID: after, Limit: limit + 1, HeadsOnly: headsOnly})
		return err
	})
	if err != nil {
		return Page[*Household]{}, err
	}
	page := Page[*Household]{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.NextToken = paging.Token(scope, items[limit-1].ID)
	}
	return page, s.birthDates(page.Items...)
}

// ListFacts returns a page of a household's facts versions, newest first.
func (s *Service) ListFacts(ctx context.Context, parent string, pageSize int32, pageToken string) (Page[Facts], error) {
	village, id, err := ParseName(parent, "parent")
	if err != nil {
		return Page[Facts]{}, err
	}
	var v fault.Violations
	scope := "facts|" + id
	before, _ := paging.IntCursor(pageToken, scope, &v)
	limit := paging.Limit(pageSize, &v)
	if err := v.Err(); err != nil {
		return Page[Facts]{}, err
	}
	var items []Facts
	err = s.store.Read(ctx, func(tx Reader) error {
		if _, err := tx.Household(ctx, village, id); err != nil {
			return err
		}
		items, err = tx.FactsHistory(ctx, id, before, limit+1)
		return err
	})
	if err != nil {
		return Page[Facts]{}, err
	}
	page := Page[Facts]{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.NextToken = paging.Token(scope, strconv.FormatInt(items[limit-1].Version, 10))
	}
	return page, nil
}

// UpdateInput changes the fields named in Paths; others are ignored.
type UpdateInput struct {
	Name     string
	Paths    []string // of: head_name, group, address, facts, members
	HeadName string
	Group    int32
	Address  string
	Facts    *FactsInput
	// Members replaces the member list (a new facts version): entries
	// name existing members by number; members left out have left the
	// household.
	Members []MemberInput
}

// Update applies the named fields. Updating facts appends a new version;
// no earlier version changes.
func (s *Service) Update(ctx context.Context, p *access.Principal, in UpdateInput) (*Household, error) {
	now := s.clock()
	village, id, err := ParseName(in.Name, "household.name")
	if err != nil {
		return nil, err
	}
	var v fault.Violations
	if len(in.Paths) == 0 {
		v.Add("update_mask", "must name at least one of head_name, group, address, facts, members")
	}
	var facts *Facts
	var members []parsedMember
	set := map[string]bool{}
	for _, path := range in.Paths {
		if set[path] {
			v.Add("update_mask", "names %q twice", path)
			continue
		}
		set[path] = true
		switch path {
		case "head_name":
			if strings.TrimSpace(in.HeadName) == "" {
				v.Add("household.head_name", "is required")
			}
			freeText(&v, "household.head_name", "户主姓名", "head_name", in.HeadName)
		case "group":
			if in.Group < 1 || in.Group > 99 {
				v.Add("household.group", "must be between 1 and 99, got %d", in.Group)
			}
		case "address":
			freeText(&v, "household.address", "地址", "address", in.Address)
		case "facts":
			if in.Facts == nil {
				v.Add("household.facts", "is required when update_mask names facts")
				continue
			}
			f := in.Facts.parse("household.facts", Today(now), &v)
			facts = &f
		case "members":
			members = parseMembers("household.members", in.Members, now, &v)
		case "head_id_number":
			v.Add("update_mask", "head_id_number cannot be changed; a new head registers a new household")
		default:
			v.Add("update_mask", "%q is not an updatable field (head_name, group, address, facts, members)", path)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out *Household
	err = s.store.Write(ctx, func(tx Writer) error {
		h, err := tx.Household(ctx, village, id)
		if err != nil {
			return err
		}
		if set["head_name"] {
			h.HeadName = strings.TrimSpace(in.HeadName)
		}
		if set["group"] {
			h.Group = in.Group
		}
		if set["address"] {
			h.Address = strings.TrimSpace(in.Address)
		}
		cur := h.Members
		if len(cur) == 0 {
			cur = []Member{headMember(h)} // stored before members were kept
		}
		next := cur
		if set["members"] {
			top, err := tx.MaxMemberNumber(ctx, h.ID)
			if err != nil {
				return err
			}
			var v fault.Violations
			if next, err = setMembers(h, cur, members, max(top, 1)+1, s.sealer, &v); err != nil {
				return fault.Wrap(err, fault.Internal, "INTERNAL", "cannot seal id number")
			}
			if err := v.Err(); err != nil {
				return err
			}
		}
		if facts == nil && set["members"] {
			// The clerk changed the members, not the counts: the counts
			// follow the list (fitCounts), the other facts stay.
			f := fitCounts(h.Facts, cur, next)
			facts = &f
		}
		if facts != nil {
			var v fault.Violations
			checkCounts("household.facts", *facts, next, &v)
			if err := v.Err(); err != nil {
				return err
			}
			f := *facts
			f.Version = h.Facts.Version + 1
			f.RecordedBy = p.ID
			f.RecordTime = now
			if err := tx.InsertFacts(ctx, h.ID, f); err != nil {
				return err
			}
			if err := tx.InsertMembers(ctx, h.ID, f.Version, next); err != nil {
				return err
			}
			prev := h.Facts
			h.Facts = f
			h.Members = next
			if err := tx.FactsChanged(ctx, h, prev); err != nil {
				return err
			}
		}
		if set["head_name"] {
			for i := range h.Members {
				if h.Members[i].Relation == Head {
					h.Members[i].Name = h.HeadName
				}
			}
		}
		h.UpdateTime = now
		if err := tx.UpdateHousehold(ctx, h); err != nil {
			return err
		}
		out = h
		reqHash := audit.HashBytes(fmt.Appendf(nil, "%s\x00%q\x00%s\x00%d\x00%s\x00%+v\x00%s",
			in.Name, in.Paths, in.HeadName, in.Group, in.Address, in.Facts, membersDigest(next)))
		return tx.Record(ctx, auditRecord(p, "household.update", h, reqHash, map[string]string{
			"village": h.Village, "fields": strings.Join(in.Paths, ","),
			"facts_version": strconv.FormatInt(h.Facts.Version, 10),
		}))
	})
	if err != nil {
		return nil, err
	}
	return out, s.birthDates(out)
}

// birthDates sets each member's birth date from their 身份证号, which
// the store keeps only sealed.
func (s *Service) birthDates(hs ...*Household) error {
	for _, h := range hs {
		for i := range h.Members {
			m := &h.Members[i]
			pid, err := s.sealer.Open(h.ID, m.ID)
			if err != nil {
				return fault.Wrap(err, fault.Internal, "PII_KEY", "cannot decrypt a member's ID number")
			}
			b := pid.BirthDate()
			m.BirthDate = Date(b.Format(time.DateOnly))
		}
	}
	return nil
}

// Name returns the resource name of h.
func (h *Household) Name() string { return resource.Household(h.Village, h.ID) }

// ParseName splits villages/{code}/households/{id}, reporting problems
// against field.
func ParseName(name, field string) (village, id string, err error) {
	var v fault.Violations
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] != "villages" || parts[2] != "households" {
		v.Add(field, "must be villages/{village_code}/households/{household_id}, got %q", name)
		return "", "", v.Err()
	}
	if _, err := idnum.ParseVillageCode(parts[1]); err != nil {
		v.Add(field, "%s", err)
	}
	if _, err := uuid.Parse(parts[3]); err != nil || len(parts[3]) != 36 {
		v.Add(field, "household id %q is not a UUID", parts[3])
	}
	return parts[1], parts[3], v.Err()
}

// VillageOf returns the village code named by a resource name of the form
// villages/{code}[/...], or "" when there is none. Authorisation uses it.
func VillageOf(name string) string {
	rest, ok := strings.CutPrefix(name, "villages/")
	if !ok {
		return ""
	}
	code, _, _ := strings.Cut(rest, "/")
	return code
}

// ParseVillageParent reads villages/{code}, reporting problems against
// field in v; "" when it is malformed.
func ParseVillageParent(parent, field string, v *fault.Violations) string {
	code, ok := strings.CutPrefix(parent, "villages/")
	if !ok || strings.Contains(code, "/") {
		v.Add(field, "must be villages/{village_code}, got %q", parent)
		return ""
	}
	if _, err := idnum.ParseVillageCode(code); err != nil {
		v.Add(field, "%s", err)
		return ""
	}
	return code
}
