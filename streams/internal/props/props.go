// Package props is the property toolkit of the city modules (traffic,
// environment, lighting, flooding, feedback): it parses an event's JSON
// properties, validates them with errors that name the property's path,
// sets derived values and writes the object back deterministically. It
// also holds the small helpers every module needs around that: the
// geometry check, the layer spec with its staleness, and the error for a
// layer a module does not own.
package props

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/goccy/go-json"
	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
)

// Props is an event's properties as raw JSON values by name. Values the
// module does not know pass through byte for byte; derived values are set
// on top, and Encode writes the object back with sorted keys, so the
// output is deterministic (goldens, duplicate detection in the layers).
type Props map[string]json.RawMessage

// Parse decodes an event's properties; nil gives an empty set. The
// values share raw's memory (see parseCompact).
func Parse(raw json.RawMessage) (Props, error) {
	if len(raw) == 0 {
		return Props{}, nil
	}
	if p, ok := parseCompact(raw); ok {
		return p, nil
	}
	return parseGeneric(raw)
}

// parseGeneric decodes any input with the JSON decoder: the reference
// behaviour parseCompact must match, and the source of the error messages.
func parseGeneric(raw json.RawMessage) (Props, error) {
	// Room for the members and the derived properties up front: growing
	// a map rehashes it, the largest cost of a module on the hot path.
	p := make(Props, 8+bytes.Count(raw, []byte{':'}))
	if err := json.Unmarshal(raw, (*map[string]json.RawMessage)(&p)); err != nil {
		return nil, Invalid("properties", "properties must be a JSON object: %v", err)
	}
	for k, v := range p {
		if string(v) == "null" {
			delete(p, k) // null means "no value", as if absent
		}
	}
	return p, nil
}

// FromEvent checks the event's geometry type (see RequireGeom) and then
// parses its properties: the first step of every report a module reads.
func FromEvent(ev layers.Event, geometries ...string) (Props, error) {
	if err := RequireGeom(ev, geometries...); err != nil {
		return nil, err
	}
	return Parse(ev.Properties)
}

// Invalid is the error for a bad property: it names the property's path.
func Invalid(path, format string, args ...any) *streams.EventError {
	return &streams.EventError{Reason: streams.ReasonInvalidProperties, Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Path is the error path of the property name, as Invalid takes it.
func Path(name string) string { return "properties." + name }

// Alias renames the first present alias to canonical when canonical is
// absent, so a layer speaks one vocabulary. Other aliases present stay as
// they are: a source sending two names may mean two things.
func (p Props) Alias(canonical string, aliases ...string) {
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

// Num reads a number property; ok is false when it is absent.
func (p Props) Num(name string) (v float64, ok bool, err error) {
	raw, ok := p[name]
	if !ok {
		return 0, false, nil
	}
	if kind(raw) != "a number" {
		return 0, false, Invalid(Path(name), "%s must be a number, found %s %s", name, kind(raw), clip(raw))
	}
	v, perr := strconv.ParseFloat(string(raw), 64)
	if perr != nil || math.IsInf(v, 0) {
		return 0, false, Invalid(Path(name), "%s is out of range: %s", name, clip(raw))
	}
	return v, true, nil
}

// NonNeg reads an optional number that must not be negative; unit is for
// the message.
func (p Props) NonNeg(name, unit string) (float64, bool, error) {
	v, ok, err := p.Num(name)
	if err == nil && ok && v < 0 {
		err = Invalid(Path(name), "%s must be >= 0 %s, got %s", name, unit, FormatNum(v))
	}
	return v, ok && err == nil, err
}

// Within reads an optional number that must lie in [lo, hi].
func (p Props) Within(name string, lo, hi float64) (float64, bool, error) {
	v, ok, err := p.Num(name)
	if err == nil && ok && (v < lo || v > hi) {
		err = Invalid(Path(name), "%s must be between %s and %s, got %s", name, FormatNum(lo), FormatNum(hi), FormatNum(v))
	}
	return v, ok && err == nil, err
}

// Count reads an optional non-negative integer.
func (p Props) Count(name string) (int, bool, error) {
	v, ok, err := p.Num(name)
	if err == nil && ok && (v < 0 || v != math.Trunc(v) || v > 1e15) {
		err = Invalid(Path(name), "%s must be a whole number >= 0, got %s", name, FormatNum(v))
	}
	return int(v), ok && err == nil, err
}

// Str reads a string property; ok is false when it is absent.
func (p Props) Str(name string) (string, bool, error) {
	raw, ok := p[name]
	if !ok {
		return "", false, nil
	}
	if kind(raw) != "a string" {
		return "", false, Invalid(Path(name), "%s must be a string, found %s %s", name, kind(raw), clip(raw))
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), true, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, Invalid(Path(name), "%s is not a valid string: %v", name, err)
	}
	return s, true, nil
}

// Enum reads an optional string that must be one of valid.
func (p Props) Enum(name string, valid []string) (string, bool, error) {
	s, ok, err := p.Str(name)
	if err == nil && ok && !slices.Contains(valid, s) {
		err = Invalid(Path(name), "unknown %s %q: valid values are %s", name, s, strings.Join(valid, ", "))
	}
	return s, ok && err == nil, err
}

// EnumFold is Enum for values sent in any case and with any separators:
// the value is matched against valid by its folded form (see Fold), so
// "In Progress" finds in_progress and "BootingUp" finds bootingUp, and the
// canonical value is written back to the property.
func (p Props) EnumFold(name string, valid []string) (string, bool, error) {
	s, ok, err := p.Str(name)
	if err != nil || !ok {
		return "", false, err
	}
	if slices.Contains(valid, s) {
		return s, true, nil
	}
	f := Fold(s)
	for _, v := range valid {
		if Fold(v) == f {
			p.SetStr(name, v)
			return v, true, nil
		}
	}
	return "", false, Invalid(Path(name), "unknown %s %q: valid values are %s", name, s, strings.Join(valid, ", "))
}

// RequireEnum reads a string that must be present and one of valid, in
// any spelling EnumFold accepts.
func (p Props) RequireEnum(name string, valid []string) (string, error) {
	s, ok, err := p.EnumFold(name, valid)
	if err == nil && !ok {
		err = Invalid(Path(name), "%s is required: one of %s", name, strings.Join(valid, ", "))
	}
	return s, err
}

// Fold is the key under which a sender's word is matched against a
// vocabulary: lower case, letters and digits only, so "In Progress",
// "in-progress", "InProgress" and "in_progress" all fold to "inprogress".
// Modules use it to accept the sloppy spellings of a value they know.
func Fold(s string) string {
	b := make([]rune, 0, len(s))
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b = append(b, r)
		case r >= 'A' && r <= 'Z':
			b = append(b, r+'a'-'A')
		case r >= 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b = append(b, unicode.ToLower(r))
		}
	}
	return string(b)
}

