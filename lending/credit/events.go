package credit

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/dectext"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

// eventLine is a line as a line event carries it: everything a bank's
// system needs to update its copy, amounts as strings.
type eventLine struct {
	Name         string `json:"name"`
	Household    string `json:"household"`
	Limit        string `json:"limit"`
	Drawn        string `json:"drawn"`
	Available    string `json:"available"`
	Rate         string `json:"rate"`
	Status       string `json:"status"`
	ValidUntil   string `json:"valid_until"`
	Decision     string `json:"decision"`
	FreezeReason string `json:"freeze_reason,omitempty"`
	Version      int    `json:"version"`
}

// eventTx is the transaction behind a drawdown or repayment event.
type eventTx struct {
	ID     string `json:"transaction_id"`
	Amount string `json:"amount"`
	Use    string `json:"use,omitempty"`
}

// eventBody is a line event's JSON: the webhook body and the payload of
// WatchCreditLines. The id is unique: receivers use it to drop repeats.
type eventBody struct {
	ID          string    `json:"id"`
	Type        string    `json:"type"`
	Bank        string    `json:"bank"`
	Time        string    `json:"time"`
	Line        eventLine `json:"credit_line"`
	Transaction *eventTx  `json:"transaction,omitempty"`
}

// event appends a line event for l in tx.
func (s *Service) event(ctx context.Context, tx Writer, typ string, l *Line, now time.Time) error {
	return s.eventTx(ctx, tx, typ, l, nil, now)
}

func (s *Service) eventTx(ctx context.Context, tx Writer, typ string, l *Line, t *Transaction, now time.Time) error {
	ev, err := newLineEvent(typ, l, t, now)
	if err != nil {
		return err
	}
	return tx.AppendLineEvent(ctx, ev)
}

// newLineEvent builds the event of l (and of t, for a drawdown or
// repayment); the store assigns its Seq when appending it.
func newLineEvent(typ string, l *Line, t *Transaction, now time.Time) (*LineEvent, error) {
	today := household.Today(now)
	status := l.StatusOn(today)
	available := l.Available()
	if status != lending.StatusActive {
		available = decimal.Zero // as GetCreditLine says: nothing can be drawn
	}
	b := eventBody{ID: uuid.Must(uuid.NewV7()).String(), Type: typ, Bank: l.Bank, Time: now.Format(time.RFC3339Nano),
		Line: eventLine{Name: LineName(l.Bank, l.Product, l.ID), Household: l.Household,
			Limit: dectext.Fixed(l.Limit, 2), Drawn: dectext.Fixed(l.Drawn, 2), Available: dectext.Fixed(available, 2),
			Rate: dectext.String(l.Rate), Status: string(status), ValidUntil: string(l.ValidUntil),
			Decision: DecisionName(l.Bank, l.Product, l.DecisionID), FreezeReason: l.FreezeReason, Version: l.Version}}
	if t != nil {
		b.Transaction = &eventTx{ID: t.ID, Amount: dectext.Fixed(t.Amount, 2), Use: string(t.Use)}
	}
	payload, err := json.Marshal(b)
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "EVENT_ENCODING", "encoding a line event")
	}
	return &LineEvent{Bank: l.Bank, ID: b.ID, Type: typ, LineID: l.ID,
		Village: l.Village, HouseholdID: l.HouseholdID, Payload: payload, Time: now}, nil
}

// Freeze reasons of knock-out events.
const (
	FreezeBlacklisted     = "blacklisted"
	FreezeDishonestDebtor = "dishonest_debtor"
)

// ActorService is the audit actor of what the service does on its own
// (freezes on knock-out events, re-assessment).
const ActorService = "sanzhid"

