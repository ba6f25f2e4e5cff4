package ngsi

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"

	"github.com/danang-ioc/ioc/streams"
)

// attrKind is what an attribute is, once its NGSI wrapping is taken off.
type attrKind uint8

const (
	kindPlain        attrKind = iota // keyValues: the value as it is
	kindProperty                     // {"type":"Property","value":...}, v2 {"type":"Number","value":...}
	kindRelationship                 // {"type":"Relationship","object":...}
)

// attr is one attribute of an entity. The slices point into the body.
type attr struct {
	key        []byte // the member name, as its quoted literal
	name       []byte // the member name, unescaped
	value      []byte // the plain value (JSON)
	typ        []byte // the quoted "type" of a normalized attribute, or nil
	observedAt []byte // the quoted observation time of the attribute, or nil
	kind       attrKind
	valueKey   string // member holding the value ("value", "object", ...), "" for keyValues
	bad        bool   // refused (see entity.errs): left out of the properties
}

// path is where the attribute's value is, for error messages.
func (a *attr) path() string {
	if a.valueKey == "" {
		return string(a.name)
	}
	return string(a.name) + "." + a.valueKey
}

// entity is a decoded NGSI entity (or, for partial updates, a fragment).
type entity struct {
	id, typ string
	attrs   []attr
	loc     attr // the location attribute, when hasLoc
	hasLoc  bool // a location was sent (and is not null)
	feature bool // read from a GeoJSON Feature: the location is its geometry
	errs    []attrError
}

// locPath is where the location's geometry is, for error messages.
func (e *entity) locPath() string {
	if e.feature {
		return "geometry"
	}
	return e.loc.path()
}

// reset empties e for the next entity, keeping its buffers.
func (e *entity) reset() {
	*e = entity{attrs: e.attrs[:0], errs: e.errs[:0]}
}

// attrError is a problem with one attribute.
type attrError struct {
	name string
	err  *streams.EventError
}

func (e *entity) fail(name string, err *streams.EventError) {
	e.errs = append(e.errs, attrError{name: name, err: err})
}

// has says whether the entity carries the attribute n.
func (e *entity) has(n string) bool {
	for i := range e.attrs {
		if string(e.attrs[i].name) == n {
			return true
		}
	}
	return false
}

func errorf(reason streams.Reason, path, format string, args ...any) *streams.EventError {
	return &streams.EventError{Reason: reason, Path: path, Msg: fmt.Sprintf(format, args...)}
}

// parseOptions say how to read an entity.
type parseOptions struct {
	keyValues bool // every attribute is a plain value (?options=keyValues)
	feature   bool // a GeoJSON Feature is taken as an entity (NGSI-LD)
	fragment  bool // a partial update: the type is optional
	noID      bool // the id is in the URL: an "id" member is ignored
	// names maps the known types to themselves, so that parsing a known
	// type allocates nothing.
	names map[string]string
}

// parse reads the entity object at the start of b into e (reusing its
// buffers) and returns the offset after it; b may go on after the entity.
// The error refuses the entity as a whole; problems with single attributes
// are collected in e.errs.
func parse(e *entity, b []byte, opt parseOptions) (int, *streams.EventError) {
	e.reset()
	if b[0] != '{' {
		end := skipValue(b, 0)
		return end, errorf(ReasonInvalidEntity, "", "an entity must be a JSON object, found %s", kindOf(b[:end]))
	}
	var idRaw, typRaw, geometry, props []byte
	m := newMembers(b)
	for {
		k, start, ok := m.nextKey()
		if !ok {
			break
		}
		switch string(k) {
		case `"id"`, `"type"`, `"@context"`, `"createdAt"`, `"modifiedAt"`, `"deletedAt"`:
			m.i = skipValue(b, start)
			switch v := b[start:m.i]; string(k) {
			case `"id"`:
				idRaw = v
			case `"type"`:
				typRaw = v
			}
		default:
			m.i = e.add(k, b, start, opt)
			switch string(k) {
			case `"geometry"`:
				geometry = b[start:m.i]
			case `"properties"`:
				props = b[start:m.i]
			}
		}
	}
	end := m.end()
	if opt.feature && is(typRaw, "Feature") && len(props) > 0 && props[0] == '{' {
		typRaw = e.fromFeature(geometry, props, opt)
	}
	var err *streams.EventError
	if !opt.noID {
		if e.id, err = parseID(idRaw); err != nil {
			return end, err
		}
	}
	e.typ, err = parseType(typRaw, opt)
	return end, err
}

