package layers

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/geo"
)

// Benchmarks run on synthetic city data: points spread uniformly over Da
// Nang (lon 107.82–108.34, lat 15.92–16.22), each with five small
// properties, as a bus or sensor report would carry.
//
//	go test -run='^$' -bench=. -benchtime=1x ./layers/        (smoke run)
//	go test -run='^$' -bench='Apply|InRect|Nearest|Snapshot' -benchtime=2s ./layers/
//	go test -run='^$' -bench=Memory1M ./layers/

const benchBatch = 1000

// benchProps returns a fresh five-property object, as a stream would
// produce it from a decoded message (no sharing between events).
func benchProps(r *rand.Rand) []byte {
	b := make([]byte, 0, 80)
	b = append(b, `{"speed":`...)
	b = strconv.AppendInt(b, int64(r.IntN(80)), 10)
	b = append(b, `,"heading":`...)
	b = strconv.AppendInt(b, int64(r.IntN(360)), 10)
	b = append(b, `,"route":"R`...)
	b = strconv.AppendInt(b, int64(r.IntN(40)), 10)
	b = append(b, `","load":`...)
	b = strconv.AppendInt(b, int64(r.IntN(100)), 10)
	b = append(b, `,"ok":true}`...)
	return b
}

func benchID(i int) string { return "veh-" + strconv.Itoa(i) }

// benchEvent is a point report for entity i of layer at obs.
func benchEvent(r *rand.Rand, layer string, i int, obs time.Time) Event {
	x, y := randomPoint(r, danang)
	return Event{Layer: layer, ID: benchID(i), Time: obs, Geometry: point(x, y), Properties: benchProps(r)}
}

// loadLayer fills layer with n points (ids 0..n-1) in batches.
func loadLayer(s *Store, r *rand.Rand, layer string, n int) {
	batch := make([]Event, 0, benchBatch)
	for i := range n {
		batch = append(batch, benchEvent(r, layer, i, t0))
		if len(batch) == benchBatch || i == n-1 {
			s.Apply(batch)
			clear(batch)
			batch = batch[:0]
		}
	}
}

func benchStore() *Store {
	return NewStore(Config{Now: func() time.Time { return t0.Add(time.Hour) }}, nil)
}

// moveBatches prebuilds batches of moves of distinct existing ids.
func moveBatches(r *rand.Rand, layer string, ids []int, nBatches int) [][]Event {
	out := make([][]Event, nBatches)
	for b := range out {
		perm := r.Perm(len(ids))[:benchBatch]
		out[b] = make([]Event, benchBatch)
		for i, p := range perm {
			out[b][i] = benchEvent(r, layer, ids[p], t0)
		}
	}
	return out
}

// allocCounter measures allocations over a section of a benchmark.
type allocCounter struct{ mallocs, bytes uint64 }

func (a *allocCounter) start() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	a.mallocs, a.bytes = ms.Mallocs, ms.TotalAlloc
}

func (a *allocCounter) report(b *testing.B, events float64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.Mallocs-a.mallocs)/events, "allocs/event")
	b.ReportMetric(float64(ms.TotalAlloc-a.bytes)/events, "B/event")
}

// BenchmarkApply: batches of 1000 moves into a layer of 100,000 entities.
func BenchmarkApply(b *testing.B) {
	const entities = 100_000
	r := rand.New(rand.NewPCG(1, 1))
	s := benchStore()
	loadLayer(s, r, "bus", entities)
	ids := make([]int, entities)
	for i := range ids {
		ids[i] = i
	}
	batches := moveBatches(r, "bus", ids, 64)

	var ac allocCounter
	ac.start()
	runtime.GC() // settle the setup's garbage before measuring
	cpu0 := processCPU()
	n := 0
	for b.Loop() {
		batch := batches[n%len(batches)]
		obs := t0.Add(time.Duration(n+1) * time.Millisecond) // newer every time
		for i := range batch {
			batch[i].Time = obs
		}
		if cs := s.Apply(batch); len(cs) != benchBatch {
			b.Fatalf("%d changes from a batch of %d moves", len(cs), benchBatch)
		}
		n++
	}
	events := float64(n * benchBatch)
	b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/events, "ns/event")
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/events, "cpu-ns/event")
	ac.report(b, events)
	if got := s.Layer("bus").Len(); got != entities {
		b.Fatalf("layer holds %d entities", got)
	}
}

// BenchmarkApplyParallel: concurrent batches of 1000 moves into 4 layers
// of 100,000 entities each; every goroutine owns a slice of one layer's
// ids, so no event is late.
func BenchmarkApplyParallel(b *testing.B) {
	const (
		nLayers  = 4
		entities = 100_000
	)
	procs := runtime.GOMAXPROCS(0)
	par := (nLayers + procs - 1) / procs
	goroutines := par * procs
	slots := (goroutines + nLayers - 1) / nLayers

	r := rand.New(rand.NewPCG(2, 2))
	s := benchStore()
	for l := range nLayers {
		loadLayer(s, r, "layer"+strconv.Itoa(l), entities)
	}
	work := make([][][]Event, goroutines)
	for g := range work {
		var ids []int
		for i := g / nLayers; i < entities; i += slots {
			ids = append(ids, i)
		}
		work[g] = moveBatches(r, "layer"+strconv.Itoa(g%nLayers), ids, 16)
	}

	var next, total atomic.Int64
	var ac allocCounter
	ac.start()
	runtime.GC() // settle the setup's garbage before measuring
	cpu0 := processCPU()
	b.SetParallelism(par)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		g := int(next.Add(1) - 1)
		batches := work[g]
		n := 0
		for pb.Next() {
			batch := batches[n%len(batches)]
			obs := t0.Add(time.Duration(n+1) * time.Millisecond)
			for i := range batch {
				batch[i].Time = obs
			}
			s.Apply(batch)
			n++
		}
		total.Add(int64(n * benchBatch))
	})
	b.StopTimer()
	events := float64(total.Load())
	b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(goroutines), "goroutines")
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/events, "cpu-ns/event")
	ac.report(b, events)
}

