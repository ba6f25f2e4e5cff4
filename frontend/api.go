package frontend

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/layers/access"
)

// Query limits of the HTTP API.
const (
	defaultFeatureLimit = 10000
	maxFeatureLimit     = 100000
	maxNearestK         = 1000
	maxQueryBody        = 4 << 20
)

// Routes mounts the query API and the WebSocket endpoint under /api/v1.
func (s *Server) Routes(r chi.Router) {
	r.Get("/layers", s.listLayers)
	r.Get("/layers/{layer}/features", s.features)
	r.Post("/layers/{layer}/within", s.within)
	r.Get("/layers/{layer}/features/{id}", s.feature)
	r.Get("/nearest", s.nearest)
	r.Get("/districts", s.districts)
	r.Get("/ws", s.ServeWS)
}

type layerJSON struct {
	Name       string     `json:"name"`
	Features   int        `json:"features"`
	Stale      int        `json:"stale"`
	Updated    *time.Time `json:"updated"`
	TTLSeconds float64    `json:"ttl_seconds,omitempty"`
	// ClusterZoom: below this zoom a subscription with "zoom" gets the
	// layer as clusters; omitted when the layer never clusters.
	ClusterZoom int           `json:"cluster_zoom,omitempty"`
	Severity    *severityJSON `json:"severity,omitempty"`
}

// severityJSON tells a map how the layer ranks, for its legends: the
// property read and the level labels, best first.
type severityJSON struct {
	Property string   `json:"property"`
	Levels   []string `json:"levels"`
}

func (s *Server) listLayers(w http.ResponseWriter, r *http.Request) {
	sc, ok := scopeOf(w, r)
	if !ok {
		return
	}
	out := struct {
		Epoch  string      `json:"epoch"`
		Seq    uint64      `json:"seq"`
		Layers []layerJSON `json:"layers"`
	}{Epoch: s.store.Epoch(), Seq: s.store.Log().Last(), Layers: []layerJSON{}}
	for _, l := range s.store.Layers() {
		if !sc.SeesLayer(l.Name()) {
			continue
		}
		info := l.Info()
		if sc.AreaLimited() {
			info.Features, info.Stale = countInScope(l, sc)
		}
		lj := layerJSON{Name: info.Name, Features: info.Features, Stale: info.Stale, TTLSeconds: info.TTL.Seconds()}
		if !info.Updated.IsZero() {
			u := info.Updated.UTC()
			lj.Updated = &u
		}
		if spec := s.specs[info.Name]; spec != nil {
			lj.ClusterZoom = spec.Zoom
			if spec.Property != "" {
				lj.Severity = &severityJSON{Property: spec.Property, Levels: spec.Levels}
			}
		}
		out.Layers = append(out.Layers, lj)
	}
	writeJSON(w, http.StatusOK, out)
}

// countInScope counts a layer's features (and stale ones) an area-limited
// scope sees, so that a district centre's counts say nothing of the rest.
func countInScope(l *layers.Layer, sc *access.Scope) (features, stale int) {
	rect, _ := sc.Rect()
	for _, f := range filterScope(l.InRect(nil, rect, 0), sc) {
		features++
		if f.Stale {
			stale++
		}
	}
	return features, stale
}

// features answers a bbox query, or a radius query with near and radius.
func (s *Server) features(w http.ResponseWriter, r *http.Request) {
	l, sc := s.scopedLayer(w, r)
	if l == nil {
		return
	}
	q := r.URL.Query()
	limit, err := intParam(q.Get("limit"), defaultFeatureLimit, 1, maxFeatureLimit)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "limit: "+err.Error())
		return
	}
	if near := q.Get("near"); near != "" {
		s.featuresNear(w, l, sc, near, q.Get("radius"), limit)
		return
	}
	rect := geo.World
	if bbox := q.Get("bbox"); bbox != "" {
		if rect, err = geo.ParseRect(bbox); err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", err.Error())
			return
		}
	}
	if code := q.Get("district"); code != "" {
		s.featuresInDistrict(w, l, sc, code, rect, limit)
		return
	}
	if sc.AreaLimited() {
		clipped, ok := sc.Clip(rect)
		if !ok {
			writeCollection(w, nil, limit, nil)
			return
		}
		// Unbounded within the scope's box: the limit applies after
		// the exact scope test.
		writeCollection(w, filterScope(l.InRect(nil, clipped, 0), sc), limit, nil)
		return
	}
	fs := l.InRect(nil, rect, limit+1)
	writeCollection(w, fs, limit, nil)
}

