package replay

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/layers/access"
)

// HTTP limits.
const (
	DefaultHistoryLimit = 1000
	MaxHistoryLimit     = 100000
	MaxSeriesBuckets    = 10000
	DefaultSeriesWindow = 24 * time.Hour
)

// Routes mounts the history queries on r (iocd mounts them under /api/v1):
//
//	GET /history/{layer}/{id}?from=&to=&limit=
//	GET /history/{layer}/{id}/series?property=&from=&to=&step=
//	GET /state?at=&layers=&bbox=
func Routes(r chi.Router, s Store) {
	a := &api{store: s, now: time.Now}
	r.Get("/history/{layer}/{id}", a.history)
	r.Get("/history/{layer}/{id}/series", a.series)
	r.Get("/state", a.state)
}

type api struct {
	store Store
	now   func() time.Time
}

func (a *api) history(w http.ResponseWriter, r *http.Request) {
	sc, ok := scopeOf(w, r)
	if !ok || !layerInScope(w, sc, chi.URLParam(r, "layer")) {
		return
	}
	q := r.URL.Query()
	from, err1 := parseTime(q, "from", time.Time{})
	to, err2 := parseTime(q, "to", time.Time{})
	limit, err3 := parseLimit(q.Get("limit"))
	if err := firstErr(err1, err2, err3); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	recs, err := a.store.History(r.Context(), chi.URLParam(r, "layer"), chi.URLParam(r, "id"), from, to, limit)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "history_unavailable", err.Error())
		return
	}
	if !sc.IsUnlimited() {
		if recs = filterHistory(recs, sc); len(recs) == 0 {
			notInScope(w, chi.URLParam(r, "layer"), chi.URLParam(r, "id"))
			return
		}
	}
	writeJSON(w, recs)
}

func (a *api) series(w http.ResponseWriter, r *http.Request) {
	sc, ok := scopeOf(w, r)
	if !ok || !layerInScope(w, sc, chi.URLParam(r, "layer")) {
		return
	}
	q := r.URL.Query()
	to, err1 := parseTime(q, "to", a.now())
	from, err2 := parseTime(q, "from", to.Add(-DefaultSeriesWindow))
	step, err3 := time.ParseDuration(q.Get("step"))
	if err := firstErr(err1, err2); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	switch {
	case q.Get("property") == "":
		writeError(w, http.StatusBadRequest, "bad_request", "property: required, the name of a numeric property")
		return
	case err3 != nil || step <= 0:
		writeError(w, http.StatusBadRequest, "bad_request", "step: want a positive duration such as 5m")
		return
	case !from.Before(to):
		writeError(w, http.StatusBadRequest, "bad_request", "from must be before to")
		return
	case to.Sub(from)/step > MaxSeriesBuckets:
		writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("step: more than %d buckets from from to to", MaxSeriesBuckets))
		return
	}
	if !a.seriesInScope(w, r, sc, from, to) {
		return
	}
	b, err := a.store.Series(r.Context(), chi.URLParam(r, "layer"), chi.URLParam(r, "id"), q.Get("property"), from, to, step)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "history_unavailable", err.Error())
		return
	}
	writeJSON(w, b)
}

// seriesInScope answers 404 unless the scope sees every state of the
// entity in [from, to): a bucket aggregates them all, so one state outside
// the scope would leak into it. Fixed sensors are either in or out.
func (a *api) seriesInScope(w http.ResponseWriter, r *http.Request, sc *access.Scope, from, to time.Time) bool {
	if !sc.AreaLimited() {
		return true
	}
	layer, id := chi.URLParam(r, "layer"), chi.URLParam(r, "id")
	recs, err := a.store.History(r.Context(), layer, id, from, to, MaxHistoryLimit)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "history_unavailable", err.Error())
		return false
	}
	n := len(recs)
	if n == 0 || n == MaxHistoryLimit || len(filterHistory(recs, sc)) != n {
		notInScope(w, layer, id)
		return false
	}
	return true
}

func (a *api) state(w http.ResponseWriter, r *http.Request) {
	sc, ok := scopeOf(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	if q.Get("at") == "" {
		writeError(w, http.StatusBadRequest, "bad_request", "at: required, an RFC 3339 time")
		return
	}
	at, err := parseTime(q, "at", time.Time{})
	box := geo.World
	if err == nil && q.Get("bbox") != "" {
		box, err = geo.ParseRect(q.Get("bbox"))
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	var names []string
	if v := q.Get("layers"); v != "" {
		names = strings.Split(v, ",")
	}
	if names, ok = stateLayers(w, sc, names); !ok {
		return
	}
	if box, ok = sc.Clip(box); !ok {
		box = geo.Rect{} // disjoint from the scope: nothing it may see
	}
	recs, err := a.store.StateAt(r.Context(), at, names, box)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "history_unavailable", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/geo+json")
	_, _ = w.Write(AppendFeatureCollection(nil, at, filterState(recs, sc)))
}

// AppendFeatureCollection encodes records as the live API encodes features
// (id, layer, time, stale only when true, geometry, properties), in a
// FeatureCollection carrying the historical time "at".
func AppendFeatureCollection(b []byte, at time.Time, recs []Record) []byte {
	b = append(b, `{"type":"FeatureCollection","at":"`...)
	b = at.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","features":[`...)
	for i := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendFeature(b, &recs[i])
	}
	return append(b, "]}"...)
}

// AppendFeature encodes one record as a live-API Feature.
func AppendFeature(b []byte, r *Record) []byte {
	b = append(b, `{"type":"Feature","id":`...)
	b = layers.AppendJSONString(b, r.ID)
	b = append(b, `,"layer":`...)
	b = layers.AppendJSONString(b, r.Layer)
	b = append(b, `,"time":"`...)
	b = r.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if r.Stale {
		b = append(b, `,"stale":true`...)
	}
	b = append(b, `,"geometry":`...)
	b = append(b, r.Geometry...)
	b = append(b, `,"properties":`...)
	if len(r.Properties) == 0 {
		b = append(b, "{}"...)
	} else {
		b = append(b, r.Properties...)
	}
	return append(b, '}')
}

func parseTime(q map[string][]string, name string, def time.Time) (time.Time, error) {
	v := ""
	if vs := q[name]; len(vs) > 0 {
		v = vs[0]
	}
	if v == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: want an RFC 3339 time such as 2026-11-27T01:30:00Z, got %q", name, v)
	}
	return t, nil
}

func parseLimit(v string) (int, error) {
	if v == "" {
		return DefaultHistoryLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxHistoryLimit {
		return 0, fmt.Errorf("limit: want an integer in [1, %d], got %q", MaxHistoryLimit, v)
	}
	return n, nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
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
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
