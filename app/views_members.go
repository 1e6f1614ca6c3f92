package app

import (
	"time"

	"github.com/sanzhi/sanzhi/scoring/household"
)

// MemberRow is one member as the clerk's household page lists them.
type MemberRow struct {
	household.Member
	Age int // whole years today; -1 when unknown
}

// Members is the household's member list for its page: the members with
// their ages, and how many of the people the facts count are not entered
// yet (households registered before members were kept list the head
// alone until the clerk enters the rest).
type Members struct {
	Rows    []MemberRow
	Missing int32
}

// HouseholdMembers returns h's members as of now.
func HouseholdMembers(h *household.Household, now time.Time) Members {
	today := household.Today(now)
	out := Members{Rows: make([]MemberRow, len(h.Members)), Missing: max(h.Facts.Members-int32(len(h.Members)), 0)}
	for i, m := range h.Members {
		out.Rows[i] = MemberRow{Member: m, Age: m.Age(today)}
	}
	return out
}