// featuresInDistrict filters by the district the area tagger gave each
// feature, searching only the district's bounding box.
func (s *Server) featuresInDistrict(w http.ResponseWriter, l *layers.Layer, sc *access.Scope, code string, rect geo.Rect, limit int) {
	i := slices.IndexFunc(s.cfg.Districts, func(d District) bool { return d.Code == code })
	if i < 0 {
		writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("district %q: unknown code (GET /api/v1/districts lists them)", code))
		return
	}
	if b := s.cfg.Districts[i].Bounds; rect == geo.World {
		rect = b
	}
	fs := filterScope(filterDistrict(l.InRect(nil, rect, 0), code), sc)
	writeCollection(w, fs, limit, nil)
}

func (s *Server) featuresNear(w http.ResponseWriter, l *layers.Layer, sc *access.Scope, near, radius string, limit int) {
	lon, lat, err := parseLonLat(near)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "near: "+err.Error())
		return
	}
	m, err := strconv.ParseFloat(radius, 64)
	if err != nil || m <= 0 || m > 100000 {
		writeError(w, http.StatusBadRequest, "bad_request", "radius: want metres in (0, 100000] with near=lon,lat")
		return
	}
	n := limit + 1
	if sc.AreaLimited() {
		n = 0 // the limit applies after the scope test
	}
	writeHits(w, filterHits(l.Within(lon, lat, m, n), sc), limit)
}

// within answers POST with a GeoJSON Polygon or MultiPolygon body.
func (s *Server) within(w http.ResponseWriter, r *http.Request) {
	l, sc := s.scopedLayer(w, r)
	if l == nil {
		return
	}
	limit, err := intParam(r.URL.Query().Get("limit"), defaultFeatureLimit, 1, maxFeatureLimit)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "limit: "+err.Error())
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxQueryBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("query body over %d bytes", maxQueryBody))
		return
	}
	g, err := geo.Decode(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_geometry", "geometry: "+err.Error())
		return
	}
	area := geo.NewArea(g)
	if area == nil {
		writeError(w, http.StatusBadRequest, "invalid_geometry", "geometry: want a Polygon or MultiPolygon")
		return
	}
	n := limit + 1
	if sc.AreaLimited() {
		n = 0 // the limit applies after the scope test
	}
	writeCollection(w, filterScope(l.InArea(nil, area, n), sc), limit, nil)
}

func (s *Server) feature(w http.ResponseWriter, r *http.Request) {
	l, sc := s.scopedLayer(w, r)
	if l == nil {
		return
	}
	f := l.Get(chi.URLParam(r, "id"))
	if f == nil || !sc.SeesFeature(f) { // out of scope: 404, not disclosed
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no entity %q in layer %q", chi.URLParam(r, "id"), l.Name()))
		return
	}
	w.Header().Set("Content-Type", "application/geo+json")
	_, _ = w.Write(f.JSON())
}

func (s *Server) nearest(w http.ResponseWriter, r *http.Request) {
	sc, ok := scopeOf(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	lon, err1 := strconv.ParseFloat(q.Get("lon"), 64)
	lat, err2 := strconv.ParseFloat(q.Get("lat"), 64)
	if err1 != nil || err2 != nil || geo.CheckPosition([]float64{lon, lat}) != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "lon and lat: want a valid longitude and latitude in degrees")
		return
	}
	k, err := intParam(q.Get("k"), 10, 1, maxNearestK)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "k: "+err.Error())
		return
	}
	names := slices.DeleteFunc(s.layerNames(), func(l string) bool { return !sc.SeesLayer(l) })
	if ls := q.Get("layers"); ls != "" {
		names = strings.Split(ls, ",")
		for _, l := range names {
			if !sc.SeesLayer(l) {
				writeError(w, http.StatusForbidden, "out_of_scope", fmt.Sprintf("layer %q is outside your scope", l))
				return
			}
		}
	}
	maxDist := 0.0
	if md := q.Get("max_distance"); md != "" {
		if maxDist, err = strconv.ParseFloat(md, 64); err != nil || maxDist <= 0 {
			writeError(w, http.StatusBadRequest, "bad_request", "max_distance: want metres > 0")
			return
		}
	}
	writeHits(w, s.nearestInScope(names, lon, lat, k, maxDist, sc), k)
}

