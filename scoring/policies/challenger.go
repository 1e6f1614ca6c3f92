package policies

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
)

// Champion / challenger (issue 16 §6, docs/MODEL-RISK.md). The champion of
// a product is its active version. A bank's risk manager may designate one
// approved version of the product its challenger: every live assessment
// and re-assessment of the product then also evaluates the challenger on
// the same input and stores the outcome as a shadow decision beside the
// champion's. A shadow changes no line, reply or webhook, so designating a
// challenger needs no second person (no maker-checker): the version was
// approved by one already, and activating it still takes the ordinary
// lifecycle. The rules of designation are in this file only.

// Challenger stop reasons.
const (
	// StopStopped: a risk manager stopped it.
	StopStopped = "stopped"
	// StopActivated: its version was activated and is now the champion.
	StopActivated = "activated"
)

// Reasons of the designation's FailedPrecondition faults.
const (
	// ReasonChallengerNotApproved: only an approved version (not a draft,
	// not the active one, not a superseded one) may be a challenger.
	ReasonChallengerNotApproved = "CHALLENGER_NOT_APPROVED"
	// ReasonChallengerExists: the product has another challenger; stop it
	// first.
	ReasonChallengerExists = "CHALLENGER_EXISTS"
	// ReasonNoChallenger: there is no challenger to stop.
	ReasonNoChallenger = "NO_CHALLENGER"
	// ReasonChallengerNotFound is the NotFound reason of GetChallenger.
	ReasonChallengerNotFound = "CHALLENGER_NOT_FOUND"
)

// Challenger is one designation of a version as its product's challenger.
// It is current while StopTime is nil.
type Challenger struct {
	Bank, Product string
	Version       int
	StartedBy     string
	StartTime     time.Time
	StoppedBy     string
	StopTime      *time.Time
	StopReason    string // StopStopped or StopActivated once stopped
}

// Parent is the product's resource name.
func (c *Challenger) Parent() string { return ProductName(c.Bank, c.Product) }

// VersionName is the challenger version's resource name.
func (c *Challenger) VersionName() string {
	return (&Version{Bank: c.Bank, Product: c.Product, Version: c.Version}).Name()
}

// ShadowCounts are the shadow decisions stored under a challenger
// version: how many, and how many of them the challenger decides
// otherwise than the champion did (SwapIn: the challenger would approve a
// household the champion declined; SwapOut: the reverse).
type ShadowCounts struct {
	Total, SwapIn, SwapOut int64
}

// ChallengerView is GetChallenger's answer: the current designation and
// its shadow decisions.
type ChallengerView struct {
	Challenger *Challenger
	Counts     ShadowCounts
}

// ChallengerReader reads designations.
type ChallengerReader interface {
	// CurrentChallenger returns the product's current challenger;
	// NotFound when it has none.
	CurrentChallenger(ctx context.Context, bank, product string) (*Challenger, error)
	// ShadowCounts counts the shadow decisions of the product under the
	// challenger version.
	ShadowCounts(ctx context.Context, bank, product string, version int) (ShadowCounts, error)
}

// ChallengerWriter writes designations within a policy transaction.
type ChallengerWriter interface {
	// InsertChallenger stores a new current designation; AlreadyExists
	// when the product has one.
	InsertChallenger(ctx context.Context, c *Challenger) error
	// StopChallenger stores c's stop fields; NotFound when c is not the
	// product's current designation.
	StopChallenger(ctx context.Context, c *Challenger) error
}

// CanChallenge is the designation rule: version v may become its
// product's challenger when it is approved, and cur (the product's current
// designation, nil when none) is either absent or already v, in which case
// there is nothing to store (change false).
func CanChallenge(v *Version, cur *Challenger) (change bool, err error) {
	if v.State != Approved {
		why := map[State]string{
			Draft:      "a draft: a second person must approve it first",
			Active:     "the active version, the champion itself",
			Superseded: "superseded; upload its content as a new version to try it again",
		}[v.State]
		return false, fault.New(fault.FailedPrecondition, ReasonChallengerNotApproved,
			"%s is %s; only an approved version that is not active may be the challenger", v.Name(), why)
	}
	if cur != nil {
		if cur.Version == v.Version {
			return false, nil
		}
		return false, fault.New(fault.FailedPrecondition, ReasonChallengerExists,
			"%s already has a challenger, version %d; stop it first", v.Parent(), cur.Version)
	}
	return true, nil
}

