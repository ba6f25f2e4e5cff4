package layers

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
)

// Da Nang's extent, where the test scatters its entities.
var danang = geo.Rect{MinX: 107.82, MinY: 15.92, MaxX: 108.34, MaxY: 16.22}

func randomPoint(r *rand.Rand, within geo.Rect) (float64, float64) {
	return within.MinX + r.Float64()*(within.MaxX-within.MinX), within.MinY + r.Float64()*(within.MaxY-within.MinY)
}

func randomGeometry(r *rand.Rand, layer string, within geo.Rect) geom.T {
	x, y := randomPoint(r, within)
	if layer != "road" {
		return point(x, y)
	}
	flat := []float64{x, y}
	for range 1 + r.IntN(3) {
		x += (r.Float64() - 0.5) * 0.02
		y += (r.Float64() - 0.5) * 0.02
		flat = append(flat, x, y)
	}
	return geom.NewLineStringFlat(geom.XY, flat)
}

// TestConcurrentApplyAndQuery runs writers (upserts, moves, deletes, late
// events, on overlapping ids in several layers), a sweeper on an advancing
// clock, and readers of every query at once. Readers check what they can
// locally; afterwards every index is checked against byID, the final state
// against the log, and every snapshot taken against a replay of the log up
// to its sequence number.
func TestConcurrentApplyAndQuery(t *testing.T) {
	layerNames := []string{"air", "bus", "cam", "road"}
	clk := newClock(t0)
	s := NewStore(Config{
		Now:     clk.Now,
		LogSize: 1 << 20, // the whole run stays in the log
		Layers:  map[string]LayerConfig{"bus": {TTL: 3 * time.Second}, "air": {TTL: time.Second}},
	}, nil)

	const (
		writers      = 4
		batches      = 400
		idsPerLayer  = 40
		maxBatch     = 8
		maxSnapshots = 40
	)
	// A small area makes the entities crowd each other in the R-tree.
	area := geo.Rect{MinX: 108.18, MinY: 16.02, MaxX: 108.26, MaxY: 16.10}

	var writersLeft atomic.Int32
	writersLeft.Store(writers)
	running := func() bool { return writersLeft.Load() > 0 }
	var wg sync.WaitGroup

	for w := range writers {
		wg.Go(func() {
			defer writersLeft.Add(-1)
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range batches {
				batch := make([]Event, 1+r.IntN(maxBatch))
				now := clk.Now()
				for i := range batch {
					layer := layerNames[r.IntN(len(layerNames))]
					id := fmt.Sprintf("e%02d", r.IntN(idsPerLayer))
					obs := now.Add(-time.Duration(r.IntN(300)) * time.Millisecond)
					if r.IntN(100) < 10 {
						obs = now.Add(-time.Minute) // late, or stale on arrival
					}
					if r.IntN(100) < 15 {
						batch[i] = del(layer, id, obs)
						continue
					}
					batch[i] = Event{Layer: layer, ID: id, Time: obs, Geometry: randomGeometry(r, layer, area),
						Properties: []byte(fmt.Sprintf(`{"w":%d,"n":%d}`, w, r.IntN(3)))}
				}
				for _, c := range s.Apply(batch) {
					if c.Seq == 0 || (c.Kind == KindUpsert && c.New == nil) || (c.Kind == KindDelete && c.New != nil) {
						t.Errorf("writer %d: bad change %s", w, describe(c))
					}
				}
			}
		})
	}

	// The sweeper moves the clock on and marks silent entities stale.
	wg.Go(func() {
		for running() {
			clk.Add(50 * time.Millisecond)
			for _, c := range s.Sweep() {
				if c.Kind != KindStale || !c.New.Stale || c.Old.Stale {
					t.Errorf("sweep: bad change %s", describe(c))
				}
			}
		}
	})

	var snapMu sync.Mutex
	var snaps []Snapshot
	for rd := range 3 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(100+rd), 2))
			for running() {
				x, y := randomPoint(r, area)
				box := geo.Rect{MinX: x - 0.01, MinY: y - 0.01, MaxX: x + 0.01, MaxY: y + 0.01}
				layer := s.Layer(layerNames[r.IntN(len(layerNames))])
				switch r.IntN(6) {
				case 0:
					if layer == nil {
						continue
					}
					for _, f := range layer.InRect(nil, box, 0) {
						if f.Layer != layer.Name() || !geo.IntersectsRect(f.Geometry, box) {
							t.Errorf("InRect returned %s/%s outside %v", f.Layer, f.ID, box)
						}
					}
				case 1:
					hits := s.Nearest(layerNames, x, y, 5, 0)
					if len(hits) > 5 || !slices.IsSortedFunc(hits, func(a, b Hit) int { return cmpFloat(a.Distance, b.Distance) }) {
						t.Errorf("Nearest: %d hits, sorted %v", len(hits), hitIDs(hits))
					}
				case 2:
					if layer == nil {
						continue
					}
					for _, h := range layer.Within(x, y, 800, 0) {
						if h.Distance > 800 {
							t.Errorf("Within 800 m returned %s at %g m", h.Feature.ID, h.Distance)
						}
					}
				case 3:
					before := s.Log().Last()
					snap := s.Snapshot(layerNames, geo.World)
					if snap.Seq < before || snap.Seq > s.Log().Last() || snap.Epoch != s.Epoch() {
						t.Errorf("snapshot seq %d outside [%d, %d]", snap.Seq, before, s.Log().Last())
					}
					snapMu.Lock()
					if len(snaps) < maxSnapshots {
						snaps = append(snaps, snap)
					}
					snapMu.Unlock()
				case 4:
					if last := s.Log().Last(); last > 0 {
						from := max(1, last-50)
						cs, err := s.Log().Read(nil, from, 100)
						if err != nil {
							t.Errorf("Read(%d): %v", from, err)
						}
						for i, c := range cs {
							if c.Seq != from+uint64(i) {
								t.Errorf("Read(%d)[%d] has seq %d", from, i, c.Seq)
								break
							}
						}
					}
				case 5:
					if layer == nil {
						continue
					}
					if f := layer.Get(fmt.Sprintf("e%02d", r.IntN(idsPerLayer))); f != nil && f.Layer != layer.Name() {
						t.Errorf("Get returned a feature of layer %s", f.Layer)
					}
					layer.Info()
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	checkStore(t, s)

	// Replay the log: the last applied change of each entity is its state.
	all, err := s.Log().Read(nil, 1, s.Log().Capacity())
	if err != nil || uint64(len(all)) != s.Log().Last() {
		t.Fatalf("log read: %d of %d changes, %v", len(all), s.Log().Last(), err)
	}
	kinds := map[Kind]int{}
	for _, c := range all {
		kinds[c.Kind]++
	}
	for _, k := range []Kind{KindUpsert, KindDelete, KindStale, KindLate} {
		if kinds[k] == 0 {
			t.Errorf("the run produced no %s change; the test does not exercise it", k)
		}
	}
	t.Logf("%d changes: %v; %d snapshots", len(all), kinds, len(snaps))

	// Each change's Old is the state the log had built for that entity
	// just before it: the log order of one entity is its apply order.
	state := map[string]*Feature{}
	for _, c := range all {
		key := c.Layer() + "/" + c.ID()
		if c.Old != state[key] {
			t.Fatalf("change %s: Old is not the state left by the changes before it", describe(c))
		}
		switch c.Kind {
		case KindUpsert, KindStale:
			state[key] = c.New
		case KindDelete:
			delete(state, key)
		}
	}

	final := replay(all, ^uint64(0))
	for _, name := range layerNames {
		l := s.Layer(name)
		if l == nil {
			t.Fatalf("layer %s missing", name)
		}
		for i := range idsPerLayer {
			id := fmt.Sprintf("e%02d", i)
			if got, want := l.Get(id), final[name+"/"+id]; got != want {
				t.Errorf("%s/%s: layer holds %p, log replay %p", name, id, got, want)
			}
		}
		n := 0
		for k := range final {
			if len(k) > len(name) && k[:len(name)+1] == name+"/" {
				n++
			}
		}
		if l.Len() != n {
			t.Errorf("layer %s holds %d entities, log replay %d", name, l.Len(), n)
		}
	}

	// Every snapshot is exactly the replay of the log up to its Seq.
	for _, snap := range snaps {
		want := replay(all, snap.Seq)
		if len(snap.Features) != len(want) {
			t.Errorf("snapshot at %d holds %d features, replay %d", snap.Seq, len(snap.Features), len(want))
			continue
		}
		for _, f := range snap.Features {
			if want[f.Layer+"/"+f.ID] != f {
				t.Errorf("snapshot at %d: %s/%s is not the state the log gives at that point", snap.Seq, f.Layer, f.ID)
				break
			}
		}
	}
}

// replay folds the applied changes with sequence <= upTo into the state
// they leave, keyed by layer/id.
func replay(changes []Change, upTo uint64) map[string]*Feature {
	state := map[string]*Feature{}
	for _, c := range changes {
		if c.Seq > upTo {
			break
		}
		key := c.Layer() + "/" + c.ID()
		switch c.Kind {
		case KindUpsert, KindStale:
			state[key] = c.New
		case KindDelete:
			delete(state, key)
		}
	}
	return state
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
