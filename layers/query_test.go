package layers

import (
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
)

var worldRect = geo.World

// queryStore holds a small scene around the query box
// 108.20,16.05 – 108.22,16.07 in several layers.
func queryStore(t *testing.T) *Store {
	t.Helper()
	s, _ := newTestStore(t, nil)
	s.Apply([]Event{
		upsert("bus", "inside", at(0), 108.21, 16.06, ""),
		upsert("bus", "edge", at(0), 108.22, 16.06, ""),
		upsert("bus", "outside", at(0), 108.23, 16.06, ""),
		upsert("cam", "inside", at(0), 108.205, 16.055, ""),
		upsert("cam", "far", at(0), 108.0, 15.95, ""),
		{Layer: "road", ID: "crossing", Time: at(0), Geometry: lineString(108.19, 16.06, 108.23, 16.06)},
		{Layer: "road", ID: "corner-miss", Time: at(0), Geometry: lineString(108.19, 16.065, 108.205, 16.08)},
		{Layer: "zone", ID: "around", Time: at(0), Geometry: rectPolygon(108.1, 16.0, 108.3, 16.1)},
		{Layer: "zone", ID: "donut", Time: at(0), Geometry: geom.NewPolygonFlat(geom.XY, []float64{
			108.1, 16.0, 108.3, 16.0, 108.3, 16.1, 108.1, 16.1, 108.1, 16.0,
			108.19, 16.04, 108.23, 16.04, 108.23, 16.08, 108.19, 16.08, 108.19, 16.04,
		}, []int{10, 20})},
		{Layer: "zone", ID: "away", Time: at(0), Geometry: rectPolygon(108.3, 16.1, 108.31, 16.11)},
	})
	return s
}

func TestInRect(t *testing.T) {
	s := queryStore(t)
	r := mustRect(t, 108.20, 16.05, 108.22, 16.07)
	tests := []struct {
		layer string
		limit int
		want  []string
	}{
		{"bus", 0, []string{"bus/edge", "bus/inside"}},
		{"cam", 0, []string{"cam/inside"}},
		{"road", 0, []string{"road/crossing"}},
		{"zone", 0, []string{"zone/around"}},
	}
	for _, tc := range tests {
		got := ids(s.Layer(tc.layer).InRect(nil, r, tc.limit))
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: InRect = %v, want %v", tc.layer, got, tc.want)
		}
	}
	if got := s.Layer("bus").InRect(nil, r, 1); len(got) != 1 {
		t.Errorf("limit 1: %v", ids(got))
	}
	prefix := []*Feature{nil}
	if got := s.Layer("bus").InRect(prefix, r, 0); len(got) != 3 || got[0] != nil {
		t.Errorf("InRect does not append to dst: %v", got)
	}
}

func TestSnapshot(t *testing.T) {
	s := queryStore(t)
	r := mustRect(t, 108.20, 16.05, 108.22, 16.07)
	snap := s.Snapshot([]string{"zone", "bus", "road", "no-such-layer", "bus"}, r)
	got := ids(snap.Features)
	slices.Sort(got)
	want := []string{"bus/edge", "bus/inside", "road/crossing", "zone/around"}
	if !slices.Equal(got, want) {
		t.Errorf("Snapshot features %v, want %v", got, want)
	}
	if snap.Seq != s.Log().Last() || snap.Seq != 10 || snap.Epoch != s.Epoch() {
		t.Errorf("Snapshot seq %d epoch %s; log last %d epoch %s", snap.Seq, snap.Epoch, s.Log().Last(), s.Epoch())
	}
	if snap := s.Snapshot(nil, r); len(snap.Features) != 0 || snap.Seq != 10 {
		t.Errorf("empty snapshot: %d features, seq %d", len(snap.Features), snap.Seq)
	}
	// A change after the snapshot is not in it and moves the log on.
	applyOne(s, upsert("bus", "new", at(time.Second), 108.21, 16.06, ""))
	if snap2 := s.Snapshot([]string{"bus"}, r); snap2.Seq != 11 || len(snap2.Features) != 3 {
		t.Errorf("second snapshot seq %d with %d features", snap2.Seq, len(snap2.Features))
	}
}

// TestSnapshotDuplicateNamesUnderWrites: duplicate names are allowed; the
// layer must be read-locked once, or a writer waiting between two read
// locks of the same layer deadlocks both.
func TestSnapshotDuplicateNamesUnderWrites(t *testing.T) {
	s, _ := newTestStore(t, nil)
	s.Apply([]Event{upsert("bus", "b0", at(0), lon0, lat0, "")})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			s.Apply([]Event{upsert("bus", "b0", at(time.Duration(i)), lon0, lat0, "")})
		}
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 2000 {
			s.Snapshot([]string{"bus", "bus", "bus"}, worldRect)
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		// The writer is stuck too: leave both goroutines behind.
		t.Fatal("Snapshot with repeated layer names deadlocked against a writer")
	}
	close(stop)
	wg.Wait()
}

