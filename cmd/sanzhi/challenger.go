package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/scoring/policies"
)

// challengerCmd is `sanzhi policy challenger start|stop|show`: a
// product's challenger, evaluated in shadow beside its active version
// (docs/MODEL-RISK.md). withActor runs fn as the principal of --key,
// which addKey adds to each command.
func challengerCmd(withActor func(context.Context, func(*policies.Service, *access.Principal) error) error,
	addKey func(*cobra.Command)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "challenger",
		Short: "Start, stop and show a product's challenger version, evaluated in shadow beside the active one",
	}
	printChallenger := func(w io.Writer, c *policies.Challenger, counts *policies.ShadowCounts) {
		fmt.Fprintf(w, "%s: challenger of %s since %s, started by principal %s\n", c.VersionName(), c.Parent(),
			c.StartTime.Format(time.RFC3339), c.StartedBy)
		if c.StopTime != nil {
			fmt.Fprintf(w, "stopped (%s) at %s by principal %s\n", c.StopReason, c.StopTime.Format(time.RFC3339), c.StoppedBy)
		}
		if counts != nil {
			fmt.Fprintf(w, "shadow decisions %d, swap-in %d, swap-out %d\n", counts.Total, counts.SwapIn, counts.SwapOut)
		}
	}
	start := &cobra.Command{
		Use:   "start NAME",
		Short: "Make an approved version (…/policies/N) its product's challenger, as a risk manager of the bank",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withActor(cmd.Context(), func(svc *policies.Service, p *access.Principal) error {
				if err := access.Authorise(p, access.PolicyChallenge, rpc.Target(args[0])); err != nil {
					return err
				}
				c, err := svc.StartChallenger(cmd.Context(), p, args[0])
				if err != nil {
					return err
				}
				printChallenger(cmd.OutOrStdout(), c, nil)
				return nil
			})
		},
	}
	stop := &cobra.Command{
		Use:   "stop PRODUCT",
		Short: "Stop the challenger of a product (banks/B/products/P); its shadow decisions stay",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withActor(cmd.Context(), func(svc *policies.Service, p *access.Principal) error {
				if err := access.Authorise(p, access.PolicyChallenge, rpc.Target(args[0])); err != nil {
					return err
				}
				c, err := svc.StopChallenger(cmd.Context(), p, args[0])
				if err != nil {
					return err
				}
				printChallenger(cmd.OutOrStdout(), c, nil)
				return nil
			})
		},
	}
	show := &cobra.Command{
		Use:   "show PRODUCT",
		Short: "Show the challenger of a product with the counts of its shadow decisions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withActor(cmd.Context(), func(svc *policies.Service, p *access.Principal) error {
				if err := access.Authorise(p, access.PolicyChallengerRead, rpc.Target(args[0])); err != nil {
					return err
				}
				v, err := svc.GetChallenger(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				printChallenger(cmd.OutOrStdout(), v.Challenger, &v.Counts)
				return nil
			})
		},
	}
	for _, c := range []*cobra.Command{start, stop, show} {
		addKey(c)
		cmd.AddCommand(c)
	}
	return cmd
}
