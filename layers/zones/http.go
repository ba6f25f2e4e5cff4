package zones

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/goccy/go-json"
	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/layers/access"
)

// maxBody bounds a declaration: a drawn polygon of a few thousand
// vertices fits easily.
const maxBody = 1 << 20

// Routes mounts the zone API on r (under /api/v1 in iocd).
func (e *Engine) Routes(r chi.Router) {
	r.Post("/zones", e.declare)
	r.Get("/zones", e.list)
	r.Get("/zones/{id}", e.get)
	r.Delete("/zones/{id}", e.close)
	r.Post("/zones/{id}/close", e.close)
	r.Get("/zones/{id}/contents", e.contents)
}

// Declaration is the body of POST /zones.
type Declaration struct {
	Name        string          `json:"name"`
	Kind        string          `json:"kind"`
	Severity    string          `json:"severity"`
	Description string          `json:"description"`
	Geometry    json.RawMessage `json:"geometry"`
	Area        *AreaRequest    `json:"area"`
	By          string          `json:"by"`
}

// Actor is who acts: the authenticated principal (user:alice,
// token:<id>); only in the open demo mode, where everyone is the same demo
// principal, the X-IOC-User header, else the body's by, else "anonymous".
func Actor(r *http.Request, by string) string {
	if p, ok := access.FromContext(r.Context()); ok && p.Kind != access.KindDemo {
		return p.Actor()
	}
	if u := strings.TrimSpace(r.Header.Get("X-IOC-User")); u != "" {
		return u
	}
	if by = strings.TrimSpace(by); by != "" {
		return by
	}
	return "anonymous"
}

// parseDeclaration turns a declaration into a zone, with the error's path
// naming the member at fault.
func (e *Engine) parseDeclaration(body []byte, r *http.Request) (*Zone, error) {
	var d Declaration
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	z := &Zone{Name: strings.TrimSpace(d.Name), Kind: d.Kind, Severity: d.Severity, Description: d.Description, By: Actor(r, d.By)}
	if z.Kind == "" {
		z.Kind = KindEmergency
	}
	if z.Severity == "" {
		z.Severity = "major"
	}
	hasGeom := len(d.Geometry) > 0 && string(d.Geometry) != "null"
	switch {
	case hasGeom && d.Area != nil:
		return nil, errors.New("geometry: give a geometry or an area, not both")
	case hasGeom:
		g, err := geo.Decode(d.Geometry)
		if err != nil {
			return nil, fmt.Errorf("geometry: %w", err)
		}
		z.Geometry = g
	case d.Area != nil:
		ref, g, err := resolveArea(e.cfg.Areas, e.cfg.Boundaries, *d.Area)
		if err != nil {
			return nil, err
		}
		z.Area, z.Geometry = ref, g
		if ref.Level == "district" {
			z.District, z.DistrictCode = ref.Name, ref.Code
		} else {
			z.Ward, z.WardCode = ref.Name, ref.Code
		}
	default:
		return nil, errors.New("geometry: a zone needs a geometry (Polygon or MultiPolygon) or an area (district or ward)")
	}
	return z, nil
}

func (e *Engine) declare(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("body: at most %d bytes", maxBody))
		return
	}
	z, err := e.parseDeclaration(body, r)
	if err == nil && !seesGeometry(r, z.Geometry) {
		writeError(w, http.StatusForbidden, "out_of_scope", "geometry: the zone lies outside your scope")
		return
	}
	if err == nil {
		z, err = e.Declare(z)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_zone", err.Error())
		return
	}
	_, s, _ := e.Live(z.ID)
	writeFeature(w, http.StatusCreated, z, s)
}

// list answers GET /zones?status=active|closed|all (default active) from
// the layer, so closed zones are listed too.
func (e *Engine) list(w http.ResponseWriter, r *http.Request) {
	status := r.URL.Query().Get("status")
	if status == "" {
		status = StatusActive
	}
	if status != StatusActive && status != StatusClosed && status != "all" {
		writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("status %q: want active, closed or all", status))
		return
	}
	var fs []*layers.Feature
	if l := e.store.Layer(LayerZones); l != nil {
		for _, f := range l.InRect(nil, geo.World, 0) {
			var p struct {
				Status string `json:"status"`
			}
			if seesFeature(r, f) && json.Unmarshal(f.Properties, &p) == nil && (status == "all" || p.Status == status) {
				fs = append(fs, f)
			}
		}
	}
	sortFeatures(fs)
	writeCollection(w, fs, len(fs))
}

