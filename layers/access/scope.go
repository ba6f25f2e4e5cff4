package access

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
)

// ScopeSpec is a scope as it is written down: stored with a user or token,
// given on the command line. It names areas by code, so that it survives a
// correction of the area files; Resolve turns it into a Scope.
type ScopeSpec struct {
	// Areas are district or ward codes whose polygons bound what the
	// principal sees ("492" is Hải Châu). Empty: no area limit.
	Areas []string `json:"areas,omitempty"`
	// Polygons are GeoJSON Polygon or MultiPolygon geometries, added to
	// the areas.
	Polygons []json.RawMessage `json:"polygons,omitempty"`
	// Layers are the layers the principal may read and, with the ingest
	// permission, write. Empty: every layer.
	Layers []string `json:"layers,omitempty"`
}

// IsZero reports whether the spec sets no limit at all.
func (s ScopeSpec) IsZero() bool {
	return len(s.Areas) == 0 && len(s.Polygons) == 0 && len(s.Layers) == 0
}

// String is a short description for lists and logs: "areas 492,493; layers
// traffic.segments", "2 polygons", "unlimited".
func (s ScopeSpec) String() string {
	var parts []string
	if len(s.Areas) > 0 {
		parts = append(parts, "areas "+strings.Join(s.Areas, ","))
	}
	if n := len(s.Polygons); n > 0 {
		parts = append(parts, fmt.Sprintf("%d polygon(s)", n))
	}
	if len(s.Layers) > 0 {
		parts = append(parts, "layers "+strings.Join(s.Layers, ","))
	}
	if len(parts) == 0 {
		return "unlimited"
	}
	return strings.Join(parts, "; ")
}

// AreaSource resolves an area code to its polygon.
type AreaSource interface {
	AreaPolygon(code string) (geom.T, bool)
}

// Scope is a resolved, immutable limit on what a principal sees and writes.
// The zero of every limit is "no limit": a Scope with neither areas nor
// layers is unlimited.
type Scope struct {
	spec   ScopeSpec
	areas  []*geo.Area // nil: no area limit
	bounds geo.Rect    // union of the areas' bounds
	layers map[string]bool
}

var unlimited = &Scope{}

// Unlimited returns the scope without limits.
func Unlimited() *Scope { return unlimited }

// Resolve checks the spec and prepares its polygons: every area code must
// be known to src and have a polygon, every polygon must be a valid
// Polygon or MultiPolygon, every layer name must be well formed.
func (s ScopeSpec) Resolve(src AreaSource) (*Scope, error) {
	sc := &Scope{spec: s}
	for _, code := range s.Areas {
		if src == nil {
			return nil, fmt.Errorf("scope area %q: no area data loaded", code)
		}
		g, ok := src.AreaPolygon(code)
		if !ok {
			return nil, fmt.Errorf("scope area %q: no district or ward with a polygon has this code", code)
		}
		sc.addArea(g)
	}
	for i, raw := range s.Polygons {
		g, err := geo.Decode(raw)
		if err != nil {
			return nil, fmt.Errorf("scope polygons[%d]: %w", i, err)
		}
		if geo.NewArea(g) == nil {
			return nil, fmt.Errorf("scope polygons[%d]: want a Polygon or MultiPolygon, found %T", i, g)
		}
		sc.addArea(g)
	}
	for _, l := range s.Layers {
		if !validLayerName(l) {
			return nil, fmt.Errorf("scope layer %q: want a layer name like traffic.segments", l)
		}
		if sc.layers == nil {
			sc.layers = map[string]bool{}
		}
		sc.layers[l] = true
	}
	return sc, nil
}

func (sc *Scope) addArea(g geom.T) {
	a := geo.NewArea(g)
	if len(sc.areas) == 0 {
		sc.bounds = a.Bounds
	} else {
		sc.bounds = sc.bounds.Union(a.Bounds)
	}
	sc.areas = append(sc.areas, a)
}

// validLayerName is the rule of docs/API.md: ^[a-z0-9][a-z0-9._-]{0,63}$.
func validLayerName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '.' || c == '_' || c == '-')
		if !ok {
			return false
		}
	}
	return true
}

