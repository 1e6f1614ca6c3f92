package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sanzhi/sanzhi/adapters/keys"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/lending"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/scoring/assess"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/policies"
	"github.com/sanzhi/sanzhi/scoring/rules"
)

// explainCmd evaluates a policy on one household from the store and prints
// the decision with its reasons: what a risk manager or a regulator reads
// to answer "why this limit?". It writes nothing. It needs the data key,
// because the applicant's age comes from the encrypted 身份证号.
func explainCmd(database *string, open func(context.Context) (server.Store, error)) *cobra.Command {
	var policyFile, bank, product, asOf, lang, keyFile string
	cmd := &cobra.Command{
		Use:   "explain --household villages/V/households/ID",
		Short: "Evaluate a credit policy on one household and print the decision, its reasons and what would change it (zh-CN by default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			hhName, _ := cmd.Flags().GetString("household")
			en := strings.HasPrefix(strings.ToLower(lang), "en")
			ctx := cmd.Context()
			kr, err := explainKeyring(*database, keyFile)
			if err != nil {
				return err
			}
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
			var doc []byte
			if policyFile != "" {
				if doc, err = os.ReadFile(policyFile); err != nil {
					return err
				}
			} else {
				v, err := a.Policies.Get(ctx, policies.ProductName(bank, product)+"/policies/active")
				if err != nil {
					return fmt.Errorf("the active policy of %s: %w", policies.ProductName(bank, product), err)
				}
				doc = []byte(v.Document)
			}
			p, err := rules.Parse(doc, nil)
			if err != nil {
				printPolicyProblems(cmd.OutOrStdout(), "policy", err)
				return errors.New("the policy is invalid")
			}

			h, err := a.Households.Get(ctx, hhName)
			if err != nil {
				return err
			}
			raw, err := kr.Open(pii.Sealed{KeyID: h.HeadID.KeyID, Ciphertext: h.HeadID.Ciphertext}, []byte(h.ID))
			if err != nil {
				return fmt.Errorf("cannot decrypt the head's 身份证号 (wrong data key?): %w", err)
			}
			pid, err := idnum.ParsePersonID(string(raw))
			if err != nil {
				return fmt.Errorf("stored 身份证号 of %s: %w", hhName, err)
			}
			ev := a.Evidence
			bal, err := ev.Points(ctx, hhName, asOf)
			if err != nil {
				return err
			}
			standing, err := ev.Standing(ctx, hhName, string(bal.AsOf))
			if err != nil {
				return err
			}
			// The repayment record the banks reported, as an assessment reads it.
			var statuses []lending.LineStatus
			if err := st.Lending().Read(ctx, func(tx credit.Reader) error {
				c, err := tx.AssessInput(ctx, h.Village, h.ID)
				if err == nil {
					statuses = c.Statuses
				}
				return err
			}); err != nil {
				return err
			}
			in := assess.Snapshot(assess.Parts{Household: h, ApplicantBirth: pid.BirthDate(), Points: bal, Standing: standing,
				Repayment: lending.Record(statuses, bal.AsOf)})
			printDecision(cmd.OutOrStdout(), h, rules.Evaluate(p, in, bal.AsOf), en)
			return nil
		},
	}
	cmd.Flags().String("household", "", "the household: villages/{village}/households/{id}")
	_ = cmd.MarkFlagRequired("household")
	cmd.Flags().StringVar(&policyFile, "policy", "", "policy FILE to evaluate (default: the bank product's active version)")
	cmd.Flags().StringVar(&bank, "bank", "tongxiang-rcb", "bank whose active policy to evaluate")
	cmd.Flags().StringVar(&product, "product", "sanzhi-xindai", "product whose active policy to evaluate")
	cmd.Flags().StringVar(&asOf, "as-of", "", "evaluate as of this day (YYYY-MM-DD; default today in Asia/Shanghai)")
	cmd.Flags().StringVar(&lang, "lang", "zh-CN", "language: zh-CN or en")
	cmd.Flags().StringVar(&keyFile, "data-key-file", "", "data key file (default: SANZHI_DATA_KEY, or the demo key beside a SQLite database)")
	return cmd
}

// explainKeyring finds the data key without ever creating one: the key
// provider's (--key-provider command), else --data-key-file, else
// SANZHI_DATA_KEY, else the demo key beside a SQLite database if there is
// one.
func explainKeyring(database, keyFile string) (*pii.Keyring, error) {
	cfg := keyConfig(database, keyFile, false)
	if cfg.KeyProvider == keys.ProviderCommand {
		return server.LoadKeyring(cfg)
	}
	if keyFile == "" && cfg.DataKey == "" {
		if path, err := server.DemoKeyPath(database); err == nil {
			if _, err := os.Stat(path); err == nil {
				cfg.DataKeyFile = path
			}
		}
	}
	if cfg.DataKeyFile == "" && cfg.DataKey == "" {
		return nil, errors.New("no data key: set --data-key-file or SANZHI_DATA_KEY, or --key-provider command")
	}
	return server.LoadKeyring(cfg)
}

func printDecision(w io.Writer, h *household.Household, d rules.Decision, en bool) {
	t := func(l rules.Label) string {
		if en {
			return l.EN
		}
		return l.ZH
	}
	pick := func(zh, e string) string {
		if en {
			return e
		}
		return zh
	}
	fmt.Fprintf(w, "%s %s (%s)\n", pick("户", "Household"), h.Name(), h.HeadName)
	fmt.Fprintf(w, "%s %s/%s v%d  %s %s  %s %s\n", pick("政策", "Policy"), d.Bank, d.Product, d.PolicyVersion,
		pick("日期", "as of"), d.On, pick("有效至", "valid until"), d.ValidUntil)
	if d.Eligible {
		fmt.Fprintf(w, "%s: %s  %s %d  %s ¥%s  %s %s%%\n", pick("结论：可授信", "Eligible"), d.Grade,
			pick("评分", "score"), d.Score, pick("额度", "limit"), d.Limit.StringFixed(0),
			pick("年利率", "annual rate"), d.Rate.Shift(2).String())
	} else {
		fmt.Fprintf(w, "%s  %s %s  %s %d\n", pick("结论：暂不授信", "Not eligible"), pick("等级", "grade"), d.Grade, pick("评分", "score"), d.Score)
	}
	for _, k := range d.KnockOuts {
		fmt.Fprintf(w, "  ✗ %s: %s\n", k.ID, t(k.Reason))
	}
	for _, x := range d.Declines {
		fmt.Fprintf(w, "  ✗ %s: %s\n", x.Code, t(x.Text))
	}
	if len(d.Reasons) > 0 {
		fmt.Fprintln(w, pick("主要原因：", "Principal reasons:"))
		for i, r := range d.Reasons {
			fmt.Fprintf(w, "  %d. %s\n", i+1, t(r.Text))
		}
	}
	if len(d.Counterfactuals) > 0 {
		fmt.Fprintln(w, pick("怎样可以更好：", "What would change it:"))
		for _, c := range d.Counterfactuals {
			fmt.Fprintf(w, "  → %s\n", t(c.Text))
		}
	}
	fmt.Fprintln(w, pick("评分卡：", "Scorecard:"))
	for _, c := range d.Characteristics {
		fmt.Fprintf(w, "  %-32s %-12s %-24s %4d / %d\n", c.ID, c.Value, t(c.Band), c.Points, c.BestPoints)
	}
	fmt.Fprintf(w, "%s %s\n%s %s\n", pick("政策哈希", "policy hash"), d.PolicyHash, pick("输入哈希", "input hash"), d.InputHash)
}
