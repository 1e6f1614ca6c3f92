package app

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/delivery"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/policies"
	"github.com/sanzhi/sanzhi/scoring/rules"
	"github.com/sanzhi/sanzhi/scoring/simulate"
	"github.com/sanzhi/sanzhi/scoring/yamldoc"
)

// The bank risk manager's views: the bank's policy versions with who
// uploaded, approved and activated each, an upload with its problems at
// their lines, a version with its diff against the active one, a
// simulation's figures as the charts draw them, and the bank's webhook
// with its dead letters (never its secret).

// PolicyRow is one version as a list shows it: the version (without its
// text in a list) and the people of its steps by name.
type PolicyRow struct {
	*policies.Version
	UploadedByName, ApprovedByName, ActivatedByName string
}

// PolicyProduct is one product's versions, newest first.
type PolicyProduct struct {
	Product  string
	Parent   string // banks/{bank}/products/{product}
	Versions []PolicyRow
	// More: the product has older versions than PolicyListSize.
	More bool
}

// PolicyListSize is how many versions of a product the list shows.
const PolicyListSize = 50

// BankPolicies is a bank's products with their policy versions.
type BankPolicies struct {
	Bank     string
	Products []PolicyProduct
}

// names returns a function naming principals by id (the id itself for
// one that is not stored, e.g. the demo's seed actor).
func (a *App) names(ctx context.Context) (func(string) string, error) {
	ps, err := a.Store.Principals().ListPrincipals(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]string, len(ps))
	for _, p := range ps {
		byID[p.ID] = p.Name
	}
	return func(id string) string {
		if id == "" {
			return ""
		}
		if n, ok := byID[id]; ok {
			return n
		}
		return id
	}, nil
}

func rowOf(v *policies.Version, name func(string) string) PolicyRow {
	return PolicyRow{Version: v, UploadedByName: name(v.UploadedBy), ApprovedByName: name(v.ApprovedBy),
		ActivatedByName: name(v.ActivatedBy)}
}

// BankPolicies reads the bank's products that have a policy version and
// the newest PolicyListSize versions of each.
func (a *App) BankPolicies(ctx context.Context, bank string) (*BankPolicies, error) {
	products, err := a.Store.PolicyProducts(ctx, bank)
	if err != nil {
		return nil, err
	}
	name, err := a.names(ctx)
	if err != nil {
		return nil, err
	}
	out := &BankPolicies{Bank: bank}
	for _, product := range products {
		parent := policies.ProductName(bank, product)
		page, err := a.Policies.List(ctx, parent, PolicyListSize, "")
		if err != nil {
			return nil, err
		}
		pp := PolicyProduct{Product: product, Parent: parent, More: page.NextToken != ""}
		for _, v := range page.Versions {
			pp.Versions = append(pp.Versions, rowOf(v, name))
		}
		out.Products = append(out.Products, pp)
	}
	return out, nil
}

// DocLine is one line of a document with the problems found on it.
type DocLine struct {
	N        int
	Text     string
	Problems []yamldoc.Problem
}

// PolicyUpload is what an upload did: the stored version, or the problems
// of a document that was not stored, each beside its line.
type PolicyUpload struct {
	Version  *policies.Version // nil when the document was refused
	Problems []yamldoc.Problem
	// Lines is the document with each problem on its line; Unplaced the
	// problems that have no line (an empty document, a size limit).
	Lines    []DocLine
	Unplaced []yamldoc.Problem
	// Excerpts are the runs of Lines around the problems (ExcerptContext
	// lines either side), so a long document's problems read at a glance.
	Excerpts [][]DocLine
}

// ExcerptContext is how many lines an excerpt shows either side of a
// problem's line.
const ExcerptContext = 3

// UploadPolicy validates doc and, when it is valid, stores it as a draft
// of the bank's product it declares (policies.Service.Upload: a document
// of another bank is refused on the field "parent", a version number
// taken by other text is AlreadyExists). An invalid document is returned
// with its problems and nothing is written.
func (a *App) UploadPolicy(ctx context.Context, p *access.Principal, bank string, doc []byte) (*PolicyUpload, error) {
	meta, err := PolicyChecker(doc)
	var le rules.LintErrors
	switch {
	case errors.As(err, &le):
		return problemsOf(doc, yamldoc.Problems(le).Sorted()), nil
	case err != nil:
		return nil, err
	}
	v, err := a.Policies.Upload(ctx, p, policies.ProductName(bank, meta.Product), doc)
	if err != nil {
		return nil, err
	}
	return &PolicyUpload{Version: v}, nil
}

