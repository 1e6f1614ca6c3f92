package console

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/resource"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/policies"
)

// auditRoutes registers the regulator's pages (see routes): the audit
// explorer, an entry with its proof checked in the browser, decision
// replay, a household's query records, policy versions and the export.
func (c *Console) auditRoutes() {
	c.page("GET "+Prefix+"audit", false, c.audExplorer)
	c.page("GET "+Prefix+"audit/entries/{index}", false, c.audEntry)
	c.page("GET "+Prefix+"audit/entries/{index}/receipt", false, c.audReceipt)
	c.page("GET "+Prefix+"audit/replay", false, c.audReplayForm)
	c.page("POST "+Prefix+"audit/replay", false, c.audReplay)
	c.page("GET "+Prefix+"audit/records", false, c.audRecords)
	c.page("POST "+Prefix+"audit/records", false, c.audRecordsLookup)
	c.page("GET "+Prefix+"audit/policies", false, c.audPolicies)
	c.page("GET "+Prefix+"audit/policies/{bank}/{product}/{version}", false, c.audPolicy)
	c.page("POST "+Prefix+"audit/export", false, c.audExport)
}

// verifySRI pins static/verify.js: the entry page loads it with this
// Subresource Integrity hash, so a changed file is not run.
var verifySRI = func() string {
	b, err := fs.ReadFile(staticFS, "static/verify.js")
	if err != nil {
		panic("console: static/verify.js is missing")
	}
	sum := sha512.Sum384(b)
	return "sha384-" + base64.StdEncoding.EncodeToString(sum[:])
}()

func init() {
	addMessages(auditMessages)
	funcs["audhex"] = func(b []byte) string { return hex.EncodeToString(b) }
	funcs["audb64"] = func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	funcs["audb64s"] = func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	funcs["audstr"] = func(b []byte) string { return string(b) }
	funcs["audtime"] = func(t time.Time) string { return t.In(shanghai).Format("2006-01-02 15:04:05") }
	funcs["audsri"] = func() string { return verifySRI }
	// A replayed field by the words people use for it.
	funcs["audfield"] = func(l lang, f string) string {
		if _, ok := messages["aud.field."+f]; ok {
			return text(l, "aud.field."+f)
		}
		return f
	}
}

// regulator refuses everyone but a regulator: these pages are the
// regulator's desk (the API serves other roles their own side of the log).
// The action is then asked of the one policy as the RPC would.
func (q *request) regulator(a access.Action, t access.Target) error {
	if q.p.Role != access.Regulator {
		return fault.New(fault.PermissionDenied, "NOT_A_REGULATOR", "the audit pages are for regulators")
	}
	return q.authorise(a, t)
}

// audExplorerView is the explorer: checkpoints, the filter form with its
// errors next to the fields, and a page of entries.
type audExplorerView struct {
	Checkpoints *app.AuditCheckpoints
	// The filter as typed.
	Actor, Action, Subject, Since, Until, Entry   string
	SinceError, UntilError, EntryError, PageError string
	Entries                                       []app.ListedEntry
	// Next is the query string of the next page; "" at the end. Built
	// by url.Values.Encode, so safe as a URL as it is.
	Next template.URL
	// ExportError sits next to the export form's fields.
	ExportFrom, ExportFromError, ExportFormatError string
}

// auditPageSize is how many entries the explorer lists per page.
const auditPageSize = 50

func (c *Console) audExplorer(q *request) error {
	if err := q.regulator(access.AuditEntryRead, access.Target{}); err != nil {
		return err
	}
	v := &audExplorerView{}
	status, err := c.audExplorerFill(q, v)
	if err != nil {
		return err
	}
	if status == http.StatusSeeOther {
		return nil
	}
	c.render(q, status, "audit_explorer", v)
	return nil
}

