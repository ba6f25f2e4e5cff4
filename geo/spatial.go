package geo

import (
	"math"

	"github.com/twpayne/go-geom"
)

// EarthRadius is the mean Earth radius in metres.
const EarthRadius = 6371008.8

// parts splits a geometry into its points, lines and polygons (each polygon a
// list of rings), all as flat XY slices sharing g's backing array.
type parts struct {
	points   []float64
	lines    [][]float64
	polygons [][][]float64
}

func split(g geom.T) parts {
	var p parts
	switch g := g.(type) {
	case *geom.Point, *geom.MultiPoint:
		p.points = g.FlatCoords()
	case *geom.LineString:
		p.lines = [][]float64{g.FlatCoords()}
	case *geom.MultiLineString:
		p.lines = cut(g.FlatCoords(), 0, g.Ends())
	case *geom.Polygon:
		p.polygons = [][][]float64{cut(g.FlatCoords(), 0, g.Ends())}
	case *geom.MultiPolygon:
		start := 0
		for _, ends := range g.Endss() {
			p.polygons = append(p.polygons, cut(g.FlatCoords(), start, ends))
			if len(ends) > 0 {
				start = ends[len(ends)-1]
			}
		}
	}
	return p
}

func cut(flat []float64, start int, ends []int) [][]float64 {
	out := make([][]float64, 0, len(ends))
	for _, end := range ends {
		out = append(out, flat[start:end])
		start = end
	}
	return out
}

// IntersectsRect reports whether g shares at least one point with r.
func IntersectsRect(g geom.T, r Rect) bool {
	b := BoundsOf(g)
	if !r.Intersects(b) {
		return false
	}
	if r.Contains(b) {
		return true
	}
	p := split(g)
	for i := 0; i+1 < len(p.points); i += 2 {
		if r.ContainsPoint(p.points[i], p.points[i+1]) {
			return true
		}
	}
	for _, l := range p.lines {
		if lineIntersectsRect(l, r) {
			return true
		}
	}
	for _, rings := range p.polygons {
		for _, ring := range rings {
			if lineIntersectsRect(ring, r) {
				return true
			}
		}
		// The rectangle may lie wholly inside the polygon.
		if inPolygon(rings, r.MinX, r.MinY) {
			return true
		}
	}
	return false
}

func lineIntersectsRect(l []float64, r Rect) bool {
	if len(l) >= 2 && r.ContainsPoint(l[0], l[1]) {
		return true
	}
	edges := [4][4]float64{
		{r.MinX, r.MinY, r.MaxX, r.MinY}, {r.MaxX, r.MinY, r.MaxX, r.MaxY},
		{r.MaxX, r.MaxY, r.MinX, r.MaxY}, {r.MinX, r.MaxY, r.MinX, r.MinY},
	}
	for i := 2; i+1 < len(l); i += 2 {
		if r.ContainsPoint(l[i], l[i+1]) {
			return true
		}
		for _, e := range edges {
			if segmentsIntersect(l[i-2], l[i-1], l[i], l[i+1], e[0], e[1], e[2], e[3]) {
				return true
			}
		}
	}
	return false
}

// inPolygon is the even-odd ray test over every ring, so holes count.
func inPolygon(rings [][]float64, x, y float64) bool {
	in := false
	for _, ring := range rings {
		for i, j := 0, len(ring)-2; i+1 < len(ring); j, i = i, i+2 {
			xi, yi, xj, yj := ring[i], ring[i+1], ring[j], ring[j+1]
			if (yi > y) != (yj > y) && x < (xj-xi)*(y-yi)/(yj-yi)+xi {
				in = !in
			}
		}
	}
	return in
}

func orientation(ax, ay, bx, by, cx, cy float64) float64 {
	return (bx-ax)*(cy-ay) - (by-ay)*(cx-ax)
}

func onSegment(ax, ay, bx, by, px, py float64) bool {
	return min(ax, bx) <= px && px <= max(ax, bx) && min(ay, by) <= py && py <= max(ay, by)
}

func segmentsIntersect(ax, ay, bx, by, cx, cy, dx, dy float64) bool {
	d1 := orientation(cx, cy, dx, dy, ax, ay)
	d2 := orientation(cx, cy, dx, dy, bx, by)
	d3 := orientation(ax, ay, bx, by, cx, cy)
	d4 := orientation(ax, ay, bx, by, dx, dy)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	return (d1 == 0 && onSegment(cx, cy, dx, dy, ax, ay)) ||
		(d2 == 0 && onSegment(cx, cy, dx, dy, bx, by)) ||
		(d3 == 0 && onSegment(ax, ay, bx, by, cx, cy)) ||
		(d4 == 0 && onSegment(ax, ay, bx, by, dx, dy))
}

// Area is a polygonal region (Polygon or MultiPolygon) prepared for repeated
// intersection tests, such as a query polygon or an emergency zone.
type Area struct {
	Bounds   Rect
	geometry geom.T
	polygons [][][]float64
}

// NewArea prepares a Polygon or MultiPolygon; other geometries yield nil.
func NewArea(g geom.T) *Area {
	switch g.(type) {
	case *geom.Polygon, *geom.MultiPolygon:
		return &Area{Bounds: BoundsOf(g), geometry: g, polygons: split(g).polygons}
	}
	return nil
}

// ContainsPoint reports whether (x, y) lies inside the area.
func (a *Area) ContainsPoint(x, y float64) bool {
	if !a.Bounds.ContainsPoint(x, y) {
		return false
	}
	for _, rings := range a.polygons {
		if inPolygon(rings, x, y) {
			return true
		}
	}
	return false
}

