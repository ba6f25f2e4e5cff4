package ngsi

import (
	"bytes"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
)

const (
	ldJSON  = "application/ld+json"
	appJSON = "application/json"
)

const lamp = `{"id":"urn:ngsi-ld:Streetlight:hc-001","type":"Streetlight",
	"powerState":{"type":"Property","value":"on"},"illuminanceLevel":{"type":"Property","value":0.8},
	"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[108.2208,16.0678]}},
	"@context":["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"]}`

// one expects exactly one published event.
func (e *env) one() layers.Event {
	e.t.Helper()
	evs := e.bus.take()
	if len(evs) != 1 {
		e.t.Fatalf("want 1 event, got %d: %+v", len(evs), evs)
	}
	checkEvent(e.t, evs[0])
	return evs[0]
}

func wantStatus(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
}

func point(t *testing.T, g geom.T) [2]float64 {
	t.Helper()
	p, ok := g.(*geom.Point)
	if !ok {
		t.Fatalf("geometry %T, want a Point", g)
	}
	return [2]float64{p.X(), p.Y()}
}

func TestLDCreate(t *testing.T) {
	e := newEnv(t, Config{Area: daNang}, nil)
	r := e.do(http.MethodPost, LDEntitiesPath, ldJSON, []byte(lamp))
	wantStatus(t, r, http.StatusCreated)
	if loc := r.header.Get("Location"); loc != "/ngsi-ld/v1/entities/urn:ngsi-ld:Streetlight:hc-001" {
		t.Fatalf("Location %q", loc)
	}
	ev := e.one()
	wantEq(t, ev.Layer, "lighting.lamps")
	wantEq(t, string(ev.Properties), `{"type":"Streetlight","powerState":"on","illuminanceLevel":0.8}`)
	// Create is an upsert: the same entity again is accepted, not 409.
	wantStatus(t, e.do(http.MethodPost, LDEntitiesPath, ldJSON, []byte(lamp)), http.StatusCreated)
	e.one()
	// application/json with a Link header, and no @context, is the same.
	r = e.do(http.MethodPost, LDEntitiesPath, appJSON, []byte(strings.Replace(lamp, `"@context"`, `"x"`, 1)),
		"Link", `<https://smartdatamodels.org/context.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`)
	wantStatus(t, r, http.StatusCreated)
	e.one()
}

func TestPatchMerges(t *testing.T) {
	e := newEnv(t, Config{Area: daNang}, nil)
	wantStatus(t, e.do(http.MethodPost, LDEntitiesPath, ldJSON, []byte(lamp)), http.StatusCreated)
	e.one()
	path := LDEntitiesPath + "/urn:ngsi-ld:Streetlight:hc-001/attrs"

	// No location in the fragment: the lamp stays where it was, its other
	// attributes are kept, and observedAt dates the update.
	r := e.do(http.MethodPatch, path, appJSON, []byte(`{"powerState":{"type":"Property","value":"off","observedAt":"2026-11-27T01:20:00Z"}}`))
	wantStatus(t, r, http.StatusNoContent)
	ev := e.one()
	wantEq(t, ev.Layer, "lighting.lamps")
	wantEq(t, string(ev.Properties), `{"type":"Streetlight","powerState":"off","illuminanceLevel":0.8}`)
	if p := point(t, ev.Geometry); p != [2]float64{108.2208, 16.0678} {
		t.Fatalf("placed at %v", p)
	}
	wantTime(t, ev, "2026-11-27T01:20:00Z")

	// null deletes an attribute (NGSI-LD merge semantics); a new one is
	// added; POST .../attrs appends the same way.
	wantStatus(t, e.do(http.MethodPost, path, ldJSON, []byte(`{"illuminanceLevel":null,"status":"ok","@context":"x"}`)), http.StatusNoContent)
	wantEq(t, string(e.one().Properties), `{"type":"Streetlight","powerState":"off","status":"ok"}`)

	// A bad location is reported while the rest applies: 207.
	r = e.do(http.MethodPatch, path, appJSON, []byte(`{"powerState":"on","location":{"type":"Point","coordinates":[16.07,108.22]}}`))
	wantStatus(t, r, http.StatusMultiStatus)
	m := r.json(t)
	if got := m["updated"].([]any); len(got) != 1 || got[0] != "powerState" {
		t.Fatalf("updated %v", got)
	}
	nu := m["notUpdated"].([]any)[0].(map[string]any)
	if nu["attributeName"] != "location" || !strings.HasPrefix(nu["reason"].(string), "coordinates_swapped: location.coordinates: latitude 108.22") {
		t.Fatalf("notUpdated %v", nu)
	}
	ev = e.one()
	if p := point(t, ev.Geometry); p != [2]float64{108.2208, 16.0678} {
		t.Fatalf("moved to %v", p)
	}
	wantEq(t, string(ev.Properties), `{"type":"Streetlight","powerState":"on","status":"ok"}`)

	// A fragment with a new location moves the entity.
	wantStatus(t, e.do(http.MethodPatch, path, appJSON, []byte(`{"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[108.25,16.05]}}}`)), http.StatusNoContent)
	if p := point(t, e.one().Geometry); p != [2]float64{108.25, 16.05} {
		t.Fatalf("placed at %v", p)
	}

	// Nothing usable: 400 with the first problem.
	r = e.do(http.MethodPatch, path, appJSON, []byte(`{"powerState":{"type":"Property","value":"on","observedAt":"soon"}}`))
	wantStatus(t, r, http.StatusBadRequest)
	wantEq(t, str(r.json(t)["reason"]), "invalid_time")
	if len(e.bus.take()) != 0 {
		t.Fatal("a refused update was published")
	}
}

