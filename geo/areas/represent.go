package areas

import (
	"math"
	"slices"

	"github.com/twpayne/go-geom"
)

// representative returns the one position LocateGeometry looks up for g
// (see there); ok is false for nil, empty or unsupported geometries.
func representative(g geom.T) (x, y float64, ok bool) {
	if g == nil || len(g.FlatCoords()) < 2 || g.Stride() < 2 {
		return 0, 0, false
	}
	stride := g.Stride()
	switch g := g.(type) {
	case *geom.Point:
		return g.X(), g.Y(), true
	case *geom.MultiPoint:
		x, y = nearestToMean(xy(g.FlatCoords(), stride))
		return x, y, true
	case *geom.LineString:
		x, y = halfway(xy(g.FlatCoords(), stride))
		return x, y, true
	case *geom.MultiLineString:
		l := longest(g)
		if l == nil {
			return 0, 0, false
		}
		x, y = halfway(l)
		return x, y, true
	case *geom.Polygon, *geom.MultiPolygon:
		polys := polygonRings(g)
		best, bestArea := 0, -1.0
		for i, rings := range polys {
			if a := math.Abs(ringArea(rings[0])); a > bestArea {
				best, bestArea = i, a
			}
		}
		x, y = pointOnSurface(polys[best])
		return x, y, true
	}
	return 0, 0, false
}

// xy returns flat coordinates of any stride as flat XY.
func xy(flat []float64, stride int) []float64 {
	if stride == 2 {
		return flat
	}
	return ringsXY(flat, 0, []int{len(flat) - len(flat)%stride}, stride)[0]
}

func nearestToMean(pts []float64) (float64, float64) {
	var mx, my float64
	n := float64(len(pts) / 2)
	for i := 0; i+1 < len(pts); i += 2 {
		mx, my = mx+pts[i]/n, my+pts[i+1]/n
	}
	kx := math.Cos(my * math.Pi / 180)
	best, bestD := 0, math.Inf(1)
	for i := 0; i+1 < len(pts); i += 2 {
		dx, dy := (pts[i]-mx)*kx, pts[i+1]-my
		if d := dx*dx + dy*dy; d < bestD {
			best, bestD = i, d
		}
	}
	return pts[best], pts[best+1]
}

// lineLength is the length of a flat XY line on the local plane, in
// degrees of latitude.
func lineLength(l []float64, kx float64) float64 {
	total := 0.0
	for i := 2; i+1 < len(l); i += 2 {
		total += math.Hypot((l[i]-l[i-2])*kx, l[i+1]-l[i-1])
	}
	return total
}

// halfway returns the point halfway along a flat XY line.
func halfway(l []float64) (float64, float64) {
	kx := math.Cos(l[1] * math.Pi / 180)
	rest := lineLength(l, kx) / 2
	for i := 2; i+1 < len(l); i += 2 {
		seg := math.Hypot((l[i]-l[i-2])*kx, l[i+1]-l[i-1])
		if seg > 0 && rest <= seg {
			t := rest / seg
			return l[i-2] + t*(l[i]-l[i-2]), l[i-1] + t*(l[i+1]-l[i-1])
		}
		rest -= seg
	}
	return l[len(l)-2], l[len(l)-1]
}

// longest returns the longest member of a MultiLineString as flat XY.
func longest(g *geom.MultiLineString) []float64 {
	var best []float64
	bestLen := -1.0
	for i := 0; i < g.NumLineStrings(); i++ {
		l := xy(g.LineString(i).FlatCoords(), g.Stride())
		if len(l) < 2 {
			continue
		}
		if n := lineLength(l, math.Cos(l[1]*math.Pi/180)); n > bestLen {
			best, bestLen = l, n
		}
	}
	return best
}

// ringArea is the signed shoelace area of a flat XY ring, in square degrees.
func ringArea(r []float64) float64 {
	a := 0.0
	for i := 2; i+1 < len(r); i += 2 {
		a += r[i-2]*r[i+1] - r[i]*r[i-1]
	}
	return a / 2
}

// pointOnSurface returns a point inside the polygon given by rings: the
// centre of its bounding box if inside, else the middle of the widest
// inside stretch of the horizontal line through that centre.
func pointOnSurface(rings [][]float64) (float64, float64) {
	p := newPolygon(rings)
	cx, cy := (p.bounds.MinX+p.bounds.MaxX)/2, (p.bounds.MinY+p.bounds.MaxY)/2
	if p.contains(cx, cy) {
		return cx, cy
	}
	var xs []float64
	eachEdge(rings, func(xi, yi, xj, yj float64) {
		if (yi > cy) != (yj > cy) {
			xs = append(xs, xi+(cy-yi)*(xj-xi)/(yj-yi))
		}
	})
	slices.Sort(xs)
	best, bestW := -1, -1.0
	for i := 0; i+1 < len(xs); i += 2 {
		if w := xs[i+1] - xs[i]; w > bestW {
			best, bestW = i, w
		}
	}
	if best < 0 { // no height: a degenerate polygon
		return rings[0][0], rings[0][1]
	}
	return (xs[best] + xs[best+1]) / 2, cy
}
