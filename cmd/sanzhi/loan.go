package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending/credit"
)

// loanCmd reports and lists the loan statuses of a bank's lines, as one
// of its loan officers (by API key), through the same service and rules
// as ReportLoanStatus: one report at a time, audited.
func loanCmd(open func(context.Context) (server.Store, error)) *cobra.Command {
	cmd := &cobra.Command{Use: "loan", Short: "A bank's loan statuses on its lines: report one, list them"}
	var apiKey string
	var in credit.StatusInput
	report := &cobra.Command{
		Use:   "report-status banks/B/products/P/creditLines/ID",
		Short: "Report how the loan on a line stands as of a day (days past due, amounts overdue, 五级分类, default, write-off, settlement)",
		Long: `Record a loan status on one of the bank's lines, as the loan officer whose API key is given
(--key or $SANZHI_KEY), exactly as ReportLoanStatus does: idempotent on --event-id, audited,
and the household is re-assessed on it. --classification is the 五级分类: normal (正常),
special_mention (关注), substandard (次级), doubtful (可疑) or loss (损失). The report must be
consistent (more than 90 days past due is at least substandard; loss only in default; a
written-off loan is in default and a loss; a settled one has nothing overdue) and follow the
line's latest report by the state machine of docs/LENDING.md ("Loan statuses"); a refused
report stores nothing and each problem is named.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in.Line = args[0]
			return asActor(cmd.Context(), open, apiKey, false, func(a *app.App, p *access.Principal) error {
				if err := access.Authorise(p, access.LoanStatusReport, rpc.Target(in.Line)); err != nil {
					return err
				}
				r, err := a.Lending.ReportLoanStatus(cmd.Context(), p, in)
				if err != nil {
					return explainRefusal(cmd.OutOrStdout(), err)
				}
				what := "recorded"
				if r.Replayed {
					what = "already recorded (the same event id and content)"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", credit.LoanStatusName(r.Status.Bank, productOf(in.Line), r.Status.LineID, r.Status.Seq), what)
				printStatuses(cmd.OutOrStdout(), []*credit.LoanStatus{r.Status})
				return nil
			})
		},
	}
	f := report.Flags()
	f.StringVar(&in.EventID, "event-id", "", "the bank's own id of this report (the idempotency key)")
	f.StringVar(&in.AsOf, "as-of", "", "the day the status is as of, YYYY-MM-DD (Asia/Shanghai)")
	f.IntVar(&in.DaysPastDue, "days-past-due", 0, "days the oldest unpaid amount is past due (0: nothing overdue)")
	f.StringVar(&in.OverduePrincipal, "overdue-principal", "", "principal overdue, yuan (default 0)")
	f.StringVar(&in.OverdueInterest, "overdue-interest", "", "interest overdue, yuan (default 0)")
	f.StringVar(&in.Classification, "classification", "", "normal, special_mention, substandard, doubtful or loss")
	f.BoolVar(&in.Defaulted, "defaulted", false, "the loan is in default")
	f.BoolVar(&in.WrittenOff, "written-off", false, "the loan is written off (final)")
	f.BoolVar(&in.Settled, "settled", false, "the loan is settled (final until a new drawdown)")
	for _, name := range []string{"event-id", "as-of", "classification"} {
		_ = report.MarkFlagRequired(name)
	}

	var pageSize int32
	list := &cobra.Command{
		Use:   "statuses banks/B/products/P/creditLines/ID",
		Short: "List the loan statuses reported on a line, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return asActor(cmd.Context(), open, apiKey, false, func(a *app.App, p *access.Principal) error {
				if err := access.Authorise(p, access.LoanStatusList, rpc.Target(args[0])); err != nil {
					return err
				}
				page, err := a.Lending.ListLoanStatuses(cmd.Context(), p, args[0], pageSize, "")
				if err != nil {
					return err
				}
				printStatuses(cmd.OutOrStdout(), page.Statuses)
				if page.NextToken != "" {
					fmt.Fprintf(cmd.OutOrStdout(), "(more: raise --page-size)\n")
				}
				return nil
			})
		},
	}
	list.Flags().Int32Var(&pageSize, "page-size", 100, "how many reports to show")
	addKeyFlag(report, &apiKey, "reporting (a loan officer of the line's bank)")
	addKeyFlag(list, &apiKey, "reading (staff of the line's bank, or a regulator)")
	cmd.AddCommand(report, list)
	return cmd
}

// productOf is the product of a line name the service accepted.
func productOf(line string) string {
	_, product, _, _ := credit.ParseLineName(line, "line")
	return product
}

// explainRefusal prints each field a refusal names and returns the error.
func explainRefusal(w io.Writer, err error) error {
	var f *fault.Error
	if errors.As(err, &f) && f.Kind == fault.Invalid {
		for _, v := range f.Violations {
			fmt.Fprintf(w, "%s: %s\n", v.Field, v.Description)
		}
		return fmt.Errorf("%d problem(s); nothing stored", len(f.Violations))
	}
	if errors.As(err, &f) {
		return fmt.Errorf("refused (%s): %s; nothing stored", f.Reason, f.Message)
	}
	return err
}

func printStatuses(w io.Writer, ss []*credit.LoanStatus) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tAS OF\tDAYS PAST DUE\tPRINCIPAL\tINTEREST\tCLASS\tDEFAULT\tWRITTEN OFF\tSETTLED\tEVENT")
	for _, s := range ss {
		zh, _ := s.Class.Words()
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s %s\t%t\t%t\t%t\t%s\n", s.Seq, s.AsOf, s.DaysPastDue,
			s.OverduePrincipal.StringFixed(2), s.OverdueInterest.StringFixed(2), s.Class, zh, s.Defaulted,
			s.WrittenOff, s.Settled, s.EventID)
	}
	_ = tw.Flush()
}
