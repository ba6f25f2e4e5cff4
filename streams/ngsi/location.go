package ngsi

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/streams"
)

// location decodes an entity's location: a GeoJSON geometry (NGSI-LD
// GeoProperty, NGSI v2 geo:json, keyValues), or one of the NGSI v2 simple
// location formats: geo:point "lat, lon" (latitude first), geo:line and
// geo:polygon (arrays of "lat, lon"), geo:box (two corners). A plain
// "lat, lon" string is taken as geo:point from NGSI v2 only, as Orion
// renders geo:point that way in keyValues.
func (d *decoder) location(e *entity) (geom.T, *streams.EventError) {
	a := &e.loc
	v := a.value
	switch {
	case is(a.typ, "geo:point") || (a.typ == nil && d.v2 && v[0] == '"'):
		return d.geoPoint(v, e)
	case is(a.typ, "geo:line"), is(a.typ, "geo:polygon"), is(a.typ, "geo:box"):
		return d.geoSimple(v, string(a.typ[1:len(a.typ)-1]), e)
	}
	if v[0] != '{' {
		return nil, errorf(streams.ReasonInvalidGeometry, e.locPath(),
			"the location must be a GeoJSON geometry object (e.g. {\"type\":\"Point\",\"coordinates\":[108.22,16.07]}), found %s", kindOf(v))
	}
	if g := fastPoint(v); g != nil {
		return g, d.checkArea(g, e)
	}
	g, err := geo.Decode(v)
	if err != nil {
		var ge *geo.Error
		if !errors.As(err, &ge) {
			ge = &geo.Error{Reason: geo.ReasonInvalid, Msg: err.Error()}
		}
		return nil, &streams.EventError{Reason: streams.Reason(ge.Reason), Path: joinPath(e.locPath(), ge.Path), Msg: ge.Msg}
	}
	return g, d.checkArea(g, e)
}

// fastPoint decodes the common case, a valid GeoJSON Point with two
// coordinates and no other member, without the general decoder; anything
// else (including every error) is left to geo.Decode.
func fastPoint(v []byte) geom.T {
	var typ, coords []byte
	m := newMembers(v)
	for k, val, ok := m.next(); ok; k, val, ok = m.next() {
		switch string(k) {
		case `"type"`:
			typ = val
		case `"coordinates"`:
			coords = val
		default:
			return nil
		}
	}
	if !is(typ, "Point") || len(coords) == 0 || coords[0] != '[' {
		return nil
	}
	var p [2]float64
	n := 0
	el := newElements(coords)
	for x, ok := el.next(); ok; x, ok = el.next() {
		if n == 2 || x[0] == 'n' || x[0] == '"' || x[0] == '[' || x[0] == '{' || x[0] == 't' || x[0] == 'f' {
			return nil
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return nil
		}
		p[n] = f
		n++
	}
	if n != 2 || geo.CheckPosition(p[:]) != nil {
		return nil
	}
	return geom.NewPointFlat(geom.XY, []float64{p[0], p[1]})
}

func joinPath(base, sub string) string {
	if sub == "" {
		return base
	}
	if base == "" {
		return sub
	}
	return base + "." + sub
}

// latLon parses one "lat, lon" position of the NGSI v2 simple formats.
func latLon(v []byte, path string) ([]float64, *streams.EventError) {
	if len(v) == 0 || v[0] != '"' {
		return nil, errorf(streams.ReasonInvalidGeometry, path, `want a "latitude, longitude" string, found %s`, kindOf(v))
	}
	s := unquote(v)
	lat, lon, ok := strings.Cut(s, ",")
	y, err1 := strconv.ParseFloat(strings.TrimSpace(lat), 64)
	x, err2 := strconv.ParseFloat(strings.TrimSpace(lon), 64)
	if !ok || err1 != nil || err2 != nil {
		return nil, errorf(streams.ReasonInvalidGeometry, path, `%s is not "latitude, longitude" (e.g. "16.0678, 108.2208")`, streams.Quote(s))
	}
	if ge := geo.CheckPosition([]float64{x, y}); ge != nil {
		msg := ge.Msg
		if ge.Reason == geo.ReasonSwapped {
			msg = fmt.Sprintf("latitude %g is out of range [-90, 90] but %g would be a latitude: "+
				"the values look swapped (NGSI v2 geo:point order is \"latitude, longitude\")", y, x)
		}
		return nil, &streams.EventError{Reason: streams.Reason(ge.Reason), Path: path, Msg: fmt.Sprintf("%s: %s", streams.Quote(s), msg)}
	}
	return []float64{x, y}, nil
}

