package console_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/console"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
)

var slipQR = regexp.MustCompile(`<img id="slip-qr" src="([^"]+)"`)

// TestSlipQR: the access-code slip carries a QR code of the sign-in link
// with the code; the link fills the code in and signs no one in.
func TestSlipQR(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		c := e.client(t)
		c.signIn("clerk-a")
		h, _ := registered(t, e, "褚凤英", 4, "南阳村4组12号")
		status, _, body := c.post(hhPath(h)+"/code", url.Values{"csrf": {c.csrf(hhPath(h) + "/code")}})
		require.Equal(t, http.StatusOK, status)
		code := slipCode.FindStringSubmatch(body)[1]
		link := e.srv.URL + "/console/signin?code=" + code

		// The picture, read back from the page, is the exact link.
		m := slipQR.FindStringSubmatch(body)
		require.NotNil(t, m, "the slip shows the QR code")
		grid, err := qrFromDataURI(html.UnescapeString(m[1]))
		require.NoError(t, err)
		got, err := decodeQR(grid)
		require.NoError(t, err)
		assert.Equal(t, link, got)
		text := html.UnescapeString(body)
		assert.Contains(t, text, `id="slip-url">`+e.srv.URL+"/console/signin<", "the address in words")
		assert.Contains(t, text, "用手机扫这个二维码")
		assert.Contains(t, body, `alt="登录二维码"`)

		// The link fills the field and waits for the household's tap.
		hc := e.client(t)
		status, _, page := hc.get("/console/signin?code=" + code)
		require.Equal(t, http.StatusOK, status)
		assert.Contains(t, page, `name="code" autocomplete="off" autocapitalize="characters" value="`+code+`"`)
		assert.Contains(t, page, `id="code-filled"`)
		status, loc, _ := hc.get("/console/me")
		assert.Equal(t, http.StatusSeeOther, status, "following the link signs no one in")
		assert.Equal(t, "/console/signin", loc)
		// The page the code is in sends no referrer and is not cached.
		resp, err := hc.hc.Get(e.srv.URL + "/console/signin?code=" + code)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		// What is not a code's shape is not echoed.
		_, _, page = hc.get("/console/signin?code=" + url.QueryEscape(`"><script>x</script>`))
		assert.NotContains(t, page, "script>x")
		assert.NotContains(t, page, `id="code-filled"`)
		// Signing in is still the form's post.
		hc.signInCode(code)
		status, _, page = hc.get("/console/me")
		require.Equal(t, http.StatusOK, status)
		assert.Contains(t, page, "褚凤英")
	})
}

// TestQRReadsBack: what the console draws reads back as its text, for
// links of every length a slip may carry (versions 1, 4 and 8, the last
// with version information; digits, capitals and bytes in the segments
// the encoder picks).
func TestQRReadsBack(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"K7QD-M2XP-9HTA-WF3C",
		"http://127.0.0.1:41234/console/signin?code=K7QD-M2XP-9HTA-WF3C",
		"https://sanzhi.example.cn/console/signin?code=23456789ABCDEFGH",
		"https://一个很长的县级服务器名字.example.cn:8443/console/signin?code=K7QD-M2XP-9HTA-WF3C&x=" + strings.Repeat("0123456789", 6),
	} {
		uri, err := console.QRDataURI(s)
		require.NoError(t, err)
		grid, err := qrFromDataURI(string(uri))
		require.NoError(t, err, s)
		got, err := decodeQR(grid)
		require.NoError(t, err, s)
		assert.Equal(t, s, got)
	}
}