func TestPatchUnknownEntity(t *testing.T) {
	e := newEnv(t, Config{Area: daNang}, nil)
	// Unknown, and nothing to place it by: 404.
	r := e.do(http.MethodPatch, LDEntitiesPath+"/urn:ngsi-ld:Streetlight:nope/attrs", appJSON, []byte(`{"powerState":"off"}`))
	wantStatus(t, r, http.StatusNotFound)
	m := r.json(t)
	wantEq(t, str(m["type"]), ErrorTypeBase+"ResourceNotFound")
	wantEq(t, str(m["reason"]), "unknown_entity")
	// Unknown, but its URN names the type and the fragment has a location.
	r = e.do(http.MethodPatch, LDEntitiesPath+"/urn:ngsi-ld:Streetlight:new/attrs", appJSON,
		[]byte(`{"powerState":"off","location":{"type":"Point","coordinates":[108.2,16.0]}}`))
	wantStatus(t, r, http.StatusNoContent)
	wantEq(t, e.one().Layer, "lighting.lamps")
	// Unknown, with an id that names no type: 404 even with a location.
	r = e.do(http.MethodPatch, LDEntitiesPath+"/lamp-7/attrs", appJSON, []byte(`{"location":{"type":"Point","coordinates":[108.2,16.0]}}`))
	wantStatus(t, r, http.StatusNotFound)
}

const device = `{"id":"urn:ngsi-ld:Device:rain-07","type":"Device","deviceState":"ok",
	"location":{"type":"Point","coordinates":[108.1402,16.0061]}}`

