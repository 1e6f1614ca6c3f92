package policies

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
)

// This file is the activation gate (issue 16 §5): a version is activated
// with its gate report attached (its simulation, fairness and stability
// figures against the active version, judged by the thresholds of its own
// document), and a version whose gate failed is activated only by a
// second person who writes down why.

// ActionGate is the audit action of a gate evaluation.
const ActionGate = "policy.gate"

// The refusals of an activation over the gate (FailedPrecondition).
const (
	// ReasonGateFailed: the version's latest gate report failed and the
	// request carries no justification.
	ReasonGateFailed = "GATE_FAILED"
	// ReasonGateSecondPerson: a failed gate may be overridden only by
	// someone other than the version's uploader.
	ReasonGateSecondPerson = "GATE_NEEDS_SECOND_PERSON"
	// ReasonGateNotEvaluated: the version has no gate report that fits it
	// (its content, the active version it was judged against) and none
	// could be made.
	ReasonGateNotEvaluated = "GATE_NOT_EVALUATED"
)

// The bounds of a written justification, in characters.
const (
	MinJustification = 20
	MaxJustification = 2000
)

// GateCheck is one check of a gate report (scoring/simulate.GateCheck as
// stored).
type GateCheck struct {
	ID         string  `json:"id"` // psi, adverse_impact, lost_share
	Value      float64 `json:"value"`
	Threshold  float64 `json:"threshold"`
	Passed     bool    `json:"passed"`
	Applicable bool    `json:"applicable"`
	ZH         string  `json:"zh"`
	EN         string  `json:"en"`
}

// GateReport is one evaluation of a version's activation gate, as stored
// (append-only: a later evaluation gets the next Seq).
type GateReport struct {
	Bank, Product string
	Version       int
	// Seq numbers the version's reports from 1; the store assigns it.
	Seq        int
	PolicyHash string
	// AgainstVersion is the version that was active when the gate was
	// evaluated, 0 for none.
	AgainstVersion int
	AsOf           string // the population's day, YYYY-MM-DD
	Households     int
	Passed         bool
	Checks         []GateCheck
	// Summary is the simulation's aggregate figures (JSON); Reference the
	// candidate's scores and bins over the population (JSON of
	// modelrisk.Reference). Neither holds a household's data.
	Summary, Reference string
	EvaluatedBy        string
	Time               time.Time
}

// Name is the resource name of the version the report is of.
func (r *GateReport) Name() string {
	return (&Version{Bank: r.Bank, Product: r.Product, Version: r.Version}).Name()
}

// Failed returns the checks that did not pass.
func (r *GateReport) Failed() []GateCheck {
	var out []GateCheck
	for _, c := range r.Checks {
		if !c.Passed {
			out = append(out, c)
		}
	}
	return out
}

func (r *GateReport) failedIDs() string {
	var ids []string
	for _, c := range r.Failed() {
		ids = append(ids, c.ID)
	}
	return strings.Join(ids, ",")
}

// Fits reports whether the report judges v as it would be activated now,
// with active the number of the product's active version (0 for none):
// the same content, against the same active version.
func (r *GateReport) Fits(v *Version, active int) bool {
	return r != nil && r.PolicyHash == v.ContentHash && r.AgainstVersion == active
}

// GateEvaluator evaluates and stores the gate report of the named version
// as principal p (app.Simulator.EvaluateGate runs the simulation).
type GateEvaluator func(ctx context.Context, p *access.Principal, name string) (*GateReport, error)

// SetGate installs the evaluator Activate uses when a version has no gate
// report that fits it. app.New installs the simulator's; a service built
// without one (the demo's seeding, domain tests) activates such a version
// with the audit entry saying the gate was not evaluated, and still refuses
// a version whose stored report failed.
func (s *Service) SetGate(e GateEvaluator) { s.gate = e }

// ActivateRequest is an activation: the version and, to activate over a
// failed gate, the second person's written justification.
type ActivateRequest struct {
	Name              string
	GateJustification string
}

// Justification checks a written justification (empty for none): between
// MinJustification and MaxJustification characters of text once trimmed,
// no control characters. Error: InvalidArgument on gate_justification.
func Justification(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if !utf8.ValidString(s) {
		return "", fault.InvalidField("gate_justification", "must be UTF-8 text")
	}
	n := utf8.RuneCountInString(s)
	if n < MinJustification || n > MaxJustification {
		return "", fault.InvalidField("gate_justification", "must be between %d and %d characters of text, got %d",
			MinJustification, MaxJustification, n)
	}
	for _, c := range s {
		if unicode.IsControl(c) && c != '\n' && c != '\t' {
			return "", fault.InvalidField("gate_justification", "must not contain control characters")
		}
	}
	return s, nil
}

