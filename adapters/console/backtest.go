package console

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/modelreport"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/resource"
)

// The back-test page (issue 16 §3): a policy version's back-testing,
// stability and fairness report (modelreport's fragment with its charts)
// and its CSV, for the bank's risk managers (from the version's page) and
// the regulators (from the audit pages' version). Each back-test is an
// audit entry, so it runs on a POST carrying the form's token, never on a
// link followed from elsewhere. The app decides who may see what.

func (c *Console) backtestRoutes() {
	c.page("POST "+Prefix+"banks/{bank}/policies/{product}/{version}/backtest", false, c.backtest(false))
	c.page("POST "+Prefix+"audit/policies/{bank}/{product}/{version}/backtest", false, c.backtest(true))
}

// backtestView is the page: the form (as of, with its error) and, once
// run, the report.
type backtestView struct {
	Name, Back, Action string
	AsOf               string
	AsOfErr            string
	Report             template.HTML
	Decisions          int64
	Full               bool
}

func (c *Console) backtest(regulator bool) handler {
	return func(q *request) error {
		bank := q.r.PathValue("bank")
		if !bankSlug.MatchString(bank) {
			return fault.New(fault.NotFound, "BANK_NOT_FOUND", "no bank %q", bank)
		}
		version := q.r.PathValue("version")
		name := resource.Product(bank, q.r.PathValue("product")) + "/policies/" + version
		v := backtestView{Name: name, AsOf: strings.TrimSpace(q.r.PostFormValue("as_of"))}
		if regulator {
			if err := q.regulator(access.PolicyBacktest, access.Target{Bank: bank}); err != nil {
				return err
			}
			v.Back = Prefix + "audit/policies/" + bank + "/" + q.r.PathValue("product") + "/" + version
		} else {
			if _, err := bankOf(q, access.PolicyBacktest); err != nil {
				return err
			}
			v.Back = Prefix + "banks/" + bank + "/policies/" + q.r.PathValue("product") + "/" + version
		}
		v.Action = v.Back + "/backtest"
		csv := q.r.PostFormValue("format") == "csv"
		format := "html"
		if csv {
			format = "csv"
		}
		res, err := c.app.Backtester.Backtest(access.WithPrincipal(q.r.Context(), q.p), app.BacktestRequest{
			Name: name, AsOf: v.AsOf, Format: format, English: q.lang == en})
		if fault.Is(err, fault.Invalid) {
			var f *fault.Error
			if errors.As(err, &f) && len(f.Violations) > 0 && f.Violations[0].Field == "as_of" {
				v.AsOfErr = text(q.lang, "bt.bad_as_of")
				c.render(q, http.StatusBadRequest, "backtest", v)
				return nil
			}
			return fault.New(fault.NotFound, "POLICY_NOT_FOUND", "no policy %q", name)
		}
		if err != nil {
			return err
		}
		if csv {
			q.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			q.w.Header().Set("Content-Disposition", `attachment; filename="backtest-`+bank+"-"+q.r.PathValue("product")+"-v"+version+"-"+string(res.Report.AsOf)+`.csv"`)
			_, err := q.w.Write(res.Rendered)
			return err
		}
		v.AsOf, v.Decisions, v.Full = string(res.Report.AsOf), res.Report.Decisions, res.Full
		var b bytes.Buffer
		b.WriteString(string(modelreport.HTML(res.Report, q.lang == en)))
		v.Report = template.HTML(b.String()) // modelreport escapes every text it writes
		c.render(q, http.StatusOK, "backtest", v)
		return nil
	}
}

func init() {
	for k, m := range map[string][2]string{
		"bt.title":     {"回测报告", "Back-test report"},
		"bt.run":       {"回测", "Back-test"},
		"bt.hint":      {"按这一版政策文件中的不良定义，用截至指定日期的授信决策和贷款状态计算区分度（KS、AUC、Gini）、分等级坏账率与校准、PSI 稳定性和公平性。每次回测记入审计日志。", "Measure discrimination (KS, AUC, Gini), bad rate and calibration by grade, stability (PSI) and fairness from this version's decisions and loan statuses up to a day, by the bad definition in the version's document. Each back-test is recorded in the audit log."},
		"bt.as_of":     {"截至日期（留空为今天）", "As of (empty: today)"},
		"bt.bad_as_of": {"请填写不晚于今天的日期，格式 YYYY-MM-DD。", "Give a date no later than today, as YYYY-MM-DD."},
		"bt.csv":       {"下载 CSV", "Download CSV"},
		"bt.back":      {"返回政策版本", "Back to the policy version"},
		"bt.pooled":    {"少于 5 笔决策的公平性分组已合并显示。", "Fairness groups of fewer than 5 decisions are shown pooled."},
	} {
		messages[k] = m
	}
}