// get answers an active zone with its summary computed now, a closed one
// as its feature holds it.
func (e *Engine) get(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if !e.seesZone(r, id) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("zone %q does not exist", id))
		return
	}
	if z, s, err := e.Live(id); err == nil {
		writeFeature(w, http.StatusOK, z, s)
		return
	}
	if l := e.store.Layer(LayerZones); l != nil {
		if f := l.Get(id); f != nil {
			w.Header().Set("Content-Type", "application/geo+json")
			_, _ = w.Write(append(f.JSON(), '\n'))
			return
		}
	}
	writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("zone %q does not exist", id))
}

func (e *Engine) close(w http.ResponseWriter, r *http.Request) {
	var body struct {
		By string `json:"by"`
	}
	_ = json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(&body) // the body is optional
	id := chi.URLParam(r, "id")
	if !e.seesZone(r, id) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("zone %q is not an active zone", id))
		return
	}
	z, err := e.Close(id, Actor(r, body.By))
	if err != nil {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("zone %q is not an active zone", id))
		return
	}
	f := e.store.Layer(LayerZones).Get(z.ID)
	w.Header().Set("Content-Type", "application/geo+json")
	_, _ = w.Write(append(f.JSON(), '\n'))
}

// contents answers GET /zones/{id}/contents?layer=&limit= (limit default
// 1000, at most 10000).
func (e *Engine) contents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 1000
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("limit %q: want a whole number from 1 to 10000", v))
			return
		}
		limit = n
	}
	fs, total, err := e.Contents(chi.URLParam(r, "id"), q.Get("layer"), limit)
	if err == nil && !e.seesZone(r, chi.URLParam(r, "id")) {
		err = errors.New("out of scope")
	}
	if err == nil && !seesAll(r, fs) {
		// The zone reaches outside the caller's scope: list and count only
		// what lies inside it (the count is then of the features returned).
		fs = filterSeen(r, fs)
		total = len(fs)
	}
	if err != nil {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("zone %q is not an active zone", chi.URLParam(r, "id")))
		return
	}
	writeCollection(w, fs, total)
}

// The zone API answers only within the caller's scope (docs/SECURITY.md):
// a zone outside a district user's scope answers 404, as if it did not
// exist. Without a principal (the package's own tests; iocd always sets
// one) nothing is filtered.

func principalScope(r *http.Request) *access.Scope {
	if p, ok := access.FromContext(r.Context()); ok {
		return p.Scope()
	}
	return access.Unlimited()
}

func seesFeature(r *http.Request, f *layers.Feature) bool { return principalScope(r).SeesFeature(f) }

func seesGeometry(r *http.Request, g geom.T) bool {
	return g != nil && principalScope(r).Sees(geo.BoundsOf(g), g)
}

func (e *Engine) seesZone(r *http.Request, id string) bool {
	if principalScope(r).IsUnlimited() {
		return true
	}
	l := e.store.Layer(LayerZones)
	return l != nil && seesFeature(r, l.Get(id))
}

func seesAll(r *http.Request, fs []*layers.Feature) bool {
	for _, f := range fs {
		if !seesFeature(r, f) {
			return false
		}
	}
	return true
}

func filterSeen(r *http.Request, fs []*layers.Feature) []*layers.Feature {
	return slices.DeleteFunc(fs, func(f *layers.Feature) bool { return !seesFeature(r, f) })
}

func sortFeatures(fs []*layers.Feature) {
	slices.SortFunc(fs, func(a, b *layers.Feature) int { return compareStrings(a.ID, b.ID) })
}

func writeFeature(w http.ResponseWriter, status int, z *Zone, s *Summary) {
	b := []byte(`{"type":"Feature","id":`)
	b = layers.AppendJSONString(b, z.ID)
	b = append(b, `,"layer":"`+LayerZones+`","geometry":`...)
	b = geo.AppendGeoJSON(b, z.Geometry)
	b = append(b, `,"properties":`...)
	b = append(b, encodeProps(z, s)...)
	b = append(b, "}\n"...)
	w.Header().Set("Content-Type", "application/geo+json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeCollection(w http.ResponseWriter, fs []*layers.Feature, total int) {
	b := []byte(`{"type":"FeatureCollection","total":`)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, `,"features":[`...)
	for i, f := range fs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, f.JSON()...)
	}
	b = append(b, "]}\n"...)
	w.Header().Set("Content-Type", "application/geo+json")
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
