package areas_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/danang-ioc/ioc/geo/areas"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A small city: two square districts side by side, a ward polygon in the
// west one, and two ward points in the east one.
const customAreas = `{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"district_code":"W","name":"West"},
  "geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}},
 {"type":"Feature","properties":{"district_code":2,"name":"East","name_short":"E"},
  "geometry":{"type":"MultiPolygon","coordinates":[[[[1,0],[2,0],[2,1],[1,1],[1,0]]]]}},
 {"type":"Feature","properties":{"ward_code":"w1","name":"Ward \"One\""},
  "geometry":{"type":"Polygon","coordinates":[[[0.2,0.2],[0.8,0.2],[0.8,0.8],[0.2,0.8],[0.2,0.2]]]}},
 {"type":"Feature","properties":{"ward_code_2025":"e1","name":"East One","district_codes":["2"]},
  "geometry":{"type":"Point","coordinates":[1.2,0.5]}},
 {"type":"Feature","properties":{"ward_code_2025":"e2","name":"East Two"},
  "geometry":{"type":"Point","coordinates":[1.8,0.5]}},
 {"type":"Feature","properties":{"ward_code_2025":"e3","name":"Misplaced","geo_suspect":true,"district_codes":["2"]},
  "geometry":{"type":"Point","coordinates":[1.6,0.5]}}
]}`

func TestLoadCustom(t *testing.T) {
	s, err := areas.Load(writeFile(t, "city.geojson", customAreas))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lon, lat float64
		want     areas.Location
	}{
		{0.5, 0.5, areas.Location{District: "West", DistrictCode: "W", Ward: `Ward "One"`, WardCode: "w1"}},
		{0.1, 0.5, areas.Location{District: "West", DistrictCode: "W"}},
		{1.3, 0.9, areas.Location{District: "East", DistrictCode: "2", Ward: "East One", WardCode: "e1", WardApprox: true}},
		// e3 is nearer but suspect; e2 has no district data, so it belongs
		// to the district its point lies in.
		{1.62, 0.5, areas.Location{District: "East", DistrictCode: "2", Ward: "East Two", WardCode: "e2", WardApprox: true}},
		{3, 3, areas.Location{}},
	}
	for _, tt := range tests {
		if got := s.Locate(tt.lon, tt.lat); got != tt.want {
			t.Errorf("Locate(%g, %g) = %+v, want %+v", tt.lon, tt.lat, got, tt.want)
		}
	}
	if ds := s.Districts(); len(ds) != 2 || ds[1].ShortName != "E" || ds[0].ShortName != "West" {
		t.Errorf("Districts() = %+v", ds)
	}
	tag := areas.NewTagger(s)
	ev := pointEvent(0.5, 0.5, "")
	tag.Tag(&ev)
	if want := `{"district":"West","districtCode":"W","ward":"Ward \"One\"","wardCode":"w1"}`; string(ev.Properties) != want {
		t.Errorf("tagged %s, want %s", ev.Properties, want)
	}
}

// A later file replaces features with the same code: here a corrected
// position for a commune the upstream data misplaces.
func TestDefaultWithOverride(t *testing.T) {
	fix := writeFile(t, "fix.geojson", `{"type":"FeatureCollection","features":[
	 {"type":"Feature","properties":{"ward_code_2025":"20506","name":"Xã Thượng Đức (corrected)"},
	  "geometry":{"type":"Point","coordinates":[107.95,15.80]}}]}`)
	s, err := areas.DefaultWith(fix)
	if errors.Is(err, areas.ErrNoEmbeddedData) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Wards()) != 94 {
		t.Fatalf("%d wards after override, want 94", len(s.Wards()))
	}
	if loc := s.Locate(107.951, 15.801); loc.WardCode != "20506" || loc.Ward != "Xã Thượng Đức (corrected)" || !loc.WardApprox {
		t.Errorf("corrected ward not used: %+v", loc)
	}
	if loc := defaultSet(t).Locate(107.951, 15.801); loc.WardCode == "20506" {
		t.Errorf("Default changed by DefaultWith: %+v", loc)
	}
}

