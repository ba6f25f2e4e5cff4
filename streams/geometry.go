package streams

import (
	"errors"
	"fmt"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
)

// errorsAsGeo extracts the geometry error geo.Decode returns.
func errorsAsGeo(err error) *geo.Error {
	var ge *geo.Error
	if errors.As(err, &ge) {
		return ge
	}
	return &geo.Error{Reason: geo.ReasonInvalid, Msg: err.Error()}
}

// geometry decodes the geometry. It is required for upserts; on a delete
// it is optional, but when present it is still checked and kept, so a
// sender with broken geometries learns it on its first delete too.
func (d *Decoder) geometry(v []byte, op layers.Op) (geom.T, *EventError) {
	if isNull(v) {
		if op == layers.OpDelete {
			return nil, nil
		}
		return nil, eventErrorf(ReasonMissingGeometry, "geometry", "geometry is required for an upsert (a GeoJSON geometry object)")
	}
	g, err := geo.Decode(v)
	if err != nil {
		ge := errorsAsGeo(err)
		return nil, &EventError{Reason: Reason(ge.Reason), Path: joinPath("geometry", ge.Path), Msg: ge.Msg}
	}
	if d.cfg.Area != (geo.Rect{}) {
		if err := checkArea(g, d.cfg.Area); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func joinPath(base, sub string) string {
	if sub == "" {
		return base
	}
	return base + "." + sub
}

// checkArea refuses positions that are outside the area but inside it with
// longitude and latitude exchanged. The global range check only catches a
// swap whose longitude would be a latitude beyond 90; where both orders are
// valid positions, only the service area tells them apart.
func checkArea(g geom.T, area geo.Rect) *EventError {
	flat, stride := g.FlatCoords(), g.Stride()
	for i := 0; i+1 < len(flat); i += stride {
		x, y := flat[i], flat[i+1]
		if area.ContainsPoint(x, y) || !area.ContainsPoint(y, x) {
			continue
		}
		return eventErrorf(ReasonSwapped, joinPath("geometry", positionPath(g, i/stride)),
			"position [%g, %g] is outside the service area (%v) but inside it as [%g, %g]: "+
				"coordinates look swapped (GeoJSON order is [longitude, latitude])", x, y, area, y, x)
	}
	return nil
}

// positionPath names the i-th position of g as a path into its GeoJSON
// coordinates, e.g. "coordinates[0][3]" for the fourth position of the
// outer ring of a Polygon.
func positionPath(g geom.T, i int) string {
	switch g.(type) {
	case *geom.Point:
		return "coordinates"
	case *geom.MultiPoint, *geom.LineString:
		return fmt.Sprintf("coordinates[%d]", i)
	case *geom.Polygon, *geom.MultiLineString:
		return "coordinates" + ringPath(g.Ends(), 0, i, g.Stride())
	case *geom.MultiPolygon:
		start := 0
		for p, ends := range g.Endss() {
			if len(ends) > 0 && i*g.Stride() < ends[len(ends)-1] {
				return fmt.Sprintf("coordinates[%d]", p) + ringPath(ends, start, i, g.Stride())
			}
			if len(ends) > 0 {
				start = ends[len(ends)-1]
			}
		}
	}
	return "coordinates"
}

// ringPath finds position i (counted over the whole geometry) among rings
// ending at ends, the first ring starting at flat offset start.
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
