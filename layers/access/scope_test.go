package access

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/geo/areas"
	"github.com/danang-ioc/ioc/layers"
)

// Places in the real district polygons (geo/areas/data/districts.geojson);
// TestPlacesAreWhereTheTestsSay checks them against geo/areas.
var (
	haiChau = [2]float64{108.2208, 16.0678} // Trần Phú street, district 492
	sonTra  = [2]float64{108.27, 16.10}     // Sơn Trà peninsula, district 493
	atSea   = [2]float64{108.40, 16.10}     // east of Sơn Trà, no district
)

var loadAreas = sync.OnceValues(func() (*Areas, error) { return DefaultAreas() })

func testAreas(t *testing.T) *Areas {
	t.Helper()
	a, err := loadAreas()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func resolve(t *testing.T, spec ScopeSpec) *Scope {
	t.Helper()
	sc, err := spec.Resolve(testAreas(t))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestPlacesAreWhereTheTestsSay(t *testing.T) {
	set, err := areas.Default()
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		p    [2]float64
		code string
	}{"Hải Châu": {haiChau, "492"}, "Sơn Trà": {sonTra, "493"}, "sea": {atSea, ""}} {
		if got := set.Locate(tc.p[0], tc.p[1]).DistrictCode; got != tc.code {
			t.Errorf("%s: geo/areas locates %v in %q, want %q", name, tc.p, got, tc.code)
		}
	}
	if n := testAreas(t).Len(); n != len(set.Districts()) {
		t.Errorf("access has %d area polygons, geo/areas %d districts", n, len(set.Districts()))
	}
}

func point(p [2]float64) geom.T { return geom.NewPointFlat(geom.XY, p[:]) }

func line(ps ...[2]float64) geom.T {
	var flat []float64
	for _, p := range ps {
		flat = append(flat, p[0], p[1])
	}
	return geom.NewLineStringFlat(geom.XY, flat)
}

func TestScopeSeesDistrictGeometry(t *testing.T) {
	hc := resolve(t, ScopeSpec{Areas: []string{"492"}})
	st := resolve(t, ScopeSpec{Areas: []string{"493"}})
	both := resolve(t, ScopeSpec{Areas: []string{"492", "493"}})
	crossing := line(haiChau, sonTra) // over the Hàn river, the border
	for _, tc := range []struct {
		name         string
		g            geom.T
		hc, st, both bool
	}{
		{"point in Hải Châu", point(haiChau), true, false, true},
		{"point in Sơn Trà", point(sonTra), false, true, true},
		{"point at sea", point(atSea), false, false, false},
		{"line crossing the Hải Châu–Sơn Trà border", crossing, true, true, true},
		{"line inside Sơn Trà", line(sonTra, [2]float64{108.28, 16.11}), false, true, true},
		// Its bounding box overlaps Hải Châu's, its course does not.
		{"line from Sơn Trà out to sea", line(sonTra, atSea), false, true, true},
	} {
		b := geo.BoundsOf(tc.g)
		if got := hc.Sees(b, tc.g); got != tc.hc {
			t.Errorf("%s: Hải Châu scope sees = %v, want %v", tc.name, got, tc.hc)
		}
		if got := st.Sees(b, tc.g); got != tc.st {
			t.Errorf("%s: Sơn Trà scope sees = %v, want %v", tc.name, got, tc.st)
		}
		if got := both.Sees(b, tc.g); got != tc.both {
			t.Errorf("%s: two-district scope sees = %v, want %v", tc.name, got, tc.both)
		}
		if !Unlimited().Sees(b, tc.g) {
			t.Errorf("%s: unlimited scope does not see it", tc.name)
		}
	}
}

func TestScopeExplicitPolygonAndLayers(t *testing.T) {
	square := json.RawMessage(`{"type":"Polygon","coordinates":[[[108.21,16.06],[108.23,16.06],[108.23,16.08],[108.21,16.08],[108.21,16.06]]]}`)
	sc := resolve(t, ScopeSpec{Polygons: []json.RawMessage{square}, Layers: []string{"traffic.segments", "traffic.signals"}})
	if !sc.Sees(geo.BoundsOf(point(haiChau)), point(haiChau)) || sc.Sees(geo.BoundsOf(point(sonTra)), point(sonTra)) {
		t.Error("polygon scope: wrong answer for Hải Châu or Sơn Trà")
	}
	for layer, want := range map[string]bool{"traffic.segments": true, "traffic.signals": true, "feedback.reports": false} {
		if sc.SeesLayer(layer) != want || sc.AllowsWrite(layer) != want {
			t.Errorf("layer %s: sees/writes = %v/%v, want %v", layer, sc.SeesLayer(layer), sc.AllowsWrite(layer), want)
		}
	}
	if got := strings.Join(sc.Layers(), ","); got != "traffic.segments,traffic.signals" {
		t.Errorf("Layers() = %s", got)
	}
	if sc.IsUnlimited() || !sc.AreaLimited() {
		t.Error("a polygon scope reports itself unlimited")
	}
}

func TestScopeFeaturesAndChanges(t *testing.T) {
	sc := resolve(t, ScopeSpec{Areas: []string{"492"}, Layers: []string{"feedback.reports"}})
	in := feature(t, "feedback.reports", "r1", haiChau)
	out := feature(t, "feedback.reports", "r1", sonTra)
	otherLayer := feature(t, "traffic.cameras", "c1", haiChau)
	if !sc.SeesFeature(in) || sc.SeesFeature(out) || sc.SeesFeature(otherLayer) || sc.SeesFeature(nil) {
		t.Error("SeesFeature: wrong answer")
	}
	// A report moved out of Hải Châu: the client that saw it must hear of it.
	if !sc.SeesChange(&layers.Change{Kind: layers.KindUpsert, Old: in, New: out}) {
		t.Error("a change leaving the scope is hidden")
	}
	if sc.SeesChange(&layers.Change{Kind: layers.KindUpsert, New: out}) {
		t.Error("a change wholly outside the scope is seen")
	}
}

// feature builds a live feature through a real store, the only way to get
// one with its bounds and encoding.
func feature(t *testing.T, layer, id string, p [2]float64) *layers.Feature {
	t.Helper()
	st := layers.NewStore(layers.Config{LogSize: 16}, nil)
	st.Apply([]layers.Event{{Layer: layer, ID: id, Time: time.Now(), Geometry: point(p)}})
	f := st.Layer(layer).Get(id)
	if f == nil {
		t.Fatalf("store did not keep %s/%s", layer, id)
	}
	return f
}

func TestScopeRectAndClip(t *testing.T) {
	hc := resolve(t, ScopeSpec{Areas: []string{"492"}})
	r, ok := hc.Rect()
	if !ok || !r.ContainsPoint(haiChau[0], haiChau[1]) || r.ContainsPoint(atSea[0], atSea[1]) {
		t.Fatalf("Rect() = %v, %v", r, ok)
	}
	if c, ok := hc.Clip(geo.World); !ok || c != r {
		t.Errorf("Clip(World) = %v, %v; want the district's bounds %v", c, ok, r)
	}
	if _, ok := hc.Clip(geo.Rect{MinX: 108.39, MinY: 16.09, MaxX: 108.41, MaxY: 16.11}); ok {
		t.Error("a query at sea is not clipped away")
	}
	if c, ok := Unlimited().Clip(geo.World); !ok || c != geo.World {
		t.Errorf("unlimited Clip = %v, %v", c, ok)
	}
	if !hc.SeesRect(geo.Rect{MinX: 108.22, MinY: 16.06, MaxX: 108.221, MaxY: 16.07}) ||
		hc.SeesRect(geo.Rect{MinX: 108.39, MinY: 16.09, MaxX: 108.41, MaxY: 16.11}) {
		t.Error("SeesRect: wrong answer")
	}
}

func TestScopeResolveErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec ScopeSpec
		want string
	}{
		{"unknown area", ScopeSpec{Areas: []string{"999"}}, `scope area "999": no district or ward`},
		{"point ward has no polygon", ScopeSpec{Areas: []string{"20242"}}, `scope area "20242"`},
		{"bad polygon json", ScopeSpec{Polygons: []json.RawMessage{json.RawMessage(`{"type":"Polygon"`)}}, "scope polygons[0]"},
		{"point is not an area", ScopeSpec{Polygons: []json.RawMessage{json.RawMessage(`{"type":"Point","coordinates":[108.2,16.0]}`)}}, "want a Polygon or MultiPolygon"},
		{"bad layer", ScopeSpec{Layers: []string{"Traffic/../x"}}, `scope layer "Traffic/../x"`},
	} {
		_, err := tc.spec.Resolve(testAreas(t))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := (ScopeSpec{Areas: []string{"492"}}).Resolve(nil); err == nil {
		t.Error("an area scope resolved without area data")
	}
}

