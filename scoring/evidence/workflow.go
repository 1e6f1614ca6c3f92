package evidence

import (
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// The transition rules, one function per transition: each checks that the
// evidence may move and says why not in words a clerk understands. They
// change nothing; Service applies the move.

// MaxReason bounds a reason or note, in runes.
const MaxReason = 500

func checkReview(e *Evidence, reviewer string) error {
	if e.SubmittedBy == reviewer {
		return fault.New(fault.FailedPrecondition, "SELF_REVIEW",
			"you submitted this evidence: a second person must review it")
	}
	if e.State != PendingReview {
		return fault.New(fault.FailedPrecondition, "NOT_PENDING_REVIEW",
			"the evidence is %s, not awaiting review; only pending evidence can be reviewed", e.State)
	}
	return nil
}

func checkObject(e *Evidence, objector string, today household.Date) error {
	switch {
	case e.State == Disputed:
		return fault.New(fault.FailedPrecondition, "ALREADY_DISPUTED",
			"an objection to this evidence is already being resolved")
	case e.State != Posted:
		return fault.New(fault.FailedPrecondition, "NOT_ON_NOTICE",
			"the evidence is %s; objections are heard only while it is on public notice", e.State)
	case !e.NoticeEnd.After(today):
		return fault.New(fault.FailedPrecondition, "NOTICE_ENDED",
			"public notice ended on %s (last day %s); ask the village committee to revoke it instead",
			e.NoticeEnd, points.AddDays(e.NoticeEnd, -1))
	case e.ObjectedBy != "":
		return fault.New(fault.FailedPrecondition, "OBJECTION_HEARD",
			"an objection to this evidence was already heard and resolved on %s", e.ResolveTime.In(household.Shanghai).Format("2006-01-02"))
	case e.SubmittedBy == objector:
		return fault.New(fault.FailedPrecondition, "SELF_OBJECTION",
			"you submitted this evidence: revoke it instead of objecting to it")
	}
	return nil
}

func checkResolve(e *Evidence, resolver string) error {
	switch {
	case e.State != Disputed:
		return fault.New(fault.FailedPrecondition, "NOT_DISPUTED",
			"the evidence is %s; only disputed evidence can be resolved", e.State)
	case resolver == e.ObjectedBy:
		return fault.New(fault.FailedPrecondition, "SELF_RESOLVE",
			"you raised the objection: someone else must resolve it")
	case resolver == e.SubmittedBy:
		return fault.New(fault.FailedPrecondition, "SELF_RESOLVE",
			"you submitted the evidence: someone else must resolve the objection to it")
	}
	return nil
}

func checkRevoke(e *Evidence) error {
	switch e.State {
	case Posted:
		return nil
	case Revoked:
		return fault.New(fault.FailedPrecondition, "ALREADY_REVOKED",
			"the evidence was already revoked on %s", e.RevokeTime.In(household.Shanghai).Format("2006-01-02"))
	case PendingReview:
		return fault.New(fault.FailedPrecondition, "NOT_POSTED",
			"the evidence is awaiting review: reject it instead of revoking it")
	case Disputed:
		return fault.New(fault.FailedPrecondition, "DISPUTED",
			"the evidence is disputed: resolve the objection (overturn) instead of revoking it")
	}
	return fault.New(fault.FailedPrecondition, "NOT_POSTED",
		"the evidence is %s; only posted evidence can be revoked", e.State)
}

// liveEntry returns the ledger entry posted for evidence id that no
// reversal has cancelled yet, if any.
func liveEntry(entries []points.Entry, evidenceID string) (points.Entry, bool) {
	reversed := map[string]bool{}
	for _, x := range entries {
		if x.Kind == points.Reversal {
			reversed[x.Reverses] = true
		}
	}
	for i := len(entries) - 1; i >= 0; i-- {
		x := entries[i]
		if x.EvidenceID == evidenceID && (x.Kind == points.Award || x.Kind == points.Deduction) && !reversed[x.ID] {
			return x, true
		}
	}
	return points.Entry{}, false
}

// laterOf returns the later of two dates.
func laterOf(a, b household.Date) household.Date {
	if a.After(b) {
		return a
	}
	return b
}

// liveOn reports whether posted, non-points evidence (a rating, a listing,
// a recommendation) counts on day asOf: from the end of its notice until
// ValidUntil, and, once revoked, only before the day it was revoked. A
// listing overturned in dispute never took effect.
func (e *Evidence) liveOn(asOf household.Date) bool {
	if e.NoticeEnd == "" || e.NoticeEnd.After(asOf) {
		return false
	}
	if e.ValidUntil != "" && !e.ValidUntil.After(asOf) {
		return false
	}
	switch e.State {
	case Posted:
		return true
	case Revoked:
		return household.Today(*e.RevokeTime).After(asOf)
	}
	return false
}