// Freeze freezes every open line of the household within tx, the
// transaction of the knock-out event that causes it (a black-list entry
// posted, a dishonest-debtor flag set), so the freeze commits with the
// event or not at all. Each frozen line gets a line event and an audit
// record naming the cause. Lines already frozen or closed are left alone.
// It returns the banks whose lines it froze; after commit call Poke with
// them.
func (s *Service) Freeze(ctx context.Context, tx Writer, householdID, reason, cause string) ([]string, error) {
	now := s.clock()
	lines, err := tx.LockHouseholdLines(ctx, householdID)
	if err != nil {
		return nil, err
	}
	var banks []string
	for _, cur := range lines {
		next := *cur
		next.Line = lending.Freeze(cur.Line, reason)
		if next.Version == cur.Version {
			continue // frozen or closed already
		}
		next.UpdateTime = now
		if err := tx.UpdateLine(ctx, &next, cur.Version); err != nil {
			return banks, err
		}
		if err := s.event(ctx, tx, EventLineFrozen, &next, now); err != nil {
			return banks, err
		}
		if err := tx.Record(ctx, audit.Record{Time: now, Actor: ActorService, Action: "credit.freeze",
			Subject: LineName(next.Bank, next.Product, next.ID),
			Payload: map[string]string{"household": next.Household, "reason": reason, "cause": cause}}); err != nil {
			return banks, err
		}
		if !slices.Contains(banks, next.Bank) {
			banks = append(banks, next.Bank)
		}
	}
	return banks, nil
}

// ReassessDue re-assesses up to max households whose points or facts
// changed since their lines were assessed (the store coalesces the marks:
// one per household however many changes). Each open line is re-assessed
// under its bank's active policy when a consent of that bank is still
// live (lending.ActReassess); without one the line stays as it is. It
// returns how many households it handled.
//
// Each household is one transaction (Locked) that locks the household's
// lines, then claims its mark (ClaimDue: on PostgreSQL FOR UPDATE SKIP
// LOCKED, so a second re-assessor, in this process or another, skips the
// household rather than assessing it twice), reads the inputs, writes
// every line's decision and clears the mark: the mark goes if and only if
// the assessment commits. A change that marks the household while it is
// claimed waits for the claim and marks it anew (the PostgreSQL trigger
// upserts the mark), so no change is lost; one that marked it before and
// has not committed yet holds the mark, and the household is skipped
// until it has.
func (s *Service) ReassessDue(ctx context.Context, max int) (int, error) {
	var due []string
	if err := s.store.Read(ctx, func(tx Reader) error {
		var err error
		due, err = tx.DueHouseholds(ctx, max)
		return err
	}); err != nil {
		return 0, err
	}
	assessed := false
	defer func() {
		if assessed {
			s.Poke()
		}
	}()
	for i, hid := range due {
		ok, err := s.reassessOne(ctx, hid)
		assessed = assessed || ok
		if err == nil {
			continue
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return i, err
		}
		// Move its mark to the back of the queue, so that one household
		// failing does not hold up the others, and report the failure.
		_ = s.store.Write(ctx, func(tx Writer) error {
			if err := tx.ClearDue(ctx, []string{hid}); err != nil {
				return err
			}
			return tx.MarkDue(ctx, hid, s.clock())
		})
		return i, err
	}
	return len(due), nil
}

