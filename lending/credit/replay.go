package credit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/dectext"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

// Explanations on read. A batch re-assessment stores each decision with
// the policy's outcome (rules.Outcome: knock-outs, declines, score,
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

// needsWorking reports whether d, explained as stored, lacks the limit
// working it has (a decision stored before decisions kept it): an
// eligible one, or one declined for a limit below the minimum.
func needsWorking(d *Decision) bool {
	if d == nil || d.Kind != Automated || len(d.Explanation.LimitSteps) > 0 || len(d.Explanation.KnockOuts) > 0 {
		return false
	}
	for _, x := range d.Explanation.Declines {
		if x.Code != rules.DeclineBelowMinimum {
			return false
		}
	}
	return true
}

// Replay evaluates d's stored input under pol (the policy version d
// names) on d's day and returns d's full explanation. It fails with an
// Internal fault when the input does not decode or the evaluation does not
// reproduce d (another policy text, input or outcome).
func Replay(pol *rules.Policy, d *Decision) (Explanation, error) {
	r, err := reevaluate(pol, d, true)
	if err != nil {
		return Explanation{}, err
	}
	if len(r.Diffs) > 0 {
		return Explanation{}, fault.New(fault.Internal, "DECISION_REPLAY",
			"decision %s does not replay under policy version %d", d.ID, d.PolicyVersion)
	}
	return explain(r.Decision), nil
}

// Diff is one field of a stored decision that its replay does not
// reproduce, both values as text.
type Diff struct {
	Field, Stored, Recomputed string
}

// Reevaluation is a stored automated decision evaluated again: the
// recomputed policy decision, the fields that differ (none: the replay is
// identical) and the hashes that identify what was compared.
type Reevaluation struct {
	Decision         rules.Decision
	Diffs            []Diff
	StoredOutputHash string // OutputHash of the stored decision
	OutputHash       string // OutputHash of the recomputed one
	PolicyHash       string // hash of the policy text evaluated
	InputHash        string // hash of the stored canonical input, recomputed
}

// Reevaluate evaluates d's stored input under pol on d's day and compares
// every output field with the stored one. It fails (Internal,
// DECISION_REPLAY) only when the stored input does not decode. It
// evaluates the outcome only (rules.Outcome, whose fields are exactly
// Evaluate's): the explanation is most of an evaluation's cost and a
// replay compares no reasons.
func Reevaluate(pol *rules.Policy, d *Decision) (Reevaluation, error) {
	return reevaluate(pol, d, false)
}

func reevaluate(pol *rules.Policy, d *Decision, full bool) (Reevaluation, error) {
	in, err := rules.DecodeInput([]byte(d.Input))
	if err != nil {
		return Reevaluation{}, fault.Wrap(err, fault.Internal, "DECISION_REPLAY", "decision %s: its stored input does not decode", d.ID)
	}
	var dec rules.Decision
	if full {
		dec = rules.Evaluate(pol, in, d.On)
	} else {
		dec = rules.Outcome(pol, in, d.On)
		dec.InputHash = in.Hash()
	}
	got := storedOutcome(d)
	want := outcome{eligible: dec.Eligible, score: dec.Score, grade: dec.Grade, limit: dec.Limit, rate: dec.Rate,
		validUntil: dec.ValidUntil, exposureCap: pol.Limit.Caps.TotalExposureMax}
	for _, k := range dec.KnockOuts {
		want.knockOuts = append(want.knockOuts, k.ID)
	}
	for _, x := range dec.Declines {
		want.declines = append(want.declines, x.Code)
	}
	r := Reevaluation{Decision: dec, StoredOutputHash: got.hash(), OutputHash: want.hash(),
		PolicyHash: dec.PolicyHash, InputHash: dec.InputHash}
	add := func(field, stored, recomputed string) {
		if stored != recomputed {
			r.Diffs = append(r.Diffs, Diff{Field: field, Stored: stored, Recomputed: recomputed})
		}
	}
	add("policy_hash", d.PolicyHash, dec.PolicyHash)
	add("input_hash", d.InputHash, dec.InputHash)
	gf, wf := got.fields(), want.fields()
	for i := range gf {
		add(gf[i][0], gf[i][1], wf[i][1])
	}
	return r, nil
}

// outcome is what a decision decided: the fields a replay compares and
// OutputHash covers. Reasons and counterfactuals are left out: a batch
// decision is stored without them (they are recomputed on read).
type outcome struct {
	eligible    bool
	score       int
	grade       string
	limit, rate decimal.Decimal
	exposureCap decimal.Decimal
	validUntil  household.Date
	knockOuts   []string
	declines    []string
}

func storedOutcome(d *Decision) outcome {
	o := outcome{eligible: d.Eligible, score: d.Score, grade: d.Grade, limit: d.Limit, rate: d.Rate,
		exposureCap: d.ExposureCap, validUntil: d.ValidUntil}
	for _, k := range d.Explanation.KnockOuts {
		o.knockOuts = append(o.knockOuts, k.Code)
	}
	for _, x := range d.Explanation.Declines {
		o.declines = append(o.declines, x.Code)
	}
	return o
}

// fields are the outcome's fields as text, in a fixed order, with money at
// the scale the store keeps it (so 5000 and 5000.00 are one value).
func (o outcome) fields() [][2]string {
	return [][2]string{
		{"eligible", strconv.FormatBool(o.eligible)},
		{"score", strconv.Itoa(o.score)},
		{"grade", o.grade},
		{"limit", dectext.Fixed(o.limit, 2)},
		{"rate", dectext.Fixed(o.rate, 6)},
		{"exposure_cap", dectext.Fixed(o.exposureCap, 2)},
		{"valid_until", string(o.validUntil)},
		{"knock_outs", strings.Join(o.knockOuts, ",")},
		{"declines", strings.Join(o.declines, ",")},
	}
}

// hash is the output hash: hex SHA-256 of "field=value\n" for each field.
func (o outcome) hash() string { return hashFields(o.fields()) }

// hashFields is hash of fields already listed (DecisionRecord lists them
// once for the record's payload and its hash).
func hashFields(fields [][2]string) string {
	b := make([]byte, 0, 256)
	for _, f := range fields {
		b = append(b, f[0]...)
		b = append(b, '=')
		b = append(b, f[1]...)
		b = append(b, '\n')
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// OutputHash is the hex SHA-256 of d's stored outcome (eligibility, score,
// grade, limit, rate, exposure cap, validity, knock-out and decline codes),
// the value a replay compares with its recomputed outcome's.
func OutputHash(d *Decision) string { return storedOutcome(d).hash() }

// explained completes the explanation of every decision stored without
// reasons and counterfactuals (see Replay), and the limit working of one
// stored before decisions kept it. A working that does not replay is
// left out: the stored explanation still stands.
func (s *Service) explained(ctx context.Context, ds ...*Decision) error {
	for _, d := range ds {
		full := needsReplay(d)
		if !full && !needsWorking(d) {
			continue
		}
		e, ok := s.replays.get(d.ID)
		if !ok {
			pol, err := s.policies.Version(ctx, d.Bank, d.Product, d.PolicyVersion)
			if err == nil {
				e, err = Replay(pol, d)
			}
			if err != nil {
				if full {
					return err
				}
				continue
			}
			s.replays.put(d.ID, e)
		}
		if full {
			d.Explanation = e
		} else {
			d.Explanation.LimitSteps = e.LimitSteps
		}
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