// audExplorerFill reads the filter from the query and fills v; it
// answers the status to render with, or SeeOther when it redirected.
func (c *Console) audExplorerFill(q *request, v *audExplorerView) (int, error) {
	ctx := q.r.Context()
	cps, err := c.app.AuditCheckpoints(ctx)
	if err != nil && !fault.Is(err, fault.NotFound) {
		return 0, err
	}
	v.Checkpoints = cps
	status := http.StatusOK
	qs := q.r.URL.Query()
	// Going to one entry by its number.
	if v.Entry = strings.TrimSpace(qs.Get("entry")); v.Entry != "" {
		seq, err := strconv.ParseUint(v.Entry, 10, 64)
		if err != nil {
			v.EntryError = text(q.lang, "aud.bad_entry")
			return http.StatusBadRequest, nil
		}
		if _, err := c.app.AuditEntry(ctx, q.p, seq, false); err != nil {
			if !fault.Is(err, fault.NotFound) {
				return 0, err
			}
			v.EntryError = text(q.lang, "aud.no_entry", seq)
			return http.StatusNotFound, nil
		}
		http.Redirect(q.w, q.r, Prefix+"audit/entries/"+strconv.FormatUint(seq, 10), http.StatusSeeOther)
		return http.StatusSeeOther, nil
	}
	v.Actor, v.Action, v.Subject = strings.TrimSpace(qs.Get("actor")), strings.TrimSpace(qs.Get("action")), strings.TrimSpace(qs.Get("subject"))
	v.Since, v.Until = strings.TrimSpace(qs.Get("since")), strings.TrimSpace(qs.Get("until"))
	f := app.EntryFilter{Actor: v.Actor, Action: v.Action, Subject: v.Subject}
	// Days are read in Asia/Shanghai; until is the last day included.
	if v.Since != "" {
		d, err := household.ParseDate(v.Since)
		if err != nil {
			v.SinceError = text(q.lang, "aud.bad_day")
		} else {
			f.Since = d.Time()
		}
	}
	if v.Until != "" {
		d, err := household.ParseDate(v.Until)
		if err != nil {
			v.UntilError = text(q.lang, "aud.bad_day")
		} else {
			f.Until = d.Time().AddDate(0, 0, 1)
		}
	}
	if v.SinceError != "" || v.UntilError != "" {
		return http.StatusBadRequest, nil
	}
	page, err := app.ListEntries(ctx, c.app.Store, q.p, f, auditPageSize, qs.Get("page"))
	var fe *fault.Error
	switch {
	case err == nil:
	case errors.As(err, &fe) && fe.Kind == fault.Invalid:
		for _, x := range fe.Violations {
			switch x.Field {
			case "end_time":
				v.UntilError = text(q.lang, "aud.until_before")
			default: // a page token of another filter, or a bad size
				v.PageError = text(q.lang, "aud.bad_page")
			}
		}
		return http.StatusBadRequest, nil
	default:
		return 0, err
	}
	v.Entries = page.Entries
	if page.NextToken != "" {
		next := url.Values{}
		for k, s := range map[string]string{"actor": v.Actor, "action": v.Action, "subject": v.Subject, "since": v.Since, "until": v.Until} {
			if s != "" {
				next.Set(k, s)
			}
		}
		next.Set("page", page.NextToken)
		v.Next = template.URL(next.Encode())
	}
	return status, nil
}

// audEntryView is an entry with its proof, and the data verify.js reads.
type audEntryView struct {
	*app.ProvedEntry
	Index uint64
}

func (c *Console) audEntry(q *request) error {
	if err := q.regulator(access.AuditEntryRead, access.Target{}); err != nil {
		return err
	}
	seq, err := strconv.ParseUint(q.r.PathValue("index"), 10, 64)
	if err != nil {
		return fault.New(fault.NotFound, "ENTRY_NOT_FOUND", "no entry %q", q.r.PathValue("index"))
	}
	e, err := c.app.AuditEntry(q.r.Context(), q.p, seq, q.r.URL.Query().Get("tamper") == "1")
	if err != nil {
		return err
	}
	c.render(q, http.StatusOK, "audit_entry", audEntryView{ProvedEntry: e, Index: seq})
	return nil
}