func TestPlacement(t *testing.T) {
	e := newEnv(t, Config{Area: daNang}, nil)
	gauge := `{"id":"urn:ngsi-ld:WeatherObserved:rain-07","type":"WeatherObserved","precipitation":{"type":"Property","value":31.5},
		"refDevice":{"type":"Relationship","object":"urn:ngsi-ld:Device:rain-07"}}`
	// The device is not known yet.
	r := e.do(http.MethodPost, LDEntitiesPath, appJSON, []byte(gauge))
	wantStatus(t, r, http.StatusBadRequest)
	wantEq(t, str(r.json(t)["reason"]), "missing_location")

	wantStatus(t, e.do(http.MethodPost, LDEntitiesPath, appJSON, []byte(device)), http.StatusCreated)
	wantEq(t, e.one().Layer, "devices")
	wantStatus(t, e.do(http.MethodPost, LDEntitiesPath, appJSON, []byte(gauge)), http.StatusCreated)
	ev := e.one()
	wantEq(t, ev.Layer, "flooding.rain")
	if p := point(t, ev.Geometry); p != [2]float64{108.1402, 16.0061} {
		t.Fatalf("placed at %v", p)
	}

	// In one batch: the device first, then what refers to it (any ref*
	// attribute, here a keyValues refPointOfInterest).
	batch := `[{"id":"urn:ngsi-ld:Device:cam-3","type":"Device","location":{"type":"Point","coordinates":[108.22,16.07]}},
		{"id":"urn:ngsi-ld:TrafficViolation:v-1","type":"TrafficViolation","refPointOfInterest":"urn:ngsi-ld:Device:cam-3","titleCode":"11"}]`
	wantStatus(t, e.do(http.MethodPost, LDUpsertPath, appJSON, []byte(batch)), http.StatusNoContent)
	evs := e.bus.take()
	if len(evs) != 2 || evs[1].Layer != "traffic.violations" || point(t, evs[1].Geometry) != [2]float64{108.22, 16.07} {
		t.Fatalf("events %+v", evs)
	}

	// An earlier report of the entity itself places it.
	wantStatus(t, e.do(http.MethodPost, LDEntitiesPath, appJSON, []byte(`{"id":"urn:ngsi-ld:Device:rain-07","type":"Device","deviceState":"lowBattery"}`)), http.StatusCreated)
	if p := point(t, e.one().Geometry); p != [2]float64{108.1402, 16.0061} {
		t.Fatalf("placed at %v", p)
	}

	// NGSI v2: the reference is a plain Text attribute named ref*.
	wantStatus(t, e.do(http.MethodPost, V2EntitiesPath+"?options=keyValues", appJSON,
		[]byte(`{"id":"Device:T2","type":"Device","location":{"type":"Point","coordinates":[108.17,16.05]}}`)), http.StatusCreated)
	e.one()
	wantStatus(t, e.do(http.MethodPost, V2EntitiesPath, appJSON,
		[]byte(`{"id":"WaterObserved:cu-de","type":"WaterObserved","height":{"type":"Number","value":2.1},"refDevice":{"type":"Text","value":"Device:T2"}}`)), http.StatusCreated)
	ev = e.one()
	if ev.Layer != "flooding.rivers" || point(t, ev.Geometry) != [2]float64{108.17, 16.05} {
		t.Fatalf("event %+v", ev)
	}
}

func TestUpsertMultiStatus(t *testing.T) {
	e := newEnv(t, Config{Area: daNang}, nil)
	body := `[` + lamp + `,
		{"id":"urn:ngsi-ld:Streetlight:bad","type":"Streetlight","location":{"type":"Point","coordinates":[-56.64,168.37]}},
		{"id":"urn:ngsi-ld:Building:b1","type":"Building","location":{"type":"Point","coordinates":[108.2,16.0]}},
		5]`
	r := e.do(http.MethodPost, LDUpsertPath, ldJSON, []byte(body))
	wantStatus(t, r, http.StatusMultiStatus)
	wantEq(t, r.header.Get("Content-Type"), "application/json")
	m := r.json(t)
	if s := m["success"].([]any); len(s) != 1 || s[0] != "urn:ngsi-ld:Streetlight:hc-001" {
		t.Fatalf("success %v", s)
	}
	errs := m["errors"].([]any)
	want := []struct{ id, typ, reason string }{
		{"urn:ngsi-ld:Streetlight:bad", "BadRequestData", "coordinates_swapped"},
		{"urn:ngsi-ld:Building:b1", "OperationNotSupported", "unsupported_type"},
		{"", "BadRequestData", "invalid_entity"},
	}
	if len(errs) != len(want) {
		t.Fatalf("errors %v", errs)
	}
	for i, w := range want {
		got := errs[i].(map[string]any)
		pd := got["error"].(map[string]any)
		if got["entityId"] != w.id || pd["type"] != ErrorTypeBase+w.typ || pd["reason"] != w.reason || pd["title"] == "" || pd["detail"] == "" {
			t.Errorf("error %d: %v, want %+v", i, got, w)
		}
	}
	wantEq(t, e.one().ID, "urn:ngsi-ld:Streetlight:hc-001")

	// options=update merges into the last state instead of replacing it.
	r = e.do(http.MethodPost, LDUpsertPath+"?options=update", appJSON, []byte(`[{"id":"urn:ngsi-ld:Streetlight:hc-001","type":"Streetlight","powerState":"off"}]`))
	wantStatus(t, r, http.StatusNoContent)
	wantEq(t, string(e.one().Properties), `{"type":"Streetlight","powerState":"off","illuminanceLevel":0.8}`)
	// Without it, the attributes are replaced (the location is kept).
	r = e.do(http.MethodPost, LDUpsertPath, appJSON, []byte(`[{"id":"urn:ngsi-ld:Streetlight:hc-001","type":"Streetlight","powerState":"on"}]`))
	wantStatus(t, r, http.StatusNoContent)
	wantEq(t, string(e.one().Properties), `{"type":"Streetlight","powerState":"on"}`)
}

