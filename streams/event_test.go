package streams

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
)

// testNow is the fixed server clock of the tests: 08:30 in Da Nang.
var testNow = time.Date(2025, 7, 1, 1, 30, 0, 0, time.UTC)

func testDecoder(area geo.Rect) *Decoder {
	return NewDecoder(DecoderConfig{Area: area, Now: func() time.Time { return testNow }})
}

// daNang is the service area after the 2025 merger, roughly.
var daNang = geo.Rect{MinX: 107.0, MinY: 14.5, MaxX: 109.0, MaxY: 16.6}

// paris is an area whose longitudes are within ±90, where a swapped
// position is still a valid position and only the area can tell.
var paris = geo.Rect{MinX: 2.0, MinY: 48.5, MaxX: 2.8, MaxY: 49.1}

const pointDN = `{"type":"Point","coordinates":[108.22,16.07]}`

// withGeom is a valid event around geometry g.
func withGeom(g string) string {
	return `{"layer":"traffic.segments","id":"s1","geometry":` + g + `}`
}

// ev is a valid point event with extra members appended (they override
// earlier ones: the last duplicate member wins).
func ev(extra string) string {
	s := `{"layer":"environment.air","id":"st-01","geometry":` + pointDN
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

type eventCase struct {
	name   string
	in     string
	area   geo.Rect
	reason Reason   // empty: must be accepted
	path   string   // expected EventError.Path when rejected
	want   []string // substrings of the error message
	check  func(layers.Event) error
}

func TestDecodeEventAccepts(t *testing.T) {
	runEventCases(t, acceptCases())
}

func TestDecodeEventRejects(t *testing.T) {
	var cases []eventCase
	cases = append(cases, jsonCases()...)
	cases = append(cases, memberCases()...)
	cases = append(cases, geometryCases()...)
	cases = append(cases, timeAndPropertyCases()...)
	runEventCases(t, cases)
}

func runEventCases(t *testing.T, cases []eventCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := testDecoder(c.area).DecodeEvent([]byte(c.in))
			if c.reason == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if c.check != nil {
					if cerr := c.check(got); cerr != nil {
						t.Fatal(cerr)
					}
				}
				return
			}
			checkEventError(t, err, c)
		})
	}
}

func checkEventError(t *testing.T, err error, c eventCase) {
	t.Helper()
	var ee *EventError
	if !errors.As(err, &ee) {
		t.Fatalf("want %s error, got %v", c.reason, err)
	}
	if ee.Reason != c.reason {
		t.Errorf("reason %s, want %s (%v)", ee.Reason, c.reason, ee)
	}
	if c.path != "" && ee.Path != c.path {
		t.Errorf("path %q, want %q (%v)", ee.Path, c.path, ee)
	}
	for _, w := range c.want {
		if !strings.Contains(ee.Error(), w) {
			t.Errorf("message %q does not mention %q", ee.Error(), w)
		}
	}
}

