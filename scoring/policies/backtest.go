package policies

import (
	"context"
	"strconv"
	"strings"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
)

// ActionBacktest is the audit action of a policy version's back-test.
const ActionBacktest = "policy.backtest"

// Backtest is what the log keeps of one back-test (issue 16 §3): who
// back-tested which version as of which day, how many decisions and
// outcomes it read, and the SHA-256 of the report's figures (its full CSV)
// and of exactly the bytes delivered. Never a household's data.
type Backtest struct {
	Bank, Product string
	Version       int
	ContentHash   string // the version's canonical hash
	AsOf          string // YYYY-MM-DD
	Format        string // "" (figures only), table, csv, html
	View          string // "aggregate" (a bank: small fairness groups pooled) or "full" (a regulator)
	Decisions     int64
	Outcomes      int64
	HasReference  bool
	ReportSHA256  string // lowercase hex SHA-256 of the report's CSV (every figure)
	OutputSHA256  string // of the delivered rendering; "" when only figures were returned
}

// Name is the back-tested version's resource name, the entry's subject.
func (b Backtest) Name() string {
	return ProductName(b.Bank, b.Product) + "/policies/" + strconv.Itoa(b.Version)
}

// RecordBacktest appends the back-test's audit entry in its own
// transaction. The caller hands out the report only after this returns nil.
func (s *Service) RecordBacktest(ctx context.Context, p *access.Principal, b Backtest) error {
	if p == nil {
		return fault.New(fault.Unauthenticated, "UNAUTHENTICATED", "a back-test needs a principal")
	}
	rec := audit.Record{
		Time: s.clock(), Actor: p.ID, Action: ActionBacktest, Subject: b.Name(),
		RequestHash: audit.HashBytes([]byte(strings.Join([]string{ActionBacktest, b.Name(), b.ContentHash,
			b.AsOf, b.Format, b.View}, "\x00"))),
		ResultHash: b.ReportSHA256,
		Payload: map[string]string{
			"bank": b.Bank, "product": b.Product, "version": strconv.Itoa(b.Version),
			"content_hash": b.ContentHash, "as_of": b.AsOf, "format": b.Format, "view": b.View,
			"decisions": strconv.FormatInt(b.Decisions, 10), "outcomes": strconv.FormatInt(b.Outcomes, 10),
			"reference":     strconv.FormatBool(b.HasReference),
			"report_sha256": b.ReportSHA256, "output_sha256": b.OutputSHA256, "role": string(p.Role),
		},
	}
	return s.store.Write(ctx, func(tx Writer) error { return tx.Record(ctx, rec) })
}
