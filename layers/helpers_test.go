package layers

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
)

// t0 is the base of test time: 08:00 on a weekday morning in Da Nang,
// written in UTC.
var t0 = time.Date(2025, 6, 2, 1, 0, 0, 0, time.UTC)

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// fakeClock is a settable clock for Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newTestStore returns a store on a fake clock at t0 with the given layer
// settings ("" is the default layer config).
func newTestStore(t testing.TB, layers map[string]LayerConfig) (*Store, *fakeClock) {
	t.Helper()
	clk := newClock(t0)
	cfg := Config{Now: clk.Now, Layers: map[string]LayerConfig{}, LogSize: 1 << 12}
	for name, lc := range layers {
		if name == "" {
			cfg.DefaultLayer = lc
		} else {
			cfg.Layers[name] = lc
		}
	}
	return NewStore(cfg, nil), clk
}

func point(lon, lat float64) geom.T { return geom.NewPointFlat(geom.XY, []float64{lon, lat}) }

func lineString(xy ...float64) geom.T { return geom.NewLineStringFlat(geom.XY, xy) }

func rectPolygon(minX, minY, maxX, maxY float64) geom.T {
	return geom.NewPolygonFlat(geom.XY, []float64{minX, minY, maxX, minY, maxX, maxY, minX, maxY, minX, minY}, []int{10})
}

// upsert builds a point upsert observed at obs.
func upsert(layer, id string, obs time.Time, lon, lat float64, props string) Event {
	ev := Event{Layer: layer, ID: id, Time: obs, Geometry: point(lon, lat)}
	if props != "" {
		ev.Properties = json.RawMessage(props)
	}
	return ev
}

func del(layer, id string, obs time.Time) Event {
	return Event{Layer: layer, ID: id, Op: OpDelete, Time: obs}
}

// describe renders a change compactly for failure messages.
func describe(c Change) string {
	tm := func(f *Feature) string {
		if f == nil {
			return "-"
		}
		s := f.Time.Sub(t0).String()
		if f.Stale {
			s += "(stale)"
		}
		return s
	}
	return fmt.Sprintf("#%d %s %s/%s old=%s new=%s", c.Seq, c.Kind, c.Layer(), c.ID(), tm(c.Old), tm(c.New))
}

// applyOne applies one event and returns its changes.
func applyOne(s *Store, ev Event) []Change { return s.Apply([]Event{ev}) }

// mustOneChange applies ev and requires exactly one change of kind k.
func mustOneChange(t *testing.T, s *Store, ev Event, k Kind) Change {
	t.Helper()
	cs := applyOne(s, ev)
	if len(cs) != 1 || cs[0].Kind != k {
		var d []string
		for _, c := range cs {
			d = append(d, describe(c))
		}
		t.Fatalf("apply %s %s/%s at %v: changes %v, want one %s", ev.Op, ev.Layer, ev.ID, ev.Time.Sub(t0), d, k)
	}
	return cs[0]
}

// checkLayer verifies that every index of l agrees with byID: the R-tree
// holds exactly the current features (same pointers, same boxes), and the
// expiry heap is a valid heap whose entries know their position and hold
// exactly the fresh entities of a TTL layer.
func checkLayer(t testing.TB, l *Layer) {
	t.Helper()
	l.mu.RLock()
	defer l.mu.RUnlock()

	scanned := make(map[*Feature]int, len(l.byID))
	l.index.Scan(func(min, max [2]float64, f *Feature) bool {
		scanned[f]++
		if min != f.Bounds.Min() || max != f.Bounds.Max() {
			t.Errorf("layer %s: R-tree box %v-%v for %s, feature bounds %v", l.name, min, max, f.ID, f.Bounds)
		}
		return true
	})
	if n := l.index.Len(); n != len(l.byID) {
		t.Errorf("layer %s: R-tree holds %d items, byID %d", l.name, n, len(l.byID))
	}
	for id, e := range l.byID {
		switch {
		case e.f == nil:
			t.Errorf("layer %s: entry %q has no feature", l.name, id)
			continue
		case e.f.ID != id || e.f.Layer != l.name:
			t.Errorf("layer %s: entry %q holds feature %s/%s", l.name, id, e.f.Layer, e.f.ID)
		case scanned[e.f] != 1:
			t.Errorf("layer %s: feature %q is in the R-tree %d times", l.name, id, scanned[e.f])
		}
		delete(scanned, e.f)
		if l.cfg.TTL == 0 && e.hidx != -1 {
			t.Errorf("layer %s: %q has heap index %d in a layer without TTL", l.name, id, e.hidx)
		}
		if l.cfg.TTL > 0 {
			if fresh := !e.f.Stale; fresh != (e.hidx >= 0) {
				t.Errorf("layer %s: %q stale=%v but heap index %d", l.name, id, e.f.Stale, e.hidx)
			}
		}
		if e.hidx >= len(l.expiry) {
			t.Errorf("layer %s: %q heap index %d beyond heap of %d", l.name, id, e.hidx, len(l.expiry))
		} else if e.hidx >= 0 && l.expiry[e.hidx].e != e {
			t.Errorf("layer %s: %q heap index %d points at another entry", l.name, id, e.hidx)
		}
	}
	for f, n := range scanned {
		t.Errorf("layer %s: R-tree holds %s/%s (%d times) which byID does not", l.name, f.Layer, f.ID, n)
	}
	for i, it := range l.expiry {
		if it.e.hidx != i {
			t.Errorf("layer %s: heap item %d (%s) records index %d", l.name, i, it.e.f.ID, it.e.hidx)
		}
		if l.byID[it.e.f.ID] != it.e {
			t.Errorf("layer %s: heap item %d (%s) is not the entity's entry", l.name, i, it.e.f.ID)
		}
		if want := it.e.f.Time.Add(l.cfg.TTL); !it.deadline.Equal(want) {
			t.Errorf("layer %s: %s deadline %v, want observation + TTL = %v", l.name, it.e.f.ID, it.deadline, want)
		}
		for _, child := range []int{2*i + 1, 2*i + 2} {
			if child < len(l.expiry) && l.expiry.Less(child, i) {
				t.Errorf("layer %s: heap order broken between %d and %d", l.name, i, child)
			}
		}
	}
}

// checkStore runs checkLayer on every layer.
func checkStore(t testing.TB, s *Store) {
	t.Helper()
	for _, l := range s.Layers() {
		checkLayer(t, l)
	}
}

// ids returns the layer/id of features, in order.
func ids(fs []*Feature) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Layer + "/" + f.ID
	}
	return out
}

func hitIDs(hs []Hit) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.Feature.Layer + "/" + h.Feature.ID
	}
	return out
}

// mustRect builds a rect or fails.
func mustRect(t testing.TB, w, s, e, n float64) geo.Rect {
	t.Helper()
	r, err := geo.RectFromSlice([]float64{w, s, e, n})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
