package areas_test

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
)

var (
	mainland = geo.Rect{MinX: 107.82, MinY: 15.92, MaxX: 108.34, MaxY: 16.22}
	urban    = geo.Rect{MinX: 108.15, MinY: 15.99, MaxX: 108.25, MaxY: 16.10} // the six urban districts
	merged   = geo.Rect{MinX: 107.2, MinY: 14.95, MaxX: 108.74, MaxY: 16.23}
)

func randomPoints(n int, r geo.Rect) [][2]float64 {
	rng := rand.New(rand.NewPCG(7, 8))
	out := make([][2]float64, n)
	for i := range out {
		out[i] = [2]float64{r.MinX + (r.MaxX-r.MinX)*rng.Float64(), r.MinY + (r.MaxY-r.MinY)*rng.Float64()}
	}
	return out
}

func BenchmarkLocate(b *testing.B) {
	s := defaultSet(b)
	for _, area := range []struct {
		name string
		r    geo.Rect
	}{{"urban", urban}, {"mainland", mainland}, {"merged", merged}} {
		pts := randomPoints(4096, area.r)
		b.Run(area.name, func(b *testing.B) {
			start := cpuTime()
			for i := 0; b.Loop(); i++ {
				p := pts[i%len(pts)]
				s.Locate(p[0], p[1])
			}
			reportCPU(b, start)
		})
	}
}

// BenchmarkTag tags point events with typical citizen-report properties,
// building a fresh event each time as the intake does.
func BenchmarkTag(b *testing.B) {
	tagger := newTagger(b)
	props := json.RawMessage(`{"category":"flooded_road","status":"received","depthCm":30,"photo":"https://example.invalid/p/1.jpg"}`)
	for _, area := range []struct {
		name string
		r    geo.Rect
	}{{"urban", urban}, {"mainland", mainland}} {
		pts := randomPoints(4096, area.r)
		geoms := make([]geom.T, len(pts))
		for i, p := range pts {
			geoms[i] = geom.NewPointFlat(geom.XY, []float64{p[0], p[1]})
		}
		b.Run(area.name, func(b *testing.B) {
			b.ReportAllocs()
			start := cpuTime()
			for i := 0; b.Loop(); i++ {
				ev := layers.Event{Layer: "feedback", ID: "r", Geometry: geoms[i%len(geoms)], Properties: props}
				tagger.Tag(&ev)
			}
			reportCPU(b, start)
		})
	}
}

func BenchmarkLocateGeometryLine(b *testing.B) {
	s := defaultSet(b)
	flat := make([]float64, 0, 200)
	for i := 0; i < 100; i++ { // a 100-vertex road through the centre
		flat = append(flat, 108.15+0.001*float64(i), 16.03+0.0005*float64(i))
	}
	g := geom.NewLineStringFlat(geom.XY, flat)
	start := cpuTime()
	for b.Loop() {
		s.LocateGeometry(g)
	}
	reportCPU(b, start)
}

// reportCPU adds the CPU time per operation since start as cpu-ns/op.
func reportCPU(b *testing.B, start time.Duration) {
	if end := cpuTime(); end > 0 && b.N > 0 {
		b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
	}
}
