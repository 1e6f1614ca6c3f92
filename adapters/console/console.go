// Package console is sanzhi's web console: server-rendered pages for
// village committees and households, served by sanzhid under /console/.
// It is a third transport beside gRPC and the HTTP gateway: each page
// asks the one authorisation policy (access.Authorise) and calls the
// services app.New built, and only renders what they return. Pages are
// zh-CN first with an English switch, work on a 360 px phone, and print
// on A4 where people print them (the board, the report card).
package console

import (
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/points"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is where the console is served.
const Prefix = "/console/"

const (
	sessionCookie = "sz_session"
	langCookie    = "sz_lang"
	preCookie     = "sz_form"
)

// Options configure the console.
type Options struct {
	// Secure marks cookies Secure: set when served over TLS.
	Secure bool
	Log    *slog.Logger
}

// Console serves the pages.
type Console struct {
	app   *app.App
	opts  Options
	pages map[string]*template.Template
	mux   *http.ServeMux
	// uploads are the pages taking a file (see upload).
	uploads map[string]upload
	// pending keeps checked evidence files for their import.
	pending pending
	// bodies are the villages' rendered board bodies (boardBody).
	bodies struct {
		sync.Mutex
		m map[string]renderedBoard
	}
}

// New returns the console over the services of a; people sign in through
// a.SignIn (access/signin).
func New(a *app.App, opts Options) (*Console, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	c := &Console{app: a, opts: opts, pages: map[string]*template.Template{}, mux: http.NewServeMux(),
		uploads: map[string]upload{}, pending: pending{m: map[string]*checked{}}}
	c.bodies.m = map[string]renderedBoard{}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, err
		}
		c.pages[name] = t
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	c.mux.Handle("GET "+Prefix+"static/", http.StripPrefix(Prefix+"static/", cacheForever(http.FileServerFS(static))))
	c.routes()
	return c, nil
}

// ServeHTTP applies the headers every page carries, then routes.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// No inline script or style, no framing, no sniffing, no referrer:
	// a page never leaks where a farmer was to another site.
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	if r.URL.Query().Get("lang") != "" {
		l := zh
		if r.URL.Query().Get("lang") == "en" {
			l = en
		}
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: string(l), Path: Prefix, MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: c.opts.Secure, SameSite: http.SameSiteLaxMode})
		q := r.URL.Query()
		q.Del("lang")
		u := *r.URL
		u.RawQuery = q.Encode()
		http.Redirect(w, r, c.readable(r, &u), http.StatusSeeOther)
		return
	}
	c.mux.ServeHTTP(w, r)
}

// readable returns u, or the nearest page above it that a GET serves: the
// language link of a page that answered a form (a simulation, a
// back-test, a receipt) points at the form's POST-only address, and
// switching language there must land on the page the form came from,
// not on "method not allowed".
func (c *Console) readable(r *http.Request, u *url.URL) string {
	for p := u.Path; strings.HasPrefix(p, Prefix); p = p[:strings.LastIndex(p, "/")] {
		try := url.URL{Path: p}
		if _, pattern := c.mux.Handler(&http.Request{Method: http.MethodGet, URL: &try, Host: r.Host}); pattern != "" {
			if p == u.Path {
				return u.RequestURI()
			}
			return p
		}
	}
	return Prefix
}

func cacheForever(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		h.ServeHTTP(w, r)
	})
}

// request is one page request after its session was read.
type request struct {
	w    http.ResponseWriter
	r    *http.Request
	lang lang
	p    *access.Principal // nil when not signed in
	csrf string
	// village is a household session's village (a household principal
	// is scoped by household id alone).
	village string
	// mustChange: a password an operator set must be replaced before
	// anything else.
	mustChange bool
}

func (c *Console) langOf(r *http.Request) lang {
	if ck, err := r.Cookie(langCookie); err == nil && ck.Value == string(en) {
		return en
	}
	return zh
}

// handler wraps a page: it reads the session, refuses a form without its
// CSRF token, and renders whatever error the page returns.
type handler func(q *request) error

// public pages need no session; the others redirect to sign-in without one.
func (c *Console) page(pattern string, public bool, h handler) {
	c.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		q := &request{w: w, r: r, lang: c.langOf(r)}
		w.Header().Set("Cache-Control", "no-store")
		if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" {
			sess, p, err := c.app.SignIn.Session(r.Context(), ck.Value)
			switch {
			case err == nil:
				q.p, q.csrf, q.village, q.mustChange = p, sess.CSRF, sess.Village, sess.MustChangePassword
			case fault.Is(err, fault.Unauthenticated):
				c.clearSession(w)
			default:
				c.fail(q, err)
				return
			}
		}
		if !public && q.p == nil {
			http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
			return
		}
		if q.p == nil {
			// Before sign-in the forms carry a token bound to a cookie of
			// their own (double submit), so another site cannot sign a
			// browser in to an account of its choosing.
			q.csrf = c.preSession(w, r)
		}
		if u, ok := c.uploads[pattern]; ok && r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, u.limit)
			// The whole body fits in memory (no temporary files). A plain
			// form (not multipart) is read as one and goes on to its
			// token check: the page then finds no file.
			if err := r.ParseMultipartForm(u.limit); err != nil && !errors.Is(err, http.ErrNotMultipart) {
				// Too big, or unreadable: nothing of it was read (its
				// token neither) and nothing is written; the page says why.
				if err := u.refused(q, err); err != nil {
					c.fail(q, err)
				}
				return
			}
		}
		if r.Method == http.MethodPost {
			// Every form carries its token (a multipart form too:
			// PostFormValue reads either kind).
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(q.csrf)) != 1 {
				c.render(q, http.StatusForbidden, "error", errorPage{Message: text(q.lang, "err.csrf")})
				return
			}
		}
		if q.mustChange && r.URL.Path != Prefix+"password" && r.URL.Path != Prefix+"signout" {
			http.Redirect(w, r, Prefix+"password", http.StatusSeeOther)
			return
		}
		if err := h(q); err != nil {
			c.fail(q, err)
		}
	})
}

