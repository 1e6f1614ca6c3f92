package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/internal/cli"
	"github.com/sanzhi/sanzhi/lending/credit"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// replayCmd replays credit decisions against the database: one decision
// (the same service call, answer and audit entry as ReplayDecision), or a
// range of them. It acts for a principal given by its key, authorised by
// the one policy: a regulator, or a bank's staff for the bank's own
// decisions. There is no keyless form: replay is not an operator's act.
func replayCmd(open func(context.Context) (server.Store, error)) *cobra.Command {
	var (
		apiKey, productName, from, to, lang string
		workers                             int
		noProgress                          bool
	)
	cmd := &cobra.Command{
		Use:   "replay [DECISION] | --product banks/B/products/P | --from T --to T",
		Short: "Evaluate stored credit decisions again under their pinned policy versions and compare",
		Long: `replay loads a decision's pinned policy version and its stored canonical input,
evaluates it again on its day and compares every output field with what was stored.

With a decision name (banks/B/products/P/decisions/ID) it prints IDENTICAL with the output,
policy and input hashes, or each field that differs (stored and recomputed). An override
replays the automated decision it replaced and is shown beside it.

Without one it replays a range: every decision of a bank product (--product), decided in
[--from, --to) (RFC 3339 times or YYYY-MM-DD dates, Asia/Shanghai), or both, with a progress
bar, and prints how many are identical, different and unreplayable (with reasons), and
each decision that is not identical. Each replay, and each range, is one audit entry.
Exits 3 when a decision differs.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			en := strings.HasPrefix(strings.ToLower(lang), "en")
			say := func(zh, e string) string {
				if en {
					return e
				}
				return zh
			}
			ctx := cmd.Context()
			if len(args) == 1 && (productName != "" || from != "" || to != "") {
				return cli.Usagef("give a decision, or a range (--product, --from, --to), not both")
			}
			if len(args) == 0 && productName == "" && from == "" && to == "" {
				return cli.Usagef("give a decision name, or a range with --product and/or --from/--to")
			}
			var q sqlstore.DecisionScan
			var err error
			if productName != "" {
				if q.Bank, q.Product, err = credit.ParseProduct(productName, "product"); err != nil {
					return cli.Usage(fmt.Errorf("--product: %w", err))
				}
			}
			if q.Since, err = parseWhen(from); err != nil {
				return cli.Usage(fmt.Errorf("--from: %w", err))
			}
			if q.Until, err = parseWhen(to); err != nil {
				return cli.Usage(fmt.Errorf("--to: %w", err))
			}
			db, err := open(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			st := db.Store()
			p, err := identify(ctx, st.Principals(), apiKey, false)
			if err != nil {
				return err
			}
			a, err := services(st, nil)
			if err != nil {
				return err
			}
			svc := a.Lending
			out := cmd.OutOrStdout()

			if len(args) == 1 {
				if err := rpc.Authorise(p, sanzhiv1.AuditService_ReplayDecision_FullMethodName,
					&sanzhiv1.ReplayDecisionRequest{Decision: args[0]}); err != nil {
					return err
				}
				r, err := svc.ReplayDecision(ctx, p, args[0])
				if err != nil {
					return err
				}
				printReplay(out, rpc.ReplayOut(r), say)
				if r.Result == credit.ReplayDifferent {
					return cli.WithCode(cli.ExitVerifyFailed, errors.New(say("决定重放结果不一致", "the decision does not replay identically")))
				}
				return nil
			}

			// A range: a bank reaches its own products only.
			if err := access.Authorise(p, access.DecisionReplay, access.Target{Bank: q.Bank}); err != nil {
				return err
			}
			if q.Bank == "" && p.Role != access.Regulator {
				return errors.New("a bank replays its own decisions: name the product with --product")
			}
			total, err := st.CountDecisions(ctx, q)
			if err != nil {
				return err
			}
			var bar *progressbar.ProgressBar
			if !noProgress {
				bar = progressbar.NewOptions64(max(total, 1), progressbar.OptionSetWriter(cmd.ErrOrStderr()),
					progressbar.OptionSetDescription(say("重放", "replaying")),
					progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString(say("个决定", "decisions")),
					progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
			}
			var odd []*sanzhiv1.DecisionReplay
			start := time.Now()
			sum, err := a.ReplayRange(ctx, q, workers,
				func(r *credit.DecisionReplay) { odd = append(odd, rpc.ReplayOut(r)) },
				func(done int64) {
					if bar != nil {
						_ = bar.Set64(done)
					}
				})
			if bar != nil {
				_ = bar.Exit()
			}
			if err != nil {
				return err
			}
			elapsed := time.Since(start)
			sort.Slice(odd, func(i, j int) bool { return odd[i].Decision < odd[j].Decision })
			for _, r := range odd {
				printReplay(out, r, say)
			}
			fmt.Fprintf(out, say("共 %d 个决定：%d 个一致，%d 个不一致，%d 个无法重放（用时 %s，%.0f 个/秒）\n",
				"%d decisions: %d identical, %d different, %d unreplayable (%s, %.0f decisions/s)\n"),
				sum.Total(), sum.Identical, sum.Different, sum.Unreplayable, elapsed.Round(time.Millisecond),
				float64(sum.Total())/max(elapsed.Seconds(), 1e-9))
			reasons := make([]string, 0, len(sum.Reasons))
			for k := range sum.Reasons {
				reasons = append(reasons, k)
			}
			sort.Strings(reasons)
			for _, k := range reasons {
				fmt.Fprintf(out, say("  无法重放（%d）：%s\n", "  unreplayable (%d): %s\n"), sum.Reasons[k], k)
			}
			subject := "decisions"
			if q.Bank != "" {
				subject = credit.ProductName(q.Bank, q.Product)
			}
			if err := a.RecordRangeReplay(ctx, p.ID, subject, q, sum, time.Now()); err != nil {
				return err
			}
			if sum.Different > 0 {
				return cli.WithCode(cli.ExitVerifyFailed, errors.New(say("有决定重放结果不一致", "some decisions do not replay identically")))
			}
			return nil
		},
	}
	addKeyFlag(cmd, &apiKey, "replaying (a regulator, or a bank's staff for its own decisions)")
	cmd.Flags().StringVar(&productName, "product", "", "replay every decision of this bank product (banks/B/products/P)")
	cmd.Flags().StringVar(&from, "from", "", "replay decisions made at or after this time (RFC 3339, or YYYY-MM-DD in Asia/Shanghai)")
	cmd.Flags().StringVar(&to, "to", "", "replay decisions made before this time (RFC 3339, or YYYY-MM-DD in Asia/Shanghai)")
	cmd.Flags().IntVar(&workers, "workers", runtime.GOMAXPROCS(0), "goroutines evaluating decisions")
	cmd.Flags().BoolVar(&noProgress, "no-progress", false, "no progress bar on standard error")
	cmd.Flags().StringVar(&lang, "lang", "zh-CN", "language: zh-CN or en")
	return cmd
}

// parseWhen reads an RFC 3339 time or a business date (the start of that
// day in Asia/Shanghai); "" is no bound.
func parseWhen(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.ParseInLocation("2006-01-02", s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a YYYY-MM-DD date", s)
	}
	return t.UTC(), nil
}

func printReplay(w io.Writer, r *sanzhiv1.DecisionReplay, say func(zh, en string) string) {
	switch r.Result {
	case sanzhiv1.ReplayResult_REPLAY_RESULT_IDENTICAL:
		fmt.Fprintf(w, say("一致 IDENTICAL %s\n", "IDENTICAL %s\n"), r.Decision)
	case sanzhiv1.ReplayResult_REPLAY_RESULT_DIFFERENT:
		fmt.Fprintf(w, say("不一致 DIFFERENT %s\n", "DIFFERENT %s\n"), r.Decision)
	default:
		fmt.Fprintf(w, say("无法重放 UNREPLAYABLE %s：%s\n", "UNREPLAYABLE %s: %s\n"), r.Decision, r.UnreplayableReason)
		return
	}
	if r.ReplayedDecision != r.Decision {
		fmt.Fprintf(w, say("  重放的自动决定：%s\n", "  automated decision replayed: %s\n"), r.ReplayedDecision)
	}
	fmt.Fprintf(w, say("  策略版本 %d\n  输出哈希（存储）%s\n  输出哈希（重算）%s\n  策略哈希 %s\n  输入哈希 %s\n",
		"  policy version %d\n  output hash (stored)     %s\n  output hash (recomputed) %s\n  policy hash %s\n  input hash  %s\n"),
		r.PolicyVersion, r.StoredOutputHash, r.OutputHash, r.PolicyHash, r.InputHash)
	for _, d := range r.Diffs {
		fmt.Fprintf(w, say("  字段 %s：存储 %q，重算 %q\n", "  field %s: stored %q, recomputed %q\n"), d.Field, d.Stored, d.Recomputed)
	}
	if o := r.Override; o != nil {
		fmt.Fprintf(w, say("  人工改判：额度 %s，利率 %s，理由 %q，由 %s 于 %s\n", "  override: limit %s, rate %s, justification %q, by %s at %s\n"),
			o.Limit, o.Rate, o.Justification, o.DecidedBy, o.DecideTime.AsTime().Format(time.RFC3339))
	}
}
