package ngsi

import (
	"bytes"
	stdjson "encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/streams"
)

// outcome is what must become of an example file: accepted into layer,
// dated time (RFC 3339; "now" is the server clock), or refused with
// reason.
type outcome struct {
	layer, time string
	reason      string
}

func accept(layer, time string) outcome { return outcome{layer: layer, time: time} }
func refuse(reason string) outcome      { return outcome{reason: reason} }

// conformance pins the outcome of every Smart Data Models example file
// (testdata/smart-data-models, copied unmodified from upstream) with the
// service area set to Da Nang. Every file is sent through every endpoint
// that takes its form (see routesFor), and must have the same outcome on
// each. The upstream mistakes are noted where they decide the outcome.
var conformance = map[string]outcome{
	// dateObserved "2016-03-15T11:00:00" has no zone: taken as UTC. The
	// geojsonfeature file wraps its geometry as a GeoProperty, which is not
	// GeoJSON.
	"AirQualityObserved/example-geojsonfeature.json": refuse("unsupported_geometry"),
	"AirQualityObserved/example-normalized.json":     accept("environment.air", "2016-03-15T11:00:00Z"),
	"AirQualityObserved/example-normalized.jsonld":   accept("environment.air", "2016-03-15T11:00:00Z"),
	"AirQualityObserved/example.json":                accept("environment.air", "2016-03-15T11:00:00Z"),
	"AirQualityObserved/example.jsonld":              accept("environment.air", "2016-03-15T11:00:00Z"),
	"Alert/example-1.json":                           refuse("unsupported_type"),
	"Alert/example-2.json":                           refuse("unsupported_type"),
	"Alert/example-agriAlert.json":                   refuse("unsupported_type"),
	"Alert/example-geojsonfeature.json":              refuse("unsupported_geometry"),
	"Alert/example-normalized.json":                  refuse("unsupported_type"),
	"Alert/example-normalized.jsonld":                refuse("unsupported_type"),
	"Alert/example.json":                             refuse("unsupported_type"),
	"Alert/example.jsonld":                           refuse("unsupported_type"),
	"Device/example-normalized.json":                 refuse("missing_location"), // a Device without location, not known before
	"Device/example-normalized.jsonld":               refuse("missing_location"),
	"Device/example.json":                            refuse("missing_location"),
	"Device/example.jsonld":                          refuse("missing_location"),
	// [60.17, 24.94] is Helsinki as [lat, lon]; as [lon, lat] it is a valid
	// position (in Iran), and neither order is in Da Nang, so the swap
	// cannot be told and the entity is accepted (see TestServiceArea).
	"DeviceMeasurement/example-normalized.json":   accept("devices.measurements", "2021-09-03T07:33:18Z"),
	"DeviceMeasurement/example-normalized.jsonld": accept("devices.measurements", "2021-09-03T07:33:18Z"),
	"DeviceMeasurement/example.json":              accept("devices.measurements", "2021-09-03T07:33:18Z"),
	"DeviceMeasurement/example.jsonld":            accept("devices.measurements", "2021-09-03T07:33:18Z"),
	// No location at all, only a stationID.
	"FloodMonitoring/example-normalized.json":   refuse("missing_location"),
	"FloodMonitoring/example-normalized.jsonld": refuse("missing_location"),
	"FloodMonitoring/example.json":              refuse("missing_location"),
	"FloodMonitoring/example.jsonld":            refuse("missing_location"),
	// The polygon's ring is not closed (last latitude 41.88769, first
	// 41.88768): refused before its type (not mapped) is looked at.
	"Hazard/example-geojsonfeature.json": refuse("invalid_geometry"),
	"Hazard/example-normalized.json":     refuse("invalid_geometry"),
	"Hazard/example-normalized.jsonld":   refuse("invalid_geometry"),
	"Hazard/example.json":                refuse("invalid_geometry"),
	"Hazard/example.jsonld":              refuse("invalid_geometry"),
	// No location (and the id urn:ngsi-ld:xYBR:0102 names no type).
	"IssueReporting/example-normalized.json":         refuse("missing_location"),
	"IssueReporting/example-normalized.jsonld":       refuse("missing_location"),
	"IssueReporting/example.json":                    refuse("missing_location"),
	"IssueReporting/example.jsonld":                  refuse("missing_location"),
	"ItemFlowObserved/example-normalized.json":       refuse("unsupported_type"),
	"ItemFlowObserved/example-normalized.jsonld":     refuse("unsupported_type"),
	"ItemFlowObserved/example.json":                  refuse("unsupported_type"),
	"ItemFlowObserved/example.jsonld":                refuse("unsupported_type"),
	"NoiseLevelObserved/example-geojsonfeature.json": refuse("unsupported_geometry"),
	"NoiseLevelObserved/example-normalized.json":     refuse("unsupported_type"),
	"NoiseLevelObserved/example-normalized.jsonld":   refuse("unsupported_type"),
	"NoiseLevelObserved/example.json":                refuse("unsupported_type"),
	"NoiseLevelObserved/example.jsonld":              refuse("unsupported_type"),
	// Normalized forms carry observedAt (v2: metadata "timestamp"), which
	// dates the entity before observationDateTime does.
	"OffStreetParking/example-geojsonfeature.json": refuse("unsupported_geometry"),
	"OffStreetParking/example-normalized.json":     accept("traffic.parking", "2018-09-21T12:00:00Z"),
	"OffStreetParking/example-normalized.jsonld":   accept("traffic.parking", "2018-09-21T12:00:00Z"),
	"OffStreetParking/example.json":                accept("traffic.parking", "2021-03-11T15:51:02Z"),
	"OffStreetParking/example.jsonld":              accept("traffic.parking", "2021-03-11T15:51:02Z"),
	"OnStreetParking/example-geojsonfeature.json":  refuse("unsupported_geometry"),
	"OnStreetParking/example-normalized.json":      accept("traffic.parking", "2018-09-12T12:00:00Z"),
	"OnStreetParking/example-normalized.jsonld":    accept("traffic.parking", "2018-09-12T12:00:00Z"),
	"OnStreetParking/example.json":                 accept("traffic.parking", "2021-03-11T15:51:02Z"),
	"OnStreetParking/example.jsonld":               accept("traffic.parking", "2021-03-11T15:51:02Z"),
	// The v2 metadata timestamp "2018-09-21T12:00:00" has no zone: UTC.
	// keyValues forms carry no date at all: the server clock.
	"ParkingSpot/example-geojsonfeature.json": refuse("unsupported_geometry"),
	"ParkingSpot/example-normalized.json":     accept("traffic.parking", "2018-09-21T12:00:00Z"),
	"ParkingSpot/example-normalized.jsonld":   accept("traffic.parking", "2018-09-21T12:00:00Z"),
	"ParkingSpot/example.json":                accept("traffic.parking", "now"),
	"ParkingSpot/example.jsonld":              accept("traffic.parking", "now"),
	// The polygon is [lat, lon] near Nice; as [lon, lat] it is valid and
	// outside Da Nang either way (see TestServiceArea). A radar grid is not
	// a rain gauge: the type has no layer.
	"RainFallRadarObserved/example-geojsonfeature.json": refuse("unsupported_geometry"),
	"RainFallRadarObserved/example-normalized.json":     refuse("unsupported_type"),
	"RainFallRadarObserved/example-normalized.jsonld":   refuse("unsupported_type"),
	"RainFallRadarObserved/example.json":                refuse("unsupported_type"),
	"RainFallRadarObserved/example.jsonld":              refuse("unsupported_type"),
	// Latitude 168.37: swapped; the normalized NGSI-LD file has 88.37, a
	// valid position, so only its type (not mapped) refuses it.
	"RoadAccident/example-geojsonfeature.json":            refuse("unsupported_geometry"),
	"RoadAccident/example-normalized.json":                refuse("coordinates_swapped"),
	"RoadAccident/example-normalized.jsonld":              refuse("unsupported_type"),
	"RoadAccident/example.json":                           refuse("coordinates_swapped"),
	"RoadAccident/example.jsonld":                         refuse("coordinates_swapped"),
	"Streetlight/example-normalized.json":                 accept("lighting.lamps", "2021-01-11T10:21:02Z"),
	"Streetlight/example-normalized.jsonld":               accept("lighting.lamps", "2021-01-11T10:21:02Z"),
	"Streetlight/example.json":                            accept("lighting.lamps", "2021-01-11T10:21:02Z"),
	"Streetlight/example.jsonld":                          accept("lighting.lamps", "2021-01-11T10:21:02Z"),
	"StreetlightControlCabinet/example-normalized.json":   accept("lighting.cabinets", "now"),
	"StreetlightControlCabinet/example-normalized.jsonld": accept("lighting.cabinets", "now"),
	"StreetlightControlCabinet/example.json":              accept("lighting.cabinets", "now"),
	"StreetlightControlCabinet/example.jsonld":            accept("lighting.cabinets", "now"),
	// The dummy [100, 0] MultiLineString is a valid position; the type has
	// no layer.
	"StreetlightGroup/example-normalized.json":   refuse("unsupported_type"),
	"StreetlightGroup/example-normalized.jsonld": refuse("unsupported_type"),
	"StreetlightGroup/example.json":              refuse("unsupported_type"),
	"StreetlightGroup/example.jsonld":            refuse("unsupported_type"),
	// A LineString: a road segment. dateObserved is an interval, dated by
	// its end, zone-less (UTC); the normalized NGSI-LD file has a single
	// zone-less time instead.
	"TrafficFlowObserved/example-normalized.json":   accept("traffic.segments", "2016-12-07T11:15:00Z"),
	"TrafficFlowObserved/example-normalized.jsonld": accept("traffic.segments", "2016-12-07T11:10:00Z"),
	"TrafficFlowObserved/example.json":              accept("traffic.segments", "2016-12-07T11:15:00Z"),
	"TrafficFlowObserved/example.jsonld":            accept("traffic.segments", "2016-12-07T11:15:00Z"),
	// No location; the id "ngsi-ld:Trafficviolation:..." is not a URN but
	// would be kept as it is.
	"TrafficViolation/example-normalized.json":   refuse("missing_location"),
	"TrafficViolation/example-normalized.jsonld": refuse("missing_location"),
	"TrafficViolation/example.json":              refuse("missing_location"),
	"TrafficViolation/example.jsonld":            refuse("missing_location"),
	// [43.66, 7.20] is Nice as [lat, lon]: valid as [lon, lat], outside Da
	// Nang either way, accepted (see TestServiceArea). Ids
	// "uri:ngsi:..." and "WaterObserved:..." are kept as they are. The
	// normalized NGSI-LD file sends dateObserved as a Relationship: its
	// object is used.
	"WaterObserved/example-geojsonfeature.json":        accept("flooding.rivers", "2020-03-17T08:45:00.209Z"),
	"WaterObserved/example-normalized.json":            accept("flooding.rivers", "2020-03-17T08:45:00.209Z"),
	"WaterObserved/example-normalized.jsonld":          accept("flooding.rivers", "2020-03-17T08:45:00.209Z"),
	"WaterObserved/example.json":                       accept("flooding.rivers", "2020-03-17T08:45:00.209Z"),
	"WaterObserved/example.jsonld":                     accept("flooding.rivers", "2020-03-17T08:45:00.209Z"),
	"WaterQualityObserved/example-geojsonfeature.json": accept("environment.water", "2017-01-31T06:45:00Z"),
	"WaterQualityObserved/example-normalized.json":     accept("environment.water", "2017-01-31T06:45:00Z"),
	"WaterQualityObserved/example-normalized.jsonld":   accept("environment.water", "2017-01-31T06:45:00Z"),
	"WaterQualityObserved/example.json":                accept("environment.water", "2017-01-31T06:45:00Z"),
	"WaterQualityObserved/example.jsonld":              accept("environment.water", "2017-01-31T06:45:00Z"),
	"WeatherAlert/example-normalized.json":             refuse("unsupported_type"),
	"WeatherAlert/example-normalized.jsonld":           refuse("unsupported_type"),
	"WeatherAlert/example.json":                        refuse("unsupported_type"),
	"WeatherAlert/example.jsonld":                      refuse("unsupported_type"),
	"WeatherObserved/example-normalized.json":          accept("flooding.rain", "2016-11-30T07:00:00Z"),
	"WeatherObserved/example-normalized.jsonld":        accept("flooding.rain", "2016-11-30T07:00:00Z"),
	"WeatherObserved/example.json":                     accept("flooding.rain", "2016-11-30T07:00:00Z"),
	"WeatherObserved/example.jsonld":                   accept("flooding.rain", "2016-11-30T07:00:00Z"),
	// Open311 requests: dated by updated_datetime ("-08:00").
	"service_requests/example-normalized.json":   accept("feedback.reports", "2010-04-14T14:37:38Z"),
	"service_requests/example-normalized.jsonld": accept("feedback.reports", "2010-04-14T14:37:38Z"),
	"service_requests/example.json":              accept("feedback.reports", "2010-04-14T14:37:38Z"),
	"service_requests/example.jsonld":            accept("feedback.reports", "2010-04-14T14:37:38Z"),
	// Open311 service types are a catalogue, not things on the map.
	"services/example-normalized.json":   refuse("unsupported_type"),
	"services/example-normalized.jsonld": refuse("unsupported_type"),
	"services/example.json":              refuse("unsupported_type"),
	"services/example.jsonld":            refuse("unsupported_type"),
}

