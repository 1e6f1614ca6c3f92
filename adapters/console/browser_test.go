package console_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// browser returns a chromedp context on a tab of its own in a browser
// context of its own (its own cookies and storage: another person's
// browser) in the test binary's one headless Chromium (the Debian
// package), which the first journey starts. Starting a Chromium cost
// about 1.4 s of a journey's 6; one browser for all of them keeps the
// journeys apart as well as a browser each did, and stopBrowser ends it
// after the run. Under CI a missing browser fails the test: .ci/run
// installs it, so its absence is a broken machine, not a reason to pass.
func browser(t *testing.T) context.Context {
	t.Helper()
	skipUnderRace(t)
	shared.once.Do(startBrowser)
	if shared.missing {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed (CI installs it in .ci/run: apt-get install chromium fonts-noto-cjk)")
		}
		t.Skip("chromium is not installed; CI runs these journeys")
	}
	require.NoError(t, shared.err, "starting chromium")
	ctx, cancel := chromedp.NewContext(shared.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("about:blank")), "opening a tab")
	return ctx
}

// shared is the test binary's Chromium.
var shared struct {
	once    sync.Once
	missing bool
	ctx     context.Context
	err     error
	stop    func()
}

func startBrowser() {
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		shared.missing = true
		return
	}
	profile, err := os.MkdirTemp("", "chromium-profile-")
	if err != nil {
		shared.err = err
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // the test machines run as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.UserDataDir(profile),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	shared.ctx = ctx
	shared.stop = func() { cancelBrowser(); cancelAlloc(); _ = os.RemoveAll(profile) }
	// The first call starts the browser, which lives as long as the
	// context of that call: no timeout on it (steps get theirs).
	shared.err = chromedp.Do(ctx, chromedp.Navigate("about:blank"))
}

// stopBrowser stops the shared Chromium, if a journey started it; TestMain
// calls it after the run.
func stopBrowser() {
	if shared.stop != nil {
		shared.stop()
	}
}

// Widths the pages are photographed at: a 360 px phone and a desktop.
var widths = map[string][2]int64{"phone": {360, 780}, "desktop": {1280, 900}}

// shoot photographs the current page at both widths into docs/console
// (full page), so the README shows what people see.
func shoot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := filepath.Join("..", "..", "docs", "console")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for w, size := range widths {
		require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(size[0], size[1]), chromedp.Sleep(100*time.Millisecond)))
		img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name+"-"+w+".png"), img, 0o644))
	}
}

// skipUnderRace skips a browser journey under the race detector. A
// journey's work is the browser's, which the detector does not see, and the
// server side of every page has its own tests under -race; there the
// journeys only cost minutes of CPU. `make test` runs them in its second
// pass, without -race, where CI still fails on a missing browser.
func skipUnderRace(t *testing.T) {
	t.Helper()
	if underRace {
		t.Skip("browser journeys run in make test's pass without -race")
	}
}

// tab is a journey's browser tab. Each step has a timeout of its own (the
// browser lives as long as the test binary).
//
// Each journey runs on one engine, not both: a journey's subject is the
// pages, their forms and scripts, which do not depend on the engine, and
// a journey costs about 9 s of CPU (most of it Chromium's), where every
// rule behind the pages runs on both engines in the console's own tests
// and the storage conformance suite. The village journeys run on SQLite,
// the embedded default a county starts on; the bank's, the officer's, the
// risk manager's and the regulator's on PostgreSQL, which a bank runs.
//
// Photographs are taken only when SANZHI_PHOTOS is set (make photos):
// each costs a second or more, a test run (CI's clean clone included)
// throws them away, and the IDs and dates in them change every run, so
// taking them in every run only rewrote docs/console.
type tab struct {
	t      *testing.T
	ctx    context.Context
	photos bool
}

func newTab(t *testing.T) *tab {
	return &tab{t: t, ctx: browser(t), photos: photographing}
}

// photographing: make photos asks for the pages to be photographed.
var photographing = os.Getenv("SANZHI_PHOTOS") != ""

// step runs actions, failing the test with name if one fails.
func (b *tab) step(name string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	require.NoError(b.t, chromedp.Do(ctx, actions...), name)
}

// text returns the visible text of the first element sel matches.
func (b *tab) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(b.t, err, sel)
	return s
}

// run runs one action that returns a value, with a step's timeout.
func run[T any](t *testing.T, b *tab, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	require.NoError(t, err)
	return v
}

// firstSignIn signs staff member user in for the first time at console
// (the server's URL and /console) and sets the new password asked for
// then. It returns once the password page has gone: each role's home is
// its own, and the caller waits for what it expects there. The fields are
// set, not typed: SendKeys sends each character as its own key events, two
// seconds of a journey here, and TestJourneys types them as people do.
func (b *tab) firstSignIn(console, user string) {
	b.t.Helper()
	set := func(sel, v string) chromedp.Action[chromedp.Void] { return chromedp.SetValue(chromedp.CSS(sel), v) }
	b.step(user+" signs in", chromedp.Navigate(console+"/signin"),
		chromedp.WaitVisible(chromedp.CSS("#username")), set("#username", user),
		set("#password", password), chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS("#old_password")))
	b.step(user+" sets a new password", set("#old_password", password),
		set("#password", newPassword), set("#confirm", newPassword),
		chromedp.Submit(chromedp.CSS("#confirm")), chromedp.WaitNotPresent(chromedp.CSS("#old_password")))
}

// phonePhoto photographs the page (under make photos) and goes back to
// the phone's width, where the village journeys run.
func (b *tab) phonePhoto(name string) {
	b.t.Helper()
	if b.photos {
		shoot(b.t, b.ctx, name)
		b.step("phone again", chromedp.EmulateViewport(360, 780))
	}
}
