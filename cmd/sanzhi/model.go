package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/scoring/modelrisk"
)

// modelCmd groups the model-risk commands (issue 16): back-testing a
// policy version's scorecard.
func modelCmd(database *string, open func(context.Context) (server.Store, error)) *cobra.Command {
	cmd := &cobra.Command{Use: "model", Short: "Model risk: back-test a policy version's scorecard against its loans' outcomes"}
	cmd.AddCommand(backtestCmd(database, open))
	return cmd
}

// backtestCmd runs the back-test of a stored policy version against the
// local store, as ModelRiskService.GetBacktestReport does.
func backtestCmd(database *string, open func(context.Context) (server.Store, error)) *cobra.Command {
	var name, asOf, format, outFile, lang, keyFile, apiKey string
	cmd := &cobra.Command{
		Use:   "backtest --policy banks/BANK/products/PRODUCT/policies/N [--as-of YYYY-MM-DD]",
		Short: "Back-test a policy version: KS, AUC, Gini, bad rate and calibration by grade, PSI, fairness",
		Long: `Read every decision of a stored policy version up to a day, with the outcome of its loan
by the bad definition of the version's own document (its backtest: section, or the
recommended 90+ days past due, 次级/可疑/损失, default or write-off within 12 months), and
report the score's discrimination (KS, AUC, Gini, ROC), the bad rate by grade against the
rate the scorecard's scaling implies (Wilson 95% intervals), the PSI of the score and of each
characteristic against the reference population stored when the version was evaluated for
activation, and approval, limit and rate by village, sex and age band (docs/MODEL-RISK.md).

The rules of the API's GetBacktestReport apply: a bank's risk manager (--key) may back-test
its own bank's versions, and sees small fairness groups pooled; a regulator's key sees every
group; without a key, the local operator gets the bank's (pooled) view. The data key is needed
to read sex and age from the applicants' encrypted 身份证号. Nothing is written but one audit
entry (who, which version, the counts, the SHA-256 of the figures and of the output),
committed before any output is written.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			en, err := parseLang(lang)
			if err != nil {
				return err
			}
			var render string
			switch format {
			case "table":
			case "csv", "html":
				render = format
			default:
				return fmt.Errorf("--format must be table, csv or html, got %q", format)
			}
			kr, err := explainKeyring(*database, keyFile)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			db, err := open(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			st := db.Store()
			a, err := services(st, kr)
			if err != nil {
				return err
			}
			p, err := identify(ctx, st.Principals(), apiKey, true)
			if err != nil {
				return err
			}
			res, err := a.Backtester.Backtest(access.WithPrincipal(ctx, p), app.BacktestRequest{
				Name: name, AsOf: asOf, Format: render, English: en, Local: p.ID == LocalOperatorID})
			if err != nil {
				return err
			}
			out := res.Rendered
			if render == "" {
				var b strings.Builder
				writeBacktestTable(&b, res.Report, en)
				out = []byte(b.String())
			}
			if outFile != "" {
				return os.WriteFile(outFile, out, 0o600)
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	cmd.Flags().StringVar(&name, "policy", "", "the policy version: banks/BANK/products/PRODUCT/policies/N (or …/policies/active)")
	_ = cmd.MarkFlagRequired("policy")
	cmd.Flags().StringVar(&asOf, "as-of", "", "the report's date (YYYY-MM-DD; default today in Asia/Shanghai)")
	cmd.Flags().StringVar(&format, "format", "table", "report format: table, csv or html (a page with charts)")
	cmd.Flags().StringVar(&outFile, "out", "", "write the report to FILE (default standard output)")
	addKeyFlag(cmd, &apiKey, "back-testing (a bank's risk manager or a regulator; without a key: the local operator)")
	cmd.Flags().StringVar(&lang, "lang", "zh-CN", "language: zh-CN or en")
	cmd.Flags().StringVar(&keyFile, "data-key-file", "", "data key file (default: SANZHI_DATA_KEY, or the demo key beside a SQLite database)")
	return cmd
}

// writeBacktestTable writes the report's main figures as text tables.
func writeBacktestTable(w io.Writer, r *modelrisk.Report, en bool) {
	t := func(zh, e string) string {
		if en {
			return e
		}
		return zh
	}
	f4 := func(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) }
	pc := func(x float64) string { return strconv.FormatFloat(100*x, 'f', 2, 64) + "%" }
	fmt.Fprintf(w, "%s %s/%s v%d (%s)  %s %s\n", t("回测", "Back-test"), r.Bank, r.Product, r.Version, short12(r.PolicyHash), t("截至", "as of"), r.AsOf)
	fmt.Fprintf(w, "%s: %d  %s: %d  %s: %d  %s: %d\n", t("决策", "decisions"), r.Decisions, t("有结果", "with an outcome"), r.Outcomes,
		t("好", "good"), r.Goods, t("坏", "bad"), r.Bads)
	if r.Performance.Measured {
		fmt.Fprintf(w, "KS %s (%s %d)  AUC %s  Gini %s\n", f4(r.Performance.KS), t("评分", "at score"), r.Performance.KSScore,
			f4(r.Performance.AUC), f4(r.Performance.Gini))
	} else {
		fmt.Fprintln(w, t("KS、AUC、Gini 需要至少一个好结果和一个坏结果，尚不能计算", "KS, AUC and Gini need at least one good and one bad outcome: not measurable yet"))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join([]string{t("等级", "grade"), t("评分", "scores"), t("决策", "decisions"), t("有结果", "outcomes"),
		t("坏", "bads"), t("坏账率", "bad rate"), t("95%区间", "95% interval"), t("隐含", "implied"), t("校准", "calibration")}, "\t")+"\t")
	for _, g := range append(append([]modelrisk.GradeRow(nil), r.Grades...), r.Total) {
		flag := ""
		if g.Miscalibrated {
			flag = t("偏离", "off")
		}
		name := g.Grade
		if name == "" {
			name = t("合计", "total")
		}
		fmt.Fprintf(tw, "%s\t%d–%d\t%d\t%d\t%d\t%s\t%s–%s\t%s\t%s\t\n", name, g.Lo, g.Hi, g.Decisions, g.Outcomes, g.Bads,
			pc(g.BadRate), pc(g.Low), pc(g.High), pc(g.Implied), flag)
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
	if !r.HasReference && r.Decisions == 0 {
		fmt.Fprintln(w, t("统计日期前还没有决策，无法计算 PSI", "no decisions up to the report's date: PSI cannot be measured"))
	} else if !r.HasReference {
		fmt.Fprintln(w, t("无参照人群（版本激活时未保存），无法计算 PSI", "no reference population (none stored at activation): PSI cannot be measured"))
	} else {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "PSI\t%s\t%s\t\n", t("值", "value"), t("水平", "level"))
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", t("评分", "score"), f4(r.Score.Value), r.Score.Level)
		for _, c := range r.Characteristics {
			fmt.Fprintf(tw, "%s\t%s\t%s\t\n", c.ID, f4(c.Value), c.Level)
		}
		_ = tw.Flush()
	}
	for _, d := range r.Fairness.Dimensions {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", d.Name, t("决策", "decisions"), t("批准率", "approval"),
			t("平均额度", "avg limit"), t("平均利率", "avg rate"), t("不利影响比", "AIR"), "")
		for _, g := range d.Groups {
			ratio, flag := "", ""
			if g.HasRatio {
				ratio = f4(g.AdverseImpact)
			}
			switch {
			case g.Flagged:
				flag = t("低于阈值", "flagged")
			case g.Small:
				flag = t("样本小", "small")
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", g.Key, g.Decisions, pc(g.ApprovalRate), g.AvgLimit.StringFixed(2),
				g.AvgRate.StringFixed(6), ratio, flag)
		}
		_ = tw.Flush()
	}
	if c := r.Challenger; c != nil {
		fmt.Fprintln(w)
		fmt.Fprintf(w, t("挑战者 v%d 与本版本 v%d 对比（同一批 %d 个决策，%d 个有结果，%d 个坏）\n",
			"challenger v%d against this version v%d (the same %d decisions, %d with an outcome, %d bad)\n"),
			r.ChallengerVersion, r.Version, c.Decisions, c.Observed, c.Bads)
		perf := func(p modelrisk.Performance) string {
			if !p.Measured {
				return t("无法计算", "not measurable")
			}
			return fmt.Sprintf("KS %s  AUC %s  Gini %s", f4(p.KS), f4(p.AUC), f4(p.Gini))
		}
		fmt.Fprintf(w, "  v%d: %s\n  v%d: %s\n", r.Version, perf(c.Champion), r.ChallengerVersion, perf(c.Challenger))
		fmt.Fprintf(w, t("  换入 %d，换出 %d（其中坏 %d），批准结果不同 %s\n", "  swap-in %d, swap-out %d (%d of them bad), decided differently %s\n"),
			c.SwapIn, c.SwapOut, c.SwapOutBad, pc(c.SwapShare))
	}
}

func short12(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
