package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// Banks returns the banks by id, with their names.
func (a *App) Banks(ctx context.Context) (map[string]*access.Bank, error) {
	bs, err := a.Store.Principals().Banks(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*access.Bank, len(bs))
	for _, b := range bs {
		out[b.ID] = b
	}
	return out, nil
}

// ConsentTerm is the dates a consent granted now may end on (First to
// Last, Asia/Shanghai) and the one offered (Default): the lending rules'
// range (credit.MaxConsentTerm) in whole days.
type ConsentTerm struct {
	First, Last, Default household.Date
}

// ConsentTerm returns the term of a consent granted now.
func (a *App) ConsentTerm() ConsentTerm {
	now := a.Lending.Now()
	return ConsentTerm{
		First: household.Today(now.In(household.Shanghai).AddDate(0, 0, 1)),
		// The day's start, when the consent ends, is within the maximum.
		Last:    household.Today(now.Add(credit.MaxConsentTerm)),
		Default: household.Today(now.Add(credit.DefaultConsentTerm)),
	}
}

// ConsentGrant is a household granting a bank a consent itself.
type ConsentGrant struct {
	Household string // villages/{village}/households/{id}
	Bank      string // a bank id of Banks
	Purposes  []string
	// Until is the day the consent ends (at its start, Asia/Shanghai),
	// YYYY-MM-DD.
	Until string
	// RequestID is one per form shown: the same form sent twice is one
	// consent, a new form a new one.
	RequestID string
}

// GrantConsent records the household's own consent (channel app) for a
// bank it chose by name: a bank without a name is no bank it can know.
// The authorisation it signs is the statement of bank, purposes, end and
// request; its SHA-256 is the consent's authorisation hash. Violations
// name bank, expire_time, consent.purposes (as credit.Service.Grant).
func (a *App) GrantConsent(ctx context.Context, p *access.Principal, in ConsentGrant) (*lending.Consent, error) {
	var v fault.Violations
	banks, err := a.Banks(ctx)
	if err != nil {
		return nil, err
	}
	if banks[in.Bank] == nil {
		v.Add("bank", "choose one of the banks listed")
	}
	until, err := household.ParseDate(strings.TrimSpace(in.Until))
	if err != nil {
		v.Add("expire_time", "must be a date in YYYY-MM-DD form")
	}
	if len(in.Purposes) == 0 {
		// Said with the others, rather than after them by the service.
		v.Add("consent.purposes", "at least one purpose is required")
	}
	if strings.TrimSpace(in.RequestID) == "" {
		v.Add("request_id", "is required")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	expires := until.Time().UTC()
	statement := fmt.Sprintf("sanzhi consent\nhousehold %s\nbank %s\npurposes %s\nexpires %s\nrequest %s\n",
		in.Household, in.Bank, strings.Join(in.Purposes, ","), expires.Format(time.RFC3339), in.RequestID)
	sum := sha256.Sum256([]byte(statement))
	return a.Lending.Grant(ctx, p, credit.GrantInput{Household: in.Household, Bank: resource.Bank(in.Bank),
		Purposes: in.Purposes, ExpireTime: expires, Channel: lending.ChannelApp, AuthorisationHash: hex.EncodeToString(sum[:])})
}