func TestModuleRejection(t *testing.T) {
	e := newEnv(t, Config{Area: daNang}, rejectModule{layer: "lighting.lamps"})
	r := e.do(http.MethodPost, LDEntitiesPath, ldJSON, []byte(lamp))
	wantStatus(t, r, http.StatusBadRequest)
	m := r.json(t)
	wantEq(t, str(m["reason"]), "module_refused")
	wantEq(t, str(m["detail"]), "properties: refused by the test module")
	r = e.do(http.MethodPost, LDUpsertPath, ldJSON, []byte(`[`+lamp+`,`+device+`]`))
	wantStatus(t, r, http.StatusMultiStatus)
	if s := r.json(t)["success"].([]any); len(s) != 1 || s[0] != "urn:ngsi-ld:Device:rain-07" {
		t.Fatalf("success %v", s)
	}
	wantEq(t, e.one().Layer, "devices")
	// The refused lamp was not remembered.
	wantStatus(t, e.do(http.MethodPatch, LDEntitiesPath+"/lamp/attrs", appJSON, []byte(`{"a":1}`)), http.StatusNotFound)
	if got := e.counter("ioc_ngsi_rejected_total", map[string]string{"reason": "module_refused"}); got != 2 {
		t.Fatalf("module_refused counted %v times", got)
	}
}

func TestBusFailure(t *testing.T) {
	e := newEnv(t, Config{}, nil)
	e.bus.fail = errBus
	r := e.do(http.MethodPost, LDEntitiesPath, ldJSON, []byte(lamp))
	wantStatus(t, r, http.StatusServiceUnavailable)
	wantEq(t, r.header.Get("Retry-After"), "1")
	wantEq(t, str(r.json(t)["type"]), ErrorTypeBase+"InternalError")
	r = e.do(http.MethodPost, V2EntitiesPath, appJSON, []byte(`{"id":"x","type":"Streetlight","location":{"type":"geo:point","value":"16.0, 108.2"}}`))
	wantStatus(t, r, http.StatusServiceUnavailable)
	wantEq(t, str(r.json(t)["error"]), "ServiceUnavailable")
	if got := e.counter("ioc_ngsi_entities_total", map[string]string{"api": "ld", "result": "failed"}); got != 1 {
		t.Fatalf("failed counted %v", got)
	}
	// Nothing was remembered: a partial update finds nothing.
	e.bus.fail = nil
	wantStatus(t, e.do(http.MethodPatch, LDEntitiesPath+"/urn:ngsi-ld:Streetlight:hc-001/attrs", appJSON, []byte(`{"a":1}`)), http.StatusNotFound)
}

