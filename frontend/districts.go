package frontend

import (
	"net/http"
	"strings"

	json "github.com/goccy/go-json"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
)

// District is an administrative area the API can count and filter by. The
// list comes from data (geo/areas), never from code.
type District struct {
	Code   string   `json:"code"`
	Name   string   `json:"name"`
	Short  string   `json:"short_name"`
	Bounds geo.Rect `json:"-"`
}

// areaTags are the properties the area tagger adds to every feature.
type areaTags struct {
	DistrictCode string `json:"districtCode"`
}

func districtOf(f *layers.Feature) string {
	if len(f.Properties) == 0 {
		return ""
	}
	var t areaTags
	_ = json.Unmarshal(f.Properties, &t) // stored properties are valid objects
	return t.DistrictCode
}

type districtJSON struct {
	District
	BBox   [4]float64     `json:"bbox"`
	Counts map[string]int `json:"counts"`
	Stale  map[string]int `json:"stale,omitempty"`
}

// districts answers GET /api/v1/districts: every district with the number
// of features (and stale ones) per layer inside it, for per-district counts
// on the wall. ?layers=a,b limits the layers counted.
func (s *Server) districts(w http.ResponseWriter, r *http.Request) {
	sc, ok := scopeOf(w, r)
	if !ok {
		return
	}
	names := s.layerNames()
	if ls := r.URL.Query().Get("layers"); ls != "" {
		names = strings.Split(ls, ",")
	}
	rect, _ := sc.Rect()
	byCode := map[string]*districtJSON{}
	out := make([]*districtJSON, 0, len(s.cfg.Districts)+1)
	for _, d := range s.cfg.Districts {
		dj := &districtJSON{District: d, Counts: map[string]int{}, Stale: map[string]int{},
			BBox: [4]float64{d.Bounds.MinX, d.Bounds.MinY, d.Bounds.MaxX, d.Bounds.MaxY}}
		byCode[d.Code] = dj
		out = append(out, dj)
	}
	outside := &districtJSON{District: District{Code: "", Name: "outside every district"}, Counts: map[string]int{}, Stale: map[string]int{}}
	out = append(out, outside)
	for _, name := range names {
		l := s.store.Layer(name)
		if l == nil || !sc.SeesLayer(name) {
			continue // a layer outside the scope is not counted
		}
		for _, f := range filterScope(l.InRect(nil, rect, 0), sc) {
			dj := byCode[districtOf(f)]
			if dj == nil {
				dj = outside
			}
			dj.Counts[name]++
			if f.Stale {
				dj.Stale[name]++
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"districts": out})
}

// filterDistrict keeps the features tagged with the district code.
func filterDistrict(fs []*layers.Feature, code string) []*layers.Feature {
	kept := fs[:0]
	for _, f := range fs {
		if districtOf(f) == code {
			kept = append(kept, f)
		}
	}
	return kept
}