func TestNearest(t *testing.T) {
	s, _ := newTestStore(t, nil)
	p := geo.NewProjection(lon0, lat0)
	// Points east of the query at known distances, split across layers.
	east := func(m float64) float64 { return lon0 + m/(math.Pi/180*geo.EarthRadius*math.Cos(lat0*math.Pi/180)) }
	s.Apply([]Event{
		upsert("bus", "500m", at(0), east(500), lat0, ""),
		upsert("cam", "1km", at(0), east(1000), lat0, ""),
		upsert("bus", "2km", at(0), east(2000), lat0, ""),
		upsert("cam", "5km", at(0), east(5000), lat0, ""),
		// A long road whose box holds the query point (box distance 0)
		// but whose only segment passes about 10 km away.
		{Layer: "road", ID: "diagonal", Time: at(0), Geometry: lineString(108.22, 16.20, 108.34, 16.05)},
	})
	lineDist := p.Distance(s.Layer("road").Get("diagonal").Geometry)
	if lineDist < 8000 || p.RectDistance(s.Layer("road").Get("diagonal").Bounds) != 0 {
		t.Fatalf("scene is wrong: line at %.0f m", lineDist)
	}

	names := []string{"bus", "cam", "road", "missing"}
	tests := []struct {
		k       int
		maxDist float64
		want    []string
	}{
		{1, 0, []string{"bus/500m"}},
		{3, 0, []string{"bus/500m", "cam/1km", "bus/2km"}},
		{5, 0, []string{"bus/500m", "cam/1km", "bus/2km", "cam/5km", "road/diagonal"}},
		{10, 0, []string{"bus/500m", "cam/1km", "bus/2km", "cam/5km", "road/diagonal"}},
		{10, 2500, []string{"bus/500m", "cam/1km", "bus/2km"}},
		{10, 100, nil},
	}
	for _, tc := range tests {
		hits := s.Nearest(names, lon0, lat0, tc.k, tc.maxDist)
		if got := hitIDs(hits); !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("k=%d max=%g: %v, want %v", tc.k, tc.maxDist, got, tc.want)
		}
		for i, h := range hits {
			if want := p.Distance(h.Feature.Geometry); math.Abs(h.Distance-want) > 1e-9 {
				t.Errorf("hit %s distance %g, want %g", h.Feature.ID, h.Distance, want)
			}
			if i > 0 && h.Distance < hits[i-1].Distance {
				t.Errorf("hits not sorted: %v", hitIDs(hits))
			}
		}
	}
	if hits := s.Nearest(names, lon0, lat0, 5, 0); math.Abs(hits[0].Distance-500) > 0.01 || math.Abs(hits[4].Distance-lineDist) > 1e-9 {
		t.Errorf("distances %v", hits)
	}
	if h := s.Layer("bus").Nearest(lon0, lat0, 0, 0); h != nil {
		t.Errorf("k=0: %v", h)
	}
	if h := s.Nearest(names, lon0, lat0, 0, 0); len(h) != 0 {
		t.Errorf("store k=0: %v", h)
	}
	// Ranking within one layer puts the road behind the points even
	// though its box is nearest.
	applyOne(s, upsert("road", "junction", at(0), east(3000), lat0, ""))
	if got := hitIDs(s.Layer("road").Nearest(lon0, lat0, 2, 0)); !slices.Equal(got, []string{"road/junction", "road/diagonal"}) {
		t.Errorf("road layer nearest: %v", got)
	}
}

func TestWithin(t *testing.T) {
	s, _ := newTestStore(t, nil)
	north := func(m float64) float64 { return lat0 + m/(math.Pi/180*geo.EarthRadius) }
	s.Apply([]Event{
		upsert("cam", "300m", at(0), lon0, north(300), ""),
		upsert("cam", "900m", at(0), lon0, north(900), ""),
		upsert("cam", "1100m", at(0), lon0, north(1100), ""),
		upsert("cam", "south-800m", at(0), lon0, north(-800), ""),
		// A road passing 600 m north with its vertices kilometres away.
		{Layer: "cam", ID: "road-600m", Time: at(0), Geometry: lineString(lon0-0.05, north(600), lon0+0.05, north(600))},
		{Layer: "cam", ID: "zone-around", Time: at(0), Geometry: rectPolygon(lon0-0.1, lat0-0.1, lon0+0.1, lat0+0.1)},
	})
	l := s.Layer("cam")
	hits := l.Within(lon0, lat0, 1000, 0)
	want := []string{"cam/zone-around", "cam/300m", "cam/road-600m", "cam/south-800m", "cam/900m"}
	if got := hitIDs(hits); !slices.Equal(got, want) {
		t.Errorf("Within 1 km: %v, want %v", got, want)
	}
	for _, h := range hits {
		if h.Distance > 1000 {
			t.Errorf("%s at %g m", h.Feature.ID, h.Distance)
		}
	}
	if got := hitIDs(l.Within(lon0, lat0, 1000, 2)); !slices.Equal(got, want[:2]) {
		t.Errorf("Within limit 2: %v", got)
	}
	if got := l.Within(lon0, lat0, 1, 0); len(got) != 1 || got[0].Feature.ID != "zone-around" {
		t.Errorf("Within 1 m: %v", hitIDs(got))
	}
}

