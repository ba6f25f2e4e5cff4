package streams

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	json "github.com/goccy/go-json"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
)

// Reason classifies why an event was refused. It is a Prometheus label, so
// the set is small and fixed.
type Reason string

// The reasons an event is refused.
const (
	ReasonInvalidJSON       Reason = "invalid_json"
	ReasonInvalidUTF8       Reason = "invalid_utf8"
	ReasonMissingLayer      Reason = "missing_layer"
	ReasonInvalidLayer      Reason = "invalid_layer"
	ReasonMissingID         Reason = "missing_id"
	ReasonInvalidID         Reason = "invalid_id"
	ReasonUnknownOp         Reason = "unknown_op"
	ReasonMissingGeometry   Reason = "missing_geometry"
	ReasonInvalidGeometry   Reason = Reason(geo.ReasonInvalid)
	ReasonUnsupportedGeom   Reason = Reason(geo.ReasonUnsupported)
	ReasonOutOfRange        Reason = Reason(geo.ReasonOutOfRange)
	ReasonSwapped           Reason = Reason(geo.ReasonSwapped)
	ReasonInvalidTime       Reason = "invalid_time"
	ReasonFutureTime        Reason = "future_time"
	ReasonInvalidProperties Reason = "invalid_properties"
	// ReasonOutOfScope: the sender may not write this layer, or this
	// place (docs/SECURITY.md, ingest).
	ReasonOutOfScope Reason = "out_of_scope"
)

// Reasons lists every Reason, so metrics can show them at zero.
var Reasons = []Reason{
	ReasonInvalidJSON, ReasonInvalidUTF8, ReasonMissingLayer, ReasonInvalidLayer,
	ReasonMissingID, ReasonInvalidID, ReasonUnknownOp, ReasonMissingGeometry,
	ReasonInvalidGeometry, ReasonUnsupportedGeom, ReasonOutOfRange, ReasonSwapped,
	ReasonInvalidTime, ReasonFutureTime, ReasonInvalidProperties, ReasonOutOfScope,
}

// EventError says why one event was refused and where: Path is a JSON path
// inside the event ("id", "geometry.coordinates[1]"), empty when the event
// as a whole is at fault.
type EventError struct {
	Reason Reason
	Path   string
	Msg    string
}