// MarkReviewsDue marks for re-assessment every household whose line has
// reached its review day (the policy's line.review_months) and whose bank
// still has its consent, up to limit at a time; it returns how many it
// marked (already marked households count again). The re-assessment that
// follows renews the line's review day, so a line is marked once per
// review; a line whose bank has no consent is left as it is, to expire at
// the end of its term. The re-assessor calls it before ReassessDue.
func (s *Service) MarkReviewsDue(ctx context.Context, limit int) (int, error) {
	now := s.clock()
	var n int
	err := s.store.Write(ctx, func(tx Writer) error {
		ids, err := tx.ReviewsDue(ctx, household.Today(now), now, limit)
		if err != nil {
			return err
		}
		n = len(ids)
		for _, id := range ids {
			if err := tx.MarkDue(ctx, id, now); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// reassessOne re-assesses one marked household in one transaction (see
// ReassessDue); true when it wrote a decision.
func (s *Service) reassessOne(ctx context.Context, hid string) (bool, error) {
	// The policies and the catalogue's base, read before the transaction:
	// both are versioned and do not change once active.
	var lines []*Line
	if err := s.store.Read(ctx, func(tx Reader) error {
		var err error
		lines, err = tx.HouseholdLines(ctx, hid)
		return err
	}); err != nil {
		return false, err
	}
	pols, chals := map[string]*rules.Policy{}, map[string]*rules.Policy{}
	village := ""
	for _, l := range lines {
		if l.Status == lending.StatusClosed {
			continue
		}
		village = l.Village
		pol, err := s.policies.Active(ctx, l.Bank, l.Product)
		switch {
		case isNoPolicy(err):
			continue
		case err != nil:
			return false, err
		}
		pols[l.Bank+"/"+l.Product] = pol
		chals[l.Bank+"/"+l.Product] = s.challenger(ctx, l.Bank, l.Product)
	}
	base := decimal.Zero
	if len(pols) > 0 {
		var err error
		if base, err = s.inputs.BasePoints(ctx, village); err != nil {
			return false, err
		}
	}
	wrote := false
	err := s.store.Locked(ctx, func(tx Writer) error {
		wrote = false
		locked, err := tx.LockHouseholdLines(ctx, hid)
		if err != nil {
			return err
		}
		claimed, err := tx.ClaimDue(ctx, hid)
		if err != nil || !claimed {
			return err // done by another re-assessor, or held by a change still committing
		}
		for _, l := range locked {
			pol := pols[l.Bank+"/"+l.Product]
			if l.Status == lending.StatusClosed || pol == nil {
				continue
			}
			_, err := s.assessTx(ctx, tx, ActorService, pol, chals[l.Bank+"/"+l.Product], base, l.Bank, l.Product, l.Village, hid, false, 0)
			switch {
			case isConsentRequired(err):
				continue // no lawful basis: the line stays as it is
			case err != nil:
				return err
			}
			wrote = true
		}
		return tx.ClearDue(ctx, []string{hid})
	})
	return wrote, err
}

// ReasonNoActivePolicy is the reason when a bank product has no active
// policy to assess with.
const ReasonNoActivePolicy = "NO_ACTIVE_POLICY"

func isNoPolicy(err error) bool {
	var f *fault.Error
	return errors.As(err, &f) && f.Reason == ReasonNoActivePolicy
}

// watchPage is how many events Watch reads at a time.
const watchPage = 500

// Watch sends the bank's line events after the cursor in seq order, then
// waits for more until ctx ends. Events committed by another instance are
// picked up within pollEvery. Each event is judged at delivery
// (ForDelivery): with a lawful basis it goes whole and is a query record
// of its household, committed before it is sent; without one it goes
// withheld. A regulator's stream is supervision: every event whole, no
// query records (as its ListCreditLines).
func (s *Service) Watch(ctx context.Context, p *access.Principal, bankName string, after int64, send func(*Delivery) error) error {
	bank, err := ParseBank(bankName, "bank")
	if err != nil {
		return err
	}
	if p == nil {
		return fault.New(fault.Unauthenticated, "UNAUTHENTICATED", "missing credentials")
	}
	supervision := p.Role == access.Regulator
	const pollEvery = time.Second
	for {
		wake := s.Changed(bank)
		var evs []*LineEvent
		if err := s.store.Read(ctx, func(tx Reader) error {
			var err error
			evs, err = tx.LineEvents(ctx, bank, after, watchPage)
			return err
		}); err != nil {
			return err
		}
		var ds []*Delivery
		if supervision {
			for _, e := range evs {
				ds = append(ds, &Delivery{Event: e, Basis: lending.Basis{Kind: lending.BasisSupervision}})
			}
		} else if len(evs) > 0 {
			now := s.clock()
			if err := s.store.Write(ctx, func(tx Writer) error {
				ds = ds[:0]
				for _, e := range evs {
					d, err := ForDelivery(ctx, tx, e, p.ID, MethodWatch, now)
					if err != nil {
						return err
					}
					if d.Record != nil {
						if err := tx.Record(ctx, *d.Record); err != nil {
							return err
						}
					}
					ds = append(ds, d)
				}
				return nil
			}); err != nil {
				return err
			}
		}
		for _, d := range ds {
			if err := send(d); err != nil {
				return err
			}
			after = d.Event.Seq
		}
		if len(evs) == watchPage {
			continue
		}
		t := time.NewTimer(pollEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// EventLineName is the name of the line an event is about, read from its
// payload (the event row keeps the line id, not its product).
func EventLineName(e *LineEvent) string {
	var b struct {
		Line struct {
			Name string `json:"name"`
		} `json:"credit_line"`
	}
	if json.Unmarshal(e.Payload, &b) != nil {
		return ""
	}
	return b.Line.Name
}
