package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/scoring/points"
	"github.com/sanzhi/sanzhi/scoring/policies"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

func policyCmd(database *string, open func(context.Context) (server.Store, error)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Lint, upload, approve, activate and diff banks' credit policy documents",
	}

	var catalogueFile string
	lint := &cobra.Command{
		Use:   "lint FILE",
		Short: "Check a credit policy document offline and print every problem with its line; exit status 1 if there is any",
		Long: `Check a credit policy document without a database. Every problem is printed as
FILE:LINE:COLUMN: FIELD: MESSAGE. With --catalogue, item inputs (item.CODE) are also checked
against that county catalogue: an unknown item, or one marked not for credit (such as 上访),
is an error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var items rules.ItemForCredit
			if catalogueFile != "" {
				src, err := os.ReadFile(catalogueFile)
				if err != nil {
					return fmt.Errorf("cannot read --catalogue: %w", err)
				}
				county, err := points.ParseCounty(src)
				if err != nil {
					printProblems(cmd.OutOrStdout(), catalogueFile, err)
					return fmt.Errorf("--catalogue %s is not a valid county catalogue", catalogueFile)
				}
				items = func(code string) (bool, bool) {
					for _, it := range county.Items {
						if it.Code == code {
							return true, it.ForCredit
						}
					}
					return false, false
				}
			}
			doc, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			p, err := rules.Parse(doc, items)
			if err != nil {
				n := printPolicyProblems(cmd.OutOrStdout(), args[0], err)
				return fmt.Errorf("%s: %d problem(s)", args[0], n)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: valid policy of %s, version %d, effective %s: %d knock-outs, %d characteristics (scores %d..%d), %d grades, content hash %s\n",
				args[0], policies.ProductName(p.Bank, p.Product), p.Version, p.EffectiveDate,
				len(p.KnockOuts), len(p.Characteristics), p.MinScore(), p.MaxScore(), len(p.Grades), p.Hash())
			return nil
		},
	}
	lint.Flags().StringVar(&catalogueFile, "catalogue", "", "county catalogue FILE the policy's item inputs must come from")

	var apiKey string
	// withActor authenticates the caller by its key, like the server does:
	// a bank's policies are its risk managers' business, never the local
	// operator's.
	withActor := func(ctx context.Context, fn func(svc *policies.Service, p *access.Principal) error) error {
		return asActor(ctx, open, apiKey, false, func(a *app.App, p *access.Principal) error { return fn(a.Policies, p) })
	}
	show := func(w io.Writer, v *policies.Version, what string) {
		fmt.Fprintf(w, "%s: %s, content hash %s, %s\n", v.Name(), v.State, v.ContentHash, what)
	}

	upload := &cobra.Command{
		Use:   "upload FILE",
		Short: "Validate a policy document and store it as a draft, as the principal of --key (a risk manager of the bank)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			meta, err := app.PolicyChecker(doc)
			if err != nil {
				n := printPolicyProblems(cmd.OutOrStdout(), args[0], err)
				return fmt.Errorf("%s: %d problem(s); nothing stored", args[0], n)
			}
			parent := policies.ProductName(meta.Bank, meta.Product)
			return withActor(cmd.Context(), func(svc *policies.Service, p *access.Principal) error {
				if err := access.Authorise(p, access.PolicyUpload, rpc.Target(parent)); err != nil {
					return err
				}
				v, err := svc.Upload(cmd.Context(), p, parent, doc)
				if err != nil {
					return err
				}
				show(cmd.OutOrStdout(), v, "uploaded by principal "+v.UploadedBy)
				if v.State == policies.Draft {
					fmt.Fprintf(cmd.OutOrStdout(), "a second risk manager approves it: sanzhi policy approve %s --key THEIR_KEY\n", v.Name())
				}
				return nil
			})
		},
	}
	approve := &cobra.Command{
		Use:   "approve NAME",
		Short: "Approve a draft (e.g. banks/tongxiang-rcb/products/sanzhi-xindai/policies/2), as the principal of --key (not the uploader)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withActor(cmd.Context(), func(svc *policies.Service, p *access.Principal) error {
				if err := access.Authorise(p, access.PolicyApprove, rpc.Target(args[0])); err != nil {
					return err
				}
				v, err := svc.Approve(cmd.Context(), p, args[0])
				if err != nil {
					return err
				}
				show(cmd.OutOrStdout(), v, "approved by principal "+v.ApprovedBy)
				return nil
			})
		},
	}
	// withKeyedActor is withActor with the data key loaded when one is
	// found (--data-key-file, SANZHI_DATA_KEY, the demo key): evaluating
	// a gate simulates the population, which reads each head's 身份证号.
	var keyFile string
	withKeyedActor := func(ctx context.Context, fn func(a *app.App, p *access.Principal) error) error {
		kr, err := explainKeyring(*database, keyFile)
		if err != nil && keyFile != "" {
			return err
		}
		// Without a key only an empty population evaluates; a household
		// fails with the keyring's error, naming it.
		db, err := open(ctx)
		if err != nil {
			return err
		}
		defer db.Close()
		p, err := identify(ctx, db.Store().Principals(), apiKey, false)
		if err != nil {
			return err
		}
		a, err := services(db.Store(), kr)
		if err != nil {
			return err
		}
		return fn(a, p)
	}
	var justification string
	activate := &cobra.Command{
		Use:   "activate NAME",
		Short: "Make an approved version the active one of its bank product, as the principal of --key",
		Long: `Make an approved version the active one of its bank product. The version's activation
gate report is attached first: when none fits it, the gate is evaluated (as by sanzhi policy gate).
Over a failed gate the activation is refused unless --gate-justification gives a written reason
(20 to 2000 characters) and the principal of --key is not the version's uploader.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withKeyedActor(cmd.Context(), func(a *app.App, p *access.Principal) error {
				if err := access.Authorise(p, access.PolicyActivate, rpc.Target(args[0])); err != nil {
					return err
				}
				v, err := a.Policies.ActivateWith(cmd.Context(), p, policies.ActivateRequest{Name: args[0], GateJustification: justification})
				if err != nil {
					return err
				}
				show(cmd.OutOrStdout(), v, "activated by principal "+v.ActivatedBy)
				return nil
			})
		},
	}
	activate.Flags().StringVar(&justification, "gate-justification", "", "to activate over a failed gate: the written reason (a second risk manager, not the uploader)")
	var showGate bool
	var gateLang string
	gate := &cobra.Command{
		Use:   "gate NAME",
		Short: "Evaluate a draft or approved version's activation gate and store the report, as the principal of --key (--show: print the latest stored report)",
		Long: `Evaluate a version's activation gate: simulate it over every household as of today against
the bank product's active version and judge it by the gate section of its own document (score PSI,
adverse-impact ratio by the judged fairness dimensions, share of households losing a line). The
report is stored and audited (policy.gate); the command exits 1 when the gate fails. With --show,
print the version's latest stored report instead (a regulator's key may read it).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withKeyedActor(cmd.Context(), func(a *app.App, p *access.Principal) error {
				action := access.PolicyGateEvaluate
				if showGate {
					action = access.PolicyGateRead
				}
				if err := access.Authorise(p, action, rpc.Target(args[0])); err != nil {
					return err
				}
				var r *policies.GateReport
				var err error
				if showGate {
					r, err = a.Policies.LatestGate(cmd.Context(), args[0])
				} else {
					r, err = a.Simulator.EvaluateGate(cmd.Context(), p, args[0])
				}
				if err != nil {
					return err
				}
				printGate(cmd.OutOrStdout(), r, gateLang == "en")
				if !r.Passed {
					return fmt.Errorf("%s failed its activation gate", r.Name())
				}
				return nil
			})
		},
	}
	gate.Flags().BoolVar(&showGate, "show", false, "print the latest stored report instead of evaluating")
	gate.Flags().StringVar(&gateLang, "lang", "zh-CN", "language: zh-CN or en")
	for _, c := range []*cobra.Command{activate, gate} {
		c.Flags().StringVar(&keyFile, "data-key-file", "", "data key file (default: SANZHI_DATA_KEY, or the demo key beside a SQLite database)")
	}
	diff := &cobra.Command{
		Use:   "diff NAME OTHER",
		Short: "Print a unified diff between two versions of a bank product (either may end in /policies/active)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withActor(cmd.Context(), func(svc *policies.Service, p *access.Principal) error {
				if err := access.Authorise(p, access.PolicyRead, rpc.Target(args[0])); err != nil {
					return err
				}
				d, err := svc.Diff(cmd.Context(), args[0], args[1])
				if err != nil {
					return err
				}
				_, err = io.WriteString(cmd.OutOrStdout(), d)
				return err
			})
		},
	}
	for _, c := range []*cobra.Command{upload, approve, activate, diff, gate} {
		addKeyFlag(c, &apiKey, "acting (a risk manager of the bank; a regulator may diff and show a gate report)")
	}
	chal := challengerCmd(withActor, func(c *cobra.Command) {
		addKeyFlag(c, &apiKey, "acting (a risk manager of the bank; a regulator may show)")
	})
	cmd.AddCommand(lint, upload, approve, activate, diff, gate, chal, explainCmd(database, open), simulateCmd(database, open))
	return cmd
}

// printPolicyProblems prints a policy's lint errors as FILE:LINE:COLUMN:
// FIELD: MESSAGE and returns how many there were.
func printPolicyProblems(w io.Writer, file string, err error) int {
	var le rules.LintErrors
	if !errors.As(err, &le) {
		fmt.Fprintf(w, "%s: %v\n", file, err)
		return 1
	}
	ps := make([]problem, len(le))
	for i, e := range le {
		ps[i] = problem{e.Line, e.Column, e.Path, e.Message}
	}
	return printLint(w, file, ps)
}

// printGate prints a gate report: its verdict, then each check.
func printGate(w io.Writer, r *policies.GateReport, en bool) {
	t := func(zh, e string) string {
		if en {
			return e
		}
		return zh
	}
	against := t("无启用版本", "no active version")
	if r.AgainstVersion > 0 {
		against = t("对比第 ", "against version ") + strconv.Itoa(r.AgainstVersion) + t(" 版", "")
	}
	verdict := t("通过", "passed")
	if !r.Passed {
		verdict = t("未通过", "FAILED")
	}
	fmt.Fprintf(w, "%s: %s%s%s%s %d%s%s%s%s %s%s%d %s%s\n", r.Name(), t("启用门槛", "activation gate "), verdict,
		t("（", " ("), t("报告", "report"), r.Seq, t("，", ", "), against, t("，", ", "), t("数据日", "as of"), r.AsOf,
		t("，", ", "), r.Households, t("户", "households"), t("）", ")"))
	for _, c := range r.Checks {
		mark := t("通过", "pass")
		switch {
		case !c.Applicable:
			mark = t("不适用", "n/a")
		case !c.Passed:
			mark = t("未通过", "FAIL")
		}
		fmt.Fprintf(w, "  [%s] %s: %s\n", mark, c.ID, t(c.ZH, c.EN))
	}
	fmt.Fprintf(w, "%s %s, %s\n", t("评估人", "evaluated by principal"), r.EvaluatedBy, r.Time.UTC().Format(time.RFC3339))
}
