package open311

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// t0 is 08:30 in Da Nang on 27 November 2026.
var t0 = time.Date(2026, 11, 27, 1, 30, 0, 0, time.UTC)

const formType = "application/x-www-form-urlencoded"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// env is an API over a real store, fed through an intake and a local bus,
// as cmd/iocd wires it.
type env struct {
	t      testing.TB
	clock  *clock
	store  *layers.Store
	api    *API
	router chi.Router
	reg    *prometheus.Registry

	mu        sync.Mutex
	published []layers.Event
	seq       int
}

// newEnv builds an env; mod may change the configuration.
func newEnv(t testing.TB, mod func(*Config)) *env {
	e := &env{t: t, clock: &clock{t: t0}, reg: prometheus.NewRegistry()}
	e.store = layers.NewStore(layers.Config{Now: e.clock.Now}, nil)
	bus := streams.NewLocalBus(func(evs []layers.Event) {
		e.mu.Lock()
		e.published = append(e.published, evs...)
		e.mu.Unlock()
		e.store.Apply(evs)
	})
	cfg := Config{Now: e.clock.Now, NewID: e.nextID}
	if mod != nil {
		mod(&cfg)
	}
	e.api = New(cfg, streams.NewIntake(nil, bus), e.store, e.reg, nil)
	r := chi.NewRouter()
	e.api.Routes(r)
	e.router = r
	return e
}

// nextID numbers reports per test: DN-20261127-0001, ...
func (e *env) nextID(now time.Time) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seq++
	return fmt.Sprintf("DN-%s-%04d", now.Format("20060102"), e.seq)
}

func (e *env) events() []layers.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]layers.Event(nil), e.published...)
}

func (e *env) do(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.router.ServeHTTP(rec, req)
	return rec
}

func newPost(path, contentType, body string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

func (e *env) post(contentType, body string) *httptest.ResponseRecorder {
	return e.do(newPost(BasePath+"/requests.json", contentType, body))
}

// postID posts a form that must succeed and returns the new id.
func (e *env) postID(form string) string {
	e.t.Helper()
	rec := e.post(formType, form)
	if rec.Code != http.StatusOK {
		e.t.Fatalf("POST %s: %d %s", form, rec.Code, rec.Body)
	}
	var resp []postResponse
	mustJSON(e.t, rec.Body.Bytes(), &resp)
	if len(resp) != 1 {
		e.t.Fatalf("POST answer %s: want one element", rec.Body)
	}
	return resp[0].ServiceRequestID
}

func (e *env) get(path string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.do(req)
}

// apply puts a report made by another channel straight into the store.
func (e *env) apply(id string, at time.Time, lon, lat float64, props string) {
	e.store.Apply([]layers.Event{{Layer: DefaultLayer, ID: id, Time: at,
		Geometry: geom.NewPointFlat(geom.XY, []float64{lon, lat}), Properties: json.RawMessage(props)}})
}

// counter reads ioc_open311_requests_total{endpoint,code}.
func (e *env) counter(endpoint, code string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "ioc_open311_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label(m, "endpoint") == endpoint && label(m, "code") == code {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func mustJSON(t testing.TB, b []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
}

// specErrors checks that rec is an Open311 error answer with status and
// returns its descriptions.
func specErrors(t testing.TB, rec *httptest.ResponseRecorder, status int) []string {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var errs []SpecError
	mustJSON(t, rec.Body.Bytes(), &errs)
	if len(errs) == 0 {
		t.Fatalf("empty error array: %s", rec.Body)
	}
	var out []string
	for _, e := range errs {
		if e.Code != http.StatusBadRequest && e.Code != http.StatusNotFound && e.Code != status {
			t.Errorf("error code %d in a %d answer: %s", e.Code, status, rec.Body)
		}
		out = append(out, e.Description)
	}
	return out
}

// requests decodes a GET answer.
func requests(t testing.TB, rec *httptest.ResponseRecorder) []requestJSON {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var out []requestJSON
	mustJSON(t, rec.Body.Bytes(), &out)
	return out
}

func requestIDs(rs []requestJSON) string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ServiceRequestID
	}
	return strings.Join(ids, ",")
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, got, "", "  "); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(buf.Bytes())) {
		t.Errorf("%s differs from the answer:\n%s", path, buf.Bytes())
	}
}

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// procFunc is a streams.Processor from a function.
type procFunc func(layers.Event) ([]layers.Event, error)

func (f procFunc) Process(ev layers.Event) ([]layers.Event, error) { return f(ev) }

// failingBus refuses every publish.
type failingBus struct{}

func (failingBus) Publish(context.Context, []layers.Event) error { return errors.New("bus down") }
