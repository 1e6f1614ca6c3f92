package app

import (
	"cmp"
	"context"
	"io"
	"slices"
	"strings"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/paging"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/evidence/csvrows"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/points"
)

// MaxImportRows bounds one evidence file imported in the console: the
// check and the import each run within one page request. Larger files are
// split, or imported with the CLI.
const MaxImportRows = 2000

// EvidenceImport is a clerk's evidence spreadsheet checked against the
// village: the rows that can be imported, each with its household and
// item as people read them, and every row that cannot, with why.
type EvidenceImport struct {
	Encoding string
	// Rows are the importable rows in file order; Already counts those
	// imported before (importing them again adds nothing).
	Rows    []ImportRow
	Already int
	// Problems are the rows that cannot be imported, by row.
	Problems []ImportProblem
	// Skipped counts blank rows.
	Skipped int
}

// ImportRow is one importable row.
type ImportRow struct {
	csvrows.Row
	Household *household.Household
	Item      points.Item
	// Already: imported before, with the same content.
	Already bool
}

// ImportProblem is why one row cannot be imported: a problem of the file,
// or the evidence service's refusal (Err, kept for logs; Problem words it,
// see csvrows.Refusal). Problem.Message is what a clerk reads.
type ImportProblem struct {
	Row     int
	Column  string // canonical column name; "" for the row as a whole
	Value   string // the cell, safe to show (an ID number masked)
	Problem *csvrows.Problem
	Err     error
}

// ImportResult is what an import did.
type ImportResult struct {
	Imported, Already int
	// Failed are rows refused at import that the check let through (the
	// register or the catalogue changed in between).
	Failed []ImportProblem
}

