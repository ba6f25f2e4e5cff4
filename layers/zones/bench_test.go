package zones

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/layers"
)

// BenchmarkEvaluate100Zones measures the engine's cost per change record
// with 100 zones of 1–2 km over central Da Nang and 20,000 entities (lamps,
// sensors, moving teams) moving or changing state inside and around them.
// Only Step (reading the log, evaluating, writing summaries and events) is
// timed, not the store's own apply. The clock runs as if 50,000 changes
// arrived a second, so each zone's summary is written once per second of
// it, as in production.
func BenchmarkEvaluate100Zones(b *testing.B) {
	for _, zones := range []int{0, 100} {
		b.Run(fmt.Sprintf("zones=%d", zones), func(b *testing.B) { benchEvaluate(b, zones) })
	}
}

func benchEvaluate(b *testing.B, nZones int) {
	rng := rand.New(rand.NewPCG(1, 2))
	c := &clock{t: t0}
	s := layers.NewStore(layers.Config{LogSize: 1 << 16, Now: c.Now}, nil)
	e := New(Config{NewID: seqIDs()}, s, nil, nil)
	const minX, minY, w, h = 108.14, 15.97, 0.12, 0.12 // central Da Nang
	for range nZones {
		x, y := minX+rng.Float64()*w, minY+rng.Float64()*h
		size := 0.009 + rng.Float64()*0.009
		declare(b, e, &Zone{Name: "Z", Geometry: rect(x, y, x+size, y+size)})
	}
	layerNames := []string{"lighting.lamps", "environment.air", "flooding.streets", "response.teams", "feedback.reports"}
	props := []string{`{"state":"on","dark":false}`, `{"aqiBand":"moderate"}`, `{"depth":12,"depthClass":"shallow"}`,
		`{"name":"T","kind":"rescue","status":"busy"}`, `{"category":"flooded_road","open":true}`}
	const entities, batch = 20000, 1000
	// Sensors stay where they are and change state; teams (one entity in
	// five) move up to about 100 m per report.
	pos := make([][2]float64, entities)
	for i := range pos {
		pos[i] = [2]float64{minX + rng.Float64()*w, minY + rng.Float64()*h}
	}
	events := make([]layers.Event, 0, batch)
	at := t0
	next := func() {
		events = events[:0]
		at = at.Add(20 * time.Millisecond) // 50,000 changes a second: summaries are due every 50 batches
		for range batch {
			i := rng.IntN(entities)
			if layerNames[i%5] == "response.teams" {
				pos[i][0] += (rng.Float64() - 0.5) * 0.002
				pos[i][1] += (rng.Float64() - 0.5) * 0.002
			}
			p := props[i%5]
			if rng.IntN(2) == 0 {
				p = p[:len(p)-1] + `,"v":` + fmt.Sprint(rng.IntN(100)) + `}` // a new reading
			}
			events = append(events, feature(layerNames[i%5], fmt.Sprint(i), at, point(pos[i][0], pos[i][1]), p))
		}
		c.Set(at)
	}
	for range entities / batch { // fill the layers first
		next()
		s.Apply(events)
	}
	e.Step()
	b.ReportAllocs()
	b.ResetTimer()
	changes := 0
	for changes < b.N {
		b.StopTimer()
		next()
		changes += len(s.Apply(events))
		b.StartTimer()
		e.Step()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(changes), "ns/change")
}
