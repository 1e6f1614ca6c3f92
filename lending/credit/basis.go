package credit

import (
	"context"
	"encoding/json"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending"
)

// The lending paths apply lending.LawfulBasis (the rule, written once);
// this file reads what it needs and turns its answer into query records
// and, for line events, into what may be delivered.

// payloadBasis is the query record's key for the basis a delivery rested
// on: "consent" or "contract".
const payloadBasis = "basis"

// basisRecord notes the basis in a query record.
func basisRecord(r audit.Record, b lending.Basis) audit.Record {
	r.Payload[payloadBasis] = string(b.Kind)
	return r
}

// EventReader is what judging a line event's delivery reads: the
// household's consents and the line as it is now.
type EventReader interface {
	Consents(ctx context.Context, householdID string) ([]*lending.Consent, error)
	LineByID(ctx context.Context, id string) (*Line, error)
}

// householdStanding is the household's standing with bank now: its
// consents, and whether it owes the bank on any of the bank's lines.
func householdStanding(ctx context.Context, tx Reader, bank, householdID string, at time.Time) ([]lending.Consent, decimal.Decimal, error) {
	consents, err := tx.Consents(ctx, householdID)
	if err != nil {
		return nil, decimal.Zero, err
	}
	lines, err := tx.HouseholdLines(ctx, householdID)
	if err != nil {
		return nil, decimal.Zero, err
	}
	drawn := decimal.Zero
	for _, l := range lines {
		if l.Bank == bank {
			drawn = drawn.Add(l.Drawn)
		}
	}
	return consentValues(consents), drawn, nil
}

// Delivery channels of line events, as query-record methods.
const (
	MethodWatch   = "watch_credit_lines"
	MethodWebhook = "webhook"
)

// Delivery is a line event as it may go to its bank now.
type Delivery struct {
	// Event is the event to send: the stored one when the bank has a
	// lawful basis, otherwise a copy withheld down to the line's name, the
	// event type and the line's status (no household, no amounts, no
	// reason, no decision).
	Event *LineEvent
	// Basis is the basis found; zero when withheld.
	Basis lending.Basis
	// Record is the query record of a delivery with household data, to
	// commit before (Watch) or with (webhooks) the delivery; nil when
	// withheld.
	Record *audit.Record
}

// Withheld reports whether the event went without household data.
func (d *Delivery) Withheld() bool { return d.Record == nil }

// ActorWebhook is the query record's actor of a webhook delivery (no
// person asked: the service pushed it to the bank's endpoint).
const ActorWebhook = ActorService

// ForDelivery judges ev for delivery to its bank at at under the lawful
// basis rule (lending.ActMonitor: a live consent of the bank, or a drawn
// balance on the event's line, both as they are at delivery, not as they
// were when the event was written), by actor over method. Freeze events
// after the household revoked every consent and repaid reach the bank
// only as "line L is frozen".
func ForDelivery(ctx context.Context, r EventReader, ev *LineEvent, actor, method string, at time.Time) (*Delivery, error) {
	consents, err := r.Consents(ctx, ev.HouseholdID)
	if err != nil {
		return nil, err
	}
	drawn := decimal.Zero
	l, err := r.LineByID(ctx, ev.LineID)
	switch {
	case err == nil:
		drawn = l.Drawn
	case !fault.Is(err, fault.NotFound):
		return nil, err
	}
	b, err := lending.LawfulBasis(lending.BasisQuery{Act: lending.ActMonitor, Bank: ev.Bank,
		Consents: consentValues(consents), Drawn: drawn, At: at})
	if isConsentRequired(err) {
		w, err := withheld(ev)
		if err != nil {
			return nil, err
		}
		return &Delivery{Event: w}, nil
	}
	if err != nil {
		return nil, err
	}
	hh := HouseholdRef{Village: ev.Village, ID: ev.HouseholdID}.Name()
	rec := audit.Record{Time: at, Actor: actor, Action: ActionQuery, Subject: hh,
		Payload: map[string]string{payloadBank: ev.Bank, payloadProduct: eventProduct(ev),
			payloadPurpose: string(b.Purpose), payloadMethod: method, payloadOutcome: OutcomeAllowed,
			payloadBasis: string(b.Kind), "event": ev.ID, "event_type": ev.Type}}
	return &Delivery{Event: ev, Basis: b, Record: &rec}, nil
}

// eventProduct is the product of the event's line, from its name.
func eventProduct(ev *LineEvent) string {
	_, product, _, err := ParseLineName(EventLineName(ev), "")
	if err != nil {
		return ""
	}
	return product
}

// withheldBody is the JSON of a withheld event: what the bank needs to
// keep its copy of its own line's status, nothing about the household.
type withheldBody struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Bank     string       `json:"bank"`
	Time     string       `json:"time"`
	Line     withheldLine `json:"credit_line"`
	Withheld string       `json:"withheld"`
}

type withheldLine struct {
	Name   string `json:"name"`
	Status string `json:"status"`
}

// WithheldReason is the withheld event's "withheld" field.
const WithheldReason = "no_lawful_basis"

func withheld(ev *LineEvent) (*LineEvent, error) {
	var full eventBody
	if err := json.Unmarshal(ev.Payload, &full); err != nil {
		return nil, fault.Wrap(err, fault.Internal, "EVENT_DECODING", "decoding a stored line event")
	}
	payload, err := json.Marshal(withheldBody{ID: full.ID, Type: full.Type, Bank: full.Bank, Time: full.Time,
		Line: withheldLine{Name: full.Line.Name, Status: full.Line.Status}, Withheld: WithheldReason})
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "EVENT_ENCODING", "encoding a withheld line event")
	}
	w := *ev
	w.Village, w.HouseholdID, w.Payload = "", "", payload
	return &w, nil
}
