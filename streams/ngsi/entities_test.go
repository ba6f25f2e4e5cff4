package ngsi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
	"github.com/danang-ioc/ioc/streams/mqtt"
)

// The adapter decodes NGSI-LD entities for the MQTT source: iocd sets
// mqtt.Config.Entities to it.
var _ mqtt.EntityDecoder = (*Adapter)(nil)

const (
	mqttDevice = `{"id":"urn:ngsi-ld:Device:rain-07","type":"Device",` +
		`"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[108.1402,16.0061]}}}`
	mqttRain = `{"id":"urn:ngsi-ld:WeatherObserved:rain-07","type":"WeatherObserved",` +
		`"precipitation":{"type":"Property","value":3.5,"observedAt":"2026-11-27T08:10:00+07:00"},` +
		`"refDevice":{"type":"Relationship","object":"urn:ngsi-ld:Device:rain-07"}}`
	mqttAirKV = `{"id":"urn:ngsi-ld:AirQualityObserved:hc-01","type":"AirQualityObserved","pm25":23.4,` +
		`"dateObserved":"2026-11-27T08:00:00+07:00","location":{"type":"Point","coordinates":[108.2208,16.0678]},` +
		`"@context":"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"}`
)

func decodeEntity(t *testing.T, a *Adapter, payload string) ([]layers.Event, *streams.EventError) {
	t.Helper()
	events, err := a.DecodeEntity([]byte(payload))
	if err == nil {
		for _, ev := range events {
			checkEvent(t, ev)
		}
		return events, nil
	}
	var ee *streams.EventError
	if !errors.As(err, &ee) {
		t.Fatalf("error %v is not an *streams.EventError", err)
	}
	if len(events) != 0 {
		t.Fatalf("events %v with error %v", events, err)
	}
	return nil, ee
}

func TestDecodeEntityForms(t *testing.T) {
	e := newEnv(t, Config{Area: daNang}, nil)
	cases := []struct {
		name, payload string
		ids           []string
	}{
		{"normalized", mqttDevice, []string{"urn:ngsi-ld:Device:rain-07"}},
		{"keyValues with @context", mqttAirKV, []string{"urn:ngsi-ld:AirQualityObserved:hc-01"}},
		{"array, placed at a device earlier in it", "[" + mqttDevice + ",\n" + mqttRain + "]",
			[]string{"urn:ngsi-ld:Device:rain-07", "urn:ngsi-ld:WeatherObserved:rain-07"}},
		{"NGSI-LD notification", `{"id":"urn:ngsi-ld:Notification:5fd0","type":"Notification","subscriptionId":"urn:ngsi-ld:Subscription:1",` +
			`"notifiedAt":"2026-11-27T01:10:05Z","data":[` + mqttAirKV + `]}`, []string{"urn:ngsi-ld:AirQualityObserved:hc-01"}},
		{"GeoJSON Feature", `{"id":"urn:ngsi-ld:Streetlight:l-1","type":"Feature","geometry":{"type":"Point","coordinates":[108.2,16.06]},` +
			`"properties":{"type":"Streetlight","powerState":"on"}}`, []string{"urn:ngsi-ld:Streetlight:l-1"}},
		{"byte order mark and whitespace", "\xef\xbb\xbf \n" + mqttAirKV + "\n", []string{"urn:ngsi-ld:AirQualityObserved:hc-01"}},
		// an attribute named data does not make an entity a notification
		{"attribute named data", `{"id":"urn:ngsi-ld:Device:d-2","type":"Device","data":[1,2],"location":{"type":"Point","coordinates":[108.2,16.06]}}`,
			[]string{"urn:ngsi-ld:Device:d-2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			events, err := decodeEntity(t, e.a, c.payload)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, ev := range events {
				ids = append(ids, ev.ID)
			}
			if strings.Join(ids, " ") != strings.Join(c.ids, " ") {
				t.Fatalf("ids %v, want %v", ids, c.ids)
			}
		})
	}
	// The details of one: the same event the HTTP endpoints make.
	events, _ := decodeEntity(t, e.a, "["+mqttDevice+","+mqttRain+"]")
	rain := events[1]
	want := time.Date(2026, 11, 27, 1, 10, 0, 0, time.UTC)
	if rain.Layer != "flooding.rain" || !rain.Time.Equal(want) || rain.Op != layers.OpUpsert ||
		rain.Geometry.FlatCoords()[0] != 108.1402 || string(rain.Properties) !=
		`{"type":"WeatherObserved","precipitation":3.5,"refDevice":"urn:ngsi-ld:Device:rain-07"}` {
		t.Errorf("%+v %s", rain, rain.Properties)
	}
	if events, _ := decodeEntity(t, e.a, mqttAirKV); string(events[0].Properties) !=
		`{"type":"AirQualityObserved","pm25":23.4,"dateObserved":"2026-11-27T08:00:00+07:00"}` {
		t.Errorf("keyValues properties %s", events[0].Properties)
	}
	if len(e.bus.take()) != 0 {
		t.Error("DecodeEntity published: the caller submits the events")
	}
}

