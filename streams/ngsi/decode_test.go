package ngsi

import (
	"strings"
	"testing"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
)

// decodeOne decodes one entity as the create endpoints do.
func decodeOne(t *testing.T, a *Adapter, v2, keyValues bool, body string) result {
	t.Helper()
	if err := validate([]byte(body)); err != nil {
		t.Fatalf("test body is not JSON: %v", err)
	}
	d := a.newDecoder(v2, parseOptions{keyValues: keyValues, feature: !v2})
	r, n := d.full([]byte(body))
	if n != len(body) {
		t.Fatalf("consumed %d of %d bytes", n, len(body))
	}
	return r
}

func accepted(t *testing.T, r result) layers.Event {
	t.Helper()
	if r.err != nil {
		t.Fatalf("refused: %s: %v", r.err.Reason, r.err)
	}
	if len(r.events) != 1 {
		t.Fatalf("want 1 event, got %d", len(r.events))
	}
	checkEvent(t, r.events[0])
	return r.events[0]
}

// The same Da Nang station in every form the adapter reads must give the
// same event.
func TestForms(t *testing.T) {
	const wantProps = `{"type":"AirQualityObserved","pm25":23.4,"name":"Hải Châu","refDevice":"urn:ngsi-ld:Device:d1",` +
		`"dateObserved":"2026-11-27T08:00:00+07:00","address":{"addressLocality":"Đà Nẵng"}}`
	cases := []struct {
		name      string
		v2, kv    bool
		body      string
		wantProps string
	}{
		{"ld normalized", false, false, `{"id":"urn:ngsi-ld:AirQualityObserved:hc-01","type":"AirQualityObserved",
			"pm25":{"type":"Property","value":23.4,"unitCode":"GQ"},"name":{"type":"Property","value":"Hải Châu"},
			"refDevice":{"type":"Relationship","object":"urn:ngsi-ld:Device:d1"},
			"dateObserved":{"type":"Property","value":{"@type":"DateTime","@value":"2026-11-27T08:00:00+07:00"}},
			"address":{"type":"Property","value":{"addressLocality":"Đà Nẵng"}},
			"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[108.2208,16.0678]}},
			"@context":"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"}`, wantProps},
		{"ld concise", false, false, `{"id":"urn:ngsi-ld:AirQualityObserved:hc-01","type":"AirQualityObserved",
			"pm25":{"value":23.4},"name":"Hải Châu","refDevice":{"object":"urn:ngsi-ld:Device:d1"},
			"dateObserved":"2026-11-27T08:00:00+07:00","address":{"addressLocality":"Đà Nẵng"},
			"location":{"type":"Point","coordinates":[108.2208,16.0678]}}`, wantProps},
		{"ld keyValues", false, true, `{"id":"urn:ngsi-ld:AirQualityObserved:hc-01","type":"AirQualityObserved",
			"pm25":23.4,"name":"Hải Châu","refDevice":"urn:ngsi-ld:Device:d1","dateObserved":"2026-11-27T08:00:00+07:00",
			"address":{"addressLocality":"Đà Nẵng"},"location":{"type":"Point","coordinates":[108.2208,16.0678]}}`, wantProps},
		{"ld GeoJSON Feature", false, false, `{"id":"urn:ngsi-ld:AirQualityObserved:hc-01","type":"Feature",
			"geometry":{"type":"Point","coordinates":[108.2208,16.0678]},
			"properties":{"type":"AirQualityObserved","pm25":{"type":"Property","value":23.4},"name":"Hải Châu",
			"refDevice":{"type":"Relationship","object":"urn:ngsi-ld:Device:d1"},"dateObserved":"2026-11-27T08:00:00+07:00",
			"address":{"addressLocality":"Đà Nẵng"},"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[0,0]}}}}`, wantProps},
		{"v2 normalized", true, false, `{"id":"urn:ngsi-ld:AirQualityObserved:hc-01","type":"AirQualityObserved",
			"pm25":{"type":"Number","value":23.4,"metadata":{"unitCode":{"type":"Text","value":"GQ"}}},
			"name":{"type":"Text","value":"Hải Châu"},"refDevice":{"type":"Relationship","value":"urn:ngsi-ld:Device:d1"},
			"dateObserved":{"type":"DateTime","value":"2026-11-27T08:00:00+07:00"},
			"address":{"type":"StructuredValue","value":{"addressLocality":"Đà Nẵng"}},
			"location":{"type":"geo:json","value":{"type":"Point","coordinates":[108.2208,16.0678]}}}`, wantProps},
		{"v2 geo:point is latitude first", true, false, `{"id":"urn:ngsi-ld:AirQualityObserved:hc-01","type":"AirQualityObserved",
			"pm25":{"value":23.4},"name":{"value":"Hải Châu"},"refDevice":{"value":"urn:ngsi-ld:Device:d1"},
			"dateObserved":{"value":"2026-11-27T08:00:00+07:00"},"address":{"value":{"addressLocality":"Đà Nẵng"}},
			"location":{"type":"geo:point","value":" 16.0678 , 108.2208 "}}`, wantProps},
		{"v2 keyValues", true, true, `{"id":"urn:ngsi-ld:AirQualityObserved:hc-01","type":"AirQualityObserved",
			"pm25":23.4,"name":"Hải Châu","refDevice":"urn:ngsi-ld:Device:d1","dateObserved":"2026-11-27T08:00:00+07:00",
			"address":{"addressLocality":"Đà Nẵng"},"location":"16.0678, 108.2208"}`, wantProps},
	}
	a := New(Config{Area: daNang, Now: testNowFn}, nil, nil, nil)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := accepted(t, decodeOne(t, a, c.v2, c.kv, c.body))
			if ev.ID != "urn:ngsi-ld:AirQualityObserved:hc-01" || ev.Layer != "environment.air" {
				t.Fatalf("got %s in %s", ev.ID, ev.Layer)
			}
			if string(ev.Properties) != c.wantProps {
				t.Fatalf("properties\n got %s\nwant %s", ev.Properties, c.wantProps)
			}
			p, ok := ev.Geometry.(*geom.Point)
			if !ok || p.X() != 108.2208 || p.Y() != 16.0678 {
				t.Fatalf("geometry %v", ev.Geometry)
			}
			if want := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC); !ev.Time.Equal(want) || ev.Time.Location() != time.UTC {
				t.Fatalf("time %v, want %v", ev.Time, want)
			}
		})
	}
}

