package app

import (
	"context"
	"strconv"
	"time"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/paging"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// Entries is the part of the audit store the record lookups read: entries
// by action, subject and time, in sequence order.
type Entries interface {
	ListEntries(ctx context.Context, q sqlstore.EntryQuery) ([]sqlstore.Leaf, error)
}

// QueryRecord is one look a bank took at a household's data, as the
// household is shown it: who, which bank, how, why, what came of it and
// under which lawful basis. An assessment names its decision; a decision
// of a batch re-assessment also names its run.
type QueryRecord struct {
	Seq                                   uint64
	Time                                  time.Time
	Actor, Bank, Method, Purpose, Outcome string
	Basis, Decision, Run                  string
	View                                  string // get_credit_line: credit.Basic or credit.Full
}

// QueryRecordPage is a page of query records and the token for the next.
type QueryRecordPage struct {
	Records   []QueryRecord
	NextToken string // "" at the end
}

// QueryRecords reads a page of the query records of the household named
// hh (villages/…/households/…) from the audit log, oldest first. Entries
// of other actions about the household (its registration, updates) are
// not query records and are skipped. pageSize 0 means paging.DefaultSize;
// a page may come back short with a next token. A malformed hh is
// fault.Invalid on parent; then a bad page_size or page_token (one issued
// for another household) is fault.Invalid naming that field.
func QueryRecords(ctx context.Context, st Entries, hh string, pageSize int32, pageToken string) (QueryRecordPage, error) {
	if _, _, err := household.ParseName(hh, "parent"); err != nil {
		return QueryRecordPage{}, err
	}
	var v fault.Violations
	scope := "queryRecords:" + hh
	after, ok := paging.IntCursor(pageToken, scope, &v)
	if !ok {
		after = -1
	}
	limit := paging.Limit(pageSize, &v)
	if err := v.Err(); err != nil {
		return QueryRecordPage{}, err
	}
	recs, cursor, more, err := queryRecords(ctx, st, hh, after, limit)
	if err != nil {
		return QueryRecordPage{}, err
	}
	page := QueryRecordPage{Records: recs}
	if more {
		page.NextToken = paging.Token(scope, strconv.FormatInt(cursor, 10))
	}
	return page, nil
}

// queryRecords reads up to limit query records after the entry numbered
// after (-1: from the start). It returns the last entry read and whether
// more may follow, for the next page's cursor.
func queryRecords(ctx context.Context, st Entries, hh string, after int64, limit int) (out []QueryRecord, cursor int64, more bool, err error) {
	cursor = after
	for len(out) < limit {
		// The subject index serves this.
		leaves, err := st.ListEntries(ctx, sqlstore.EntryQuery{Subject: hh, AfterSeq: cursor, Limit: limit})
		if err != nil {
			return nil, 0, false, err
		}
		for _, l := range leaves {
			cursor = int64(l.Seq)
			e, err := audit.ParseEntry(l.Data)
			if err != nil {
				return nil, 0, false, err
			}
			if e.Action != credit.ActionQuery && e.Action != credit.ActionAssess {
				continue
			}
			p := e.Payload
			out = append(out, QueryRecord{Seq: l.Seq, Time: e.Time, Actor: e.Actor, Bank: p["bank"], Method: p["method"],
				Purpose: p["purpose"], Outcome: p["outcome"], Basis: p["basis"], Decision: p["decision"], Run: p["run"], View: p["view"]})
			if len(out) == limit {
				return out, cursor, true, nil
			}
		}
		if len(leaves) < limit {
			break
		}
	}
	return out, cursor, false, nil
}

// recordScan bounds how many candidate entries a receipt lookup reads.
const recordScan = 200

// DecisionRecord finds the sequenced entry that records d: false when it
// is not sequenced yet. The plain columns only narrow the search: each
// candidate is parsed from its leaf bytes (what the proof covers) and
// must name d in its payload.
func DecisionRecord(ctx context.Context, st Entries, d *credit.Decision) (uint64, bool, error) {
	for _, spot := range credit.RecordSpots(d) {
		// Records are written with the decision's clock reading (a page
		// record a little later); a second of slack absorbs the stored
		// time's precision.
		q := sqlstore.EntryQuery{Action: spot.Action, Subject: spot.Subject, SubjectPrefix: spot.SubjectPrefix,
			Since: d.Time.Add(-time.Second), AfterSeq: -1, Limit: recordScan}
		leaves, err := st.ListEntries(ctx, q)
		if err != nil {
			return 0, false, err
		}
		for _, l := range leaves {
			e, err := audit.ParseEntry(l.Data)
			if err != nil {
				return 0, false, fault.Wrap(err, fault.Internal, "AUDIT_ENTRY_CORRUPT", "stored entry %d is not canonical", l.Seq)
			}
			if credit.RecordsDecision(e, d) {
				return e.Seq, true, nil
			}
		}
	}
	return 0, false, nil
}
