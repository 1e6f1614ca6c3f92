package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/rekey"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/internal/cli"
)

// rekeyCmd rotates the data key through the stored data, online, and
// says which keys can be retired (docs/OPERATIONS.md, "Data-key
// rotation").
func rekeyCmd(database *string, open func(context.Context) (server.Store, error)) *cobra.Command {
	var (
		keyFile, apiKey string
		cpuProfile      string
		batch           int
		status          bool
	)
	cmd := &cobra.Command{
		Use:   "rekey [--status]",
		Short: "Re-encrypt every sealed 身份证号 and webhook secret under the current data key (online, resumable); --status says which keys can be retired",
		Long: `rekey re-encrypts every sealed value (households' and members' 身份证号, webhook
secrets) that is not under the key file's current key (its last key line), while
sanzhid keeps serving. Each batch is one transaction, and a row the service changed
meanwhile is skipped, not overwritten, and taken up again by a later pass. Ctrl-C
loses at most the batch in flight: run the command again to continue. Blind
indexes do not change (they are under the index secret, not a data key).

Rotate: append a new key line to the key file, restart sanzhid with it, run
'sanzhi rekey', check 'sanzhi rekey --status', then remove the lines of the keys it
says are unused and restart sanzhid again.

The run is recorded in the audit log (data_key.rekey_start and data_key.rekey_finish,
with the counts) as done by the operator whose API key is given, or by the local
operator ("local-operator") without one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Before anything is opened: opening migrates the database.
			if !status && (batch < 1 || batch > rekey.MaxBatchSize) {
				return fmt.Errorf("--batch-size must be between 1 and %d, got %d", rekey.MaxBatchSize, batch)
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
			out := cmd.OutOrStdout()
			if status {
				s, err := rekey.ReadStatus(ctx, st, kr)
				if err != nil {
					return err
				}
				if err := printRekeyStatus(out, s, kr); err != nil {
					return err
				}
				if len(s.Missing) > 0 {
					return &rekey.MissingKeysError{Missing: s.Missing}
				}
				return nil
			}
			actor, err := identify(ctx, st.Principals(), apiKey, true)
			if err != nil {
				return err
			}
			if actor.Role != access.Operator {
				return fmt.Errorf("rekey is an operator's command; %s is a %s", actor.Name, actor.Role)
			}
			stopProfile, err := cli.CPUProfile(cpuProfile)
			if err != nil {
				return err
			}
			defer stopProfile()
			return runRekey(ctx, cmd.ErrOrStderr(), out, st, kr, rekey.Options{BatchSize: batch, Actor: actor.ID, ActorName: actor.Name})
		},
	}
	cmd.Flags().BoolVar(&status, "status", false, "count the sealed values per key and say which keys can be retired; change nothing")
	cmd.Flags().IntVar(&batch, "batch-size", rekey.DefaultBatchSize, fmt.Sprintf("values re-encrypted per transaction (1 to %d)", rekey.MaxBatchSize))
	cmd.Flags().StringVar(&keyFile, "data-key-file", "", "data key file (default: SANZHI_DATA_KEY, or the demo key beside a SQLite database)")
	cmd.Flags().StringVar(&cpuProfile, "cpu-profile", "", "write a CPU profile of the run to FILE")
	_ = cmd.Flags().MarkHidden("cpu-profile")
	addKeyFlag(cmd, &apiKey, "running this (an operator; without a key: the local operator, recorded as "+LocalOperatorID+")")
	return cmd
}

// runRekey runs rekey.Run with a progress bar on errOut (a terminal only)
// and says on out what happened and what to do next.
func runRekey(ctx context.Context, errOut, out io.Writer, st rekey.Store, kr *pii.Keyring, o rekey.Options) error {
	s, err := rekey.ReadStatus(ctx, st, kr)
	if err != nil {
		return err
	}
	var bar *progressbar.ProgressBar
	if s.Pending > 0 && len(s.Missing) == 0 {
		fmt.Fprintf(out, "re-encrypting %d values under %s in batches of %d\n", s.Pending, s.Current, o.BatchSize)
		bar = progressbar.NewOptions64(s.Pending,
			progressbar.OptionSetWriter(errOut),
			progressbar.OptionSetVisibility(showsProgress(errOut)),
			progressbar.OptionSetDescription("re-encrypting"),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("values"),
			progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish(),
			progressbar.OptionSetSpinnerChangeInterval(0)) // no ticker goroutine (see newBar)
		o.Progress = func(p rekey.Progress) {
			if p.Total > bar.GetMax64() {
				bar.ChangeMax64(p.Total)
			}
			_ = bar.Set64(p.Done)
		}
	}
	start := time.Now()
	res, err := rekey.Run(ctx, st, kr, o)
	elapsed := time.Since(start)
	if bar != nil {
		_ = bar.Exit()
	}
	switch {
	case err != nil && ctx.Err() != nil:
		fmt.Fprintf(out, "interrupted: %d values re-encrypted, %d still under old keys; run the same command again to continue\n",
			res.Resealed, res.Remaining)
		return errors.New("interrupted")
	case err != nil:
		return err
	case res.Resealed == 0 && res.Remaining == 0:
		fmt.Fprintf(out, "nothing to re-encrypt: every sealed value is under the current key %s\n", res.To)
	default:
		fmt.Fprintf(out, "re-encrypted %d values from %s to %s in %s (%.0f values/s), %d pass(es), %d skipped as changed meanwhile\n",
			res.Resealed, strings.Join(res.From, ", "), res.To, elapsed.Round(time.Millisecond),
			float64(res.Resealed)/max(elapsed.Seconds(), 1e-9), res.Passes, res.Skipped)
	}
	if res.Remaining > 0 {
		fmt.Fprintf(out, "%d values are still under old keys: they were written under them while rekey ran. "+
			"Make sure every sanzhid runs with the new key file, then run the same command again\n", res.Remaining)
		return fmt.Errorf("%d values are still under old keys", res.Remaining)
	}
	if s, err = rekey.ReadStatus(ctx, st, kr); err != nil {
		return err
	}
	printRetire(out, s)
	return nil
}

// printRekeyStatus writes the values per field and key, the keys with
// their state, and what to do next.
func printRekeyStatus(w io.Writer, s rekey.Status, kr *pii.Keyring) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FIELD\tKEY\tVALUES")
	for _, c := range s.Counts {
		fmt.Fprintf(tw, "%s\t%s\t%d\n", c.Field, c.KeyID, c.Values)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tVALUES\tSTATE")
	for _, id := range kr.KeyIDs() {
		state := "old, in use: run `sanzhi rekey`"
		switch {
		case id == s.Current:
			state = "current (the last key line)"
		case slices.Contains(s.Unused, id):
			state = "old, unused: can be retired"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", id, s.ByKey[id], state)
	}
	for _, id := range s.Missing {
		fmt.Fprintf(tw, "%s\t%d\tMISSING from the key file: these values cannot be read\n", id, s.ByKey[id])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if s.Pending > 0 && len(s.Missing) == 0 {
		fmt.Fprintf(w, "%d values are not under the current key %s: run `sanzhi rekey`\n", s.Pending, s.Current)
	}
	printRetire(w, s)
	return nil
}

// printRetire says which key lines can go, once nothing is left to do.
func printRetire(w io.Writer, s rekey.Status) {
	switch {
	case s.Pending > 0 || len(s.Missing) > 0:
	case len(s.Unused) == 0:
		fmt.Fprintf(w, "every sealed value is under %s; no key to retire\n", s.Current)
	default:
		fmt.Fprintf(w, "every sealed value is under %s; unused, can be retired: %s. "+
			"Remove their lines from the key file (keep a backup until no backup of the database needs them), then restart sanzhid\n",
			s.Current, strings.Join(s.Unused, ", "))
	}
}
