package ngsi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	json "github.com/goccy/go-json"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/danang-ioc/ioc/streams"
)

// Adapter serves the NGSI-LD and NGSI v2 endpoints. It is safe for
// concurrent use.
type Adapter struct {
	cfg    Config
	routes map[string]Route
	names  map[string]string // type → itself, for parsing without allocating
	intake *streams.Intake
	log    *slog.Logger
	mem    *memory
	m      *metrics
}

// New builds the adapter. Accepted entities go through intake (modules,
// then the bus). Metrics are registered with reg when it is not nil; log
// may be nil.
func New(cfg Config, intake *streams.Intake, reg prometheus.Registerer, log *slog.Logger) *Adapter {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &Adapter{cfg: cfg, routes: cfg.routes(), intake: intake, log: log, m: newMetrics(reg)}
	a.names = make(map[string]string, len(a.routes))
	for t := range a.routes {
		a.names[t] = t
	}
	a.mem = newMemory(cfg.MaxEntities, a.m.evictions.Inc, func(n int) { a.m.remembered.Set(float64(n)) })
	return a
}

// The paths the adapter serves.
const (
	LDEntitiesPath = "/ngsi-ld/v1/entities"
	LDUpsertPath   = "/ngsi-ld/v1/entityOperations/upsert"
	V2EntitiesPath = "/v2/entities"
	V2UpdatePath   = "/v2/op/update"
	V2NotifyPath   = "/v2/notify"
)

// Routes mounts the endpoints on r:
//
//	POST   /ngsi-ld/v1/entities                 create (an upsert in the IOC)
//	POST   /ngsi-ld/v1/entityOperations/upsert  batch upsert
//	PATCH  /ngsi-ld/v1/entities/{id}/attrs      partial update
//	POST   /ngsi-ld/v1/entities/{id}/attrs      append attributes (same merge)
//	DELETE /ngsi-ld/v1/entities/{id}            delete
//	POST   /v2/entities                         create (an upsert in the IOC)
//	POST   /v2/op/update                        batch update
//	POST   /v2/notify                           Orion subscription notifications
func (a *Adapter) Routes(r chi.Router) {
	r.Post(LDEntitiesPath, a.handle("ld_create", a.ldCreate))
	r.Post(LDUpsertPath, a.handle("ld_upsert", a.ldUpsert))
	r.Patch(LDEntitiesPath+"/{id}/attrs", a.handle("ld_update", a.ldPatch))
	r.Post(LDEntitiesPath+"/{id}/attrs", a.handle("ld_update", a.ldPatch))
	r.Delete(LDEntitiesPath+"/{id}", a.handle("ld_delete", a.ldDelete))
	r.Post(V2EntitiesPath, a.handle("v2_create", a.v2Create))
	r.Post(V2UpdatePath, a.handle("v2_update", a.v2Update))
	r.Post(V2NotifyPath, a.handle("v2_notify", a.v2Notify))
}

func (a *Adapter) newDecoder(v2 bool, opt parseOptions) *decoder {
	return &decoder{cfg: &a.cfg, routes: a.routes, names: a.names, mem: a.mem, now: a.cfg.Now(), v2: v2, opt: opt}
}

// reqError refuses a request as a whole.
type reqError struct {
	status int
	title  string
	msg    string
}

func (e *reqError) Error() string { return e.msg }

func badRequest(format string, args ...any) *reqError {
	return &reqError{http.StatusBadRequest, "Invalid request", fmt.Sprintf(format, args...)}
}

// Media types accepted per endpoint.
var (
	ldMedia    = []string{"application/json", "application/ld+json", "application/geo+json"}
	patchMedia = []string{"application/json", "application/ld+json", "application/merge-patch+json"}
	v2Media    = []string{"application/json"}
)

// read checks the headers, reads the body within MaxBody and validates it
// as JSON. The body returned starts at its first value.
func (a *Adapter) read(w http.ResponseWriter, r *http.Request, types []string) ([]byte, *reqError) {
	if err := checkContentType(r.Header.Get("Content-Type"), types); err != nil {
		return nil, err
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return nil, &reqError{http.StatusUnsupportedMediaType, "Unsupported media type",
			fmt.Sprintf("Content-Encoding %s is not supported: send the body uncompressed", streams.Quote(ce))}
	}
	tooLarge := &reqError{http.StatusRequestEntityTooLarge, "Request entity too large",
		fmt.Sprintf("the body is larger than %d bytes: split it into smaller batches", a.cfg.MaxBody)}
	if r.ContentLength > a.cfg.MaxBody {
		return nil, tooLarge
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, a.cfg.MaxBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, tooLarge
	case err != nil && !errors.Is(err, io.EOF):
		return nil, badRequest("reading the body failed: %v", err)
	}
	body := buf.Bytes()
	if serr := validate(body); serr != nil {
		return nil, badRequest("the body is not valid JSON, so nothing was taken: %s", serr.Error())
	}
	return body[skipWS(body, skipBOM(body)):], nil
}

func skipBOM(b []byte) int {
	if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		return 3
	}
	return 0
}

