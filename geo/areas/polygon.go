package areas

import (
	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
)

// polygon is one polygon (outer ring and holes) prepared for fast
// point-in-polygon tests. Its edges are bucketed into horizontal bands, so a
// test only looks at the edges of the band the point falls in instead of
// every vertex of a district outline. The rule is the even-odd ray test of
// geo.Area.ContainsPoint, and since every edge that could cross the ray
// through y is in y's band, the answer is the same.
type polygon struct {
	bounds geo.Rect
	scale  float64      // bands per degree of latitude
	nb     int          // number of bands
	starts []int32      // band i holds edges[starts[i]:starts[i+1]]
	edges  [][4]float64 // xi, yi, xj, yj per edge (see eachEdge), by band
}

// edgesPerBand is the average number of edges a band aims at.
const edgesPerBand = 4

// newPolygon prepares rings given as flat XY coordinates.
func newPolygon(rings [][]float64) *polygon {
	p := &polygon{}
	n := 0
	for _, r := range rings {
		n += len(r)/2 - 1
	}
	first := true
	for _, r := range rings {
		for i := 0; i+1 < len(r); i += 2 {
			pt := geo.Rect{MinX: r[i], MinY: r[i+1], MaxX: r[i], MaxY: r[i+1]}
			if first {
				p.bounds, first = pt, false
			} else {
				p.bounds = p.bounds.Union(pt)
			}
		}
	}
	p.nb = max(1, min(4096, n/edgesPerBand))
	if h := p.bounds.MaxY - p.bounds.MinY; h > 0 {
		p.scale = float64(p.nb) / h
	}
	p.fill(rings)
	return p
}

// fill buckets the edges of rings by band, in two passes (count, place).
func (p *polygon) fill(rings [][]float64) {
	counts := make([]int32, p.nb+1)
	eachEdge(rings, func(_, y1, _, y2 float64) {
		for b := p.band(min(y1, y2)); b <= p.band(max(y1, y2)); b++ {
			counts[b+1]++
		}
	})
	for i := 1; i <= p.nb; i++ {
		counts[i] += counts[i-1]
	}
	p.starts = counts
	p.edges = make([][4]float64, counts[p.nb])
	next := append([]int32(nil), counts[:p.nb]...)
	eachEdge(rings, func(x1, y1, x2, y2 float64) {
		for b := p.band(min(y1, y2)); b <= p.band(max(y1, y2)); b++ {
			p.edges[next[b]] = [4]float64{x1, y1, x2, y2}
			next[b]++
		}
	})
}

// eachEdge calls fn for every edge of every ring, closing rings that are
// not closed. Each edge comes as (vertex, previous vertex), the order
// geo.Area uses, so that the crossing arithmetic rounds the same way.
func eachEdge(rings [][]float64, fn func(xi, yi, xj, yj float64)) {
	for _, r := range rings {
		if len(r) < 4 {
			continue
		}
		for i := 2; i+1 < len(r); i += 2 {
			fn(r[i], r[i+1], r[i-2], r[i-1])
		}
		if last := len(r) - 2; r[last] != r[0] || r[last+1] != r[1] {
			fn(r[0], r[1], r[last], r[last+1])
		}
	}
}

// band returns the band of latitude y, clamped to the polygon's bands. It is
// monotonic in y, which makes an edge spanning y sit in y's band.
func (p *polygon) band(y float64) int {
	b := int((y - p.bounds.MinY) * p.scale)
	return max(0, min(p.nb-1, b))
}

// contains reports whether (x, y) lies inside the polygon (not in a hole).
func (p *polygon) contains(x, y float64) bool {
	if !p.bounds.ContainsPoint(x, y) {
		return false
	}
	b := p.band(y)
	in := false
	for _, e := range p.edges[p.starts[b]:p.starts[b+1]] {
		xi, yi, xj, yj := e[0], e[1], e[2], e[3]
		if (yi > y) != (yj > y) && x < (xj-xi)*(y-yi)/(yj-yi)+xi {
			in = !in
		}
	}
	return in
}

// polygonRings returns the polygons of g (a Polygon or MultiPolygon) as
// lists of flat XY rings.
func polygonRings(g geom.T) [][][]float64 {
	stride := g.Stride()
	flat := g.FlatCoords()
	var out [][][]float64
	switch g := g.(type) {
	case *geom.Polygon:
		out = append(out, ringsXY(flat, 0, g.Ends(), stride))
	case *geom.MultiPolygon:
		start := 0
		for _, ends := range g.Endss() {
			if len(ends) == 0 {
				continue
			}
			out = append(out, ringsXY(flat, start, ends, stride))
			start = ends[len(ends)-1]
		}
	}
	return out
}

// ringsXY cuts flat coordinates of any stride into XY rings.
func ringsXY(flat []float64, start int, ends []int, stride int) [][]float64 {
	rings := make([][]float64, 0, len(ends))
	for _, end := range ends {
		if stride == 2 {
			rings = append(rings, flat[start:end])
		} else {
			r := make([]float64, 0, (end-start)/stride*2)
			for i := start; i+1 < end; i += stride {
				r = append(r, flat[i], flat[i+1])
			}
			rings = append(rings, r)
		}
		start = end
	}
	return rings
}
