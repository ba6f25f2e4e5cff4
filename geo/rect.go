// Package geo holds the geometry the IOC works with: GeoJSON decoding and
// encoding with precise errors, bounding rectangles, exact intersection tests
// and distances in metres. It is a leaf package: it imports no other package
// of the project.
package geo

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/twpayne/go-geom"
)

// Rect is an axis-aligned rectangle in longitude/latitude degrees.
type Rect struct {
	MinX, MinY, MaxX, MaxY float64
}

// Min and Max return the corners in the form tidwall/rtree takes.
func (r Rect) Min() [2]float64 { return [2]float64{r.MinX, r.MinY} }
func (r Rect) Max() [2]float64 { return [2]float64{r.MaxX, r.MaxY} }

// Intersects reports whether r and o share at least one point.
func (r Rect) Intersects(o Rect) bool {
	return r.MinX <= o.MaxX && o.MinX <= r.MaxX && r.MinY <= o.MaxY && o.MinY <= r.MaxY
}

// Contains reports whether o lies entirely inside r.
func (r Rect) Contains(o Rect) bool {
	return r.MinX <= o.MinX && o.MaxX <= r.MaxX && r.MinY <= o.MinY && o.MaxY <= r.MaxY
}

// ContainsPoint reports whether (x, y) lies inside r or on its edge.
func (r Rect) ContainsPoint(x, y float64) bool {
	return r.MinX <= x && x <= r.MaxX && r.MinY <= y && y <= r.MaxY
}

// Union returns the smallest rectangle holding r and o.
func (r Rect) Union(o Rect) Rect {
	return Rect{min(r.MinX, o.MinX), min(r.MinY, o.MinY), max(r.MaxX, o.MaxX), max(r.MaxY, o.MaxY)}
}

// String formats r as the w,s,e,n list the HTTP API takes.
func (r Rect) String() string {
	return fmt.Sprintf("%g,%g,%g,%g", r.MinX, r.MinY, r.MaxX, r.MaxY)
}

// World covers every valid longitude and latitude.
var World = Rect{-180, -90, 180, 90}

// BoundsOf returns the bounding rectangle of g.
func BoundsOf(g geom.T) Rect {
	flat := g.FlatCoords()
	stride := g.Stride()
	if len(flat) < 2 {
		return Rect{}
	}
	r := Rect{flat[0], flat[1], flat[0], flat[1]}
	for i := stride; i+1 < len(flat); i += stride {
		x, y := flat[i], flat[i+1]
		r.MinX, r.MaxX = min(r.MinX, x), max(r.MaxX, x)
		r.MinY, r.MaxY = min(r.MinY, y), max(r.MaxY, y)
	}
	return r
}

// ParseRect parses "w,s,e,n" in degrees, as used by the bbox query
// parameter, and checks that it is a valid, non-inverted rectangle.
func ParseRect(s string) (Rect, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return Rect{}, fmt.Errorf("bbox %q: want 4 comma-separated numbers w,s,e,n", s)
	}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return Rect{}, fmt.Errorf("bbox %q: value %d is not a number", s, i+1)
		}
		v[i] = f
	}
	return RectFromSlice(v[:])
}

// RectFromSlice builds a Rect from [w, s, e, n] and validates it.
func RectFromSlice(v []float64) (Rect, error) {
	if len(v) != 4 {
		return Rect{}, fmt.Errorf("bbox: want 4 numbers [w,s,e,n], got %d", len(v))
	}
	r := Rect{v[0], v[1], v[2], v[3]}
	switch {
	case !World.ContainsPoint(r.MinX, r.MinY) || !World.ContainsPoint(r.MaxX, r.MaxY):
		return Rect{}, fmt.Errorf("bbox %v: outside longitude [-180,180] / latitude [-90,90]", r)
	case r.MinX > r.MaxX || r.MinY > r.MaxY:
		return Rect{}, fmt.Errorf("bbox %v: west must not exceed east and south must not exceed north", r)
	}
	return r, nil
}