func checkContentType(ct string, types []string) *reqError {
	want := strings.Join(types, ", ")
	if ct == "" {
		return &reqError{http.StatusUnsupportedMediaType, "Unsupported media type", "the Content-Type header is missing: send " + want}
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return &reqError{http.StatusUnsupportedMediaType, "Unsupported media type", fmt.Sprintf("Content-Type %s cannot be parsed: send %s", streams.Quote(ct), want)}
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return &reqError{http.StatusUnsupportedMediaType, "Unsupported media type", fmt.Sprintf("charset %s is not supported: send UTF-8", streams.Quote(cs))}
	}
	if !slices.Contains(types, mt) {
		return &reqError{http.StatusUnsupportedMediaType, "Unsupported media type", fmt.Sprintf("Content-Type %s is not supported here: send %s", streams.Quote(mt), want)}
	}
	return nil
}

// options reads the comma-separated "options" query parameter.
func options(r *http.Request) map[string]bool {
	out := map[string]bool{}
	for _, v := range r.URL.Query()["options"] {
		for _, o := range strings.Split(v, ",") {
			out[strings.TrimSpace(o)] = true
		}
	}
	if f := r.URL.Query().Get("format"); f == "simplified" || f == "keyValues" || out["simplified"] {
		out["keyValues"] = true
	}
	return out
}

// entityID reads the {id} path parameter.
func entityID(r *http.Request) string {
	id := chi.URLParam(r, "id")
	if u, err := url.PathUnescape(id); err == nil {
		id = u
	}
	return strings.TrimSpace(id)
}

// each calls fn for every element of the JSON array body, refusing
// bodies that are not arrays, empty ones and those over MaxBatch. fn gets
// the rest of the array from the element on, and returns the offset after
// the element.
func (a *Adapter) each(body []byte, what string, fn func(b []byte) int) *reqError {
	if body[0] != '[' {
		return badRequest("%s must be a JSON array of entities, found %s", what, kindOf(body))
	}
	n := 0
	for i := skipWS(body, 1); i < len(body) && body[i] != ']'; {
		if n++; n > a.cfg.MaxBatch {
			return &reqError{http.StatusRequestEntityTooLarge, "Too many entities",
				fmt.Sprintf("%s holds more than %d entities: split it into smaller batches", what, a.cfg.MaxBatch)}
		}
		adv := fn(body[i:])
		if adv <= 0 { // cannot happen for validated JSON; never loop forever
			return badRequest("%s: cannot read the element at byte offset %d", what, i)
		}
		i = skipWS(body, i+adv)
		if i < len(body) && body[i] == ',' {
			i = skipWS(body, i+1)
		}
	}
	if n == 0 {
		return badRequest("%s holds no entities", what)
	}
	return nil
}

// submit hands the events of the results to the intake in one call, so
// that modules and the bus apply them; refusals by the modules are added
// to the results. Accepted entities are remembered (or, when deleted,
// forgotten). An error means the bus refused and nothing was applied.
func (a *Adapter) submit(ctx context.Context, api string, results []result) error {
	b := &streams.Batch{}
	for i := range results {
		for _, ev := range results[i].events {
			b.Events = append(b.Events, ev)
			b.Indexes = append(b.Indexes, i)
		}
	}
	if len(b.Events) > 0 {
		if err := a.intake.Submit(ctx, b); err != nil {
			a.count(api, results, true)
			return err
		}
		for _, rej := range b.Rejected {
			if r := &results[rej.Index]; r.err == nil {
				r.err = &streams.EventError{Reason: rej.Reason, Msg: rej.Error}
			}
		}
	}
	var keep []*state
	var gone []string
	for i := range results {
		switch r := &results[i]; {
		case r.err != nil:
		case r.forget:
			gone = append(gone, r.id)
		case r.state != nil:
			keep = append(keep, r.state)
		}
	}
	if len(keep) > 0 {
		a.mem.put(keep...)
	}
	if len(gone) > 0 {
		a.mem.forget(gone...)
	}
	a.count(api, results, false)
	return nil
}

func (a *Adapter) count(api string, results []result, busFailed bool) {
	var accepted, rejected, failed int
	for i := range results {
		switch r := &results[i]; {
		case r.err != nil:
			rejected++
			a.m.rejected.WithLabelValues(string(r.err.Reason)).Inc()
		case busFailed:
			failed++
		default:
			accepted++
		}
	}
	a.m.entities.WithLabelValues(api, "accepted").Add(float64(accepted))
	a.m.entities.WithLabelValues(api, "rejected").Add(float64(rejected))
	a.m.entities.WithLabelValues(api, "failed").Add(float64(failed))
	if rejected > 0 {
		a.log.Debug("ngsi: entities rejected", "api", api, "accepted", accepted, "rejected", rejected, "first", firstError(results))
	}
}

func firstError(results []result) string {
	for i := range results {
		if results[i].err != nil {
			return results[i].err.Error()
		}
	}
	return ""
}

// busFailure is the answer when the bus refused the events.
func (a *Adapter) busFailure(r *http.Request, err error) *reqError {
	level := slog.LevelWarn
	if r.Context().Err() != nil {
		level = slog.LevelDebug // the sender hung up; it will resend
	}
	a.log.Log(r.Context(), level, "ngsi: publish failed, nothing applied", "path", r.URL.Path, "err", err)
	return &reqError{http.StatusServiceUnavailable, "Service unavailable",
		"the entities could not be delivered to the layers and none was applied: retry later"}
}

// statusOf is the HTTP status that refuses an entity for reason.
func statusOf(reason streams.Reason) int {
	switch reason {
	case ReasonUnsupportedType:
		return http.StatusUnprocessableEntity
	case ReasonUnknownEntity:
		return http.StatusNotFound
	}
	return http.StatusBadRequest
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil { // cannot happen for the types of this package
		b, status = []byte(`{"error":"InternalError","description":"response encoding failed"}`), http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
