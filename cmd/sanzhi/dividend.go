package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/dividend"
)

// dividendCmd is `sanzhi dividend`: the village's 股份+积分 rounds on the
// database, as the principal of --key, through the same service and
// policy as the API.
func dividendCmd(open func(context.Context) (server.Store, error)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dividend",
		Short: "Dividend rules and rounds (股份+积分): lint, upload, activate; create, review, object, resolve, approve, payout, statement, verify",
	}
	var apiKey string
	as := func(ctx context.Context, action access.Action, names []string, fn func(svc *dividend.Service, p *access.Principal) error) error {
		return asActor(ctx, open, apiKey, false, func(a *app.App, p *access.Principal) error {
			if err := access.Authorise(p, action, rpc.Target(names...)); err != nil {
				return err
			}
			return fn(a.Dividends, p)
		})
	}
	keyed := func(c *cobra.Command, who string) *cobra.Command {
		addKeyFlag(c, &apiKey, who)
		return c
	}

	rule := &cobra.Command{Use: "rule", Short: "The village's rule document: lint, upload, activate"}
	rule.AddCommand(
		&cobra.Command{
			Use:   "lint FILE",
			Short: "Check a rule document offline; every problem with its line, exit status 1 if there is any",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				doc, err := os.ReadFile(args[0])
				if err != nil {
					return err
				}
				r, err := dividend.ParseRule(doc)
				if err != nil {
					n := printRuleProblems(cmd.OutOrStdout(), args[0], err)
					return fmt.Errorf("%s: %d problem(s)", args[0], n)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: valid dividend rule of %s, version %d: %s%% by shares, %s%% by points, content hash %s\n",
					args[0], r.Village, r.Version, r.SharesPercent, r.PointsPercent, r.Hash)
				return nil
			},
		},
		keyed(&cobra.Command{
			Use:   "upload FILE",
			Short: "Validate a rule document and store it as a draft version of its village",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				doc, err := os.ReadFile(args[0])
				if err != nil {
					return err
				}
				r, err := dividend.ParseRule(doc)
				if err != nil {
					n := printRuleProblems(cmd.OutOrStdout(), args[0], err)
					return fmt.Errorf("%s: %d problem(s); nothing stored", args[0], n)
				}
				parent := resource.Village(r.Village)
				return as(cmd.Context(), access.DividendRuleUpload, []string{parent}, func(svc *dividend.Service, p *access.Principal) error {
					v, err := svc.UploadRule(cmd.Context(), p, parent, doc)
					if err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s: %s, content hash %s\n", v.Name(), v.State, v.ContentHash)
					if v.State == "draft" {
						fmt.Fprintf(cmd.OutOrStdout(), "a reviewer of the village activates it: sanzhi dividend rule activate %s --key THEIR_KEY\n", v.Name())
					}
					return nil
				})
			},
		}, "uploading (a clerk or reviewer of the village)"),
		keyed(&cobra.Command{
			Use:   "activate NAME",
			Short: "Make a draft version (villages/{village}/dividendRules/{n}) the village's active rule",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return as(cmd.Context(), access.DividendRuleActivate, args, func(svc *dividend.Service, p *access.Principal) error {
					v, err := svc.ActivateRule(cmd.Context(), p, args[0])
					if err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", v.Name(), v.State)
					return nil
				})
			},
		}, "activating (a reviewer of the village, not the uploader)"),
	)

	round := &cobra.Command{Use: "round", Short: "Dividend rounds: create, review, object, resolve, approve, payout, statement, verify, show"}
	var in dividend.CreateInput
	var village string
	create := keyed(&cobra.Command{
		Use:   "create",
		Short: "Compute a round from the roll at the record date under the village's active rule, as a draft",
		Long: `Compute a round: the households registered on or before --record-date, their collective
shares and points as of that day, the village's active rule. The amounts add up to --pool
exactly, to the fen. The round is stored as a draft for a second person's review.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in.Parent = resource.Village(village)
			if in.RequestID == "" {
				// A new round each time: the village's one live round per
				// record date keeps a repeated command from paying twice.
				in.RequestID = "cli-" + uuid.NewString()
			}
			return as(cmd.Context(), access.DividendRoundCreate, []string{in.Parent}, func(svc *dividend.Service, p *access.Principal) error {
				r, err := svc.CreateRound(cmd.Context(), p, in)
				if err != nil {
					printViolations(cmd.OutOrStdout(), "", err)
					return err
				}
				printRound(cmd.OutOrStdout(), r)
				fmt.Fprintf(cmd.OutOrStdout(), "a reviewer of the village reviews it: sanzhi dividend round review %s --approve --key THEIR_KEY\n", r.Name())
				return nil
			})
		},
	}, "creating (a clerk of the village)")
	create.Flags().StringVar(&village, "village", "", "12-digit village code")
	create.Flags().StringVar(&in.Title, "title", "", "title for the notice board, e.g. 2025年度集体经济股份+积分分红")
	create.Flags().StringVar(&in.Pool, "pool", "", "the amount to share, in yuan (whole fen), e.g. 125000.00")
	create.Flags().StringVar(&in.RecordDate, "record-date", "", "YYYY-MM-DD, not after today: whose roll, shares and points count")
	create.Flags().IntVar(&in.RuleVersion, "rule-version", 0, "the rule version to use: must be the active one (0: the active one)")
	create.Flags().StringVar(&in.RequestID, "request-id", "", "makes a repeated call return the same round (default: a new id each time)")
	for _, f := range []string{"village", "title", "pool", "record-date"} {
		_ = create.MarkFlagRequired(f)
	}

	var approve, reject bool
	var reason, hh, outFile, lang string
	review := keyed(&cobra.Command{
		Use:   "review NAME",
		Short: "Review a draft round: --approve starts its 公示, --reject (with --reason) ends it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if approve == reject {
				return errors.New("give exactly one of --approve and --reject")
			}
			return as(cmd.Context(), access.DividendRoundReview, args, func(svc *dividend.Service, p *access.Principal) error {
				r, err := svc.ReviewRound(cmd.Context(), p, args[0], approve, reason)
				if err != nil {
					return err
				}
				printRound(cmd.OutOrStdout(), r)
				return nil
			})
		},
	}, "reviewing (a reviewer of the village, not the creator)")
	review.Flags().BoolVar(&approve, "approve", false, "start the public notice")
	review.Flags().BoolVar(&reject, "reject", false, "refuse the round (needs --reason)")
	review.Flags().StringVar(&reason, "reason", "", "why (required to reject)")

	object := keyed(&cobra.Command{
		Use:   "object NAME",
		Short: "Record a household's objection to its line while the round is on notice",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return as(cmd.Context(), access.DividendObject, []string{args[0], hh}, func(svc *dividend.Service, p *access.Principal) error {
				o, err := svc.Object(cmd.Context(), p, args[0], hh, reason)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", o.Name(), o.State)
				return nil
			})
		},
	}, "objecting (the household, or staff of its village)")
	object.Flags().StringVar(&hh, "household", "", "villages/{village}/households/{id}: whose line")
	object.Flags().StringVar(&reason, "reason", "", "the objection")
	_ = object.MarkFlagRequired("household")

	var uphold bool
	resolve := keyed(&cobra.Command{
		Use:   "resolve OBJECTION",
		Short: "Decide an objection: dismiss it (default) or --uphold it, which withdraws the round",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return as(cmd.Context(), access.DividendResolve, args, func(svc *dividend.Service, p *access.Principal) error {
				o, err := svc.ResolveObjection(cmd.Context(), p, args[0], uphold, reason)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", o.Name(), o.State)
				return nil
			})
		},
	}, "resolving (a reviewer of the village)")
	resolve.Flags().BoolVar(&uphold, "uphold", false, "the objection is right: withdraw the round")
	resolve.Flags().StringVar(&reason, "reason", "", "why (required)")

	approveCmd := keyed(&cobra.Command{
		Use:   "approve NAME",
		Short: "Approve a round whose public notice has ended with no objection open",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return as(cmd.Context(), access.DividendRoundApprove, args, func(svc *dividend.Service, p *access.Principal) error {
				r, err := svc.ApproveRound(cmd.Context(), p, args[0])
				if err != nil {
					return err
				}
				printRound(cmd.OutOrStdout(), r)
				return nil
			})
		},
	}, "approving (a reviewer of the village, not the creator)")

	payout := keyed(&cobra.Command{
		Use:   "payout NAME",
		Short: "Write an approved round's payout file for the paying bank (CSV, UTF-8 with BOM)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return as(cmd.Context(), access.DividendPayout, args, func(svc *dividend.Service, p *access.Principal) error {
				po, err := svc.Payout(cmd.Context(), p, args[0])
				if err != nil {
					return err
				}
				name := outFile
				if name == "" {
					name = po.FileName
				}
				if err := os.WriteFile(name, po.File, 0o600); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %d lines, total %s yuan (the pool), SHA-256 %s\n", name, po.Count, dividend.Yuan(po.Total), po.SHA256)
				return nil
			})
		},
	}, "exporting (staff of the village)")
	payout.Flags().StringVarP(&outFile, "out", "o", "", "file to write (default: the file's own name in the current directory)")

	statement := keyed(&cobra.Command{
		Use:   "statement NAME",
		Short: "Print a household's statement of a round (zh-CN; --lang en)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			en, err := parseLang(lang)
			if err != nil {
				return err
			}
			return as(cmd.Context(), access.DividendStatement, []string{args[0], hh}, func(svc *dividend.Service, p *access.Principal) error {
				st, err := svc.Statement(cmd.Context(), p, args[0], hh)
				if err != nil {
					return err
				}
				_, err = io.WriteString(cmd.OutOrStdout(), app.StatementText(st, en))
				return err
			})
		},
	}, "reading (staff of the village, or the household itself)")
	statement.Flags().StringVar(&hh, "household", "", "villages/{village}/households/{id}")
	statement.Flags().StringVar(&lang, "lang", "zh-CN", "language: zh-CN or en")
	_ = statement.MarkFlagRequired("household")

	verify := keyed(&cobra.Command{
		Use:   "verify NAME",
		Short: "Recompute a round from its stored inputs and from the ledger; exit status 1 unless the stored inputs replay identically",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return as(cmd.Context(), access.DividendRoundRead, args, func(svc *dividend.Service, p *access.Principal) error {
				v, err := svc.Verify(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				fmt.Fprintf(out, "stored allocation:      %s\n", v.Round.AllocationHash)
				fmt.Fprintf(out, "replayed from inputs:   %s %s\n", v.Replayed, map[bool]string{true: "IDENTICAL", false: "DIFFERENT"}[v.Identical])
				switch {
				case v.LedgerError != "":
					fmt.Fprintf(out, "recomputed from ledger: cannot be allocated now: %s\n", v.LedgerError)
				default:
					fmt.Fprintf(out, "recomputed from ledger: %s %s\n", v.Ledger, map[bool]string{true: "IDENTICAL", false: "DIFFERENT"}[v.LedgerIdentical])
				}
				if v.ChangedCount > 0 {
					fmt.Fprintf(out, "%d household(s) read differently now for %s (recorded or corrected later): %s\n",
						v.ChangedCount, v.Round.RecordDate, strings.Join(v.Changed, " "))
				}
				if !v.Identical {
					return fmt.Errorf("%s does not replay to its stored allocation: do not pay it", v.Round.Name())
				}
				return nil
			})
		},
	}, "verifying (staff of the village or a regulator)")

	show := keyed(&cobra.Command{
		Use:   "show NAME",
		Short: "Print a round and its lines (household, head, shares, points, amount)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return as(cmd.Context(), access.DividendRoundRead, args, func(svc *dividend.Service, p *access.Principal) error {
				r, err := svc.GetRound(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				printRound(out, r)
				token := ""
				for {
					page, err := svc.ListRows(cmd.Context(), args[0], 1000, token)
					if err != nil {
						return err
					}
					for _, row := range page.Rows {
						flags := ""
						if row.Excluded != "" {
							flags += " black_list:" + string(row.Excluded)
						}
						if row.Capped {
							flags += " capped"
						}
						fmt.Fprintf(out, "%s\t%s\t%s\t%s\t%s%s\n", row.Household, row.HeadName, row.Shares, row.Points, dividend.Yuan(row.Amount), flags)
					}
					if token = page.NextToken; token == "" {
						return nil
					}
				}
			})
		},
	}, "reading (staff of the village or a regulator)")

	list := keyed(&cobra.Command{
		Use:   "list",
		Short: "List a village's rounds, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			parent := resource.Village(village)
			return as(cmd.Context(), access.DividendRoundRead, []string{parent}, func(svc *dividend.Service, p *access.Principal) error {
				page, err := svc.ListRounds(cmd.Context(), parent, 100, "")
				if err != nil {
					return err
				}
				for _, r := range page.Rounds {
					printRound(cmd.OutOrStdout(), r)
				}
				return nil
			})
		},
	}, "reading (staff of the village or a regulator)")
	list.Flags().StringVar(&village, "village", "", "12-digit village code")
	_ = list.MarkFlagRequired("village")

	round.AddCommand(create, review, object, resolve, approveCmd, payout, statement, verify, show, list)
	cmd.AddCommand(rule, round)
	return cmd
}

func printRound(w io.Writer, r *dividend.Round) {
	fmt.Fprintf(w, "%s: %s, %s, record date %s, pool %s yuan, rule version %d, %d households (%d paid), allocation %s",
		r.Name(), r.State, r.Title, r.RecordDate, r.Pool.StringFixed(2), r.RuleVersion, r.Households, r.Paid, r.AllocationHash)
	if r.NoticeEnd != "" {
		fmt.Fprintf(w, ", notice %s..%s", r.NoticeStart, r.NoticeEnd)
	}
	if r.OpenObjections > 0 {
		fmt.Fprintf(w, ", %d objection(s) open", r.OpenObjections)
	}
	fmt.Fprintln(w)
}

// printRuleProblems prints a rule's problems as FILE:LINE:COLUMN: FIELD:
// MESSAGE and returns how many there were.
func printRuleProblems(w io.Writer, file string, err error) int {
	var le dividend.LintErrors
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