// upload is a page taking a file: its body is bounded by limit before
// anything of it (the CSRF token included) is read, and refused renders
// the page when the body cannot be read; it must write nothing.
type upload struct {
	limit   int64
	refused func(q *request, err error) error
}

// upload registers a signed-in page taking a multipart form of at most
// limit bytes.
func (c *Console) upload(pattern string, limit int64, h handler, refused func(*request, error) error) {
	c.uploads[pattern] = upload{limit: limit, refused: refused}
	c.page(pattern, false, h)
}

// authorise asks the one policy, as the gRPC chain does for an RPC.
func (q *request) authorise(a access.Action, t access.Target) error {
	return access.Authorise(q.p, a, t)
}

type errorPage struct{ Message string }

// fail renders err for a person: what they may do about it, never the
// cause of an internal error (which is logged).
func (c *Console) fail(q *request, err error) {
	switch fault.KindOf(err) {
	case fault.Unauthenticated:
		http.Redirect(q.w, q.r, Prefix+"signin", http.StatusSeeOther)
	case fault.PermissionDenied:
		c.render(q, http.StatusForbidden, "error", errorPage{Message: text(q.lang, "err.forbidden")})
	case fault.NotFound:
		c.render(q, http.StatusNotFound, "error", errorPage{Message: text(q.lang, "err.not_found")})
	default:
		c.opts.Log.Error("console page", "path", q.r.URL.Path, "error", err)
		c.render(q, http.StatusInternalServerError, "error", errorPage{Message: text(q.lang, "err.internal")})
	}
}

// view is what every template gets.
type view struct {
	Lang  lang
	P     *access.Principal
	CSRF  string
	Path  string
	Title string
	Data  any
}

func (c *Console) render(q *request, status int, name string, data any) {
	t, ok := c.pages[name]
	if !ok {
		c.opts.Log.Error("console: no template", "name", name)
		http.Error(q.w, "internal error", http.StatusInternalServerError)
		return
	}
	q.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	q.w.WriteHeader(status)
	v := view{Lang: q.lang, P: q.p, CSRF: q.csrf, Path: q.r.URL.Path, Data: data}
	if err := t.ExecuteTemplate(q.w, "layout", v); err != nil {
		c.opts.Log.Error("console: rendering", "name", name, "error", err)
	}
}

// preSession returns the browser's pre-sign-in form token, setting one
// when it has none.
func (c *Console) preSession(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(preCookie); err == nil && len(ck.Value) == 43 {
		return ck.Value
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: preCookie, Value: tok, Path: Prefix, HttpOnly: true,
		Secure: c.opts.Secure, SameSite: http.SameSiteStrictMode})
	return tok
}

func (c *Console) setSession(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: Prefix, HttpOnly: true,
		Secure: c.opts.Secure, SameSite: http.SameSiteLaxMode})
}

func (c *Console) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: Prefix, MaxAge: -1, HttpOnly: true,
		Secure: c.opts.Secure, SameSite: http.SameSiteLaxMode})
}

var funcs = template.FuncMap{
	"t": func(l lang, key string, args ...any) string { return text(l, key, args...) },
	"label": func(l lang, lb points.Label) string {
		if l == en && lb.EN != "" {
			return lb.EN
		}
		return lb.ZH
	},
	"points": func(d decimal.Decimal) string {
		if d.IsPositive() {
			return "+" + d.String()
		}
		return d.String()
	},
	"num":  func(d decimal.Decimal) string { return d.String() },
	"kind": func(l lang, k evidence.Kind) string { return text(l, "kind."+string(k)) },
	"day":  func(t time.Time) string { return t.In(shanghai).Format("2006-01-02") },
	"when": when,
	// withLang hands a shared template a value and the page's language.
	"withLang": func(l lang, v any) langAnd { return langAnd{Lang: l, V: v} },
	"other": func(l lang) string {
		if l == en {
			return "zh"
		}
		return "en"
	},
}

// shanghai is where business dates are read.
var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// when is an instant as people read it, to the minute in Asia/Shanghai;
// "—" for none (a zero or nil time: not approved yet, never revoked).
func when(v any) string {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x != nil {
			t = *x
		}
	}
	if t.IsZero() {
		return "—"
	}
	return t.In(shanghai).Format("2006-01-02 15:04")
}

// langAnd is a value with the language a shared template renders it in.
type langAnd struct {
	Lang lang
	V    any
}

// uploaded returns the bytes of the file posted as name on an upload page
// (see upload): nil when none was chosen, empty (not nil) for an empty
// file. At most max+1 bytes are read, so the caller can tell a file over
// max from one at it.
func uploaded(r *http.Request, name string, max int64) ([]byte, error) {
	f, _, err := r.FormFile(name)
	if errors.Is(err, http.ErrMissingFile) || errors.Is(err, http.ErrNotMultipart) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, max+1))
}
