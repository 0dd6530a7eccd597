package stats

import (
	"bytes"
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
			var h hist
			var vals []float64
			for range 5000 {
				v := c.draw(r)
				vals = append(vals, v)
				h.add(bucketOf(v), 1)
			}
			slices.Sort(vals)
			for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 1} {
				exact := vals[int(math.Ceil(q*float64(len(vals))))-1]
				if got := h.quantile(q); math.Abs(got-exact) > 0.01*exact {
					t.Errorf("q%.2f = %v, exact %v", q, got, exact)
				}
			}
			// Two at once, as a statistics row asks them.
			for _, qs := range [][2]float64{{0.5, 0.9}, {0.01, 0.99}, {0.9, 0.9}, {0.99, 1}} {
				a, b := h.quantiles(qs[0], qs[1])
				for i, got := range []float64{a, b} {
					exact := vals[int(math.Ceil(qs[i]*float64(len(vals))))-1]
					if math.Abs(got-exact) > 0.01*exact {
						t.Errorf("quantiles(%v): q%.2f = %v, exact %v", qs, qs[i], got, exact)
					}
				}
			}
		})
	}
	var empty, zeros hist
	if got := empty.quantile(0.5); got != 0 {
		t.Errorf("empty histogram quantile = %v", got)
	}
	zeros.add(bucketOf(0), 3)
	if got := zeros.quantile(0.5); got != 0 {
		t.Errorf("zero delays quantile = %v", got)
	}
	// Six of ten delays under a minute: the median is 0, the 90th is not.
	zeros.add(bucketOf(0), 3)
	zeros.add(bucketOf(10), 4)
	if med, p90 := zeros.quantiles(0.5, 0.9); med != 0 || math.Abs(p90-10) > 0.1 {
		t.Errorf("quantiles(0.5, 0.9) = %v, %v; want 0 and 10", med, p90)
	}
}

// Histograms survive their encoding, merge by adding counts, and encode
// canonically: the same counts give the same bytes whatever the order
// and the cancellations they were built with.
func TestHistEncodingRoundTripAndCanonical(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	want := map[int]int64{}
	var direct, noisy hist
	for range 2000 {
		b := bucketOf(math.Exp(r.NormFloat64()*3) * 30)
		if r.IntN(20) == 0 {
			b = zeroBucket
		}
		want[b]++
		direct.add(b, 1)
		// noisy adds and removes values that leave nothing behind,
		// outside and inside the span of the others.
		if b != zeroBucket {
			noisy.add(b+400, 1)
		}
		noisy.add(b, 1)
		if b != zeroBucket {
			noisy.add(b+400, -1)
		}
	}
	noisy.add(-300, 5)
	noisy.add(-300, -5)
	enc := direct.appendEncoded(nil)
	if got := noisy.appendEncoded(nil); !bytes.Equal(got, enc) {
		t.Fatalf("same counts, different encodings:\n%x\n%x", got, enc)
	}
	var back hist
	if err := back.addEncoded(enc); err != nil {
		t.Fatal(err)
	}
	if err := back.addEncoded(enc); err != nil {
		t.Fatal(err)
	}
	got := map[int]int64{}
	if back.zero != 0 {
		got[zeroBucket] = back.zero
	}
	for i, n := range back.counts {
		if n != 0 {
			got[back.lo+i] = n
		}
	}
	if len(got) != len(want) {
		t.Fatalf("decoded %d buckets, want %d", len(got), len(want))
	}
	for b, n := range want {
		if got[b] != 2*n {
			t.Errorf("bucket %d: %d after adding twice, want %d", b, got[b], 2*n)
		}
	}
	var empty hist
	if enc := empty.appendEncoded(nil); len(enc) != 1 {
		t.Errorf("empty histogram encodes to %x", enc)
	}
	for _, bad := range [][]byte{nil, {0, 0x80}, {0, 2}, {0, 0xfe, 0xff, 0xff, 0x7f, 1}} {
		var h hist
		if err := h.addEncoded(bad); err == nil {
			t.Errorf("%x decoded without error", bad)
		}
	}
}

// BenchmarkQuantiles compares a row's two quantiles asked one by one with
// both in one pass, on a histogram of a few hundred buckets.
func BenchmarkQuantiles(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	var h hist
	for range 100000 {
		h.add(bucketOf(30*math.Exp(1.2*r.NormFloat64())), 1)
	}
	b.Run("one_by_one", func(b *testing.B) {
		for b.Loop() {
			_, _ = h.quantile(0.5), h.quantile(0.9)
		}
	})
	b.Run("one_pass", func(b *testing.B) {
		for b.Loop() {
			_, _ = h.quantiles(0.5, 0.9)
		}
	})
}

// TestHistTotal checks that total stays the sum of the counts through
// add, addEncoded and sub, which quantiles relies on.
func TestHistTotal(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	check := func(what string, h *hist) {
		t.Helper()
		n := h.zero
		for _, c := range h.counts {
			n += c
		}
		if h.total != n {
			t.Fatalf("%s: total %d, counts sum to %d", what, h.total, n)
		}
	}
	var a, b hist
	for range 1000 {
		a.add(bucketOf(r.ExpFloat64()*50), int64(r.IntN(5)+1))
		b.add(bucketOf(r.ExpFloat64()*500), int64(r.IntN(5)+1))
	}
	a.add(bucketOf(0), 3)
	check("add", &a)
	var sum hist
	for _, h := range []*hist{&a, &b, &a} {
		if err := sum.addEncoded(h.appendEncoded(nil)); err != nil {
			t.Fatal(err)
		}
	}
	check("addEncoded", &sum)
	sum.sub(&b)
	check("sub", &sum)
	sum.release()
	check("release", &sum)
}

// BenchmarkAddEncoded sums a cell's histogram (200 whole hours, a few
// needs each, as the cells of 1,000,000 needs hold) into a group's.
func BenchmarkAddEncoded(b *testing.B) {
	var h hist
	for hour := 1; hour <= 200; hour++ {
		h.add(bucketOf(float64(hour)), int64(hour%9+1))
	}
	enc := h.appendEncoded(nil)
	var sum hist
	for b.Loop() {
		if err := sum.addEncoded(enc); err != nil {
			b.Fatal(err)
		}
	}
}