func (e *EventError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

func eventErrorf(reason Reason, path, format string, args ...any) *EventError {
	return &EventError{Reason: reason, Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Limits of the wire format.
const (
	MaxLayerLen = 64
	MaxIDLen    = 256
)

// DecoderConfig configures validation. The zero value is usable.
type DecoderConfig struct {
	// MaxFuture is how far ahead of the server clock an event's time may
	// be; clocks drift, but an event hours ahead is a wrong time zone and
	// would block every later update of its entity. Default 5 minutes.
	MaxFuture time.Duration
	// Area is the service area. A position outside it that would be inside
	// with longitude and latitude exchanged is refused as swapped; other
	// positions outside it are accepted. The zero Rect disables the check.
	Area geo.Rect
	// MaxBatch is the most events one body may hold. Default 100000.
	MaxBatch int
	// Now is the server clock; default time.Now.
	Now func() time.Time
}

func (c *DecoderConfig) defaults() {
	if c.MaxFuture <= 0 {
		c.MaxFuture = 5 * time.Minute
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 100000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Decoder validates events. It is safe for concurrent use.
type Decoder struct {
	cfg DecoderConfig
}

// NewDecoder returns a Decoder for cfg, with defaults filled in.
func NewDecoder(cfg DecoderConfig) *Decoder {
	cfg.defaults()
	return &Decoder{cfg: cfg}
}

// DecodeEvent decodes and validates one event object. The error, when not
// nil, is an *EventError.
func (d *Decoder) DecodeEvent(raw []byte) (layers.Event, error) {
	st := decodeState{d: d, now: d.cfg.Now()}
	s := newScanner(raw, 0)
	s.skipSpace()
	ev, err := st.one(&s)
	if err != nil {
		return layers.Event{}, err
	}
	return ev, nil
}

// decodeState is what one body's events share: the clock reading (one per
// body, so a batch is judged against one instant) and the last layer name,
// reused so that a batch for one layer allocates its name once.
type decodeState struct {
	d         *Decoder
	now       time.Time
	lastLayer string
}

// rawEvent holds the raw JSON values of an event's members, nil when
// absent. The slices point into the request body.
type rawEvent struct {
	layer, id, op, time, geometry, properties []byte

	badUTF8   int    // offset of the first invalid UTF-8 byte, or -1
	badUTF8In string // the member holding it
	// propsSpaced says properties has whitespace between tokens.
	propsSpaced bool
}

// scanEvent checks the object at s.pos and picks out the members an event
// is made of. Unknown members are checked and ignored, so a GeoJSON Feature
// with "type" and foreign members passes as it is.
func scanEvent(s *scanner, ev *rawEvent) *syntaxError {
	ev.badUTF8 = -1
	return s.list('}', func() *syntaxError { return scanMember(s, ev) }, "',' or '}' after an event member")
}

func scanMember(s *scanner, ev *rawEvent) *syntaxError {
	if s.peek() != '"' {
		return s.unexpected("a quoted member name")
	}
	keyStart, bad := s.pos, s.badUTF8
	if err := s.str(); err != nil {
		return err
	}
	key := s.buf[keyStart+1 : s.pos-1]
	if bad < 0 && s.badUTF8 >= 0 {
		ev.badUTF8, ev.badUTF8In = s.badUTF8, "member name"
	}
	s.skipSpace()
	if s.peek() != ':' {
		return s.unexpected("':' after a member name")
	}
	s.pos++
	s.skipSpace()
	valStart, bad, spaces := s.pos, s.badUTF8, s.spaces
	if err := s.value(); err != nil {
		return err
	}
	val := s.buf[valStart:s.pos]
	known := true
	switch string(key) {
	case "layer":
		ev.layer = val
	case "id":
		ev.id = val
	case "op":
		ev.op = val
	case "time":
		ev.time = val
	case "geometry":
		ev.geometry = val
	case "properties":
		ev.properties, ev.propsSpaced = val, s.spaces != spaces
	default:
		known = false
	}
	if bad < 0 && s.badUTF8 >= 0 {
		// Unknown names are quoted and cut: they are the sender's text.
		ev.badUTF8, ev.badUTF8In = s.badUTF8, string(key)
		if !known {
			ev.badUTF8In = "member " + Quote(string(key))
		}
	}
	return nil
}

// one decodes the value at s.pos as the only thing up to the end of s.buf
// (a single-event body or an NDJSON line): syntax errors reject the event.
func (st *decodeState) one(s *scanner) (layers.Event, *EventError) {
	ev, evErr, synErr := st.element(s)
	if synErr != nil {
		return ev, eventErrorf(ReasonInvalidJSON, "", "invalid JSON at byte offset %d: %s", synErr.off, synErr.msg)
	}
	s.skipSpace()
	if s.pos < len(s.buf) {
		return ev, eventErrorf(ReasonInvalidJSON, "", "unexpected data after the event object at byte offset %d: "+
			"send several events as a JSON array, or as NDJSON with Content-Type application/x-ndjson", s.pos)
	}
	return ev, evErr
}

// element decodes the value at s.pos. A syntax error is returned apart,
// because inside an array it spoils the whole body.
func (st *decodeState) element(s *scanner) (layers.Event, *EventError, *syntaxError) {
	s.badUTF8 = -1
	start := s.pos
	if s.peek() != '{' {
		if err := s.value(); err != nil {
			return layers.Event{}, nil, err
		}
		return layers.Event{}, eventErrorf(ReasonInvalidJSON, "", "an event must be a JSON object, found %s",
			kindOf(s.buf[start:s.pos])), nil
	}
	var raw rawEvent
	if err := scanEvent(s, &raw); err != nil {
		return layers.Event{}, nil, err
	}
	if raw.badUTF8 >= 0 {
		return layers.Event{}, badUTF8Error(s.buf, raw.badUTF8, raw.badUTF8In), nil
	}
	ev, err := st.validate(&raw)
	return ev, err, nil
}

func badUTF8Error(buf []byte, off int, path string) *EventError {
	if buf[off] == '\\' {
		return eventErrorf(ReasonInvalidUTF8, path, "lone UTF-16 surrogate escape %s at byte offset %d: text must be valid Unicode",
			buf[off:off+6], off)
	}
	return eventErrorf(ReasonInvalidUTF8, path, "invalid UTF-8 (byte 0x%02x at byte offset %d): text must be UTF-8", buf[off], off)
}

// validate turns raw members into an Event, checking each in turn.
func (st *decodeState) validate(r *rawEvent) (layers.Event, *EventError) {
	var ev layers.Event
	var err *EventError
	if ev.Layer, err = st.layer(r.layer); err != nil {
		return ev, err
	}
	if ev.ID, err = parseID(r.id); err != nil {
		return ev, err
	}
	if ev.Op, err = parseOp(r.op); err != nil {
		return ev, err
	}
	if ev.Time, err = st.time(r.time); err != nil {
		return ev, err
	}
	if ev.Geometry, err = st.d.geometry(r.geometry, ev.Op); err != nil {
		return ev, err
	}
	if ev.Properties, err = parseProperties(r.properties, r.propsSpaced); err != nil {
		return ev, err
	}
	return ev, nil
}

func isNull(v []byte) bool { return v == nil || string(v) == "null" }

// jsonString returns the value of a string literal that passed the scanner.
func jsonString(v []byte) string {
	body := v[1 : len(v)-1]
	for _, c := range body {
		if c == '\\' {
			var s string
			_ = json.Unmarshal(v, &s) // already checked; only escapes are left to undo
			return s
		}
	}
	return string(body)
}

func (st *decodeState) layer(v []byte) (string, *EventError) {
	if isNull(v) || string(v) == `""` {
		return "", eventErrorf(ReasonMissingLayer, "layer", `layer is required (e.g. "traffic.segments")`)
	}
	if v[0] != '"' {
		return "", eventErrorf(ReasonInvalidLayer, "layer", "layer must be a string, found %s", kindOf(v))
	}
	if len(v)-2 == len(st.lastLayer) && string(v[1:len(v)-1]) == st.lastLayer {
		return st.lastLayer, nil
	}
	name := jsonString(v)
	if msg := checkLayerName(name); msg != "" {
		return "", eventErrorf(ReasonInvalidLayer, "layer", "layer %s %s", Quote(name), msg)
	}
	st.lastLayer = name
	return name, nil
}

// checkLayerName enforces ^[a-z0-9][a-z0-9._-]{0,63}$: layer names appear
// in URLs, topics and metric labels.
func checkLayerName(name string) string {
	if len(name) > MaxLayerLen {
		return fmt.Sprintf("is %d bytes long, at most %d are allowed", len(name), MaxLayerLen)
	}
	for i, r := range name {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			continue
		}
		if i > 0 && (r == '.' || r == '_' || r == '-') {
			continue
		}
		hint := ""
		if r >= 'A' && r <= 'Z' {
			hint = "; layer names are lower case"
		}
		if i == 0 {
			return fmt.Sprintf("must start with a lower-case letter or digit, not %q%s", r, hint)
		}
		return fmt.Sprintf("has %q at byte %d: only a-z, 0-9, '.', '_' and '-' are allowed (e.g. \"traffic.segments\")%s", r, i, hint)
	}
	return ""
}

// parseID accepts a string or, as GeoJSON Feature ids may be, a number,
// whose literal text becomes the id ("1.0" and "1" are different ids).
func parseID(v []byte) (string, *EventError) {
	if isNull(v) || string(v) == `""` {
		return "", eventErrorf(ReasonMissingID, "id", "id is required: a non-empty string naming the entity within its layer")
	}
	var id string
	switch kindOf(v) {
	case "a string":
		id = jsonString(v)
	case "a number":
		id = string(v)
	default:
		return "", eventErrorf(ReasonInvalidID, "id", "id must be a string or a number, found %s", kindOf(v))
	}
	if len(id) > MaxIDLen {
		return "", eventErrorf(ReasonInvalidID, "id", "id is %d bytes long, at most %d are allowed", len(id), MaxIDLen)
	}
	if msg := checkText(id); msg != "" {
		return "", eventErrorf(ReasonInvalidID, "id", "id %s %s", Quote(id), msg)
	}
	return id, nil
}

// checkText refuses invalid UTF-8 (which \u escapes of lone surrogates can
// still produce) and control characters, which break logs and displays.
func checkText(s string) string {
	for i, r := range s {
		if r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") {
			return fmt.Sprintf("has invalid UTF-8 at byte %d", i)
		}
		if unicode.IsControl(r) {
			return fmt.Sprintf("has control character %U at byte %d", r, i)
		}
	}
	return ""
}

func parseOp(v []byte) (layers.Op, *EventError) {
	switch string(v) {
	case "", "null", `""`, `"upsert"`:
		return layers.OpUpsert, nil
	case `"delete"`:
		return layers.OpDelete, nil
	}
	if v[0] != '"' {
		return 0, eventErrorf(ReasonUnknownOp, "op", `op must be a string, "upsert" or "delete", found %s`, kindOf(v))
	}
	switch op := jsonString(v); op {
	case "upsert":
		return layers.OpUpsert, nil
	case "delete":
		return layers.OpDelete, nil
	default:
		return 0, eventErrorf(ReasonUnknownOp, "op", `op %s is unknown: want "upsert" or "delete" (absent means "upsert")`, Quote(op))
	}
}

// Quote quotes a sender's value for an error message, cut to 64 bytes so
// that a huge value does not make a huge response. Every source uses it.
func Quote(s string) string {
	const limit = 64
	if len(s) <= limit {
		return fmt.Sprintf("%q", s)
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q…", s[:cut])
}

// time parses the optional observation time; absent means now.
func (st *decodeState) time(v []byte) (time.Time, *EventError) {
	if isNull(v) {
		return st.now, nil
	}
	if v[0] != '"' {
		return time.Time{}, eventErrorf(ReasonInvalidTime, "time",
			`time must be an RFC 3339 string such as "2025-07-01T08:30:00+07:00", found %s`, kindOf(v))
	}
	s := jsonString(v)
	t, err := parseRFC3339(s)
	if err != nil {
		return time.Time{}, eventErrorf(ReasonInvalidTime, "time", "time %s is not an RFC 3339 timestamp%s", Quote(s), timeHint(s))
	}
	if ahead := t.Sub(st.now); ahead > st.d.cfg.MaxFuture {
		return time.Time{}, eventErrorf(ReasonFutureTime, "time",
			"time %s is %v ahead of the server clock (at most %v is allowed): check the sender's clock and time zone offset",
			Quote(s), ahead.Round(time.Second), st.d.cfg.MaxFuture)
	}
	return t.UTC(), nil
}

// parseRFC3339 also takes what RFC 3339 allows and Go's parser does not:
// lower-case 't' and 'z', and a space instead of the 'T'.
func parseRFC3339(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil && len(s) > 10 && (s[10] == ' ' || strings.ContainsAny(s, "tz")) {
		b := []byte(strings.ToUpper(s))
		if b[10] == ' ' {
			b[10] = 'T'
		}
		t, err = time.Parse(time.RFC3339Nano, string(b))
	}
	return t, err
}

// timeHint points at the usual mistake: a local time without an offset.
func timeHint(s string) string {
	if _, err := time.Parse("2006-01-02T15:04:05.999999999", strings.ToUpper(strings.Replace(s, " ", "T", 1))); err == nil {
		return `: it has no time zone offset, add one (e.g. "2025-07-01T08:30:00+07:00" or "2025-07-01T01:30:00Z")`
	}
	return ` (e.g. "2025-07-01T08:30:00+07:00" or "2025-07-01T01:30:00.250Z")`
}

// parseProperties returns the properties object compacted into its own
// buffer: the layers embed it verbatim into outgoing GeoJSON and keep it
// for as long as the entity lives, so it must neither carry whitespace
// nor pin the request body.
func parseProperties(v []byte, spaced bool) ([]byte, *EventError) {
	if isNull(v) || string(v) == "{}" {
		return nil, nil
	}
	if v[0] != '{' {
		return nil, eventErrorf(ReasonInvalidProperties, "properties", "properties must be a JSON object, found %s", kindOf(v))
	}
	if !spaced {
		return append(make([]byte, 0, len(v)), v...), nil
	}
	out := compact(make([]byte, 0, len(v)), v)
	if string(out) == "{}" {
		return nil, nil
	}
	return out, nil
}
