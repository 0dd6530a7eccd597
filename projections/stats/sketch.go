package stats

import (
	"encoding/binary"
	"errors"
	"math"
	"sync"
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

// hist is a histogram of buckets: zero counts the delays under a minute,
// counts[i] bucket lo+i. It is dense because buckets of real delays span a
// few hundred values (a minute to a few years is about 750 buckets), and
// summing thousands of cells' histograms into a slice costs far less than
// into a map. Counts may go negative while a delta is being built; stored
// histograms never are. total is the sum of zero and counts, kept as they
// change so that quantiles need not sum hundreds of buckets first (that
// sum was two fifths of quantiles' CPU over 1M needs).
type hist struct {
	zero   int64
	total  int64
	lo     int
	counts []int64
}

func (h *hist) add(b int, n int64) {
	h.total += n
	if b == zeroBucket {
		h.zero += n
		return
	}
	h.cover(b, b+1)
	h.counts[b-h.lo] += n
}

// sub takes o's counts out of h (the figures of a group minus those of
// its part; counts stay non-negative when o is part of h).
func (h *hist) sub(o *hist) {
	h.zero -= o.zero
	h.total -= o.total
	if len(o.counts) == 0 {
		return
	}
	h.cover(o.lo, o.lo+len(o.counts))
	for i, c := range o.counts {
		h.counts[o.lo+i-h.lo] -= c
	}
}

// cover grows the span of counts to include buckets [from, to).
func (h *hist) cover(from, to int) {
	if len(h.counts) == 0 {
		// Encoded runs come in increasing order: leave room ahead.
		h.lo, h.counts = from, takeCounts(to-from+256)
		return
	}
	hi := h.lo + len(h.counts)
	if from >= h.lo && to <= hi {
		return
	}
	// Grow by half again on the side that grew: a sum of many cells
	// widens a little at a time, and each reallocation copies the span.
	slack := max(32, len(h.counts)/2)
	lo, newHi := h.lo, hi
	if from < lo {
		lo = from - slack
	}
	if to > newHi {
		newHi = to + slack
	}
	grown := takeCounts(newHi - lo)
	copy(grown[h.lo-lo:], h.counts)
	putCounts(h.counts)
	h.lo, h.counts = lo, grown
}

// countsPool recycles the dense spans of histograms. A statistics query
// sums one histogram per group: over 1,000,000 needs a month × subject
// query allocated about 3 MB of spans per request, and under concurrent
// requests the garbage collector took a third of the CPU (profile of
// `reso-bench http --needs 1000000`, stats phase).
var countsPool sync.Pool

// takeCounts returns a zeroed span of n counts, recycled when one fits.
func takeCounts(n int) []int64 {
	if p, ok := countsPool.Get().(*[]int64); ok && cap(*p) >= n {
		s := (*p)[:n]
		clear(s)
		return s
	}
	return make([]int64, n)
}

// putCounts offers a span no histogram uses any more for reuse.
func putCounts(s []int64) {
	if cap(s) > 0 {
		s = s[:0]
		countsPool.Put(&s)
	}
}

// release empties h and recycles its span; h must not be read after.
func (h *hist) release() {
	putCounts(h.counts)
	h.zero, h.total, h.lo, h.counts = 0, 0, 0, nil
}

// isZero says whether every count is 0.
func (h *hist) isZero() bool {
	if h.zero != 0 {
		return false
	}
	for _, n := range h.counts {
		if n != 0 {
			return false
		}
	}
	return true
}

// negative says whether any count is below 0.
func (h *hist) negative() bool {
	if h.zero < 0 {
		return true
	}
	for _, n := range h.counts {
		if n < 0 {
			return true
		}
	}
	return false
}

// quantile returns the nearest-rank q-quantile (the value of rank
// ceil(q·n)) of the histogram, estimated to within 1%; 0 for an empty one.
func (h *hist) quantile(q float64) float64 {
	v, _ := h.quantiles(q, q)
	return v
}

// quantiles returns the qa- and qb-quantiles (qa <= qb) as quantile does,
// in one pass over the buckets: a statistics row asks for two, and summing
// and scanning a few hundred buckets twice was a tenth of a query's CPU.
func (h *hist) quantiles(qa, qb float64) (float64, float64) {
	n := h.total
	if n <= 0 {
		return 0, 0
	}
	ranks := [2]int64{max(int64(math.Ceil(qa*float64(n))), 1), max(int64(math.Ceil(qb*float64(n))), 1)}
	var out [2]float64
	k := 0
	seen := h.zero
	for k < 2 && seen >= ranks[k] {
		k++ // at or under a minute: 0
	}
	last := 0
	for i, c := range h.counts {
		if k == 2 {
			break
		}
		if c == 0 {
			continue
		}
		seen += c
		last = h.lo + i
		for k < 2 && seen >= ranks[k] {
			out[k] = bucketValue(last)
			k++
		}
	}
	for ; k < 2; k++ {
		out[k] = bucketValue(last)
	}
	return out[0], out[1]
}

// appendEncoded appends the histogram's canonical encoding to dst: the
// zero count (uvarint), then each run of buckets, in increasing order, as
// its distance from the end of the previous run (from 0 for the first;
// zigzag varint), its length (uvarint) and its counts (uvarints). A run
// starts and ends with a non-empty bucket and holds no gap of maxGap or
// more empty buckets (a short gap costs less as zeros than as a new run).
// Equal histograms encode to equal bytes, so that a rebuilt table equals
// the one maintained live; the counts of a cell's dense middle take a byte
// each and decode in a tight loop, which is what queries summing thousands
// of cells spend their time on. Counts must not be negative.
func (h *hist) appendEncoded(dst []byte) []byte {
	const maxGap = 3
	dst = binary.AppendUvarint(dst, uint64(h.zero))
	end := 0
	for i := 0; i < len(h.counts); {
		if h.counts[i] == 0 {
			i++
			continue
		}
		// j is one past the run's last non-empty bucket.
		j, k := i+1, i+1
		for k < len(h.counts) && k-j < maxGap {
			if h.counts[k] != 0 {
				j = k + 1
			}
			k++
		}
		dst = binary.AppendVarint(dst, int64(h.lo+i-end))
		dst = binary.AppendUvarint(dst, uint64(j-i))
		for _, c := range h.counts[i:j] {
			dst = binary.AppendUvarint(dst, uint64(c))
		}
		end = h.lo + j
		i = j
	}
	return dst
}

var errBadHist = errors.New("malformed hours histogram")

// maxBucket bounds the buckets a stored histogram may hold: bucket 2000 is
// 10^17 hours, far beyond any delay, so a larger one means the bytes are
// not a histogram.
const maxBucket = 2000

// addEncoded adds the histogram encoded in buf (by appendEncoded) to h. It
// returns errBadHist when buf is not such an encoding.
func (h *hist) addEncoded(buf []byte) error {
	z, k := binary.Uvarint(buf)
	if k <= 0 {
		return errBadHist
	}
	h.zero += int64(z)
	h.total += int64(z)
	buf = buf[k:]
	end := 0
	for len(buf) > 0 {
		d, k := binary.Varint(buf)
		if k <= 0 {
			return errBadHist
		}
		buf = buf[k:]
		n, k := binary.Uvarint(buf)
		if k <= 0 || n > uint64(len(buf)) {
			return errBadHist
		}
		buf = buf[k:]
		from := end + int(d)
		to := from + int(n)
		if from < -maxBucket || to > maxBucket || n == 0 {
			return errBadHist
		}
		h.cover(from, to)
		// Counts under 128 take one byte, as most do: read them inline
		// rather than through binary.Uvarint and a re-slice each.
		counts := h.counts[from-h.lo : to-h.lo]
		p, sum := 0, int64(0)
		for i := range counts {
			if p < len(buf) && buf[p] < 0x80 {
				counts[i] += int64(buf[p])
				sum += int64(buf[p])
				p++
				continue
			}
			c, k := binary.Uvarint(buf[p:])
			if k <= 0 {
				return errBadHist
			}
			p += k
			counts[i] += int64(c)
			sum += int64(c)
		}
		buf = buf[p:]
		h.total += sum
		end = to
	}
	return nil
}
