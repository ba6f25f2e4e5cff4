package replay

import (
	"encoding/json"
	"time"
)

// SeriesAgg builds Series buckets from records fed in history order. Stores
// that cannot aggregate server-side (the embedded one) share it, so that
// every store buckets the same way.
type SeriesAgg struct {
	from    time.Time
	step    time.Duration
	buckets []Bucket
}

// NewSeries returns an aggregator with buckets aligned on from.
func NewSeries(from time.Time, step time.Duration) *SeriesAgg {
	return &SeriesAgg{from: from, step: step}
}

// Add counts r's numeric value of property, if it is an observation
// (upsert or late) that has one.
func (a *SeriesAgg) Add(r *Record, property string) {
	if r.Op != OpUpsert && r.Op != OpLate || len(r.Properties) == 0 {
		return
	}
	var props map[string]json.RawMessage
	if json.Unmarshal(r.Properties, &props) != nil {
		return
	}
	var v float64
	if json.Unmarshal(props[property], &v) != nil {
		return // absent, null or not a number
	}
	start := a.from.Add(r.Time.Sub(a.from) / a.step * a.step)
	if r.Time.Before(a.from) {
		return
	}
	n := len(a.buckets)
	if n == 0 || !a.buckets[n-1].Start.Equal(start) {
		a.buckets = append(a.buckets, Bucket{Start: start, Min: v, Max: v})
		n++
	}
	b := &a.buckets[n-1]
	b.Count++
	b.Min, b.Max = min(b.Min, v), max(b.Max, v)
	b.Avg += v // the sum until Buckets divides it
	b.Last = v
}

// Buckets returns the non-empty buckets, oldest first.
func (a *SeriesAgg) Buckets() []Bucket {
	out := make([]Bucket, len(a.buckets))
	for i, b := range a.buckets {
		b.Avg /= float64(b.Count)
		out[i] = b
	}
	return out
}
