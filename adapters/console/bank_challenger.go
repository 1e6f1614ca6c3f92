package console

import (
	"net/http"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/policies"
)

// The challenger on the risk manager's policy list (docs/MODEL-RISK.md,
// champion and challenger): each product's current challenger with its
// shadow counts and a stop button, and a start button beside each
// approved version. The rules are scoring/policies' (challenger.go).

func (c *Console) challengerRoutes() {
	b := Prefix + "banks/{bank}/policies/{product}/"
	c.page("POST "+b+"{version}/challenger", false, c.challengerStart)
	c.page("POST "+b+"challenger/stop", false, c.challengerStop)
}

// challengers reads each product's current challenger (none: absent).
func (c *Console) challengers(q *request, bank string, products []string) (map[string]*policies.ChallengerView, error) {
	out := map[string]*policies.ChallengerView{}
	for _, p := range products {
		v, err := c.app.Policies.GetChallenger(q.r.Context(), policies.ProductName(bank, p))
		switch {
		case fault.Is(err, fault.NotFound):
			continue
		case err != nil:
			return nil, err
		}
		out[p] = v
	}
	return out, nil
}

func (c *Console) challengerStart(q *request) error {
	bank, err := riskBank(q, access.PolicyChallenge)
	if err != nil {
		return err
	}
	name, err := policyName(q, bank)
	if err != nil {
		return err
	}
	_, err = c.app.Policies.StartChallenger(q.r.Context(), q.p, name)
	return c.challengerDone(q, bank, "challenger_started", err)
}

func (c *Console) challengerStop(q *request) error {
	bank, err := riskBank(q, access.PolicyChallenge)
	if err != nil {
		return err
	}
	product := q.r.PathValue("product")
	if _, _, err := policies.ParseParent(policies.ProductName(bank, product), "parent"); err != nil {
		return fault.New(fault.NotFound, "POLICY_NOT_FOUND", "no product %q", product)
	}
	_, err = c.app.Policies.StopChallenger(q.r.Context(), q.p, policies.ProductName(bank, product))
	return c.challengerDone(q, bank, "challenger_stopped", err)
}

// challengerDone goes back to the list, saying what was done; a refusal
// is shown on the list in words.
func (c *Console) challengerDone(q *request, bank, done string, err error) error {
	if err == nil {
		http.Redirect(q.w, q.r, Prefix+"banks/"+bank+"/policies?done="+done, http.StatusSeeOther)
		return nil
	}
	msg, ok := refusal(q.lang, err)
	if !ok {
		return err
	}
	return c.renderPolicies(q, bank, http.StatusConflict, policiesView{Refused: msg})
}

func init() { addMessages(challengerMessages) }

var challengerMessages = map[string][2]string{
	"pol.challenger":                      {"挑战者版本", "Challenger"},
	"pol.challenger_intro":                {"挑战者版本与使用中的版本并行评估同一笔申请，只记录结果，不改变任何授信额度、答复或通知，因此无须第二人批准。", "The challenger is evaluated beside the active version on every assessment; its results are only recorded and change no line, reply or notification, so no second person is needed."},
	"pol.challenger_none":                 {"这个产品目前没有挑战者版本。", "This product has no challenger."},
	"pol.challenger_current":              {"第 %d 版是挑战者，自 %s 起，由 %s 设定。", "Version %d is the challenger since %s, started by %s."},
	"pol.challenger_counts":               {"影子决策 %d 笔；挑战者会批准而现行版本拒绝的 %d 笔，反之 %d 笔。", "%d shadow decisions; the challenger would approve %d the active version declined, and decline %d it approved."},
	"pol.challenger_start":                {"设为挑战者", "Make challenger"},
	"pol.challenger_stop":                 {"停止挑战者", "Stop the challenger"},
	"pol.done_challenger_started":         {"已设为挑战者：之后的每次评估都会同时按它评估并记录。", "Challenger started: every assessment from now on also evaluates it and records the result."},
	"pol.done_challenger_stopped":         {"挑战者已停止；已记录的影子决策保留。", "Challenger stopped; its shadow decisions are kept."},
	"pol.refused_challenger_not_approved": {"只有已批准、未启用的版本才能设为挑战者（草稿、使用中或已替换的版本都不行）。", "Only an approved version that is not active may be the challenger (not a draft, the active version or a superseded one)."},
	"pol.refused_challenger_exists":       {"这个产品已经有挑战者版本，请先停止它。", "This product already has a challenger; stop it first."},
	"pol.refused_no_challenger":           {"这个产品没有挑战者版本可停止。", "This product has no challenger to stop."},
}