// audReceipt downloads the entry's receipt, for `sanzhi audit
// verify-receipt` on the regulator's own machine.
func (c *Console) audReceipt(q *request) error {
	if err := q.regulator(access.AuditEntryRead, access.Target{}); err != nil {
		return err
	}
	seq, err := strconv.ParseUint(q.r.PathValue("index"), 10, 64)
	if err != nil {
		return fault.New(fault.NotFound, "ENTRY_NOT_FOUND", "no entry %q", q.r.PathValue("index"))
	}
	e, err := c.app.AuditEntry(q.r.Context(), q.p, seq, false)
	if err != nil {
		return err
	}
	h := q.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="receipt-%d-at-%d.json"`, seq, e.Checkpoint.Size))
	_, err = q.w.Write(e.Receipt)
	return err
}

// audReplayView is the replay form and its answer.
type audReplayView struct {
	Decision, DecisionError string
	Replay                  *credit.DecisionReplay
	// Names are the decision names of Replay (asked, and replayed).
	Name, ReplayedName string
}

func (c *Console) audReplayForm(q *request) error {
	if err := q.regulator(access.DecisionReplay, access.Target{}); err != nil {
		return err
	}
	c.render(q, http.StatusOK, "audit_replay", audReplayView{Decision: q.r.URL.Query().Get("decision")})
	return nil
}

func (c *Console) audReplay(q *request) error {
	v := audReplayView{Decision: strings.TrimSpace(q.r.PostFormValue("decision"))}
	// The target is the decision's bank, as the RPC binds it.
	var t access.Target
	if bank, _, _, err := credit.ParseDecisionName(v.Decision, "decision"); err == nil {
		t.Bank = bank
	}
	if err := q.regulator(access.DecisionReplay, t); err != nil {
		return err
	}
	status := http.StatusOK
	r, err := c.app.Lending.ReplayDecision(q.r.Context(), q.p, v.Decision)
	switch {
	case err == nil:
		v.Replay = r
		v.Name = credit.DecisionName(r.Decision.Bank, r.Decision.Product, r.Decision.ID)
		v.ReplayedName = credit.DecisionName(r.Replayed.Bank, r.Replayed.Product, r.Replayed.ID)
	case v.Decision == "":
		v.DecisionError, status = text(q.lang, "aud.decision_empty"), http.StatusBadRequest
	case fault.Is(err, fault.Invalid):
		v.DecisionError, status = text(q.lang, "aud.bad_decision"), http.StatusBadRequest
	case fault.Is(err, fault.NotFound):
		v.DecisionError, status = text(q.lang, "aud.no_decision"), http.StatusNotFound
	default:
		return err
	}
	c.render(q, status, "audit_replay", v)
	return nil
}

// audRecordsView is the query-records page: a household by name (GET)
// or by village and 身份证号 (POST, so the number is never in a URL).
type audRecordsView struct {
	Household, Village                             string
	HouseholdError, VillageError, IDError, PageErr string
	Found                                          *app.HouseholdRecords
	Name                                           string
	Next                                           template.URL
}

func (c *Console) audRecords(q *request) error {
	if err := q.regulator(access.QueryRecordList, access.Target{}); err != nil {
		return err
	}
	v := audRecordsView{Household: strings.TrimSpace(q.r.URL.Query().Get("household"))}
	if v.Household == "" {
		c.render(q, http.StatusOK, "audit_records", v)
		return nil
	}
	return c.audRecordsOf(q, &v, v.Household, q.r.URL.Query().Get("page"))
}

// audRecordsOf shows the records of the household named hh.
func (c *Console) audRecordsOf(q *request, v *audRecordsView, hh, token string) error {
	var t access.Target
	if village, id, err := household.ParseName(hh, "household"); err == nil {
		t = access.Target{Village: village, Household: id}
	}
	if err := q.regulator(access.QueryRecordList, t); err != nil {
		return err
	}
	// The page names the household too.
	if err := q.authorise(access.HouseholdRead, t); err != nil {
		return err
	}
	found, err := c.app.HouseholdRecordsByName(q.r.Context(), hh, token)
	status := http.StatusOK
	switch {
	case err == nil:
		v.Found, v.Name = found, hh
		if found.NextToken != "" {
			v.Next = template.URL(url.Values{"household": {hh}, "page": {found.NextToken}}.Encode())
		}
	case fault.Is(err, fault.Invalid) && invalidField(err) == "household":
		v.HouseholdError, status = text(q.lang, "aud.bad_household"), http.StatusBadRequest
	case fault.Is(err, fault.Invalid):
		v.PageErr, status = text(q.lang, "aud.bad_page"), http.StatusBadRequest
	case fault.Is(err, fault.NotFound):
		v.HouseholdError, status = text(q.lang, "aud.no_household"), http.StatusNotFound
	default:
		return err
	}
	c.render(q, status, "audit_records", *v)
	return nil
}

func (c *Console) audRecordsLookup(q *request) error {
	v := audRecordsView{Village: strings.TrimSpace(q.r.PostFormValue("village"))}
	id := strings.ToUpper(strings.TrimSpace(q.r.PostFormValue("id_number")))
	if _, err := idnum.ParseVillageCode(v.Village); err != nil {
		v.VillageError = text(q.lang, "aud.bad_village")
	}
	if id == "" {
		v.IDError = text(q.lang, "aud.id_empty")
	}
	if v.VillageError != "" || v.IDError != "" {
		if err := q.regulator(access.HouseholdLookup, access.Target{}); err != nil {
			return err
		}
		c.render(q, http.StatusBadRequest, "audit_records", v)
		return nil
	}
	if err := q.regulator(access.HouseholdLookup, access.Target{Village: v.Village}); err != nil {
		return err
	}
	h, err := c.app.Households.Lookup(q.r.Context(), resource.Village(v.Village), id)
	switch {
	case err == nil:
		return c.audRecordsOf(q, &v, resource.Household(h.Village, h.ID), "")
	case fault.Is(err, fault.Invalid):
		v.IDError = text(q.lang, "aud.bad_id_number")
	case fault.Is(err, fault.NotFound):
		v.IDError = text(q.lang, "aud.no_id_number")
	default:
		return err
	}
	// The number typed is not echoed back into the page.
	c.render(q, http.StatusBadRequest, "audit_records", v)
	return nil
}

// audPoliciesView lists a bank product's policy versions.
type audPoliciesView struct {
	Product, ProductError string
	Versions              []*policies.Version
	Banks                 []*access.Bank
	Next                  template.URL
}

func (c *Console) audPolicies(q *request) error {
	qs := q.r.URL.Query()
	v := audPoliciesView{Product: strings.TrimSpace(qs.Get("product"))}
	var t access.Target
	if bank, _, err := policies.ParseParent(v.Product, "parent"); err == nil {
		t.Bank = bank
	}
	if err := q.regulator(access.PolicyRead, t); err != nil {
		return err
	}
	ctx := q.r.Context()
	banks, err := c.app.Banks(ctx)
	if err != nil {
		return err
	}
	for _, b := range banks {
		v.Banks = append(v.Banks, b)
	}
	slices.SortFunc(v.Banks, func(a, b *access.Bank) int { return strings.Compare(a.ID, b.ID) })
	if v.Product == "" {
		c.render(q, http.StatusOK, "audit_policies", v)
		return nil
	}
	page, err := c.app.Policies.List(ctx, v.Product, 0, qs.Get("page"))
	status := http.StatusOK
	switch {
	case err == nil:
		v.Versions = page.Versions
		if page.NextToken != "" {
			v.Next = template.URL(url.Values{"product": {v.Product}, "page": {page.NextToken}}.Encode())
		}
		if len(v.Versions) == 0 {
			v.ProductError, status = text(q.lang, "aud.no_policies"), http.StatusNotFound
		}
	case fault.Is(err, fault.Invalid):
		v.ProductError, status = text(q.lang, "aud.bad_product"), http.StatusBadRequest
	default:
		return err
	}
	c.render(q, status, "audit_policies", v)
	return nil
}

func (c *Console) audPolicy(q *request) error {
	name := resource.Product(q.r.PathValue("bank"), q.r.PathValue("product")) + "/policies/" + q.r.PathValue("version")
	if err := q.regulator(access.PolicyRead, access.Target{Bank: q.r.PathValue("bank")}); err != nil {
		return err
	}
	v, err := c.app.PolicyVersion(q.r.Context(), q.p, name)
	if fault.Is(err, fault.Invalid) {
		return fault.New(fault.NotFound, "POLICY_NOT_FOUND", "no policy %q", name)
	}
	if err != nil {
		return err
	}
	c.render(q, http.StatusOK, "audit_policy", v)
	return nil
}

// audExport streams the log as a download (POST: each export is an
// audit entry, which a link followed from another site must not write).
func (c *Console) audExport(q *request) error {
	if err := q.regulator(access.AuditExport, access.Target{}); err != nil {
		return err
	}
	format := q.r.PostFormValue("format")
	fromText := strings.TrimSpace(q.r.PostFormValue("from"))
	v := &audExplorerView{ExportFrom: fromText}
	var from uint64
	if fromText != "" {
		n, err := strconv.ParseUint(fromText, 10, 64)
		if err != nil {
			v.ExportFromError = text(q.lang, "aud.bad_from")
		}
		from = n
	}
	if v.ExportFromError == "" {
		err := c.app.AuditExport(q.r.Context(), q.p, from, 0, format, func(cp sqlstore.StoredCheckpoint) {
			h := q.w.Header()
			h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="audit-%d-%d.%s"`, from, cp.Size, format))
			if format == "csv" {
				h.Set("Content-Type", "text/csv; charset=utf-8")
			} else {
				h.Set("Content-Type", "application/jsonl")
			}
		}, q.w)
		var fe *fault.Error
		switch {
		case err == nil:
			return nil
		case errors.As(err, &fe) && fe.Kind == fault.Invalid:
			for _, x := range fe.Violations {
				if x.Field == "format" {
					v.ExportFormatError = text(q.lang, "aud.bad_format")
				} else {
					v.ExportFromError = text(q.lang, "aud.from_past")
				}
			}
		case q.w.Header().Get("Content-Disposition") != "":
			// Bytes may have gone: the download ends short, which its
			// verification shows; nothing else can be said now.
			c.opts.Log.Error("console audit export", "error", err)
			return nil
		default:
			return err
		}
	}
	// The explorer again, with the export's errors next to its fields.
	q.r.URL.RawQuery = ""
	if _, err := c.audExplorerFill(q, v); err != nil {
		return err
	}
	c.render(q, http.StatusBadRequest, "audit_explorer", v)
	return nil
}

