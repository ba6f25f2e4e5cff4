package areas

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
)

// build resolves the collected files into an indexed Set.
func (b *builder) build() (*Set, error) {
	if len(b.districts) == 0 && len(b.wards) == 0 {
		return nil, errors.New("areas: no districts or wards loaded")
	}
	s := &Set{
		districts: make([]district, len(b.districts)),
		wards:     make([]ward, len(b.wards)),
		zones:     make([][]int32, len(b.districts)),
		whole:     make([]int32, len(b.districts)),
	}
	for i, r := range b.districts {
		s.districts[i] = district{info: r.info, tag: pairTag("district", r.info.Name, "districtCode", r.info.Code)}
		s.whole[i] = -1
		for _, rings := range polygonRings(r.g) {
			addPart(&s.districtTree, &s.districtParts, int32(i), rings)
		}
	}
	for i := range b.wards {
		if err := b.addWardTo(s, i); err != nil {
			return nil, err
		}
	}
	s.buildOutside()
	return s, nil
}

func addPart(tree interface {
	Insert(min, max [2]float64, data int32)
}, parts *[]part, owner int32, rings [][]float64) {
	p := newPolygon(rings)
	tree.Insert(p.bounds.Min(), p.bounds.Max(), int32(len(*parts)))
	*parts = append(*parts, part{owner: owner, poly: p})
}

// addWardTo places ward i: polygon wards in the ward R-tree, point wards
// in the zones of their districts, or among the outside centres.
func (b *builder) addWardTo(s *Set, i int) error {
	r := b.wards[i]
	w := ward{info: r.info}
	w.tag = pairTag("ward", r.info.Name, "wardCode", r.info.Code)
	if pt, ok := r.g.(*geom.Point); ok {
		w.lon, w.lat = pt.X(), pt.Y()
	} else {
		w.info.Exact = true
		for _, rings := range polygonRings(r.g) {
			addPart(&s.wardTree, &s.wardParts, int32(i), rings)
		}
	}
	members, whole, err := b.memberships(s, r, w.lon, w.lat)
	if err != nil {
		return err
	}
	for _, d := range whole {
		if prev := s.whole[d]; prev >= 0 {
			return &FileError{File: r.file, Where: r.where + ".old_ward_codes", Msg: fmt.Sprintf("ward %s and ward %s both cover all of district %s", s.wards[prev].info.Code, r.info.Code, s.districts[d].info.Code)}
		}
		s.whole[d] = int32(i)
		w.info.Whole = s.districts[d].info.Code
	}
	for _, d := range members {
		w.info.Districts = append(w.info.Districts, s.districts[d].info.Code)
	}
	s.wards[i] = w
	if w.info.Exact || r.info.Suspect {
		return nil
	}
	for _, d := range members {
		s.zones[d] = append(s.zones[d], int32(i))
	}
	if len(members) == 0 && len(whole) == 0 {
		s.outside = append(s.outside, int32(i))
	}
	return nil
}

// memberships returns the indexes of the districts a ward was formed from
// and of those it covers entirely (see the package documentation).
func (b *builder) memberships(s *Set, r wardRec, lon, lat float64) (members, whole []int, err error) {
	for _, c := range r.districts {
		d, ok := b.districtAt[c]
		if !ok {
			return nil, nil, &FileError{File: r.file, Where: r.where + ".district_codes", Msg: "unknown district " + c + " (no district with that code is loaded)"}
		}
		members = append(members, d)
	}
	for _, c := range r.oldCodes {
		if d, ok := b.districtAt[c]; ok {
			whole = append(whole, d)
		} else if d, ok := b.districtAt[b.oldWard[c]]; ok {
			members = append(members, d)
		}
		// Other old codes belong to no loaded district: upstream mapping
		// errors (such as a Quảng Nam commune listed under Phường Hải
		// Châu) or areas beyond the data.
	}
	if len(members) == 0 && len(whole) == 0 && !r.info.Suspect && !r.info.Exact {
		// Nothing resolved (no district_codes, no old-ward table): the
		// district its point lies in, if any.
		if d := find(&s.districtTree, s.districtParts, lon, lat); d >= 0 {
			members = append(members, d)
		}
	}
	slices.Sort(members)
	members = slices.Compact(members)
	slices.Sort(whole)
	whole = slices.Compact(whole)
	members = slices.DeleteFunc(members, func(d int) bool { return slices.Contains(whole, d) })
	return members, whole, nil
}

// buildOutside prepares the stand-in extent of the wards in no district:
// the convex hull of their points.
func (s *Set) buildOutside() {
	if len(s.outside) == 0 {
		return
	}
	pts := make([][2]float64, len(s.outside))
	for i, w := range s.outside {
		pts[i] = [2]float64{s.wards[w].lon, s.wards[w].lat}
	}
	hull := convexHull(pts)
	flat := make([]float64, 0, 2*len(hull)+2)
	for _, p := range hull {
		flat = append(flat, p[0], p[1])
	}
	switch len(hull) {
	case 1:
		s.outsideExtent = geom.NewPointFlat(geom.XY, flat)
	case 2:
		s.outsideExtent = geom.NewLineStringFlat(geom.XY, flat)
	default:
		flat = append(flat, hull[0][0], hull[0][1])
		s.outsideExtent = geom.NewPolygonFlat(geom.XY, flat, []int{len(flat)})
	}
	b := geo.BoundsOf(s.outsideExtent)
	dLat := OutsideMargin / geo.EarthRadius * 180 / math.Pi
	dLon := dLat / math.Cos(max(math.Abs(b.MinY), math.Abs(b.MaxY))*math.Pi/180)
	s.outsideBox = geo.Rect{MinX: b.MinX - dLon, MinY: b.MinY - dLat, MaxX: b.MaxX + dLon, MaxY: b.MaxY + dLat}
}

// convexHull returns the hull of pts counter-clockwise without repeating
// the first point (Andrew's monotone chain); collinear points are dropped.
func convexHull(pts [][2]float64) [][2]float64 {
	pts = slices.Clone(pts)
	slices.SortFunc(pts, func(a, b [2]float64) int {
		if c := cmp.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return cmp.Compare(a[1], b[1])
	})
	pts = slices.Compact(pts)
	if len(pts) < 3 {
		return pts
	}
	cross := func(o, a, b [2]float64) float64 {
		return (a[0]-o[0])*(b[1]-o[1]) - (a[1]-o[1])*(b[0]-o[0])
	}
	hull := make([][2]float64, 0, 2*len(pts))
	for pass := 0; pass < 2; pass++ {
		start := len(hull)
		for _, p := range pts {
			for len(hull) >= start+2 && cross(hull[len(hull)-2], hull[len(hull)-1], p) <= 0 {
				hull = hull[:len(hull)-1]
			}
			hull = append(hull, p)
		}
		hull = hull[:len(hull)-1] // the last point starts the other chain
		slices.Reverse(pts)
	}
	return hull
}

// pairTag is the JSON members the tagger adds for one area, empty values
// left out: `"district":"Quận Hải Châu","districtCode":"492"`.
func pairTag(nameKey, name, codeKey, code string) []byte {
	var b []byte
	for _, m := range [2][2]string{{nameKey, name}, {codeKey, code}} {
		if m[1] == "" {
			continue
		}
		if len(b) > 0 {
			b = append(b, ',')
		}
		b = layers.AppendJSONString(b, m[0])
		b = append(b, ':')
		b = layers.AppendJSONString(b, m[1])
	}
	return b
}
