package projections

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The histogram's quantiles stay within 1% of the exact nearest-rank
// quantiles, whatever the spread of the values.
func TestSketchQuantileWithinOnePercent(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		draw func(r *rand.Rand) float64
	}{
		{"hours", func(r *rand.Rand) float64 { return 1 + r.Float64()*100 }},
		{"lognormal", func(r *rand.Rand) float64 { return 30 * math.Exp(1.2*r.NormFloat64()) }},
		{"minutes", func(r *rand.Rand) float64 { return 0.02 + r.Float64() }},
		{"months", func(r *rand.Rand) float64 { return 24 * 30 * (1 + r.Float64()*12) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(1, 2))
			hist := map[int]int64{}
			var vals []float64
			for range 5000 {
				v := c.draw(r)
				vals = append(vals, v)
				hist[bucketOf(v)]++
			}
			slices.Sort(vals)
			for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 1} {
				exact := vals[int(math.Ceil(q*float64(len(vals))))-1]
				if got := quantile(hist, q); math.Abs(got-exact) > 0.01*exact {
					t.Errorf("q%.2f = %v, exact %v", q, got, exact)
				}
			}
		})
	}
	if got := quantile(map[int]int64{}, 0.5); got != 0 {
		t.Errorf("empty histogram quantile = %v", got)
	}
	if got := quantile(map[int]int64{bucketOf(0): 3}, 0.5); got != 0 {
		t.Errorf("zero delays quantile = %v", got)
	}
}
