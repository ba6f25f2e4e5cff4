package streams

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	json "github.com/goccy/go-json"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/danang-ioc/ioc/layers"
)

// recordingBus keeps every published batch; with fail set it refuses.
type recordingBus struct {
	mu      sync.Mutex
	batches [][]layers.Event
	fail    error
}

func (b *recordingBus) Publish(ctx context.Context, events []layers.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		return b.fail
	}
	b.batches = append(b.batches, events)
	return nil
}

func (b *recordingBus) events() []layers.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []layers.Event
	for _, batch := range b.batches {
		out = append(out, batch...)
	}
	return out
}

type ingestEnv struct {
	ingest *Ingest
	bus    *recordingBus
	reg    *prometheus.Registry
}

func newEnv(cfg IngestConfig) *ingestEnv {
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return testNow }
	}
	env := &ingestEnv{bus: &recordingBus{}, reg: prometheus.NewRegistry()}
	env.ingest = NewIngest(cfg, env.bus, env.reg, nil)
	return env
}

func (env *ingestEnv) post(ct, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, EventsPath, strings.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	return env.do(req)
}

func (env *ingestEnv) do(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	env.ingest.ServeHTTP(rec, req)
	return rec
}

// counter reads one sample of a counter vector from the registry.
func (env *ingestEnv) counter(t *testing.T, name, label, value string) float64 {
	t.Helper()
	mfs, err := env.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return sample(mf.GetMetric(), label, value)
		}
	}
	return 0
}

func sample(ms []*dto.Metric, label, value string) float64 {
	for _, m := range ms {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == label && lp.GetValue() == value {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func decodeResponse(t *testing.T, rec *httptest.ResponseRecorder) Response {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var r Response
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("response %q: %v", rec.Body, err)
	}
	return r
}

func decodeError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) ErrorDetail {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body)
	}
	var eb ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil {
		t.Fatalf("error body %q: %v", rec.Body, err)
	}
	if eb.Error.Code != code || eb.Error.Message == "" {
		t.Fatalf("error %+v, want code %s and a message", eb.Error, code)
	}
	return eb.Error
}

func TestIngestSingleEvent(t *testing.T) {
	env := newEnv(IngestConfig{})
	rec := env.post("application/json", ev(""))
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	want := `{"accepted":1,"rejected":[],"rejected_total":0,"rejected_truncated":false}` + "\n"
	if rec.Body.String() != want {
		t.Fatalf("body %s, want %s", rec.Body, want)
	}
	got := env.bus.events()
	if len(got) != 1 || got[0].ID != "st-01" || got[0].Layer != "environment.air" {
		t.Fatalf("bus got %+v", got)
	}
	if v := env.counter(t, "ioc_ingest_requests_total", "code", "202"); v != 1 {
		t.Errorf("requests_total{code=202} = %v", v)
	}
	if v := env.counter(t, "ioc_ingest_events_total", "result", "accepted"); v != 1 {
		t.Errorf("events_total{result=accepted} = %v", v)
	}
}

func TestIngestMixedArray(t *testing.T) {
	env := newEnv(IngestConfig{})
	body := "[" + ev("") + `,{"layer":"a"},` + ev(`"id":"st-02"`) + `,` + ev(`"op":"nope"`) + "]"
	rec := env.post("application/geo+json; charset=UTF-8", body)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	r := decodeResponse(t, rec)
	if r.Accepted != 2 || len(r.Rejected) != 2 || r.Rejected[0].Index != 1 || r.Rejected[1].Index != 3 ||
		r.Rejected[0].Reason != ReasonMissingID || r.Rejected[1].Reason != ReasonUnknownOp || r.RejectedTotal != 2 {
		t.Fatalf("response %+v", r)
	}
	if !strings.Contains(r.Rejected[1].Error, `"nope"`) {
		t.Errorf("error %q does not name the op", r.Rejected[1].Error)
	}
	if got := env.bus.events(); len(got) != 2 || len(env.bus.batches) != 1 {
		t.Fatalf("bus got %d events in %d batches, want 2 in 1", len(got), len(env.bus.batches))
	}
	if v := env.counter(t, "ioc_ingest_rejected_total", "reason", "unknown_op"); v != 1 {
		t.Errorf("rejected_total{reason=unknown_op} = %v", v)
	}
}

func TestIngestAllBad(t *testing.T) {
	env := newEnv(IngestConfig{})
	rec := env.post("application/json", `[{"layer":"a"},5]`)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	r := decodeResponse(t, rec)
	if r.Accepted != 0 || len(r.Rejected) != 2 {
		t.Fatalf("response %+v", r)
	}
	if len(env.bus.batches) != 0 {
		t.Fatal("publish called with no valid events")
	}
}

func TestIngestNDJSON(t *testing.T) {
	env := newEnv(IngestConfig{})
	body := ev("") + "\n\n" + `{"layer":` + "\n" + ev(`"id":"st-02"`) + "\n"
	rec := env.post("application/x-ndjson", body)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	r := decodeResponse(t, rec)
	if r.Accepted != 2 || len(r.Rejected) != 1 || r.Rejected[0].Index != 1 || r.Rejected[0].Line != 3 ||
		r.Rejected[0].Reason != ReasonInvalidJSON {
		t.Fatalf("response %+v", r)
	}
	if got := env.bus.events(); len(got) != 2 || got[1].ID != "st-02" {
		t.Fatalf("bus got %+v", got)
	}
}

func TestIngestTruncatesRejections(t *testing.T) {
	env := newEnv(IngestConfig{MaxRejected: 2})
	body := "[" + ev("") + strings.Repeat(`,{"layer":"a"}`, 5) + "]"
	r := decodeResponse(t, env.post("application/json", body))
	if r.Accepted != 1 || len(r.Rejected) != 2 || r.RejectedTotal != 5 || !r.RejectedTruncated {
		t.Fatalf("response %+v", r)
	}
	if v := env.counter(t, "ioc_ingest_rejected_total", "reason", "missing_id"); v != 5 {
		t.Errorf("rejected_total{reason=missing_id} = %v, want all 5 counted", v)
	}
}