// fromFeature reads an entity in the NGSI-LD GeoJSON representation: the
// attributes (and the entity type) are the Feature's properties, and the
// Feature's geometry is the location. It returns the entity's type.
func (e *entity) fromFeature(geometry, props []byte, opt parseOptions) []byte {
	e.attrs, e.hasLoc, e.errs = e.attrs[:0], false, e.errs[:0]
	var typRaw []byte
	m := newMembers(props)
	for {
		k, start, ok := m.nextKey()
		if !ok {
			break
		}
		switch string(k) {
		case `"type"`, `"@context"`, `"createdAt"`, `"modifiedAt"`, `"deletedAt"`:
			m.i = skipValue(props, start)
			if string(k) == `"type"` {
				typRaw = props[start:m.i]
			}
		default:
			m.i = e.add(k, props, start, opt)
		}
	}
	if !isNull(geometry) {
		e.loc, e.hasLoc, e.feature = attr{key: []byte(`"location"`), name: []byte("location"), value: geometry}, true, true
	}
	return typRaw
}

// add classifies the attribute whose value starts at b[start], setting
// the location apart, and returns the offset after the value.
func (e *entity) add(key, b []byte, start int, opt parseOptions) int {
	var a attr
	var msg string
	var end int
	if b[start] == '{' && !opt.keyValues {
		f := readFields(b[start:])
		end = start + f.end
		a, msg = classifyObject(b[start:end], &f)
	} else {
		end = skipValue(b, start)
		a, msg = classify(b[start:end], opt.keyValues)
	}
	a.key, a.name = key, memberName(key)
	if msg != "" {
		e.fail(string(a.name), errorf(streams.ReasonInvalidProperties, string(a.name), "%s", msg))
		return end
	}
	if string(a.name) == "location" {
		e.loc, e.hasLoc = a, !isNull(a.value)
		return end
	}
	e.attrs = append(e.attrs, a)
	return end
}

// fields are the members of an attribute object that NGSI gives meaning.
type fields struct {
	typ, value, object, languageMap, vocab, json, valueList, objectList []byte
	observedAt, metadata, datasetID, atValue                            []byte
	n                                                                   int // members
	end                                                                 int // offset after the object
}

// readFields reads the attribute object at the start of obj (which may go
// on after it).
func readFields(obj []byte) fields {
	var f fields
	m := newMembers(obj)
	for k, v, ok := m.next(); ok; k, v, ok = m.next() {
		f.n++
		switch string(k) {
		case `"type"`:
			f.typ = v
		case `"value"`:
			f.value = v
		case `"object"`:
			f.object = v
		case `"languageMap"`:
			f.languageMap = v
		case `"vocab"`:
			f.vocab = v
		case `"json"`:
			f.json = v
		case `"valueList"`:
			f.valueList = v
		case `"objectList"`:
			f.objectList = v
		case `"observedAt"`:
			f.observedAt = v
		case `"metadata"`:
			f.metadata = v
		case `"datasetId"`:
			f.datasetID = v
		case `"@value"`:
			f.atValue = v
		}
	}
	f.end = m.end()
	return f
}

// ldTypes are the NGSI-LD attribute types and the member holding the
// value of each.
var ldTypes = map[string]string{
	`"Property"`: "value", `"GeoProperty"`: "value", `"Relationship"`: "object",
	`"LanguageProperty"`: "languageMap", `"VocabProperty"`: "vocab", `"JsonProperty"`: "json",
	`"ListProperty"`: "valueList", `"ListRelationship"`: "objectList",
}