// CheckEvidenceCSV reads a clerk's evidence spreadsheet for village (see
// csvrows for the format), matches households named by 身份证号 (the
// register's blind index) or by head's name, group and 门牌 (exactly, over
// the village's register), and asks the evidence service, without writing,
// whether each row would be taken: an unknown item, a future date, a
// missing witness are row problems here, not surprises at import. A
// *csvrows.Error is returned for a file that cannot be read at all.
//
// The caller authorises p for HouseholdLookup, HouseholdList and
// EvidenceSubmit on the village.
func (a *App) CheckEvidenceCSV(ctx context.Context, p *access.Principal, village string, r io.Reader) (*EvidenceImport, error) {
	reg := &register{a: a, ctx: ctx, village: village, byName: map[string]*household.Household{}}
	f, err := csvrows.ReadResolving(r, village, MaxImportRows, reg.resolve)
	if err != nil {
		return nil, err
	}
	out := &EvidenceImport{Encoding: f.Encoding, Skipped: f.Skipped}
	for i := range f.Problems {
		pr := f.Problems[i]
		out.Problems = append(out.Problems, ImportProblem{Row: pr.Row, Column: pr.Column, Value: pr.Value, Problem: &pr})
	}
	if len(f.Rows) > 0 {
		cat, err := a.Catalogues.Effective(ctx, village)
		if err != nil {
			return nil, err
		}
		err = a.submitRows(ctx, p, village, f.Rows, true, func(row csvrows.Row, res evidence.RowResult) error {
			if res.Err != nil {
				out.Problems = append(out.Problems, refusal(row, res.Err))
				return nil
			}
			h, err := reg.household(row.Input.Parent)
			if err != nil {
				return err
			}
			it, _ := cat.Item(row.Input.ItemCode)
			out.Rows = append(out.Rows, ImportRow{Row: row, Household: h, Item: it, Already: res.Duplicate})
			if res.Duplicate {
				out.Already++
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sortProblems(out.Problems)
	return out, nil
}

// ImportEvidence submits rows (those CheckEvidenceCSV found importable) as
// p, in batches of evidence.MaxBatch, each batch one transaction. Each
// row's request id is the one the CLI derives for the same row, so a file
// imported again — here or with the CLI — adds nothing.
func (a *App) ImportEvidence(ctx context.Context, p *access.Principal, village string, rows []csvrows.Row) (ImportResult, error) {
	var out ImportResult
	var results []evidence.RowResult
	defer func() { a.CountImportRows(ctx, "console", results) }()
	err := a.submitRows(ctx, p, village, rows, false, func(row csvrows.Row, res evidence.RowResult) error {
		results = append(results, evidence.RowResult{Duplicate: res.Duplicate, Err: res.Err})
		switch {
		case res.Err != nil:
			out.Failed = append(out.Failed, refusal(row, res.Err))
		case res.Duplicate:
			out.Already++
		default:
			out.Imported++
		}
		return nil
	})
	sortProblems(out.Failed)
	return out, err
}

// submitRows runs rows through SubmitBatch in file order and hands each
// row's result to each.
func (a *App) submitRows(ctx context.Context, p *access.Principal, village string, rows []csvrows.Row, dryRun bool,
	each func(csvrows.Row, evidence.RowResult) error) error {
	for start := 0; start < len(rows); start += evidence.MaxBatch {
		chunk := rows[start:min(start+evidence.MaxBatch, len(rows))]
		in := make([]evidence.SubmitInput, len(chunk))
		for i, r := range chunk {
			in[i] = r.Input
		}
		res, err := a.Evidence.SubmitBatch(ctx, p, resource.Village(village), in, dryRun)
		if err != nil {
			return err
		}
		for i, r := range res {
			if err := each(chunk[i], r); err != nil {
				return err
			}
		}
	}
	return nil
}

// refusal is the service's refusal of row as a row problem, worded by
// csvrows (at the column of its first violation) so that no service text
// reaches the clerk.
func refusal(row csvrows.Row, err error) ImportProblem {
	pr := csvrows.Refusal(row, err)
	return ImportProblem{Row: row.Row, Column: pr.Column, Value: pr.Value, Problem: &pr, Err: err}
}

// sortProblems orders by row; a row's problems keep the order they were
// found in.
func sortProblems(ps []ImportProblem) {
	slices.SortStableFunc(ps, func(a, b ImportProblem) int { return cmp.Compare(a.Row, b.Row) })
}

// register matches households named in words against the village's
// register, reading it at most once per check.
type register struct {
	a       *App
	ctx     context.Context
	village string
	all     []*household.Household          // nil until read
	byName  map[string]*household.Household // by resource name: every household seen
}

func (r *register) read() error {
	if r.all != nil {
		return nil
	}
	r.all = []*household.Household{}
	token := ""
	for len(r.all) < maxViewRows {
		page, err := r.a.Households.ListHeads(r.ctx, resource.Village(r.village), 0, paging.MaxSize, token)
		if err != nil {
			return err
		}
		for _, h := range page.Items {
			r.all = append(r.all, h)
			r.byName[h.Name()] = h
		}
		if token = page.NextToken; token == "" {
			break
		}
	}
	return nil
}

// resolve is the csvrows.Resolver: a 身份证号 through the blind index, a
// name exactly (spaces trimmed) with its group and, when given, its 门牌.
func (r *register) resolve(refs []csvrows.HouseholdRef) ([]csvrows.Match, error) {
	out := make([]csvrows.Match, len(refs))
	for i, ref := range refs {
		if !ref.IDNumber.IsZero() {
			h, err := r.a.Households.Lookup(r.ctx, resource.Village(r.village), ref.IDNumber.Raw())
			switch {
			case err == nil:
				out[i] = csvrows.Match{Parent: h.Name(), Found: 1}
				r.byName[h.Name()] = h
			case fault.Is(err, fault.NotFound):
			default:
				return nil, err
			}
			continue
		}
		if err := r.read(); err != nil {
			return nil, err
		}
		for _, h := range r.all {
			if h.HeadName == ref.HeadName && h.Group == ref.Group &&
				(ref.Address == "" || strings.TrimSpace(h.Address) == ref.Address) {
				out[i].Found++
				out[i].Parent = h.Name()
			}
		}
		if out[i].Found != 1 {
			out[i].Parent = ""
		}
	}
	return out, nil
}

// household returns the household named parent, read once.
func (r *register) household(parent string) (*household.Household, error) {
	if h, ok := r.byName[parent]; ok {
		return h, nil
	}
	h, err := r.a.Households.Get(r.ctx, parent)
	if err != nil {
		return nil, err
	}
	r.byName[parent] = h
	return h, nil
}
