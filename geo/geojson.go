package geo

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"strconv"

	json "github.com/goccy/go-json"
	"github.com/twpayne/go-geom"
)

// Reason classifies why a geometry was refused; it becomes a metric label.
type Reason string

// The reasons a geometry is refused.
const (
	ReasonInvalid     Reason = "invalid_geometry"
	ReasonUnsupported Reason = "unsupported_geometry"
	ReasonOutOfRange  Reason = "coordinates_out_of_range"
	ReasonSwapped     Reason = "coordinates_swapped"
)

// Error says what is wrong with a geometry and where, as a JSON path
// relative to the geometry object ("coordinates[0][3]").
type Error struct {
	Reason Reason
	Path   string
	Msg    string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

func errorf(reason Reason, path, format string, args ...any) *Error {
	return &Error{Reason: reason, Path: path, Msg: fmt.Sprintf(format, args...)}
}

// rawGeometry is the wire shape of a GeoJSON geometry object.
type rawGeometry struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
	Geometries  json.RawMessage `json:"geometries"`
}

// Decode parses a GeoJSON geometry (Point, LineString, Polygon and their
// Multi forms) into a 2D go-geom value. Altitudes are accepted and dropped.
// Every position is checked for range; a position that only makes sense with
// longitude and latitude exchanged is reported as swapped.
func Decode(raw []byte) (geom.T, error) {
	var rg rawGeometry
	// goccy/go-json can read past its buffer and panic on some malformed
	// input (a dangling escape in an object key, goccy/go-json#604), so only
	// well-formed JSON reaches it; the standard library explains the rest.
	if !stdjson.Valid(raw) {
		err := stdjson.Unmarshal(raw, &rg)
		return nil, errorf(ReasonInvalid, "", "not a GeoJSON geometry object: %s", jsonErrorText(err))
	}
	if err := json.Unmarshal(raw, &rg); err != nil {
		return nil, errorf(ReasonInvalid, "", "not a GeoJSON geometry object: %s", jsonErrorText(err))
	}
	// The type is checked first, so that an unknown type is reported as
	// such even when the object has no coordinates member.
	var depth int // nesting of positions in the coordinates array
	switch rg.Type {
	case "Point":
		depth = 0
	case "MultiPoint", "LineString":
		depth = 1
	case "MultiLineString", "Polygon":
		depth = 2
	case "MultiPolygon":
		depth = 3
	case "":
		return nil, errorf(ReasonInvalid, "type", "missing geometry type")
	case "GeometryCollection":
		return nil, errorf(ReasonUnsupported, "type", "GeometryCollection is not supported: send one event per geometry")
	default:
		return nil, errorf(ReasonUnsupported, "type", "unknown geometry type %q (want Point, LineString, Polygon, MultiPoint, MultiLineString or MultiPolygon)", rg.Type)
	}
	coords := bytes.TrimSpace(rg.Coordinates)
	if len(coords) == 0 || bytes.Equal(coords, nullLiteral) {
		return nil, errorf(ReasonInvalid, "coordinates", "missing coordinates")
	}
	d := decoder{}
	var g geom.T
	var err error
	switch rg.Type {
	case "Point":
		g, err = d.point(coords)
	case "MultiPoint":
		g, err = d.multiPoint(coords)
	case "LineString":
		g, err = d.lineString(coords)
	case "MultiLineString":
		g, err = d.multiLineString(coords)
	case "Polygon":
		g, err = d.polygon(coords)
	case "MultiPolygon":
		g, err = d.multiPolygon(coords)
	}
	if err != nil {
		return nil, err
	}
	// JSON null decodes to 0 in a []float64, which would silently move a
	// position to longitude or latitude 0. Only inputs that contain the
	// literal pay for the second look.
	if bytes.Contains(coords, nullLiteral) {
		var v any
		if json.Unmarshal(coords, &v) == nil {
			if err := nullNumber(v, depth, "coordinates"); err != nil {
				return nil, err
			}
		}
	}
	return g, nil
}

var nullLiteral = []byte("null")

// nullNumber finds a null longitude or latitude in coordinates decoded as
// generic JSON; depth is how deep the positions are nested. A null altitude
// is tolerated, as altitudes are dropped; a null in place of a position or
// an array has already been refused by the typed decode.
func nullNumber(v any, depth int, path string) *Error {
	a, _ := v.([]any)
	for i, x := range a {
		p := path + "[" + strconv.Itoa(i) + "]"
		if depth == 0 {
			if x == nil && i < 2 {
				return errorf(ReasonInvalid, p, "null where a %s was expected", [2]string{"longitude", "latitude"}[i])
			}
			continue
		}
		if err := nullNumber(x, depth-1, p); err != nil {
			return err
		}
	}
	return nil
}

// decoder accumulates flat XY coordinates while checking each position.
type decoder struct {
	flat []float64
}

func (d *decoder) unmarshal(raw []byte, v any, shape string) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return errorf(ReasonInvalid, "coordinates", "want %s: %s", shape, jsonErrorText(err))
	}
	return nil
}

func (d *decoder) point(raw []byte) (geom.T, error) {
	var p []float64
	if err := d.unmarshal(raw, &p, "a position [lon, lat]"); err != nil {
		return nil, err
	}
	if err := d.add(p, "coordinates"); err != nil {
		return nil, err
	}
	return geom.NewPointFlat(geom.XY, d.flat), nil
}

