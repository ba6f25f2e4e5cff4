// Package areas tells which administrative area a position lies in. The
// areas are data, loaded from files, never code: Vietnam abolished the
// district level and merged Quảng Nam into Da Nang on 1 July 2025, and a
// city will keep replacing its area files.
//
// A Set holds two kinds of area, both read from GeoJSON FeatureCollections:
//
//   - Districts: Polygon or MultiPolygon features with a district_code. The
//     embedded data has the eight pre-July-2025 districts of Da Nang. Lookups
//     are exact: an R-tree over the bounding box of every polygon, then an
//     even-odd point-in-polygon test (the rule of geo.Area) over the edges
//     of one latitude band of that polygon.
//   - Wards (commune-level units): features with a ward_code_2025 or
//     ward_code. A ward given as a polygon is exact and wins over
//     everything else. A ward given only as a point, as the 94 units of
//     July 2025 are published, is an APPROXIMATION: a position gets the
//     nearest ward point (Voronoi by nearest centre) among the wards formed
//     from old wards of the district the position lies in. Ward boundaries
//     do not follow Voronoi cells, so near a boundary the answer can be the
//     neighbouring ward; Location.WardApprox says so, and callers must not
//     present it as more than "probably".
//
// Which district a point ward belongs to comes from data too: its
// district_codes property, else its old_ward_codes resolved through an
// old-ward table (a CSV with district_code and ward_code columns), else the
// district polygon holding its point. An old code that is itself a district
// code (Hoàng Sa: the whole former district became one special zone) makes
// the ward cover that district exactly. A ward that belongs to no loaded
// district (the former Quảng Nam communes) is used for positions outside
// every district but within OutsideMargin of the convex hull of those
// wards' points, because the embedded data has no polygon for the merged
// area: that extent is a rough stand-in, loose along the coast and short of
// the true border in the north-western mountains. Loading a polygon for the
// merged area as a district (and pointing its wards at it with
// district_codes) replaces the stand-in. Points flagged geo_suspect (known
// to be misplaced upstream) are never used as nearest centres.
//
// A Set is immutable once loaded and safe for concurrent use.
package areas

import (
	"math"

	"github.com/tidwall/rtree"
	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
)

// OutsideMargin is how far, in metres, beyond the convex hull of the
// points of the wards in no district a position outside every district
// still gets one of those wards (see the package documentation).
const OutsideMargin = 5000.0

// Location is where a position lies; a field is empty when the position is
// outside every area of that kind (at sea, or beyond the loaded data).
type Location struct {
	District     string // official name, e.g. "Quận Hải Châu"
	DistrictCode string // e.g. "492" (GSO code)
	Ward         string // official name, e.g. "Phường Hải Châu"
	WardCode     string // e.g. "20242"
	// WardApprox is set when the ward was chosen by nearest centre rather
	// than found in a polygon: a best guess, wrong near ward boundaries.
	WardApprox bool
}

// Info describes a district, for lists and maps.
type Info struct {
	Code      string
	Name      string // official name ("Quận Hải Châu")
	ShortName string // name without its type ("Hải Châu"); Name when absent
	Bounds    geo.Rect
}

// WardInfo describes a commune-level unit.
type WardInfo struct {
	Code      string
	Name      string
	ShortName string
	Bounds    geo.Rect // of the polygon, or the point itself
	// Exact is set for a ward given as a polygon.
	Exact bool
	// Suspect is set for a point known to be misplaced (geo_suspect); it
	// is never used as a nearest centre.
	Suspect bool
	// Districts lists the codes of the loaded districts the ward was formed
	// from; empty for a ward in no district (the merged area).
	Districts []string
	// Whole is the code of a district the ward covers entirely, if any.
	Whole string
}

// Set is a loaded collection of districts and wards.
type Set struct {
	districts []district
	wards     []ward

	districtTree  rtree.RTreeG[int32] // polygon parts of districts
	districtParts []part
	wardTree      rtree.RTreeG[int32] // polygon parts of polygon wards
	wardParts     []part

	zones   [][]int32 // per district: its point wards usable as centres
	whole   []int32   // per district: the ward covering it entirely, or -1
	outside []int32   // point wards in no district usable as centres

	outsideExtent geom.T   // convex hull of the outside centres, or nil
	outsideBox    geo.Rect // outsideExtent's bounds grown by OutsideMargin
}

type district struct {
	info Info
	tag  []byte // `"district":"…","districtCode":"…"`
}