// Entities decoded from MQTT and from HTTP share the adapter's memory:
// either may place the other, and a PATCH merges into an entity that came
// by MQTT.
func TestDecodeEntityMemory(t *testing.T) {
	e := newEnv(t, Config{Area: daNang}, nil)
	if _, err := decodeEntity(t, e.a, mqttDevice); err != nil {
		t.Fatal(err)
	}
	// The device came by MQTT; the observation by HTTP is placed at it.
	r := e.do(http.MethodPost, LDEntitiesPath, "application/json", []byte(mqttRain))
	if evs := e.bus.take(); r.status != http.StatusCreated || len(evs) != 1 || evs[0].Geometry.FlatCoords()[1] != 16.0061 {
		t.Fatalf("HTTP entity placed at the MQTT device: %d %s %v", r.status, r.body, evs)
	}
	// A device sent by HTTP places an entity that comes by MQTT.
	e.do(http.MethodPost, LDEntitiesPath, "application/json",
		[]byte(`{"id":"urn:ngsi-ld:Device:aq-9","type":"Device","location":{"type":"Point","coordinates":[108.25,16.05]}}`))
	events, err := decodeEntity(t, e.a, `{"id":"urn:ngsi-ld:AirQualityObserved:aq-9","type":"AirQualityObserved","pm10":41,`+
		`"refDevice":"urn:ngsi-ld:Device:aq-9"}`)
	if err != nil || events[0].Geometry.FlatCoords()[0] != 108.25 || !events[0].Time.Equal(testNow) {
		t.Fatalf("MQTT entity placed at the HTTP device: %v %v", events, err)
	}
	// A PATCH merges into the entity decoded from MQTT.
	e.bus.take()
	r = e.do(http.MethodPatch, LDEntitiesPath+"/urn:ngsi-ld:AirQualityObserved:aq-9/attrs", "application/json", []byte(`{"pm25":12}`))
	evs := e.bus.take()
	if r.status != http.StatusNoContent || len(evs) != 1 ||
		string(evs[0].Properties) != `{"type":"AirQualityObserved","pm10":41,"refDevice":"urn:ngsi-ld:Device:aq-9","pm25":12}` {
		t.Fatalf("PATCH after MQTT: %d %s %v", r.status, r.body, evs)
	}
}

func TestDecodeEntityRefusals(t *testing.T) {
	e := newEnv(t, Config{Area: daNang}, nil)
	noLoc := `{"id":"urn:ngsi-ld:TrafficViolation:v-9","type":"TrafficViolation","violationType":"red_light"}`
	cases := []struct {
		name, payload string
		reason        streams.Reason
		path, msg     string
	}{
		{"not JSON", `{"id":`, streams.ReasonInvalidJSON, "", "the payload is not valid JSON: invalid JSON at byte offset"},
		{"not UTF-8", "{\"id\":\"\xff\"}", streams.ReasonInvalidUTF8, "", "invalid UTF-8"},
		{"a number", `42`, ReasonInvalidEntity, "", "an entity must be a JSON object, found a number"},
		{"empty array", `[ ]`, ReasonInvalidEntity, "", "the payload holds no entities"},
		{"empty notification", `{"type":"Notification","data":[]}`, ReasonInvalidEntity, "", "the notification data holds no entities"},
		{"type without a layer", `{"id":"urn:ngsi-ld:Alert:1","type":"Alert","location":{"type":"Point","coordinates":[108.2,16.06]}}`,
			ReasonUnsupportedType, "type", `entity type "Alert" is not mapped to an IOC layer`},
		{"no location", noLoc, ReasonMissingLocation, "location", `TrafficViolation "urn:ngsi-ld:TrafficViolation:v-9" has no location`},
		{"swapped", `{"id":"urn:ngsi-ld:Device:s","type":"Device","location":{"type":"Point","coordinates":[16.06,108.2]}}`,
			streams.ReasonSwapped, "location.coordinates", "coordinates look swapped"},
		{"bad time", `{"id":"urn:ngsi-ld:Device:t","type":"Device","dateObserved":"yesterday","location":{"type":"Point","coordinates":[108.2,16.06]}}`,
			streams.ReasonInvalidTime, "dateObserved", `"yesterday" is not an ISO 8601 timestamp`},
		// One bad entity refuses the payload, saying which one.
		{"array with a bad entity", "[" + mqttDevice + "," + noLoc + "," + mqttAirKV + "]", ReasonMissingLocation, "[1]",
			`entity 2 of 3 ("urn:ngsi-ld:TrafficViolation:v-9"): location: TrafficViolation`},
		{"array with a bad entity, the count", "[" + mqttDevice + "," + noLoc + "," + noLoc + "]", ReasonMissingLocation, "[1]",
			"2 of the 3 entities were refused, so none was taken"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeEntity(t, e.a, c.payload)
			if err == nil {
				t.Fatal("accepted")
			}
			if err.Reason != c.reason || err.Path != c.path || !strings.Contains(err.Msg, c.msg) {
				t.Fatalf("got %s %q %q\nwant %s %q ...%s...", err.Reason, err.Path, err.Msg, c.reason, c.path, c.msg)
			}
		})
	}
	// Nothing of a refused payload is remembered: the device of the
	// refused array places nothing.
	if _, err := decodeEntity(t, e.a, `{"id":"urn:ngsi-ld:WeatherObserved:w","type":"WeatherObserved","precipitation":1,`+
		`"refDevice":"urn:ngsi-ld:Device:rain-07"}`); err == nil || err.Reason != ReasonMissingLocation {
		t.Errorf("placed at a device of a refused payload: %v", err)
	}
}