// problemsOf places problems beside the lines of doc.
func problemsOf(doc []byte, ps []yamldoc.Problem) *PolicyUpload {
	out := &PolicyUpload{Problems: ps, Lines: DocumentLines(string(doc))}
	for _, p := range ps {
		if p.Line < 1 || p.Line > len(out.Lines) {
			out.Unplaced = append(out.Unplaced, p)
			continue
		}
		out.Lines[p.Line-1].Problems = append(out.Lines[p.Line-1].Problems, p)
	}
	// Runs of lines near a problem; runs that touch are one.
	show := make([]bool, len(out.Lines))
	for i, l := range out.Lines {
		if len(l.Problems) == 0 {
			continue
		}
		for j := max(0, i-ExcerptContext); j <= min(len(show)-1, i+ExcerptContext); j++ {
			show[j] = true
		}
	}
	var run []DocLine
	for i, ok := range show {
		if ok {
			run = append(run, out.Lines[i])
			continue
		}
		if run != nil {
			out.Excerpts, run = append(out.Excerpts, run), nil
		}
	}
	if run != nil {
		out.Excerpts = append(out.Excerpts, run)
	}
	return out
}

// DocumentLines numbers the lines of doc from 1 (a final newline ends the
// last line; it does not start another).
func DocumentLines(doc string) []DocLine {
	doc = strings.ReplaceAll(doc, "\r\n", "\n")
	doc = strings.TrimSuffix(doc, "\n")
	if doc == "" {
		return nil
	}
	lines := strings.Split(doc, "\n")
	out := make([]DocLine, len(lines))
	for i, l := range lines {
		out[i] = DocLine{N: i + 1, Text: l}
	}
	return out
}

// DiffLine is one line of a unified diff: Kind is "file" (the --- and +++
// headers), "hunk" (@@), "add", "del" or "same"; Old and New are the line
// numbers in the two versions (0 where the line is not in that version).
type DiffLine struct {
	Kind     string
	Text     string
	Old, New int
}

// PolicyDetail is one version: its text, its people, and what it changes
// against the active version.
type PolicyDetail struct {
	PolicyRow
	// Active is the product's active version; nil when there is none.
	Active *policies.Version
	// Diff is the unified diff from the active version to this one; nil
	// when this is the active version or there is none.
	Diff  []DiffLine
	Lines []DocLine
	// Gate is the version's latest activation gate report; nil when it
	// has none. GateStale: it was judged against another active version
	// than today's (or other content), so activating evaluates it again.
	Gate      *policies.GateReport
	GateStale bool
}

// PolicyDetail reads the version named by name with its diff against the
// product's active version.
func (a *App) PolicyDetail(ctx context.Context, name string) (*PolicyDetail, error) {
	v, err := a.Policies.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	names, err := a.names(ctx)
	if err != nil {
		return nil, err
	}
	d := &PolicyDetail{PolicyRow: rowOf(v, names), Lines: DocumentLines(v.Document)}
	switch d.Gate, err = a.Policies.LatestGate(ctx, v.Name()); {
	case fault.Is(err, fault.NotFound):
		d.Gate = nil
	case err != nil:
		return nil, err
	}
	active, err := a.Policies.Get(ctx, v.Parent()+"/policies/active")
	switch {
	case fault.Is(err, fault.NotFound):
		d.GateStale = d.Gate != nil && !d.Gate.Fits(v, 0)
		return d, nil
	case err != nil:
		return nil, err
	}
	d.Active = active
	if v.State == policies.Draft || v.State == policies.Approved {
		d.GateStale = d.Gate != nil && !d.Gate.Fits(v, active.Version)
	}
	if active.Version != v.Version {
		d.Diff = ParseUnifiedDiff(policies.UnifiedDiff(active.Name(), v.Name(), active.Document, v.Document))
	}
	return d, nil
}

// ParseUnifiedDiff splits a unified diff into lines, numbering each in
// the old and the new text.
func ParseUnifiedDiff(diff string) []DiffLine {
	var out []DiffLine
	old, cur := 0, 0
	for _, l := range strings.Split(strings.TrimSuffix(diff, "\n"), "\n") {
		switch {
		case l == "":
			continue
		case strings.HasPrefix(l, "--- ") || strings.HasPrefix(l, "+++ "):
			out = append(out, DiffLine{Kind: "file", Text: l})
		case strings.HasPrefix(l, "@@"):
			// @@ -a,b +c,d @@: the hunk's first lines.
			f := strings.Fields(l)
			if len(f) >= 3 {
				old = hunkStart(f[1])
				cur = hunkStart(f[2])
			}
			out = append(out, DiffLine{Kind: "hunk", Text: l})
		case l[0] == '+':
			out = append(out, DiffLine{Kind: "add", Text: l[1:], New: cur})
			cur++
		case l[0] == '-':
			out = append(out, DiffLine{Kind: "del", Text: l[1:], Old: old})
			old++
		case l[0] == '\\': // "\ No newline at end of file"
			out = append(out, DiffLine{Kind: "hunk", Text: l})
		default:
			out = append(out, DiffLine{Kind: "same", Text: l[1:], Old: old, New: cur})
			old++
			cur++
		}
	}
	return out
}

func hunkStart(s string) int {
	s = strings.TrimLeft(s, "-+")
	s, _, _ = strings.Cut(s, ",")
	n, _ := strconv.Atoi(s)
	return n
}

// ChartBar is one category of a chart: its label and the households under
// the compared (Base) and the simulated (New) version.
type ChartBar struct {
	Label     string
	Base, New int
}

