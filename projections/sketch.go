package projections

import (
	"math"
	"slices"
)

// Hours to first take-charge are pre-aggregated as a log-bucketed histogram
// (the DDSketch idea): bucket i holds values in (γ^(i-1), γ^i], and its
// representative value 2γ^i/(γ+1) is within (γ-1)/(γ+1) < 1% of any of
// them. Buckets of any set of cells add up, so quantiles of any grouping
// come from summed bucket counts. Values under a minute go to zeroBucket
// and read as 0.
const (
	sketchGamma = 1.02
	zeroBucket  = math.MinInt32
	minHours    = 1.0 / 60
)

var logGamma = math.Log(sketchGamma)

func bucketOf(hours float64) int {
	if hours < minHours {
		return zeroBucket
	}
	return int(math.Ceil(math.Log(hours) / logGamma))
}

func bucketValue(b int) float64 {
	if b == zeroBucket {
		return 0
	}
	return 2 * math.Pow(sketchGamma, float64(b)) / (sketchGamma + 1)
}

// quantile returns the nearest-rank q-quantile (the value of rank
// ceil(q·n)) of a histogram, estimated to within 1%; 0 for an empty one.
func quantile(hist map[int]int64, q float64) float64 {
	var n int64
	keys := make([]int, 0, len(hist))
	for b, c := range hist {
		n += c
		keys = append(keys, b)
	}
	if n == 0 {
		return 0
	}
	slices.Sort(keys)
	rank := int64(math.Ceil(q * float64(n)))
	rank = max(rank, 1)
	var seen int64
	for _, b := range keys {
		seen += hist[b]
		if seen >= rank {
			return bucketValue(b)
		}
	}
	return bucketValue(keys[len(keys)-1])
}