func TestScopeSpecString(t *testing.T) {
	for _, tc := range []struct {
		spec ScopeSpec
		want string
	}{
		{ScopeSpec{}, "unlimited"},
		{ScopeSpec{Areas: []string{"492", "493"}, Layers: []string{"traffic.segments"}}, "areas 492,493; layers traffic.segments"},
	} {
		if got := tc.spec.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

// BenchmarkScopeSees measures the exact test per feature, for the small
// central district and for the largest one (Hòa Vang, the most vertices),
// for a point and for a 2 km road segment.
func BenchmarkScopeSees(b *testing.B) {
	a, err := DefaultAreas()
	if err != nil {
		b.Fatal(err)
	}
	for _, area := range []struct{ name, code string }{{"HaiChau", "492"}, {"HoaVang", "497"}} {
		sc, err := ScopeSpec{Areas: []string{area.code}}.Resolve(a)
		if err != nil {
			b.Fatal(err)
		}
		r, _ := sc.Rect()
		mid := [2]float64{(r.MinX + r.MaxX) / 2, (r.MinY + r.MaxY) / 2}
		for _, g := range []struct {
			name string
			g    geom.T
		}{{"point", point(mid)}, {"line", line(mid, [2]float64{mid[0] + 0.02, mid[1]})}} {
			bounds := geo.BoundsOf(g.g)
			b.Run(area.name+"/"+g.name, func(b *testing.B) {
				for b.Loop() {
					sc.Sees(bounds, g.g)
				}
			})
		}
	}
}