// benchPoints is a store with one layer of n points, built once per
// benchmark run.
func benchPoints(n int, seed uint64) (*Store, *Layer) {
	s := benchStore()
	loadLayer(s, rand.New(rand.NewPCG(seed, seed)), "sensor", n)
	return s, s.Layer("sensor")
}

// BenchmarkInRect: 1,000,000 points over Da Nang; each query is a box of
// about 1.8 × 1.05 km (a ward or a small district, 1/1000 of the city's
// box), which holds about 1,000 points.
func BenchmarkInRect(b *testing.B) {
	const n = 1_000_000
	_, l := benchPoints(n, 3)
	w := (danang.MaxX - danang.MinX) / math.Sqrt(1000)
	h := (danang.MaxY - danang.MinY) / math.Sqrt(1000)
	r := rand.New(rand.NewPCG(4, 4))
	boxes := make([]geo.Rect, 256)
	for i := range boxes {
		x := danang.MinX + r.Float64()*(danang.MaxX-danang.MinX-w)
		y := danang.MinY + r.Float64()*(danang.MaxY-danang.MinY-h)
		boxes[i] = geo.Rect{MinX: x, MinY: y, MaxX: x + w, MaxY: y + h}
	}
	var dst []*Feature
	hits, queries := 0, 0
	runtime.GC() // settle the setup's garbage before measuring
	cpu0 := processCPU()
	for b.Loop() {
		dst = l.InRect(dst[:0], boxes[queries%len(boxes)], 0)
		hits += len(dst)
		queries++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(queries), "µs/query")
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/1e3/float64(queries), "cpu-µs/query")
	b.ReportMetric(float64(hits)/float64(queries), "hits/query")
}

// BenchmarkNearest: the 10 nearest of 100,000 points to random places.
func BenchmarkNearest(b *testing.B) {
	const n = 100_000
	_, l := benchPoints(n, 5)
	r := rand.New(rand.NewPCG(6, 6))
	queries := 0
	runtime.GC() // settle the setup's garbage before measuring
	cpu0 := processCPU()
	for b.Loop() {
		x, y := randomPoint(r, danang)
		if hits := l.Nearest(x, y, 10, 0); len(hits) != 10 {
			b.Fatalf("%d hits", len(hits))
		}
		queries++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(queries), "µs/query")
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/1e3/float64(queries), "cpu-µs/query")
}

// BenchmarkSnapshot: a full snapshot of a layer of 100,000 features, as a
// client connecting without a bbox would get.
func BenchmarkSnapshot(b *testing.B) {
	const n = 100_000
	s, _ := benchPoints(n, 7)
	names := []string{"sensor"}
	snaps := 0
	runtime.GC() // settle the setup's garbage before measuring
	cpu0 := processCPU()
	for b.Loop() {
		if snap := s.Snapshot(names, geo.World); len(snap.Features) != n {
			b.Fatalf("%d features", len(snap.Features))
		}
		snaps++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(snaps), "ms/snapshot")
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/1e6/float64(snaps), "cpu-ms/snapshot")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(snaps*n), "ns/feature")
}

// BenchmarkMemory1M loads 1,000,000 point features with five small
// properties each into one layer and reports the live heap they take,
// measured after GC. The store uses the default configuration, so the
// total includes the change log ring (262,144 records) too.
func BenchmarkMemory1M(b *testing.B) {
	const n = 1_000_000
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	s := NewStore(Config{}, nil)
	ring := heap() - before
	loadLayer(s, rand.New(rand.NewPCG(8, 8)), "sensor", n)
	total := heap() - before
	if s.Layer("sensor").Len() != n {
		b.Fatal("load failed")
	}
	for b.Loop() {
		_ = s.Layer("sensor").Len()
	}
	runtime.KeepAlive(s)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(total)/1e6, "heap-MB")
	b.ReportMetric(float64(total-ring)/n, "heap-B/feature")
	b.ReportMetric(float64(ring)/1e6, "log-ring-MB")
}

// sanity check for the benchmark helpers, run with the tests.
func TestBenchHelpers(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	ev := benchEvent(r, "bus", 7, t0)
	f := newFeature(&ev, false)
	if ev.ID != "veh-7" || !danang.ContainsPoint(ev.Geometry.FlatCoords()[0], ev.Geometry.FlatCoords()[1]) {
		t.Errorf("event %+v", ev)
	}
	var w wireFeature
	if err := json.Unmarshal(f.JSON(), &w); err != nil || string(w.Properties) != string(ev.Properties) {
		t.Errorf("feature %s: %v", f.JSON(), err)
	}
	s, l := benchPoints(3000, 1)
	if l.Len() != 3000 || s.Log().Last() != 3000 {
		t.Errorf("benchPoints: %d entities, %d changes", l.Len(), s.Log().Last())
	}
}
