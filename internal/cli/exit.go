package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Exit statuses of sanzhi and sanzhid, so that a script (a backup check,
// a nightly import, a regulator's verification job) can tell a bad
// command line and a failed verification from an outage without reading
// messages. docs/OPERATIONS.md ("Exit codes") is the table.
const (
	ExitOK = 0
	// ExitFailure: the command could not do its work (database
	// unreachable, refused by authorisation, a file unreadable, ...).
	ExitFailure = 1
	// ExitUsage: the command line is wrong (unknown command or flag,
	// a flag value that does not parse, a missing argument or required
	// flag, flags that exclude each other); nothing was done.
	ExitUsage = 2
	// ExitVerifyFailed: the check ran and what it checked is wrong: the
	// audit log, an export or a receipt does not verify, a decision does
	// not replay identically.
	ExitVerifyFailed = 3
	// ExitPartial: an import read the file and imported every good row,
	// but refused some rows (the report lists them); fixing them and
	// running the same file again is safe.
	ExitPartial = 4
)

// ExitError is an error that calls for a particular exit status.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// WithCode gives err the exit status code; nil stays nil.
func WithCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: code, Err: err}
}

// Usage marks err as a mistake on the command line (ExitUsage).
func Usage(err error) error { return WithCode(ExitUsage, err) }

// Usagef is Usage of a new error.
func Usagef(format string, args ...any) error { return Usage(fmt.Errorf(format, args...)) }

// Code is the exit status for err: 0 for nil, the code of the first
// ExitError in its chain, else ExitFailure.
func Code(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *ExitError
	if errors.As(err, &e) {
		return e.Code
	}
	return ExitFailure
}

// Report writes err for a person ("name: err", and after a usage error
// where the help is) and returns the exit status.
func Report(w io.Writer, cmd *cobra.Command, err error) int {
	code := Code(err)
	if code == ExitOK {
		return code
	}
	fmt.Fprintf(w, "%s: %v\n", cmd.Root().Name(), err)
	if code == ExitUsage {
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}

// CheckUsage makes every command-line mistake cobra finds in root's tree
// an ExitUsage error. Cobra reports them as plain errors, and some not at
// all: a mistyped subcommand of a group (`sanzhi audit verfy`) printed the
// group's help and exited 0. Call it once every command is added.
func CheckUsage(root *cobra.Command) {
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return Usage(err) })
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		switch {
		case c.HasSubCommands() && !c.Runnable():
			// A group: runnable only to refuse what is not a subcommand.
			c.Args = unknownCommand
			c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
		case c.Args != nil:
			args := c.Args
			c.Args = func(cmd *cobra.Command, a []string) error { return Usage(args(cmd, a)) }
		}
		if c.Runnable() {
			// Cobra checks required flags after the pre-run hooks, as a
			// plain error; check them here first, after the root's hook
			// has read SANZHI_* variables into the flags.
			pre, preE := c.PreRun, c.PreRunE
			c.PreRun = nil
			c.PreRunE = func(cmd *cobra.Command, a []string) error {
				if err := cmd.ValidateRequiredFlags(); err != nil {
					return Usage(err)
				}
				if err := cmd.ValidateFlagGroups(); err != nil {
					return Usage(err)
				}
				if preE != nil {
					return preE(cmd, a)
				}
				if pre != nil {
					pre(cmd, a)
				}
				return nil
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's default, which it sets only on its own path
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return Usagef("%s", msg)
}
