package credit

import (
	"context"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// TxInput is a drawdown or repayment a bank reports.
type TxInput struct {
	Line          string // banks/{bank}/products/{product}/creditLines/{id}
	TransactionID string // the bank's own id: the idempotency key
	Amount        string // yuan, as text
	Use           string // drawdowns: the declared use
}

// TxResult is a recorded transaction and the line right after it (now,
// for a replay).
type TxResult struct {
	Transaction *Transaction
	View        *View
	// Replayed is true when the transaction id was reported before with
	// the same content: nothing changed, the original result is returned.
	Replayed bool
}

// ReasonTransactionIDReused is the fault reason when a bank reuses a
// transaction id for a different transaction.
const ReasonTransactionIDReused = "TRANSACTION_ID_REUSED"

// Drawdown records a drawdown the bank made on the line. The line must be
// active on today's date, the use allowed, the amount within Available,
// and the household's total drawn across banks within the cap the policy
// set. Concurrent reports on one household queue on its lines' locks, so
// available = limit − drawn holds whatever the concurrency.
func (s *Service) Drawdown(ctx context.Context, p *access.Principal, in TxInput) (*TxResult, error) {
	return s.transact(ctx, p, in, Drawdown)
}

// Repayment records a repayment; allowed whatever the status, never above
// what is drawn.
func (s *Service) Repayment(ctx context.Context, p *access.Principal, in TxInput) (*TxResult, error) {
	in.Use = ""
	return s.transact(ctx, p, in, Repayment)
}

func (s *Service) transact(ctx context.Context, p *access.Principal, in TxInput, kind TxKind) (*TxResult, error) {
	bank, product, lineID, err := ParseLineName(in.Line, "line")
	if err != nil {
		return nil, err
	}
	amount, err := lending.CheckAmount("amount", in.Amount)
	if err != nil {
		return nil, err
	}
	if in.TransactionID == "" || len(in.TransactionID) > 128 {
		return nil, fault.InvalidField("transaction_id", "is required, at most 128 characters")
	}
	if kind == Drawdown && in.Use == "" {
		return nil, fault.InvalidField("use", "the declared use of the money is required")
	}
	if err := freeText("use", "用途", in.Use); err != nil {
		return nil, err
	}
	if err := freeText("transaction_id", "交易号", in.TransactionID); err != nil {
		return nil, err
	}
	now := s.clock()
	today := household.Today(now)
	// The fingerprint uses the amount as a number, so "100" and "100.00"
	// are the same report.
	reqHash := requestHash(in.Line, in.TransactionID, string(kind), amount.StringFixed(2), in.Use)
	var out *TxResult
	err = s.store.Locked(ctx, func(tx Writer) error {
		l, err := bankLine(ctx, tx, bank, product, lineID, in.Line)
		if err != nil {
			return err
		}
		lines, err := tx.LockHouseholdLines(ctx, l.HouseholdID)
		if err != nil {
			return err
		}
		// Under the lock: a concurrent report of the same id has either
		// committed (and is seen here) or not started.
		if prev, err := tx.Transaction(ctx, bank, in.TransactionID); err == nil {
			if prev.RequestHash != reqHash {
				return fault.New(fault.AlreadyExists, ReasonTransactionIDReused,
					"transaction id %q was already reported with different content", in.TransactionID)
			}
			cur := find(lines, lineID)
			d, err := tx.Decision(ctx, cur.DecisionID)
			if err != nil {
				return err
			}
			out = &TxResult{Transaction: prev, View: view(cur, d, today), Replayed: true}
			return nil
		} else if !fault.Is(err, fault.NotFound) {
			return err
		}
		cur := find(lines, lineID)
		if cur == nil {
			return fault.New(fault.Internal, "LINE_VANISHED", "credit line %s was not among the household's lines", in.Line)
		}
		next := *cur
		switch kind {
		case Drawdown:
			if next.Line, err = s.rules.Drawdown(cur.Line, amount, lending.Use(in.Use), today); err != nil {
				return err
			}
			other := decimal.Zero
			for _, o := range lines {
				if o.ID != cur.ID {
					other = other.Add(o.Drawn)
				}
			}
			if err := lending.CheckTotalExposure(other, next.Drawn, cur.ExposureCap); err != nil {
				return err
			}
		case Repayment:
			if next.Line, err = lending.Repayment(cur.Line, amount); err != nil {
				return err
			}
		}
		next.UpdateTime = now
		if err := tx.UpdateLine(ctx, &next, cur.Version); err != nil {
			return err
		}
		t := &Transaction{Bank: bank, ID: in.TransactionID, LineID: lineID, Kind: kind, Amount: amount,
			Use: lending.Use(in.Use), RequestHash: reqHash, DrawnAfter: next.Drawn, RecordedBy: p.ID, Time: now}
		if err := tx.InsertTransaction(ctx, t); err != nil {
			return err
		}
		typ := EventDrawdown
		if kind == Repayment {
			typ = EventRepayment
		}
		if err := s.eventTx(ctx, tx, typ, &next, t, now); err != nil {
			return err
		}
		d, err := tx.Decision(ctx, next.DecisionID)
		if err != nil {
			return err
		}
		out = &TxResult{Transaction: t, View: view(&next, d, today)}
		return tx.Record(ctx, audit.Record{Time: now, Actor: p.ID, Action: "credit." + string(kind),
			Subject: in.Line, RequestHash: reqHash,
			Payload: map[string]string{"household": next.Household, "transaction_id": in.TransactionID,
				"amount": amount.StringFixed(2), "use": in.Use, "drawn_after": next.Drawn.StringFixed(2)}})
	})
	if err != nil {
		return nil, err
	}
	if !out.Replayed {
		s.Poke(bank)
	}
	return out, s.explained(ctx, out.View.Decision)
}

func find(lines []*Line, id string) *Line {
	for _, l := range lines {
		if l.ID == id {
			return l
		}
	}
	return nil
}

// Unfreeze lifts a freeze on the bank's line, with a justification kept
// in the audit log (the regulator reads it there; it is the officer's
// statement about the decision, and audit.Record.Validate keeps resident
// ID numbers out of it). A line that is not frozen is FailedPrecondition.
func (s *Service) Unfreeze(ctx context.Context, p *access.Principal, name, justification string) (*View, error) {
	bank, product, lineID, err := ParseLineName(name, "name")
	if err != nil {
		return nil, err
	}
	if err := checkJustification(justification); err != nil {
		return nil, err
	}
	now := s.clock()
	var out *View
	err = s.store.Locked(ctx, func(tx Writer) error {
		l, err := bankLine(ctx, tx, bank, product, lineID, name)
		if err != nil {
			return err
		}
		lines, err := tx.LockHouseholdLines(ctx, l.HouseholdID)
		if err != nil {
			return err
		}
		cur := find(lines, lineID)
		if cur.Status != lending.StatusFrozen {
			return fault.New(fault.FailedPrecondition, "LINE_NOT_FROZEN", "credit line %s is %s, not frozen", name, cur.Status)
		}
		next := *cur
		next.Line = lending.Unfreeze(cur.Line)
		next.UpdateTime = now
		if err := tx.UpdateLine(ctx, &next, cur.Version); err != nil {
			return err
		}
		if err := s.event(ctx, tx, EventLineUnfrozen, &next, now); err != nil {
			return err
		}
		d, err := tx.Decision(ctx, next.DecisionID)
		if err != nil {
			return err
		}
		out = view(&next, d, household.Today(now))
		return tx.Record(ctx, audit.Record{Time: now, Actor: p.ID, Action: "credit.unfreeze", Subject: name,
			Payload: map[string]string{"household": next.Household, "freeze_reason": cur.FreezeReason,
				"justification": justification}})
	})
	if err != nil {
		return nil, err
	}
	s.Poke(bank)
	return out, s.explained(ctx, out.Decision)
}

// checkJustification requires the written reason a person gives for
// overriding the machine (an override, lifting a freeze): at least ten
// characters, which the regulator reads beside the decision.
func checkJustification(j string) error {
	if len([]rune(strings.TrimSpace(j))) < 10 {
		return fault.InvalidField("justification", "a written justification of at least 10 characters is required")
	}
	return freeText("justification", "理由说明", j)
}

// freeText refuses free text holding a 身份证号: it is kept verbatim in
// the permanent audit log and shown to whoever reads the record.
func freeText(field, labelZH, value string) error {
	if m := idnum.FreeTextProblem(labelZH, field, value); m != "" {
		return fault.InvalidField(field, "%s", m)
	}
	return nil
}