func TestInArea(t *testing.T) {
	s, _ := newTestStore(t, nil)
	s.Apply([]Event{
		upsert("bus", "in-zone", at(0), 108.15, 16.05, ""),
		upsert("bus", "in-hole", at(0), 108.20, 16.05, ""),
		upsert("bus", "outside", at(0), 108.05, 16.05, ""),
		upsert("bus", "second-zone", at(0), 108.01, 15.96, ""),
		{Layer: "bus", ID: "route-crossing", Time: at(0), Geometry: lineString(108.20, 16.05, 108.40, 16.05)},
		{Layer: "bus", ID: "route-in-hole", Time: at(0), Geometry: lineString(108.19, 16.045, 108.21, 16.055)},
	})
	// A flood zone with a dry island, and a second zone.
	mp := geom.NewMultiPolygonFlat(geom.XY, []float64{
		108.10, 16.00, 108.30, 16.00, 108.30, 16.10, 108.10, 16.10, 108.10, 16.00,
		108.18, 16.04, 108.22, 16.04, 108.22, 16.06, 108.18, 16.06, 108.18, 16.04,
		108.00, 15.95, 108.02, 15.95, 108.02, 15.97, 108.00, 15.97, 108.00, 15.95,
	}, [][]int{{10, 20}, {30}})
	area := geo.NewArea(mp)
	got := ids(s.Layer("bus").InArea(nil, area, 0))
	slices.Sort(got)
	want := []string{"bus/in-zone", "bus/route-crossing", "bus/second-zone"}
	if !slices.Equal(got, want) {
		t.Errorf("InArea = %v, want %v", got, want)
	}
	if got := s.Layer("bus").InArea(nil, area, 1); len(got) != 1 {
		t.Errorf("InArea limit 1 = %v", ids(got))
	}
}

func TestStoreNearestJoinsWithOrderAndLimit(t *testing.T) {
	// Same distances in two layers: the stable sort keeps name order.
	s, _ := newTestStore(t, nil)
	s.Apply([]Event{upsert("b", "x", at(0), lon0, lat0, ""), upsert("a", "x", at(0), lon0, lat0, "")})
	if got := hitIDs(s.Nearest([]string{"a", "b"}, lon0, lat0, 1, 0)); !slices.Equal(got, []string{"a/x"}) {
		t.Errorf("tie: %v", got)
	}
	if got := strings.Join(hitIDs(s.Nearest([]string{"b", "a"}, lon0, lat0, 5, 0)), ","); got != "b/x,a/x" {
		t.Errorf("order of names: %v", got)
	}
	if got := strings.Join(hitIDs(s.Nearest([]string{"b", "a", "b"}, lon0, lat0, 5, 0)), ","); got != "b/x,a/x" {
		t.Errorf("repeated name: %v", got)
	}
}

// TestDistanceFromBox: items whose box is one point are ranked from the
// box; the result must equal the exact distance of the geometry.
func TestDistanceFromBox(t *testing.T) {
	s, _ := newTestStore(t, nil)
	s.Apply([]Event{
		upsert("x", "point", at(0), 108.23, 16.07, ""),
		{Layer: "x", ID: "multipoint-of-one", Time: at(0), Geometry: geom.NewMultiPointFlat(geom.XY, []float64{108.21, 16.05})},
		{Layer: "x", ID: "collapsed-line", Time: at(0), Geometry: lineString(108.22, 16.08, 108.22, 16.08)},
		{Layer: "x", ID: "line", Time: at(0), Geometry: lineString(108.19, 16.02, 108.25, 16.03)},
	})
	for _, q := range [][2]float64{{lon0, lat0}, {108.22, 16.08}, {107.9, 15.95}, {108.3, 16.2}} {
		p := geo.NewProjection(q[0], q[1])
		hits := s.Layer("x").Nearest(q[0], q[1], 10, 0)
		within := s.Layer("x").Within(q[0], q[1], 1e6, 0)
		if len(hits) != 4 || len(within) != 4 {
			t.Fatalf("%v: %d nearest, %d within", q, len(hits), len(within))
		}
		for i, h := range hits {
			if want := p.Distance(h.Feature.Geometry); h.Distance != want || within[i].Distance != want {
				t.Errorf("%v: %s at %v (Nearest) / %v (Within), exact %v", q, h.Feature.ID, h.Distance, within[i].Distance, want)
			}
		}
	}
}