func TestErrorBodies(t *testing.T) {
	e := newEnv(t, Config{MaxBody: 4096, MaxBatch: 2}, nil)
	cases := []struct {
		name, method, path, ct string
		body                   string
		headers                []string
		status                 int
		field, want            string // a member of the body and its value
	}{
		{"ld invalid JSON", "POST", LDEntitiesPath, ldJSON, `{"id":`, nil, 400, "type", ErrorTypeBase + "InvalidRequest"},
		{"ld invalid JSON detail", "POST", LDEntitiesPath, ldJSON, `{"id":"x",}`, nil, 400, "detail",
			`the body is not valid JSON, so nothing was taken: invalid JSON at byte offset 10: unexpected character '}', want a quoted member name`},
		{"ld no Content-Type", "POST", LDEntitiesPath, "", lamp, nil, 415, "title", "Unsupported media type"},
		{"ld text/plain", "POST", LDEntitiesPath, "text/plain", lamp, nil, 415, "detail",
			`Content-Type "text/plain" is not supported here: send application/json, application/ld+json, application/geo+json`},
		{"ld latin-1", "POST", LDEntitiesPath, "application/json; charset=iso-8859-1", lamp, nil, 415, "type", ErrorTypeBase + "InvalidRequest"},
		{"ld gzip", "POST", LDEntitiesPath, ldJSON, lamp, []string{"Content-Encoding", "gzip"}, 415, "title", "Unsupported media type"},
		{"ld too large", "POST", LDEntitiesPath, ldJSON, `{"x":"` + strings.Repeat("a", 5000) + `"}`, nil, 413, "title", "Request entity too large"},
		{"ld too many", "POST", LDUpsertPath, ldJSON, `[{},{},{}]`, nil, 413, "title", "Too many entities"},
		{"ld array to create", "POST", LDEntitiesPath, ldJSON, `[` + lamp + `]`, nil, 400, "detail",
			"send one entity object here; arrays of entities go to POST /ngsi-ld/v1/entityOperations/upsert"},
		{"ld object to upsert", "POST", LDUpsertPath, ldJSON, lamp, nil, 400, "detail", "the upsert body must be a JSON array of entities, found an object"},
		{"ld empty upsert", "POST", LDUpsertPath, ldJSON, `[ ]`, nil, 400, "detail", "the upsert body holds no entities"},
		{"ld missing type", "POST", LDEntitiesPath, appJSON, `{"id":"x"}`, nil, 400, "title", "Bad request data"},
		{"ld merge-patch only for PATCH", "POST", LDEntitiesPath, "application/merge-patch+json", lamp, nil, 415, "type", ErrorTypeBase + "InvalidRequest"},
		{"ld patch not an object", "PATCH", LDEntitiesPath + "/x/attrs", "application/merge-patch+json", `[1]`, nil, 400, "detail",
			"the body must be a JSON object of attributes, found an array"},
		{"ld delete unknown", "DELETE", LDEntitiesPath + "/lamp-9", "", ``, nil, 404, "type", ErrorTypeBase + "ResourceNotFound"},
		{"v2 invalid JSON", "POST", V2EntitiesPath, appJSON, `{`, nil, 400, "error", "BadRequest"},
		{"v2 ld+json", "POST", V2EntitiesPath, ldJSON, `{}`, nil, 415, "error", "UnsupportedMediaType"},
		{"v2 unsupported type", "POST", V2EntitiesPath, appJSON, `{"id":"x","type":"Thing","location":{"type":"geo:point","value":"16,108"}}`, nil, 422, "error", "Unprocessable"},
		{"v2 missing location", "POST", V2EntitiesPath, appJSON, `{"id":"x","type":"Streetlight"}`, nil, 400, "reason", "missing_location"},
		{"v2 bad actionType", "POST", V2UpdatePath, appJSON, `{"actionType":"upsert","entities":[]}`, nil, 400, "description",
			`actionType must be one of "append", "append_strict", "update", "replace", "delete", found "upsert"`},
		{"v2 no entities", "POST", V2UpdatePath, appJSON, `{"actionType":"append"}`, nil, 400, "description", `the body has no "entities" array`},
		{"v2 not a notification", "POST", V2NotifyPath, appJSON, `[]`, nil, 400, "description",
			`the body is not a notification: want {"subscriptionId": ..., "data": [entities]}`},
		{"v2 values notification", "POST", V2NotifyPath, appJSON, `{"data":[]}`, []string{"Ngsiv2-AttrsFormat", "values"}, 400, "error", "BadRequest"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.method, c.path, c.ct, []byte(c.body), c.headers...)
			wantStatus(t, r, c.status)
			wantEq(t, r.header.Get("Content-Type"), "application/json")
			wantEq(t, str(r.json(t)[c.field]), c.want)
		})
	}
	// Problem details as application/problem+json when asked for.
	r := e.do(http.MethodPost, LDEntitiesPath, ldJSON, []byte(`{`), "Accept", "application/problem+json, application/json")
	wantStatus(t, r, http.StatusBadRequest)
	wantEq(t, r.header.Get("Content-Type"), "application/problem+json")
	// Wrong methods are chi's 405.
	wantStatus(t, e.do(http.MethodGet, LDUpsertPath, "", nil), http.StatusMethodNotAllowed)
}

