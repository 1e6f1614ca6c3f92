package evidence

import "github.com/sanzhi/sanzhi/scoring/household"

// StandingOf picks the live facts out of one household's non-points
// evidence as of the end of day: what Service.Standing returns, for a
// caller that has already read the evidence (the policy simulation reads
// it for a thousand households at a time). list may hold evidence in any
// state; only posted evidence, and revoked evidence before its revocation
// day, counts.
func StandingOf(list []*Evidence, day household.Date) Standing {
	return standingOf(list, day)
}
