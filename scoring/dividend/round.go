package dividend

import (
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/docver"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// The life of a round:
//
//	Create ──▶ draft ──Review(reject)──▶ rejected
//	             │
//	             └──Review(approve)──▶ on_notice (公示, objections) ──Approve (notice over, none open)──▶ approved
//	                                        │
//	                                        └──an objection upheld──▶ withdrawn
//
// The clerk creates a round; a second person (a reviewer of the village,
// never its creator) reviews it, which starts the 公示; households object
// to their own line while it is on notice, and a reviewer who is neither
// the objector nor the creator resolves each objection: dismissing it
// leaves the allocation as it is, upholding it withdraws the round (the
// data behind it are wrong: correct them and create a new round). When
// the notice has ended and no objection is open, a reviewer other than
// the creator approves the round; only an approved round pays out.

// State is where a round is.
type State string

// The round states.
const (
	Draft    State = "draft"
	Rejected State = "rejected"
	OnNotice State = "on_notice"
	Approved State = "approved"
	// Withdrawn: an objection was upheld during 公示.
	Withdrawn State = "withdrawn"
)

// Live reports whether a round in state st still counts: a village has
// at most one live round per record date.
func (st State) Live() bool { return st == Draft || st == OnNotice || st == Approved }

// RuleVersion is one stored version of a village's rule document.
type RuleVersion struct {
	Village string
	Version int
	// Document is the YAML text exactly as uploaded; ContentHash its
	// SHA-256 (Rule.Hash).
	Document    string
	ContentHash string
	// Title is the document's name field.
	Title         string
	State         docver.State
	UploadedBy    string
	UploadTime    time.Time
	ActivatedBy   string
	ActivateTime  *time.Time
	SupersedeTime *time.Time
}

// Name is villages/{village}/dividendRules/{version}.
func (v *RuleVersion) Name() string { return RuleName(v.Village, v.Version) }

// RuleName is the resource name of version n of village's rule.
func RuleName(village string, n int) string {
	return docver.Name(resource.Village(village), "dividendRules", n)
}

// Round is one dividend round of a village.
type Round struct {
	ID         string // UUIDv7
	Village    string
	Title      string
	RecordDate household.Date
	// Pool is in yuan, whole fen.
	Pool decimal.Decimal
	// RuleVersion and RuleHash pin the rule document the round used.
	RuleVersion int
	RuleHash    string
	State       State
	// Households is the roll's size; Paid how many receive more than 0.
	Households  int
	Paid        int
	TotalShares decimal.Decimal
	TotalPoints decimal.Decimal
	// AllocationHash is the SHA-256 of the allocation's canonical bytes
	// (Allocation.Hash); Verify recomputes it.
	AllocationHash string

	RequestID   string
	RequestHash string
	CreatedBy   string
	CreateTime  time.Time

	ReviewedBy   string
	ReviewTime   *time.Time
	ReviewReason string
	// NoticeStart is the first day of 公示, NoticeEnd the first day after
	// it, from which the round may be approved.
	NoticeStart household.Date
	NoticeEnd   household.Date

	ApprovedBy  string
	ApproveTime *time.Time

	WithdrawnBy    string
	WithdrawTime   *time.Time
	WithdrawReason string

	// OpenObjections counts objections not yet resolved.
	OpenObjections int
	// Version counts the stored changes (optimistic check).
	Version int
}

// Name is villages/{village}/dividendRounds/{id}.
func (r *Round) Name() string { return RoundName(r.Village, r.ID) }

// RoundName is the resource name of a round.
func RoundName(village, id string) string { return resource.Village(village) + "/dividendRounds/" + id }

// RuleName is the resource name of the rule version the round used.
func (r *Round) RuleName() string { return RuleName(r.Village, r.RuleVersion) }

// Row is one household's line of a stored round, with the names the
// outputs print (as registered when the round was computed).
type Row struct {
	Line
	HeadName string
	Group    int32
}

// ObjectionState is where an objection is.
type ObjectionState string

// The objection states.
const (
	Open      ObjectionState = "open"
	Dismissed ObjectionState = "dismissed"
	Upheld    ObjectionState = "upheld"
)

// Objection is a household's objection to its line during 公示.
type Objection struct {
	ID         string // UUIDv7
	Round      string // the round's id
	Village    string
	Household  string
	Reason     string
	ObjectedBy string
	ObjectTime time.Time
	State      ObjectionState

	ResolvedBy    string
	ResolveTime   *time.Time
	ResolveReason string
}

// Name is villages/{village}/dividendRounds/{round}/objections/{id}.
func (o *Objection) Name() string { return RoundName(o.Village, o.Round) + "/objections/" + o.ID }

// HouseholdName is the objecting household's resource name.
func (o *Objection) HouseholdName() string { return resource.Household(o.Village, o.Household) }

// ParseRoundName splits villages/{village}/dividendRounds/{id}.
func ParseRoundName(name, field string) (village, id string, err error) {
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[2] != "dividendRounds" {
		return "", "", fault.InvalidField(field, "must be villages/{village_code}/dividendRounds/{round_id}, got %q", name)
	}
	var v fault.Violations
	village = household.ParseVillageParent(strings.Join(parts[:2], "/"), field, &v)
	if !isUUID(parts[3]) {
		v.Add(field, "round id %q is not a lower-case UUID", parts[3])
	}
	return village, parts[3], v.Err()
}

// ParseObjectionName splits
// villages/{village}/dividendRounds/{round}/objections/{id}.
func ParseObjectionName(name, field string) (village, round, id string, err error) {
	parts := strings.Split(name, "/")
	if len(parts) != 6 || parts[4] != "objections" {
		return "", "", "", fault.InvalidField(field,
			"must be villages/{village_code}/dividendRounds/{round_id}/objections/{objection_id}, got %q", name)
	}
	if village, round, err = ParseRoundName(strings.Join(parts[:4], "/"), field); err != nil {
		return "", "", "", err
	}
	if !isUUID(parts[5]) {
		return "", "", "", fault.InvalidField(field, "objection id %q is not a lower-case UUID", parts[5])
	}
	return village, round, parts[5], nil
}

// ParseRuleName splits villages/{village}/dividendRules/{version}; the
// version may be "active" when allowActive (reported as 0).
func ParseRuleName(name, field string, allowActive bool) (village string, n int, err error) {
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[2] != "dividendRules" {
		return "", 0, fault.InvalidField(field, "must be villages/{village_code}/dividendRules/{version}, got %q", name)
	}
	var v fault.Violations
	village = household.ParseVillageParent(strings.Join(parts[:2], "/"), field, &v)
	if !(allowActive && parts[3] == docver.ActiveAlias) {
		var ok bool
		if n, ok = docver.Number(parts[3], MaxVersion); !ok {
			v.Add(field, "version %q is not a version number 1..%d%s", parts[3], MaxVersion,
				map[bool]string{true: " or active", false: ""}[allowActive])
		}
	}
	return village, n, v.Err()
}

func isUUID(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && len(s) == 36 && u.String() == s
}

// The transition rules: each says why a round may not move, in words a
// clerk understands, and changes nothing.

func checkReview(r *Round, reviewer string) error {
	if r.CreatedBy == reviewer {
		return fault.New(fault.FailedPrecondition, "SELF_REVIEW",
			"you created this round: a second person must review it")
	}
	if r.State != Draft {
		return fault.New(fault.FailedPrecondition, "ROUND_NOT_DRAFT",
			"the round is %s; only a draft is reviewed", r.State)
	}
	return nil
}

func checkObject(r *Round, today household.Date) error {
	switch {
	case r.State != OnNotice:
		return fault.New(fault.FailedPrecondition, "ROUND_NOT_ON_NOTICE",
			"the round is %s; objections are heard only while it is on public notice", r.State)
	case !r.NoticeEnd.After(today):
		return fault.New(fault.FailedPrecondition, "NOTICE_ENDED",
			"public notice ended on %s (last day %s)", r.NoticeEnd, points.AddDays(r.NoticeEnd, -1))
	}
	return nil
}

func checkResolve(r *Round, o *Objection, resolver string) error {
	switch {
	case o.State != Open:
		return fault.New(fault.FailedPrecondition, "OBJECTION_RESOLVED",
			"the objection was already %s", o.State)
	case r.State != OnNotice:
		return fault.New(fault.FailedPrecondition, "ROUND_NOT_ON_NOTICE", "the round is %s", r.State)
	case resolver == o.ObjectedBy:
		return fault.New(fault.FailedPrecondition, "SELF_RESOLVE",
			"you raised the objection: someone else must resolve it")
	case resolver == r.CreatedBy:
		return fault.New(fault.FailedPrecondition, "SELF_RESOLVE",
			"you created the round: someone else must resolve objections to it")
	}
	return nil
}

func checkApprove(r *Round, approver string, today household.Date) error {
	switch {
	case r.CreatedBy == approver:
		return fault.New(fault.FailedPrecondition, "SELF_REVIEW",
			"you created this round: a second person must approve it")
	case r.State != OnNotice:
		return fault.New(fault.FailedPrecondition, "ROUND_NOT_ON_NOTICE",
			"the round is %s; only a round whose public notice has ended is approved", r.State)
	case r.NoticeEnd.After(today):
		return fault.New(fault.FailedPrecondition, "NOTICE_NOT_ENDED",
			"public notice runs until %s (inclusive); approve the round from %s", points.AddDays(r.NoticeEnd, -1), r.NoticeEnd)
	case r.OpenObjections > 0:
		return fault.New(fault.FailedPrecondition, "OBJECTIONS_OPEN",
			"%d objection(s) to the round are not resolved yet", r.OpenObjections)
	}
	return nil
}

func checkPayout(r *Round) error {
	if r.State != Approved {
		return fault.New(fault.FailedPrecondition, "ROUND_NOT_APPROVED",
			"the round is %s; only an approved round is paid out", r.State)
	}
	return nil
}

// countPaid counts the lines with an amount.
func countPaid(lines []Line) int {
	n := 0
	for _, l := range lines {
		if l.Amount > 0 {
			n++
		}
	}
	return n
}
