package ngsi

import (
	"bytes"
	stdjson "encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
)

// fuzzSeeds are the Smart Data Models examples plus bodies that reach
// the corners: batches, fragments, simple locations, broken values.
func fuzzSeeds(f *testing.F, extra ...string) {
	files, _ := filepath.Glob("testdata/smart-data-models/*/example*.json*")
	for _, path := range files {
		if b, err := os.ReadFile(path); err == nil {
			f.Add(b)
		}
	}
	for _, s := range append([]string{
		lamp, device, `[` + lamp + `,` + device + `,5,null,{}]`,
		`{"id":"x","type":"Streetlight","location":{"type":"geo:point","value":"16.0, 108.2"}}`,
		`{"id":"x","type":"TrafficFlowObserved","location":{"type":"geo:line","value":["16.0, 108.2","16.1,108.3"]}}`,
		`{"id":"x","type":"FloodMonitoring","alertLevel":1,"location":{"type":"geo:box","value":["16.0, 108.2","16.1,108.3"]}}`,
		`{"id":"x","type":"OnStreetParking","location":{"type":"geo:polygon","value":["16,108","16,109","17,109","16,108"]}}`,
		`{"id":"urn:ngsi-ld:Streetlight:z","type":"Feature","geometry":{"type":"Point","coordinates":[108.2,16]},"properties":{"type":"Streetlight","a":{"value":1}}}`,
		`{"id":"x","type":"Streetlight","refDevice":{"type":"Relationship","object":["urn:ngsi-ld:Device:rain-07"]},"a":[{"type":"Property","value":1,"datasetId":"d"}]}`,
		`{"id":"x","type":"Streetlight","dateObserved":{"@type":"DateTime","@value":"2026-11-27T01:00:00"},"location":{"type":"Point","coordinates":[108.2,16.0,1]}}`,
		`{"subscriptionId":"s","data":[` + lamp + `]}`,
		`{"actionType":"delete","entities":[{"id":"urn:ngsi-ld:Device:rain-07","deviceState":{}}]}`,
		`{"powerState":null,"location":{"type":"MultiPolygon","coordinates":[[[[108,16],[108.1,16],[108.1,16.1],[108,16]]]]}}`,
		`{"id":"\u00e9\ud83d\ude00","type":"Streetlight","n\"a":"\\","location":{"type":"Point","coordinates":[1e2,-0.5E-1]}}`,
	}, extra...) {
		f.Add([]byte(s))
	}
}

var fuzzAdapter = New(Config{Area: daNang, MaxEntities: 64, Now: testNowFn}, nil, nil, nil)

// fuzzRouter serves the endpoints over an intake whose bus takes all.
var fuzzRouter = func() http.Handler {
	r := chi.NewRouter()
	New(Config{Area: daNang, MaxEntities: 64, Now: testNowFn}, streams.NewIntake(nil, nopBus{}), nil, nil).Routes(r)
	return r
}()

// fuzzHTTP sends body to every endpoint of the API: none may fail with a
// 500 (a recovered panic).
func fuzzHTTP(t *testing.T, body []byte, v2 bool) {
	paths := []string{LDEntitiesPath, LDUpsertPath, LDEntitiesPath + "/urn:ngsi-ld:Device:rain-07/attrs"}
	if v2 {
		paths = []string{V2EntitiesPath, V2EntitiesPath + "?options=keyValues", V2UpdatePath, V2NotifyPath}
	}
	for i, p := range paths {
		method := http.MethodPost
		if !v2 && i == 2 {
			method = http.MethodPatch
		}
		req := httptest.NewRequest(method, p, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		fuzzRouter.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s: %d %s", method, p, w.Code, w.Body)
		}
	}
}

// fuzzBody runs body through the decoders of one API: as a whole entity,
// a fragment merged into the entity the adapter remembers, and the
// elements of a batch or notification; every event must be sound.
func fuzzBody(t *testing.T, body []byte, v2 bool) {
	if validate(body) != nil {
		return
	}
	if !stdjson.Valid(body[skipBOM(body):]) {
		t.Fatalf("validate accepted %q, which is not JSON", body)
	}
	a := fuzzAdapter
	a.mem.put(&state{id: "urn:ngsi-ld:Device:rain-07", typ: "Device", layer: "devices",
		geom: pointAt(108.14, 16.0), props: []byte(`{"type":"Device","deviceState":"ok"}`)})
	body = body[skipWS(body, skipBOM(body)):]
	var results []result
	for _, kv := range []bool{false, true} {
		d := a.newDecoder(v2, parseOptions{keyValues: kv, feature: !v2})
		r, n := d.full(body)
		if n <= 0 || n > len(body) {
			t.Fatalf("full consumed %d of %d bytes", n, len(body))
		}
		results = append(results, r)
		if body[0] == '{' {
			opt := d.opt
			opt.fragment, opt.noID, opt.feature = true, true, false
			d.partial = !v2
			if frag, _, err := d.parse(body, opt); err == nil {
				results = append(results, d.merge("urn:ngsi-ld:Device:rain-07", frag))
			}
		}
		batch := body
		if data := notificationData(body); data != nil {
			batch = data
		}
		if batch[0] == '[' {
			_ = a.each(batch, "batch", func(b []byte) int {
				r, n := d.update(b)
				results = append(results, r)
				if v2 {
					r, _ = d.v2Delete(b)
					results = append(results, r)
				}
				return n
			})
		}
	}
	for _, r := range results {
		checkResult(t, r)
	}
}

func checkResult(t *testing.T, r result) {
	t.Helper()
	if r.err != nil {
		if r.err.Reason == "" || r.err.Error() == "" || !utf8.ValidString(r.err.Error()) {
			t.Fatalf("refusal without a reason or message: %+v", r.err)
		}
		return
	}
	for _, ev := range r.events {
		checkEvent(t, ev)
		if streams.MaxIDLen < len(ev.ID) || checkText(ev.ID) != "" || !utf8.ValidString(ev.ID) {
			t.Fatalf("bad id %q", ev.ID)
		}
		if ev.Properties != nil && !utf8.Valid(ev.Properties) {
			t.Fatalf("properties are not UTF-8: %q", ev.Properties)
		}
		if ev.Op == layers.OpUpsert && !bytes.HasPrefix(ev.Properties, []byte(`{"type":`)) {
			t.Fatalf("properties without the type: %s", ev.Properties)
		}
		if strings.ContainsAny(ev.Layer, " \"") {
			t.Fatalf("layer %q", ev.Layer)
		}
	}
}

func FuzzNGSILD(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzBody(t, body, false)
		fuzzHTTP(t, body, false)
	})
}

func FuzzNGSIv2(f *testing.F) {
	fuzzSeeds(f, `{"id":"x","type":"Streetlight","location":"16.0, 108.2"}`,
		`{"id":"x","type":"Streetlight","a":{"type":"Text","value":"v","metadata":{"TimeInstant":{"type":"DateTime","value":"2026-11-27T01:00:00Z"}}}}`)
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzBody(t, body, true)
		fuzzHTTP(t, body, true)
	})
}
