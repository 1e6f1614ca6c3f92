package modelrisk_test

import (
	"errors"
	"iter"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/scoring/modelrisk"
)

func observations(os []modelrisk.ChallengerObservation) iter.Seq2[modelrisk.ChallengerObservation, error] {
	return func(yield func(modelrisk.ChallengerObservation, error) bool) {
		for _, o := range os {
			if !yield(o, nil) {
				return
			}
		}
	}
}

// TestCompareChallengerByHand: four observed decisions and one without an
// outcome, worked on paper.
//
// Champion: goods at 600 and 500, bads at 400 and 550. Of the four
// good-bad pairs the good scores higher in three: AUC 3/4, Gini 1/2.
// Cumulative shares up the scores (bad, good): 400 (1/2, 0), 500 (1/2,
// 1/2), 550 (1, 1/2), 600 (1, 1): KS 1/2, first at 400.
//
// Challenger: goods at 700 and 650, bads at 300 and 350: every good
// above every bad, AUC 1, Gini 1, KS 1 at 350.
//
// Approvals (champion, challenger): the fourth decision (a bad) is
// approved by the champion only: a swap-out that went bad. The fifth,
// without an outcome, is approved by the challenger only: a swap-in.
// Two swaps of five decisions: 0.4.
func TestCompareChallengerByHand(t *testing.T) {
	c, err := modelrisk.CompareChallenger(observations([]modelrisk.ChallengerObservation{
		{ChampionScore: 600, ChallengerScore: 700, ChampionApproved: true, ChallengerApproved: true, Observed: true},
		{ChampionScore: 500, ChallengerScore: 650, ChampionApproved: true, ChallengerApproved: true, Observed: true},
		{ChampionScore: 400, ChallengerScore: 300, Observed: true, Bad: true},
		{ChampionScore: 550, ChallengerScore: 350, ChampionApproved: true, Observed: true, Bad: true},
		{ChampionScore: 450, ChallengerScore: 500, ChallengerApproved: true},
	}))
	require.NoError(t, err)
	assert.Equal(t, []int64{5, 4, 2}, []int64{c.Decisions, c.Observed, c.Bads})
	require.True(t, c.Champion.Measured)
	assert.InDelta(t, 0.75, c.Champion.AUC, 1e-12)
	assert.InDelta(t, 0.5, c.Champion.Gini, 1e-12)
	assert.InDelta(t, 0.5, c.Champion.KS, 1e-12)
	assert.Equal(t, 400, c.Champion.KSScore)
	require.True(t, c.Challenger.Measured)
	assert.InDelta(t, 1, c.Challenger.AUC, 1e-12)
	assert.InDelta(t, 1, c.Challenger.Gini, 1e-12)
	assert.InDelta(t, 1, c.Challenger.KS, 1e-12)
	assert.Equal(t, 350, c.Challenger.KSScore)
	assert.Equal(t, []int64{1, 1, 0, 1}, []int64{c.SwapIn, c.SwapOut, c.SwapInBad, c.SwapOutBad})
	assert.InDelta(t, 0.4, c.SwapShare, 1e-12)
}

// TestCompareChallengerTies: a good and a bad at one score count half
// (AUC 1/2, Gini 0); the challenger, reversing the order, scores the bad
// above the good (AUC 0, Gini −1). No approval differs.
func TestCompareChallengerTies(t *testing.T) {
	c, err := modelrisk.CompareChallenger(observations([]modelrisk.ChallengerObservation{
		{ChampionScore: 500, ChallengerScore: 400, Observed: true},
		{ChampionScore: 500, ChallengerScore: 600, Observed: true, Bad: true},
	}))
	require.NoError(t, err)
	assert.InDelta(t, 0.5, c.Champion.AUC, 1e-12)
	assert.InDelta(t, 0, c.Champion.Gini, 1e-12)
	assert.InDelta(t, 0, c.Challenger.AUC, 1e-12)
	assert.InDelta(t, -1, c.Challenger.Gini, 1e-12)
	assert.Zero(t, c.SwapIn+c.SwapOut)
	assert.Zero(t, c.SwapShare)
}

// TestCompareChallengerEdges: nothing observed, only goods, a failing
// stream, a score range no scorecard has.
func TestCompareChallengerEdges(t *testing.T) {
	c, err := modelrisk.CompareChallenger(observations(nil))
	require.NoError(t, err)
	assert.Equal(t, modelrisk.ChallengerComparison{}, *c)

	c, err = modelrisk.CompareChallenger(observations([]modelrisk.ChallengerObservation{
		{ChampionScore: 1, ChallengerScore: 2, Observed: true}, {ChampionScore: 3, ChallengerScore: 4},
	}))
	require.NoError(t, err)
	assert.False(t, c.Champion.Measured, "no bads: nothing to measure")
	assert.False(t, c.Challenger.Measured)
	assert.Equal(t, int64(1), c.Observed)

	boom := errors.New("boom")
	_, err = modelrisk.CompareChallenger(func(yield func(modelrisk.ChallengerObservation, error) bool) {
		if yield(modelrisk.ChallengerObservation{}, nil) {
			yield(modelrisk.ChallengerObservation{}, boom)
		}
	})
	assert.ErrorIs(t, err, boom)

	_, err = modelrisk.CompareChallenger(observations(slices.Repeat([]modelrisk.ChallengerObservation{
		{ChampionScore: -1 << 30, Observed: true}, {ChampionScore: 1 << 30, Observed: true, Bad: true}}, 1)))
	assert.Error(t, err)
}
