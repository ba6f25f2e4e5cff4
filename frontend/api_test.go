package frontend

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
)

type collection struct {
	Type           string `json:"type"`
	NumberReturned int    `json:"numberReturned"`
	Truncated      bool   `json:"truncated"`
	Features       []struct {
		ID       string   `json:"id"`
		Layer    string   `json:"layer"`
		Distance *float64 `json:"distance"`
	} `json:"features"`
}

func (c collection) ids() string {
	var ids []string
	for _, f := range c.Features {
		ids = append(ids, f.ID)
	}
	return strings.Join(ids, ",")
}

func get(t *testing.T, e *testEnv, path string, wantStatus int) []byte {
	t.Helper()
	return do(t, e, http.MethodGet, path, "", wantStatus)
}

func do(t *testing.T, e *testEnv, method, path, body string, wantStatus int) []byte {
	t.Helper()
	req, _ := http.NewRequest(method, e.http.URL+path, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, wantStatus, b)
	}
	return b
}

func decodeCollection(t *testing.T, b []byte) collection {
	t.Helper()
	var c collection
	if err := json.Unmarshal(b, &c); err != nil || c.Type != "FeatureCollection" {
		t.Fatalf("not a FeatureCollection (%v): %s", err, b)
	}
	return c
}

// A road segment (LineString) crossing central Hải Châu, two cameras and a
// report in Sơn Trà, tagged with districts as the area tagger would.
func seedQueryLayers(t *testing.T, e *testEnv) {
	t.Helper()
	now := time.Now()
	road := geom.NewLineStringFlat(geom.XY, []float64{108.19, 16.06, 108.24, 16.07})
	e.store.Apply([]layers.Event{
		{Layer: "traffic.segments", ID: "seg-1", Time: now, Geometry: road, Properties: json.RawMessage(`{"districtCode":"492"}`)},
		{Layer: "traffic.cameras", ID: "cam-hc", Time: now, Geometry: geom.NewPointFlat(geom.XY, haiChau), Properties: json.RawMessage(`{"districtCode":"492"}`)},
		{Layer: "traffic.cameras", ID: "cam-st", Time: now, Geometry: geom.NewPointFlat(geom.XY, sonTra), Properties: json.RawMessage(`{"districtCode":"493"}`)},
		{Layer: "feedback.reports", ID: "rep-st", Time: now, Geometry: geom.NewPointFlat(geom.XY, sonTra), Properties: json.RawMessage(`{"districtCode":"493"}`)},
	})
}

func TestLayersListing(t *testing.T) {
	e := newTestEnv(t, Config{}, layers.Config{Layers: map[string]layers.LayerConfig{"traffic.cameras": {TTL: time.Minute}}})
	seedQueryLayers(t, e)
	var out struct {
		Epoch  string
		Seq    uint64
		Layers []struct {
			Name       string
			Features   int
			Updated    *time.Time
			TTLSeconds float64 `json:"ttl_seconds"`
		}
	}
	if err := json.Unmarshal(get(t, e, "/api/v1/layers", 200), &out); err != nil {
		t.Fatal(err)
	}
	if out.Epoch != e.store.Epoch() || out.Seq != 4 || len(out.Layers) != 3 {
		t.Fatalf("listing = %+v", out)
	}
	cams := out.Layers[1]
	if cams.Name != "traffic.cameras" || cams.Features != 2 || cams.Updated == nil || cams.TTLSeconds != 60 {
		t.Errorf("cameras entry = %+v", cams)
	}
}

func TestFeatureQueries(t *testing.T) {
	e := newTestEnv(t, Config{Districts: []District{
		{Code: "492", Name: "Quận Hải Châu", Bounds: geo.Rect{MinX: 108.18, MinY: 16.02, MaxX: 108.24, MaxY: 16.09}},
		{Code: "493", Name: "Quận Sơn Trà", Bounds: geo.Rect{MinX: 108.22, MinY: 16.05, MaxX: 108.35, MaxY: 16.16}},
	}}, layers.Config{})
	seedQueryLayers(t, e)
	for _, tc := range []struct {
		path, want string
	}{
		{"/api/v1/layers/traffic.cameras/features", "cam-hc,cam-st"},
		{"/api/v1/layers/traffic.cameras/features?bbox=108.20,16.05,108.23,16.08", "cam-hc"},
		// The segment has no vertex in this box but crosses it.
		{"/api/v1/layers/traffic.segments/features?bbox=108.21,16.05,108.22,16.07", "seg-1"},
		{"/api/v1/layers/traffic.segments/features?bbox=108.21,16.07,108.22,16.08", ""},
		{"/api/v1/layers/traffic.cameras/features?near=108.2208,16.0678&radius=500", "cam-hc"},
		{"/api/v1/layers/traffic.cameras/features?near=108.2208,16.0678&radius=10000", "cam-hc,cam-st"},
		{"/api/v1/layers/traffic.cameras/features?district=493", "cam-st"},
		{"/api/v1/nearest?lon=108.245&lat=16.10&k=2", "cam-st,rep-st"},
		{"/api/v1/nearest?lon=108.2208&lat=16.0678&k=1&layers=traffic.cameras", "cam-hc"},
		{"/api/v1/nearest?lon=108.2208&lat=16.0678&k=5&layers=traffic.cameras&max_distance=1000", "cam-hc"},
	} {
		c := decodeCollection(t, get(t, e, tc.path, 200))
		got := c.ids()
		if tc.path == "/api/v1/layers/traffic.cameras/features" || strings.Contains(tc.path, "lon=108.245") {
			got = sortedIDs(c)
		}
		if got != tc.want {
			t.Errorf("GET %s = %q, want %q", tc.path, got, tc.want)
		}
	}
	c := decodeCollection(t, get(t, e, "/api/v1/layers/traffic.cameras/features?limit=1", 200))
	if c.NumberReturned != 1 || !c.Truncated {
		t.Errorf("limit=1: %+v", c)
	}
	c = decodeCollection(t, get(t, e, "/api/v1/nearest?lon=108.2208&lat=16.0678&k=1", 200))
	if c.Features[0].Distance == nil || *c.Features[0].Distance > 1 {
		t.Errorf("nearest carries no distance or a wrong one: %+v", c.Features[0])
	}
}

