package feedback

// props.go is the property toolkit shared by the five city modules. Each
// module package carries an identical copy (only the package clause
// differs) because the modules may not yet share a package under streams;
// keep the copies in step, or move this to streams/internal/props.

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-json"
	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
)

// props is an event's properties as raw JSON values by name. Values the
// module does not know pass through byte for byte; derived values are set
// on top, and encode writes the object back with sorted keys, so the
// output is deterministic (goldens, duplicate detection in the layers).
type props map[string]json.RawMessage

// parseProps decodes an event's properties; nil gives an empty set.
func parseProps(raw json.RawMessage) (props, error) {
	if len(raw) == 0 {
		return props{}, nil
	}
	// Room for the members and the derived properties up front: growing
	// a map rehashes it, the largest cost of a module on the hot path.
	p := make(props, 8+bytes.Count(raw, []byte{':'}))
	if err := json.Unmarshal(raw, (*map[string]json.RawMessage)(&p)); err != nil {
		return nil, invalid("properties", "properties must be a JSON object: %v", err)
	}
	for k, v := range p {
		if string(v) == "null" {
			delete(p, k) // null means "no value", as if absent
		}
	}
	return p, nil
}

// invalid is the error for a bad property: it names the property's path.
func invalid(path, format string, args ...any) *streams.EventError {
	return &streams.EventError{Reason: streams.ReasonInvalidProperties, Path: path, Msg: fmt.Sprintf(format, args...)}
}

func path(name string) string { return "properties." + name }

// alias renames the first present alias to canonical when canonical is
// absent, so a layer speaks one vocabulary. Other aliases present stay as
// they are: a source sending two names may mean two things.
func (p props) alias(canonical string, aliases ...string) {
	if _, has := p[canonical]; has {
		return
	}
	for _, a := range aliases {
		if v, ok := p[a]; ok {
			p[canonical] = v
			delete(p, a)
			return
		}
	}
}

// kind names a JSON value's type for error messages.
func kind(v json.RawMessage) string {
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// num reads a number property; ok is false when it is absent.
func (p props) num(name string) (v float64, ok bool, err error) {
	raw, ok := p[name]
	if !ok {
		return 0, false, nil
	}
	if kind(raw) != "a number" {
		return 0, false, invalid(path(name), "%s must be a number, found %s %s", name, kind(raw), clip(raw))
	}
	v, perr := strconv.ParseFloat(string(raw), 64)
	if perr != nil || math.IsInf(v, 0) {
		return 0, false, invalid(path(name), "%s is out of range: %s", name, clip(raw))
	}
	return v, true, nil
}

// nonNeg reads an optional number that must not be negative; unit is for
// the message.
func (p props) nonNeg(name, unit string) (float64, bool, error) {
	v, ok, err := p.num(name)
	if err == nil && ok && v < 0 {
		err = invalid(path(name), "%s must be >= 0 %s, got %s", name, unit, fmtNum(v))
	}
	return v, ok && err == nil, err
}

// within reads an optional number that must lie in [lo, hi].
func (p props) within(name string, lo, hi float64) (float64, bool, error) {
	v, ok, err := p.num(name)
	if err == nil && ok && (v < lo || v > hi) {
		err = invalid(path(name), "%s must be between %s and %s, got %s", name, fmtNum(lo), fmtNum(hi), fmtNum(v))
	}
	return v, ok && err == nil, err
}

// count reads an optional non-negative integer.
func (p props) count(name string) (int, bool, error) {
	v, ok, err := p.num(name)
	if err == nil && ok && (v < 0 || v != math.Trunc(v) || v > 1e15) {
		err = invalid(path(name), "%s must be a whole number >= 0, got %s", name, fmtNum(v))
	}
	return int(v), ok && err == nil, err
}

// str reads a string property; ok is false when it is absent.
func (p props) str(name string) (string, bool, error) {
	raw, ok := p[name]
	if !ok {
		return "", false, nil
	}
	if kind(raw) != "a string" {
		return "", false, invalid(path(name), "%s must be a string, found %s %s", name, kind(raw), clip(raw))
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), true, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, invalid(path(name), "%s is not a valid string: %v", name, err)
	}
	return s, true, nil
}

// enum reads an optional string that must be one of valid.
func (p props) enum(name string, valid []string) (string, bool, error) {
	s, ok, err := p.str(name)
	if err == nil && ok && !slices.Contains(valid, s) {
		err = invalid(path(name), "unknown %s %q: valid values are %s", name, s, strings.Join(valid, ", "))
	}
	return s, ok && err == nil, err
}

