package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/catalogue"
	"github.com/sanzhi/sanzhi/scoring/points"
)

func catalogueCmd(open func(context.Context) (server.Store, error)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "catalogue",
		Short: "Lint, upload and activate points catalogue documents (county base and village documents)",
	}

	var baseFile string
	lint := &cobra.Command{
		Use:   "lint FILE",
		Short: "Check a catalogue document offline and print every problem with its line; exit status 1 if there is any",
		Long: `Check a catalogue document without a database. Every problem is printed as
FILE:LINE:COLUMN: FIELD: MESSAGE. A village document is checked on its own, and also
against its county base when --base names the county document it inherits.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			var base *points.County
			if baseFile != "" {
				src, err := os.ReadFile(baseFile)
				if err != nil {
					return fmt.Errorf("cannot read --base: %w", err)
				}
				if base, err = points.ParseCounty(src); err != nil {
					printProblems(out, baseFile, err)
					return fmt.Errorf("--base %s is not a valid county catalogue", baseFile)
				}
			}
			doc, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			sum, err := catalogue.Check(doc, nil)
			if err == nil && sum.Kind == catalogue.Village && base != nil {
				sum, err = catalogue.Check(doc, base)
			}
			if err != nil {
				n := printProblems(out, args[0], err)
				return fmt.Errorf("%s: %d problem(s)", args[0], n)
			}
			if base != nil && sum.Kind == catalogue.County {
				return errors.New("--base applies to village documents only")
			}
			fmt.Fprintf(out, "%s: valid %s\n", args[0], describe(sum))
			return nil
		},
	}
	lint.Flags().StringVar(&baseFile, "base", "", "county catalogue FILE a village document inherits (checks codes, areas and precision against it)")

	var apiKey string
	// withActor authenticates the caller by its key, like the server does;
	// without a key the caller is the local operator (county base only).
	withActor := func(ctx context.Context, fn func(svc *catalogue.Service, p *access.Principal) error) error {
		return asActor(ctx, open, apiKey, true, func(a *app.App, p *access.Principal) error { return fn(a.Catalogues, p) })
	}

	upload := &cobra.Command{
		Use:   "upload FILE",
		Short: "Validate a catalogue document and store it as a draft version, as the principal of --key",
		Long: `Validate a catalogue document and store it as a draft version of the county or village
it declares, recorded in the audit log as uploaded by the principal whose API key is given
(--key or $SANZHI_KEY; without one, the local operator). The same
rules as the API apply: the county base is uploaded by an operator, a village document by
that village's clerk or reviewer.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			sum, err := catalogue.Check(doc, nil)
			if err != nil {
				n := printProblems(cmd.OutOrStdout(), args[0], err)
				return fmt.Errorf("%s: %d problem(s); nothing stored", args[0], n)
			}
			parent := sum.Owner().Name()
			return withActor(cmd.Context(), func(svc *catalogue.Service, p *access.Principal) error {
				if err := access.Authorise(p, access.CatalogueUpload, rpc.Target(parent)); err != nil {
					return err
				}
				v, err := svc.Upload(cmd.Context(), p, parent, doc)
				if err != nil {
					printViolations(cmd.OutOrStdout(), args[0], err)
					return err
				}
				by := "uploaded by " + p.Name
				if v.UploadedBy != p.ID {
					by = "already stored with this text, uploaded by principal " + v.UploadedBy
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %s, %d items, content hash %s, %s\n",
					v.Name(), v.State, v.ItemCount, v.ContentHash, by)
				if v.State == catalogue.Draft {
					fmt.Fprintf(cmd.OutOrStdout(), "a second person activates it: sanzhi catalogue activate %s --key THEIR_KEY\n", v.Name())
				}
				return nil
			})
		},
	}
	addKeyFlag(upload, &apiKey, "uploading (without a key: the local operator)")

	activate := &cobra.Command{
		Use:   "activate NAME",
		Short: "Make a draft version (e.g. villages/330483102215/catalogues/2) the active one, as the principal of --key",
		Long: `Make a draft catalogue version the active one of its county or village; the version it
replaces becomes superseded. The principal whose key is given must not be the uploader
(maker-checker) and must be allowed to activate it: an operator for the county base, a
reviewer of the village for a village document.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withActor(cmd.Context(), func(svc *catalogue.Service, p *access.Principal) error {
				if err := access.Authorise(p, access.CatalogueActivate, rpc.Target(args[0])); err != nil {
					return err
				}
				v, err := svc.Activate(cmd.Context(), p, args[0])
				if err != nil {
					printViolations(cmd.OutOrStdout(), "", err)
					return err
				}
				by := "activated by " + p.Name
				if v.ActivatedBy != p.ID {
					by = "already activated by principal " + v.ActivatedBy
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %s, content hash %s, %s\n", v.Name(), v.State, v.ContentHash, by)
				return nil
			})
		},
	}
	addKeyFlag(activate, &apiKey, "activating (not the uploader; without a key: the local operator)")

	cmd.AddCommand(lint, upload, activate)
	return cmd
}

// problem is one lint problem of a catalogue or policy document.
type problem struct {
	line, column  int
	path, message string
}

// printProblems prints a catalogue's lint errors as FILE:LINE:COLUMN:
// FIELD: MESSAGE and returns how many there were.
func printProblems(w io.Writer, file string, err error) int {
	var le points.LintErrors
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

// printLint prints problems one a line and returns how many there were.
func printLint(w io.Writer, file string, ps []problem) int {
	for _, e := range ps {
		where := file
		if e.line > 0 {
			where = fmt.Sprintf("%s:%d:%d", file, e.line, e.column)
		}
		if e.path != "" {
			fmt.Fprintf(w, "%s: %s: %s\n", where, e.path, e.message)
		} else {
			fmt.Fprintf(w, "%s: %s\n", where, e.message)
		}
	}
	return len(ps)
}

// printViolations prints the field violations of an invalid-input fault,
// one a line.
func printViolations(w io.Writer, file string, err error) {
	var f *fault.Error
	if !errors.As(err, &f) || f.Kind != fault.Invalid || len(f.Violations) < 2 {
		return // the error message says it all
	}
	for _, v := range f.Violations {
		if file != "" && v.Field == "document" {
			fmt.Fprintf(w, "%s: %s\n", file, v.Description)
		} else {
			fmt.Fprintf(w, "%s: %s\n", v.Field, v.Description)
		}
	}
}

func describe(s catalogue.Summary) string {
	if s.Kind == catalogue.County {
		return fmt.Sprintf("county catalogue of %s, version %d: %d items, content hash %s",
			s.County, s.Version, s.ItemCount, s.ContentHash)
	}
	d := fmt.Sprintf("village catalogue of %s, version %d on county version %d", s.Village, s.Version, s.BaseVersion)
	if !s.BaseChecked {
		return d + " (checked on its own; pass --base COUNTY_FILE to check it against its county base)"
	}
	return d + fmt.Sprintf(": %d effective items, content hash %s", s.ItemCount, s.ContentHash)
}