func TestV2CreateAndUpdate(t *testing.T) {
	e := newEnv(t, Config{Area: daNang}, nil)
	cabinet := `{"id":"cab-12","type":"StreetlightControlCabinet","energyConsumed":{"type":"Number","value":120},
		"powerState":{"type":"Text","value":"on"},"location":{"type":"geo:point","value":"16.0544, 108.2022"}}`
	r := e.do(http.MethodPost, V2EntitiesPath, appJSON, []byte(cabinet))
	wantStatus(t, r, http.StatusCreated)
	wantEq(t, r.header.Get("Location"), "/v2/entities/cab-12?type=StreetlightControlCabinet")
	if p := point(t, e.one().Geometry); p != [2]float64{108.2022, 16.0544} {
		t.Fatalf("geo:point placed at %v", p)
	}
	update := func(action, entities string, status int) response {
		t.Helper()
		r := e.do(http.MethodPost, V2UpdatePath, appJSON, []byte(`{"actionType":"`+action+`","entities":[`+entities+`]}`))
		wantStatus(t, r, status)
		return r
	}
	update("append", `{"id":"cab-12","powerState":{"type":"Text","value":"off"}}`, http.StatusNoContent)
	wantEq(t, string(e.one().Properties), `{"type":"StreetlightControlCabinet","energyConsumed":120,"powerState":"off"}`)
	update("update", `{"id":"cab-12","type":"StreetlightControlCabinet","energyConsumed":{"value":121}}`, http.StatusNoContent)
	wantEq(t, string(e.one().Properties), `{"type":"StreetlightControlCabinet","energyConsumed":121,"powerState":"off"}`)
	update("replace", `{"id":"cab-12","type":"StreetlightControlCabinet","powerState":{"value":"fault"}}`, http.StatusNoContent)
	wantEq(t, string(e.one().Properties), `{"type":"StreetlightControlCabinet","powerState":"fault"}`)
	update("delete", `{"id":"cab-12","powerState":{}}`, http.StatusNoContent)
	wantEq(t, string(e.one().Properties), `{"type":"StreetlightControlCabinet"}`)
	update("delete", `{"id":"cab-12","type":"StreetlightControlCabinet"}`, http.StatusNoContent)
	ev := e.bus.take()[0]
	if ev.Op != layers.OpDelete || ev.Layer != "lighting.cabinets" || ev.ID != "cab-12" {
		t.Fatalf("delete event %+v", ev)
	}
	// Forgotten once deleted: without a type it cannot be told where to go.
	r = update("append", `{"id":"cab-12","powerState":{"value":"on"}}`, http.StatusNotFound)
	wantEq(t, str(r.json(t)["error"]), "NotFound")

	// A partial failure names what was not applied.
	r = update("append_strict", `{"id":"cab-13","type":"StreetlightControlCabinet","location":{"type":"geo:point","value":"16.05, 108.20"}},
		{"id":"cab-14","type":"StreetlightControlCabinet"}`, http.StatusUnprocessableEntity)
	m := r.json(t)
	wantEq(t, str(m["error"]), "PartialUpdate")
	na := m["notApplied"].([]any)[0].(map[string]any)
	if na["id"] != "cab-14" || na["reason"] != "missing_location" || na["index"] != 1.0 {
		t.Fatalf("notApplied %v", na)
	}
	wantEq(t, e.one().ID, "cab-13")
	// Deleting what is not known and has no type: 404.
	r = update("delete", `{"id":"ghost"}`, http.StatusNotFound)
	wantEq(t, str(r.json(t)["reason"]), "unknown_entity")
	// keyValues batches.
	r = e.do(http.MethodPost, V2UpdatePath+"?options=keyValues", appJSON,
		[]byte(`{"actionType":"append","entities":[{"id":"cab-13","powerState":{"value":"raw object kept"}}]}`))
	wantStatus(t, r, http.StatusNoContent)
	wantEq(t, string(e.one().Properties), `{"type":"StreetlightControlCabinet","powerState":{"value":"raw object kept"}}`)
}