// route sends one example through one endpoint.
type route struct {
	name   string
	send   func(e *env, body []byte) response
	single bool // answers 201 / an error body; otherwise a batch answer
}

func post(path, ct string, wrap func([]byte) []byte) func(*env, []byte) response {
	return func(e *env, body []byte) response { return e.do(http.MethodPost, path, ct, wrap(body)) }
}

func same(b []byte) []byte  { return b }
func array(b []byte) []byte { return append(append([]byte("["), b...), ']') }
func notification(b []byte) []byte {
	return append(append([]byte(`{"subscriptionId":"57458eb60962ef754e7c0998","data":[`), b...), "]}"...)
}

// routesFor lists the endpoints that take a file's form: NGSI-LD files go
// to create and upsert, v2 normalized files to create and the notification
// endpoint, keyValues files to v2 (with options=keyValues) and to NGSI-LD
// as application/json, GeoJSON Features to NGSI-LD as application/geo+json.
func routesFor(file string) []route {
	switch {
	case strings.HasSuffix(file, "-geojsonfeature.json"):
		return []route{
			{"ld create geo+json", post(LDEntitiesPath, "application/geo+json", same), true},
			{"ld upsert geo+json", post(LDUpsertPath, "application/geo+json", array), false},
		}
	case strings.HasSuffix(file, ".jsonld"):
		return []route{
			{"ld create", post(LDEntitiesPath, "application/ld+json", same), true},
			{"ld upsert", post(LDUpsertPath, "application/ld+json", array), false},
		}
	case strings.HasSuffix(file, "-normalized.json"):
		return []route{
			{"v2 create", post(V2EntitiesPath, "application/json", same), true},
			{"v2 notify", post(V2NotifyPath, "application/json", notification), false},
		}
	}
	return []route{
		{"v2 create keyValues", post(V2EntitiesPath+"?options=keyValues", "application/json", same), true},
		{"ld create json", post(LDEntitiesPath, "application/json", same), true},
	}
}