// invalidField is the field of an Invalid fault's first violation.
func invalidField(err error) string {
	var fe *fault.Error
	if errors.As(err, &fe) && len(fe.Violations) > 0 {
		return fe.Violations[0].Field
	}
	return ""
}

// auditMessages are the words of the regulator's pages.
var auditMessages = map[string][2]string{
	"aud.title":              {"审计日志", "Audit log"},
	"aud.intro":              {"每一项数据变动、授信决定、银行查询和导出都记在这本日志里。日志是一棵默克尔树（RFC 6962），定期发布带签名的检查点；任何一条被改动，根哈希就对不上。", "Every change of data, credit decision, bank query and export is an entry of this log. The log is a Merkle tree (RFC 6962) with signed checkpoints published regularly: alter any entry and the root hash no longer matches."},
	"aud.latest":             {"最新检查点", "Latest checkpoint"},
	"aud.no_checkpoint":      {"还没有发布检查点。", "No checkpoint has been published yet."},
	"aud.size":               {"条目数", "Entries"},
	"aud.root":               {"根哈希", "Root hash"},
	"aud.published":          {"发布时间", "Published"},
	"aud.signature":          {"签名", "Signature"},
	"aud.sig_ok":             {"用日志公钥验证通过", "verified with the log's key"},
	"aud.sig_bad":            {"签名不对", "does not verify"},
	"aud.note":               {"签名检查点原文", "Signed checkpoint text"},
	"aud.vkey":               {"日志公钥（验证密钥）", "The log's public (verifier) key"},
	"aud.vkey_hint":          {"请与运营方书面提供的公钥核对，不要只信本页。", "Compare it with the key the operator gave you in writing, not only with this page."},
	"aud.history":            {"以往的检查点", "Earlier checkpoints"},
	"aud.history_none":       {"没有更早的检查点。", "No earlier checkpoint."},
	"aud.consistent":         {"与最新一致", "Extended by the latest"},
	"aud.consistent_yes":     {"一致（%d 个哈希的一致性证明）", "yes (consistency proof of %d hashes)"},
	"aud.consistent_no":      {"不一致：日志被改写过", "NO: the log was rewritten"},
	"aud.goto":               {"按编号查看条目", "Open an entry by its number"},
	"aud.entry_no":           {"条目编号", "Entry number"},
	"aud.open":               {"查看", "Open"},
	"aud.bad_entry":          {"条目编号是从 0 开始的整数。", "An entry number is a whole number from 0."},
	"aud.no_entry":           {"没有第 %d 条（或它还不在已签名的检查点里）。", "There is no entry %d (or it is not in a signed checkpoint yet)."},
	"aud.filter":             {"筛选条目", "Filter the entries"},
	"aud.actor":              {"操作人（编号）", "Actor (id)"},
	"aud.action":             {"操作", "Action"},
	"aud.subject":            {"对象（资源名，完全一致）", "Subject (resource name, exact)"},
	"aud.since":              {"从哪天起（YYYY-MM-DD）", "From day (YYYY-MM-DD)"},
	"aud.until":              {"到哪天止（含当天）", "To day (included)"},
	"aud.apply":              {"筛选", "Filter"},
	"aud.clear":              {"清除筛选", "Clear"},
	"aud.bad_day":            {"日期要写成 2026-03-01 这样。", "Write the day as 2026-03-01."},
	"aud.until_before":       {"截止日期不能早于起始日期。", "The last day cannot be before the first."},
	"aud.bad_page":           {"这个翻页链接已失效（筛选条件变了），请从第一页重新开始。", "This page link no longer works (the filter changed); start again from the first page."},
	"aud.entries":            {"条目", "Entries"},
	"aud.none":               {"没有符合条件的条目。", "No entry matches."},
	"aud.seq":                {"编号", "No."},
	"aud.time":               {"时间", "Time"},
	"aud.next":               {"下一页", "Next page"},
	"aud.export":             {"导出日志", "Export the log"},
	"aud.export_intro":       {"下载到最新检查点为止的全部条目，可在自己的电脑上用 sanzhi audit verify-export 离线核验。每次导出都会记入日志。", "Download every entry up to the latest checkpoint, to check offline with sanzhi audit verify-export. Each export is itself logged."},
	"aud.export_from":        {"从第几条开始（默认 0）", "From entry (0 by default)"},
	"aud.export_format":      {"格式", "Format"},
	"aud.export_jsonl":       {"JSON Lines（可离线核验）", "JSON Lines (verifiable offline)"},
	"aud.export_csv":         {"CSV（表格软件）", "CSV (spreadsheets)"},
	"aud.export_submit":      {"下载", "Download"},
	"aud.bad_from":           {"起始条目是从 0 开始的整数。", "The first entry is a whole number from 0."},
	"aud.from_past":          {"起始条目超过了最新检查点的条目数。", "The first entry is past the latest checkpoint's size."},
	"aud.bad_format":         {"请选择 JSON Lines 或 CSV。", "Choose JSON Lines or CSV."},
	"aud.entry_title":        {"审计条目 %d", "Audit entry %d"},
	"aud.fields":             {"内容", "What it records"},
	"aud.request_hash":       {"请求哈希", "Request hash"},
	"aud.result_hash":        {"结果哈希", "Result hash"},
	"aud.payload":            {"附加信息", "Payload"},
	"aud.leaf":               {"条目原文（规范 JSON，即被哈希的字节）", "The entry's bytes (canonical JSON, what is hashed)"},
	"aud.leaf_hash":          {"叶子哈希 SHA-256(0x00‖条目)", "Leaf hash SHA-256(0x00‖entry)"},
	"aud.proof":              {"包含证明", "Inclusion proof"},
	"aud.proof_intro":        {"从本条的叶子哈希出发，依次与下列哈希合并（SHA-256(0x01‖左‖右)），应得到检查点的根哈希。", "Starting from this entry's leaf hash, combine it with each hash below in turn (SHA-256(0x01‖left‖right)): the result must be the checkpoint's root hash."},
	"aud.proof_against":      {"证明所对的检查点：%d 条", "Proved against the checkpoint of %d entries"},
	"aud.proof_empty":        {"树只有这一条，根哈希就是叶子哈希，不需要中间哈希。", "The tree has this entry alone: the root is its leaf hash, no hashes in between."},
	"aud.check":              {"在本浏览器中核验", "Checked in this browser"},
	"aud.check_intro":        {"下面的结果由您的浏览器自己计算（WebCrypto），不依赖服务器的说法。", "The result below is computed by your browser itself (WebCrypto), not taken from the server."},
	"aud.noscript":           {"核验需要 JavaScript。也可以下载收据，用 sanzhi audit verify-receipt 在自己的电脑上核验。", "The check needs JavaScript. You can also download the receipt and check it on your own computer with sanzhi audit verify-receipt."},
	"aud.verified":           {"验证通过 VERIFIED", "VERIFIED"},
	"aud.failed":             {"验证失败 FAILED", "FAILED"},
	"aud.checking":           {"正在计算……", "Computing…"},
	"aud.no_crypto":          {"本浏览器不能计算（WebCrypto 只在 HTTPS 页面可用）。", "This browser cannot compute it (WebCrypto needs an HTTPS page)."},
	"aud.leaf_computed":      {"浏览器算出的叶子哈希", "Leaf hash computed by the browser"},
	"aud.root_computed":      {"浏览器沿证明算出的根哈希", "Root hash the browser computed along the proof"},
	"aud.root_signed":        {"签名检查点里的根哈希", "Root hash in the signed checkpoint"},
	"aud.proof_ok":           {"证明成立：算出的根哈希与签名检查点一致。", "The proof holds: the computed root equals the signed checkpoint's."},
	"aud.proof_bad":          {"证明不成立：算出的根哈希与签名检查点不一致。", "The proof does not hold: the computed root differs from the signed checkpoint's."},
	"aud.proof_malformed":    {"证明的格式不对（条目编号、条目数或哈希长度不符）。", "The proof is malformed (entry number, size or hash length do not fit)."},
	"aud.sig_checked":        {"检查点签名（Ed25519）：已用日志公钥验证。", "Checkpoint signature (Ed25519): verified with the log's key."},
	"aud.sig_failed":         {"检查点签名（Ed25519）：验证失败，或不是这把公钥签的。", "Checkpoint signature (Ed25519): does not verify, or not signed by this key."},
	"aud.sig_unsupported":    {"检查点签名（Ed25519）：本浏览器不支持，未能核验；请用 sanzhi audit verify-receipt 核验签名。", "Checkpoint signature (Ed25519): not supported by this browser, so not checked; check it with sanzhi audit verify-receipt."},
	"aud.receipt":            {"下载收据（JSON）", "Download the receipt (JSON)"},
	"aud.tamper_link":        {"演示：把证明改动一个字节再核验（测试）", "Demonstration: alter one byte of the proof and check again (a test)"},
	"aud.tampered":           {"测试演示：本页的证明被故意改动了一个字节（日志本身没有变）。核验应当失败。", "A test: this page's proof has one byte altered on purpose (the log itself is unchanged). The check must fail."},
	"aud.untampered":         {"回到未改动的证明", "Back to the genuine proof"},
	"aud.replay_title":       {"决策重放", "Decision replay"},
	"aud.replay_intro":       {"按决策当时锁定的政策版本和保存的输入重新计算一遍，逐项对比是否与当时的结果完全一致。每次重放都记入审计日志。", "Evaluate a decision again under the policy version it pinned and its stored input, and compare every field with what was decided. Each replay is logged."},
	"aud.decision":           {"决策名称（banks/…/products/…/decisions/…）", "Decision name (banks/…/products/…/decisions/…)"},
	"aud.replay_submit":      {"重放", "Replay"},
	"aud.decision_empty":     {"请填写决策名称。", "Enter the decision's name."},
	"aud.bad_decision":       {"决策名称的格式是 banks/银行/products/产品/decisions/编号。", "A decision name is banks/BANK/products/PRODUCT/decisions/ID."},
	"aud.no_decision":        {"没有这个决策。", "There is no such decision."},
	"aud.identical":          {"一致 IDENTICAL", "IDENTICAL"},
	"aud.different":          {"不一致 DIFFERENT", "DIFFERENT"},
	"aud.unreplayable":       {"无法重放 UNREPLAYABLE", "UNREPLAYABLE"},
	"aud.identical_says":     {"重新计算的每一项都与当时的决定相同。", "Every field recomputed equals what was decided."},
	"aud.diff":               {"不同的项", "Fields that differ"},
	"aud.field":              {"项目", "Field"},
	"aud.stored":             {"当时", "Decided"},
	"aud.recomputed":         {"重新计算", "Recomputed"},
	"aud.reason":             {"原因", "Reason"},
	"aud.replayed":           {"这是人工调整的决定；重放的是它所替代的自动决定：", "This is an override: the automated decision it replaced is replayed:"},
	"aud.policy_version":     {"政策版本", "Policy version"},
	"aud.stored_output":      {"当时的输出哈希", "Decided output hash"},
	"aud.output":             {"重新计算的输出哈希", "Recomputed output hash"},
	"aud.policy_hash":        {"政策哈希", "Policy hash"},
	"aud.input_hash":         {"输入哈希", "Input hash"},
	"aud.field.policy_hash":  {"政策哈希", "policy hash"},
	"aud.field.input_hash":   {"输入哈希", "input hash"},
	"aud.field.eligible":     {"是否准入", "eligible"},
	"aud.field.score":        {"评分", "score"},
	"aud.field.grade":        {"等级", "grade"},
	"aud.field.limit":        {"额度（元）", "limit (yuan)"},
	"aud.field.rate":         {"利率", "rate"},
	"aud.field.exposure_cap": {"跨行总额上限（元）", "total exposure cap (yuan)"},
	"aud.field.valid_until":  {"有效期至", "valid until"},
	"aud.field.knock_outs":   {"否决项", "knock-outs"},
	"aud.field.declines":     {"拒绝原因代码", "decline codes"},
	"aud.records_title":      {"农户的查询记录", "A household's query records"},
	"aud.records_intro":      {"哪家银行、谁、为什么、依据什么查看过这户的数据（来自审计日志）。", "Which bank looked at the household's data, who, why and on what lawful basis (from the audit log)."},
	"aud.by_name":            {"按农户资源名查", "By the household's resource name"},
	"aud.household":          {"农户资源名（villages/…/households/…）", "Household resource name (villages/…/households/…)"},
	"aud.by_id":              {"按户主身份证号查", "By the head's ID card number"},
	"aud.village":            {"村代码（12位）", "Village code (12 digits)"},
	"aud.id_number":          {"户主身份证号", "Head's ID card number"},
	"aud.find":               {"查找", "Find"},
	"aud.bad_household":      {"资源名的格式是 villages/村代码/households/编号。", "A household name is villages/VILLAGE/households/ID."},
	"aud.no_household":       {"没有这一户。", "There is no such household."},
	"aud.bad_village":        {"村代码是12位数字。", "A village code is 12 digits."},
	"aud.id_empty":           {"请填写户主身份证号。", "Enter the head's ID card number."},
	"aud.bad_id_number":      {"身份证号不对，请核对18位号码和最后一位校验码。", "That ID card number is not valid; check the 18 characters and the check digit."},
	"aud.no_id_number":       {"这个村没有以此人为户主的农户。", "No household of this village is headed by this person."},
	"aud.records":            {"查询记录", "Query records"},
	"aud.records_none":       {"没有查询记录。", "No query records."},
	"aud.bank":               {"银行", "Bank"},
	"aud.what":               {"做了什么", "What"},
	"aud.purpose":            {"用途", "Purpose"},
	"aud.basis":              {"依据", "Lawful basis"},
	"aud.outcome":            {"结果", "Outcome"},
	"aud.policies_title":     {"授信政策版本", "Credit policy versions"},
	"aud.policies_intro":     {"查看银行产品的各个政策版本、审批和启用记录，以及日志中的模拟测算记录（只读）。", "Read a bank product's policy versions, who approved and activated them, and the simulations the log holds (read-only)."},
	"aud.product":            {"产品（banks/银行/products/产品）", "Product (banks/BANK/products/PRODUCT)"},
	"aud.banks":              {"银行：", "Banks:"},
	"aud.bad_product":        {"产品名称的格式是 banks/银行/products/产品。", "A product name is banks/BANK/products/PRODUCT."},
	"aud.no_policies":        {"这个产品没有政策版本。", "This product has no policy versions."},
	"aud.version":            {"版本", "Version"},
	"aud.state":              {"状态", "State"},
	"aud.effective":          {"生效日期", "Effective"},
	"aud.uploaded":           {"上传", "Uploaded"},
	"aud.approved":           {"审批", "Approved"},
	"aud.activated":          {"启用", "Activated"},
	"aud.content_hash":       {"内容哈希", "Content hash"},
	"aud.document":           {"政策原文", "The policy document"},
	"aud.simulations":        {"模拟测算记录", "Simulations on record"},
	"aud.simulations_none":   {"日志中没有这个版本的模拟测算。", "The log holds no simulation of this version."},
	"aud.sim_households":     {"户数", "Households"},
	"aud.sim_view":           {"视图", "View"},
	"aud.sim_as_of":          {"测算日", "As of"},
	"aud.sim_against":        {"对比版本", "Compared with"},
	"aud.sim_output":         {"交付内容的 SHA-256", "SHA-256 of what was delivered"},
	"aud.back":               {"返回审计日志", "Back to the audit log"},
}