func acceptCases() []eventCase {
	return []eventCase{
		{name: "minimal point", in: withGeom(pointDN), check: func(e layers.Event) error {
			p, ok := e.Geometry.(*geom.Point)
			switch {
			case e.Layer != "traffic.segments" || e.ID != "s1" || e.Op != layers.OpUpsert:
				return fmt.Errorf("got %+v", e)
			case !ok || p.X() != 108.22 || p.Y() != 16.07:
				return fmt.Errorf("geometry %#v", e.Geometry)
			case !e.Time.Equal(testNow) || e.Properties != nil:
				return fmt.Errorf("time %v properties %s: want server time and nil", e.Time, e.Properties)
			}
			return nil
		}},
		{name: "multipoint", in: withGeom(`{"type":"MultiPoint","coordinates":[[108.2,16.0],[108.3,16.1]]}`), check: geomType(&geom.MultiPoint{})},
		{name: "linestring", in: withGeom(`{"type":"LineString","coordinates":[[108.2,16.0],[108.3,16.1]]}`), check: geomType(&geom.LineString{})},
		{name: "multilinestring", in: withGeom(`{"type":"MultiLineString","coordinates":[[[108.2,16.0],[108.3,16.1]],[[108.1,16.0],[108.0,16.1]]]}`), check: geomType(&geom.MultiLineString{})},
		{name: "polygon", in: withGeom(`{"type":"Polygon","coordinates":[[[108.2,16.0],[108.3,16.0],[108.3,16.1],[108.2,16.0]]]}`), check: geomType(&geom.Polygon{})},
		{name: "multipolygon", in: withGeom(`{"type":"MultiPolygon","coordinates":[[[[108.2,16.0],[108.3,16.0],[108.3,16.1],[108.2,16.0]]],[[[107.2,15.0],[107.3,15.0],[107.3,15.1],[107.2,15.0]]]]}`), check: geomType(&geom.MultiPolygon{})},
		{name: "altitude dropped", in: withGeom(`{"type":"Point","coordinates":[108.22,16.07,12.5]}`), check: geomType(&geom.Point{})},
		{name: "op upsert", in: ev(`"op":"upsert"`), check: opIs(layers.OpUpsert)},
		{name: "op empty", in: ev(`"op":""`), check: opIs(layers.OpUpsert)},
		{name: "op null", in: ev(`"op":null`), check: opIs(layers.OpUpsert)},
		{name: "delete without geometry", in: `{"layer":"a","id":"x","op":"delete"}`, check: func(e layers.Event) error {
			if e.Op != layers.OpDelete || e.Geometry != nil {
				return fmt.Errorf("got %+v", e)
			}
			return nil
		}},
		{name: "delete with null geometry", in: `{"layer":"a","id":"x","op":"delete","geometry":null}`, check: opIs(layers.OpDelete)},
		{name: "delete with geometry", in: ev(`"op":"delete"`), check: geomType(&geom.Point{})},
		{name: "time utc", in: ev(`"time":"2025-07-01T01:00:00Z"`), check: timeIs("2025-07-01T01:00:00Z")},
		{name: "time offset", in: ev(`"time":"2025-07-01T08:00:00+07:00"`), check: timeIs("2025-07-01T01:00:00Z")},
		{name: "time fraction", in: ev(`"time":"2025-07-01T01:00:00.123456789Z"`), check: timeIs("2025-07-01T01:00:00.123456789Z")},
		{name: "time lower case", in: ev(`"time":"2025-07-01t01:00:00z"`), check: timeIs("2025-07-01T01:00:00Z")},
		{name: "time space separator", in: ev(`"time":"2025-07-01 08:00:00.5+07:00"`), check: timeIs("2025-07-01T01:00:00.5Z")},
		{name: "time past", in: ev(`"time":"2001-01-01T00:00:00Z"`), check: timeIs("2001-01-01T00:00:00Z")},
		{name: "time slightly ahead", in: ev(`"time":"2025-07-01T01:34:00Z"`), check: timeIs("2025-07-01T01:34:00Z")},
		{name: "properties compacted", in: ev("\"properties\": { \"pm25\" : 12.5,\n\t\"name\": \"Trạm  Hải Châu\", \"tags\": [ 1, {\"a\" : null} ] }"),
			check: propsAre(`{"pm25":12.5,"name":"Trạm  Hải Châu","tags":[1,{"a":null}]}`)},
		{name: "properties spaces only in strings", in: ev(`"properties":{"a":"x y","b":{"c":" "}}`), check: propsAre(`{"a":"x y","b":{"c":" "}}`)},
		{name: "properties spaces after strings", in: ev(`"properties":{"a":"x\" y" ,"b":"\\" }`), check: propsAre(`{"a":"x\" y","b":"\\"}`)},
		{name: "properties escapes kept", in: ev(`"properties":{"q":"say \"hi\" \\ \u00e9\n"}`), check: propsAre(`{"q":"say \"hi\" \\ \u00e9\n"}`)},
		{name: "properties null", in: ev(`"properties":null`), check: propsAre(``)},
		{name: "properties empty", in: ev(`"properties":{ }`), check: propsAre(``)},
		{name: "geojson feature", in: `{"type":"Feature","layer":"traffic.cameras","id":"cam-7","bbox":[1,2,3,4],"geometry":` + pointDN + `,"properties":{"ok":true},"extra":{"x":[1,2]}}`,
			check: propsAre(`{"ok":true}`)},
		{name: "numeric id", in: `{"layer":"a","id":42,"geometry":` + pointDN + `}`, check: idIs("42")},
		{name: "unicode id", in: `{"layer":"a","id":"Cầu Rồng-01","geometry":` + pointDN + `}`, check: idIs("Cầu Rồng-01")},
		{name: "surrogate pair id", in: `{"layer":"a","id":"\ud83d\ude80","geometry":` + pointDN + `}`, check: idIs("🚀")},
		{name: "escaped id", in: `{"layer":"a","id":"caf\u00e9\/1","geometry":` + pointDN + `}`, check: idIs("café/1")},
		{name: "id of 256 bytes", in: `{"layer":"a","id":"` + strings.Repeat("x", 256) + `","geometry":` + pointDN + `}`},
		{name: "layer of 64 bytes", in: `{"layer":"` + strings.Repeat("a", 64) + `","id":"x","geometry":` + pointDN + `}`},
		{name: "layer digits and symbols", in: `{"layer":"0a._-z","id":"x","geometry":` + pointDN + `}`},
		{name: "outside area not swapped", in: withGeom(`{"type":"Point","coordinates":[105.85,21.03]}`), area: daNang},
		{name: "inside area", in: withGeom(pointDN), area: daNang},
		{name: "whitespace around", in: " \n\t" + withGeom(pointDN) + "\r\n "},
	}
}

