package console

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/access/signin"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/resource"
)

func (c *Console) routes() {
	c.page("GET "+Prefix+"{$}", false, c.home)
	c.page("GET "+Prefix+"signin", true, c.signinForm)
	c.page("POST "+Prefix+"signin", true, c.signin)
	c.page("POST "+Prefix+"signin/code", true, c.signinCode)
	c.page("POST "+Prefix+"signout", false, c.signout)
	c.page("GET "+Prefix+"password", false, c.passwordForm)
	c.page("POST "+Prefix+"password", false, c.password)
	c.page("GET "+Prefix+"me", false, c.card)
	c.page("GET "+Prefix+"villages/{village}/board", false, c.board)
	c.householdRoutes()
	c.clerkRoutes()
	c.importRoutes()
	c.reviewerRoutes()
	c.photoRoutes()
	c.policiesRoutes()
	c.auditRoutes()
	c.backtestRoutes()
	c.customerRoutes()
	c.bankLinesRoutes()
	c.shopRoutes()
	c.dividendRoutes()
}

// home sends each person where their work is.
func (c *Console) home(q *request) error {
	switch q.p.Role {
	case access.Household:
		http.Redirect(q.w, q.r, Prefix+"me", http.StatusSeeOther)
	case access.VillageClerk, access.VillageReviewer:
		http.Redirect(q.w, q.r, Prefix+"villages/"+q.p.Scope.Villages[0]+"/board", http.StatusSeeOther)
	case access.BankOfficer:
		http.Redirect(q.w, q.r, Prefix+"banks/"+q.p.Scope.Bank+"/customers", http.StatusSeeOther)
	case access.BankRisk:
		http.Redirect(q.w, q.r, Prefix+"banks/"+q.p.Scope.Bank+"/policies", http.StatusSeeOther)
	case access.Regulator:
		http.Redirect(q.w, q.r, Prefix+"audit", http.StatusSeeOther)
	default:
		c.render(q, http.StatusOK, "home", nil)
	}
	return nil
}

type signinView struct {
	Username, Error string
	Code, CodeError string
	// Filled: Code came from the link on the slip's QR code.
	Filled bool
}

func (c *Console) signinForm(q *request) error {
	if q.p != nil {
		http.Redirect(q.w, q.r, Prefix, http.StatusSeeOther)
		return nil
	}
	v := signinView{}
	// The slip's QR code links here with the code: it fills the field,
	// and the household still signs in itself (no sign-in by a GET, which
	// a prefetch or a link preview could make). Anything that is not a
	// code's shape is not echoed back.
	if code := q.r.URL.Query().Get("code"); code != "" {
		if _, ok := signin.NormaliseCode(code); ok {
			v.Code, v.Filled = strings.ToUpper(code), true
		}
	}
	c.render(q, http.StatusOK, "signin", v)
	return nil
}

// client is what throttling counts failures by besides the name.
func client(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return host
}

func (c *Console) signin(q *request) error {
	v := &signinView{Username: strings.TrimSpace(q.r.PostFormValue("username"))}
	in, err := c.app.SignIn.SignIn(q.r.Context(), v.Username, q.r.PostFormValue("password"), client(q.r))
	return c.signedIn(q, in, err, v, &v.Error, "signin.failed")
}

func (c *Console) signinCode(q *request) error {
	v := &signinView{Code: strings.ToUpper(strings.TrimSpace(q.r.PostFormValue("code")))}
	in, err := c.app.SignIn.SignInCode(q.r.Context(), v.Code, client(q.r))
	return c.signedIn(q, in, err, v, &v.CodeError, "signin.code_failed")
}

// signedIn starts the session of a sign-in that succeeded, or shows the
// form again with why it did not next to the field (*msg): wrong, or
// locked for too many failures.
func (c *Console) signedIn(q *request, in *signin.SignedIn, err error, v *signinView, msg *string, wrong string) error {
	switch {
	case err == nil:
		c.setSession(q.w, in.Token)
		http.Redirect(q.w, q.r, Prefix, http.StatusSeeOther)
		return nil
	case fault.Is(err, fault.ResourceExhausted):
		*msg = text(q.lang, "signin.throttled")
	case fault.Is(err, fault.Unauthenticated):
		*msg = text(q.lang, wrong)
	default:
		return err
	}
	c.render(q, http.StatusUnauthorized, "signin", *v)
	return nil
}

func (c *Console) signout(q *request) error {
	if ck, err := q.r.Cookie(sessionCookie); err == nil {
		if err := c.app.SignIn.SignOut(q.r.Context(), ck.Value); err != nil && !fault.Is(err, fault.Unauthenticated) {
			return err
		}
	}
	c.clearSession(q.w)
	http.Redirect(q.w, q.r, Prefix+"signin", http.StatusSeeOther)
	return nil
}

