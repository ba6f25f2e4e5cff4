package areas_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/geo/areas"
)

func defaultSet(t testing.TB) *areas.Set {
	t.Helper()
	s, err := areas.Default()
	if errors.Is(err, areas.ErrNoEmbeddedData) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Places checked against the shipped polygons. Ward answers inside the old
// city are nearest-centre guesses and only asserted where the guess is
// clear-cut (well inside the ward).
func TestLocateKnownPlaces(t *testing.T) {
	s := defaultSet(t)
	tests := []struct {
		name           string
		lon, lat       float64
		district, ward string // codes; "" for none
		approx         bool
	}{
		{"Hải Châu centre, Trần Phú street", 108.2208, 16.0678, "492", "20242", true},
		{"Sơn Trà peninsula", 108.27, 16.10, "493", "20263", true},
		{"Hòa Vang countryside", 108.05, 16.00, "497", "20320", true},
		{"at sea east of Sơn Trà", 108.40, 16.10, "", "", false},
		{"Thanh Khê administrative centre", 108.192, 16.065, "491", "20209", true},
		{"Hải Vân pass", 108.138, 16.183, "490", "20194", true},
		{"Non Nước beach", 108.268, 16.003, "494", "20285", true},
		{"Cẩm Lệ bridge", 108.205, 16.015, "495", "20260", true},
		{"Hòa Xuân flood-prone area", 108.225, 15.992, "495", "20314", true},
		{"Hoàng Sa, largest island polygon", 112.3372, 16.8361, "498", "20333", false},
		{"Hoàng Sa, open sea between islands", 111.6, 16.5, "", "", false},
		{"Hội An old town (merged area)", 108.33, 15.88, "", "20410", true},
		{"Quảng Nam mountains (merged area)", 107.6, 15.5, "", "20716", true},
		{"at sea 7 km off Ngũ Hành Sơn, beyond the merged-area margin", 108.30, 16.02, "", "", false},
		{"Hà Nội", 105.85, 21.03, "", "", false},
		{"Huế (north of Hải Vân)", 107.59, 16.46, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := s.Locate(tt.lon, tt.lat)
			if loc.DistrictCode != tt.district || loc.WardCode != tt.ward || loc.WardApprox != tt.approx {
				t.Fatalf("Locate(%g, %g) = %+v, want district %q ward %q approx %v", tt.lon, tt.lat, loc, tt.district, tt.ward, tt.approx)
			}
			if (loc.District == "") != (loc.DistrictCode == "") || (loc.Ward == "") != (loc.WardCode == "") {
				t.Fatalf("names and codes disagree: %+v", loc)
			}
		})
	}
}

func TestLocateNames(t *testing.T) {
	loc := defaultSet(t).Locate(108.2208, 16.0678)
	want := areas.Location{District: "Quận Hải Châu", DistrictCode: "492", Ward: "Phường Hải Châu", WardCode: "20242", WardApprox: true}
	if loc != want {
		t.Fatalf("got %+v, want %+v", loc, want)
	}
}

// The district polygons and the city outline come from the same source;
// their union should match the outline except along shared edges.
func TestDistrictsCoverCityBoundary(t *testing.T) {
	s := defaultSet(t)
	city := loadBoundary(t)
	const n = 300
	b := geo.Rect{MinX: 107.81, MinY: 15.91, MaxX: 108.35, MaxY: 16.22} // mainland
	var inside, mismatch int
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			x := b.MinX + (b.MaxX-b.MinX)*(float64(i)+0.5)/n
			y := b.MinY + (b.MaxY-b.MinY)*(float64(j)+0.5)/n
			inCity := city.ContainsPoint(x, y)
			loc := s.Locate(x, y)
			if inCity {
				inside++
			}
			if inCity != (loc.DistrictCode != "") {
				mismatch++
			}
			if inCity && loc.WardCode == "" {
				t.Errorf("(%g, %g) in the city, district %s, but no ward", x, y, loc.DistrictCode)
			}
		}
	}
	if rate := float64(mismatch) / float64(inside); rate > 0.002 {
		t.Errorf("%d of %d samples in the city disagree with the districts (%.3f%%)", mismatch, inside, 100*rate)
	}
	t.Logf("%d samples in the city, %d disagree with the union of districts", inside, mismatch)
}

func loadBoundary(t *testing.T) *geo.Area {
	t.Helper()
	raw, err := fs.ReadFile(areas.Files(), "city_boundary.geojson")
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Features []struct{ Geometry json.RawMessage }
	}
	if err := json.Unmarshal(raw, &fc); err != nil || len(fc.Features) != 1 {
		t.Fatalf("city_boundary.geojson: %v, %d features", err, len(fc.Features))
	}
	g, err := geo.Decode(fc.Features[0].Geometry)
	if err != nil {
		t.Fatal(err)
	}
	return geo.NewArea(g)
}