func (d *decoder) geoPoint(v []byte, e *entity) (geom.T, *streams.EventError) {
	p, err := latLon(v, e.locPath())
	if err != nil {
		return nil, err
	}
	g := geom.NewPointFlat(geom.XY, p)
	if err := d.checkArea(g, e); err != nil {
		err.Msg += ` (geo:point order is "latitude, longitude")`
		return nil, err
	}
	return g, nil
}

// geoSimple decodes geo:line, geo:polygon and geo:box.
func (d *decoder) geoSimple(v []byte, kind string, e *entity) (geom.T, *streams.EventError) {
	path := e.locPath()
	if v[0] != '[' {
		return nil, errorf(streams.ReasonInvalidGeometry, path, `%s wants an array of "latitude, longitude" strings, found %s`, kind, kindOf(v))
	}
	var flat []float64
	el := newElements(v)
	for x, ok := el.next(); ok; x, ok = el.next() {
		p, err := latLon(x, fmt.Sprintf("%s[%d]", path, len(flat)/2))
		if err != nil {
			return nil, err
		}
		flat = append(flat, p...)
	}
	n := len(flat) / 2
	var g geom.T
	switch {
	case kind == "geo:line" && n >= 2:
		g = geom.NewLineStringFlat(geom.XY, flat)
	case kind == "geo:box" && n == 2:
		x0, y0, x1, y1 := flat[0], flat[1], flat[2], flat[3]
		g = geom.NewPolygonFlat(geom.XY, []float64{x0, y0, x1, y0, x1, y1, x0, y1, x0, y0}, []int{10})
	case kind == "geo:polygon" && n >= 4 && flat[0] == flat[len(flat)-2] && flat[1] == flat[len(flat)-1]:
		g = geom.NewPolygonFlat(geom.XY, flat, []int{len(flat)})
	default:
		return nil, errorf(streams.ReasonInvalidGeometry, path,
			"%s with %d positions: geo:line needs at least 2, geo:box exactly 2 corners, geo:polygon a closed ring of at least 4", kind, n)
	}
	return g, d.checkArea(g, e)
}

// checkArea refuses positions outside the service area that fall inside it
// with longitude and latitude exchanged, and, with RejectOutsideArea, every
// position outside it.
func (d *decoder) checkArea(g geom.T, e *entity) *streams.EventError {
	area := d.cfg.Area
	if area == (geo.Rect{}) {
		return nil
	}
	flat, stride := g.FlatCoords(), g.Stride()
	if i := geo.FirstSwapped(g, area); i >= 0 {
		x, y := flat[i*stride], flat[i*stride+1]
		return errorf(streams.ReasonSwapped, joinPath(e.locPath(), geo.PositionPath(g, i)), "position [%g, %g] is outside the service area (%v) but inside it as [%g, %g]: "+
			"coordinates look swapped (GeoJSON order is [longitude, latitude])", x, y, area, y, x)
	}
	if i := geo.FirstOutside(g, area); i >= 0 && d.cfg.RejectOutsideArea {
		x, y := flat[i*stride], flat[i*stride+1]
		return errorf(ReasonOutsideArea, joinPath(e.locPath(), geo.PositionPath(g, i)), "position [%g, %g] is outside the service area (%v)", x, y, area)
	}
	return nil
}
