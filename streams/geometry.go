package streams

import (
	"errors"

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
// swap whose longitude would be a latitude beyond 90.
func checkArea(g geom.T, area geo.Rect) *EventError {
	i := geo.FirstSwapped(g, area)
	if i < 0 {
		return nil
	}
	flat := g.FlatCoords()
	x, y := flat[i*g.Stride()], flat[i*g.Stride()+1]
	return eventErrorf(ReasonSwapped, joinPath("geometry", geo.PositionPath(g, i)),
		"position [%g, %g] is outside the service area (%v) but inside it as [%g, %g]: "+
			"coordinates look swapped (GeoJSON order is [longitude, latitude])", x, y, area, y, x)
}