func TestDistrictsAndWards(t *testing.T) {
	s := defaultSet(t)
	ds := s.Districts()
	if len(ds) != 8 {
		t.Fatalf("%d districts, want 8", len(ds))
	}
	hc := ds[2]
	if hc.Code != "492" || hc.Name != "Quận Hải Châu" || hc.ShortName != "Hải Châu" || !hc.Bounds.ContainsPoint(108.2208, 16.0678) {
		t.Errorf("districts[2] = %+v", hc)
	}
	ws := s.Wards()
	if len(ws) != 94 {
		t.Fatalf("%d wards, want 94", len(ws))
	}
	suspect := 0
	byCode := map[string]areas.WardInfo{}
	for _, w := range ws {
		byCode[w.Code] = w
		if w.Suspect {
			suspect++
		}
	}
	if suspect != 6 {
		t.Errorf("%d suspect wards, want 6", suspect)
	}
	if hs := byCode["20333"]; hs.Whole != "498" || len(hs.Districts) != 0 {
		t.Errorf("Hoàng Sa = %+v, want it to cover district 498", hs)
	}
	if hv := byCode["20194"]; strings.Join(hv.Districts, ",") != "490,497" {
		t.Errorf("Hải Vân districts = %v, want 490,497", hv.Districts)
	}
	// The upstream mapping lists a Quảng Nam commune (20669) under Phường
	// Hải Châu; it must not pull the ward into the merged area.
	if hc := byCode["20242"]; strings.Join(hc.Districts, ",") != "492" {
		t.Errorf("Hải Châu districts = %v, want 492", hc.Districts)
	}
	ws[0].Districts = append(ws[0].Districts, "x")
	if got := s.Wards()[0].Districts; len(got) > 0 && got[len(got)-1] == "x" {
		t.Error("Wards shares its slices with the Set")
	}
}

// No misplaced (geo_suspect) point is ever the answer of a nearest-centre
// guess, and every answer in the old city is a ward formed from it.
func TestSuspectWardsNeverGuessed(t *testing.T) {
	s := defaultSet(t)
	info := map[string]areas.WardInfo{}
	for _, w := range s.Wards() {
		info[w.Code] = w
	}
	for x := 107.2; x <= 108.8; x += 0.01 {
		for y := 14.9; y <= 16.3; y += 0.01 {
			loc := s.Locate(x, y)
			w := info[loc.WardCode]
			if loc.WardApprox && w.Suspect {
				t.Fatalf("(%g, %g) guessed suspect ward %s", x, y, w.Name)
			}
			if loc.DistrictCode != "" && loc.WardCode != "" && w.Whole != loc.DistrictCode && !contains(w.Districts, loc.DistrictCode) {
				t.Fatalf("(%g, %g) in district %s got ward %s formed from %v", x, y, loc.DistrictCode, w.Name, w.Districts)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestLocateGeometry(t *testing.T) {
	s := defaultSet(t)
	pt := func(x, y float64) geom.T { return geom.NewPointFlat(geom.XY, []float64{x, y}) }
	tests := []struct {
		name     string
		g        geom.T
		district string
	}{
		{"point", pt(108.2208, 16.0678), "492"},
		{"nil", nil, ""},
		{"empty line", geom.NewLineString(geom.XY), ""},
		// From Hòa Vang out to sea: neither end is in Hải Châu, the middle is.
		{"line, halfway point decides", geom.NewLineStringFlat(geom.XY, []float64{108.05, 16.00, 108.40, 16.10}), "492"},
		{"line in XYZ", geom.NewLineStringFlat(geom.XYZ, []float64{108.26, 16.10, 5, 108.28, 16.10, 7}), "493"},
		{"multilinestring, longest member", geom.NewMultiLineStringFlat(geom.XY, []float64{108.40, 16.10, 108.41, 16.10, 108.26, 16.10, 108.30, 16.11}, []int{4, 8}), "493"},
		{"multipoint, member nearest the mean", geom.NewMultiPointFlat(geom.XY, []float64{108.05, 16.00, 108.2208, 16.0678, 108.23, 16.07}), "492"},
		// A C-shape open to the east whose bounding-box centre
		// (108.2208, 16.068) lies in its gap, in Hải Châu; the point used
		// is on its western bar, in Thanh Khê.
		{"concave polygon", geom.NewPolygonFlat(geom.XY, []float64{
			108.18, 16.058, 108.2616, 16.058, 108.2616, 16.061, 108.19, 16.061, 108.19, 16.075,
			108.2616, 16.075, 108.2616, 16.078, 108.18, 16.078, 108.18, 16.058}, []int{18}), "491"},
		{"polygon with centre inside", geom.NewPolygonFlat(geom.XY, []float64{108.04, 15.99, 108.06, 15.99, 108.06, 16.01, 108.04, 16.01, 108.04, 15.99}, []int{10}), "497"},
		{"multipolygon, largest member", geom.NewMultiPolygonFlat(geom.XY, []float64{
			108.40, 16.10, 108.41, 16.10, 108.41, 16.11, 108.40, 16.10,
			108.04, 15.99, 108.06, 15.99, 108.06, 16.01, 108.04, 16.01, 108.04, 15.99}, [][]int{{8}, {18}}), "497"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.LocateGeometry(tt.g).DistrictCode; got != tt.district {
				t.Fatalf("district %q, want %q", got, tt.district)
			}
		})
	}
}
