package credit

import (
	"context"
	"sync"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/policy"
)

// Explanations on read. A batch re-assessment stores each decision with
// the policy's outcome (policy.Outcome: knock-outs, declines, score,
// grade, limit) but without the reasons and counterfactuals: at a million
// households, building them was most of the run's CPU and half of what it
// wrote (BENCHMARKS.md, issue 6). A decision keeps its canonical input and
// policy version, and evaluation is pure, so the reasons and
// counterfactuals are computed when the decision is read, by evaluating
// the stored input again under the stored policy version on the
// decision's day: the same computation the run skipped, byte for byte.
// The replay is used only when it reproduces the stored outcome.

// needsReplay reports whether d was stored without reasons and
// counterfactuals. An automated decision that genuinely has none (a
// household in every characteristic's best band) is replayed too, and
// the replay finds none again.
func needsReplay(d *Decision) bool {
	return d != nil && d.Kind == Automated && len(d.Explanation.Reasons) == 0 && len(d.Explanation.Counterfactuals) == 0
}

// Replay evaluates d's stored input under pol (the policy version d
// names) on d's day and returns d's full explanation. It fails with an
// Internal fault when the input does not decode or the evaluation does not
// reproduce d (another policy text, input or outcome).
func Replay(pol *policy.Policy, d *Decision) (Explanation, error) {
	in, err := policy.DecodeInput([]byte(d.Input))
	if err != nil {
		return Explanation{}, fault.Wrap(err, fault.Internal, "DECISION_REPLAY", "decision %s: its stored input does not decode", d.ID)
	}
	dec := policy.Evaluate(pol, in, d.On)
	if dec.PolicyHash != d.PolicyHash || dec.InputHash != d.InputHash || dec.Eligible != d.Eligible ||
		dec.Score != d.Score || dec.Grade != d.Grade || !dec.Limit.Equal(d.Limit) || !dec.Rate.Equal(d.Rate) ||
		dec.ValidUntil != d.ValidUntil {
		return Explanation{}, fault.New(fault.Internal, "DECISION_REPLAY",
			"decision %s does not replay under policy version %d", d.ID, d.PolicyVersion)
	}
	return explain(dec), nil
}

// explained completes the explanation of every decision stored without
// reasons and counterfactuals (see Replay).
func (s *Service) explained(ctx context.Context, ds ...*Decision) error {
	for _, d := range ds {
		if !needsReplay(d) {
			continue
		}
		if e, ok := s.replays.get(d.ID); ok {
			d.Explanation = e
			continue
		}
		pol, err := s.policies.Version(ctx, d.Bank, d.Product, d.PolicyVersion)
		if err != nil {
			return err
		}
		e, err := Replay(pol, d)
		if err != nil {
			return err
		}
		s.replays.put(d.ID, e)
		d.Explanation = e
	}
	return nil
}

// replayCache keeps replayed explanations by decision id: a decision
// never changes, so neither does its replay, and a line read often (the
// bank's GetCreditLine) replays once. Emptied when it reaches its bound.
type replayCache struct {
	mu sync.RWMutex
	m  map[string]Explanation
}

const replayCacheSize = 1 << 16

func (c *replayCache) get(id string) (Explanation, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.m[id]
	return e, ok
}

func (c *replayCache) put(id string, e Explanation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= replayCacheSize {
		c.m = make(map[string]Explanation, 1024)
	}
	c.m[id] = e
}
