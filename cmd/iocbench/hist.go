package main

import (
	"math/bits"
	"slices"
	"time"
)

// histogram records durations in microseconds in log-linear buckets: 64
// exact buckets below 64µs, then 64 buckets per power of two, so every
// recorded value is kept within 1/64 (1.6%) of its true value. It is not
// safe for concurrent use; each goroutine keeps its own and they are merged.
type histogram struct {
	counts []uint64
	n      uint64
	sum    float64 // µs
	max    int64   // µs, exact
}

const subBuckets = 64

func bucketOf(us int64) int {
	if us < subBuckets {
		return int(max(us, 0))
	}
	shift := bits.Len64(uint64(us)) - 7 // us>>shift is in [64, 128)
	return subBuckets + shift*subBuckets + int(us>>shift) - subBuckets
}

// bucketValue is the midpoint of bucket i in µs.
func bucketValue(i int) float64 {
	if i < subBuckets {
		return float64(i)
	}
	shift := (i - subBuckets) / subBuckets
	low := int64(subBuckets+(i-subBuckets)%subBuckets) << shift
	return float64(low) + float64(int64(1)<<shift)/2 - 0.5
}

func (h *histogram) record(d time.Duration) {
	us := d.Microseconds()
	i := bucketOf(us)
	if i >= len(h.counts) {
		h.counts = append(h.counts, make([]uint64, i+1-len(h.counts))...)
	}
	h.counts[i]++
	h.n++
	h.sum += float64(max(us, 0))
	h.max = max(h.max, us)
}

func (h *histogram) merge(o *histogram) {
	if len(o.counts) > len(h.counts) {
		h.counts = append(h.counts, make([]uint64, len(o.counts)-len(h.counts))...)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// quantile returns the q-quantile (0 < q <= 1) in milliseconds.
func (h *histogram) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(bucketValue(i), float64(h.max)) / 1000
		}
	}
	return float64(h.max) / 1000
}

// Latency is a latency distribution in milliseconds.
type Latency struct {
	Count  uint64  `json:"count"`
	MeanMS float64 `json:"mean_ms"`
	P50MS  float64 `json:"p50_ms"`
	P90MS  float64 `json:"p90_ms"`
	P99MS  float64 `json:"p99_ms"`
	P999MS float64 `json:"p999_ms"`
	MaxMS  float64 `json:"max_ms"`
}

func (h *histogram) summary() Latency {
	l := Latency{Count: h.n, MaxMS: float64(h.max) / 1000}
	if h.n > 0 {
		l.MeanMS = h.sum / float64(h.n) / 1000
	}
	l.P50MS, l.P90MS, l.P99MS, l.P999MS = h.quantile(0.5), h.quantile(0.9), h.quantile(0.99), h.quantile(0.999)
	return l
}

// Spread is min, median and max of a few repeated measurements.
type Spread struct {
	MinMS    float64 `json:"min_ms"`
	MedianMS float64 `json:"median_ms"`
	MaxMS    float64 `json:"max_ms"`
}

func spreadOf(ds []time.Duration) Spread {
	if len(ds) == 0 {
		return Spread{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return Spread{MinMS: msOf(s[0]), MedianMS: msOf(s[len(s)/2]), MaxMS: msOf(s[len(s)-1])}
}

func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
