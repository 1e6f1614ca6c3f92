package modelrisk_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/idnum"
	"github.com/sanzhi/sanzhi/scoring/modelrisk"
)

// BenchmarkBacktest1M computes the whole report (performance, calibration,
// PSI against a reference, fairness by 200 villages, sex and age) over
// 1,000,000 decisions fed one at a time through one reused Decision, as
// a store cursor would feed them. The decisions are prepared outside the
// timer in columns (what a cursor's rows would be). The baseline, "feed",
// runs the same rows through the same Decision and only sums them.
func BenchmarkBacktest1M(b *testing.B) {
	const n = 1_000_000
	spec := testSpec(b)
	cfg := modelrisk.DefaultConfig(asOf)
	r := rand.New(rand.NewPCG(1, 2))
	villages := make([]string, 200)
	for i := range villages {
		villages[i] = fmt.Sprintf("330483%03d%03d", 100+i/20, 200+i%20)
	}
	ids := make([]idnum.PersonID, 1000)
	for i := range ids {
		ids[i] = pid(b, fmt.Sprintf("%04d%02d%02d", 1940+i%60, 1+i%12, 1+i%28), i)
	}
	score := make([]int16, n)
	bins := make([][2]uint8, n)
	outcome := make([]modelrisk.Outcome, n)
	village := make([]uint16, n)
	for i := range n {
		s := r.IntN(121)
		score[i] = int16(s)
		bins[i] = [2]uint8{uint8(min(s/50, 2)), uint8(r.IntN(2))}
		switch {
		case r.IntN(5) == 0:
		case r.Float64() < 1/(1+math.Exp(float64(s-40)/15)):
			outcome[i] = modelrisk.Bad
		default:
			outcome[i] = modelrisk.Good
		}
		village[i] = uint16(r.IntN(len(villages)))
	}
	refT, err := modelrisk.NewTally(spec, cfg)
	require.NoError(b, err)
	d := modelrisk.Decision{Bins: make([]int, 2)}
	for i := range 10_000 {
		d.Score = int(score[i])
		d.Bins[0], d.Bins[1] = int(bins[i][0]), int(bins[i][1])
		d.Applicant = modelrisk.Applicant{Village: villages[village[i]]}
		require.NoError(b, refT.Add(&d))
	}
	ref := refT.Reference()

	// feed copies row i into the reused Decision, as a cursor's Scan would.
	feed := func(d *modelrisk.Decision, i int) {
		d.Score = int(score[i])
		d.Bins[0], d.Bins[1] = int(bins[i][0]), int(bins[i][1])
		d.Outcome = outcome[i]
		d.Applicant = modelrisk.Applicant{Village: villages[village[i]], ID: ids[i%len(ids)]}
		if score[i] >= 50 {
			d.Approved, d.Limit, d.Rate = true, int64(score[i])*100_000, 40_000+int64(i%5)*5_000
		}
	}

	// The baseline: the same rows through the same Decision, only summed.
	b.Run("feed", func(b *testing.B) {
		b.ReportAllocs()
		var sum int64
		for range b.N {
			for i := range n {
				feed(&d, i)
				sum += int64(d.Score) + d.Limit
			}
		}
		if sum == 0 {
			b.Fatal("nothing fed")
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/decision")
	})
	b.Run("report", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			t, err := modelrisk.NewTally(spec, cfg)
			if err != nil {
				b.Fatal(err)
			}
			for i := range n {
				feed(&d, i)
				if err := t.Add(&d); err != nil {
					b.Fatal(err)
				}
			}
			rep, err := t.Report(&ref)
			if err != nil {
				b.Fatal(err)
			}
			if !rep.Performance.Measured || rep.Decisions != n || len(rep.Fairness.Dimensions[0].Groups) != len(villages) {
				b.Fatal("the report did not count the population")
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/decision")
	})
}
