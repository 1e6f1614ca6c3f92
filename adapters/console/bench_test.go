package console_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/console"
	"github.com/sanzhi/sanzhi/adapters/demo"
	"github.com/sanzhi/sanzhi/adapters/server"
	"github.com/sanzhi/sanzhi/adapters/sqlite"
	"github.com/sanzhi/sanzhi/adapters/sqlite/sqlitetest"
	"github.com/sanzhi/sanzhi/app"
)

// demoConsole serves the console on a private copy of the seeded demo
// county (the template every test binary shares) and returns its URL and
// session cookies for the 南阳村 reviewer and the demo household.
func demoConsole(b *testing.B) (url string, reviewer, household *http.Cookie) {
	b.Helper()
	ctx := context.Background()
	open := func(path string) (*sqlite.DB, *app.App, demo.Result) {
		kr, err := server.LoadKeyring(server.Config{Database: "sqlite://" + path, Demo: true})
		require.NoError(b, err)
		db, err := sqlite.Open(ctx, path)
		require.NoError(b, err)
		require.NoError(b, db.Migrate(ctx))
		a, err := app.New(app.Deps{Store: db.Store(), Keyring: kr})
		require.NoError(b, err)
		res, err := demo.Seed(ctx, a.Households, db.Store(), time.Now)
		require.NoError(b, err)
		return db, a, res
	}
	path := sqlitetest.Copy(b, "demo", "demo.db", func(path string) error {
		db, _, _ := open(path)
		return db.Close()
	})
	db, a, res := open(path)
	b.Cleanup(func() { db.Close() })
	logins, err := demo.SignIns(ctx, a.SignIn, res)
	require.NoError(b, err)
	in, err := a.SignIn.SignIn(ctx, "demo-reviewer-nanyang", demo.FirstPassword, "")
	require.NoError(b, err)
	require.NoError(b, a.SignIn.ChangePassword(ctx, in.Token, demo.FirstPassword, "a bench password 2026"))
	hh, err := a.SignIn.SignInCode(ctx, logins.Code, "")
	require.NoError(b, err)
	c, err := console.New(a, console.Options{})
	require.NoError(b, err)
	srv := httptest.NewServer(c)
	b.Cleanup(srv.Close)
	return srv.URL, &http.Cookie{Name: "sz_session", Value: in.Token}, &http.Cookie{Name: "sz_session", Value: hh.Token}
}

// BenchmarkConsolePages renders the 公示 board (南阳村, the demo's 434
// households) and the demo household's 成绩单 through the real HTTP stack,
// one client and 50 at once, beside the sign-in page (no data) as the
// baseline of the same run. It reports p50 and p99 in ms and each page's
// first-load weight (HTML + CSS + JS, gzip) in KB.
//
//	go test -run '^$' -bench BenchmarkConsolePages -benchtime 300x ./adapters/console/
func BenchmarkConsolePages(b *testing.B) {
	url, reviewer, household := demoConsole(b)
	pages := []struct {
		name, path string
		who        *http.Cookie
	}{
		{"empty", "/console/signin", nil},
		{"board", "/console/villages/330483102215/board", reviewer},
		{"card", "/console/me", household},
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	b.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(b *testing.B, path string, who *http.Cookie) []byte {
		req, err := http.NewRequest(http.MethodGet, url+path, nil)
		if err != nil {
			b.Fatal(err)
		}
		if who != nil {
			req.AddCookie(who)
		}
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d", path, resp.StatusCode)
		}
		return body
	}
	gz := func(p []byte) int {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		_, _ = w.Write(p)
		_ = w.Close()
		return buf.Len()
	}
	assets := gz(get(b, "/console/static/console.css", nil)) + gz(get(b, "/console/static/console.js", nil))
	for _, p := range pages {
		for _, clients := range []int{1, 50} {
			b.Run(p.name+"/clients="+strconv.Itoa(clients), func(b *testing.B) {
				weight := gz(get(b, p.path, p.who)) + assets
				reportLatency(b, clients, func() { get(b, p.path, p.who) })
				b.ReportMetric(float64(weight)/1024, "first-load-KB-gz")
			})
		}
	}
}

// reportLatency runs do b.N times from clients goroutines at once and
// reports the 50th and 99th percentile of its latency in ms.
func reportLatency(b *testing.B, clients int, do func()) {
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	work := make(chan struct{}, b.N)
	for range b.N {
		work <- struct{}{}
	}
	close(work)
	b.ResetTimer()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for range work {
				t0 := time.Now()
				do()
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	slices.Sort(lat)
	ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}
