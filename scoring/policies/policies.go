// Package policies keeps the versions of banks' credit policy documents and
// their lifecycle: a risk manager uploads a draft (validated strictly), a
// second person approves it, and it is activated; exactly one version per
// bank and product is active and the one it replaces stays stored as
// superseded. Stored versions never change content: a version number is
// used once.
//
// What a policy says, and how it is evaluated, is scoring/policy's
// business: this package only needs a Checker that validates a document
// and reads its identity. It reaches storage only through its Store port.
package policies

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/docver"
)

// State is where a version is in its lifecycle (scoring/docver).
type State = docver.State

// The lifecycle states.
const (
	// Draft: uploaded and valid, not approved.
	Draft = docver.Draft
	// Approved: a second person approved it; it may be activated.
	Approved = docver.Approved
	// Active: the version banks' assessments use; one per bank and product.
	Active = docver.Active
	// Superseded: was active until a later version was activated.
	Superseded = docver.Superseded
)

// lifecycle is the policy's kind of versioned document: a second person
// approves, then any risk manager of the bank activates.
var lifecycle = docver.Doc{
	Reason:     "POLICY",
	Approval:   true,
	ReturnHint: "to return to it, upload its content as a new version",
}

// Meta is what a Checker reads from a valid document.
type Meta struct {
	Bank, Product string
	Version       int
	// EffectiveDate is the document's effective_date (YYYY-MM-DD).
	EffectiveDate string
	// ContentHash identifies the policy's content; decisions carry it.
	ContentHash string
}

// Checker validates a policy document strictly and returns its identity.
// Its error for an invalid document is whatever scoring/policy returns
// (every problem with its line); the service passes it through.
type Checker func(doc []byte) (Meta, error)

// Version is one stored version of a policy document.
type Version struct {
	Bank, Product string
	Version       int
	Document      string
	ContentHash   string
	EffectiveDate string
	State         State
	UploadedBy    string
	UploadTime    time.Time
	ApprovedBy    string
	ApproveTime   *time.Time
	ActivatedBy   string
	ActivateTime  *time.Time
	SupersedeTime *time.Time
}

// Parent is the resource name of the version's bank product.
func (v *Version) Parent() string { return ProductName(v.Bank, v.Product) }

// Name is the version's resource name.
func (v *Version) Name() string { return docver.Name(v.Parent(), "policies", v.Version) }

func (v *Version) number() int { return v.Version }

// ProductName is banks/{bank}/products/{product}.
func ProductName(bank, product string) string { return resource.Product(bank, product) }

var slug = regexp.MustCompile(`^[a-z][a-z0-9-]{1,62}$`)

// ParseParent splits banks/{bank}/products/{product}.
func ParseParent(parent, field string) (bank, product string, err error) {
	parts := strings.Split(parent, "/")
	if len(parts) != 4 || parts[0] != "banks" || parts[2] != "products" || !slug.MatchString(parts[1]) || !slug.MatchString(parts[3]) {
		return "", "", fault.InvalidField(field, "must be banks/{bank}/products/{product} (lower-case ids), got %q", parent)
	}
	return parts[1], parts[3], nil
}

// ParseName splits banks/{bank}/products/{product}/policies/{version};
// the version may be "active" when allowActive.
func ParseName(name, field string, allowActive bool) (bank, product string, n int, err error) {
	parent, ver, ok := strings.Cut(name, "/policies/")
	if !ok {
		return "", "", 0, fault.InvalidField(field, "must be banks/{bank}/products/{product}/policies/{version}, got %q", name)
	}
	if bank, product, err = ParseParent(parent, field); err != nil {
		return "", "", 0, err
	}
	if ver == docver.ActiveAlias && allowActive {
		return bank, product, 0, nil
	}
	n, ok = docver.Number(ver, 0)
	if !ok {
		return "", "", 0, fault.InvalidField(field, "version must be a positive number%s, got %q",
			map[bool]string{true: " or active", false: ""}[allowActive], ver)
	}
	return bank, product, n, nil
}

// Store is the policy-version port, implemented by adapters/sqlstore and
// checked by the conformance suite.
type Store interface {
	// Read runs fn in a read-only transaction with a consistent snapshot.
	Read(ctx context.Context, fn func(Reader) error) error
	// Write runs fn in one read-write transaction; fn may be retried.
	Write(ctx context.Context, fn func(Writer) error) error
}

// ListQuery selects a page of one product's versions, newest first.
type ListQuery struct {
	Bank, Product string
	// Before is a keyset cursor: only versions below it (0 = newest).
	Before int
	Limit  int
}

// Reader reads policy versions. Errors: NotFound when the version does
// not exist; anything else is Internal or Unavailable.
type Reader interface {
	PolicyVersion(ctx context.Context, bank, product string, n int) (*Version, error)
	// ActivePolicy returns the active version; NotFound when there is none.
	ActivePolicy(ctx context.Context, bank, product string) (*Version, error)
	// PolicyVersions returns up to q.Limit versions below q.Before, newest
	// first, without their Document text.
	PolicyVersions(ctx context.Context, q ListQuery) ([]*Version, error)
	// LatestGateReport returns the version's gate report of the highest
	// seq; NotFound when it has none.
	LatestGateReport(ctx context.Context, bank, product string, version int) (*GateReport, error)
	// ChallengerReader reads challenger designations (challenger.go).
	ChallengerReader
}

// Writer reads and writes policy versions within one transaction.
type Writer interface {
	Reader
	// Record appends an audit record that commits with this transaction.
	Record(ctx context.Context, r audit.Record) error
	// InsertPolicyVersion stores v; AlreadyExists when the version number
	// is taken.
	InsertPolicyVersion(ctx context.Context, v *Version) error
	// UpdatePolicyState stores v's State and its approval, activation and
	// supersession fields; nothing else ever changes. NotFound when v does
	// InsertGateReport stores r under its version's next seq and sets
	// r.Seq to it. NotFound when the version does not exist.
	InsertGateReport(ctx context.Context, r *GateReport) error
	// not exist; AlreadyExists when it would make a second active version.
	UpdatePolicyState(ctx context.Context, v *Version) error
	// ChallengerWriter writes challenger designations (challenger.go).
	ChallengerWriter
}

// auditRecord describes a lifecycle step for the log: identity and content
// hash, never the text.
func auditRecord(actor, action string, v *Version, at time.Time, extra map[string]string) audit.Record {
	payload := map[string]string{
		"bank": v.Bank, "product": v.Product, "version": strconv.Itoa(v.Version),
		"content_hash": v.ContentHash, "state": string(v.State), "effective_date": v.EffectiveDate,
	}
	for k, val := range extra {
		payload[k] = val
	}
	return audit.Record{
		Time: at, Actor: actor, Action: action, Subject: v.Name(),
		RequestHash: audit.HashBytes([]byte(action + "\x00" + v.Name() + "\x00" + v.ContentHash)),
		ResultHash: audit.HashBytes(fmt.Appendf(nil, "%s\x00%s\x00%s\x00%s\x00%s\x00%s",
			v.Name(), v.ContentHash, v.State, v.UploadedBy, v.ApprovedBy, v.ActivatedBy)),
		Payload: payload,
	}
}
