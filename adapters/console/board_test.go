package console_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/adapters/storetest"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// TestBoardIsBuiltOnceAndNeverStale: the 公示 board is built once for its
// readers, a change made through this process shows on the next read, and
// one made by another process (another App on the same database) within
// the board's two seconds. Both engines.
func TestBoardIsBuiltOnceAndNeverStale(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		rev := e.client(t)
		rev.signIn("reviewer-a")
		board := func() string {
			t.Helper()
			status, _, body := rev.get("/console/villages/" + villageA + "/board")
			require.Equal(t, http.StatusOK, status)
			return html.UnescapeString(body)
		}
		post := func(a *app.App, h *household.Household) {
			t.Helper()
			ev, err := a.Evidence.Submit(ctx, e.staff["clerk-a"], evidence.SubmitInput{
				Parent: "villages/" + villageA + "/households/" + h.ID, Kind: evidence.Points, ItemCode: "ZZ-MS-01",
				Quantity: 1, OccurredOn: string(household.Today(time.Now())), Witness: "村民小组长 王伟",
				RequestID: fmt.Sprintf("board-%d", seq.Add(1))})
			require.NoError(t, err)
			_, err = a.Evidence.Review(ctx, e.staff["reviewer-a"], ev.Name(), true, "")
			require.NoError(t, err)
		}

		first, err := e.app.NoticeBoard(ctx, villageA)
		require.NoError(t, err)
		again, err := e.app.NoticeBoard(ctx, villageA)
		require.NoError(t, err)
		assert.Same(t, first, again, "built once, read by both")
		assert.Contains(t, board(), e.hhHead)

		// Registered now, so that the writes below are the evidence's only.
		h1 := e.register(t, villageA, "钱小梅", 5, "南阳村5组3号")
		h2 := e.register(t, villageA, "孔德明", 6, "南阳村6组12号")

		// Through this process: on the very next read.
		post(e.app, h1)
		assert.Contains(t, board(), "钱小梅")
		next, err := e.app.NoticeBoard(ctx, villageA)
		require.NoError(t, err)
		assert.NotSame(t, first, next)
		assert.Len(t, next.Notices, len(first.Notices)+1)

		// Through another sanzhid on the same database: within two seconds.
		other, err := app.New(app.Deps{Store: st, Keyring: e.app.Keyring})
		require.NoError(t, err)
		post(other, h2)
		assert.Eventually(t, func() bool {
			b, err := e.app.NoticeBoard(ctx, villageA)
			return err == nil && len(b.Notices) == len(next.Notices)+1
		}, 5*time.Second, 100*time.Millisecond, "another process's change is seen once the board's time is up")
		assert.Contains(t, board(), "孔德明")
	})
}