// boolean reads an optional boolean property.
func (p props) boolean(name string) (v, ok bool, err error) {
	raw, ok := p[name]
	if !ok {
		return false, false, nil
	}
	switch string(raw) {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, false, invalid(path(name), "%s must be true or false, found %s %s", name, kind(raw), clip(raw))
}

func (p props) setNum(name string, v float64) { p[name] = strconv.AppendFloat(nil, v, 'f', -1, 64) }
func (p props) setInt(name string, v int)     { p[name] = strconv.AppendInt(nil, int64(v), 10) }
func (p props) setStr(name, v string)         { p[name] = layers.AppendJSONString(nil, v) }
func (p props) setTime(name string, t time.Time) {
	p[name] = strconv.AppendQuote(nil, t.UTC().Format(time.RFC3339Nano))
}

func (p props) setBool(name string, v bool) {
	if v {
		p[name] = json.RawMessage("true")
	} else {
		p[name] = json.RawMessage("false")
	}
}

// setJSON stores any JSON-encodable value (arrays and objects the module
// builds).
func (p props) setJSON(name string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("props: encoding %s: %v", name, err)) // only module-built values reach here
	}
	p[name] = b
}

// clone copies the set (values are shared: they are never mutated).
func (p props) clone() props {
	c := make(props, len(p))
	for k, v := range p {
		c[k] = v
	}
	return c
}

// encode writes the set as a compact JSON object with sorted keys; an
// empty set gives nil, as the decoder does.
func (p props) encode() json.RawMessage {
	if len(p) == 0 {
		return nil
	}
	keys := make([]string, 0, len(p))
	size := 2
	for k, v := range p {
		keys = append(keys, k)
		size += len(k) + len(v) + 4
	}
	slices.Sort(keys)
	b := make([]byte, 0, size)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = layers.AppendJSONString(b, k)
		b = append(b, ':')
		b = append(b, p[k]...)
	}
	return append(b, '}')
}

// with returns ev carrying p as its properties.
func with(ev layers.Event, p props) layers.Event {
	ev.Properties = p.encode()
	return ev
}

// round rounds v to the given number of decimals, so derived values do
// not carry binary noise such as 0.30000000000000004.
func round(v float64, decimals int) float64 {
	f := math.Pow(10, float64(decimals))
	return math.Round(v*f) / f
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// clip shortens a raw value for an error message.
func clip(raw json.RawMessage) string {
	if len(raw) > 40 {
		return string(raw[:37]) + "..."
	}
	return string(raw)
}

// requireGeom refuses a geometry of a type the layer cannot use.
func requireGeom(ev layers.Event, names ...string) error {
	if ev.Op == layers.OpDelete || ev.Geometry == nil {
		return nil
	}
	name := geomName(ev.Geometry)
	if slices.Contains(names, name) {
		return nil
	}
	return &streams.EventError{Reason: streams.ReasonUnsupportedGeom, Path: "geometry.type",
		Msg: fmt.Sprintf("%s takes %s geometries, found %s", ev.Layer, strings.Join(names, " or "), name)}
}

func geomName(g geom.T) string {
	switch g.(type) {
	case *geom.Point:
		return "Point"
	case *geom.LineString:
		return "LineString"
	case *geom.MultiLineString:
		return "MultiLineString"
	case *geom.Polygon:
		return "Polygon"
	case *geom.MultiPolygon:
		return "MultiPolygon"
	case *geom.MultiPoint:
		return "MultiPoint"
	}
	return fmt.Sprintf("%T", g)
}

// spec builds a LayerSpec whose StaleAfter is staleFactor intervals; an
// override from the configuration replaces the default interval.
func spec(name, desc string, interval time.Duration, over map[string]time.Duration) streams.LayerSpec {
	if d, ok := over[name]; ok {
		interval = d
	}
	return streams.LayerSpec{Name: name, Description: desc, Interval: interval, StaleAfter: staleFactor * interval}
}

// staleFactor: an entity is stale after missing about three reports, so
// one lost message does not flash the map.
const staleFactor = 3

// unknownLayer is returned when a module is handed another module's layer.
func unknownLayer(mod string, ev layers.Event) error {
	return &streams.EventError{Reason: streams.ReasonInvalidLayer, Path: "layer",
		Msg: fmt.Sprintf("layer %q is not one of the %s module's layers", ev.Layer, mod)}
}
