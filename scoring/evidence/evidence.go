// Package evidence is the village committees' weekly workflow: a clerk
// records what a household did, a second person reviews it, it is posted
// for public notice (公示), villagers may object, and it becomes points in
// the household's ledger. The same workflow carries the other
// evidence-backed facts about a household that credit may read: 星级文明户
// star ratings, 红黑榜 red and black list listings, and the village's
// credit recommendation (一约两会三团).
//
// The life of one piece of evidence:
//
//	Submit ──review required──▶ pending_review ──Review(reject)──▶ rejected
//	   │                              │
//	   └──no review (system record)───┴──Review(approve)──▶ posted (公示, then effective)
//	                                                          │        │
//	                           Object (during 公示) ◀─────────┘        └──Revoke──▶ revoked
//	                                  │
//	                               disputed ──Resolve(uphold)──▶ posted
//	                                  └────────Resolve(overturn)─▶ overturned
//
// Points evidence posts its ledger entry when it is posted, effective on the
// day 公示 ends; an objection appends a reversal effective the same day
// (so disputed points never count), upholding re-posts, revoking appends a
// reversal. The ledger is append-only and no entry is ever appended with an
// effective date before the business day it was written on, which is what
// makes GetPoints(as_of) for a past day final.
//
// Transition rules are the pure functions in workflow.go; Service adds the
// transaction, the stores and the audit record. Nothing here reads a clock
// except through the Service's now function.
package evidence

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// Kind is what a piece of evidence establishes.
type Kind string

// The evidence kinds.
const (
	// Points is an act worth points under a catalogue item.
	Points Kind = "points"
	// StarRating is a 星级文明户 rating awarded at some level.
	StarRating Kind = "star_rating"
	// RedList is a 红榜 listing (public commendation).
	RedList Kind = "red_list"
	// BlackList is a 黑榜 listing. Posting one raises a
	// household.blacklisted domain event that the lending side reacts to.
	BlackList Kind = "black_list"
	// Recommendation is the village's credit recommendation for a period:
	// the 道德评判团 says whether the household is creditworthy and the
	// 百姓议事会 proposes an amount.
	Recommendation Kind = "recommendation"
)

// Kinds lists the valid kinds.
var Kinds = []Kind{Points, StarRating, RedList, BlackList, Recommendation}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if k == x {
			return true
		}
	}
	return false
}

// State is where a piece of evidence is in the workflow.
type State string

// The stored states. Posted evidence is "on notice" until NoticeEnd and
// "effective" from then on; that split depends on the day and is computed
// (see Phase), never stored.
const (
	PendingReview State = "pending_review"
	Rejected      State = "rejected"
	Posted        State = "posted"
	Disputed      State = "disputed"
	Overturned    State = "overturned"
	Revoked       State = "revoked"
)

// States lists the stored states.
var States = []State{PendingReview, Rejected, Posted, Disputed, Overturned, Revoked}

// Phase is the state a person sees on a given day: a stored state, or for
// posted evidence "on_notice" or "effective".
type Phase string

// The phases of posted evidence.
const (
	OnNotice  Phase = "on_notice"
	Effective Phase = "effective"
)

// Level is the level that awarded a star rating.
type Level string

// Star rating levels.
const (
	LevelVillage Level = "village"
	LevelTown    Level = "town"
	LevelCounty  Level = "county"
)

// Rank orders levels, county highest.
func (l Level) Rank() int {
	switch l {
	case LevelVillage:
		return 1
	case LevelTown:
		return 2
	case LevelCounty:
		return 3
	}
	return 0
}

// Attachment is the hash of a photo or document that stays with the
// village; the service stores only the hash.
type Attachment struct {
	Kind   string // "photo" or "document"
	SHA256 string // 64 lower-case hex digits
}

// Evidence is one submission and everything that happened to it.
type Evidence struct {
	ID        string // UUIDv7
	Village   string
	Household string
	Kind      Kind

	// Points: the item and how many units. CatalogueHash pins the
	// catalogue the item was read from.
	ItemCode      string
	Quantity      int32
	CatalogueHash string

	// StarRating: Level and Stars (1..5). StarRating, RedList, BlackList
	// and Recommendation count until ValidUntil (exclusive).
	Level      Level
	Stars      int32
	ValidUntil household.Date

	// Recommendation: Period ("2026", "2026H1" or "2026Q3"), whether the
	// 道德评判团 lists the household as creditworthy, and the amount the
	// 百姓议事会 proposes in yuan (0 when not creditworthy).
	Period         string
	Creditworthy   bool
	ProposedAmount decimal.Decimal

	OccurredOn   household.Date
	Note         string
	Attachments  []Attachment
	Witness      string
	SystemSource string

	State State

	SubmittedBy string
	SubmitTime  time.Time
	RequestID   string
	RequestHash string

	ReviewedBy   string
	ReviewTime   *time.Time
	ReviewReason string

	// NoticeStart is the first day of 公示; NoticeEnd the first day after
	// it, when the evidence takes effect.
	NoticeStart household.Date
	NoticeEnd   household.Date

	ObjectedBy   string
	ObjectTime   *time.Time
	ObjectReason string

	ResolvedBy    string
	ResolveTime   *time.Time
	ResolveReason string
	// Upheld is the outcome of a resolved dispute: true when the evidence
	// stands.
	Upheld bool

	RevokedBy    string
	RevokeTime   *time.Time
	RevokeReason string

	// Version counts the stored changes, for optimistic checks.
	Version int
}

// Name is the resource name of the evidence.
func (e *Evidence) Name() string {
	return fmt.Sprintf("villages/%s/households/%s/evidence/%s", e.Village, e.Household, e.ID)
}

// HouseholdName is the resource name of the evidence's household.
func (e *Evidence) HouseholdName() string {
	return resource.Household(e.Village, e.Household)
}

// Phase is the evidence's phase on day today.
func (e *Evidence) Phase(today household.Date) Phase {
	if e.State == Posted {
		if e.NoticeEnd.After(today) {
			return OnNotice
		}
		return Effective
	}
	return Phase(e.State)
}

// ParseName splits villages/{v}/households/{h}/evidence/{id}.
func ParseName(name, field string) (village, householdID, id string, err error) {
	parts := strings.Split(name, "/")
	if len(parts) != 6 || parts[4] != "evidence" {
		return "", "", "", fault.InvalidField(field,
			"must be villages/{village_code}/households/{household_id}/evidence/{evidence_id}, got %q", name)
	}
	village, householdID, err = household.ParseName(strings.Join(parts[:4], "/"), field)
	if err != nil {
		return "", "", "", err
	}
	if u, perr := uuid.Parse(parts[5]); perr != nil || len(parts[5]) != 36 || u.String() != parts[5] {
		return "", "", "", fault.InvalidField(field, "evidence id %q is not a lower-case UUID", parts[5])
	}
	return village, householdID, parts[5], nil
}