// classify takes the NGSI wrapping off an attribute. Normalized NGSI-LD
// ({"type":"Property","value":..}), concise NGSI-LD ({"value":..},
// {"object":..}), normalized NGSI v2 ({"type":"Number","value":..,
// "metadata":..}) and keyValues (the value itself) are told apart per
// attribute; with plain set every attribute is taken as a keyValues value.
// The message, when not empty, says why the attribute is unusable.
func classify(raw []byte, plain bool) (attr, string) {
	if plain {
		return attr{value: raw}, ""
	}
	if raw[0] == '[' {
		raw = defaultInstance(raw)
	}
	if raw[0] != '{' {
		return attr{value: raw}, ""
	}
	f := readFields(raw)
	return classifyObject(raw, &f)
}

// classifyObject is classify for an attribute object whose fields are read.
func classifyObject(raw []byte, f *fields) (attr, string) {
	a := attr{typ: f.typ, observedAt: f.observedAt, kind: kindProperty}
	if member, ok := ldTypes[string(f.typ)]; ok {
		a.value, a.valueKey = f.member(member), member
		if member == "object" || member == "objectList" {
			a.kind = kindRelationship
		}
		if a.value == nil && member == "object" && f.value != nil {
			a.value, a.valueKey = f.value, "value" // a Relationship sent with "value"
		}
		if a.value == nil {
			return a, fmt.Sprintf("a %s needs a %q member", f.typ[1:len(f.typ)-1], member)
		}
	} else {
		for _, member := range []string{"value", "object", "languageMap", "vocab", "json", "valueList", "objectList"} {
			if v := f.member(member); v != nil {
				a.value, a.valueKey = v, member
				break
			}
		}
		switch {
		case a.value == nil:
			return attr{value: unwrapLiteral(raw)}, "" // a structured keyValues value
		case is(f.typ, "Relationship") || a.valueKey == "object" || a.valueKey == "objectList":
			a.kind = kindRelationship
		}
	}
	if a.observedAt == nil && len(f.metadata) > 0 && f.metadata[0] == '{' {
		a.observedAt = metadataTime(f.metadata)
	}
	a.value = unwrapLiteral(a.value)
	return a, ""
}

func (f *fields) member(name string) []byte {
	switch name {
	case "value":
		return f.value
	case "object":
		return f.object
	case "languageMap":
		return f.languageMap
	case "vocab":
		return f.vocab
	case "json":
		return f.json
	case "valueList":
		return f.valueList
	case "objectList":
		return f.objectList
	}
	return nil
}

// defaultInstance picks, from an NGSI-LD multi-attribute (an array of
// attribute instances told apart by datasetId), the default instance (the
// one without datasetId), or the first. Other arrays are values and are
// returned as they are.
func defaultInstance(raw []byte) []byte {
	el := newElements(raw)
	var first []byte
	for v, ok := el.next(); ok; v, ok = el.next() {
		if v[0] != '{' {
			return raw
		}
		f := readFields(v)
		if _, ok := ldTypes[string(f.typ)]; !ok {
			return raw
		}
		if f.datasetID == nil {
			return v
		}
		if first == nil {
			first = v
		}
	}
	if first == nil {
		return raw
	}
	return first
}

// unwrapLiteral takes a JSON-LD value object ({"@type":"DateTime",
// "@value":"..."}) or a typed date ({"type":"DateTime","value":"..."}) down
// to its value; anything else is returned as it is.
func unwrapLiteral(v []byte) []byte {
	if len(v) == 0 || v[0] != '{' || !bytes.Contains(v, []byte(`value"`)) {
		return v
	}
	f := readFields(v)
	if f.atValue != nil {
		return f.atValue
	}
	if f.n == 2 && f.value != nil && (is(f.typ, "DateTime") || is(f.typ, "Date") || is(f.typ, "Time")) {
		return f.value
	}
	return v
}

// metadataTime finds an observation time among NGSI v2 attribute metadata:
// TimeInstant (the IoT Agents' convention), timestamp or observedAt.
func metadataTime(md []byte) []byte {
	m := newMembers(md)
	for k, v, ok := m.next(); ok; k, v, ok = m.next() {
		switch string(k) {
		case `"TimeInstant"`, `"timestamp"`, `"observedAt"`:
			if v[0] == '{' {
				v = readFields(v).value
			}
			if len(v) > 0 && v[0] == '"' {
				return v
			}
		}
	}
	return nil
}

