package policies

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aymanbagabas/go-udiff"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/docver"
)

// Service runs the policy lifecycle. Who may call which method for which
// bank has been checked by the caller (the RPC authorisation table); the
// service checks maker-checker and the states.
type Service struct {
	store Store
	check Checker
	now   func() time.Time
	gate  GateEvaluator // nil: see SetGate
}

// NewService returns a Service; check validates documents (scoring/policy).
func NewService(store Store, check Checker, now func() time.Time) *Service {
	return &Service{store: store, check: check, now: now}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// ErrInvalidDocument wraps a checker's error so that callers can tell a bad
// document (report every problem) from anything else.
var ErrInvalidDocument = errors.New("invalid policy document")

// Upload validates doc and stores it as a draft of the bank product named
// by parent, which must be the one the document declares. Uploading a
// stored version again with identical text returns it; with other text it
// is AlreadyExists (versions never change).
func (s *Service) Upload(ctx context.Context, p *access.Principal, parent string, doc []byte) (*Version, error) {
	bank, product, err := ParseParent(parent, "parent")
	if err != nil {
		return nil, err
	}
	meta, err := s.check(doc)
	if err != nil {
		// The checker's own fault (every problem as a field violation)
		// says more than a wrapped message.
		var f interface{ Fault() *fault.Error }
		if errors.As(err, &f) {
			return nil, f.Fault()
		}
		return nil, fault.Wrap(fmt.Errorf("%w: %w", ErrInvalidDocument, err), fault.Invalid, "POLICY_INVALID",
			"the policy document is invalid: %v", err)
	}
	if meta.Bank != bank || meta.Product != product {
		return nil, fault.InvalidField("parent", "the document is the policy of %s; upload it there",
			ProductName(meta.Bank, meta.Product))
	}
	now := s.clock()
	var out *Version
	err = s.store.Write(ctx, func(tx Writer) error {
		prev, err := tx.PolicyVersion(ctx, bank, product, meta.Version)
		switch {
		case err == nil:
			if err := lifecycle.Reupload(prev.Name(), prev.Version, prev.Document, string(doc)); err != nil {
				return err
			}
			out = prev
			return nil
		case !fault.Is(err, fault.NotFound):
			return err
		}
		v := &Version{
			Bank: bank, Product: product, Version: meta.Version, Document: string(doc),
			ContentHash: meta.ContentHash, EffectiveDate: meta.EffectiveDate,
			State: Draft, UploadedBy: p.ID, UploadTime: now,
		}
		if err := tx.InsertPolicyVersion(ctx, v); err != nil {
			return err
		}
		out = v
		return tx.Record(ctx, auditRecord(p.ID, "policy.upload", v, now, nil))
	})
	return out, err
}

// Approve records a second person's approval of a draft: the approver must
// not be the uploader. Approving an approved version again returns it.
func (s *Service) Approve(ctx context.Context, p *access.Principal, name string) (*Version, error) {
	return s.step(ctx, p, name, "policy.approve", func(tx Writer, v *Version, now time.Time) (map[string]string, bool, error) {
		change, err := lifecycle.Approve(v.Name(), v.State, v.UploadedBy, p.ID)
		if change {
			v.State, v.ApprovedBy, v.ApproveTime = Approved, p.ID, &now
		}
		return nil, change, err
	})
}

// Activate is ActivateWith without a justification.
func (s *Service) Activate(ctx context.Context, p *access.Principal, name string) (*Version, error) {
	return s.ActivateWith(ctx, p, ActivateRequest{Name: name})
}

// ActivateWith makes an approved version the active one of its bank
// product; the active version it replaces becomes superseded. Only an
// approved version newer than the active one may be activated; activating
// the active version again returns it.
//
// The version's latest gate report must fit it (its content, against the
// current active version); when none does, the gate is evaluated first
// (SetGate), so an activation always has its report attached. Over a
// failed gate the activation needs req.GateJustification, written by
// someone other than the uploader (GateAllows); the justification and the
// report's seq go into the policy.activate audit entry. A refusal writes
// nothing.
func (s *Service) ActivateWith(ctx context.Context, p *access.Principal, req ActivateRequest) (*Version, error) {
	just, err := Justification(req.GateJustification)
	if err != nil {
		return nil, err
	}
	bank, product, n, err := ParseName(req.Name, "name", false)
	if err != nil {
		return nil, err
	}
	// Before the (long) evaluation: refuse what the lifecycle refuses,
	// and see whether a report that fits is stored.
	var need, again bool
	var cur *Version
	err = s.store.Read(ctx, func(tx Reader) error {
		v, err := tx.PolicyVersion(ctx, bank, product, n)
		if err != nil {
			return err
		}
		cur = v
		change, err := lifecycle.Activate(v.Name(), v.State, v.UploadedBy, p.ID)
		if !change {
			again = err == nil
			return err
		}
		active := 0
		switch a, err := tx.ActivePolicy(ctx, bank, product); {
		case err == nil:
			if err := lifecycle.Supersede(v.Name(), v.Version, a.Version); err != nil {
				return err
			}
			active = a.Version
		case !fault.Is(err, fault.NotFound):
			return err
		}
		r, err := tx.LatestGateReport(ctx, bank, product, n)
		if err != nil && !fault.Is(err, fault.NotFound) {
			return err
		}
		need = !r.Fits(v, active)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if again {
		return cur, nil
	}
	evaluated := s.gate != nil
	if need && evaluated {
		if _, err := s.gate(ctx, p, req.Name); err != nil {
			return nil, err
		}
	}
	return s.step(ctx, p, req.Name, "policy.activate", func(tx Writer, v *Version, now time.Time) (map[string]string, bool, error) {
		if change, err := lifecycle.Activate(v.Name(), v.State, v.UploadedBy, p.ID); !change {
			return nil, false, err
		}
		extra := map[string]string{}
		active := 0
		cur, err := tx.ActivePolicy(ctx, v.Bank, v.Product)
		switch {
		case err == nil:
			if err := lifecycle.Supersede(v.Name(), v.Version, cur.Version); err != nil {
				return nil, false, err
			}
			active = cur.Version
		case !fault.Is(err, fault.NotFound):
			return nil, false, err
		}
		r, err := tx.LatestGateReport(ctx, v.Bank, v.Product, v.Version)
		if err != nil && !fault.Is(err, fault.NotFound) {
			return nil, false, err
		}
		gate, err := GateAllows(v, r, active, p.ID, just, evaluated)
		if err != nil {
			return nil, false, err
		}
		for k, val := range gate {
			extra[k] = val
		}
		if cur != nil && active > 0 {
			cur.State, cur.SupersedeTime = Superseded, &now
			if err := tx.UpdatePolicyState(ctx, cur); err != nil {
				return nil, false, err
			}
			extra["superseded_version"] = strconv.Itoa(cur.Version)
		}
		v.State, v.ActivatedBy, v.ActivateTime = Active, p.ID, &now
		// A challenger activated is the champion now (challenger.go).
		if ended, err := endChallengerOnActivate(ctx, tx, p.ID, v, now); err != nil {
			return nil, false, err
		} else if ended {
			extra["challenger_ended"] = "true"
		}
		return extra, true, nil
	})
}

// step loads the named version, lets fn change it and, when fn says so,
// stores it with one audit record.
func (s *Service) step(ctx context.Context, p *access.Principal, name, action string,
	fn func(tx Writer, v *Version, now time.Time) (map[string]string, bool, error)) (*Version, error) {
	bank, product, n, err := ParseName(name, "name", false)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	var out *Version
	err = s.store.Write(ctx, func(tx Writer) error {
		v, err := tx.PolicyVersion(ctx, bank, product, n)
		if err != nil {
			return err
		}
		extra, changed, err := fn(tx, v, now)
		if err != nil {
			return err
		}
		out = v
		if !changed {
			return nil
		}
		if err := tx.UpdatePolicyState(ctx, v); err != nil {
			return err
		}
		return tx.Record(ctx, auditRecord(p.ID, action, v, now, extra))
	})
	return out, err
}

// Get returns the named version (the version may be "active").
func (s *Service) Get(ctx context.Context, name string) (*Version, error) {
	bank, product, n, err := ParseName(name, "name", true)
	if err != nil {
		return nil, err
	}
	var out *Version
	err = s.store.Read(ctx, func(tx Reader) error {
		if n == 0 {
			out, err = tx.ActivePolicy(ctx, bank, product)
		} else {
			out, err = tx.PolicyVersion(ctx, bank, product, n)
		}
		return err
	})
	return out, err
}

// Page is one page of versions and the token for the next.
type Page = docver.Page[*Version]

// List returns a page of a bank product's versions, newest first, without
// their text.
func (s *Service) List(ctx context.Context, parent string, pageSize int32, pageToken string) (Page, error) {
	bank, product, err := ParseParent(parent, "parent")
	if err != nil {
		return Page{}, err
	}
	var v fault.Violations
	return docver.List(&v, "policies|"+parent, pageSize, pageToken,
		func(before, limit int) (items []*Version, err error) {
			err = s.store.Read(ctx, func(tx Reader) error {
				items, err = tx.PolicyVersions(ctx, ListQuery{Bank: bank, Product: product, Before: before, Limit: limit})
				return err
			})
			return items, err
		}, (*Version).number)
}

// Diff returns a unified line diff from version a to version b (names of
// the same bank product), so a risk committee sees exactly what changes.
func (s *Service) Diff(ctx context.Context, a, b string) (string, error) {
	va, err := s.Get(ctx, a)
	if err != nil {
		return "", err
	}
	vb, err := s.Get(ctx, b)
	if err != nil {
		return "", err
	}
	if va.Parent() != vb.Parent() {
		return "", fault.InvalidField("other", "%s and %s are policies of different products", va.Name(), vb.Name())
	}
	return UnifiedDiff(va.Name(), vb.Name(), va.Document, vb.Document), nil
}

// UnifiedDiff is a line diff in unified format with three lines of
// context. go-udiff is the diff of gopls, kept as a module of its own;
// go-difflib, used before, is unmaintained.
func UnifiedDiff(nameA, nameB, a, b string) string {
	return udiff.Unified(nameA, nameB, a, b)
}
