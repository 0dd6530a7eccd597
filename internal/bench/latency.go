package bench

import (
	"slices"
	"time"
)

// Recorder collects latencies for one goroutine; it is not safe for
// concurrent use, so that recording costs no lock: give each worker its own
// and Merge them at the end.
type Recorder struct {
	samples []time.Duration
}

// Add records one latency.
func (r *Recorder) Add(d time.Duration) { r.samples = append(r.samples, d) }

// Len returns the number of recorded latencies.
func (r *Recorder) Len() int { return len(r.samples) }

// Latency summarises latencies in milliseconds.
type Latency struct {
	Count int     `json:"count"`
	P50Ms float64 `json:"p50_ms"`
	P90Ms float64 `json:"p90_ms"`
	P99Ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
}

// Merge summarises the latencies of every recorder.
func Merge(recs ...*Recorder) Latency {
	var all []time.Duration
	for _, r := range recs {
		all = append(all, r.samples...)
	}
	slices.Sort(all)
	if len(all) == 0 {
		return Latency{}
	}
	return Latency{
		Count: len(all),
		P50Ms: ms(Percentile(all, 50)),
		P90Ms: ms(Percentile(all, 90)),
		P99Ms: ms(Percentile(all, 99)),
		MaxMs: ms(all[len(all)-1]),
	}
}

// Percentile returns the p-th percentile (0..100) of sorted latencies by
// the nearest-rank method; 0 when there are none.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted)) + 0.999999999)
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

func ms(d time.Duration) float64 { return Round(float64(d)/float64(time.Millisecond), 3) }