// Accepted entities, with what must be true of their event.
func TestNormalisations(t *testing.T) {
	cases := []struct {
		name, body string
		v2         bool
		check      func(t *testing.T, ev layers.Event)
	}{
		{"id whitespace trimmed, not-URI id kept", `{"id":"  WeatherAlert-83b8 ","type":"Streetlight","location":{"type":"Point","coordinates":[108.2,16.0]}}`, false,
			func(t *testing.T, ev layers.Event) { wantEq(t, ev.ID, "WeatherAlert-83b8") }},
		{"zone-less time is UTC", `{"id":"x","type":"Streetlight","dateObserved":"2026-11-27T01:00:00","location":{"type":"Point","coordinates":[108.2,16.0]}}`, false,
			func(t *testing.T, ev layers.Event) { wantTime(t, ev, "2026-11-27T01:00:00Z") }},
		{"interval is dated by its end", `{"id":"x","type":"Streetlight","dateObserved":"2026-11-27T00:00:00Z/2026-11-27T01:00:00Z","location":{"type":"Point","coordinates":[108.2,16.0]}}`, false,
			func(t *testing.T, ev layers.Event) { wantTime(t, ev, "2026-11-27T01:00:00Z") }},
		{"space, lower-case and +0700 offsets", `{"id":"x","type":"Streetlight","dateModified":"2026-11-27 08:00:00+0700","location":{"type":"Point","coordinates":[108.2,16.0]}}`, false,
			func(t *testing.T, ev layers.Event) { wantTime(t, ev, "2026-11-27T01:00:00Z") }},
		{"latest observedAt wins over dateObserved", `{"id":"x","type":"Streetlight","dateObserved":"2026-11-26T00:00:00Z",
			"a":{"type":"Property","value":1,"observedAt":"2026-11-27T00:10:00Z"},"b":{"type":"Property","value":2,"observedAt":"2026-11-27T00:20:00Z"},
			"location":{"type":"Point","coordinates":[108.2,16.0]}}`, false,
			func(t *testing.T, ev layers.Event) { wantTime(t, ev, "2026-11-27T00:20:00Z") }},
		{"v2 TimeInstant metadata", `{"id":"x","type":"Streetlight","powerState":{"type":"Text","value":"on","metadata":{"TimeInstant":{"type":"DateTime","value":"2026-11-27T00:30:00Z"}}},
			"location":{"type":"geo:json","value":{"type":"Point","coordinates":[108.2,16.0]}}}`, true,
			func(t *testing.T, ev layers.Event) { wantTime(t, ev, "2026-11-27T00:30:00Z") }},
		{"no time is the server clock", `{"id":"x","type":"Streetlight","location":{"type":"Point","coordinates":[108.2,16.0]}}`, false,
			func(t *testing.T, ev layers.Event) { wantTime(t, ev, testNow.Format(time.RFC3339)) }},
		{"expanded type IRI", `{"id":"x","type":"https://smartdatamodels.org/dataModel.Streetlighting/Streetlight","location":{"type":"Point","coordinates":[108.2,16.0]}}`, false,
			func(t *testing.T, ev layers.Event) { wantEq(t, ev.Layer, "lighting.lamps") }},
		{"multi-attribute: the default instance", `{"id":"x","type":"Streetlight","powerState":[{"type":"Property","value":"off","datasetId":"urn:a"},{"type":"Property","value":"on"}],
			"location":{"type":"Point","coordinates":[108.2,16.0]}}`, false,
			func(t *testing.T, ev layers.Event) {
				wantEq(t, string(ev.Properties), `{"type":"Streetlight","powerState":"on"}`)
			}},
		{"keyValues arrays stay arrays", `{"id":"x","type":"Streetlight","category":["a","b"],"location":{"type":"Point","coordinates":[108.2,16.0]}}`, false,
			func(t *testing.T, ev layers.Event) {
				wantEq(t, string(ev.Properties), `{"type":"Streetlight","category":["a","b"]}`)
			}},
		{"LanguageProperty gives its map", `{"id":"x","type":"Streetlight","name":{"type":"LanguageProperty","languageMap":{"vi":"Đèn","en":"Lamp"}},"location":{"type":"Point","coordinates":[108.2,16.0]}}`, false,
			func(t *testing.T, ev layers.Event) {
				wantEq(t, string(ev.Properties), `{"type":"Streetlight","name":{"vi":"Đèn","en":"Lamp"}}`)
			}},
		{"system attributes dropped, escapes kept", `{"id":"x","type":"Streetlight","createdAt":"2020-01-01T00:00:00Z","n\u0061me":"a\"b",
			"location":{"type":"Point","coordinates":[108.2,16.0,12.5]}}`, false,
			func(t *testing.T, ev layers.Event) {
				wantEq(t, string(ev.Properties), `{"type":"Streetlight","n\u0061me":"a\"b"}`)
			}},
		{"TrafficFlowObserved on a point is a camera", `{"id":"x","type":"TrafficFlowObserved","intensity":12,"location":{"type":"Point","coordinates":[108.2,16.0]}}`, false,
			func(t *testing.T, ev layers.Event) { wantEq(t, ev.Layer, "traffic.cameras") }},
		{"TrafficFlowObserved on a line is a segment", `{"id":"x","type":"TrafficFlowObserved","intensity":12,"location":{"type":"geo:line","value":["16.0, 108.2","16.01, 108.21"]}}`, true,
			func(t *testing.T, ev layers.Event) { wantEq(t, ev.Layer, "traffic.segments") }},
		{"FloodMonitoring with warning levels is a river station", `{"id":"x","type":"FloodMonitoring","currentLevel":1.2,"alertLevel":2,"location":{"type":"Point","coordinates":[108.2,16.0]}}`, false,
			func(t *testing.T, ev layers.Event) { wantEq(t, ev.Layer, "flooding.rivers") }},
		{"FloodMonitoring depth sensor is a street", `{"id":"x","type":"FloodMonitoring","currentLevel":0.3,"location":{"type":"Point","coordinates":[108.2,16.0]}}`, false,
			func(t *testing.T, ev layers.Event) { wantEq(t, ev.Layer, "flooding.streets") }},
		{"v2 geo:box", `{"id":"x","type":"OnStreetParking","location":{"type":"geo:box","value":["16.0, 108.2","16.01, 108.21"]}}`, true,
			func(t *testing.T, ev layers.Event) {
				wantEq(t, string(geo.AppendGeoJSON(nil, ev.Geometry)), `{"type":"Polygon","coordinates":[[[108.2,16],[108.21,16],[108.21,16.01],[108.2,16.01],[108.2,16]]]}`)
			}},
		{"v2 geo:polygon", `{"id":"x","type":"OnStreetParking","location":{"type":"geo:polygon","value":["16.0, 108.2","16.0, 108.21","16.01, 108.21","16.0, 108.2"]}}`, true,
			func(t *testing.T, ev layers.Event) {
				if _, ok := ev.Geometry.(*geom.Polygon); !ok {
					t.Fatalf("geometry %T", ev.Geometry)
				}
			}},
		{"Open311 alias", `{"id":"x","type":"Open311:ServiceRequest","location":{"type":"Point","coordinates":[108.2,16.0]}}`, false,
			func(t *testing.T, ev layers.Event) { wantEq(t, ev.Layer, "feedback.reports") }},
	}
	a := New(Config{Area: daNang, Now: testNowFn}, nil, nil, nil)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.check(t, accepted(t, decodeOne(t, a, c.v2, false, c.body)))
		})
	}
}