func geomType(want geom.T) func(layers.Event) error {
	return func(e layers.Event) error {
		if fmt.Sprintf("%T", e.Geometry) != fmt.Sprintf("%T", want) {
			return fmt.Errorf("geometry %T, want %T", e.Geometry, want)
		}
		if e.Geometry.Layout() != geom.XY {
			return fmt.Errorf("layout %v, want XY", e.Geometry.Layout())
		}
		return nil
	}
}

func opIs(op layers.Op) func(layers.Event) error {
	return func(e layers.Event) error {
		if e.Op != op {
			return fmt.Errorf("op %v, want %v", e.Op, op)
		}
		return nil
	}
}

func timeIs(s string) func(layers.Event) error {
	want, _ := time.Parse(time.RFC3339Nano, s)
	return func(e layers.Event) error {
		if !e.Time.Equal(want) {
			return fmt.Errorf("time %v, want %v", e.Time, want)
		}
		return nil
	}
}

func propsAre(s string) func(layers.Event) error {
	return func(e layers.Event) error {
		if string(e.Properties) != s || (s == "" && e.Properties != nil) {
			return fmt.Errorf("properties %q, want %q", e.Properties, s)
		}
		return nil
	}
}

func idIs(id string) func(layers.Event) error {
	return func(e layers.Event) error {
		if e.ID != id {
			return fmt.Errorf("id %q, want %q", e.ID, id)
		}
		return nil
	}
}