// parseID checks the entity id. NGSI-LD wants a URI, but ids that are not
// (a bare "WeatherAlert-83b8…", "uri:ngsi:…") are kept as they are; only
// surrounding whitespace is trimmed.
func parseID(v []byte) (string, *streams.EventError) {
	if isNull(v) {
		return "", errorf(streams.ReasonMissingID, "id", `id is required (e.g. "urn:ngsi-ld:AirQualityObserved:hc-01")`)
	}
	if v[0] != '"' {
		return "", errorf(streams.ReasonInvalidID, "id", "id must be a string, found %s", kindOf(v))
	}
	id := strings.TrimSpace(unquote(v))
	return id, checkID(id)
}

func checkID(id string) *streams.EventError {
	if id == "" {
		return errorf(streams.ReasonMissingID, "id", "id is empty")
	}
	if len(id) > streams.MaxIDLen {
		return errorf(streams.ReasonInvalidID, "id", "id is %d bytes long, at most %d are allowed", len(id), streams.MaxIDLen)
	}
	if msg := checkText(id); msg != "" {
		return errorf(streams.ReasonInvalidID, "id", "id %s %s", streams.Quote(id), msg)
	}
	return nil
}

// parseType checks the entity type; known types take their name from
// opt.names, without allocating.
func parseType(v []byte, opt parseOptions) (string, *streams.EventError) {
	if isNull(v) {
		if opt.fragment {
			return "", nil
		}
		return "", errorf(ReasonMissingType, "type", `type is required: the entity type (e.g. "AirQualityObserved") chooses the IOC layer`)
	}
	if v[0] != '"' {
		return "", errorf(ReasonInvalidType, "type", "type must be a string, found %s", kindOf(v))
	}
	if t, ok := opt.names[string(v[1:len(v)-1])]; ok {
		return t, nil
	}
	t := strings.TrimSpace(unquote(v))
	switch {
	case t == "":
		return "", errorf(ReasonMissingType, "type", "type is empty")
	case len(t) > 256:
		return "", errorf(ReasonInvalidType, "type", "type is %d bytes long, at most 256 are allowed", len(t))
	}
	if msg := checkText(t); msg != "" {
		return "", errorf(ReasonInvalidType, "type", "type %s %s", streams.Quote(t), msg)
	}
	return t, nil
}

// checkText refuses control characters, which break logs and displays.
func checkText(s string) string {
	for i, r := range s {
		if unicode.IsControl(r) {
			return fmt.Sprintf("has control character %U at byte %d", r, i)
		}
	}
	return ""
}

// refs lists the ids the entity refers to, for placing it at a related
// entity: refDevice first, then every other Relationship or ref*
// attribute, in body order.
func (e *entity) refs() []string {
	var out []string
	for pass := 0; pass < 2; pass++ {
		for i := range e.attrs {
			a := &e.attrs[i]
			isDevice := string(a.name) == "refDevice"
			if (pass == 0) != isDevice || !(a.kind == kindRelationship || isRefName(a.name)) {
				continue
			}
			out = appendIDs(out, a.value)
		}
	}
	return out
}

// isRefName matches Smart Data Models reference names: "ref" followed by
// an upper-case letter (refDevice, refPointOfInterest, ...).
func isRefName(n []byte) bool {
	return len(n) > 3 && bytes.HasPrefix(n, []byte("ref")) && n[3] >= 'A' && n[3] <= 'Z'
}

// appendIDs adds the string, or the strings of an array, held by v.
func appendIDs(out []string, v []byte) []string {
	switch v[0] {
	case '"':
		if id := strings.TrimSpace(unquote(v)); id != "" {
			out = append(out, id)
		}
	case '[':
		el := newElements(v)
		for x, ok := el.next(); ok; x, ok = el.next() {
			if x[0] == '"' {
				out = appendIDs(out, x)
			}
		}
	}
	return out
}
