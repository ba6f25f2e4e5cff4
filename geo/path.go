package geo

import (
	"fmt"

	"github.com/twpayne/go-geom"
)

// PositionPath names the i-th position of g (counted over the whole
// geometry) as a path into its GeoJSON coordinates, e.g.
// "coordinates[0][3]" for the fourth position of a Polygon's outer ring,
// so that errors found after decoding can still say where.
func PositionPath(g geom.T, i int) string {
	switch g := g.(type) {
	case *geom.Point:
		return "coordinates"
	case *geom.MultiPoint, *geom.LineString:
		return fmt.Sprintf("coordinates[%d]", i)
	case *geom.Polygon, *geom.MultiLineString:
		return "coordinates" + ringPath(g.Ends(), 0, i, g.Stride())
	case *geom.MultiPolygon:
		start := 0
		for p, ends := range g.Endss() {
			if len(ends) == 0 {
				continue
			}
			if i*g.Stride() < ends[len(ends)-1] {
				return fmt.Sprintf("coordinates[%d]", p) + ringPath(ends, start, i, g.Stride())
			}
			start = ends[len(ends)-1]
		}
	}
	return "coordinates"
}

// ringPath finds position i among rings ending at ends, the first ring
// starting at flat offset start.
func ringPath(ends []int, start, i, stride int) string {
	off := i * stride
	for r, end := range ends {
		if off < end {
			return fmt.Sprintf("[%d][%d]", r, (off-start)/stride)
		}
		start = end
	}
	return ""
}

// FirstSwapped returns the index of the first position of g that lies
// outside area but inside it with longitude and latitude exchanged, or -1.
// Where both orders are valid positions, only the service area tells a
// swapped pair apart.
func FirstSwapped(g geom.T, area Rect) int {
	return firstPosition(g, func(x, y float64) bool { return !area.ContainsPoint(x, y) && area.ContainsPoint(y, x) })
}

// FirstOutside returns the index of the first position of g outside area,
// or -1.
func FirstOutside(g geom.T, area Rect) int {
	return firstPosition(g, func(x, y float64) bool { return !area.ContainsPoint(x, y) })
}

func firstPosition(g geom.T, match func(x, y float64) bool) int {
	flat, stride := g.FlatCoords(), g.Stride()
	for i := 0; i+1 < len(flat); i += stride {
		if match(flat[i], flat[i+1]) {
			return i / stride
		}
	}
	return -1
}
