package storetest

import (
	"context"
	"iter"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/scoring/policies"
)

// Challengers is what the suite reads of champion / challenger beyond the
// ports: the hot read of the current version, one shadow, and the
// comparison stream.
type Challengers interface {
	ChallengerVersion(ctx context.Context, bank, product string) (int, error)
	ShadowDecision(ctx context.Context, id string, version int) (*credit.ShadowDecision, error)
	ShadowPairs(ctx context.Context, bank, product string, champion, challenger int) iter.Seq2[credit.ShadowPair, error]
}

// testChallengers: at most one current designation per product, stopping
// it, the shadows of decisions round trip exactly, are counted with their
// swaps, and stream in decision order for one champion version.
func testChallengers(t *testing.T, s Store) {
	ctx := context.Background()
	for n := 1; n <= 3; n++ {
		v := newPolicy(bankA, productA, n)
		v.State = policies.Approved
		require.NoError(t, s.Policies().Write(ctx, func(tx policies.Writer) error { return tx.InsertPolicyVersion(ctx, v) }))
	}
	read := func() (*policies.Challenger, error) {
		var c *policies.Challenger
		err := s.Policies().Read(ctx, func(tx policies.Reader) error {
			var err error
			c, err = tx.CurrentChallenger(ctx, bankA, productA)
			return err
		})
		return c, err
	}
	_, err := read()
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
	n, err := s.ChallengerVersion(ctx, bankA, productA)
	require.NoError(t, err)
	assert.Zero(t, n)

	c := &policies.Challenger{Bank: bankA, Product: productA, Version: 2, StartedBy: "risk-1", StartTime: base.Add(time.Hour)}
	require.NoError(t, s.Policies().Write(ctx, func(tx policies.Writer) error { return tx.InsertChallenger(ctx, c) }))
	second := &policies.Challenger{Bank: bankA, Product: productA, Version: 3, StartedBy: "risk-1", StartTime: base.Add(2 * time.Hour)}
	err = s.Policies().Write(ctx, func(tx policies.Writer) error { return tx.InsertChallenger(ctx, second) })
	assert.True(t, fault.Is(err, fault.AlreadyExists), "one current challenger per product, got %v", err)
	missing := &policies.Challenger{Bank: bankA, Product: productA, Version: 9, StartedBy: "risk-1", StartTime: base}
	err = s.Policies().Write(ctx, func(tx policies.Writer) error { return tx.InsertChallenger(ctx, missing) })
	assert.Error(t, err, "a version that does not exist")

	got, err := read()
	require.NoError(t, err)
	assert.Equal(t, 2, got.Version)
	assert.Equal(t, "risk-1", got.StartedBy)
	sameInstant(t, c.StartTime, got.StartTime, "start time")
	assert.Nil(t, got.StopTime)
	n, err = s.ChallengerVersion(ctx, bankA, productA)
	require.NoError(t, err)
	assert.Equal(t, 2, n)

	// Shadows of three decisions of champion version 3 (newDecision),
	// one of another product; the champion approves all of them.
	h := newHousehold(t, villageA, 1)
	insert(t, s, h)
	var ds []*credit.Decision
	for _, product := range []string{productA, productA, productA, productB} {
		ds = append(ds, newDecision(t, h, bankA, product))
	}
	shadow := func(d *credit.Decision, eligible bool, score int) *credit.ShadowDecision {
		return &credit.ShadowDecision{DecisionID: d.ID, Bank: d.Bank, Product: d.Product, ChampionVersion: d.PolicyVersion,
			ChallengerVersion: 2, PolicyHash: hashOf(22), Eligible: eligible, Score: score, Grade: "B",
			Limit: decimal.RequireFromString("50000.00"), Rate: decimal.RequireFromString("0.052"),
			Bins: "2,0,3", KnockOuts: "", Time: d.Time}
	}
	shs := []*credit.ShadowDecision{shadow(ds[0], true, 500), shadow(ds[1], false, 300), shadow(ds[2], false, 310), shadow(ds[3], true, 1)}
	shs[1].KnockOuts, shs[1].Limit, shs[1].Rate = "dishonest,blacklisted", decimal.Zero, decimal.Zero
	require.NoError(t, writeLending(s, func(ctx context.Context, tx credit.Writer) error {
		for _, d := range ds {
			if err := tx.InsertDecision(ctx, d); err != nil {
				return err
			}
		}
		return tx.InsertShadowDecisions(ctx, shs)
	}))
	err = writeLending(s, func(ctx context.Context, tx credit.Writer) error {
		return tx.InsertShadowDecisions(ctx, shs[:1])
	})
	assert.True(t, fault.Is(err, fault.AlreadyExists), "shadows never change, got %v", err)
	orphan := shadow(ds[0], true, 1)
	orphan.DecisionID = newID(t)
	err = writeLending(s, func(ctx context.Context, tx credit.Writer) error {
		return tx.InsertShadowDecisions(ctx, []*credit.ShadowDecision{orphan})
	})
	assert.Error(t, err, "a shadow of no decision")

	sh, err := s.ShadowDecision(ctx, ds[1].ID, 2)
	require.NoError(t, err)
	sameInstant(t, shs[1].Time, sh.Time, "shadow time")
	sh.Time = shs[1].Time
	assert.Equal(t, shs[1].Limit.String(), sh.Limit.StringFixed(0))
	assert.True(t, shs[1].Rate.Equal(sh.Rate))
	sh.Limit, sh.Rate = shs[1].Limit, shs[1].Rate
	assert.Equal(t, shs[1], sh)
	_, err = s.ShadowDecision(ctx, ds[1].ID, 3)
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)

	var counts policies.ShadowCounts
	require.NoError(t, s.Policies().Read(ctx, func(tx policies.Reader) error {
		var err error
		counts, err = tx.ShadowCounts(ctx, bankA, productA, 2)
		return err
	}))
	assert.Equal(t, policies.ShadowCounts{Total: 3, SwapIn: 0, SwapOut: 2}, counts)

	var ids []string
	for p, err := range s.ShadowPairs(ctx, bankA, productA, 3, 2) {
		require.NoError(t, err)
		ids = append(ids, p.DecisionID)
		if p.DecisionID == ds[0].ID {
			assert.Equal(t, credit.ShadowPair{DecisionID: ds[0].ID, Score: 500, Bins: "2,0,3", Eligible: true, Grade: "B"}, p)
		}
	}
	assert.Equal(t, []string{ds[0].ID, ds[1].ID, ds[2].ID}, ids, "decision order, one product")
	for range s.ShadowPairs(ctx, bankA, productA, 4, 2) {
		t.Fatal("no decisions of champion version 4")
	}

	// Stopping closes the designation; another may then start.
	got.StoppedBy, got.StopReason = "risk-2", policies.StopStopped
	at := base.Add(3 * time.Hour)
	got.StopTime = &at
	require.NoError(t, s.Policies().Write(ctx, func(tx policies.Writer) error { return tx.StopChallenger(ctx, got) }))
	err = s.Policies().Write(ctx, func(tx policies.Writer) error { return tx.StopChallenger(ctx, got) })
	assert.True(t, fault.Is(err, fault.NotFound), "stopped already, got %v", err)
	_, err = read()
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)
	require.NoError(t, s.Policies().Write(ctx, func(tx policies.Writer) error { return tx.InsertChallenger(ctx, second) }))
	got, err = read()
	require.NoError(t, err)
	assert.Equal(t, 3, got.Version)
}
