package geo_test

import (
	"strings"
	"testing"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
)

func TestParseRect(t *testing.T) {
	tests := []struct {
		in   string
		want geo.Rect
		err  string // fragment of the error; "" when valid
	}{
		{in: "108.1,16.0,108.3,16.1", want: geo.Rect{MinX: 108.1, MinY: 16, MaxX: 108.3, MaxY: 16.1}},
		{in: " 108.1 , 16 ,108.3,\t16.1 ", want: geo.Rect{MinX: 108.1, MinY: 16, MaxX: 108.3, MaxY: 16.1}},
		{in: "108.2,16.05,108.2,16.05", want: geo.Rect{MinX: 108.2, MinY: 16.05, MaxX: 108.2, MaxY: 16.05}},
		{in: "-180,-90,180,90", want: geo.World},
		{in: "1e2,1.6e1,108.3,16.1", want: geo.Rect{MinX: 100, MinY: 16, MaxX: 108.3, MaxY: 16.1}},

		{in: "", err: "want 4 comma-separated numbers"},
		{in: "108.1,16.0,108.3", err: "want 4 comma-separated numbers"},
		{in: "108.1,16.0,108.3,16.1,5", err: "want 4 comma-separated numbers"},
		{in: "108.1 16.0 108.3 16.1", err: "want 4 comma-separated numbers"},
		{in: "108.1,,108.3,16.1", err: "value 2 is not a number"},
		{in: "108.1,16.0,east,16.1", err: "value 3 is not a number"},
		{in: "108.1,16.0,108.3,0x10", err: "not a number"},
		{in: "NaN,16.0,108.3,16.1", err: "outside longitude"},
		{in: "108.1,16.0,Inf,16.1", err: "outside longitude"},
		{in: "108.1,16.0,180.5,16.1", err: "outside longitude"},
		{in: "108.1,-90.5,108.3,16.1", err: "outside longitude"},
		{in: "16.0,108.1,16.1,108.3", err: "outside longitude"}, // lat,lon order
		{in: "108.3,16.0,108.1,16.1", err: "west must not exceed east"},
		{in: "108.1,16.1,108.3,16.0", err: "south must not exceed north"},
	}
	for _, tc := range tests {
		got, err := geo.ParseRect(tc.in)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("ParseRect(%q) = %v", tc.in, err)
		case tc.err == "" && got != tc.want:
			t.Errorf("ParseRect(%q) = %v, want %v", tc.in, got, tc.want)
		case tc.err != "" && err == nil:
			t.Errorf("ParseRect(%q) = %v, want error containing %q", tc.in, got, tc.err)
		case tc.err != "" && !strings.Contains(err.Error(), tc.err):
			t.Errorf("ParseRect(%q) error %q, want it to contain %q", tc.in, err, tc.err)
		case tc.err != "" && got != (geo.Rect{}):
			t.Errorf("ParseRect(%q) returned %v with its error", tc.in, got)
		}
	}
}

func TestRectFromSlice(t *testing.T) {
	if _, err := geo.RectFromSlice([]float64{108, 16, 108.1}); err == nil || !strings.Contains(err.Error(), "got 3") {
		t.Errorf("3 numbers: err = %v", err)
	}
	if _, err := geo.RectFromSlice(nil); err == nil {
		t.Error("nil slice accepted")
	}
	r, err := geo.RectFromSlice([]float64{108, 16, 108.1, 16.1})
	if err != nil || r != (geo.Rect{MinX: 108, MinY: 16, MaxX: 108.1, MaxY: 16.1}) {
		t.Errorf("RectFromSlice = %v, %v", r, err)
	}
	if s := r.String(); s != "108,16,108.1,16.1" {
		t.Errorf("String() = %q", s)
	}
	if back, err := geo.ParseRect(r.String()); err != nil || back != r {
		t.Errorf("ParseRect(String()) = %v, %v; want %v", back, err, r)
	}
}

