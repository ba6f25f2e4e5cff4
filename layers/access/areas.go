package access

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/geo/areas"
)

// Areas maps district and ward codes to their polygons, read from the same
// GeoJSON files geo/areas loads (geo/areas keeps its polygons private and
// prepared for point lookups; a scope needs the geometry for exact
// intersection tests). Areas given only as points (the 2025 wards) have no
// polygon and cannot bound a scope. A later file's area replaces an earlier
// one with the same code, as in geo/areas.
type Areas struct {
	byCode map[string]geom.T
}

// DefaultAreas returns the polygons of the embedded area data, extended or
// corrected by the given files (the --areas setting).
func DefaultAreas(paths ...string) (*Areas, error) {
	a := &Areas{byCode: map[string]geom.T{}}
	for _, name := range areas.DefaultFiles {
		data, err := fs.ReadFile(areas.Files(), name)
		if err != nil {
			return nil, fmt.Errorf("access areas: %w", err)
		}
		if err := a.add(name, data); err != nil {
			return nil, err
		}
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("access areas: %w", err)
		}
		if err := a.add(p, data); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// AreaPolygon returns the polygon of the district or ward with code.
func (a *Areas) AreaPolygon(code string) (geom.T, bool) {
	g, ok := a.byCode[strings.TrimSpace(code)]
	return g, ok
}

// Len returns how many areas have a polygon.
func (a *Areas) Len() int { return len(a.byCode) }

type areaFeature struct {
	Geometry   json.RawMessage `json:"geometry"`
	Properties map[string]any  `json:"properties"`
}

// codeKeys are the properties naming an area, in the order geo/areas reads
// them.
var codeKeys = []string{"district_code", "ward_code_2025", "ward_code"}

func (a *Areas) add(name string, data []byte) error {
	if strings.EqualFold(path.Ext(name), ".csv") {
		return nil // the old-ward table has no geometry
	}
	var fc struct {
		Features []areaFeature `json:"features"`
	}
	if err := json.Unmarshal(data, &fc); err != nil {
		return fmt.Errorf("access areas: %s: %w", name, err)
	}
	for i, f := range fc.Features {
		code := featureCode(f.Properties)
		if code == "" || bytes.Equal(bytes.TrimSpace(f.Geometry), []byte("null")) || len(f.Geometry) == 0 {
			continue
		}
		g, err := geo.Decode(f.Geometry)
		if err != nil {
			return fmt.Errorf("access areas: %s: features[%d].geometry: %w", name, i, err)
		}
		if geo.NewArea(g) != nil {
			a.byCode[code] = g
		}
	}
	return nil
}

// featureCode returns the first code property, given as a string or a
// number.
func featureCode(props map[string]any) string {
	for _, k := range codeKeys {
		switch v := props[k].(type) {
		case string:
			if s := strings.TrimSpace(v); s != "" {
				return s
			}
		case float64:
			return fmt.Sprintf("%.0f", v)
		}
	}
	return ""
}