type ward struct {
	info     WardInfo
	tag      []byte // `"ward":"…","wardCode":"…"`
	lon, lat float64
}

// part is one polygon of an area, with the index of its owner.
type part struct {
	owner int32
	poly  *polygon
}

// Districts lists the districts in load order.
func (s *Set) Districts() []Info {
	out := make([]Info, len(s.districts))
	for i := range s.districts {
		out[i] = s.districts[i].info
	}
	return out
}

// Wards lists the wards in load order.
func (s *Set) Wards() []WardInfo {
	out := make([]WardInfo, len(s.wards))
	for i := range s.wards {
		w := s.wards[i].info
		w.Districts = append([]string(nil), w.Districts...)
		out[i] = w
	}
	return out
}

// Locate returns the areas holding (lon, lat).
func (s *Set) Locate(lon, lat float64) Location {
	d, w, approx := s.locate(lon, lat)
	return s.location(d, w, approx)
}

// LocateGeometry locates g by one representative position, so a line or
// polygon crossing a boundary gets exactly one area:
//
//   - Point: the point. MultiPoint: the member nearest their mean.
//   - LineString: the point halfway along its length. MultiLineString:
//     that of its longest member.
//   - Polygon: the centre of its bounding box when that lies inside,
//     otherwise the middle of the widest inside stretch of the horizontal
//     line through that centre; either way a point inside the polygon.
//     MultiPolygon: that of its largest member.
//
// A nil, empty or unsupported geometry yields an empty Location.
func (s *Set) LocateGeometry(g geom.T) Location {
	x, y, ok := representative(g)
	if !ok {
		return Location{}
	}
	return s.Locate(x, y)
}

func (s *Set) location(d, w int, approx bool) Location {
	var loc Location
	if d >= 0 {
		loc.District, loc.DistrictCode = s.districts[d].info.Name, s.districts[d].info.Code
	}
	if w >= 0 {
		loc.Ward, loc.WardCode = s.wards[w].info.Name, s.wards[w].info.Code
		loc.WardApprox = approx
	}
	return loc
}

// locate returns the indexes of the district and ward holding (lon, lat),
// -1 for none, and whether the ward is a nearest-centre guess.
func (s *Set) locate(lon, lat float64) (d, w int, approx bool) {
	if math.IsNaN(lon) || math.IsNaN(lat) {
		return -1, -1, false
	}
	d = find(&s.districtTree, s.districtParts, lon, lat)
	if len(s.wardParts) > 0 {
		if w = find(&s.wardTree, s.wardParts, lon, lat); w >= 0 {
			return d, w, false
		}
	}
	switch {
	case d >= 0 && s.whole[d] >= 0:
		return d, int(s.whole[d]), false
	case d >= 0:
		w = s.nearest(s.zones[d], lon, lat)
	case s.inOutside(lon, lat):
		w = s.nearest(s.outside, lon, lat)
	default:
		w = -1
	}
	return d, w, w >= 0
}

// find returns the lowest owner index among the parts holding (lon, lat),
// so that where loaded polygons overlap the earlier area wins.
func find(tree *rtree.RTreeG[int32], parts []part, lon, lat float64) int {
	best := -1
	p := [2]float64{lon, lat}
	tree.Search(p, p, func(_, _ [2]float64, i int32) bool {
		pt := &parts[i]
		if (best < 0 || int(pt.owner) < best) && pt.poly.contains(lon, lat) {
			best = int(pt.owner)
		}
		return true
	})
	return best
}

// nearest returns the ward among candidates whose point is nearest to
// (lon, lat) on the local equirectangular plane, or -1.
func (s *Set) nearest(candidates []int32, lon, lat float64) int {
	kx := math.Cos(lat * math.Pi / 180)
	best, bestD := -1, math.Inf(1)
	for _, i := range candidates {
		w := &s.wards[i]
		dx, dy := (w.lon-lon)*kx, w.lat-lat
		if d := dx*dx + dy*dy; d < bestD {
			best, bestD = int(i), d
		}
	}
	return best
}

// inOutside reports whether a position outside every district lies within
// the stand-in extent of the wards in no district.
func (s *Set) inOutside(lon, lat float64) bool {
	if s.outsideExtent == nil || !s.outsideBox.ContainsPoint(lon, lat) {
		return false
	}
	return geo.NewProjection(lon, lat).Distance(s.outsideExtent) <= OutsideMargin
}
