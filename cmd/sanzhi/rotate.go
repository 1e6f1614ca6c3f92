package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sanzhi/sanzhi/adapters/merklelog"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/adapters/sqlite"
	"github.com/sanzhi/sanzhi/audit"
)

// rotateKeyCmd hands the log over to a new signing key, offline: the
// operator stops the server, runs it, and starts the server again with the
// new key file.
func rotateKeyCmd(database *string, open func(context.Context) (server.Store, error)) *cobra.Command {
	var oldFile, newFile, historyFile string
	cmd := &cobra.Command{
		Use:   "rotate-key --audit-key-file OLD --new-key-file NEW --key-history FILE",
		Short: "Hand the log over to a new signing key with a checkpoint signed by both keys",
		Long: `rotate-key replaces the checkpoint signing key. Stop the server first.

It logs an entry audit.rotate_key naming both verifier keys, and publishes a
checkpoint of the grown log signed by the old and the new key: the handover.
The new key signs every later checkpoint. It appends the new key, with the
handover's tree size, to the key history file (created, with the old key
from size 0, when it does not exist yet), which regulators pass to
'sanzhi audit verify --key-history'.

NEW is read if it exists (made with 'sanzhi audit keygen NEW --origin <the
log's name>'), or else a new key is generated and written there (mode 0600).
Every check (keys readable, different, of the same log, the history ending
with the old key and matching every stored checkpoint) runs before anything is
written. Then start the server with --audit-key-file NEW.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := os.ReadFile(oldFile)
			if err != nil {
				return fmt.Errorf("cannot read the old key (--audit-key-file): %w", err)
			}
			oldSkey := strings.TrimSpace(string(b))
			if _, err := merklelog.VerifierKey(oldSkey); err != nil {
				return fmt.Errorf("old key %s: %w", oldFile, err)
			}
			var history *audit.KeyHistory
			hb, err := os.ReadFile(historyFile)
			switch {
			case err == nil:
				if history, err = audit.ParseKeyHistory(hb); err != nil {
					return fmt.Errorf("%s: %w", historyFile, err)
				}
			case errors.Is(err, os.ErrNotExist):
				// The first rotation: the history starts here.
			default:
				return fmt.Errorf("cannot read key history: %w", err)
			}
			generated := false
			var newSkey string
			if b, err := os.ReadFile(newFile); err == nil {
				newSkey = strings.TrimSpace(string(b))
			} else if errors.Is(err, os.ErrNotExist) {
				s, err := audit.NewSigner(oldSkey)
				if err != nil {
					return err
				}
				if newSkey, _, err = audit.GenerateKey(s.Name()); err != nil {
					return err
				}
				generated = true
			} else {
				return fmt.Errorf("cannot read the new key (--new-key-file): %w", err)
			}
			if _, err := merklelog.VerifierKey(newSkey); err != nil {
				return fmt.Errorf("new key %s: %w", newFile, err)
			}
			// The history is written by renaming a file beside it: its
			// directory must exist before the log changes.
			if st, err := os.Stat(filepath.Dir(historyFile)); err != nil || !st.IsDir() {
				return fmt.Errorf("cannot write the key history: directory %s does not exist", filepath.Dir(historyFile))
			}

			// Opening a SQLite file that is not there would create an
			// empty database: refuse a mistyped path instead.
			if strings.HasPrefix(*database, "sqlite://") {
				path, err := sqlite.PathFromURL(*database)
				if err != nil {
					return err
				}
				if _, err := os.Stat(path); err != nil {
					return fmt.Errorf("cannot open the database: %w", err)
				}
			}
			db, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			// Write a generated key before the log changes, so the key
			// that signs from the handover on is never lost; remove it if
			// the rotation does not happen.
			if generated {
				if err := writeNew(newFile, []byte(newSkey+"\n"), 0o600); err != nil {
					return fmt.Errorf("cannot write the new key: %w", err)
				}
			}
			rot, err := merklelog.Rotate(cmd.Context(), db.Store(), history, oldSkey, newSkey, LocalOperatorID, time.Now())
			if err != nil {
				if generated {
					_ = os.Remove(newFile)
				}
				return fmt.Errorf("key not rotated: %w", err)
			}
			text := rot.History.Text()
			out := cmd.OutOrStdout()
			if err := replaceFile(historyFile, text); err != nil {
				fmt.Fprintf(out, "the log is rotated, but the key history could not be written (%v); save this as %s:\n%s", err, historyFile, text)
				return fmt.Errorf("cannot write the key history: %w", err)
			}
			if generated {
				fmt.Fprintf(out, "wrote the new signing key %s\n", newFile)
			}
			fmt.Fprintf(out, "rotated: the checkpoint at size %d is signed by both keys; the new key signs from there on.\n", rot.Handover.Size)
			fmt.Fprintf(out, "new verifier key: %s\nkey history (%s):\n%s", rot.VerifierKey, historyFile, text)
			fmt.Fprintf(out, "start the server with --audit-key-file %s and give regulators the key history.\n", newFile)
			return nil
		},
	}
	cmd.Flags().StringVar(&oldFile, "audit-key-file", "", "the signing key the log is signed with now")
	cmd.Flags().StringVar(&newFile, "new-key-file", "", "the new signing key (generated there if the file does not exist)")
	cmd.Flags().StringVar(&historyFile, "key-history", "", "the key history file to extend (created if it does not exist)")
	for _, f := range []string{"audit-key-file", "new-key-file", "key-history"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}

// writeNew creates path with data, refusing to overwrite.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// replaceFile writes data to path through a temporary file and a rename,
// so the file is either the old history or the new one.
func replaceFile(path string, data []byte) error {
	tmp := path + ".tmp"
	_ = os.Remove(tmp)
	if err := writeNew(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