func jsonCases() []eventCase {
	return []eventCase{
		{name: "empty", in: ``, reason: ReasonInvalidJSON, want: []string{"end of input"}},
		{name: "array", in: `[1]`, reason: ReasonInvalidJSON, want: []string{"must be a JSON object", "found an array"}},
		{name: "truncated", in: `{"layer":"a","id":`, reason: ReasonInvalidJSON, want: []string{"byte offset 18", "end of input"}},
		{name: "trailing comma", in: `{"layer":"a",}`, reason: ReasonInvalidJSON, want: []string{"byte offset 13", "member name"}},
		{name: "missing colon", in: `{"layer" "a"}`, reason: ReasonInvalidJSON, want: []string{"':'"}},
		{name: "leading zero", in: ev(`"properties":{"n":01}`), reason: ReasonInvalidJSON, want: []string{"after an object member"}},
		{name: "bad literal", in: ev(`"properties":{"n":tru}`), reason: ReasonInvalidJSON, want: []string{`"true"`}},
		{name: "bad escape", in: ev(`"properties":{"n":"\x"}`), reason: ReasonInvalidJSON, want: []string{"escape"}},
		{name: "bad unicode escape", in: ev(`"properties":{"n":"\u12G4"}`), reason: ReasonInvalidJSON, want: []string{"hex digits"}},
		{name: "raw control char", in: ev("\"properties\":{\"n\":\"a\tb\"}"), reason: ReasonInvalidJSON, want: []string{"control character 0x09"}},
		{name: "unterminated string", in: `{"layer":"abc`, reason: ReasonInvalidJSON, want: []string{"byte offset 9", "unterminated string"}},
		{name: "mismatched bracket", in: ev(`"properties":{"a":[1,2}`), reason: ReasonInvalidJSON, want: []string{"']'"}},
		{name: "two objects", in: ev("") + ev(""), reason: ReasonInvalidJSON, want: []string{"after the event object", "x-ndjson"}},
		{name: "deep nesting", in: ev(`"properties":{"a":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + "}"), reason: ReasonInvalidJSON, want: []string{"nesting deeper"}},
		{name: "invalid utf8 in id", in: "{\"layer\":\"a\",\"id\":\"x\xffy\",\"geometry\":" + pointDN + "}", reason: ReasonInvalidUTF8, path: "id", want: []string{"0xff", "byte offset 20"}},
		{name: "invalid utf8 in properties", in: ev("\"properties\":{\"name\":\"Tr\xe1m\"}"), reason: ReasonInvalidUTF8, path: "properties", want: []string{"0xe1"}},
		{name: "invalid utf8 in unknown member", in: ev("\"note\":\"\xc3\""), reason: ReasonInvalidUTF8, path: `member "note"`},
		{name: "invalid utf8 in member name", in: ev("\"n\xffote\":1"), reason: ReasonInvalidUTF8, path: "member name"},
		{name: "overlong utf8", in: ev("\"properties\":{\"a\":\"\xc0\xaf\"}"), reason: ReasonInvalidUTF8, path: "properties"},
		{name: "surrogate utf8", in: ev("\"properties\":{\"a\":\"\xed\xa0\x80\"}"), reason: ReasonInvalidUTF8, path: "properties"},
	}
}

func memberCases() []eventCase {
	long := strings.Repeat("a", 65)
	return []eventCase{
		{name: "missing layer", in: `{"id":"x","geometry":` + pointDN + `}`, reason: ReasonMissingLayer, path: "layer"},
		{name: "empty layer", in: ev(`"layer":""`), reason: ReasonMissingLayer, path: "layer"},
		{name: "null layer", in: ev(`"layer":null`), reason: ReasonMissingLayer, path: "layer"},
		{name: "numeric layer", in: ev(`"layer":5`), reason: ReasonInvalidLayer, want: []string{"must be a string", "a number"}},
		{name: "upper case layer", in: ev(`"layer":"Traffic.segments"`), reason: ReasonInvalidLayer, want: []string{`"Traffic.segments"`, "lower case"}},
		{name: "layer starts with dot", in: ev(`"layer":".air"`), reason: ReasonInvalidLayer, want: []string{"must start with"}},
		{name: "layer with space", in: ev(`"layer":"air quality"`), reason: ReasonInvalidLayer, want: []string{"' ' at byte 3"}},
		{name: "layer with slash", in: ev(`"layer":"a\/b"`), reason: ReasonInvalidLayer, want: []string{"'/' at byte 1"}},
		{name: "layer too long", in: ev(`"layer":"` + long + `"`), reason: ReasonInvalidLayer, want: []string{"65 bytes", "64"}},
		{name: "layer non-ascii", in: ev(`"layer":"giao.thông"`), reason: ReasonInvalidLayer, want: []string{"'ô'"}},
		{name: "missing id", in: `{"layer":"a","geometry":` + pointDN + `}`, reason: ReasonMissingID, path: "id", want: []string{"id is required"}},
		{name: "empty id", in: ev(`"id":""`), reason: ReasonMissingID, path: "id"},
		{name: "object id", in: ev(`"id":{"a":1}`), reason: ReasonInvalidID, want: []string{"string or a number", "an object"}},
		{name: "bool id", in: ev(`"id":true`), reason: ReasonInvalidID, want: []string{"a boolean"}},
		{name: "id too long", in: ev(`"id":"` + strings.Repeat("x", 257) + `"`), reason: ReasonInvalidID, want: []string{"257 bytes", "256"}},
		{name: "id control char", in: ev(`"id":"a\u0007b"`), reason: ReasonInvalidID, want: []string{"U+0007", "byte 1"}},
		{name: "id newline", in: ev(`"id":"a\nb"`), reason: ReasonInvalidID, want: []string{"U+000A"}},
		{name: "id lone surrogate", in: ev(`"id":"a\ud800b"`), reason: ReasonInvalidUTF8, path: "id", want: []string{`\ud800`}},
		{name: "id lone low surrogate", in: ev(`"id":"a\udc00"`), reason: ReasonInvalidUTF8, path: "id"},
		{name: "properties high surrogate twice", in: ev(`"properties":{"a":"\ud83d\ud83d"}`), reason: ReasonInvalidUTF8, path: "properties"},
		{name: "unknown op", in: ev(`"op":"remove"`), reason: ReasonUnknownOp, path: "op", want: []string{`"remove"`, `"upsert"`, `"delete"`}},
		{name: "upper case op", in: ev(`"op":"DELETE"`), reason: ReasonUnknownOp, want: []string{`"DELETE"`}},
		{name: "numeric op", in: ev(`"op":1`), reason: ReasonUnknownOp, want: []string{"a number"}},
	}
}

func geometryCases() []eventCase {
	return []eventCase{
		{name: "missing geometry", in: `{"layer":"a","id":"x"}`, reason: ReasonMissingGeometry, path: "geometry", want: []string{"required for an upsert"}},
		{name: "null geometry", in: ev(`"geometry":null`), reason: ReasonMissingGeometry},
		{name: "geometry string", in: ev(`"geometry":"POINT(108 16)"`), reason: ReasonInvalidGeometry, path: "geometry"},
		{name: "geometry missing type", in: ev(`"geometry":{"coordinates":[108,16]}`), reason: ReasonInvalidGeometry, path: "geometry.type"},
		{name: "geometry unknown type", in: ev(`"geometry":{"type":"Circle","coordinates":[108,16]}`), reason: ReasonUnsupportedGeom, want: []string{`"Circle"`}},
		{name: "geometry collection", in: ev(`"geometry":{"type":"GeometryCollection","geometries":[]}`), reason: ReasonUnsupportedGeom},
		{name: "geometry no coordinates", in: ev(`"geometry":{"type":"Point"}`), reason: ReasonInvalidGeometry, path: "geometry.coordinates"},
		{name: "point one number", in: ev(`"geometry":{"type":"Point","coordinates":[108]}`), reason: ReasonInvalidGeometry, want: []string{"got 1"}},
		{name: "point nested", in: ev(`"geometry":{"type":"Point","coordinates":[[108,16]]}`), reason: ReasonInvalidGeometry},
		{name: "multipoint empty", in: withGeom(`{"type":"MultiPoint","coordinates":[]}`), reason: ReasonInvalidGeometry},
		{name: "linestring one position", in: withGeom(`{"type":"LineString","coordinates":[[108,16]]}`), reason: ReasonInvalidGeometry, want: []string{"at least 2"}},
		{name: "multilinestring short line", in: withGeom(`{"type":"MultiLineString","coordinates":[[[108,16],[108.1,16]],[[108,16]]]}`), reason: ReasonInvalidGeometry, path: "geometry.coordinates[1]"},
		{name: "polygon unclosed", in: withGeom(`{"type":"Polygon","coordinates":[[[108.2,16.0],[108.3,16.0],[108.3,16.1],[108.2,16.1]]]}`), reason: ReasonInvalidGeometry, path: "geometry.coordinates[0]", want: []string{"not closed"}},
		{name: "polygon short ring", in: withGeom(`{"type":"Polygon","coordinates":[[[108.2,16.0],[108.3,16.0],[108.2,16.0]]]}`), reason: ReasonInvalidGeometry, want: []string{"at least 4"}},
		{name: "multipolygon unclosed", in: withGeom(`{"type":"MultiPolygon","coordinates":[[[[108.2,16.0],[108.3,16.0],[108.3,16.1],[108.2,16.0]]],[[[107.2,15.0],[107.3,15.0],[107.3,15.1],[107.2,15.1]]]]}`), reason: ReasonInvalidGeometry, path: "geometry.coordinates[1][0]"},
		{name: "longitude out of range", in: withGeom(`{"type":"Point","coordinates":[200,16]}`), reason: ReasonOutOfRange, path: "geometry.coordinates", want: []string{"longitude 200"}},
		{name: "latitude out of range", in: withGeom(`{"type":"LineString","coordinates":[[108,16],[100,95]]}`), reason: ReasonOutOfRange, path: "geometry.coordinates[1]", want: []string{"latitude 95"}},
		{name: "swapped point", in: withGeom(`{"type":"Point","coordinates":[16.07,108.22]}`), reason: ReasonSwapped, path: "geometry.coordinates", want: []string{"latitude 108.22", "swapped"}},
		{name: "swapped in line", in: withGeom(`{"type":"LineString","coordinates":[[108.2,16.0],[16.1,108.2]]}`), reason: ReasonSwapped, path: "geometry.coordinates[1]", want: []string{"geometry.coordinates[1]: latitude 108.2 is out of range"}},
		{name: "swapped with area", in: withGeom(`{"type":"Point","coordinates":[16.07,108.22]}`), area: daNang, reason: ReasonSwapped},
		{name: "swapped against area", in: withGeom(`{"type":"Point","coordinates":[48.85,2.35]}`), area: paris, reason: ReasonSwapped, path: "geometry.coordinates", want: []string{"[48.85, 2.35]", "service area", "[2.35, 48.85]", "swapped"}},
		{name: "swapped against area in line", in: withGeom(`{"type":"LineString","coordinates":[[2.3,48.8],[2.4,48.9],[48.9,2.5]]}`), area: paris, reason: ReasonSwapped, path: "geometry.coordinates[2]"},
		{name: "swapped against area in polygon", in: withGeom(`{"type":"Polygon","coordinates":[[[2.3,48.8],[2.4,48.8],[2.4,48.9],[2.3,48.8]],[[2.31,48.81],[48.82,2.32],[2.32,48.82],[2.31,48.81]]]}`), area: paris, reason: ReasonSwapped, path: "geometry.coordinates[1][1]"},
		{name: "swapped against area in multipolygon", in: withGeom(`{"type":"MultiPolygon","coordinates":[[[[2.3,48.8],[2.4,48.8],[2.4,48.9],[2.3,48.8]]],[[[2.5,48.8],[2.6,48.8],[48.9,2.6],[2.5,48.8]]]]}`), area: paris, reason: ReasonSwapped, path: "geometry.coordinates[1][0][2]"},
		{name: "swapped against area in multipoint", in: withGeom(`{"type":"MultiPoint","coordinates":[[2.3,48.8],[48.8,2.3]]}`), area: paris, reason: ReasonSwapped, path: "geometry.coordinates[1]"},
		{name: "invalid geometry on delete", in: ev(`"op":"delete","geometry":{"type":"Point","coordinates":[200,16]}`), reason: ReasonOutOfRange},
	}
}

func timeAndPropertyCases() []eventCase {
	return []eventCase{
		{name: "unparsable time", in: ev(`"time":"yesterday"`), reason: ReasonInvalidTime, path: "time", want: []string{`"yesterday"`, "RFC 3339"}},
		{name: "time without offset", in: ev(`"time":"2025-07-01T08:30:00"`), reason: ReasonInvalidTime, want: []string{`"2025-07-01T08:30:00"`, "no time zone offset"}},
		{name: "time without offset lower case", in: ev(`"time":"2025-07-01t08:30:00"`), reason: ReasonInvalidTime, want: []string{"no time zone offset"}},
		{name: "time date only", in: ev(`"time":"2025-07-01"`), reason: ReasonInvalidTime, want: []string{`"2025-07-01"`, "e.g."}},
		{name: "time bad month", in: ev(`"time":"2025-13-01T00:00:00Z"`), reason: ReasonInvalidTime, want: []string{`"2025-13-01T00:00:00Z"`}},
		{name: "time number", in: ev(`"time":1751333400`), reason: ReasonInvalidTime, want: []string{"a number"}},
		{name: "time huge value cut", in: ev(`"time":"` + strings.Repeat("9", 1000) + `"`), reason: ReasonInvalidTime, want: []string{"…"}},
		{name: "future time", in: ev(`"time":"2025-07-01T01:40:00Z"`), reason: ReasonFutureTime, path: "time", want: []string{"10m0s ahead", "5m0s"}},
		{name: "local time marked utc", in: ev(`"time":"2025-07-01T08:30:00Z"`), reason: ReasonFutureTime, want: []string{"7h0m0s ahead", "time zone"}},
		{name: "properties array", in: ev(`"properties":[1,2]`), reason: ReasonInvalidProperties, path: "properties", want: []string{"JSON object", "an array"}},
		{name: "properties string", in: ev(`"properties":"x"`), reason: ReasonInvalidProperties, want: []string{"a string"}},
		{name: "properties number", in: ev(`"properties":5`), reason: ReasonInvalidProperties, want: []string{"a number"}},
	}
}

func TestDecodeEventDoesNotAliasInput(t *testing.T) {
	in := []byte(ev(`"properties":{"a":"b"}`))
	e, err := testDecoder(geo.Rect{}).DecodeEvent(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = 'X'
	}
	if e.Layer != "environment.air" || e.ID != "st-01" || string(e.Properties) != `{"a":"b"}` {
		t.Fatalf("event changed with its input: %+v %s", e, e.Properties)
	}
}
