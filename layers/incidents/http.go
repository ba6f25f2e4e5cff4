package incidents

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/layers/access"
)

// TeamsLayer is the layer of response teams (owned by streams/response).
const TeamsLayer = "response.teams"

// HTTP limits.
const (
	DefaultListLimit = 1000
	MaxListLimit     = 100000
	DefaultTeams     = 5
	MaxTeams         = 100
)

// UserHeader names who acts until authentication exists (issue 7): the
// header, else the body's "by", else "anonymous".
const UserHeader = "X-IOC-User"

// Routes mounts the incident API on r (iocd mounts it under /api/v1):
//
//	GET  /incidents?status=&severity=&category=&bbox=&limit=
//	GET  /incidents/{id}
//	POST /incidents/{id}/actions
//	GET  /incidents/{id}/teams?k=
func Routes(r chi.Router, e *Engine) {
	r.Get("/incidents", e.list)
	r.Get("/incidents/{id}", e.get)
	r.Post("/incidents/{id}/actions", e.postAction)
	r.Get("/incidents/{id}/teams", e.teams)
}

// listFilter is the parsed query of GET /incidents.
type listFilter struct {
	status, severity, category []string
	bbox                       geo.Rect
	limit                      int
}

func parseFilter(r *http.Request) (listFilter, error) {
	q := r.URL.Query()
	f := listFilter{bbox: geo.World, limit: DefaultListLimit,
		status: splitParam(q.Get("status")), severity: splitParam(q.Get("severity")), category: splitParam(q.Get("category"))}
	for _, s := range f.status {
		if !slices.Contains([]string{StatusOpen, StatusAcknowledged, StatusAssigned, StatusResolved, StatusClosed}, s) {
			return f, fmt.Errorf("status: want open, acknowledged, assigned, resolved or closed, got %q", s)
		}
	}
	for _, s := range f.severity {
		if !Severity(s).valid() {
			return f, fmt.Errorf("severity: want info, minor, major or critical, got %q", s)
		}
	}
	if v := q.Get("bbox"); v != "" {
		b, err := geo.ParseRect(v)
		if err != nil {
			return f, fmt.Errorf("bbox: %w", err)
		}
		f.bbox = b
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxListLimit {
			return f, fmt.Errorf("limit: want an integer in [1, %d], got %q", MaxListLimit, v)
		}
		f.limit = n
	}
	return f, nil
}

func splitParam(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// summary is what the list filters and sorts on.
type summary struct {
	Category string   `json:"category"`
	Severity Severity `json:"severity"`
	Status   string   `json:"status"`
	f        *layers.Feature
}

func (f *listFilter) keep(s *summary) bool {
	return (len(f.status) == 0 || slices.Contains(f.status, s.Status)) &&
		(len(f.severity) == 0 || slices.Contains(f.severity, string(s.Severity))) &&
		(len(f.category) == 0 || slices.Contains(f.category, s.Category))
}

// list serves the incidents from the layer (the stored truth), gravest
// first, then newest.
func (e *Engine) list(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	var feats []*layers.Feature
	if l := e.store.Layer(Layer); l != nil {
		feats = l.InRect(nil, f.bbox, 0)
	}
	var kept []summary
	for _, ft := range feats {
		s := summary{f: ft}
		if seesIncident(r, ft) && json.Unmarshal(ft.Properties, &s) == nil && f.keep(&s) {
			kept = append(kept, s)
		}
	}
	slices.SortFunc(kept, func(a, b summary) int {
		if c := cmp.Compare(severityRank[b.Severity], severityRank[a.Severity]); c != 0 {
			return c
		}
		return cmp.Compare(idNumber(b.f.ID), idNumber(a.f.ID))
	})
	truncated := len(kept) > f.limit
	if truncated {
		kept = kept[:f.limit]
	}
	b := fmt.Appendf(nil, `{"type":"FeatureCollection","numberReturned":%d`, len(kept))
	if truncated {
		b = append(b, `,"truncated":true`...)
	}
	b = append(b, `,"features":[`...)
	for i, s := range kept {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, s.f.JSON()...)
	}
	b = append(b, "]}\n"...)
	w.Header().Set("Content-Type", "application/geo+json")
	_, _ = w.Write(b)
}

