package geo

import (
	"testing"

	"github.com/twpayne/go-geom"
)

func TestPositionPathAndAreaChecks(t *testing.T) {
	daNang := Rect{MinX: 107.2, MinY: 14.9, MaxX: 108.9, MaxY: 16.4}
	poly := geom.NewMultiPolygonFlat(geom.XY, []float64{
		108.1, 16.0, 108.2, 16.0, 108.2, 16.1, 108.1, 16.0, // polygon 0, ring 0
		108.3, 16.0, 108.4, 16.0, 16.1, 108.35, 108.3, 16.0, // polygon 1, ring 0: position 2 swapped
	}, [][]int{{8}, {16}})
	if got := PositionPath(poly, 6); got != "coordinates[1][0][2]" {
		t.Errorf("PositionPath = %q", got)
	}
	if i := FirstSwapped(poly, daNang); i != 6 {
		t.Errorf("FirstSwapped = %d, want 6", i)
	}
	line := geom.NewLineStringFlat(geom.XY, []float64{108.2, 16.0, 109.5, 16.0})
	if i, j := FirstOutside(line, daNang), FirstSwapped(line, daNang); i != 1 || j != -1 {
		t.Errorf("FirstOutside = %d, FirstSwapped = %d; want 1, -1", i, j)
	}
	if got := PositionPath(line, 1); got != "coordinates[1]" {
		t.Errorf("PositionPath(line) = %q", got)
	}
}