func TestIngestBodyTooLarge(t *testing.T) {
	env := newEnv(IngestConfig{MaxBody: 100})
	body := "[" + ev("") + "," + ev("") + "]"
	decodeError(t, env.post("application/json", body), http.StatusRequestEntityTooLarge, "body_too_large")
	// Without a Content-Length the limit is found while reading.
	req := httptest.NewRequest(http.MethodPost, EventsPath, io.MultiReader(strings.NewReader(body)))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	decodeError(t, env.do(req), http.StatusRequestEntityTooLarge, "body_too_large")
	if len(env.bus.batches) != 0 {
		t.Fatal("events published from an oversized body")
	}
	if v := env.counter(t, "ioc_ingest_request_errors_total", "code", "body_too_large"); v != 2 {
		t.Errorf("request_errors_total{code=body_too_large} = %v", v)
	}
}

func TestIngestTooManyEvents(t *testing.T) {
	env := newEnv(IngestConfig{MaxBatch: 2})
	body := "[" + ev("") + "," + ev("") + "," + ev("") + "]"
	decodeError(t, env.post("application/json", body), http.StatusRequestEntityTooLarge, "too_many_events")
}

func TestIngestMediaTypes(t *testing.T) {
	env := newEnv(IngestConfig{})
	for _, ct := range []string{"", "text/plain", "application/xml", "application/json; charset=latin1", "garbage;;="} {
		e := decodeError(t, env.post(ct, ev("")), http.StatusUnsupportedMediaType, "unsupported_media_type")
		if ct == "" && !strings.Contains(e.Message, "application/x-ndjson") {
			t.Errorf("message %q does not name the accepted types", e.Message)
		}
	}
	for _, ct := range []string{"application/json", "Application/JSON; charset=utf-8", "application/geo+json", "application/x-ndjson; charset=utf8"} {
		if rec := env.post(ct, ev("")); rec.Code != http.StatusAccepted {
			t.Errorf("%q: status %d: %s", ct, rec.Code, rec.Body)
		}
	}
	req := httptest.NewRequest(http.MethodPost, EventsPath, strings.NewReader(ev("")))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	decodeError(t, env.do(req), http.StatusUnsupportedMediaType, "unsupported_content_encoding")
}

func TestIngestEmptyBodies(t *testing.T) {
	env := newEnv(IngestConfig{})
	decodeError(t, env.post("application/json", ""), http.StatusBadRequest, ErrEmptyBody)
	decodeError(t, env.post("application/json", "[]"), http.StatusBadRequest, ErrEmptyBatch)
	decodeError(t, env.post("application/x-ndjson", "\n\n"), http.StatusBadRequest, ErrEmptyBody)
	e := decodeError(t, env.post("application/json", "["+ev("")+",{"), http.StatusBadRequest, ErrInvalidJSON)
	if !strings.Contains(e.Message, "byte offset") {
		t.Errorf("message %q has no offset", e.Message)
	}
	if len(env.bus.batches) != 0 {
		t.Fatal("events published from a broken body")
	}
}

func TestIngestMethod(t *testing.T) {
	env := newEnv(IngestConfig{})
	rec := env.do(httptest.NewRequest(http.MethodGet, EventsPath, nil))
	decodeError(t, rec, http.StatusMethodNotAllowed, "method_not_allowed")
	if rec.Header().Get("Allow") != http.MethodPost {
		t.Errorf("Allow %q", rec.Header().Get("Allow"))
	}
}

func TestIngestPublishFailureAppliesNothing(t *testing.T) {
	env := newEnv(IngestConfig{})
	env.bus.fail = errors.New("bus down")
	rec := env.post("application/json", "["+ev("")+","+ev(`"id":"st-02"`)+"]")
	e := decodeError(t, rec, http.StatusServiceUnavailable, "publish_failed")
	if strings.Contains(e.Message, "bus down") {
		t.Errorf("internal error leaked: %q", e.Message)
	}
	if rec.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if len(env.bus.batches) != 0 {
		t.Fatal("events applied although publish failed")
	}
	if v := env.counter(t, "ioc_ingest_events_total", "result", "failed"); v != 2 {
		t.Errorf("events_total{result=failed} = %v", v)
	}
}

func TestLocalBus(t *testing.T) {
	var got []layers.Event
	bus := NewLocalBus(func(ev []layers.Event) { got = append(got, ev...) })
	ing := NewIngest(IngestConfig{}, bus, nil, nil) // nil registerer and logger are fine
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, EventsPath, strings.NewReader(ev("")))
	req.Header.Set("Content-Type", "application/json")
	ing.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted || len(got) != 1 {
		t.Fatalf("status %d, applied %d: %s", rec.Code, len(got), rec.Body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := bus.Publish(ctx, got); !errors.Is(err, context.Canceled) || len(got) != 1 {
		t.Fatalf("publish after cancel: %v, applied %d", err, len(got))
	}
}

func TestIngestConcurrent(t *testing.T) {
	env := newEnv(IngestConfig{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			body := bytes.Repeat([]byte(ev(`"id":"c`+string(rune('0'+i))+`"`)+"\n"), 50)
			if rec := env.post("application/x-ndjson", string(body)); rec.Code != http.StatusAccepted {
				t.Errorf("status %d", rec.Code)
			}
		})
	}
	wg.Wait()
	if n := len(env.bus.events()); n != 400 {
		t.Fatalf("bus got %d events, want 400", n)
	}
}
