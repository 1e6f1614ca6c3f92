package console_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// browser returns a chromedp context on a fresh headless Chromium (the
// Debian package). Under CI a missing browser fails the test: .ci/run
// installs it, so its absence is a broken machine, not a reason to pass.
func browser(t *testing.T) context.Context {
	t.Helper()
	skipUnderRace(t)
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed (CI installs it in .ci/run: apt-get install chromium fonts-noto-cjk)")
		}
		t.Skip("chromium is not installed; CI runs these journeys")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // the test machines run as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	// The first call starts the browser, which lives as long as the
	// context of that call: no timeout on it (steps get theirs).
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("about:blank")), "starting chromium")
	return ctx
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
// browser lives as long as the test); photographs are taken only in the
// SQLite run, so that both engines do not fight over the same files.
type tab struct {
	t      *testing.T
	ctx    context.Context
	photos bool
}

func newTab(t *testing.T) *tab {
	return &tab{t: t, ctx: browser(t), photos: strings.HasSuffix(t.Name(), "sqlite")}
}

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
// its own, and the caller waits for what it expects there.
func (b *tab) firstSignIn(console, user string) {
	b.t.Helper()
	b.step(user+" signs in", chromedp.Navigate(console+"/signin"),
		chromedp.WaitVisible(chromedp.CSS("#username")), chromedp.SendKeys(chromedp.CSS("#username"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), password), chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS("#old_password")))
	b.step(user+" sets a new password", chromedp.SendKeys(chromedp.CSS("#old_password"), password),
		chromedp.SendKeys(chromedp.CSS("#password"), newPassword), chromedp.SendKeys(chromedp.CSS("#confirm"), newPassword),
		chromedp.Submit(chromedp.CSS("#confirm")), chromedp.WaitNotPresent(chromedp.CSS("#old_password")))
}

// phonePhoto photographs the page (in the SQLite run) and goes back to
// the phone's width, where the village journeys run.
func (b *tab) phonePhoto(name string) {
	b.t.Helper()
	if b.photos {
		shoot(b.t, b.ctx, name)
		b.step("phone again", chromedp.EmulateViewport(360, 780))
	}
}
