package console_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/lending/credit"
)

// TestRegulatorJourney (issue 15, test 4): a regulator signs in, finds the
// credit decision's entry in the audit log and has the browser verify it —
// the leaf hash, the inclusion path to the root and the checkpoint's
// Ed25519 signature, computed by the page's script with WebCrypto and
// compared here with what the server's log hashes; a tampered proof is
// shown FAILED; the decision's replay is IDENTICAL. Under make photos it
// photographs the explorer, the entry (verified and tampered) and the
// replay.
func TestRegulatorJourney(t *testing.T) {
	t.Parallel() // make test runs two journeys at a time (-parallel 2)
	skipUnderRace(t)
	storetest.Engine(t, storetest.Postgres, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		f := audSetup(t, e)
		ctx := context.Background()
		cp, err := e.app.Audit.Checkpoint(ctx, 0)
		require.NoError(t, err)
		tb := newTab(t)
		photos, step, text := tb.photos, tb.step, tb.text

		step("viewport", chromedp.EmulateViewport(1280, 900))
		tb.firstSignIn(e.srv.URL+"/console", "regulator-1")
		step("regulator-1's home", chromedp.WaitVisible(chromedp.CSS("#checkpoint")))
		assert.Equal(t, strconv.FormatUint(cp.Size, 10), text("#cp-size"))
		assert.Equal(t, hex.EncodeToString(cp.Root), text("#cp-root"))
		if photos {
			shoot(t, tb.ctx, "audit-explorer")
		}

		// Whether this Chromium has Ed25519 in WebCrypto (Chrome 137 on):
		// the page must say so either way.
		vkey := e.app.Audit.VerifierKey()
		pub, err := base64.StdEncoding.DecodeString(strings.SplitN(vkey, "+", 3)[2])
		require.NoError(t, err)
		ed25519 := run(t, tb, chromedp.Evaluate[bool](`crypto.subtle.importKey("raw", Uint8Array.from(atob("`+
			base64.StdEncoding.EncodeToString(pub[1:])+`"), c => c.charCodeAt(0)), {name: "Ed25519"}, false, ["verify"]).then(() => true, () => false)`,
			chromedp.EvalAwaitPromise))
		t.Logf("WebCrypto Ed25519 in this Chromium: %v", ed25519)

		// The decision's entry, found by its action.
		step("filter", chromedp.SendKeys(chromedp.CSS("#action"), credit.ActionAssess),
			// The filtered page: its field carries the value in the markup.
			chromedp.Submit(chromedp.CSS("#action")), chromedp.WaitVisible(chromedp.CSS(`#action[value="credit.assess"]`)),
			chromedp.WaitVisible(chromedp.CSS("#entries")))
		seqText := text("#entries tbody tr td a")
		seq, err := strconv.ParseUint(seqText, 10, 64)
		require.NoError(t, err)
		leaf, err := st.Leaf(ctx, seq)
		require.NoError(t, err)
		require.Contains(t, string(leaf.Data), `"action":"credit.assess"`)
		done := chromedp.CSS(`#verdict[data-verdict="verified"], #verdict[data-verdict="failed"], #verdict[data-verdict="unavailable"]`)
		step("open the entry", chromedp.Click(chromedp.CSS("#entries tbody tr td a")), chromedp.WaitVisible(done))

		// The browser's own computation agrees with the server's log.
		assert.Equal(t, "verified", attr(t, tb, "#verdict", "data-verdict"))
		assert.Equal(t, "验证通过 VERIFIED", text("#verdict"))
		assert.Equal(t, hex.EncodeToString(audit.LeafHash(leaf.Data)), text("#leaf-computed"), "leaf hash: SHA-256(0x00‖entry)")
		assert.Equal(t, hex.EncodeToString(leaf.LeafHash), text("#leaf-computed"), "the stored leaf hash")
		assert.Equal(t, hex.EncodeToString(cp.Root), text("#root-computed"), "the root walked from the path")
		assert.Equal(t, hex.EncodeToString(cp.Root), text("#root-signed"))
		assert.Contains(t, text("#proof-result"), "证明成立")
		if ed25519 {
			assert.Equal(t, "ok", attr(t, tb, "#sig-result", "data-sig"))
			assert.Contains(t, text("#sig-result"), "已用日志公钥验证")
		} else {
			assert.Equal(t, "unsupported", attr(t, tb, "#sig-result", "data-sig"))
			assert.Contains(t, text("#sig-result"), "本浏览器不支持")
		}
		if photos {
			shoot(t, tb.ctx, "audit-entry-verified")
		}

		// One byte of the path flipped (labelled a test): FAILED.
		step("tampered proof", chromedp.Click(chromedp.CSS("#tamper")), chromedp.WaitVisible(chromedp.CSS("#tampered")),
			chromedp.WaitVisible(done))
		assert.Equal(t, "failed", attr(t, tb, "#verdict", "data-verdict"))
		assert.Equal(t, "验证失败 FAILED", text("#verdict"))
		assert.Contains(t, text("#proof-result"), "证明不成立")
		assert.NotEqual(t, hex.EncodeToString(cp.Root), text("#root-computed"))
		assert.Equal(t, hex.EncodeToString(audit.LeafHash(leaf.Data)), text("#leaf-computed"))
		if photos {
			shoot(t, tb.ctx, "audit-entry-tampered")
		}

		// In English, the genuine proof again.
		step("genuine, in English", chromedp.Click(chromedp.CSS("#genuine")), chromedp.WaitVisible(chromedp.CSS("#tamper")),
			chromedp.Click(chromedp.CSS(`a[hreflang="en"]`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] #tamper`)), chromedp.WaitVisible(done))
		assert.Equal(t, "VERIFIED", text("#verdict"))
		step("back to Chinese", chromedp.Click(chromedp.CSS(`a[hreflang="zh"]`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="zh-CN"] #tamper`)))

		// The decision replayed: IDENTICAL.
		step("open replay", chromedp.Click(chromedp.CSS(`nav a[href="/console/audit/replay"]`)),
			chromedp.WaitVisible(chromedp.CSS("#decision")))
		step("replay", chromedp.SendKeys(chromedp.CSS("#decision"), f.decision), chromedp.Submit(chromedp.CSS("#decision")),
			chromedp.WaitVisible(chromedp.CSS("#result")))
		assert.Equal(t, "identical", attr(t, tb, "#result", "data-result"))
		assert.Equal(t, "一致 IDENTICAL", text("#result"))
		assert.Contains(t, text("#replay"), f.decision)
		if photos {
			shoot(t, tb.ctx, "audit-replay")
		}
	})
}