func TestLoadErrors(t *testing.T) {
	feature := func(props, geometry string) string {
		return `{"type":"FeatureCollection","features":[{"type":"Feature","properties":` + props + `,"geometry":` + geometry + `}]}`
	}
	square := `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}`
	tests := []struct {
		name, file, content string
		want                []string // substrings of the error
	}{
		{"syntax error", "a.geojson", "{\"type\":\"FeatureCollection\",\n\"features\":[}", []string{"a.geojson", "line 2, column", "invalid JSON"}},
		{"truncated", "a.geojson", `{"type":"FeatureCollection","features":[`, []string{"a.geojson", "invalid JSON"}},
		{"not a collection", "a.geojson", `{"type":"Feature"}`, []string{"a.geojson: type", "FeatureCollection", `"Feature"`}},
		{"features not an array", "a.geojson", `{"type":"FeatureCollection","features":{}}`, []string{"features", "want an array"}},
		{"no features", "a.geojson", `{"type":"FeatureCollection","features":[]}`, []string{"features: no features"}},
		{"no code", "a.geojson", feature(`{"name":"x"}`, square), []string{"features[0].properties", "no district_code"}},
		{"no properties", "a.geojson", feature(`null`, square), []string{"features[0].properties", "no properties"}},
		{"name not a string", "a.geojson", feature(`{"district_code":"1","name":5}`, square), []string{"features[0].properties.name", "want a string"}},
		{"bad code", "a.geojson", feature(`{"district_code":true,"name":"x"}`, square), []string{"features[0].properties.district_code", "want a code (string or whole number), found JSON true"}},
		{"not an object", "a.geojson", `[1]`, []string{"a.geojson", "want a GeoJSON FeatureCollection object, found JSON array"}},
		{"feature not an object", "a.geojson", `{"type":"FeatureCollection","features":[1]}`, []string{"features[0]", "want a GeoJSON Feature object, found JSON number"}},
		{"missing name", "a.geojson", feature(`{"district_code":"1"}`, square), []string{"features[0].properties.name", "missing name for district 1"}},
		{"missing geometry", "a.geojson", feature(`{"district_code":"1","name":"x"}`, `null`), []string{"features[0].geometry: missing geometry"}},
		{"ring not closed", "a.geojson", feature(`{"district_code":"1","name":"x"}`, `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0.5]]]}`),
			[]string{"features[0].geometry.coordinates[0]", "not closed"}},
		{"swapped coordinates", "a.geojson", feature(`{"district_code":"1","name":"x"}`, `{"type":"Point","coordinates":[16.06,108.2]}`),
			[]string{"features[0].geometry.coordinates", "swapped"}},
		{"point as district", "a.geojson", feature(`{"district_code":"1","name":"x"}`, `{"type":"Point","coordinates":[108.2,16.06]}`),
			[]string{"features[0].geometry.type", "want a Polygon or MultiPolygon"}},
		{"line as ward", "a.geojson", feature(`{"ward_code":"1","name":"x"}`, `{"type":"LineString","coordinates":[[0,0],[1,1]]}`),
			[]string{"features[0].geometry.type", "want a Point, Polygon or MultiPolygon"}},
		{"duplicate code", "a.geojson", `{"type":"FeatureCollection","features":[
			{"type":"Feature","properties":{"district_code":"1","name":"x"},"geometry":` + square + `},
			{"type":"Feature","properties":{"district_code":"1","name":"y"},"geometry":` + square + `}]}`,
			[]string{"features[1]", "district code 1 already used by features[0]"}},
		{"unknown district", "a.geojson", feature(`{"ward_code":"1","name":"x","district_codes":["9"]}`, `{"type":"Point","coordinates":[0.5,0.5]}`),
			[]string{"features[0].properties.district_codes", "unknown district 9"}},
		{"csv without columns", "t.csv", "code,name\n1,x\n", []string{"t.csv: line 1", "district_code and ward_code"}},
		{"csv row without district", "t.csv", "district_code,ward_code\n490,20194\n,20195\n", []string{"t.csv: line 3", "ward 20195 has no district_code"}},
		{"csv broken quote", "t.csv", "district_code,ward_code\n\"490,20194\n", []string{"t.csv", "line 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := areas.Load(writeFile(t, tt.file, tt.content))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := areas.Load(filepath.Join(t.TempDir(), "nope.geojson"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "nope.geojson") {
		t.Fatalf("got %v", err)
	}
	if _, err := areas.Load(); err == nil {
		t.Fatal("loading nothing succeeded")
	}
}

func TestFileErrorType(t *testing.T) {
	_, err := areas.Load(writeFile(t, "a.geojson", `{"type":"FeatureCollection","features":[]}`))
	var fe *areas.FileError
	if !errors.As(err, &fe) || fe.Where != "features" || !strings.HasSuffix(fe.File, "a.geojson") {
		t.Fatalf("got %#v", err)
	}
}