func TestV2Notify(t *testing.T) {
	e := newEnv(t, Config{Area: daNang}, nil)
	body := `{"subscriptionId":"5a1","data":[
		{"id":"aq-1","type":"AirQualityObserved","pm25":12,"location":{"type":"Point","coordinates":[108.22,16.07]}},
		{"id":"aq-2","type":"AirQualityObserved","pm25":13}]}`
	r := e.do(http.MethodPost, V2NotifyPath, "application/json; charset=utf-8", []byte(body), "Ngsiv2-AttrsFormat", "keyValues")
	wantStatus(t, r, http.StatusOK)
	m := r.json(t)
	if m["accepted"] != 1.0 || m["rejected"].([]any)[0].(map[string]any)["reason"] != "missing_location" {
		t.Fatalf("summary %v", m)
	}
	wantEq(t, string(e.one().Properties), `{"type":"AirQualityObserved","pm25":12}`)
	// An NGSI-LD notification body is taken too.
	ld := `{"id":"urn:ngsi-ld:Notification:1","type":"Notification","subscriptionId":"urn:s:1","notifiedAt":"2026-11-27T01:29:00Z",
		"data":[{"id":"aq-2","type":"AirQualityObserved","pm25":{"type":"Property","value":14},"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[108.2,16.0]}}}]}`
	wantStatus(t, e.do(http.MethodPost, V2NotifyPath, appJSON, []byte(ld)), http.StatusNoContent)
	wantEq(t, string(e.one().Properties), `{"type":"AirQualityObserved","pm25":14}`)
}

func TestLDDelete(t *testing.T) {
	e := newEnv(t, Config{Area: daNang}, nil)
	wantStatus(t, e.do(http.MethodPost, LDEntitiesPath, ldJSON, []byte(lamp)), http.StatusCreated)
	e.one()
	wantStatus(t, e.do(http.MethodDelete, LDEntitiesPath+"/urn:ngsi-ld:Streetlight:hc-001", "", nil), http.StatusNoContent)
	ev := e.bus.take()[0]
	if ev.Op != layers.OpDelete || ev.Layer != "lighting.lamps" {
		t.Fatalf("event %+v", ev)
	}
	// Not remembered: every layer its type may be in.
	wantStatus(t, e.do(http.MethodDelete, LDEntitiesPath+"/urn:ngsi-ld:TrafficFlowObserved:s-1", "", nil), http.StatusNoContent)
	evs := e.bus.take()
	if len(evs) != 2 || evs[0].Layer != "traffic.cameras" || evs[1].Layer != "traffic.segments" {
		t.Fatalf("events %+v", evs)
	}
	wantStatus(t, e.do(http.MethodDelete, LDEntitiesPath+"/lamp-7?type=Streetlight", "", nil), http.StatusNoContent)
	wantEq(t, e.bus.take()[0].Layer, "lighting.lamps")
}