// GateAllows decides whether actor may activate v over its latest gate
// report r (nil for none), with active the product's active version
// number (0 for none) and justification checked by Justification. It
// returns what the activation's audit entry adds. A passing report
// activates; a failing one needs a justification (GATE_FAILED) written by
// someone other than the uploader (GATE_NEEDS_SECOND_PERSON). Without a
// fitting report and without an evaluator (evaluated false) the entry
// says the gate was not evaluated; with an evaluator a missing report is
// GATE_NOT_EVALUATED (it was evaluated and is gone: evaluate again).
func GateAllows(v *Version, r *GateReport, active int, actor, justification string, evaluated bool) (map[string]string, error) {
	extra := map[string]string{}
	if !r.Fits(v, active) {
		if evaluated {
			return nil, fault.New(fault.FailedPrecondition, ReasonGateNotEvaluated,
				"%s has no gate report against the active version %d (the active version changed while the gate was evaluated); activate again",
				v.Name(), active)
		}
		extra["gate"] = "not_evaluated"
		return extra, nil
	}
	extra["gate_seq"] = strconv.Itoa(r.Seq)
	extra["gate_passed"] = strconv.FormatBool(r.Passed)
	if r.Passed {
		return extra, nil
	}
	var en, zh []string
	for _, c := range r.Failed() {
		en, zh = append(en, c.EN), append(zh, c.ZH)
	}
	if justification == "" {
		return nil, fault.New(fault.FailedPrecondition, ReasonGateFailed,
			"%s failed its activation gate (report %d): %s. A second risk manager may activate it over the gate with a written justification (gate_justification) / 启用门槛未通过：%s。可由另一位风险经理填写书面理由后启用",
			v.Name(), r.Seq, strings.Join(en, "; "), strings.Join(zh, "；"))
	}
	if actor == v.UploadedBy {
		return nil, fault.New(fault.FailedPrecondition, ReasonGateSecondPerson,
			"%s failed its activation gate and was uploaded by you: a second person must activate it over the gate / 启用门槛未通过，且此版本由您上传：须由另一人填写理由后启用",
			v.Name())
	}
	extra["gate_failed"] = r.failedIDs()
	extra["gate_justification"] = justification
	return extra, nil
}

// RecordGate stores r, a gate evaluation of its version by p, under the
// version's next seq with its policy.gate audit entry, in one
// transaction. FailedPrecondition when the version's content is not what
// was evaluated; NotFound when it does not exist.
func (s *Service) RecordGate(ctx context.Context, p *access.Principal, r *GateReport) (*GateReport, error) {
	if p == nil {
		return nil, fault.New(fault.Unauthenticated, "UNAUTHENTICATED", "a gate evaluation needs a principal")
	}
	out := *r
	out.EvaluatedBy, out.Time = p.ID, s.clock()
	err := s.store.Write(ctx, func(tx Writer) error {
		v, err := tx.PolicyVersion(ctx, r.Bank, r.Product, r.Version)
		if err != nil {
			return err
		}
		if v.ContentHash != r.PolicyHash {
			return fault.New(fault.FailedPrecondition, "POLICY_HASH_MISMATCH", "%s is not the content the gate evaluated", v.Name())
		}
		rec := out
		if err := tx.InsertGateReport(ctx, &rec); err != nil {
			return err
		}
		out.Seq = rec.Seq
		return tx.Record(ctx, gateAudit(p, &out))
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func gateAudit(p *access.Principal, r *GateReport) audit.Record {
	against := ""
	if r.AgainstVersion > 0 {
		against = ProductName(r.Bank, r.Product) + "/policies/" + strconv.Itoa(r.AgainstVersion)
	}
	return audit.Record{
		Time: r.Time, Actor: p.ID, Action: ActionGate, Subject: r.Name(),
		RequestHash: audit.HashBytes([]byte(ActionGate + "\x00" + r.Name() + "\x00" + r.PolicyHash + "\x00" + against + "\x00" + r.AsOf)),
		ResultHash:  audit.HashBytes(fmt.Appendf(nil, "%s\x00%d\x00%t\x00%s\x00%s", r.Name(), r.Seq, r.Passed, r.Summary, r.Reference)),
		Payload: map[string]string{
			"bank": r.Bank, "product": r.Product, "version": strconv.Itoa(r.Version), "content_hash": r.PolicyHash,
			"against": against, "as_of": r.AsOf, "passed": strconv.FormatBool(r.Passed), "failed": r.failedIDs(),
			"households": strconv.Itoa(r.Households), "seq": strconv.Itoa(r.Seq), "role": string(p.Role),
		},
	}
}

// LatestGate returns the latest gate report of the named version (the
// version may be "active"). NotFound when the version does not exist or
// has no report.
func (s *Service) LatestGate(ctx context.Context, name string) (*GateReport, error) {
	bank, product, n, err := ParseName(name, "name", true)
	if err != nil {
		return nil, err
	}
	var out *GateReport
	err = s.store.Read(ctx, func(tx Reader) error {
		var v *Version
		if n == 0 {
			v, err = tx.ActivePolicy(ctx, bank, product)
		} else {
			v, err = tx.PolicyVersion(ctx, bank, product, n)
		}
		if err != nil {
			return err
		}
		out, err = tx.LatestGateReport(ctx, v.Bank, v.Product, v.Version)
		if fault.Is(err, fault.NotFound) {
			return fault.New(fault.NotFound, "GATE_REPORT_NOT_FOUND", "%s has no gate report yet; evaluate its gate", v.Name())
		}
		return err
	})
	return out, err
}
