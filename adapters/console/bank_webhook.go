package console

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/fault"
)

// webhookView is the bank's webhook page. Secret is set only in the
// answer to setting the URL: the page shows it that once, and no later
// page can (only its sealed form is stored).
type webhookView struct {
	*app.BankWebhook
	URL       string
	URLError  string
	Secret    string
	Done      string
	ReplaySeq int64
	ReplayErr string
}

// webhookBank reads the bank and asks for reading and setting its webhook
// (the risk manager's page) and for each of extra.
func webhookBank(q *request, extra ...access.Action) (string, error) {
	return bankOf(q, append([]access.Action{access.WebhookRead, access.WebhookSet}, extra...)...)
}

func (c *Console) webhookPage(q *request, status int, bank string, v webhookView) error {
	w, err := c.app.BankWebhook(q.r.Context(), bank)
	if err != nil {
		return err
	}
	v.BankWebhook = w
	if v.URL == "" && w.Endpoint != nil {
		v.URL = w.Endpoint.URL
	}
	c.render(q, status, "bank_webhook", v)
	return nil
}

func (c *Console) webhook(q *request) error {
	bank, err := webhookBank(q)
	if err != nil {
		return err
	}
	v := webhookView{}
	if q.r.URL.Query().Get("done") == "replayed" {
		v.Done = text(q.lang, "wh.done_replayed")
	}
	return c.webhookPage(q, http.StatusOK, bank, v)
}

// webhookSet points the webhook at the URL with a new secret and shows the
// secret once; a URL the dispatcher refuses is said next to its field.
func (c *Console) webhookSet(q *request) error {
	bank, err := webhookBank(q)
	if err != nil {
		return err
	}
	v := webhookView{URL: strings.TrimSpace(q.r.PostFormValue("url"))}
	secret, err := c.app.SetWebhook(q.r.Context(), q.p, bank, v.URL)
	var f *fault.Error
	switch {
	case err == nil:
		v.Secret, v.Done = secret, text(q.lang, "wh.done_set")
		return c.webhookPage(q, http.StatusOK, bank, v)
	case errors.As(err, &f) && f.Kind == fault.Invalid:
		v.URLError = text(q.lang, "wh.bad_url")
		if len(f.Violations) > 0 {
			v.URLError += sep(q.lang, f.Violations[0].Description)
		}
		return c.webhookPage(q, http.StatusBadRequest, bank, v)
	}
	return err
}

// sep appends a detail in brackets of the page's language.
func sep(l lang, detail string) string {
	if l == zh {
		return "（" + detail + "）"
	}
	return " (" + detail + ")"
}

// webhookReplay sends a dead letter again; a failed delivery is said
// beside its row and changes nothing.
func (c *Console) webhookReplay(q *request) error {
	bank, err := webhookBank(q, access.WebhookReplay)
	if err != nil {
		return err
	}
	seq, err := strconv.ParseInt(q.r.PathValue("seq"), 10, 64)
	if err != nil || seq < 1 {
		return fault.New(fault.NotFound, "DEAD_LETTER_NOT_FOUND", "no dead letter %q", q.r.PathValue("seq"))
	}
	_, err = c.app.ReplayDeadLetter(q.r.Context(), q.p, bank, seq)
	var f *fault.Error
	switch {
	case err == nil:
		http.Redirect(q.w, q.r, Prefix+"banks/"+bank+"/webhook?done=replayed", http.StatusSeeOther)
		return nil
	case errors.As(err, &f) && (f.Kind == fault.Unavailable || f.Kind == fault.FailedPrecondition):
		return c.webhookPage(q, http.StatusConflict, bank, webhookView{ReplaySeq: seq,
			ReplayErr: text(q.lang, "wh.replay_failed") + sep(q.lang, f.Message)})
	}
	return err
}
