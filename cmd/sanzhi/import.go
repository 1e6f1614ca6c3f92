package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/internal/cli"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/evidence/csvrows"
)

// maxImportBytes bounds the file read into memory: 100,000 rows of a
// clerk's sheet are about 15 MB.
const maxImportBytes = 256 << 20

// maxImportRows bounds one file; split larger ones.
const maxImportRows = 500_000

func importCmd(open func(context.Context) (server.Store, error)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Import a village clerk's spreadsheet (CSV) of evidence",
	}
	var (
		village, apiKey, lang string
		dryRun                bool
		parallel              int
	)
	ev := &cobra.Command{
		Use:   "evidence FILE.csv",
		Short: "Validate every row of an evidence CSV, print a report, and import the valid rows (idempotently)",
		Long: `Read the evidence spreadsheet a village clerk keeps (UTF-8, UTF-8 with BOM, or GBK/GB18030 as
Excel writes it; columns in Chinese or English; see 'sanzhi import template'), check every row,
print a report (row, column, value, reason) in --lang, and submit the valid rows as the principal
whose API key is given (--key or $SANZHI_KEY), exactly as the BatchSubmitEvidence API would: items that need review wait for a
reviewer, machine-recorded items go straight to public notice.

Importing is idempotent: each row carries a request id (the 编号 column, or one derived from the
row's content), so running the same file again adds nothing and reports the rows as already
imported. With --dry-run nothing is written; the report says what would happen.

Every reason in the report is worded in --lang (zh-CN or en), whether the file or the evidence
service found it. The exit status is 0 when every row was imported (or already was), 4 when some
rows were refused (the rest imported; with --dry-run: would be), 1 when the file could not be
read or nothing could be submitted, 2 on a bad command line.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
			en, err := parseLang(lang)
			if err != nil {
				return cli.Usage(err)
			}
			if parallel < 1 || parallel > 16 {
				return cli.Usagef("--parallel must be 1..16, got %d", parallel)
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			file, err := csvrows.Read(io.LimitReader(f, maxImportBytes), village, maxImportRows)
			if err != nil {
				var ce *csvrows.Error
				if errors.As(err, &ce) {
					fmt.Fprintln(out, ce.Message(lang))
					return fmt.Errorf("%s: nothing imported", args[0])
				}
				return err
			}
			report := make([]reportLine, 0, len(file.Problems))
			for _, p := range file.Problems {
				report = append(report, reportLine{row: p.Row, text: p.Message(lang)})
			}
			if len(file.Rows) == 0 {
				printReport(out, report)
				return cli.WithCode(cli.ExitPartial, fmt.Errorf("%s: no importable rows", args[0]))
			}

			db, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			p, err := identify(cmd.Context(), db.Store().Principals(), apiKey, false)
			if err != nil {
				return err
			}
			parent := resource.Village(village)
			if err := access.Authorise(p, access.EvidenceSubmit, rpc.Target(parent)); err != nil {
				return err
			}
			a, err := services(db.Store(), nil)
			if err != nil {
				return err
			}
			svc := a.Evidence

			var bar *progressbar.ProgressBar
			if !dryRun {
				bar = progressbar.NewOptions(len(file.Rows), progressbar.OptionSetWriter(errOut),
					progressbar.OptionSetDescription(map[bool]string{false: "导入", true: "importing"}[en]),
					progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("rows"),
					progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
			}
			st, err := importRows(cmd.Context(), svc, p, parent, file.Rows, dryRun, parallel, bar)
			if err != nil {
				return err
			}
			for _, r := range st.failed {
				report = append(report, reportLine{row: r.row.Row, text: csvrows.Refusal(r.row, r.err).Message(lang)})
			}
			printReport(out, report)
			bad := len(file.Problems) + len(st.failed)
			verb := map[bool]string{false: "导入", true: "imported"}[en]
			if dryRun {
				verb = map[bool]string{false: "可导入", true: "would import"}[en]
			}
			if en {
				fmt.Fprintf(out, "%s (%s): %d data rows, %s %d, already imported %d, not imported %d, blank %d\n",
					args[0], file.Encoding, len(file.Rows)+len(file.Problems), verb, st.imported, st.duplicates, bad, file.Skipped)
			} else {
				fmt.Fprintf(out, "%s（%s）：数据 %d 行，%s %d 行，此前已导入 %d 行，未导入 %d 行，空行 %d 行\n",
					args[0], file.Encoding, len(file.Rows)+len(file.Problems), verb, st.imported, st.duplicates, bad, file.Skipped)
			}
			if bad > 0 {
				return cli.WithCode(cli.ExitPartial, fmt.Errorf("%d row(s) not imported; fix them and run the same file again", bad))
			}
			return nil
		},
	}
	ev.Flags().StringVar(&village, "village", "", "12-digit code of the village the file belongs to (households given as bare ids are of this village)")
	addKeyFlag(ev, &apiKey, "submitting (a clerk or reviewer of the village)")
	ev.Flags().StringVar(&lang, "lang", "zh-CN", "language of the report: zh-CN or en (not taken from $LANG)")
	ev.Flags().BoolVar(&dryRun, "dry-run", false, "check every row against the catalogue and the households, write nothing")
	ev.Flags().IntVar(&parallel, "parallel", 4, "batches submitted at once (1..16)")
	_ = ev.MarkFlagRequired("village")

	tmpl := &cobra.Command{
		Use:   "template",
		Short: "Print an empty evidence CSV with the header row (UTF-8 with BOM, which Excel opens correctly)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cmd.OutOrStdout().Write(csvrows.Template(lang))
			return err
		},
	}
	tmpl.Flags().StringVar(&lang, "lang", "zh-CN", "language of the header: zh-CN or en")
	cmd.AddCommand(ev, tmpl)
	return cmd
}

type reportLine struct {
	row  int
	text string
}

func printReport(w io.Writer, lines []reportLine) {
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].row < lines[j].row })
	for _, l := range lines {
		fmt.Fprintln(w, l.text)
	}
}

type importStats struct {
	imported, duplicates int
	failed               []failedRow
}

type failedRow struct {
	row csvrows.Row
	err error
}

// importRows submits rows in batches of evidence.MaxBatch, parallel at a
// time. A batch is one transaction; a row the service refuses is reported
// and the rest of its batch still imports.
func importRows(ctx context.Context, svc *evidence.Service, p *access.Principal, parent string, rows []csvrows.Row,
	dryRun bool, parallel int, bar *progressbar.ProgressBar) (importStats, error) {
	var (
		mu    sync.Mutex
		st    importStats
		first error
		wg    sync.WaitGroup
		sem   = make(chan struct{}, parallel)
	)
	// Batches run in parallel, and two transactions posting to the same
	// household's sheet conflict and retry: order the rows by household
	// (keeping the file's order within one, which decides what a cap
	// holds back) so that parallel batches touch different households.
	rows = slices.Clone(rows)
	slices.SortStableFunc(rows, func(a, b csvrows.Row) int { return strings.Compare(a.Input.Parent, b.Input.Parent) })
	for start := 0; start < len(rows); start += evidence.MaxBatch {
		chunk := rows[start:min(start+evidence.MaxBatch, len(rows))]
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			in := make([]evidence.SubmitInput, len(chunk))
			for i, r := range chunk {
				in[i] = r.Input
			}
			res, err := svc.SubmitBatch(ctx, p, parent, in, dryRun)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first = err
				}
				return
			}
			for i, r := range res {
				switch {
				case r.Err != nil:
					st.failed = append(st.failed, failedRow{row: chunk[i], err: r.Err})
				case r.Duplicate:
					st.duplicates++
				default:
					st.imported++
				}
			}
			if bar != nil {
				_ = bar.Add(len(chunk))
			}
		}()
	}
	wg.Wait()
	if bar != nil {
		_ = bar.Finish()
	}
	return st, first
}