// Spec returns the spec the scope was resolved from.
func (sc *Scope) Spec() ScopeSpec { return sc.spec }

// IsUnlimited reports whether the scope limits nothing.
func (sc *Scope) IsUnlimited() bool { return sc.areas == nil && sc.layers == nil }

// AreaLimited reports whether the scope limits where the principal sees.
func (sc *Scope) AreaLimited() bool { return sc.areas != nil }

// SeesLayer reports whether the layer is in the scope.
func (sc *Scope) SeesLayer(layer string) bool { return sc.layers == nil || sc.layers[layer] }

// Layers returns the layers of a layer-limited scope, sorted; nil when every
// layer is in scope.
func (sc *Scope) Layers() []string {
	if sc.layers == nil {
		return nil
	}
	out := make([]string, 0, len(sc.layers))
	for l := range sc.layers {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

// AllowsWrite reports whether a principal with this scope may write to
// layer. Where the written geometry must also lie in the scope (a zone drawn
// by a district operator), check Sees on it as well.
func (sc *Scope) AllowsWrite(layer string) bool { return sc.SeesLayer(layer) }

// Rect returns the bounding rectangle of the scope's areas; ok is false when
// the scope has no area limit. Use it to clip a bbox query before searching,
// then Sees on each result.
func (sc *Scope) Rect() (r geo.Rect, ok bool) {
	if sc.areas == nil {
		return geo.World, false
	}
	return sc.bounds, true
}

// Clip intersects a query rectangle with the scope's bounds; ok is false
// when nothing of r is in scope, so the query can answer empty at once.
func (sc *Scope) Clip(r geo.Rect) (clipped geo.Rect, ok bool) {
	if sc.areas == nil {
		return r, true
	}
	if !r.Intersects(sc.bounds) {
		return geo.Rect{}, false
	}
	return geo.Rect{
		MinX: max(r.MinX, sc.bounds.MinX), MinY: max(r.MinY, sc.bounds.MinY),
		MaxX: min(r.MaxX, sc.bounds.MaxX), MaxY: min(r.MaxY, sc.bounds.MaxY),
	}, true
}

// Sees reports whether a geometry shares at least one point with the
// scope's areas (always true without an area limit). bounds must be the
// geometry's bounding box: it rejects most geometries before any exact
// test. A line crossing into the area is seen; one passing near it is not.
func (sc *Scope) Sees(bounds geo.Rect, g geom.T) bool {
	if sc.areas == nil {
		return true
	}
	if g == nil || !bounds.Intersects(sc.bounds) {
		return false
	}
	for _, a := range sc.areas {
		if a.Bounds.Intersects(bounds) && a.Intersects(g) {
			return true
		}
	}
	return false
}

// SeesRect reports whether any point of the rectangle lies in the scope's
// areas: for records that keep only a bounding box (a history delete).
func (sc *Scope) SeesRect(r geo.Rect) bool {
	if sc.areas == nil {
		return true
	}
	return sc.Sees(r, rectPolygon(r))
}

// SeesFeature reports whether the feature's layer and geometry are in the
// scope: the one test for snapshots, diffs, queries and replay frames.
func (sc *Scope) SeesFeature(f *layers.Feature) bool {
	return f != nil && sc.SeesLayer(f.Layer) && sc.Sees(f.Bounds, f.Geometry)
}

// SeesChange reports whether a change is visible: a client that saw the old
// state must learn that it left the scope, so a change is seen when either
// side is. The caller sends a delete for the entity when only Old is seen.
func (sc *Scope) SeesChange(c *layers.Change) bool {
	return sc.SeesFeature(c.Old) || sc.SeesFeature(c.New)
}

func rectPolygon(r geo.Rect) geom.T {
	if r.MinX == r.MaxX && r.MinY == r.MaxY {
		return geom.NewPointFlat(geom.XY, []float64{r.MinX, r.MinY})
	}
	return geom.NewPolygonFlat(geom.XY, []float64{
		r.MinX, r.MinY, r.MaxX, r.MinY, r.MaxX, r.MaxY, r.MinX, r.MaxY, r.MinX, r.MinY,
	}, []int{10})
}
