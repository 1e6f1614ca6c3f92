package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/term"

	"github.com/sanzhi/sanzhi/adapters/merklelog"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/internal/cli"
)

func auditCmd(database *string, open func(context.Context) (server.Store, error)) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Keys, verification and export of the tamper-evident audit log"}
	var vkey, vkeyFile string
	verifier := func() (note.Verifier, error) {
		k := vkey
		if vkeyFile != "" {
			b, err := os.ReadFile(vkeyFile)
			if err != nil {
				return nil, fmt.Errorf("cannot read verifier key: %w", err)
			}
			k = strings.TrimSpace(string(b))
		}
		if k == "" {
			return nil, cli.Usagef("pass the log's public key with --verifier-key or --verifier-key-file (`sanzhi audit key` prints it)")
		}
		v, err := audit.NewVerifier(k)
		if err != nil && vkeyFile == "" {
			return nil, cli.Usage(fmt.Errorf("--verifier-key: %w", err))
		}
		return v, err
	}
	var historyFile string
	// keys is the key history to verify with: the --key-history file, or
	// the one verifier key, which then must have signed everything.
	keys := func() (*audit.KeyHistory, error) {
		if historyFile == "" {
			v, err := verifier()
			if err != nil {
				return nil, err
			}
			return audit.SingleKey(v), nil
		}
		if vkey != "" || vkeyFile != "" {
			return nil, cli.Usagef("give the verifier key or the key history (--key-history), not both: the history holds every key")
		}
		b, err := os.ReadFile(historyFile)
		if err != nil {
			return nil, fmt.Errorf("cannot read key history: %w", err)
		}
		h, err := audit.ParseKeyHistory(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", historyFile, err)
		}
		return h, nil
	}
	// hint explains a foreign signature when one key was given: the log's
	// key may have been rotated.
	hint := func(err error) error {
		if historyFile == "" && strings.Contains(err.Error(), "signed by another key") {
			return fmt.Errorf("%w\n(if the log's signing key was rotated, verify with --key-history, see docs/AUDIT.md)", err)
		}
		return err
	}
	addVerifierFlags := func(c *cobra.Command) {
		c.Flags().StringVar(&vkey, "verifier-key", "", "the log's public note verifier key")
		c.Flags().StringVar(&vkeyFile, "verifier-key-file", "", "file holding the verifier key")
		c.Flags().StringVar(&historyFile, "key-history", "", "the log's key history file (every verifier key and the tree size it signs from), instead of one key")
	}

	var origin string
	keygen := &cobra.Command{
		Use:   "keygen FILE",
		Short: "Write a new checkpoint signing key (mode 0600) and print its public verifier key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := server.GenerateAuditKey(args[0], origin); err != nil {
				return err
			}
			skey, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			v, err := merklelog.VerifierKey(string(skey))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s; give regulators this verifier key:\n%s\n", args[0], v)
			return nil
		},
	}
	keygen.Flags().StringVar(&origin, "origin", "sanzhi.example/audit", "the log's name: the origin line of every checkpoint")

	var skeyFile string
	key := &cobra.Command{
		Use:   "key",
		Short: "Print the public verifier key of the checkpoint signing key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			skey, err := os.ReadFile(skeyFile)
			if err != nil {
				return fmt.Errorf("cannot read audit key file: %w", err)
			}
			v, err := merklelog.VerifierKey(string(skey))
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), v)
			return nil
		},
	}
	key.Flags().StringVar(&skeyFile, "audit-key-file", "", "the checkpoint signing key file")
	_ = key.MarkFlagRequired("audit-key-file")

	var since string
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Recompute the log from its leaves and check it against every signed checkpoint",
		Long: `verify reads every leaf of the stored log, checks each is canonical and in
place, recomputes the Merkle tree and compares it with every signed checkpoint
and every stored subtree hash. With --since it also proves the log extends a
checkpoint you kept earlier. On tampering it names the first bad leaf and
exits 3 (1 when it could not read the log to the end).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			h, err := keys()
			if err != nil {
				return err
			}
			var kept []byte
			if since != "" {
				if kept, err = os.ReadFile(since); err != nil {
					return fmt.Errorf("cannot read --since checkpoint: %w", err)
				}
			}
			db, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			start := time.Now()
			bar := newBar(cmd.ErrOrStderr(), "verifying")
			rep, err := merklelog.VerifyKeys(cmd.Context(), db.Store(), h, kept, func(done, total uint64) {
				bar.ChangeMax64(int64(total))
				_ = bar.Set64(int64(done))
			})
			_ = bar.Finish()
			if err != nil {
				if couldNotCheck(err) {
					return fmt.Errorf("the audit log could not be verified to the end: %w", err)
				}
				return cli.WithCode(cli.ExitVerifyFailed, fmt.Errorf("AUDIT LOG FAILED VERIFICATION: %w", hint(err)))
			}
			d := time.Since(start)
			fmt.Fprintf(cmd.OutOrStdout(), "OK: %d leaves, %d signed checkpoints and %d subtree hashes check out (%s, %.0f leaves/s)\nlatest checkpoint: size %d, root %x\n",
				rep.Leaves, rep.Checkpoints, rep.Nodes, d.Round(time.Millisecond), float64(rep.Leaves)/d.Seconds(), rep.Checkpoint.Size, rep.Checkpoint.Root)
			return nil
		},
	}
	verify.Flags().StringVar(&since, "since", "", "a signed checkpoint file you kept; the log must extend it")
	addVerifierFlags(verify)

	var from, to uint64
	var format, out string
	var exportRemote remote
	export := &cobra.Command{
		Use:   "export",
		Short: "Export leaves [--from, --to) with their indexes and hashes, as jsonl or csv",
		Long: `Export leaves [--from, --to) with their indexes and hashes, as jsonl or csv.