func TestConformance(t *testing.T) {
	files, err := filepath.Glob("testdata/smart-data-models/*/example*.json*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example files: %v", err)
	}
	sort.Strings(files)
	seen := map[string]bool{}
	for _, path := range files {
		file := strings.TrimPrefix(filepath.ToSlash(path), "testdata/smart-data-models/")
		want, ok := conformance[file]
		if !ok {
			t.Errorf("%s: no expected outcome in the table", file)
			continue
		}
		seen[file] = true
		body, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, rt := range routesFor(file) {
			t.Run(file+"/"+rt.name, func(t *testing.T) {
				e := newEnv(t, Config{Area: daNang}, nil)
				resp := rt.send(e, body)
				checkOutcome(t, e, rt, resp, want, exampleID(t, body))
			})
		}
	}
	for file := range conformance {
		if !seen[file] {
			t.Errorf("%s: in the table but not in testdata", file)
		}
	}
}

// exampleID reads the id an example file gives its entity.
func exampleID(t *testing.T, body []byte) string {
	var v struct{ ID string }
	if err := stdjson.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	return v.ID
}

func checkOutcome(t *testing.T, e *env, rt route, resp response, want outcome, id string) {
	t.Helper()
	events := e.bus.take()
	if want.reason != "" {
		if len(events) != 0 {
			t.Fatalf("want refused (%s), got events %+v", want.reason, events)
		}
		if got := refusal(t, rt, resp); got != want.reason {
			t.Fatalf("want reason %s, got %s (status %d, body %s)", want.reason, got, resp.status, resp.body)
		}
		return
	}
	if len(events) != 1 {
		t.Fatalf("want 1 event, got %d (status %d, body %s)", len(events), resp.status, resp.body)
	}
	ev := events[0]
	checkEvent(t, ev)
	if ev.Layer != want.layer || ev.ID != id {
		t.Fatalf("want %s in %s, got %s in %s", id, want.layer, ev.ID, ev.Layer)
	}
	wantTime := testNow
	if want.time != "now" {
		var err error
		if wantTime, err = time.Parse(time.RFC3339Nano, want.time); err != nil {
			t.Fatal(err)
		}
	}
	if !ev.Time.Equal(wantTime) {
		t.Fatalf("want time %v, got %v", wantTime, ev.Time)
	}
	if wantStatus := map[bool]int{true: http.StatusCreated, false: http.StatusNoContent}[rt.single]; resp.status != wantStatus {
		t.Fatalf("accepted with status %d, want %d", resp.status, wantStatus)
	}
	if p := props(t, ev); p["type"] == nil || p["location"] != nil || p["@context"] != nil || p["id"] != nil {
		t.Fatalf("properties must hold the type and neither location, id nor @context: %s", ev.Properties)
	}
}

// refusal reads the reason out of whichever answer the route gives.
func refusal(t *testing.T, rt route, resp response) string {
	t.Helper()
	m := resp.json(t)
	if rt.single {
		if resp.status != statusOf(reasonOf(m["reason"])) {
			t.Fatalf("status %d for reason %v", resp.status, m["reason"])
		}
		return str(m["reason"])
	}
	switch {
	case m["errors"] != nil: // NGSI-LD 207
		errs := m["errors"].([]any)
		return str(errs[0].(map[string]any)["error"].(map[string]any)["reason"])
	case m["rejected"] != nil: // notification 200
		return str(m["rejected"].([]any)[0].(map[string]any)["reason"])
	}
	t.Fatalf("no refusal in %s", bytes.TrimSpace(resp.body))
	return ""
}

func reasonOf(v any) streams.Reason { return streams.Reason(str(v)) }

func str(v any) string {
	s, _ := v.(string)
	return s
}
