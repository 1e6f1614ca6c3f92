package evidence

import (
	"sync"

	"github.com/sanzhi/sanzhi/scoring/household"
)

// registrations remembers the registration date of the households
// submissions read: the one fact a submission checks its household for
// (besides its village). A single submission takes it from here instead
// of reading the household, and Writer.SendEvidence inserts the evidence
// only if the household still has that village and date, so a value gone
// stale costs a rerun, never a wrong check. Nothing in it is personal.
type registrations struct {
	mu sync.Mutex
	m  map[string]household.Date
}

// maxRegistrations bounds the memory: when full the map starts again
// empty, as a miss costs only the read it would have cost anyway. A
// county's households fit (about 40 bytes each, a few MiB in all).
const maxRegistrations = 1 << 17

func (r *registrations) get(village, id string) (household.Date, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, ok := r.m[village+"/"+id]
	return d, ok
}

func (r *registrations) put(village, id string, registered household.Date) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil || len(r.m) >= maxRegistrations {
		r.m = make(map[string]household.Date)
	}
	r.m[village+"/"+id] = registered
}