// StartChallenger designates the named approved version as its product's
// challenger, audited (policy.challenger.start). Starting the current
// challenger again returns it and records nothing.
func (s *Service) StartChallenger(ctx context.Context, p *access.Principal, name string) (*Challenger, error) {
	bank, product, n, err := ParseName(name, "name", false)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	var out *Challenger
	err = s.store.Write(ctx, func(tx Writer) error {
		v, err := tx.PolicyVersion(ctx, bank, product, n)
		if err != nil {
			return err
		}
		cur, err := currentChallenger(ctx, tx, bank, product)
		if err != nil {
			return err
		}
		change, err := CanChallenge(v, cur)
		if err != nil || !change {
			out = cur
			return err
		}
		c := &Challenger{Bank: bank, Product: product, Version: n, StartedBy: p.ID, StartTime: now}
		if err := tx.InsertChallenger(ctx, c); err != nil {
			return err
		}
		out = c
		return tx.Record(ctx, challengerRecord(p.ID, "policy.challenger.start", c, v.ContentHash))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// StopChallenger ends the product's current designation, audited
// (policy.challenger.stop). Its shadow decisions stay. A product without
// a challenger is FailedPrecondition NO_CHALLENGER.
func (s *Service) StopChallenger(ctx context.Context, p *access.Principal, parent string) (*Challenger, error) {
	bank, product, err := ParseParent(parent, "parent")
	if err != nil {
		return nil, err
	}
	now := s.clock()
	var out *Challenger
	err = s.store.Write(ctx, func(tx Writer) error {
		cur, err := currentChallenger(ctx, tx, bank, product)
		if err != nil {
			return err
		}
		if cur == nil {
			return fault.New(fault.FailedPrecondition, ReasonNoChallenger, "%s has no challenger to stop", parent)
		}
		out = cur
		return stopChallenger(ctx, tx, p.ID, cur, StopStopped, now)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetChallenger returns the product's current challenger with the counts
// of its shadow decisions; NotFound CHALLENGER_NOT_FOUND when none.
func (s *Service) GetChallenger(ctx context.Context, parent string) (*ChallengerView, error) {
	bank, product, err := ParseParent(parent, "parent")
	if err != nil {
		return nil, err
	}
	var out *ChallengerView
	err = s.store.Read(ctx, func(tx Reader) error {
		cur, err := currentChallenger(ctx, tx, bank, product)
		if err != nil {
			return err
		}
		if cur == nil {
			return fault.New(fault.NotFound, ReasonChallengerNotFound, "%s has no challenger", parent)
		}
		counts, err := tx.ShadowCounts(ctx, bank, product, cur.Version)
		out = &ChallengerView{Challenger: cur, Counts: counts}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// endChallengerOnActivate is Activate's part of the rule: when v, being
// activated in tx, is the current challenger, its designation ends in the
// same transaction (reason "activated"): it is the champion now, and a
// challenger equal to the champion would only shadow itself. The end is
// told in the activation's own audit record (ended true: payload
// challenger_ended), so an activation stays one entry.
func endChallengerOnActivate(ctx context.Context, tx Writer, actor string, v *Version, now time.Time) (ended bool, err error) {
	cur, err := currentChallenger(ctx, tx, v.Bank, v.Product)
	if err != nil || cur == nil || cur.Version != v.Version {
		return false, err
	}
	cur.StoppedBy, cur.StopTime, cur.StopReason = actor, &now, StopActivated
	return true, tx.StopChallenger(ctx, cur)
}

func stopChallenger(ctx context.Context, tx Writer, actor string, c *Challenger, why string, now time.Time) error {
	c.StoppedBy, c.StopTime, c.StopReason = actor, &now, why
	if err := tx.StopChallenger(ctx, c); err != nil {
		return err
	}
	return tx.Record(ctx, challengerRecord(actor, "policy.challenger.stop", c, ""))
}

// currentChallenger is the product's designation, nil when none.
func currentChallenger(ctx context.Context, tx Reader, bank, product string) (*Challenger, error) {
	c, err := tx.CurrentChallenger(ctx, bank, product)
	if fault.Is(err, fault.NotFound) {
		return nil, nil
	}
	return c, err
}

// challengerRecord is the audit record of a start or stop; the subject is
// the challenger version.
func challengerRecord(actor, action string, c *Challenger, contentHash string) audit.Record {
	at := c.StartTime
	payload := map[string]string{"bank": c.Bank, "product": c.Product, "version": strconv.Itoa(c.Version)}
	if contentHash != "" {
		payload["content_hash"] = contentHash
	}
	if c.StopTime != nil {
		at = *c.StopTime
		payload["stop_reason"] = c.StopReason
	}
	return audit.Record{
		Time: at, Actor: actor, Action: action, Subject: c.VersionName(),
		RequestHash: audit.HashBytes([]byte(action + "\x00" + c.VersionName())),
		ResultHash: audit.HashBytes(fmt.Appendf(nil, "%s\x00%s\x00%s\x00%s", c.VersionName(), c.StartedBy,
			c.StoppedBy, c.StopReason)),
		Payload: payload,
	}
}