func TestRectPredicates(t *testing.T) {
	a := geo.Rect{MinX: 108.1, MinY: 16.0, MaxX: 108.2, MaxY: 16.1}
	tests := []struct {
		name                 string
		b                    geo.Rect
		intersects, contains bool
	}{
		{"same", a, true, true},
		{"inside", geo.Rect{MinX: 108.12, MinY: 16.02, MaxX: 108.15, MaxY: 16.05}, true, true},
		{"overlapping", geo.Rect{MinX: 108.15, MinY: 16.05, MaxX: 108.25, MaxY: 16.15}, true, false},
		{"sharing an edge", geo.Rect{MinX: 108.2, MinY: 16.0, MaxX: 108.3, MaxY: 16.1}, true, false},
		{"sharing a corner", geo.Rect{MinX: 108.2, MinY: 16.1, MaxX: 108.3, MaxY: 16.2}, true, false},
		{"containing", geo.Rect{MinX: 108, MinY: 15.9, MaxX: 108.3, MaxY: 16.2}, true, false},
		{"east of it", geo.Rect{MinX: 108.21, MinY: 16.0, MaxX: 108.3, MaxY: 16.1}, false, false},
		{"north of it", geo.Rect{MinX: 108.1, MinY: 16.11, MaxX: 108.2, MaxY: 16.2}, false, false},
		{"point inside", geo.Rect{MinX: 108.15, MinY: 16.05, MaxX: 108.15, MaxY: 16.05}, true, true},
	}
	for _, tc := range tests {
		if got := a.Intersects(tc.b); got != tc.intersects {
			t.Errorf("%s: Intersects = %v", tc.name, got)
		}
		if got := tc.b.Intersects(a); got != tc.intersects {
			t.Errorf("%s: Intersects is not symmetric", tc.name)
		}
		if got := a.Contains(tc.b); got != tc.contains {
			t.Errorf("%s: Contains = %v", tc.name, got)
		}
		u := a.Union(tc.b)
		if !u.Contains(a) || !u.Contains(tc.b) {
			t.Errorf("%s: Union %v does not contain both", tc.name, u)
		}
	}
	for _, p := range [][2]float64{{108.1, 16.0}, {108.2, 16.1}, {108.15, 16.05}} {
		if !a.ContainsPoint(p[0], p[1]) {
			t.Errorf("ContainsPoint(%v) = false", p)
		}
	}
	for _, p := range [][2]float64{{108.09, 16.05}, {108.15, 16.11}, {16.05, 108.15}} {
		if a.ContainsPoint(p[0], p[1]) {
			t.Errorf("ContainsPoint(%v) = true", p)
		}
	}
	if a.Min() != [2]float64{108.1, 16.0} || a.Max() != [2]float64{108.2, 16.1} {
		t.Errorf("Min/Max = %v %v", a.Min(), a.Max())
	}
}

func TestBoundsOf(t *testing.T) {
	tests := []struct {
		name string
		g    geom.T
		want geo.Rect
	}{
		{"point", geom.NewPointFlat(geom.XY, []float64{108.2, 16.05}), geo.Rect{MinX: 108.2, MinY: 16.05, MaxX: 108.2, MaxY: 16.05}},
		{"line", geom.NewLineStringFlat(geom.XY, []float64{108.3, 16.0, 108.1, 16.2, 108.2, 15.9}), geo.Rect{MinX: 108.1, MinY: 15.9, MaxX: 108.3, MaxY: 16.2}},
		{"XYZ line ignores altitude", geom.NewLineStringFlat(geom.XYZ, []float64{108.3, 16.0, 500, 108.1, 16.2, -500}), geo.Rect{MinX: 108.1, MinY: 16.0, MaxX: 108.3, MaxY: 16.2}},
		{"multipolygon", mustDecode(t, `{"type":"MultiPolygon","coordinates":[[[[108,16],[108.01,16],[108.01,16.01],[108,16]]],[[[108.1,15.9],[108.3,16],[108.3,16.1],[108.1,15.9]]]]}`), geo.Rect{MinX: 108, MinY: 15.9, MaxX: 108.3, MaxY: 16.1}},
	}
	for _, tc := range tests {
		if got := geo.BoundsOf(tc.g); got != tc.want {
			t.Errorf("%s: BoundsOf = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func mustDecode(t testing.TB, s string) geom.T {
	t.Helper()
	g, err := geo.Decode([]byte(s))
	if err != nil {
		t.Fatalf("Decode(%s): %v", s, err)
	}
	return g
}