// PolicySimulation is a simulation run from the console: the report, the
// version it compared with, and its figures as the charts draw them.
type PolicySimulation struct {
	*Simulation
	Name    string
	Against string // the active version compared with; empty for none
	// Grades is the households by grade, the simulated policy's grades
	// first; Limits the eligible households by limit band (yuan).
	Grades, Limits []ChartBar
}

// SimulatePolicy runs the named version over the bank's population
// against the product's active version (none when the named version is
// itself active or there is no active one), as principal p, in
// aggregates (simulate.ViewFor) and recorded in the audit log.
func (a *App) SimulatePolicy(ctx context.Context, p *access.Principal, name string, english bool) (*PolicySimulation, error) {
	v, err := a.Policies.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	req := SimulationRequest{Name: v.Name(), English: english, Format: "table"}
	active, err := a.Policies.Get(ctx, v.Parent()+"/policies/active")
	switch {
	case err == nil && active.Version != v.Version:
		req.Against = active.Name()
	case err != nil && !fault.Is(err, fault.NotFound):
		return nil, err
	}
	sim, err := a.Simulator.Simulate(access.WithPrincipal(ctx, p), req)
	if err != nil {
		return nil, err
	}
	out := &PolicySimulation{Simulation: sim, Name: req.Name, Against: req.Against}
	r := sim.Report
	out.Grades = gradeBars(r.Migration)
	for _, b := range r.Limits {
		label := simulate.Yuan(decimalOf(b.Lo)) + "–" + simulate.Yuan(decimalOf(b.Hi))
		if b.Hi == 0 {
			label = simulate.Yuan(decimalOf(b.Lo)) + "+"
		}
		out.Limits = append(out.Limits, ChartBar{Label: label, Base: b.Base, New: b.New})
	}
	return out, nil
}

// gradeBars sums the migration matrix: a base grade's households are its
// row, a new grade's its column.
func gradeBars(m simulate.Migration) []ChartBar {
	idx := map[string]int{}
	var out []ChartBar
	at := func(g string) *ChartBar {
		i, ok := idx[g]
		if !ok {
			i = len(out)
			idx[g] = i
			out = append(out, ChartBar{Label: g})
		}
		return &out[i]
	}
	for _, g := range m.Cols {
		at(g)
	}
	for i, row := range m.Rows {
		for j, n := range m.Counts[i] {
			if row != simulate.NoGrade {
				at(row).Base += n
			}
			at(m.Cols[j]).New += n
		}
	}
	return out
}

// WebhookState is a bank's webhook as its page shows it: everything but
// the secrets.
type WebhookState struct {
	URL             string
	Delivered       int64 // the last event delivered or dead-lettered
	Attempts        int
	NextAttemptTime time.Time
	LastError       string
	// PreviousUntil: a rotated-out secret still signs until then.
	PreviousUntil *time.Time
	UpdatedByName string
	UpdateTime    time.Time
}

// BankWebhook is a bank's webhook page: the endpoint (nil when none is
// set) and its newest dead letters.
type BankWebhook struct {
	Bank        string
	Endpoint    *WebhookState
	DeadLetters []*delivery.DeadLetter
	More        bool
}

// DeadLetterListSize is how many dead letters the page lists.
const DeadLetterListSize = 50

// BankWebhook reads the bank's webhook and its newest dead letters.
func (a *App) BankWebhook(ctx context.Context, bank string) (*BankWebhook, error) {
	out := &BankWebhook{Bank: bank}
	name := delivery.EndpointName(bank)
	ep, err := a.Webhooks.Get(ctx, name)
	switch {
	case fault.Is(err, fault.NotFound):
		return out, nil
	case err != nil:
		return nil, err
	}
	names, err := a.names(ctx)
	if err != nil {
		return nil, err
	}
	out.Endpoint = &WebhookState{URL: ep.URL, Delivered: ep.Cursor, Attempts: ep.Attempts, NextAttemptTime: ep.NextAttemptTime,
		LastError: ep.LastError, PreviousUntil: ep.PreviousUntil, UpdatedByName: names(ep.UpdatedBy), UpdateTime: ep.UpdateTime}
	page, err := a.Webhooks.ListDeadLetters(ctx, name, DeadLetterListSize, "")
	if err != nil {
		return nil, err
	}
	out.DeadLetters, out.More = page.DeadLetters, page.NextToken != ""
	return out, nil
}

// SetWebhook points the bank's webhook at url with a new secret, returned
// once (delivery.Dispatcher.Set).
func (a *App) SetWebhook(ctx context.Context, p *access.Principal, bank, url string) (string, error) {
	_, secret, err := a.Webhooks.Set(ctx, p, resource.Bank(bank), url)
	return secret, err
}

// ReplayDeadLetter sends the bank's dead letter seq again.
func (a *App) ReplayDeadLetter(ctx context.Context, p *access.Principal, bank string, seq int64) (*delivery.DeadLetter, error) {
	return a.Webhooks.Replay(ctx, p, delivery.EndpointName(bank)+"/deadLetters/"+strconv.FormatInt(seq, 10))
}

func decimalOf(n int64) decimal.Decimal { return decimal.NewFromInt(n) }