// Bool reads an optional boolean property.
func (p Props) Bool(name string) (v, ok bool, err error) {
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
	return false, false, Invalid(Path(name), "%s must be true or false, found %s %s", name, kind(raw), clip(raw))
}

// SetNum sets a number in its shortest decimal form, never with an
// exponent.
func (p Props) SetNum(name string, v float64) { p[name] = strconv.AppendFloat(nil, v, 'f', -1, 64) }

// SetInt sets an integer.
func (p Props) SetInt(name string, v int) { p[name] = strconv.AppendInt(nil, int64(v), 10) }

// SetStr sets a string.
func (p Props) SetStr(name, v string) { p[name] = layers.AppendJSONString(nil, v) }

// SetTime sets a time as an RFC 3339 string in UTC.
func (p Props) SetTime(name string, t time.Time) {
	// Formatting into the value's own buffer saves the string Format
	// returns; the format's characters never need quoting.
	b := append(make([]byte, 0, len(time.RFC3339Nano)+2), '"')
	p[name] = append(t.UTC().AppendFormat(b, time.RFC3339Nano), '"')
}

// SetBool sets a boolean.
func (p Props) SetBool(name string, v bool) {
	if v {
		p[name] = json.RawMessage("true")
	} else {
		p[name] = json.RawMessage("false")
	}
}

// SetJSON stores any JSON-encodable value (arrays and objects the module
// builds).
func (p Props) SetJSON(name string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("props: encoding %s: %v", name, err)) // only module-built values reach here
	}
	p[name] = b
}

// Clone copies the set (values are shared: they are never mutated).
// It leaves the same room as Parse for the derived values set on the copy.
func (p Props) Clone() Props {
	if p == nil {
		return Props{}
	}
	c := make(Props, len(p)+spare)
	for k, v := range p {
		c[k] = v
	}
	return c
}

// Encode writes the set as a compact JSON object with sorted keys; an
// empty set gives nil, as the decoder does. It allocates only the result:
// the keys are sorted on the stack and the buffer is sized up front.
func (p Props) Encode() json.RawMessage {
	if len(p) == 0 {
		return nil
	}
	var stack [32]string
	keys := stack[:0]
	size := 1 // '}'; each member adds its '{' or ','
	for k, v := range p {
		keys = append(keys, k)
		size += len(k) + len(v) + 4
	}
	slices.Sort(keys)
	b := make([]byte, 0, size)
	for _, k := range keys {
		b = append(b, ',')
		b = layers.AppendJSONString(b, k)
		b = append(b, ':')
		b = append(b, p[k]...)
	}
	b[0] = '{'
	return append(b, '}')
}

// With returns ev carrying p as its properties.
func With(ev layers.Event, p Props) layers.Event {
	ev.Properties = p.Encode()
	return ev
}

// Round rounds v to the given number of decimals, so derived values do
// not carry binary noise such as 0.30000000000000004.
func Round(v float64, decimals int) float64 {
	f := math.Pow(10, float64(decimals))
	return math.Round(v*f) / f
}

// FormatNum writes a number for a message as SetNum writes it.
func FormatNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// clip shortens a raw value for an error message.
func clip(raw json.RawMessage) string {
	if len(raw) > 40 {
		return string(raw[:37]) + "..."
	}
	return string(raw)
}

// RequireGeom refuses a geometry of a type the layer cannot use.
func RequireGeom(ev layers.Event, names ...string) error {
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

// geomName is the GeoJSON type of a geometry.
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

// Spec builds a LayerSpec whose StaleAfter is staleFactor intervals; an
// override from the configuration replaces the default interval.
func Spec(name, desc string, interval time.Duration, over map[string]time.Duration) streams.LayerSpec {
	if d, ok := over[name]; ok {
		interval = d
	}
	return streams.LayerSpec{Name: name, Description: desc, Interval: interval, StaleAfter: staleFactor * interval}
}

// staleFactor: an entity is stale after missing about three reports, so
// one lost message does not flash the map.
const staleFactor = 3

// UnknownLayer is returned when a module is handed another module's layer.
func UnknownLayer(mod string, ev layers.Event) error {
	return &streams.EventError{Reason: streams.ReasonInvalidLayer, Path: "layer",
		Msg: fmt.Sprintf("layer %q is not one of the %s module's layers", ev.Layer, mod)}
}