func (e *Engine) get(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	b := e.Get(id)
	if b == nil || !seesIncident(r, e.featureOf(id)) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no incident %q", id))
		return
	}
	w.Header().Set("Content-Type", "application/geo+json")
	_, _ = w.Write(append(b, '\n'))
}

func (e *Engine) postAction(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if f := e.featureOf(id); f != nil && !seesIncident(r, f) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no incident %q", id))
		return
	}
	a, err := DecodeAction(r.Body)
	var fe *FieldError
	if errors.As(err, &fe) {
		writeError(w, http.StatusBadRequest, "bad_request", fe.Error())
		return
	}
	inc, err := e.Act(id, a, actor(r, a))
	var ce *ConflictError
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no incident %q", id))
		return
	case errors.As(err, &ce):
		writeError(w, http.StatusConflict, "illegal_action", ce.Error())
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/geo+json")
	_, _ = w.Write(append(e.Get(inc.ID), '\n'))
}

// seesIncident reports whether the request's principal may see the
// incident: one outside a district user's scope answers 404 everywhere, as
// if it did not exist (docs/SECURITY.md). Without a principal (the
// package's own tests; iocd always sets one) nothing is filtered.
func seesIncident(r *http.Request, f *layers.Feature) bool {
	p, ok := access.FromContext(r.Context())
	return !ok || p.Scope().SeesFeature(f)
}

// actor is who acts: the authenticated principal (user:alice,
// token:<id>); only in the open demo mode, where everyone is the same demo
// principal, the X-IOC-User header, else the body's by, else anonymous.
func actor(r *http.Request, a Action) string {
	if p, ok := access.FromContext(r.Context()); ok && p.Kind != access.KindDemo {
		return p.Actor()
	}
	if u := strings.TrimSpace(r.Header.Get(UserHeader)); u != "" && checkName("by", u, false) == nil {
		return u
	}
	if a.By != "" {
		return a.By
	}
	return "anonymous"
}

// TeamHit is one team near an incident.
type TeamHit struct {
	ID       string          `json:"id"`
	Distance float64         `json:"distance"`
	Feature  json.RawMessage `json:"feature"`
}

// teams serves the k nearest available teams: status available and on no
// open task of any incident.
func (e *Engine) teams(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	k := DefaultTeams
	if v := r.URL.Query().Get("k"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxTeams {
			writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("k: want an integer in [1, %d], got %q", MaxTeams, v))
			return
		}
		k = n
	}
	hits, err := e.NearestTeams(id, k)
	if errors.Is(err, ErrNotFound) || !seesIncident(r, e.featureOf(id)) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no incident %q", id))
		return
	}
	writeJSON(w, map[string]any{"incident": id, "teams": hits})
}

// NearestTeams returns the k teams of response.teams nearest to the
// incident that are available and not on an open task. It asks the layer
// for more teams while busy ones fill the answer, up to the whole layer.
func (e *Engine) NearestTeams(id string, k int) ([]TeamHit, error) {
	f := e.featureOf(id)
	if f == nil {
		return nil, ErrNotFound
	}
	busy := e.busyTeams()
	out := []TeamHit{}
	l := e.store.Layer(TeamsLayer)
	if l == nil {
		return out, nil
	}
	lon, lat := center(f)
	for want := k + len(busy); ; want *= 2 {
		hits := l.Nearest(lon, lat, want, 0)
		out = out[:0]
		for _, h := range hits {
			if len(out) < k && !busy[h.Feature.ID] && available(h.Feature) {
				out = append(out, TeamHit{ID: h.Feature.ID, Distance: h.Distance, Feature: h.Feature.JSON()})
			}
		}
		if len(out) == k || len(hits) < want {
			return out, nil
		}
	}
}

func (e *Engine) featureOf(id string) *layers.Feature {
	if l := e.store.Layer(Layer); l != nil {
		return l.Get(id)
	}
	return nil
}

func available(f *layers.Feature) bool {
	var p struct {
		Status string `json:"status"`
	}
	return !f.Stale && json.Unmarshal(f.Properties, &p) == nil && p.Status == "available"
}

// busyTeams are the teams with a task not done on an open incident.
func (e *Engine) busyTeams() map[string]bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	busy := map[string]bool{}
	for _, inc := range e.open {
		for _, t := range inc.Tasks {
			if t.Status != "done" {
				busy[t.Team] = true
			}
		}
	}
	return busy
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeError writes the API's error body {"error":{"code","message"}}.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
