package areas

import (
	"errors"
	"io/fs"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
)

func mustDefault(t testing.TB) *Set {
	t.Helper()
	s, err := Default()
	if errors.Is(err, ErrNoEmbeddedData) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The banded test must answer exactly as geo.Area, on the real outlines
// and on a polygon with a hole, including points on vertices and edges.
func TestPolygonMatchesGeoArea(t *testing.T) {
	s := mustDefault(t)
	var checked int
	for _, r := range districtRecs(t) {
		for _, rings := range polygonRings(r.g) {
			checked += comparePolygon(t, rings)
		}
	}
	holed := [][]float64{
		{0, 0, 10, 0, 10, 10, 0, 10, 0, 0},
		{2, 2, 8, 2, 8, 8, 2, 8, 2, 2},
	}
	checked += comparePolygon(t, holed)
	p := newPolygon(holed)
	if !p.contains(1, 1) || p.contains(5, 5) || p.contains(11, 5) {
		t.Error("hole not respected")
	}
	t.Logf("%d points compared; %d district parts", checked, len(s.districtParts))
}

func comparePolygon(t *testing.T, rings [][]float64) int {
	t.Helper()
	flat, ends := []float64{}, []int{}
	for _, r := range rings {
		flat = append(flat, r...)
		ends = append(ends, len(flat))
	}
	area := geo.NewArea(geom.NewPolygonFlat(geom.XY, flat, ends))
	p := newPolygon(rings)
	check := func(x, y float64) {
		if got, want := p.contains(x, y), area.ContainsPoint(x, y); got != want {
			t.Fatalf("contains(%v, %v) = %v, geo.Area says %v", x, y, got, want)
		}
	}
	n := 0
	for _, r := range rings { // every vertex and edge midpoint
		for i := 0; i+3 < len(r); i += 2 {
			check(r[i], r[i+1])
			check((r[i]+r[i+2])/2, (r[i+1]+r[i+3])/2)
			n += 2
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	bb := p.bounds
	for i := 0; i < 3000; i++ {
		check(bb.MinX+(bb.MaxX-bb.MinX)*rng.Float64(), bb.MinY+(bb.MaxY-bb.MinY)*rng.Float64())
		n++
	}
	return n
}

// Shared edges aside, no place lies in two districts.
func TestDistrictsDoNotOverlap(t *testing.T) {
	s := mustDefault(t)
	overlaps := 0
	for x := 107.82; x < 108.34; x += 0.002 {
		for y := 15.92; y < 16.22; y += 0.002 {
			n := 0
			for _, pt := range s.districtParts {
				if pt.poly.contains(x, y) {
					n++
				}
			}
			if n > 1 {
				overlaps++
			}
		}
	}
	if overlaps > 0 {
		t.Errorf("%d sample points lie in more than one district", overlaps)
	}
}

func TestRepresentativeInsidePolygon(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200; i++ {
		// A random star-shaped polygon round (0, 0), often concave.
		n := 5 + rng.IntN(20)
		flat := make([]float64, 0, 2*n+2)
		for k := 0; k < n; k++ {
			a := 2 * math.Pi * float64(k) / float64(n)
			r := 0.1 + rng.Float64()
			flat = append(flat, r*math.Cos(a)+rng.Float64()*0.01, r*math.Sin(a))
		}
		flat = append(flat, flat[0], flat[1])
		g := geom.NewPolygonFlat(geom.XY, flat, []int{len(flat)})
		x, y, ok := representative(g)
		if !ok || !geo.NewArea(g).ContainsPoint(x, y) {
			t.Fatalf("polygon %v: representative (%v, %v) not inside", flat, x, y)
		}
	}
}

func TestConvexHull(t *testing.T) {
	pts := [][2]float64{{0, 0}, {2, 0}, {1, 1}, {2, 2}, {0, 2}, {1, 0}, {0, 2}}
	got := convexHull(pts)
	want := [][2]float64{{0, 0}, {2, 0}, {2, 2}, {0, 2}}
	if len(got) != len(want) {
		t.Fatalf("hull %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("hull %v, want %v", got, want)
		}
	}
	if got := convexHull([][2]float64{{1, 1}, {1, 1}}); len(got) != 1 {
		t.Errorf("hull of one repeated point: %v", got)
	}
}

// Compares the banded test with geo.Area's full scan on the largest
// outline (Hòa Vang, 886 vertices).
func BenchmarkPointInPolygon(b *testing.B) {
	s := mustDefault(b)
	var hv geom.T
	var banded *polygon
	for i, r := range districtRecs(b) {
		if r.info.Code == "497" {
			hv = r.g
			for _, pt := range s.districtParts {
				if pt.owner == int32(i) {
					banded = pt.poly
				}
			}
		}
	}
	area := geo.NewArea(hv)
	pts := randomPoints(1024, geo.BoundsOf(hv))
	b.Run("banded", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			p := pts[i%len(pts)]
			banded.contains(p[0], p[1])
		}
	})
	b.Run("geo.Area", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			p := pts[i%len(pts)]
			area.ContainsPoint(p[0], p[1])
		}
	})
}

// districtRecs parses the embedded districts file.
func districtRecs(t testing.TB) []districtRec {
	t.Helper()
	raw, err := fs.ReadFile(Files(), "districts.geojson")
	if err != nil {
		t.Fatal(err)
	}
	b := newBuilder()
	if err := b.addCollection("districts.geojson", raw); err != nil {
		t.Fatal(err)
	}
	return b.districts
}

func randomPoints(n int, r geo.Rect) [][2]float64 {
	rng := rand.New(rand.NewPCG(5, 6))
	out := make([][2]float64, n)
	for i := range out {
		out[i] = [2]float64{r.MinX + (r.MaxX-r.MinX)*rng.Float64(), r.MinY + (r.MaxY-r.MinY)*rng.Float64()}
	}
	return out
}