// Intersects reports whether g shares at least one point with the area.
func (a *Area) Intersects(g geom.T) bool {
	if !a.Bounds.Intersects(BoundsOf(g)) {
		return false
	}
	p := split(g)
	for i := 0; i+1 < len(p.points); i += 2 {
		if a.ContainsPoint(p.points[i], p.points[i+1]) {
			return true
		}
	}
	for _, l := range p.lines {
		if a.touchesLine(l) {
			return true
		}
	}
	for _, rings := range p.polygons {
		// Every ring counts: the area may cross out of a hole of g without
		// touching g's outer ring.
		for _, ring := range rings {
			if a.touchesLine(ring) {
				return true
			}
		}
		if a.insidePolygon(rings) {
			return true
		}
	}
	return false
}

// touchesLine: a vertex inside the area or an edge crossing its boundary.
func (a *Area) touchesLine(l []float64) bool {
	for i := 0; i+1 < len(l); i += 2 {
		if a.ContainsPoint(l[i], l[i+1]) {
			return true
		}
	}
	for _, rings := range a.polygons {
		for _, ring := range rings {
			if linesCross(l, ring) {
				return true
			}
		}
	}
	return false
}

// insidePolygon: the area lies wholly within the polygon given by rings.
func (a *Area) insidePolygon(rings [][]float64) bool {
	for _, poly := range a.polygons {
		if inPolygon(rings, poly[0][0], poly[0][1]) {
			return true
		}
	}
	return false
}

func linesCross(l, m []float64) bool {
	for i := 2; i+1 < len(l); i += 2 {
		for j := 2; j+1 < len(m); j += 2 {
			if segmentsIntersect(l[i-2], l[i-1], l[i], l[i+1], m[j-2], m[j-1], m[j], m[j+1]) {
				return true
			}
		}
	}
	return false
}

// Projection maps degrees to metres on a plane tangent at a reference point
// (equirectangular). At city scale its error is well under 0.5%, and it
// makes distances to lines and boxes cheap and consistent with each other.
type Projection struct {
	lon0, lat0, kx, ky float64
}

// NewProjection returns the local projection centred on (lon, lat).
func NewProjection(lon, lat float64) Projection {
	k := math.Pi / 180 * EarthRadius
	return Projection{lon0: lon, lat0: lat, kx: k * math.Cos(lat*math.Pi/180), ky: k}
}

// XY returns the position of (lon, lat) in metres from the centre.
func (p Projection) XY(lon, lat float64) (float64, float64) {
	return (lon - p.lon0) * p.kx, (lat - p.lat0) * p.ky
}

// RectDistance is the distance in metres from the centre to the nearest point
// of r (zero when the centre lies inside r).
func (p Projection) RectDistance(r Rect) float64 {
	dx := max(r.MinX-p.lon0, 0, p.lon0-r.MaxX) * p.kx
	dy := max(r.MinY-p.lat0, 0, p.lat0-r.MaxY) * p.ky
	return math.Hypot(dx, dy)
}

// Distance is the distance in metres from the centre to the nearest point of
// g (zero when the centre lies inside a polygon of g).
func (p Projection) Distance(g geom.T) float64 {
	best := math.Inf(1)
	pt := split(g)
	for i := 0; i+1 < len(pt.points); i += 2 {
		best = min(best, math.Hypot(p.XY(pt.points[i], pt.points[i+1])))
	}
	for _, l := range pt.lines {
		best = min(best, p.lineDistance(l))
	}
	for _, rings := range pt.polygons {
		if inPolygon(rings, p.lon0, p.lat0) {
			return 0
		}
		for _, ring := range rings {
			best = min(best, p.lineDistance(ring))
		}
	}
	return best
}

func (p Projection) lineDistance(l []float64) float64 {
	ax, ay := p.XY(l[0], l[1])
	best := math.Hypot(ax, ay)
	for i := 2; i+1 < len(l); i += 2 {
		bx, by := p.XY(l[i], l[i+1])
		best = min(best, segmentDistance(ax, ay, bx, by))
		ax, ay = bx, by
	}
	return best
}

// segmentDistance is the distance from the origin to segment a-b.
func segmentDistance(ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	l2 := dx*dx + dy*dy
	if l2 == 0 {
		return math.Hypot(ax, ay)
	}
	t := max(0, min(1, -(ax*dx+ay*dy)/l2))
	return math.Hypot(ax+t*dx, ay+t*dy)
}

// CircleBounds returns a rectangle enclosing every point within radius
// metres of (lon, lat), for an R-tree prefilter. It encloses both the circle
// on the sphere and the circle of the local Projection. A circle that holds
// a pole or crosses the antimeridian gets every longitude.
func CircleBounds(lon, lat, radius float64) Rect {
	d := radius / EarthRadius // angular radius
	dLat := d * 180 / math.Pi
	if lat+dLat >= 90 || lat-dLat <= -90 {
		return Rect{-180, max(-90, lat-dLat), 180, min(90, lat+dLat)}
	}
	cos := math.Cos(lat * math.Pi / 180)
	// The sphere's circle reaches furthest east at asin(sin d / cos lat),
	// poleward of the centre, a little beyond the projection's d / cos lat.
	dLon := 180.0
	if s := math.Sin(d) / cos; d < math.Pi/2 && s < 1 {
		dLon = max(math.Asin(s), d/cos) * 180 / math.Pi
	}
	if lon-dLon < -180 || lon+dLon > 180 {
		return Rect{-180, lat - dLat, 180, lat + dLat}
	}
	return Rect{lon - dLon, lat - dLat, lon + dLon, lat + dLat}
}
