package ngsi

import (
	"bytes"
	"context"
	stdjson "encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
)

// daNang is the merged city's service area (with a margin), as suggested
// by the conformance collection's notes.
var daNang = geo.Rect{MinX: 107.2, MinY: 14.9, MaxX: 108.8, MaxY: 16.3}

var testNow = time.Date(2026, 11, 27, 1, 30, 0, 0, time.UTC)

// recordingBus keeps every published event; with fail set it refuses.
type recordingBus struct {
	mu     sync.Mutex
	events []layers.Event
	fail   error
}

func (b *recordingBus) Publish(_ context.Context, events []layers.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		return b.fail
	}
	b.events = append(b.events, events...)
	return nil
}

func (b *recordingBus) take() []layers.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.events
	b.events = nil
	return out
}

// rejectModule refuses every event of one layer, as a module would.
type rejectModule struct{ layer string }

func (m rejectModule) Process(ev layers.Event) ([]layers.Event, error) {
	if ev.Layer == m.layer {
		return nil, &streams.EventError{Reason: "module_refused", Path: "properties", Msg: "refused by the test module"}
	}
	return []layers.Event{ev}, nil
}

type env struct {
	t   *testing.T
	a   *Adapter
	bus *recordingBus
	reg *prometheus.Registry
	srv *httptest.Server
}

func newEnv(t *testing.T, cfg Config, proc streams.Processor) *env {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return testNow }
	}
	e := &env{t: t, bus: &recordingBus{}, reg: prometheus.NewRegistry()}
	e.a = New(cfg, streams.NewIntake(proc, e.bus), e.reg, nil)
	r := chi.NewRouter()
	e.a.Routes(r)
	e.srv = httptest.NewServer(r)
	t.Cleanup(e.srv.Close)
	return e
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request; ct may be empty (no Content-Type).
func (e *env) do(method, path, ct string, body []byte, headers ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := stdjson.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("status %d body %q: %v", r.status, r.body, err)
	}
	return m
}

// counter reads a counter of the env's registry.
func (e *env) counter(name string, labels map[string]string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if matches(m, labels) {
				if m.Counter != nil {
					return m.Counter.GetValue()
				}
				return m.Gauge.GetValue()
			}
		}
	}
	return 0
}

func matches(m *dto.Metric, labels map[string]string) bool {
	n := 0
	for _, lp := range m.GetLabel() {
		if v, ok := labels[lp.GetName()]; ok {
			if v != lp.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(labels)
}

// checkEvent asserts what the layers rely on for every accepted event.
func checkEvent(t *testing.T, ev layers.Event) {
	t.Helper()
	if ev.Layer == "" || ev.ID == "" || ev.Time.IsZero() {
		t.Fatalf("event without layer, id or time: %+v", ev)
	}
	if ev.Op == layers.OpDelete {
		return
	}
	if ev.Geometry == nil {
		t.Fatalf("upsert %s without geometry", ev.ID)
	}
	flat, stride := ev.Geometry.FlatCoords(), ev.Geometry.Stride()
	if len(flat) == 0 {
		t.Fatalf("empty geometry for %s", ev.ID)
	}
	for i := 0; i+1 < len(flat); i += stride {
		if ge := geo.CheckPosition(flat[i : i+2]); ge != nil {
			t.Fatalf("%s: position %v: %v", ev.ID, flat[i:i+2], ge)
		}
	}
	if ev.Properties != nil {
		if !stdjson.Valid(ev.Properties) || ev.Properties[0] != '{' {
			t.Fatalf("properties %q are not a JSON object", ev.Properties)
		}
		var buf bytes.Buffer
		if err := stdjson.Compact(&buf, ev.Properties); err != nil || !bytes.Equal(buf.Bytes(), ev.Properties) {
			t.Fatalf("properties %q are not compact", ev.Properties)
		}
	}
}

// props decodes an event's properties.
func props(t *testing.T, ev layers.Event) map[string]any {
	t.Helper()
	var m map[string]any
	if err := stdjson.Unmarshal(ev.Properties, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

var errBus = errors.New("bus down")

func testNowFn() time.Time { return testNow }

func pointAt(x, y float64) *geom.Point { return geom.NewPointFlat(geom.XY, []float64{x, y}) }
