package geo_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
)

// Small builders; rings are closed automatically.
func pt(x, y float64) geom.T { return geom.NewPointFlat(geom.XY, []float64{x, y}) }

func line(xy ...float64) geom.T { return geom.NewLineStringFlat(geom.XY, xy) }

func box(minX, minY, maxX, maxY float64) []float64 {
	return []float64{minX, minY, maxX, minY, maxX, maxY, minX, maxY, minX, minY}
}

func poly(rings ...[]float64) *geom.Polygon {
	var flat []float64
	var ends []int
	for _, r := range rings {
		flat = append(flat, r...)
		ends = append(ends, len(flat))
	}
	return geom.NewPolygonFlat(geom.XY, flat, ends)
}

func multiPoly(ps ...*geom.Polygon) *geom.MultiPolygon {
	mp := geom.NewMultiPolygon(geom.XY)
	for _, p := range ps {
		if err := mp.Push(p); err != nil {
			panic(err)
		}
	}
	return mp
}

func TestIntersectsRect(t *testing.T) {
	// A district-sized box in Hai Chau.
	r := geo.Rect{MinX: 108.20, MinY: 16.05, MaxX: 108.22, MaxY: 16.07}
	tests := []struct {
		name string
		g    geom.T
		want bool
	}{
		{"point inside", pt(108.21, 16.06), true},
		{"point on the edge", pt(108.22, 16.06), true},
		{"point on a corner", pt(108.20, 16.05), true},
		{"point outside", pt(108.23, 16.06), false},
		{"point with swapped box coordinates", pt(16.06, 108.21), false},
		{"multipoint with one point inside", geom.NewMultiPointFlat(geom.XY, []float64{108.1, 16.0, 108.21, 16.06}), true},
		{"multipoint around the box", geom.NewMultiPointFlat(geom.XY, []float64{108.19, 16.04, 108.23, 16.08}), false},

		{"line inside", line(108.205, 16.055, 108.215, 16.065), true},
		{"line with one vertex inside", line(108.21, 16.06, 108.5, 16.5), true},
		{"line crossing with no vertex inside", line(108.19, 16.06, 108.23, 16.06), true},
		{"diagonal line crossing with no vertex inside", line(108.19, 16.04, 108.23, 16.08), true},
		{"line crossing after several segments", line(108.0, 16.0, 108.1, 16.0, 108.1, 16.06, 108.3, 16.06), true},
		{"line missing the corner, box overlapping", line(108.19, 16.065, 108.205, 16.08), false},
		{"line touching the edge from outside", line(108.22, 16.0, 108.22, 16.05), true},
		{"line around the box", line(108.19, 16.04, 108.23, 16.04, 108.23, 16.08, 108.19, 16.08), false},
		{"multilinestring, second part crosses",
			geom.NewMultiLineStringFlat(geom.XY, []float64{108.0, 16.0, 108.1, 16.1, 108.21, 16.0, 108.21, 16.2}, []int{4, 8}), true},

		{"polygon inside", poly(box(108.205, 16.055, 108.215, 16.065)), true},
		{"polygon overlapping", poly(box(108.21, 16.06, 108.3, 16.1)), true},
		{"polygon containing the box", poly(box(108.1, 16.0, 108.3, 16.1)), true},
		{"polygon crossing with no vertex inside", poly(box(108.19, 16.055, 108.23, 16.065)), true},
		{"polygon with hole containing the box", poly(box(108.1, 16.0, 108.3, 16.1), box(108.19, 16.04, 108.23, 16.08)), false},
		{"polygon with hole straddling the box", poly(box(108.1, 16.0, 108.3, 16.1), box(108.21, 16.04, 108.23, 16.08)), true},
		{"polygon with hole inside the box", poly(box(108.1, 16.0, 108.3, 16.1), box(108.205, 16.055, 108.215, 16.065)), true},
		{"L-shaped polygon around the box",
			poly([]float64{108.1, 16.0, 108.3, 16.0, 108.3, 16.02, 108.12, 16.02, 108.12, 16.1, 108.1, 16.1, 108.1, 16.0}), false},
		{"disjoint polygon", poly(box(108.3, 16.1, 108.31, 16.11)), false},
		{"multipolygon, second contains the box", multiPoly(poly(box(108.0, 16.0, 108.01, 16.01)), poly(box(108.1, 16.0, 108.3, 16.1))), true},
		{"multipolygon, nothing near", multiPoly(poly(box(108.0, 16.0, 108.01, 16.01)), poly(box(108.3, 16.1, 108.31, 16.11))), false},
	}
	for _, tc := range tests {
		if got := geo.IntersectsRect(tc.g, r); got != tc.want {
			t.Errorf("%s: IntersectsRect = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestArea(t *testing.T) {
	// An evacuation zone with a dry island (the hole), plus a second zone.
	donut := poly(box(108.10, 16.00, 108.30, 16.10), box(108.18, 16.04, 108.22, 16.06))
	second := poly(box(108.00, 15.95, 108.02, 15.97))
	zone := geo.NewArea(multiPoly(donut, second))
	if zone == nil {
		t.Fatal("NewArea(MultiPolygon) = nil")
	}
	if want := (geo.Rect{MinX: 108, MinY: 15.95, MaxX: 108.3, MaxY: 16.1}); zone.Bounds != want {
		t.Errorf("Bounds = %v, want %v", zone.Bounds, want)
	}

	points := []struct {
		name string
		x, y float64
		want bool
	}{
		{"in the ring", 108.15, 16.05, true},
		{"in the hole", 108.20, 16.05, false},
		{"outside every polygon, inside the bounds", 108.05, 16.05, false},
		{"outside the bounds", 108.5, 16.05, false},
		{"in the second polygon", 108.01, 15.96, true},
	}
	for _, tc := range points {
		if got := zone.ContainsPoint(tc.x, tc.y); got != tc.want {
			t.Errorf("ContainsPoint %s = %v, want %v", tc.name, got, tc.want)
		}
	}

	geoms := []struct {
		name string
		g    geom.T
		want bool
	}{
		{"point in the ring", pt(108.15, 16.05), true},
		{"point in the hole", pt(108.20, 16.05), false},
		{"point in the second polygon", pt(108.01, 15.96), true},
		{"multipoint, all outside", geom.NewMultiPointFlat(geom.XY, []float64{108.2, 16.05, 108.5, 16.5}), false},
		{"line inside the hole", line(108.19, 16.045, 108.21, 16.055), false},
		{"line from the hole out of the zone", line(108.20, 16.05, 108.40, 16.05), true},
		{"line across the hole, vertices outside the zone", line(108.20, 15.9, 108.20, 16.2), true},
		{"line far away", line(108.5, 16.5, 108.6, 16.6), false},
		{"polygon inside the hole", poly(box(108.19, 16.045, 108.21, 16.055)), false},
		{"polygon in the ring", poly(box(108.12, 16.01, 108.14, 16.02)), true},
		{"polygon overlapping the outer edge", poly(box(108.28, 16.08, 108.4, 16.2)), true},
		{"polygon containing the whole zone", poly(box(107.9, 15.9, 108.4, 16.2)), true},
		{"polygon containing only the second zone", poly(box(107.99, 15.94, 108.03, 15.98)), true},
		{"zone inside a hole of the polygon",
			poly(box(107.9, 15.9, 108.4, 16.2), box(107.95, 15.92, 108.35, 16.15)), false},
		{"zone crossing out of a hole of the polygon",
			// The hole holds the zone's first vertex (108.1, 16.0) but the
			// zone reaches the polygon's solid part east of 108.2.
			poly(box(107.9, 15.9, 108.4, 16.2), box(107.95, 15.92, 108.2, 16.15)), true},
		{"bounds overlap only", poly(box(108.05, 16.01, 108.09, 16.09)), false},
	}
	for _, tc := range geoms {
		if got := zone.Intersects(tc.g); got != tc.want {
			t.Errorf("Intersects %s = %v, want %v", tc.name, got, tc.want)
		}
	}

	if geo.NewArea(pt(108, 16)) != nil || geo.NewArea(line(108, 16, 108.1, 16.1)) != nil {
		t.Error("NewArea accepted a non-polygonal geometry")
	}
	if a := geo.NewArea(donut); a == nil || a.ContainsPoint(108.2, 16.05) || !a.ContainsPoint(108.11, 16.01) {
		t.Error("NewArea(Polygon) does not honour the hole")
	}
}

// haversine is the great-circle distance in metres.
func haversine(lon1, lat1, lon2, lat2 float64) float64 {
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * geo.EarthRadius * math.Asin(math.Sqrt(a))
}

// destination is the point distance metres from (lon, lat) along bearing
// (degrees clockwise from north) on the sphere.
func destination(lon, lat, bearing, distance float64) (float64, float64) {
	rad := math.Pi / 180
	d := distance / geo.EarthRadius
	φ1, λ1, θ := lat*rad, lon*rad, bearing*rad
	φ2 := math.Asin(math.Sin(φ1)*math.Cos(d) + math.Cos(φ1)*math.Sin(d)*math.Cos(θ))
	λ2 := λ1 + math.Atan2(math.Sin(θ)*math.Sin(d)*math.Cos(φ1), math.Cos(d)-math.Sin(φ1)*math.Sin(φ2))
	return λ2 / rad, φ2 / rad
}

func TestProjectionPointDistance(t *testing.T) {
	// From the Dragon Bridge to places across the city, in every direction.
	const lon0, lat0 = 108.2272, 16.0610
	p := geo.NewProjection(lon0, lat0)
	for _, d := range []float64{1, 50, 800, 5000, 15000, 30000} {
		for bearing := 0.0; bearing < 360; bearing += 22.5 {
			lon, lat := destination(lon0, lat0, bearing, d)
			got := p.Distance(pt(lon, lat))
			want := haversine(lon0, lat0, lon, lat)
			if rel := math.Abs(got-want) / want; rel > 0.005 {
				t.Errorf("distance %gm bearing %g: projection %.2fm, haversine %.2fm (%.3f%% off)", d, bearing, got, want, 100*rel)
			}
		}
	}
	if d := p.Distance(pt(lon0, lat0)); d != 0 {
		t.Errorf("distance to the centre = %g", d)
	}
	x, y := p.XY(lon0+0.01, lat0-0.01)
	if x <= 0 || y >= 0 || math.Abs(y+1111.95) > 0.1 {
		t.Errorf("XY(east, south) = %g, %g", x, y)
	}
}

func TestProjectionDistance(t *testing.T) {
	const lon0, lat0 = 108.22, 16.07
	p := geo.NewProjection(lon0, lat0)
	tests := []struct {
		name string
		g    geom.T
		want float64 // haversine reference in metres
	}{
		{"point", pt(108.23, 16.08), haversine(lon0, lat0, 108.23, 16.08)},
		{"nearest of a multipoint", geom.NewMultiPointFlat(geom.XY, []float64{108.3, 16.1, 108.221, 16.07, 108.1, 16.0}), haversine(lon0, lat0, 108.221, 16.07)},
		// The foot of the perpendicular lies inside the segment: the
		// distance is to (108.22, 16.08), not to either end.
		{"segment, foot inside", line(108.20, 16.08, 108.24, 16.08), haversine(lon0, lat0, 108.22, 16.08)},
		{"segment, foot beyond the end", line(108.23, 16.08, 108.30, 16.08), haversine(lon0, lat0, 108.23, 16.08)},
		{"long road passing close", line(107.9, 16.0, 108.5, 16.14), perpendicular(p, 107.9, 16.0, 108.5, 16.14)},
		{"polyline, second segment nearest", line(108.0, 16.0, 108.0, 16.1, 108.25, 16.1), haversine(lon0, lat0, 108.22, 16.1)},
		{"inside polygon", poly(box(108.1, 16.0, 108.3, 16.1)), 0},
		{"on polygon edge", poly(box(108.22, 16.0, 108.3, 16.1)), 0},
		{"outside polygon", poly(box(108.23, 16.0, 108.3, 16.1)), haversine(lon0, lat0, 108.23, 16.07)},
		{"in the hole of a polygon", poly(box(108.1, 16.0, 108.3, 16.1), box(108.21, 16.06, 108.25, 16.08)), haversine(lon0, lat0, 108.21, 16.07)},
		{"inside the second polygon of a multipolygon", multiPoly(poly(box(108.0, 16.0, 108.01, 16.01)), poly(box(108.2, 16.0, 108.3, 16.1))), 0},
	}
	for _, tc := range tests {
		got := p.Distance(tc.g)
		if tc.want == 0 {
			if got != 0 {
				t.Errorf("%s: Distance = %g, want 0", tc.name, got)
			}
			continue
		}
		if rel := math.Abs(got-tc.want) / tc.want; rel > 0.005 {
			t.Errorf("%s: Distance = %.2fm, want %.2fm (%.3f%% off)", tc.name, got, tc.want, 100*rel)
		}
	}
}

// perpendicular is the planar distance from the projection centre to the
// infinite line through two points, computed independently of the package.
func perpendicular(p geo.Projection, x1, y1, x2, y2 float64) float64 {
	ax, ay := p.XY(x1, y1)
	bx, by := p.XY(x2, y2)
	return math.Abs(ax*by-ay*bx) / math.Hypot(bx-ax, by-ay)
}

func TestRectDistance(t *testing.T) {
	p := geo.NewProjection(108.22, 16.07)
	r := geo.Rect{MinX: 108.23, MinY: 16.08, MaxX: 108.3, MaxY: 16.1}
	want := haversine(108.22, 16.07, 108.23, 16.08)
	if got := p.RectDistance(r); math.Abs(got-want)/want > 0.005 {
		t.Errorf("RectDistance to the north-east box = %.1f, want %.1f", got, want)
	}
	if got := p.RectDistance(geo.Rect{MinX: 108.2, MinY: 16.0, MaxX: 108.3, MaxY: 16.1}); got != 0 {
		t.Errorf("RectDistance to a box holding the centre = %g", got)
	}
	// The box distance never exceeds the distance to anything inside it.
	g := line(108.24, 16.09, 108.29, 16.095)
	if bd, d := p.RectDistance(geo.BoundsOf(g)), p.Distance(g); bd > d {
		t.Errorf("RectDistance %g > Distance %g", bd, d)
	}
}

func TestCircleBounds(t *testing.T) {
	centres := [][2]float64{{108.22, 16.07}, {107.82, 15.92}, {0, 0}, {-70, -60}, {10, 80}}
	for _, c := range centres {
		for _, radius := range []float64{1, 100, 2500, 20000} {
			name := fmt.Sprintf("%v r=%g", c, radius)
			b := geo.CircleBounds(c[0], c[1], radius)
			if !b.ContainsPoint(c[0], c[1]) {
				t.Errorf("%s: bounds %v miss the centre", name, b)
			}
			p := geo.NewProjection(c[0], c[1])
			for bearing := 0.0; bearing < 360; bearing += 7.5 {
				// Points on the true circle (slightly inside, against
				// rounding) and on the projected circle used by Within.
				lon, lat := destination(c[0], c[1], bearing, radius*(1-1e-6))
				if !b.ContainsPoint(lon, lat) {
					t.Errorf("%s: bounds %v miss (%g, %g) at bearing %g (%.3fm away)", name, b, lon, lat, bearing, haversine(c[0], c[1], lon, lat))
				}
				s, co := math.Sincos(bearing * math.Pi / 180)
				dLat := radius * (1 - 1e-9) * co / (math.Pi / 180 * geo.EarthRadius)
				dLon := radius * (1 - 1e-9) * s / (math.Pi / 180 * geo.EarthRadius * math.Cos(c[1]*math.Pi/180))
				if d := p.Distance(pt(c[0]+dLon, c[1]+dLat)); math.Abs(d-radius*(1-1e-9)) > 1e-6*radius {
					t.Fatalf("%s: projected circle point at %g m", name, d)
				}
				if !b.ContainsPoint(c[0]+dLon, c[1]+dLat) {
					t.Errorf("%s: bounds %v miss projected circle point at bearing %g", name, b, bearing)
				}
			}
			// The easternmost point of the true circle lies poleward of the
			// centre, further east than radius/cos(lat) suggests.
			d := radius * (1 - 1e-9) / geo.EarthRadius
			φ := c[1] * math.Pi / 180
			eLon := c[0] + math.Asin(math.Sin(d)/math.Cos(φ))*180/math.Pi
			eLat := math.Asin(math.Sin(φ)/math.Cos(d)) * 180 / math.Pi
			if got := haversine(c[0], c[1], eLon, eLat); math.Abs(got-radius) > 1e-3 {
				t.Fatalf("%s: easternmost point is %.4fm away", name, got)
			}
			if !b.ContainsPoint(eLon, eLat) || !b.ContainsPoint(2*c[0]-eLon, eLat) {
				t.Errorf("%s: bounds %v miss the east/west extremes at lon %.9f", name, b, eLon)
			}
			// Not wildly larger than the circle: the box spans about two
			// radii north to south.
			if h := haversine(c[0], b.MinY, c[0], b.MaxY); h > 2.001*radius || h < 1.999*radius {
				t.Errorf("%s: bounds %v are %.2fm tall, want %.2fm", name, b, h, 2*radius)
			}
		}
	}
	// A wide circle at high latitude.
	if b := geo.CircleBounds(20, 60, 1e6); !b.ContainsPoint(38.2, 61.26) {
		t.Errorf("CircleBounds(20, 60, 1000km) = %v misses its eastern extreme", b)
	} else if h := haversine(20, 60, 38.2, 61.26); h > 1e6 {
		t.Fatalf("test point is %gm away", h)
	}
	// Across the antimeridian the box takes every longitude rather than
	// lose the other side.
	if b := geo.CircleBounds(179.99, 16, 5000); !b.ContainsPoint(-179.995, 16) {
		t.Errorf("CircleBounds(179.99, 16, 5km) = %v misses (-179.995, 16), %.0fm away", b, haversine(179.99, 16, -179.995, 16))
	}
	// Near the pole and the antimeridian the box is clamped to the world.
	for _, c := range [][3]float64{{179.99, 16, 5000}, {-179.99, 16, 5000}, {108, 89.99, 5000}, {108, -89.999, 1e6}} {
		b := geo.CircleBounds(c[0], c[1], c[2])
		if !geo.World.Contains(b) {
			t.Errorf("CircleBounds%v = %v, outside the world", c, b)
		}
	}
	if b := geo.CircleBounds(108, 90, 1000); b.MinX != -180 || b.MaxX != 180 || b.MaxY != 90 {
		t.Errorf("CircleBounds at the pole = %v, want every longitude", b)
	}
}

func TestErrorText(t *testing.T) {
	_, err := geo.Decode([]byte(`{"type":"Polygon","coordinates":[[[108.1,16],[108.3,16],[108.3,16.1],[16.1,108.1],[108.1,16]]]}`))
	if err == nil || !strings.HasPrefix(err.Error(), "coordinates[0][3]: latitude 108.1 is out of range") {
		t.Errorf("error text %q", err)
	}
}
