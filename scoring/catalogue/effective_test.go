package catalogue_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/sqlite"
	catalogues "github.com/sanzhi/sanzhi/examples/catalogues"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/catalogue"
)

// EffectiveAt answers for any past instant from the activation history, so
// a points balance of an old day keeps the base it had that day.
func TestEffectiveAtFollowsActivationHistory(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, db.Migrate(ctx))

	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	svc := catalogue.NewService(db.Store().Catalogues(), func() time.Time { return clock })
	op1 := &access.Principal{ID: "op1", Role: access.Operator}
	op2 := &access.Principal{ID: "op2", Role: access.Operator}
	const village = "330483102215"

	read := func(name string) []byte {
		b, err := catalogues.FS.ReadFile(name)
		require.NoError(t, err)
		return b
	}
	county := read(catalogues.CountyFile)
	vdoc := read(catalogues.VillageFile("nanyang"))

	beforeAll := clock
	_, err = svc.EffectiveAt(ctx, village, beforeAll)
	require.True(t, fault.Is(err, fault.NotFound), "nothing active yet: %v", err)

	clock = clock.Add(time.Hour)
	_, err = svc.Upload(ctx, op1, "counties/330483", county)
	require.NoError(t, err)
	_, err = svc.Activate(ctx, op2, "counties/330483/catalogues/1")
	require.NoError(t, err)
	countyOnly := clock

	clock = clock.Add(time.Hour)
	_, err = svc.Upload(ctx, op1, "villages/"+village, vdoc)
	require.NoError(t, err)
	_, err = svc.Activate(ctx, op2, "villages/"+village+"/catalogues/1")
	require.NoError(t, err)
	v1 := clock

	clock = clock.Add(time.Hour)
	v2doc := strings.Replace(string(vdoc), "\nversion: 1\n", "\nversion: 2\n", 1)
	v2doc = strings.Replace(v2doc, "{code: ZZ-MS-01, points: 3, annual_cap: 15}", "{code: ZZ-MS-01, points: 4, annual_cap: 16}", 1)
	require.NotEqual(t, string(vdoc), v2doc)
	_, err = svc.Upload(ctx, op1, "villages/"+village, []byte(v2doc))
	require.NoError(t, err)
	_, err = svc.Activate(ctx, op2, "villages/"+village+"/catalogues/2")
	require.NoError(t, err)
	v2 := clock

	_, err = svc.EffectiveAt(ctx, village, beforeAll)
	require.True(t, fault.Is(err, fault.NotFound))

	c0, err := svc.EffectiveAt(ctx, village, countyOnly.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, 0, c0.VillageVersion, "before the village's document, the county base applies")
	_, ok := c0.Item("NY-MS-01")
	assert.False(t, ok)

	c1, err := svc.EffectiveAt(ctx, village, v1)
	require.NoError(t, err)
	assert.Equal(t, 1, c1.VillageVersion, "activation counts from its instant")
	it, _ := c1.Item("ZZ-MS-01")
	assert.Equal(t, "3", it.Points.String())

	c2, err := svc.EffectiveAt(ctx, village, v2.Add(time.Second))
	require.NoError(t, err)
	assert.Equal(t, 2, c2.VillageVersion)
	it, _ = c2.Item("ZZ-MS-01")
	assert.Equal(t, "4", it.Points.String())

	again, err := svc.EffectiveAt(ctx, village, v1.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, c1.Hash, again.Hash, "a past answer does not change after a later activation")
	now, err := svc.Effective(ctx, village)
	require.NoError(t, err)
	assert.Equal(t, c2.Hash, now.Hash)
}
