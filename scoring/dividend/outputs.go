package dividend

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/paging"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// RowPage is one page of a round's rows.
type RowPage struct {
	Rows      []*Row
	NextToken string
}

// ListRows returns a page of the round's rows in household id order.
func (s *Service) ListRows(ctx context.Context, roundName string, size int32, token string) (RowPage, error) {
	var v fault.Violations
	village, id, err := ParseRoundName(roundName, "parent")
	if err != nil {
		return RowPage{}, err
	}
	scope := "dividendRows|" + roundName
	after := paging.Cursor(token, scope, &v)
	limit := paging.Limit(size, &v)
	if err := v.Err(); err != nil {
		return RowPage{}, err
	}
	var rows []*Row
	err = s.store.Read(ctx, func(tx Reader) error {
		if _, err := tx.Round(ctx, village, id); err != nil {
			return err
		}
		rows, err = tx.Rows(ctx, RowQuery{Round: id, After: after, Limit: limit + 1})
		return err
	})
	if err != nil {
		return RowPage{}, err
	}
	page := RowPage{Rows: rows}
	if len(rows) > limit {
		page.Rows = rows[:limit]
		page.NextToken = paging.Token(scope, rows[limit-1].Household)
	}
	return page, nil
}

// Statement is one household's statement of a round: its line, how the
// pool was split, and its objections.
type Statement struct {
	Round *Round
	Rule  *Rule
	Row   *Row
	// SharesPool and PointsPool are the pool's two parts, and SharesPart
	// and PointsPart the household's exact share of each before the cap
	// and the rounding, all in yuan to the fen, for reading: Row.Amount
	// is what is paid.
	SharesPool, PointsPool decimal.Decimal
	SharesPart, PointsPart decimal.Decimal
	Objections             []*Objection
}

// published reports whether households may see a round: once it is on
// notice, never as a draft or after rejection.
func published(st State) bool { return st == OnNotice || st == Approved || st == Withdrawn }

// Statement returns the household's statement of the round. A household
// sees its own (the caller has checked which) once the round is on notice.
func (s *Service) Statement(ctx context.Context, p *access.Principal, roundName, householdName string) (*Statement, error) {
	village, id, err := ParseRoundName(roundName, "round")
	if err != nil {
		return nil, err
	}
	hv, hh, err := household.ParseName(householdName, "household")
	if err != nil {
		return nil, err
	}
	if hv != village {
		return nil, fault.InvalidField("household", "%s is not of village %s, whose round this is", householdName, village)
	}
	st := &Statement{}
	err = s.store.Read(ctx, func(tx Reader) error {
		r, err := tx.Round(ctx, village, id)
		if err != nil {
			return err
		}
		household := p != nil && p.Role == access.Household
		row, err := tx.RoundRow(ctx, id, hh)
		if fault.Is(err, fault.NotFound) && household {
			// A household learns nothing of rounds it is not on.
			return roundNotFound(r)
		}
		if err != nil {
			return err
		}
		if household && !published(r.State) {
			return fault.New(fault.FailedPrecondition, "ROUND_NOT_PUBLISHED",
				"the round is %s; households see it once it is on public notice", r.State)
		}
		rv, err := tx.DividendRule(ctx, village, r.RuleVersion)
		if err != nil {
			return err
		}
		rule, err := ParseRule([]byte(rv.Document))
		if err != nil {
			return fault.Wrap(err, fault.Internal, "DIVIDEND_RULE_UNREADABLE", "%s no longer parses", rv.Name())
		}
		obj, err := tx.Objections(ctx, id, hh)
		if err != nil {
			return err
		}
		*st = Statement{Round: r, Rule: rule, Row: row, Objections: obj}
		return nil
	})
	if err != nil {
		return nil, err
	}
	hundred := decimal.NewFromInt(100)
	st.SharesPool = st.Round.Pool.Mul(st.Rule.SharesPercent).Div(hundred).Round(2)
	st.PointsPool = st.Round.Pool.Sub(st.SharesPool)
	if st.Round.TotalShares.IsPositive() {
		st.SharesPart = st.Round.Pool.Mul(st.Rule.SharesPercent).Mul(st.Row.CountedShares).
			Div(hundred.Mul(st.Round.TotalShares)).Round(2)
	}
	if st.Round.TotalPoints.IsPositive() {
		st.PointsPart = st.Round.Pool.Mul(st.Rule.PointsPercent).Mul(st.Row.CountedPoints).
			Div(hundred.Mul(st.Round.TotalPoints)).Round(2)
	}
	return st, nil
}

// Payout is the file for the paying bank.
type Payout struct {
	Round    *Round
	FileName string
	// File is CSV (PayoutColumns), UTF-8 with a byte order mark, CRLF.
	File []byte
	// SHA256 is the file's hex SHA-256, as the audit entry records it.
	SHA256 string
	// Count and Total are its lines and their sum in fen: the pool.
	Count int
	Total int64
}

// PayoutColumns are the payout file's header, in zh-CN: line number,
// household id, head of household, 村民小组, amount in yuan. The bank
// holds the accounts; the file carries none.
var PayoutColumns = []string{"序号", "户编号", "户主姓名", "村民小组", "金额（元）"}

