package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/adapters/simrun"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/internal/cli"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/policies"
	"github.com/sanzhi/sanzhi/scoring/rules"
	"github.com/sanzhi/sanzhi/scoring/simulate"
)

// simulateCmd runs a draft policy (and optionally a base policy: a file or
// the product's active version) over every household in the store, as of
// one day, and reports what would change. It writes nothing to the
// database. Households stream through in pages; the store is read on one
// goroutine while the others evaluate, and outcomes are added up in
// household id order so the report is deterministic.
func simulateCmd(database *string, open func(context.Context) (server.Store, error)) *cobra.Command {
	var (
		policyFile, againstFile, bank, product, asOf, format, outFile, lang, keyFile, householdsCSV, apiKey string
		againstActive, noProgress                                                                           bool
		villages                                                                                            []string
		pageSize, workers                                                                                   int
	)
	cmd := &cobra.Command{
		Use:   "simulate --policy NEW.yaml [--against FILE | --against-active]",
		Short: "Run a draft credit policy over every household in the store, read-only, and report what would change",
		Long: `Evaluate a draft policy (and, to compare, another policy file or the product's active
version) on every household's snapshot as of one day, and report the grade migration,
households gaining and losing a line, total and per-village exposure, the score
distribution and knock-out counts. The data key is needed to read the heads' dates of
birth from the encrypted 身份证号.

The rules of the API's SimulatePolicy apply: with a bank risk manager's --key, or without a
key (the local operator), the report holds aggregates only (villages of fewer than 5
households pooled, a selection of fewer than 5 refused); with a regulator's key it also lists
the households gaining and losing a line, names masked, and --households-csv may be used.
Nothing is written to the database but one audit entry (who, which versions, how many
households, the SHA-256 of the output), committed before any output is written.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			en := strings.HasPrefix(strings.ToLower(lang), "en")
			switch format {
			case "table", "csv", "html":
			default:
				return fmt.Errorf("--format must be table, csv or html, got %q", format)
			}
			if againstFile != "" && againstActive {
				return errors.New("--against and --against-active exclude each other")
			}
			for _, v := range villages {
				if _, err := idnum.ParseVillageCode(v); err != nil {
					return fmt.Errorf("--village: %w", err)
				}
			}
			now := time.Now()
			today := household.Today(now)
			day := today
			if asOf != "" {
				d, err := household.ParseDate(asOf)
				if err != nil {
					return fmt.Errorf("--as-of %q is not a YYYY-MM-DD date", asOf)
				}
				if d.After(today) {
					return fmt.Errorf("--as-of %s is in the future (today is %s in Asia/Shanghai)", d, today)
				}
				day = d
			}
			newP, err := loadPolicy(cmd.OutOrStdout(), policyFile)
			if err != nil {
				return err
			}
			var baseP *rules.Policy
			if againstFile != "" {
				if baseP, err = loadPolicy(cmd.OutOrStdout(), againstFile); err != nil {
					return err
				}
			}
			kr, err := explainKeyring(*database, keyFile)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
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
			if againstActive {
				v, err := a.Policies.Get(ctx, policies.ProductName(bank, product)+"/policies/active")
				if err != nil {
					return fmt.Errorf("the active policy of %s: %w", policies.ProductName(bank, product), err)
				}
				if baseP, err = rules.Parse([]byte(v.Document), nil); err != nil {
					printPolicyProblems(cmd.OutOrStdout(), "active policy", err)
					return errors.New("the active policy is invalid")
				}
			}

			// Who asks decides what the report shows, as over the API: a
			// bank's risk manager (its key) or the local operator get
			// aggregates only, a regulator masked sample rows.
			p, err := identify(ctx, st.Principals(), apiKey, true)
			if err != nil {
				return err
			}
			simName := policies.ProductName(newP.Bank, newP.Product) + "/policies/" + strconv.Itoa(newP.Version)
			if p.ID != LocalOperatorID {
				if err := access.Authorise(p, access.PolicySimulate, rpc.Target(simName)); err != nil {
					return err
				}
			}

			var hhBuf bytes.Buffer
			var hhOut *simulate.HouseholdsCSV
			if householdsCSV != "" {
				if hhOut, err = simulate.NewHouseholdsCSV(&hhBuf); err != nil {
					return err
				}
			}

			q := sqlstore.PopulationQuery{Villages: villages, PageSize: pageSize}
			var bar *progressbar.ProgressBar
			if !noProgress {
				total, err := st.PopulationCount(ctx, q)
				if err != nil {
					return err
				}
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(cmd.ErrOrStderr()),
					progressbar.OptionSetDescription(map[bool]string{false: "模拟", true: "simulating"}[en]),
					progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("households"),
					progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
			}

			defer cli.BatchGC()()

			start := time.Now()
			run := simrun.Run{New: newP, Base: baseP, Day: day, Keyring: kr,
				Catalogues: a.Catalogues, Now: now, Workers: workers}
			rec := policies.Simulation{Bank: newP.Bank, Product: newP.Product, Version: newP.Version, ContentHash: newP.Hash(),
				AsOf: string(day), Villages: villages, Format: format}
			if baseP != nil {
				rec.Against = policies.ProductName(baseP.Bank, baseP.Product) + "/policies/" + strconv.Itoa(baseP.Version)
				rec.AgainstHash = baseP.Hash()
			}
			job := simrun.Job{Principal: p, Run: run, Query: q, Record: rec,
				Render: func(r *simulate.Report) ([]byte, error) { return r.Render(format, en) }}
			if bar != nil {
				job.Progress = func() { _ = bar.Add(1) }
			}
			if hhOut != nil {
				job.Each = hhOut.Write
				job.Extra = func() []byte { _ = hhOut.Close(); return hhBuf.Bytes() }
			}
			report, out, err := simrun.Simulate(ctx, st, a.Policies, job)
			if bar != nil {
				_ = bar.Finish()
			}
			if err != nil {
				return err
			}
			// Only now, with the audit entry committed, does anything
			// leave the process.
			if hhOut != nil {
				if err := os.WriteFile(householdsCSV, hhBuf.Bytes(), 0o600); err != nil {
					return err
				}
			}
			if outFile != "" {
				if err := os.WriteFile(outFile, out, 0o600); err != nil {
					return err
				}
			} else if _, err := cmd.OutOrStdout().Write(out); err != nil {
				return err
			}
			households := report.Households
			elapsed := time.Since(start)
			fmt.Fprintf(cmd.ErrOrStderr(), map[bool]string{false: "已模拟 %d 户，用时 %s（%.0f 户/秒）\n", true: "simulated %d households in %s (%.0f households/s)\n"}[en],
				households, elapsed.Round(time.Millisecond), float64(households)/max(elapsed.Seconds(), 1e-9))
			return nil
		},
	}
	cmd.Flags().StringVar(&policyFile, "policy", "", "the draft policy FILE to simulate")
	_ = cmd.MarkFlagRequired("policy")
	cmd.Flags().StringVar(&againstFile, "against", "", "compare with this policy FILE")
	cmd.Flags().BoolVar(&againstActive, "against-active", false, "compare with the bank product's active policy")
	cmd.Flags().StringVar(&bank, "bank", "tongxiang-rcb", "bank whose active policy --against-active reads")
	cmd.Flags().StringVar(&product, "product", "sanzhi-xindai", "product whose active policy --against-active reads")
	cmd.Flags().StringArrayVar(&villages, "village", nil, "simulate only this village CODE (repeatable; default every village)")
	cmd.Flags().StringVar(&asOf, "as-of", "", "simulate as of this day (YYYY-MM-DD; default today in Asia/Shanghai)")
	cmd.Flags().StringVar(&format, "format", "table", "report format: table, csv or html")
	cmd.Flags().StringVar(&outFile, "out", "", "write the report to FILE (default standard output)")
	cmd.Flags().StringVar(&householdsCSV, "households-csv", "", "also write one CSV line per household (grades and limits, head's name masked) to FILE; regulators only")
	addKeyFlag(cmd, &apiKey, "simulating (a bank's risk manager or a regulator; without a key: the local operator, aggregates only)")
	cmd.Flags().StringVar(&lang, "lang", "zh-CN", "language: zh-CN or en")
	cmd.Flags().StringVar(&keyFile, "data-key-file", "", "data key file (default: SANZHI_DATA_KEY, or the demo key beside a SQLite database)")
	cmd.Flags().BoolVar(&noProgress, "no-progress", false, "no progress bar on standard error")
	cmd.Flags().IntVar(&pageSize, "page-size", sqlstore.DefaultPopulationPage, "households read per page")
	cmd.Flags().IntVar(&workers, "workers", runtime.GOMAXPROCS(0), "goroutines evaluating households")
	_ = cmd.Flags().MarkHidden("page-size")
	return cmd
}

func loadPolicy(w io.Writer, file string) (*rules.Policy, error) {
	doc, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	p, err := rules.Parse(doc, nil)
	if err != nil {
		printPolicyProblems(w, file, err)
		return nil, fmt.Errorf("%s is not a valid policy", file)
	}
	return p, nil
}