// Every Smart Data Models example in an NGSI-LD form (NGSI-LD files,
// keyValues files, GeoJSON Features) has through DecodeEntity the outcome
// TestConformance pins for the HTTP endpoints.
func TestDecodeEntityConformance(t *testing.T) {
	files, err := filepath.Glob("testdata/smart-data-models/*/example*.json*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example files: %v", err)
	}
	sort.Strings(files)
	n := 0
	for _, path := range files {
		file := strings.TrimPrefix(filepath.ToSlash(path), "testdata/smart-data-models/")
		if strings.HasSuffix(file, "-normalized.json") {
			continue // NGSI v2
		}
		n++
		want := conformance[file]
		body, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(file, func(t *testing.T) {
			e := newEnv(t, Config{Area: daNang}, nil)
			events, ee := decodeEntity(t, e.a, string(body))
			if want.reason != "" {
				if ee == nil || string(ee.Reason) != want.reason {
					t.Fatalf("want reason %s, got %v %v", want.reason, ee, events)
				}
				return
			}
			if ee != nil || len(events) != 1 || events[0].Layer != want.layer || events[0].ID != exampleID(t, body) {
				t.Fatalf("want one event in %s, got %v %v", want.layer, events, ee)
			}
			wantTime := testNow
			if want.time != "now" {
				wantTime, _ = time.Parse(time.RFC3339Nano, want.time)
			}
			if !events[0].Time.Equal(wantTime) {
				t.Errorf("time %v, want %v", events[0].Time, wantTime)
			}
		})
	}
	if n < 70 {
		t.Errorf("only %d files in an NGSI-LD form", n)
	}
}

// What the MQTT source does with a payload: decode, then submit to the
// intake, through the real modules, into the layers.
func TestDecodeEntityThroughModules(t *testing.T) {
	c := newChainEnv(t)
	events, err := decodeEntity(t, c.a, "["+mqttDevice+","+mqttRain+","+mqttAirKV+"]")
	if err != nil {
		t.Fatal(err)
	}
	b, serr := c.intake.SubmitEvents(context.Background(), events)
	if serr != nil || len(b.Rejected) != 0 {
		t.Fatalf("submit: %v %+v", serr, b.Rejected)
	}
	rain := c.store.Layer("flooding.rain").Get("urn:ngsi-ld:WeatherObserved:rain-07")
	air := c.store.Layer("environment.air").Get("urn:ngsi-ld:AirQualityObserved:hc-01")
	if rain == nil || air == nil || c.store.Layer("devices").Get("urn:ngsi-ld:Device:rain-07") == nil {
		t.Fatalf("not in the layers: rain %v air %v", rain, air)
	}
	if !strings.Contains(string(rain.Properties), `"rain1h":3.5`) || !strings.Contains(string(air.Properties), `"aqi":47,"aqiBand":"good"`) { // PM2.5 23.4: 23.4×50/25 = 46.8
		t.Errorf("derived properties missing:\n%s\n%s", rain.Properties, air.Properties)
	}
}

// DecodeEntity may be called from several goroutines, alongside HTTP
// requests, sharing the memory.
func TestDecodeEntityConcurrent(t *testing.T) {
	// Room for every entity: eviction between a device and its observation
	// would be a scheduling accident, not what this test is about.
	e := newEnv(t, Config{Area: daNang, MaxEntities: 1000}, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 40 {
				dev := fmt.Sprintf(`{"id":"urn:ngsi-ld:Device:d-%d-%d","type":"Device","location":{"type":"Point","coordinates":[108.2,16.0%d]}}`, g, i, i%10)
				obs := fmt.Sprintf(`{"id":"urn:ngsi-ld:WeatherObserved:w-%d-%d","type":"WeatherObserved","precipitation":1,"refDevice":"urn:ngsi-ld:Device:d-%d-%d"}`, g, i, g, i)
				if _, err := e.a.DecodeEntity([]byte(dev)); err != nil {
					t.Error(err)
					return
				}
				if _, err := e.a.DecodeEntity([]byte(obs)); err != nil {
					t.Error(err) // the device was just remembered
					return
				}
				if i%10 == 0 {
					e.do(http.MethodPost, LDEntitiesPath, "application/json", []byte(obs))
				}
			}
		})
	}
	wg.Wait()
}