// Payout writes the payout file of an approved round: one line per
// household with an amount above zero, in household id order, amounts in
// yuan with two decimals; their sum is the pool. Handing out the file is
// audited with its hash.
func (s *Service) Payout(ctx context.Context, p *access.Principal, roundName string) (*Payout, error) {
	village, id, err := ParseRoundName(roundName, "name")
	if err != nil {
		return nil, err
	}
	now := s.clock()
	var out *Payout
	err = s.store.Write(ctx, func(tx Writer) error {
		r, err := tx.Round(ctx, village, id)
		if err != nil {
			return err
		}
		if err := checkPayout(r); err != nil {
			return err
		}
		rows, err := readRows(ctx, tx, id, true)
		if err != nil {
			return err
		}
		file, total := PayoutFile(rows)
		if total != Fen(r.Pool) {
			return fault.New(fault.Internal, "PAYOUT_TOTAL_MISMATCH",
				"the lines of %s add up to %s yuan, not the pool %s: do not pay", r.Name(), Yuan(total), r.Pool.StringFixed(2))
		}
		sum := sha256.Sum256(file)
		out = &Payout{Round: r, File: file, SHA256: hex.EncodeToString(sum[:]), Count: len(rows), Total: total,
			FileName: "dividend-" + r.Village + "-" + strings.ReplaceAll(string(r.RecordDate), "-", "") + "-" + r.ID[:8] + ".csv"}
		return tx.Record(ctx, audit.Record{
			Time: now, Actor: p.ID, Action: "dividend.round.payout", Subject: r.Name(),
			RequestHash: audit.HashBytes([]byte("dividend.round.payout\x00" + r.Name())),
			ResultHash:  out.SHA256,
			Payload: map[string]string{
				"village": r.Village, "file_sha256": out.SHA256, "lines": strconv.Itoa(out.Count),
				"total": Yuan(total), "allocation_hash": r.AllocationHash,
			},
		})
	})
	return out, err
}

// PayoutFile writes rows as the payout CSV and returns it with the sum of
// the amounts, in fen.
func PayoutFile(rows []*Row) ([]byte, int64) {
	var b bytes.Buffer
	// A byte order mark: the bank's clerk opens the file in Excel, which
	// reads UTF-8 without one as the local code page and garbles the
	// names; every CSV reader that knows UTF-8 skips it.
	b.WriteString("\uFEFF")
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	_ = w.Write(PayoutColumns)
	var total int64
	n := 0
	for _, r := range rows {
		if r.Amount <= 0 {
			continue
		}
		n++
		total += r.Amount
		_ = w.Write([]string{strconv.Itoa(n), r.Household, cell(r.HeadName), strconv.Itoa(int(r.Group)), Yuan(r.Amount)})
	}
	w.Flush()
	return b.Bytes(), total
}

// cell keeps a spreadsheet from reading text as a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Verification is what Verify found.
type Verification struct {
	Round *Round
	// Replayed is the hash of the allocation recomputed from the round's
	// stored inputs under its pinned rule; Identical when it is the
	// stored AllocationHash.
	Replayed  string
	Identical bool
	// Ledger is the hash of the allocation recomputed from the ledger and
	// the facts as they are now read for the record date; LedgerIdentical
	// when it is the stored hash. A difference means something about the
	// record date was recorded or corrected after the round was computed
	// (Changed lists up to 20 such households: "+id" added to the roll,
	// "-id" gone from it, "id" with other inputs), or, for a roll the
	// pool no longer fits, LedgerError says why.
	Ledger          string
	LedgerIdentical bool
	LedgerError     string
	Changed         []string
	ChangedCount    int
	Checked         time.Time
}

// Verify recomputes a round twice: from its stored inputs (the replay
// every approval also makes: it must give the same bytes), and from the
// ledger and facts as the store has them now for the record date. It
// writes nothing.
func (s *Service) Verify(ctx context.Context, roundName string) (*Verification, error) {
	village, id, err := ParseRoundName(roundName, "name")
	if err != nil {
		return nil, err
	}
	var r *Round
	var a *Allocation
	var rows []*Row
	var rule *Rule
	err = s.store.Read(ctx, func(tx Reader) error {
		if r, err = tx.Round(ctx, village, id); err != nil {
			return err
		}
		if a, err = replay(ctx, tx, r); err != nil {
			return err
		}
		rv, err := tx.DividendRule(ctx, village, r.RuleVersion)
		if err != nil {
			return err
		}
		if rule, err = ParseRule([]byte(rv.Document)); err != nil {
			return err
		}
		rows, err = readRows(ctx, tx, id, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &Verification{Round: r, Replayed: a.Hash, Identical: a.Hash == r.AllocationHash, Checked: s.clock()}
	freshRows, err := s.roll(ctx, village, r.RecordDate, rule)
	if err != nil {
		return nil, err
	}
	fresh, err := allocateRows(village, r.RecordDate, r.Pool, rule, freshRows)
	switch {
	case err == nil:
		out.Ledger, out.LedgerIdentical = fresh.Hash, fresh.Hash == r.AllocationHash
	case fault.Is(err, fault.FailedPrecondition):
		out.LedgerError = err.Error()
	default:
		return nil, err
	}
	out.Changed, out.ChangedCount = diffRows(rows, freshRows)
	return out, nil
}

// diffRows compares two rolls' inputs, both in household id order.
func diffRows(old, cur []*Row) ([]string, int) {
	var out []string
	n := 0
	add := func(s string) {
		n++
		if len(out) < 20 {
			out = append(out, s)
		}
	}
	i, j := 0, 0
	for i < len(old) || j < len(cur) {
		switch {
		case j == len(cur) || (i < len(old) && old[i].Household < cur[j].Household):
			add("-" + old[i].Household)
			i++
		case i == len(old) || cur[j].Household < old[i].Household:
			add("+" + cur[j].Household)
			j++
		default:
			o, c := old[i].Holding, cur[j].Holding
			if !o.Shares.Equal(c.Shares) || !o.Points.Equal(c.Points) || o.BlackListed != c.BlackListed {
				add(o.Household)
			}
			i++
			j++
		}
	}
	return out, n
}