func (d *decoder) multiPoint(raw []byte) (geom.T, error) {
	var ps [][]float64
	if err := d.unmarshal(raw, &ps, "an array of positions"); err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, errorf(ReasonInvalid, "coordinates", "MultiPoint has no positions")
	}
	if err := d.addLine(ps, "coordinates", 1); err != nil {
		return nil, err
	}
	return geom.NewMultiPointFlat(geom.XY, d.flat), nil
}

func (d *decoder) lineString(raw []byte) (geom.T, error) {
	var ps [][]float64
	if err := d.unmarshal(raw, &ps, "an array of positions"); err != nil {
		return nil, err
	}
	if err := d.addLine(ps, "coordinates", 2); err != nil {
		return nil, err
	}
	return geom.NewLineStringFlat(geom.XY, d.flat), nil
}

func (d *decoder) multiLineString(raw []byte) (geom.T, error) {
	var ls [][][]float64
	if err := d.unmarshal(raw, &ls, "an array of line strings"); err != nil {
		return nil, err
	}
	ends, err := d.addLines(ls, "coordinates", 2, false)
	if err != nil {
		return nil, err
	}
	return geom.NewMultiLineStringFlat(geom.XY, d.flat, ends), nil
}

func (d *decoder) polygon(raw []byte) (geom.T, error) {
	var rings [][][]float64
	if err := d.unmarshal(raw, &rings, "an array of linear rings"); err != nil {
		return nil, err
	}
	ends, err := d.addLines(rings, "coordinates", 4, true)
	if err != nil {
		return nil, err
	}
	return geom.NewPolygonFlat(geom.XY, d.flat, ends), nil
}

func (d *decoder) multiPolygon(raw []byte) (geom.T, error) {
	var polys [][][][]float64
	if err := d.unmarshal(raw, &polys, "an array of polygons"); err != nil {
		return nil, err
	}
	if len(polys) == 0 {
		return nil, errorf(ReasonInvalid, "coordinates", "MultiPolygon has no polygons")
	}
	endss := make([][]int, 0, len(polys))
	for i, rings := range polys {
		ends, err := d.addLines(rings, "coordinates["+strconv.Itoa(i)+"]", 4, true)
		if err != nil {
			return nil, err
		}
		endss = append(endss, ends)
	}
	return geom.NewMultiPolygonFlat(geom.XY, d.flat, endss), nil
}

// addLines adds several lines (or rings when closed is set), each with at
// least minLen positions, and returns their end offsets.
func (d *decoder) addLines(ls [][][]float64, path string, minLen int, closed bool) ([]int, error) {
	if len(ls) == 0 {
		return nil, errorf(ReasonInvalid, path, "no %s", map[bool]string{true: "rings", false: "line strings"}[closed])
	}
	ends := make([]int, 0, len(ls))
	for i, ps := range ls {
		p := path + "[" + strconv.Itoa(i) + "]"
		if err := d.addLine(ps, p, minLen); err != nil {
			return nil, err
		}
		if closed && !samePosition(ps[0], ps[len(ps)-1]) {
			return nil, errorf(ReasonInvalid, p, "linear ring is not closed: first and last positions differ")
		}
		ends = append(ends, len(d.flat))
	}
	return ends, nil
}

func (d *decoder) addLine(ps [][]float64, path string, minLen int) error {
	if len(ps) < minLen {
		return errorf(ReasonInvalid, path, "has %d positions, needs at least %d", len(ps), minLen)
	}
	for i, p := range ps {
		if err := d.add(p, path+"["+strconv.Itoa(i)+"]"); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) add(p []float64, path string) error {
	if err := CheckPosition(p); err != nil {
		err.Path = path
		return err
	}
	d.flat = append(d.flat, p[0], p[1])
	return nil
}

func samePosition(a, b []float64) bool { return a[0] == b[0] && a[1] == b[1] }

// CheckPosition validates one GeoJSON position [lon, lat(, alt)].
func CheckPosition(p []float64) *Error {
	if len(p) < 2 || len(p) > 3 {
		return errorf(ReasonInvalid, "", "a position needs 2 or 3 numbers [lon, lat(, alt)], got %d", len(p))
	}
	lon, lat := p[0], p[1]
	if lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90 {
		return nil
	}
	if lat >= -180 && lat <= 180 && lon >= -90 && lon <= 90 {
		return errorf(ReasonSwapped, "", "latitude %g is out of range [-90, 90] but longitude %g would be a latitude: coordinates look swapped (GeoJSON order is [longitude, latitude])", lat, lon)
	}
	if lon < -180 || lon > 180 {
		return errorf(ReasonOutOfRange, "", "longitude %g is out of range [-180, 180]", lon)
	}
	return errorf(ReasonOutOfRange, "", "latitude %g is out of range [-90, 90]", lat)
}

// jsonErrorText shortens a JSON library error to what a sender can act on.
func jsonErrorText(err error) string {
	if err == nil {
		return "invalid JSON"
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at offset %d: %s", se.Offset, se.Error())
	}
	var sse *stdjson.SyntaxError
	if errors.As(err, &sse) {
		return fmt.Sprintf("invalid JSON at offset %d: %s", sse.Offset, sse.Error())
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("found JSON %s where %s was expected", te.Value, te.Type)
	}
	return err.Error()
}
