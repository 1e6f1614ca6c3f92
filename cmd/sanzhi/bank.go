package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/access/principals"
	"github.com/sanzhi/sanzhi/adapters/server"
)

// bankCmd names the partner banks. A bank exists as the scope of its
// staff's principals; its name is what a household reads and chooses when
// it grants a consent, so an unnamed bank cannot be chosen in the console.
func bankCmd(open func(context.Context) (server.Store, error)) *cobra.Command {
	cmd := &cobra.Command{Use: "bank", Short: "Name partner banks (audited) and list them"}
	var zh, en, apiKey string
	name := &cobra.Command{
		Use:   "name BANK",
		Short: "Give bank BANK (the id in banks/BANK) its name as on its sign, in Chinese and optionally in English",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b := &access.Bank{ID: args[0], Name: zh, NameEN: en}
			if err := b.Validate(); err != nil {
				return err
			}
			return administer(cmd.Context(), open, apiKey, func(svc *principals.Service, actor *access.Principal) error {
				if err := svc.NameBank(cmd.Context(), actor, b); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "banks/%s is %s\n", b.ID, b.Name)
				return nil
			})
		},
	}
	name.Flags().StringVar(&zh, "zh", "", "the bank's name in Chinese, e.g. 桐乡农商银行")
	name.Flags().StringVar(&en, "en", "", "the bank's name in English (optional)")
	_ = name.MarkFlagRequired("zh")
	addKeyFlag(name, &apiKey, "doing this (an operator; without a key: the local operator, recorded as "+LocalOperatorID+")")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the named banks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			banks, err := db.Store().Principals().Banks(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "BANK\tNAME\tNAME (EN)")
			for _, b := range banks {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", b.ID, b.Name, b.NameEN)
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(name, list)
	return cmd
}