func wantEq(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func wantTime(t *testing.T, ev layers.Event, want string) {
	t.Helper()
	w, err := time.Parse(time.RFC3339, want)
	if err != nil {
		t.Fatal(err)
	}
	if !ev.Time.Equal(w) {
		t.Fatalf("time %v, want %v", ev.Time, w)
	}
}

// Refused entities: the reason, and an error that says what and where.
func TestRejections(t *testing.T) {
	const here = `"location":{"type":"Point","coordinates":[108.2,16.0]}`
	cases := []struct {
		name, body   string
		v2           bool
		reason, want string // want: the error text, or a prefix ending in "…"
	}{
		{"latitude 168", `{"id":"x","type":"Streetlight","location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[-56.64,168.37]}}}`, false,
			"coordinates_swapped", "location.value.coordinates: latitude 168.37 is out of range [-90, 90] but longitude -56.64 would be a latitude…"},
		{"latitude out of range", `{"id":"x","type":"Streetlight","location":{"type":"Point","coordinates":[100,95]}}`, false,
			"coordinates_out_of_range", "location.coordinates: latitude 95 is out of range [-90, 90]"},
		{"[lat, lon] inside the service area swapped", `{"id":"x","type":"Streetlight","location":{"type":"Point","coordinates":[16.07,108.22]}}`, false,
			"coordinates_swapped", "location.coordinates: latitude 108.22 is out of range…"},
		{"swapped in a line", `{"id":"x","type":"Streetlight","location":{"type":"LineString","coordinates":[[108.2,16.0],[16.01,108.21]]}}`, false,
			"coordinates_swapped", "location.coordinates[1]: latitude 108.21 is out of range…"},
		{"geo:point given lon first", `{"id":"x","type":"Streetlight","location":{"type":"geo:point","value":"108.22, 16.07"}}`, true,
			"coordinates_swapped", `location.value: "108.22, 16.07": latitude 108.22 is out of range [-90, 90] but 16.07 would be a latitude: the values look swapped (NGSI v2 geo:point order is "latitude, longitude")`},
		{"geo:point not a pair", `{"id":"x","type":"Streetlight","location":{"type":"geo:point","value":"16.07"}}`, true,
			"invalid_geometry", `location.value: "16.07" is not "latitude, longitude" (e.g. "16.0678, 108.2208")`},
		{"unclosed ring", `{"id":"x","type":"OnStreetParking","location":{"type":"Polygon","coordinates":[[[108.2,16.0],[108.3,16.0],[108.3,16.1],[108.2,16.1]]]}}`, false,
			"invalid_geometry", "location.coordinates[0]: linear ring is not closed: first and last positions differ"},
		{"GeometryCollection", `{"id":"x","type":"Streetlight","location":{"type":"GeometryCollection","geometries":[]}}`, false,
			"unsupported_geometry", "location.type: GeometryCollection is not supported…"},
		{"location not GeoJSON", `{"id":"x","type":"Streetlight","location":{"type":"GeoProperty","value":"16.07, 108.22"}}`, false,
			"invalid_geometry", "location.value: the location must be a GeoJSON geometry object…"},
		{"missing location", `{"id":"urn:ngsi-ld:Streetlight:x","type":"Streetlight","powerState":"on"}`, false,
			"missing_location", `location: Streetlight "urn:ngsi-ld:Streetlight:x" has no location, and neither an earlier report of it nor an entity it refers to…`},
		{"null location", `{"id":"x","type":"Streetlight","location":null}`, false, "missing_location", "location: …"},
		{"unsupported type", `{"id":"x","type":"Building",` + here + `}`, false,
			"unsupported_type", `type: entity type "Building" is not mapped to an IOC layer…`},
		{"missing type", `{"id":"x",` + here + `}`, false, "missing_type", "type: type is required…"},
		{"type not a string", `{"id":"x","type":["Streetlight"],` + here + `}`, false, "invalid_type", "type: type must be a string, found an array"},
		{"missing id", `{"type":"Streetlight",` + here + `}`, false, "missing_id", "id: id is required…"},
		{"blank id", `{"id":"  ","type":"Streetlight",` + here + `}`, false, "missing_id", "id: id is empty"},
		{"id not a string", `{"id":7,"type":"Streetlight",` + here + `}`, false, "invalid_id", "id: id must be a string, found a number"},
		{"id with a control character", `{"id":"a\nb","type":"Streetlight",` + here + `}`, false, "invalid_id", `id: id "a\nb" has control character U+000A at byte 1`},
		{"id too long", `{"id":"` + strings.Repeat("x", 300) + `","type":"Streetlight",` + here + `}`, false, "invalid_id", "id: id is 300 bytes long, at most 256 are allowed"},
		{"entity not an object", `[1]`, false, "invalid_entity", "an entity must be a JSON object, found an array"},
		{"unparseable date", `{"id":"x","type":"Streetlight","dateObserved":"yesterday",` + here + `}`, false,
			"invalid_time", `dateObserved: "yesterday" is not an ISO 8601 timestamp…`},
		{"date not a string", `{"id":"x","type":"Streetlight","dateObserved":{"type":"DateTime","value":20261127},` + here + `}`, true,
			"invalid_time", "dateObserved.value: want an ISO 8601 timestamp string…"},
		{"unparseable observedAt", `{"id":"x","type":"Streetlight","powerState":{"type":"Property","value":"on","observedAt":"soon"},` + here + `}`, false,
			"invalid_time", `powerState.observedAt: "soon" is not an ISO 8601 timestamp…`},
		{"time in the future", `{"id":"x","type":"Streetlight","dateObserved":"2026-11-27T09:30:00",` + here + `}`, false,
			"future_time", `dateObserved: "2026-11-27T09:30:00" is 8h0m0s ahead of the server clock…`},
		{"Property without value", `{"id":"x","type":"Streetlight","powerState":{"type":"Property","unitCode":"X"},` + here + `}`, false,
			"invalid_properties", `powerState: a Property needs a "value" member`},
		{"Relationship without object", `{"id":"x","type":"Streetlight","refDevice":{"type":"Relationship"},` + here + `}`, false,
			"invalid_properties", `refDevice: a Relationship needs a "object" member`},
	}
	a := New(Config{Area: daNang, Now: testNowFn}, nil, nil, nil)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := decodeOne(t, a, c.v2, false, c.body)
			if r.err == nil {
				t.Fatalf("accepted: %+v", r.events)
			}
			if string(r.err.Reason) != c.reason {
				t.Fatalf("reason %s, want %s (%v)", r.err.Reason, c.reason, r.err)
			}
			got := r.err.Error()
			if prefix, ok := strings.CutSuffix(c.want, "…"); ok {
				if !strings.HasPrefix(got, prefix) {
					t.Fatalf("error\n got %s\nwant %s…", got, prefix)
				}
			} else if got != c.want {
				t.Fatalf("error\n got %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestLocalZone(t *testing.T) {
	ict := time.FixedZone("ICT", 7*3600)
	a := New(Config{Now: testNowFn, LocalZone: ict}, nil, nil, nil)
	ev := accepted(t, decodeOne(t, a, false, false,
		`{"id":"x","type":"Streetlight","dateObserved":"2026-11-27T08:00:00","location":{"type":"Point","coordinates":[108.2,16.0]}}`))
	wantTime(t, ev, "2026-11-27T01:00:00Z")
}

func TestRoutesConfig(t *testing.T) {
	a := New(Config{Now: testNowFn, Routes: map[string]Route{
		"NoiseLevelObserved": {Layer: "environment.noise"},
		"Device":             {},
	}}, nil, nil, nil)
	ev := accepted(t, decodeOne(t, a, false, false, `{"id":"n","type":"NoiseLevelObserved","location":{"type":"Point","coordinates":[108.2,16.0]}}`))
	wantEq(t, ev.Layer, "environment.noise")
	r := decodeOne(t, a, false, false, `{"id":"d","type":"Device","location":{"type":"Point","coordinates":[108.2,16.0]}}`)
	if r.err == nil || r.err.Reason != ReasonUnsupportedType {
		t.Fatalf("a removed type must be unsupported, got %+v", r)
	}
	if _, ok := DefaultRoutes["Device"]; !ok {
		t.Fatal("Config.Routes changed DefaultRoutes")
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]string{
		"2026-11-27T01:00:00Z":            "2026-11-27T01:00:00Z",
		"2026-11-27T08:00:00.5+07:00":     "2026-11-27T01:00:00.5Z",
		"2026-11-27t01:00:00z":            "2026-11-27T01:00:00Z",
		"2026-11-27 01:00:00Z":            "2026-11-27T01:00:00Z",
		"2026-11-27T01:00:00":             "2026-11-27T01:00:00Z",
		"2026-11-27T01:00":                "2026-11-27T01:00:00Z",
		"2026-11-27":                      "2026-11-27T00:00:00Z",
		"2026-11-27T08:00:00+0700":        "2026-11-27T01:00:00Z",
		"2026-11-27T08:00:00+07":          "2026-11-27T01:00:00Z",
		"2026-11-26T00:00:00Z/2026-11-27": "2026-11-27T00:00:00Z",
	} {
		got, ok := parseTime(in, time.UTC)
		if w, _ := time.Parse(time.RFC3339Nano, want); !ok || !got.Equal(w) {
			t.Errorf("parseTime(%q) = %v, %v; want %s", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "yesterday", "2026-13-01T00:00:00Z", "2026-11-27T00:00:00Z/PT1H", "1732665600"} {
		if got, ok := parseTime(in, time.UTC); ok {
			t.Errorf("parseTime(%q) = %v, want an error", in, got)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, in := range []string{`{}`, `[]`, ` {"a":[1,-2.5e+3,true,false,null,"\u00e9\ud83d\ude00"]} `, "\xef\xbb\xbf[1]"} {
		if err := validate([]byte(in)); err != nil {
			t.Errorf("validate(%q): %v", in, err)
		}
	}
	for in, want := range map[string]string{
		``:                       "the body is empty",
		`{"a":1,}`:               `unexpected character '}', want a quoted member name`,
		`[01]`:                   `unexpected character '1', want ',' or ']'`,
		`["\ud800"]`:             `lone UTF-16 surrogate escape \ud800`,
		"[\"\xff\"]":             "invalid UTF-8 (byte 0xff)",
		"[\"a\tb\"]":             "control character 0x09 in a string",
		`{"a":1} {}`:             "unexpected character '{', want the end of the body",
		`[1.]`:                   "want a digit after '.'",
		`[tru]`:                  "want a value",
		strings.Repeat("[", 200): "nesting deeper than 128 levels",
	} {
		err := validate([]byte(in))
		if err == nil || !strings.Contains(err.msg, want) {
			t.Errorf("validate(%.20q) = %v, want %q", in, err, want)
		}
	}
}