func sortedIDs(c collection) string {
	ids := strings.Split(c.ids(), ",")
	for i := range ids {
		for j := i + 1; j < len(ids); j++ {
			if ids[j] < ids[i] {
				ids[i], ids[j] = ids[j], ids[i]
			}
		}
	}
	return strings.Join(ids, ",")
}

func TestWithinPolygonAndSingleFeature(t *testing.T) {
	e := newTestEnv(t, Config{}, layers.Config{})
	seedQueryLayers(t, e)
	zone := `{"type":"Polygon","coordinates":[[[108.23,16.09],[108.26,16.09],[108.26,16.11],[108.23,16.11],[108.23,16.09]]]}`
	c := decodeCollection(t, do(t, e, http.MethodPost, "/api/v1/layers/feedback.reports/within", zone, 200))
	if c.ids() != "rep-st" {
		t.Errorf("within = %q", c.ids())
	}
	b := get(t, e, "/api/v1/layers/traffic.cameras/features/cam-hc", 200)
	if !json.Valid(b) || !strings.Contains(string(b), `"id":"cam-hc"`) {
		t.Errorf("feature = %s", b)
	}
}

func TestQueryErrorsSayWhatIsWrong(t *testing.T) {
	e := newTestEnv(t, Config{}, layers.Config{})
	seedQueryLayers(t, e)
	for _, tc := range []struct {
		method, path, body string
		status             int
		code, mention      string
	}{
		{"GET", "/api/v1/layers/nope/features", "", 404, "unknown_layer", "nope"},
		{"GET", "/api/v1/layers/traffic.cameras/features/ghost", "", 404, "not_found", "ghost"},
		{"GET", "/api/v1/layers/traffic.cameras/features?bbox=1,2,3", "", 400, "bad_request", "4 comma-separated"},
		{"GET", "/api/v1/layers/traffic.cameras/features?bbox=108.3,16,108.2,16.1", "", 400, "bad_request", "west must not exceed east"},
		{"GET", "/api/v1/layers/traffic.cameras/features?limit=0", "", 400, "bad_request", "limit"},
		{"GET", "/api/v1/layers/traffic.cameras/features?near=108.2,16&radius=-5", "", 400, "bad_request", "radius"},
		{"GET", "/api/v1/layers/traffic.cameras/features?district=999", "", 400, "bad_request", "999"},
		{"GET", "/api/v1/nearest?lon=200&lat=16", "", 400, "bad_request", "lon and lat"},
		{"GET", "/api/v1/nearest?lon=108&lat=16&k=5000", "", 400, "bad_request", "k:"},
		{"POST", "/api/v1/layers/feedback.reports/within", `{"type":"Point","coordinates":[108,16]}`, 400, "invalid_geometry", "Polygon"},
		{"POST", "/api/v1/layers/feedback.reports/within", `{"type":"Polygon"`, 400, "invalid_geometry", "geometry"},
	} {
		b := do(t, e, tc.method, tc.path, tc.body, tc.status)
		var body struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal(b, &body); err != nil || body.Error.Code != tc.code || !strings.Contains(body.Error.Message, tc.mention) {
			t.Errorf("%s %s: %s, want code %s mentioning %q", tc.method, tc.path, b, tc.code, tc.mention)
		}
	}
}

func TestDistrictCounts(t *testing.T) {
	e := newTestEnv(t, Config{Districts: []District{{Code: "492", Name: "Quận Hải Châu"}, {Code: "493", Name: "Quận Sơn Trà"}}}, layers.Config{})
	seedQueryLayers(t, e)
	e.apply(t, "traffic.cameras", "cam-sea", []float64{108.40, 16.10}, "") // untagged: outside every district
	var out struct {
		Districts []struct {
			Code   string
			Counts map[string]int
		}
	}
	if err := json.Unmarshal(get(t, e, "/api/v1/districts?layers=traffic.cameras,feedback.reports", 200), &out); err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]int{}
	for _, d := range out.Districts {
		got[d.Code] = d.Counts
	}
	if got["492"]["traffic.cameras"] != 1 || got["493"]["traffic.cameras"] != 1 || got["493"]["feedback.reports"] != 1 ||
		got[""]["traffic.cameras"] != 1 || got["492"]["traffic.segments"] != 0 {
		t.Errorf("district counts = %v", got)
	}
}