// nearestInScope finds the k nearest features the scope sees: it asks for
// more candidates, doubling, until k are seen or none are left.
func (s *Server) nearestInScope(names []string, lon, lat float64, k int, maxDist float64, sc *access.Scope) []layers.Hit {
	if !sc.AreaLimited() {
		return s.store.Nearest(names, lon, lat, k, maxDist)
	}
	for n := k; ; n *= 2 {
		hits := s.store.Nearest(names, lon, lat, n, maxDist)
		exhausted := len(hits) < n
		if hits = filterHits(hits, sc); len(hits) >= k || exhausted || n >= maxNearestScan {
			return hits
		}
	}
}

// maxNearestScan bounds the candidates a scoped nearest query examines.
const maxNearestScan = 1 << 16

// scopedLayer resolves the {layer} URL parameter within the caller's
// scope: 404 for an unknown layer, 403 for a layer outside the scope.
func (s *Server) scopedLayer(w http.ResponseWriter, r *http.Request) (*layers.Layer, *access.Scope) {
	sc, ok := scopeOf(w, r)
	if !ok {
		return nil, nil
	}
	l := s.layer(w, r)
	if l == nil {
		return nil, nil
	}
	if !sc.SeesLayer(l.Name()) {
		writeError(w, http.StatusForbidden, "out_of_scope", fmt.Sprintf("layer %q is outside your scope", l.Name()))
		return nil, nil
	}
	return l, sc
}

// layer resolves the {layer} URL parameter or answers 404.
func (s *Server) layer(w http.ResponseWriter, r *http.Request) *layers.Layer {
	name := chi.URLParam(r, "layer")
	l := s.store.Layer(name)
	if l == nil {
		writeError(w, http.StatusNotFound, "unknown_layer", fmt.Sprintf("no layer %q (GET /api/v1/layers lists them)", name))
	}
	return l
}

// writeCollection writes a FeatureCollection from the features' cached
// JSON. distances, when set, are added to each feature as "distance".
func writeCollection(w http.ResponseWriter, fs []*layers.Feature, limit int, distances []float64) {
	truncated := len(fs) > limit
	if truncated {
		fs = fs[:limit]
	}
	b := make([]byte, 0, 64+300*len(fs))
	b = append(b, `{"type":"FeatureCollection","numberReturned":`...)
	b = strconv.AppendInt(b, int64(len(fs)), 10)
	if truncated {
		b = append(b, `,"truncated":true`...)
	}
	b = append(b, `,"features":[`...)
	for i, f := range fs {
		if i > 0 {
			b = append(b, ',')
		}
		if distances == nil {
			b = append(b, f.JSON()...)
			continue
		}
		j := f.JSON()
		b = append(b, j[:len(j)-1]...)
		b = append(b, `,"distance":`...)
		b = strconv.AppendFloat(b, distances[i], 'f', 1, 64)
		b = append(b, '}')
	}
	b = append(b, "]}"...)
	w.Header().Set("Content-Type", "application/geo+json")
	_, _ = w.Write(b)
}

func writeHits(w http.ResponseWriter, hits []layers.Hit, limit int) {
	fs := make([]*layers.Feature, len(hits))
	ds := make([]float64, len(hits))
	for i, h := range hits {
		fs[i], ds[i] = h.Feature, h.Distance
	}
	writeCollection(w, fs, limit, ds)
}

func intParam(s string, def, lo, hi int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("want an integer in [%d, %d], got %q", lo, hi, s)
	}
	return n, nil
}

func parseLonLat(s string) (float64, float64, error) {
	parts := strings.Split(s, ",")
	if len(parts) == 2 {
		lon, err1 := strconv.ParseFloat(parts[0], 64)
		lat, err2 := strconv.ParseFloat(parts[1], 64)
		if err1 == nil && err2 == nil && geo.CheckPosition([]float64{lon, lat}) == nil {
			return lon, lat, nil
		}
	}
	return 0, 0, fmt.Errorf("want lon,lat in degrees, got %q", s)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes the API's error body {"error":{"code","message"}}.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