// card is the signed-in household's 成绩单.
func (c *Console) card(q *request) error {
	if q.p.Role != access.Household {
		return fault.New(fault.PermissionDenied, "NOT_A_HOUSEHOLD", "only a household has a report card of its own")
	}
	if err := q.authorise(access.PointsRead, access.Target{Village: q.village, Household: q.p.Scope.Household}); err != nil {
		return err
	}
	name := resource.Household(q.village, q.p.Scope.Household)
	card, err := c.app.ReportCard(q.r.Context(), name)
	if err != nil {
		return err
	}
	c.render(q, http.StatusOK, "card", card)
	return nil
}

// board is a village's 公示 board, printable on A4 for the notice wall.
func (c *Console) board(q *request) error {
	village, err := villageOf(q)
	if err != nil {
		return err
	}
	if err := q.authorise(access.NoticeBoardRead, access.Target{Village: village}); err != nil {
		return err
	}
	if err := c.app.Evidence.CheckVillager(q.r.Context(), q.p, village); err != nil {
		return err
	}
	b, err := c.app.NoticeBoard(q.r.Context(), village)
	if err != nil {
		return err
	}
	body, err := c.boardBody(q.lang, village, b)
	if err != nil {
		return err
	}
	c.render(q, http.StatusOK, "board", body)
	return nil
}

// boardBody renders board b's body in l, once: the app shares one built
// board between its readers, and rendering its hundreds of rows was then
// most of a reader's cost. A village keeps only the body of its latest
// board in each language.
func (c *Console) boardBody(l lang, village string, b *app.NoticeBoard) (template.HTML, error) {
	key := village + "|" + string(l)
	c.bodies.Lock()
	hit, ok := c.bodies.m[key]
	c.bodies.Unlock()
	if ok && hit.board == b {
		return hit.html, nil
	}
	var buf bytes.Buffer
	if err := c.pages["board"].ExecuteTemplate(&buf, "board_body", view{Lang: l, Data: b}); err != nil {
		return "", fmt.Errorf("rendering the board: %w", err)
	}
	// The buffer holds html/template's escaped output.
	out := template.HTML(buf.String())
	c.bodies.Lock()
	c.bodies.m[key] = renderedBoard{board: b, html: out}
	c.bodies.Unlock()
	return out, nil
}

// renderedBoard is a board's body as rendered for one language.
type renderedBoard struct {
	board *app.NoticeBoard
	html  template.HTML
}

// passwordView is the change-password form: errors sit next to their field.
type passwordView struct {
	MustChange   bool
	OldError     string
	NewError     string
	ConfirmError string
	Done         bool
}

func (c *Console) passwordForm(q *request) error {
	c.render(q, http.StatusOK, "password", passwordView{MustChange: q.mustChange})
	return nil
}

func (c *Console) password(q *request) error {
	v := passwordView{MustChange: q.mustChange}
	old, pw, confirm := q.r.PostFormValue("old_password"), q.r.PostFormValue("password"), q.r.PostFormValue("confirm")
	if pw != confirm {
		v.ConfirmError = text(q.lang, "password.mismatch")
		c.render(q, http.StatusBadRequest, "password", v)
		return nil
	}
	ck, _ := q.r.Cookie(sessionCookie) // present: the page needs a session
	err := c.app.SignIn.ChangePassword(q.r.Context(), ck.Value, old, pw)
	var f *fault.Error
	switch {
	case err == nil:
		http.Redirect(q.w, q.r, Prefix, http.StatusSeeOther)
		return nil
	case fault.Is(err, fault.ResourceExhausted):
		v.OldError = text(q.lang, "signin.throttled")
	case errors.As(err, &f) && f.Kind == fault.Invalid:
		for _, fv := range f.Violations {
			msg := fv.Description
			if q.lang == zh && fv.ZH != "" {
				msg = fv.ZH
			}
			if m, ok := signin.Messages[fv.Reason]; ok {
				msg = m.EN
				if q.lang == zh {
					msg = m.ZH
				}
			}
			if fv.Field == "old_password" {
				v.OldError = msg
			} else {
				v.NewError = msg
			}
		}
	default:
		return err
	}
	c.render(q, http.StatusBadRequest, "password", v)
	return nil
}

// villageOf reads the page's village code; a malformed one is no page
// (NotFound).
func villageOf(q *request) (string, error) {
	village := q.r.PathValue("village")
	if _, err := idnum.ParseVillageCode(village); err != nil {
		return "", fault.New(fault.NotFound, "VILLAGE_NOT_FOUND", "no village %q", village)
	}
	return village, nil
}