func TestMemoryIsBounded(t *testing.T) {
	e := newEnv(t, Config{MaxEntities: 2}, nil)
	for _, id := range []string{"a", "b", "c"} {
		wantStatus(t, e.do(http.MethodPost, LDEntitiesPath, appJSON, []byte(strings.Replace(device, "rain-07", id, 1))), http.StatusCreated)
	}
	e.bus.take()
	wantStatus(t, e.do(http.MethodPatch, LDEntitiesPath+"/urn:ngsi-ld:Device:a/attrs", appJSON, []byte(`{"x":1}`)), http.StatusNotFound)
	wantStatus(t, e.do(http.MethodPatch, LDEntitiesPath+"/urn:ngsi-ld:Device:c/attrs", appJSON, []byte(`{"x":1}`)), http.StatusNoContent)
	if got := e.counter("ioc_ngsi_forgotten_entities_total", nil); got != 1 {
		t.Fatalf("forgotten %v", got)
	}
	if got := e.counter("ioc_ngsi_remembered_entities", nil); got != 2 {
		t.Fatalf("remembered %v", got)
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, Config{Area: daNang}, nil)
	e.do(http.MethodPost, LDUpsertPath, appJSON, []byte(`[`+lamp+`,{"id":"x","type":"Streetlight"}]`))
	e.do(http.MethodPost, V2EntitiesPath, appJSON, []byte(`{"id":"x","type":"Thing"}`))
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"ioc_ngsi_entities_total", map[string]string{"api": "ld", "result": "accepted"}, 1},
		{"ioc_ngsi_entities_total", map[string]string{"api": "ld", "result": "rejected"}, 1},
		{"ioc_ngsi_entities_total", map[string]string{"api": "v2", "result": "rejected"}, 1},
		{"ioc_ngsi_rejected_total", map[string]string{"reason": "missing_location"}, 1},
		{"ioc_ngsi_rejected_total", map[string]string{"reason": "unsupported_type"}, 1},
		{"ioc_ngsi_rejected_total", map[string]string{"reason": "coordinates_swapped"}, 0},
		{"ioc_ngsi_requests_total", map[string]string{"endpoint": "ld_upsert", "code": "207"}, 1},
		{"ioc_ngsi_requests_total", map[string]string{"endpoint": "v2_create", "code": "422"}, 1},
	} {
		if got := e.counter(c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

// The upstream examples whose coordinates are [lat, lon] pass with the Da
// Nang service area (both orders are valid positions outside it); a
// deployment can refuse everything outside its area, and a service area
// where the swap is plausible catches them as swapped.
func TestServiceArea(t *testing.T) {
	nice := geo.Rect{MinX: 7.0, MinY: 43.5, MaxX: 7.5, MaxY: 43.9}
	cases := []struct {
		file   string
		cfg    Config
		reason string
	}{
		{"WaterObserved/example.json", Config{Area: daNang, RejectOutsideArea: true}, "outside_area"},
		{"RainFallRadarObserved/example.json", Config{Area: daNang, RejectOutsideArea: true}, "outside_area"},
		{"DeviceMeasurement/example.json", Config{Area: daNang, RejectOutsideArea: true}, "outside_area"},
		{"WaterObserved/example.json", Config{Area: nice}, "coordinates_swapped"},
		{"RainFallRadarObserved/example.json", Config{Area: nice}, "coordinates_swapped"},
	}
	for _, c := range cases {
		t.Run(c.file+"/"+c.reason, func(t *testing.T) {
			body, err := os.ReadFile("testdata/smart-data-models/" + c.file)
			if err != nil {
				t.Fatal(err)
			}
			e := newEnv(t, c.cfg, nil)
			r := e.do(http.MethodPost, V2EntitiesPath+"?options=keyValues", appJSON, body)
			wantStatus(t, r, http.StatusBadRequest)
			wantEq(t, str(r.json(t)["reason"]), c.reason)
		})
	}
	e := newEnv(t, Config{Area: nice}, nil)
	r := e.do(http.MethodPost, V2EntitiesPath+"?options=keyValues", appJSON, bytes.TrimSpace([]byte(
		`{"id":"w","type":"WaterObserved","location":{"type":"Point","coordinates":[43.66481,7.196545]}}`)))
	wantEq(t, str(r.json(t)["description"]), "location.coordinates: position [43.66481, 7.196545] is outside the service area "+
		"("+nice.String()+") but inside it as [7.196545, 43.66481]: coordinates look swapped (GeoJSON order is [longitude, latitude])")
}

// Requests run concurrently: the memory and the metrics are shared.
func TestConcurrentRequests(t *testing.T) {
	e := newEnv(t, Config{Area: daNang, MaxEntities: 50}, nil)
	done := make(chan struct{})
	for w := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 20 {
				id := "urn:ngsi-ld:Streetlight:" + string(rune('a'+w)) + string(rune('a'+i%5))
				body := strings.Replace(lamp, "urn:ngsi-ld:Streetlight:hc-001", id, 1)
				e.do(http.MethodPost, LDUpsertPath, appJSON, []byte("["+body+"]"))
				e.do(http.MethodPatch, LDEntitiesPath+"/"+id+"/attrs", appJSON, []byte(`{"powerState":"off"}`))
			}
		}()
	}
	for range 8 {
		<-done
	}
	for _, ev := range e.bus.take() {
		checkEvent(t, ev)
	}
	if got := e.counter("ioc_ngsi_remembered_entities", nil); got != 40 {
		t.Fatalf("remembered %v, want 40", got)
	}
}
