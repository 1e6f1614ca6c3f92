// Package principals manages who may call the service: creating a
// principal (with its API key), revoking it and re-keying it. Each change
// commits with one audit entry in the same transaction, so the log says who
// gave whom which role and scope, and when it was taken away. Only
// operators manage principals.
package principals

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
)

// Audit actions.
const (
	ActionCreate = "principal.create"
	ActionRevoke = "principal.revoke"
	ActionRekey  = "principal.rekey"
	// ActionNameBank names a bank: the name households choose a bank by
	// when they grant it a consent, and read in who looked at their data.
	ActionNameBank = "bank.name"
)

// Writer changes principals within one transaction. Errors: NotFound for an
// unknown name, AlreadyExists for a taken name.
type Writer interface {
	// PrincipalByName returns the named principal, revoked or not.
	PrincipalByName(ctx context.Context, name string) (*access.Principal, error)
	// InsertPrincipal stores p with the SHA-256 hash of its key.
	InsertPrincipal(ctx context.Context, p *access.Principal, keyHash []byte) error
	// SetPrincipalRevoked marks the principal id revoked at t.
	SetPrincipalRevoked(ctx context.Context, id string, t time.Time) error
	// SetPrincipalKey replaces the principal's key hash: the old key stops
	// working (within the server's key cache time).
	SetPrincipalKey(ctx context.Context, id string, keyHash []byte) error
	// PutBank stores the bank's names, replacing those it had.
	PutBank(ctx context.Context, b *access.Bank) error
	// Record appends an audit record that commits with this transaction.
	Record(ctx context.Context, r audit.Record) error
}

// Store runs write transactions; fn may be retried.
type Store interface {
	Write(ctx context.Context, fn func(Writer) error) error
}

// NewKey returns a fresh API key and the hash the store keeps.
type NewKey func() (key string, hash []byte, err error)

// Service manages principals.
type Service struct {
	store  Store
	newKey NewKey
	now    func() time.Time
}

// NewService returns the service.
func NewService(store Store, newKey NewKey, now func() time.Time) *Service {
	return &Service{store: store, newKey: newKey, now: now}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// operatorOnly asks the one policy whether actor may manage principals
// (operators only).
func operatorOnly(actor *access.Principal) error {
	err := access.Authorise(actor, access.PrincipalAdminister, access.Target{})
	if fault.Is(err, fault.PermissionDenied) {
		return fault.New(fault.PermissionDenied, "ROLE_NOT_ALLOWED", "only operators manage principals, not role %s", actor.Role)
	}
	return err
}

// Create stores p (its ID, Name, Role and Scope set by the caller) with a
// new key and returns the key, which is shown once: only its hash is kept.
func (s *Service) Create(ctx context.Context, actor, p *access.Principal) (string, error) {
	if err := operatorOnly(actor); err != nil {
		return "", err
	}
	if err := p.Validate(); err != nil {
		return "", fault.Wrap(err, fault.Invalid, "INVALID_PRINCIPAL", "%v", err)
	}
	key, hash, err := s.newKey()
	if err != nil {
		return "", err
	}
	now := s.clock()
	p.CreateTime = now
	err = s.store.Write(ctx, func(tx Writer) error {
		if err := tx.InsertPrincipal(ctx, p, hash); err != nil {
			return err
		}
		return tx.Record(ctx, record(actor, ActionCreate, p, now, nil))
	})
	if err != nil {
		return "", err
	}
	return key, nil
}

// Revoke revokes the named principal at once (the server's key cache lets
// a key work a few seconds more). Revoking a revoked principal changes
// nothing and logs nothing.
func (s *Service) Revoke(ctx context.Context, actor *access.Principal, name string) (*access.Principal, error) {
	if err := operatorOnly(actor); err != nil {
		return nil, err
	}
	now := s.clock()
	var out *access.Principal
	err := s.store.Write(ctx, func(tx Writer) error {
		p, err := tx.PrincipalByName(ctx, name)
		if err != nil {
			return err
		}
		out = p
		if !p.Active() {
			return nil
		}
		if err := tx.SetPrincipalRevoked(ctx, p.ID, now); err != nil {
			return err
		}
		p.RevokeTime = &now
		return tx.Record(ctx, record(actor, ActionRevoke, p, now, nil))
	})
	return out, err
}

// Rekey gives the named principal a new key, which it returns (shown
// once); the old key stops working. A revoked principal stays revoked:
// FAILED_PRECONDITION.
func (s *Service) Rekey(ctx context.Context, actor *access.Principal, name string) (string, error) {
	if err := operatorOnly(actor); err != nil {
		return "", err
	}
	key, hash, err := s.newKey()
	if err != nil {
		return "", err
	}
	now := s.clock()
	err = s.store.Write(ctx, func(tx Writer) error {
		p, err := tx.PrincipalByName(ctx, name)
		if err != nil {
			return err
		}
		if !p.Active() {
			return fault.New(fault.FailedPrecondition, "PRINCIPAL_REVOKED", "principal %s is revoked; create a new one", name)
		}
		if err := tx.SetPrincipalKey(ctx, p.ID, hash); err != nil {
			return err
		}
		return tx.Record(ctx, record(actor, ActionRekey, p, now, nil))
	})
	if err != nil {
		return "", err
	}
	return key, nil
}

// NameBank gives bank b.ID its names (or new ones). Households pick a
// bank by this name, so naming one is an operator's act, audited like a
// principal change.
func (s *Service) NameBank(ctx context.Context, actor *access.Principal, b *access.Bank) error {
	if err := operatorOnly(actor); err != nil {
		return err
	}
	if err := b.Validate(); err != nil {
		return fault.Wrap(err, fault.Invalid, "INVALID_BANK", "%v", err)
	}
	now := s.clock()
	return s.store.Write(ctx, func(tx Writer) error {
		if err := tx.PutBank(ctx, b); err != nil {
			return err
		}
		subject := "banks/" + b.ID
		return tx.Record(ctx, audit.Record{Time: now, Actor: actor.ID, Action: ActionNameBank, Subject: subject,
			RequestHash: audit.HashBytes([]byte(ActionNameBank + "\x00" + subject + "\x00" + b.Name + "\x00" + b.NameEN)),
			Payload:     map[string]string{"name": b.Name, "name_en": b.NameEN, "actor_name": actor.Name}})
	})
}

// record describes a principal change: who, and the principal's identity,
// role and scope. Never a key or its hash.
func record(actor *access.Principal, action string, p *access.Principal, now time.Time, extra map[string]string) audit.Record {
	payload := map[string]string{
		"name": p.Name, "role": string(p.Role), "scope_villages": strings.Join(p.Scope.Villages, ","),
		"scope_bank": p.Scope.Bank, "scope_household": p.Scope.Household, "demo": strconv.FormatBool(p.Demo),
		"actor_name": actor.Name,
	}
	for k, v := range extra {
		payload[k] = v
	}
	subject := "principals/" + p.ID
	return audit.Record{Time: now, Actor: actor.ID, Action: action, Subject: subject,
		RequestHash: audit.HashBytes([]byte(action + "\x00" + subject + "\x00" + p.Name + "\x00" + string(p.Role) + "\x00" +
			payload["scope_villages"] + "\x00" + p.Scope.Bank + "\x00" + p.Scope.Household)),
		Payload: payload}
}
