package ngsi

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
)

// benchNormalized is a Da Nang air-quality station in NGSI-LD normalized
// form, as a broker sends it: 9 attributes, about 900 bytes.
const benchNormalized = `{"id":"urn:ngsi-ld:AirQualityObserved:hc-aq-%04d","type":"AirQualityObserved",` +
	`"dateObserved":{"type":"Property","value":{"@type":"DateTime","@value":"2026-11-27T08:00:00+07:00"}},` +
	`"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[108.2208,16.0678]}},` +
	`"pm25":{"type":"Property","value":23.4,"unitCode":"GQ","observedAt":"2026-11-27T01:00:00Z"},` +
	`"pm10":{"type":"Property","value":41.2,"unitCode":"GQ","observedAt":"2026-11-27T01:00:00Z"},` +
	`"no2":{"type":"Property","value":18.9,"unitCode":"GQ","observedAt":"2026-11-27T01:00:00Z"},` +
	`"o3":{"type":"Property","value":51.0,"unitCode":"GQ","observedAt":"2026-11-27T01:00:00Z"},` +
	`"name":{"type":"Property","value":"Hải Châu - Bạch Đằng"},` +
	`"address":{"type":"Property","value":{"streetAddress":"Bạch Đằng","addressLocality":"Đà Nẵng","addressCountry":"VN"}},` +
	`"refDevice":{"type":"Relationship","object":"urn:ngsi-ld:Device:hc-aq-dev-%04d"},` +
	`"@context":["https://smartdatamodels.org/context.jsonld","https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"]}`

// benchKeyValues is the same station in keyValues form, about 470 bytes.
const benchKeyValues = `{"id":"urn:ngsi-ld:AirQualityObserved:hc-aq-%04d","type":"AirQualityObserved",` +
	`"dateObserved":"2026-11-27T08:00:00+07:00",` +
	`"location":{"type":"Point","coordinates":[108.2208,16.0678]},` +
	`"pm25":23.4,"pm10":41.2,"no2":18.9,"o3":51.0,"name":"Hải Châu - Bạch Đằng",` +
	`"address":{"streetAddress":"Bạch Đằng","addressLocality":"Đà Nẵng","addressCountry":"VN"},` +
	`"refDevice":"urn:ngsi-ld:Device:hc-aq-dev-%04d",` +
	`"@context":["https://smartdatamodels.org/context.jsonld","https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"]}`

func benchArray(format string, n int) []byte {
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i := range n {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, format, i, i)
	}
	buf.WriteByte(']')
	return buf.Bytes()
}

// decodeBody is what an upsert request does before the intake: validate
// the body and decode every entity into an event.
func decodeBody(a *Adapter, body []byte) int {
	if validate(body) != nil {
		return -1
	}
	d := a.newDecoder(false, parseOptions{feature: true})
	n := 0
	_ = a.each(body, "body", func(b []byte) int {
		r, end := d.full(b)
		if r.err == nil {
			n++
		}
		return end
	})
	return n
}

func benchDecode(b *testing.B, body []byte, n int) {
	a := New(Config{Area: daNang, Now: testNowFn}, nil, nil, nil)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		if got := decodeBody(a, body); got != n {
			b.Fatalf("%d of %d entities decoded", got, n)
		}
	}
	reportRate(b, n, cpuTime()-cpu0)
	b.ReportMetric(float64(len(body))/float64(n), "bytes/entity")
}

// reportRate reports entities per second of wall time and per second of
// CPU time: the machine may be shared, and "per core" is the CPU rate.
func reportRate(b *testing.B, n int, cpu time.Duration) {
	entities := float64(n) * float64(b.N)
	b.ReportMetric(entities/b.Elapsed().Seconds(), "entities/s")
	if cpu > 0 {
		b.ReportMetric(entities/cpu.Seconds(), "entities/cpu-s")
	}
}

func BenchmarkDecodeLDNormalized(b *testing.B) {
	benchDecode(b, benchArray(benchNormalized, 1000), 1000)
}

func BenchmarkDecodeLDKeyValues(b *testing.B) {
	benchDecode(b, benchArray(benchKeyValues, 1000), 1000)
}

// BenchmarkDecodeLDSmartDataModels decodes the upstream AirQualityObserved
// example (pretty-printed, about 2.5 KB, 26 attributes).
func BenchmarkDecodeLDSmartDataModels(b *testing.B) {
	one, err := os.ReadFile("testdata/smart-data-models/AirQualityObserved/example-normalized.jsonld")
	if err != nil {
		b.Fatal(err)
	}
	body := append([]byte{'['}, bytes.Repeat(append(one, ','), 1000)...)
	body[len(body)-1] = ']'
	benchDecode(b, body, 1000)
}

type nopBus struct{}

func (nopBus) Publish(context.Context, []layers.Event) error { return nil }

// BenchmarkUpsertHTTP is the whole upsert endpoint: headers, body,
// decoding, intake, memory and the 204 answer, without a network.
func BenchmarkUpsertHTTP(b *testing.B) {
	const n = 1000
	body := benchArray(benchNormalized, n)
	a := New(Config{Area: daNang, Now: testNowFn}, streams.NewIntake(nil, nopBus{}), nil, nil)
	r := chi.NewRouter()
	a.Routes(r)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, LDUpsertPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/ld+json")
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if w.Code != http.StatusNoContent {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	reportRate(b, n, cpuTime()-cpu0)
}
