package zones

import (
	"fmt"
	"strings"

	"github.com/goccy/go-json"
	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/geo/areas"
)

// Boundaries holds the polygons of districts and wards by code: the
// outlines of zones declared over an area. package areas keeps its
// polygons private (it answers "where is this point"), so the engine reads
// the same area files again for the outlines.
type Boundaries struct {
	districts map[string]geom.T
	wards     map[string]geom.T
}

// NewBoundaries returns an empty set; Add fills it.
func NewBoundaries() *Boundaries {
	return &Boundaries{districts: map[string]geom.T{}, wards: map[string]geom.T{}}
}

// Add reads the Polygon and MultiPolygon features of a GeoJSON
// FeatureCollection in the format of package areas (district_code,
// ward_code_2025 or ward_code); other features (ward points) are skipped.
// A later file replaces an area of the same code, as in package areas.
func (b *Boundaries) Add(file string, data []byte) error {
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			Geometry   json.RawMessage `json:"geometry"`
			Properties struct {
				District json.Number `json:"district_code"`
				Ward2025 json.Number `json:"ward_code_2025"`
				Ward     json.Number `json:"ward_code"`
			} `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(data, &fc); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if fc.Type != "FeatureCollection" {
		return fmt.Errorf("%s: want a GeoJSON FeatureCollection, found type %q", file, fc.Type)
	}
	for i, f := range fc.Features {
		g, err := geo.Decode(f.Geometry)
		if err != nil {
			return fmt.Errorf("%s: features[%d].geometry: %w", file, i, err)
		}
		if geo.NewArea(g) == nil {
			continue
		}
		switch p := f.Properties; {
		case p.Ward2025 != "":
			b.wards[string(p.Ward2025)] = g
		case p.Ward != "":
			b.wards[string(p.Ward)] = g
		case p.District != "":
			b.districts[string(p.District)] = g
		}
	}
	return nil
}

// AreaRequest names an area in a declaration: level district or ward (or
// empty: districts are tried first), and a code or a name (the official
// name, such as "Quận Hải Châu", or the short one, "Hải Châu"; any case).
type AreaRequest struct {
	Level string `json:"level"`
	Ref   string `json:"ref"`
}

// resolveArea finds the area a declaration names and its outline.
func resolveArea(set *areas.Set, bounds *Boundaries, req AreaRequest) (*AreaRef, geom.T, error) {
	if set == nil || bounds == nil {
		return nil, nil, fmt.Errorf("area: this server has no area data; draw the zone's geometry instead")
	}
	ref := strings.TrimSpace(req.Ref)
	if ref == "" {
		return nil, nil, fmt.Errorf("area.ref: give a district or ward code or name")
	}
	if req.Level != "" && req.Level != "district" && req.Level != "ward" {
		return nil, nil, fmt.Errorf("area.level: %q is not district or ward", req.Level)
	}
	if req.Level != "ward" {
		for _, d := range set.Districts() {
			if matches(ref, d.Code, d.Name, d.ShortName) {
				g := bounds.districts[d.Code]
				if g == nil {
					return nil, nil, fmt.Errorf("area.ref: district %s (%s) has no polygon in the loaded area files", d.Name, d.Code)
				}
				return &AreaRef{Level: "district", Code: d.Code, Name: d.Name}, g, nil
			}
		}
	}
	if req.Level != "district" {
		for _, w := range set.Wards() {
			if matches(ref, w.Code, w.Name, w.ShortName) {
				return wardArea(bounds, w)
			}
		}
	}
	return nil, nil, fmt.Errorf("area.ref: no district or ward has the code or name %q", ref)
}

// wardArea: a ward with a polygon is its polygon; a ward known only by its
// point is outlined by the districts it was formed from (Approx).
func wardArea(bounds *Boundaries, w areas.WardInfo) (*AreaRef, geom.T, error) {
	a := &AreaRef{Level: "ward", Code: w.Code, Name: w.Name}
	if g := bounds.wards[w.Code]; g != nil {
		return a, g, nil
	}
	mp := geom.NewMultiPolygon(geom.XY)
	for _, d := range w.Districts {
		if err := appendPolygons(mp, bounds.districts[d]); err != nil {
			return nil, nil, err
		}
	}
	if mp.NumPolygons() == 0 {
		return nil, nil, fmt.Errorf("area.ref: ward %s (%s) has no polygon, and no district outline to stand in for it", w.Name, w.Code)
	}
	a.Approx = true
	return a, mp, nil
}

func appendPolygons(mp *geom.MultiPolygon, g geom.T) error {
	switch g := g.(type) {
	case *geom.Polygon:
		return mp.Push(g)
	case *geom.MultiPolygon:
		for i := range g.NumPolygons() {
			if err := mp.Push(g.Polygon(i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func matches(ref string, names ...string) bool {
	for _, n := range names {
		if n != "" && strings.EqualFold(ref, n) {
			return true
		}
	}
	return false
}
