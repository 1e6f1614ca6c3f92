package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/internal/cli"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/resource"
)

// reassessCmd starts (or resumes) the batch re-assessment of a bank
// product's consenting households under its active policy and runs it in
// this process against the database: the same service, pages and audit
// records as StartReassessment on the server. Interrupting it loses at
// most the pages in flight, which the next run of the command redoes.
func reassessCmd(database *string, open func(context.Context) (server.Store, error)) *cobra.Command {
	var (
		bank, product, apiKey, keyFile, lang string
		cpuProfile                           string
		noProgress                           bool
		workers, pageSize                    int
	)
	cmd := &cobra.Command{
		Use:   "reassess --bank BANK [--product PRODUCT]",
		Short: "Re-assess every household with a live consent for the bank under the product's active policy (resumable)",
		Long: `Start a batch re-assessment of the bank product's consenting households under its active
policy, or resume the one that is running, and run it here against the database with a
progress bar. Every household with a live consent of the bank gets a new decision and its
line is opened or updated (a frozen line stays frozen, a closed one is left alone). The
run commits a page of households at a time with its cursor, so Ctrl-C, or a crash, loses
at most the pages in flight: run the same command again to resume.

The product defaults to the bank's only product with an active policy. The run is recorded
as started by the principal whose API key is given (--key or $SANZHI_KEY; a bank_risk
principal of the bank, as for StartReassessment), or by the local operator
("local-operator") without a key. The data key is needed to read
the heads' dates of birth from the encrypted 身份证号.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			en := strings.HasPrefix(strings.ToLower(lang), "en")
			say := func(zh, e string) string {
				if en {
					return e
				}
				return zh
			}
			if _, err := credit.ParseBank(resource.Bank(bank), "bank"); err != nil {
				return fmt.Errorf("--bank: %w", err)
			}
			kr, err := explainKeyring(*database, keyFile)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			db, err := open(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			st := db.Store()

			if product == "" {
				ps, err := st.ActiveProducts(ctx, bank)
				if err != nil {
					return err
				}
				switch len(ps) {
				case 0:
					return fmt.Errorf("bank %s has no product with an active policy", bank)
				case 1:
					product = ps[0]
				default:
					return fmt.Errorf("bank %s has several products with an active policy (%s): choose one with --product",
						bank, strings.Join(ps, ", "))
				}
			}
			productName := credit.ProductName(bank, product)
			p, err := identify(ctx, st.Principals(), apiKey, true)
			if err != nil {
				return err
			}
			if p.ID != LocalOperatorID {
				if err := access.Authorise(p, access.ReassessmentStart, rpc.Target(productName)); err != nil {
					return err
				}
			}

			a, err := services(st, kr)
			if err != nil {
				return err
			}
			svc := a.Lending
			svc.SetRunPage(pageSize)

			t0 := time.Now().UTC().Truncate(time.Microsecond)
			run, err := svc.StartRun(ctx, p, productName)
			if err != nil {
				return err
			}
			name := credit.RunName(run.Bank, run.Product, run.ID)
			out := cmd.OutOrStdout()
			if run.StartTime.Before(t0) { // a running run, not ours
				fmt.Fprintf(out, say("继续 %s（策略版本 %d，已完成 %d / %d 户）\n", "resuming %s (policy version %d, %d of %d households done)\n"),
					name, run.PolicyVersion, run.Done, run.Total)
			} else {
				fmt.Fprintf(out, say("开始 %s（策略版本 %d，%d 户）\n", "started %s (policy version %d, %d households)\n"),
					name, run.PolicyVersion, run.Total)
			}

			var bar *progressbar.ProgressBar
			if !noProgress {
				bar = progressbar.NewOptions64(max(run.Total, 1), progressbar.OptionSetWriter(cmd.ErrOrStderr()),
					progressbar.OptionSetDescription(say("重新评估", "re-assessing")),
					progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString(say("户", "households")),
					progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
				_ = bar.Set64(run.Done)
			}
			defer cli.BatchGC()()

			stopProfile, err := cli.CPUProfile(cpuProfile)
			if err != nil {
				return err
			}
			defer stopProfile()
			start, startDone := time.Now(), run.Done
			last := run
			err = svc.ContinueRun(ctx, run.ID, workers, func(r *credit.Run) {
				last = r
				if bar != nil {
					if r.Total > bar.GetMax64() {
						bar.ChangeMax64(r.Total)
					}
					_ = bar.Set64(r.Done)
				}
			})
			if bar != nil {
				_ = bar.Exit()
			}
			elapsed := time.Since(start)
			if errors.Is(err, context.Canceled) && ctx.Err() != nil {
				// A page whose commit raced the interrupt may have
				// committed after all: the store says.
				if r, err := svc.GetRun(context.WithoutCancel(ctx), name); err == nil {
					last = r
				}
				fmt.Fprintf(out, say("已中断：%d / %d 户已提交；再次运行同一命令即可继续\n",
					"interrupted: %d of %d households committed; run the same command again to resume\n"), last.Done, last.Total)
				return errors.New(say("已中断", "interrupted"))
			}
			if err != nil {
				return err
			}
			if last, err = svc.GetRun(context.WithoutCancel(ctx), name); err != nil {
				return err
			}
			rate := float64(last.Done-startDone) / max(elapsed.Seconds(), 1e-9)
			fmt.Fprintf(out, say("%s：%s，%d / %d 户，用时 %s（%.0f 户/秒）\n", "%s: %s, %d of %d households in %s (%.0f households/s)\n"),
				name, last.State, last.Done, last.Total, elapsed.Round(time.Millisecond), rate)
			if last.State == credit.RunFailed {
				return fmt.Errorf("the run failed: %s", last.Error)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&bank, "bank", "", "the bank whose consenting households are re-assessed")
	_ = cmd.MarkFlagRequired("bank")
	cmd.Flags().StringVar(&product, "product", "", "the product (default: the bank's only product with an active policy)")
	addKeyFlag(cmd, &apiKey, "starting the run (a risk manager of the bank; without a key: the local operator)")
	cmd.Flags().StringVar(&keyFile, "data-key-file", "", "data key file (default: SANZHI_DATA_KEY, or the demo key beside a SQLite database)")
	cmd.Flags().StringVar(&lang, "lang", "zh-CN", "language: zh-CN or en")
	cmd.Flags().BoolVar(&noProgress, "no-progress", false, "no progress bar on standard error")
	cmd.Flags().IntVar(&workers, "workers", runtime.GOMAXPROCS(0), "goroutines planning households")
	cmd.Flags().IntVar(&pageSize, "page-size", credit.RunPage, "households committed per transaction")
	_ = cmd.Flags().MarkHidden("page-size")
	cmd.Flags().StringVar(&cpuProfile, "cpu-profile", "", "write a CPU profile of the run to FILE")
	_ = cmd.Flags().MarkHidden("cpu-profile")
	return cmd
}