With --database the operator exports straight from the store. With --server a
regulator exports through the API (ExportEntries) with an API key; the bytes
are the same, and verify-export checks either.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var w io.Writer = cmd.OutOrStdout()
			if out != "" && out != "-" {
				f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			if exportRemote.set() {
				return exportFromServer(cmd, &exportRemote, from, to, format, w)
			}
			db, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			bar := newBar(cmd.ErrOrStderr(), "exporting")
			n, err := merklelog.Export(cmd.Context(), db.Store(), from, to, format, w, func(done, total uint64) {
				bar.ChangeMax64(int64(total))
				_ = bar.Set64(int64(done))
			})
			_ = bar.Finish()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "exported %d leaves\n", n)
			return nil
		},
	}
	export.Flags().Uint64Var(&from, "from", 0, "first leaf index")
	export.Flags().Uint64Var(&to, "to", 0, "end (exclusive): the size of a published checkpoint; 0 = the latest")
	export.Flags().StringVar(&format, "format", "jsonl", "jsonl (self-contained, verifiable) or csv (for spreadsheets)")
	export.Flags().StringVarP(&out, "output", "o", "-", "output file (refuses to overwrite); - is stdout")
	exportRemote.addFlags(export)

	var cpFile string
	verifyExport := &cobra.Command{
		Use:   "verify-export FILE",
		Short: "Check an export offline against its signed checkpoint (no database, no network)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := keys()
			if err != nil {
				return err
			}
			var cp []byte
			if cpFile != "" {
				if cp, err = os.ReadFile(cpFile); err != nil {
					return err
				}
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			rep, err := merklelog.VerifyExportKeys(f, h, cp, nil)
			if err != nil {
				return cli.WithCode(cli.ExitVerifyFailed, fmt.Errorf("EXPORT FAILED VERIFICATION: %w", hint(err)))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "OK: %d leaves match the signed checkpoint of size %d, root %x\n", rep.Leaves, rep.Checkpoint.Size, rep.Checkpoint.Root)
			return nil
		},
	}
	verifyExport.Flags().StringVar(&cpFile, "checkpoint", "", "signed checkpoint file (required for csv; overrides the one in a jsonl header)")
	addVerifierFlags(verifyExport)

	verifyReceipt := &cobra.Command{
		Use:   "verify-receipt FILE",
		Short: "Check a decision or entry receipt offline with only the verifier key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := keys()
			if err != nil {
				return err
			}
			b, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			var r audit.Receipt
			if err := json.Unmarshal(b, &r); err != nil {
				return cli.WithCode(cli.ExitVerifyFailed, fmt.Errorf("RECEIPT FAILED VERIFICATION: not a receipt: %w", err))
			}
			e, cp, err := audit.VerifyReceiptKeys(r, h)
			if err != nil {
				return cli.WithCode(cli.ExitVerifyFailed, fmt.Errorf("RECEIPT FAILED VERIFICATION: %w", hint(err)))
			}
			var by []string
			for _, k := range h.Required(cp.Size) {
				by = append(by, fmt.Sprintf("%s+%08x", k.Name(), k.KeyHash()))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "OK: entry %d (%s %s by %s at %s) is in the log of size %d signed by %s\n",
				e.Seq, e.Action, e.Subject, e.Actor, e.Time.Format(time.RFC3339), cp.Size, strings.Join(by, " and "))
			return nil
		},
	}
	addVerifierFlags(verifyReceipt)
	// A bank or household holding a receipt has the key text at hand.
	verifyReceipt.Flags().StringVar(&vkey, "key", "", "the log's public note verifier key (as --verifier-key)")

	cmd.AddCommand(keygen, key, verify, export, verifyExport, verifyReceipt, rotateKeyCmd(database, open), replayCmd(open))
	return cmd
}

// couldNotCheck tells a verification that could not finish (the database
// went away, the command was interrupted, a storage failure) from one
// that found the log wrong: the first exits 1, the second 3.
func couldNotCheck(err error) bool {
	var f *fault.Error
	if errors.As(err, &f) && (f.Kind == fault.Unavailable || f.Reason == "STORAGE") {
		return true
	}
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// noProgress is --no-progress: no bar even on a terminal.
var noProgress bool

// showsProgress: a bar only for a person watching a terminal. Written to a
// file, a pipe or a CI log it would be hundreds of carriage returns.
func showsProgress(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && !noProgress && term.IsTerminal(int(f.Fd()))
}

func newBar(w io.Writer, what string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetVisibility(showsProgress(w)),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("leaves"),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		// Zero stops the library's own ticker goroutine, which reads the
		// bar's state without its lock (a data race under -race); the
		// spinner then moves as leaves are verified, which is often enough.
		progressbar.OptionSetSpinnerChangeInterval(0),
	)
}
