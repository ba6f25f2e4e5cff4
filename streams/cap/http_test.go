package cap

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
)

func newServer(t *testing.T) (*httptest.Server, *layers.Store) {
	t.Helper()
	s := layers.NewStore(layers.Config{}, nil)
	intake := streams.NewIntake(nil, streams.NewLocalBus(func(evs []layers.Event) { s.Apply(evs) }))
	r := chi.NewRouter()
	r.Route("/api/v1", func(r chi.Router) {
		NewIngest(intake, s, nil, nil).Routes(r)
		NewExporter(ExportConfig{}, s).Routes(r)
	})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv, s
}

func post(t *testing.T, url, ctype, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, ctype, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	return resp.StatusCode, v
}

func TestIngest(t *testing.T) {
	srv, s := newServer(t)
	url := srv.URL + "/api/v1/cap"
	fx := fixtures(t)
	code, v := post(t, url, "application/cap+xml", string(fx["typhoon_nchmf.xml"]))
	if code != 202 || v["accepted"] != 1.0 {
		t.Fatalf("typhoon: %d %v", code, v)
	}
	f := s.Layer(LayerAlerts).Get("canhbao@nchmf.gov.vn/vn.gov.nchmf.2026.bao-so-12.0042/0/0")
	if f == nil {
		t.Fatalf("no feature; layer holds %d", s.Layer(LayerAlerts).Len())
	}
	poly, ok := f.Geometry.(*geom.Polygon)
	if !ok || poly.FlatCoords()[0] != 108.05 || poly.FlatCoords()[1] != 16.20 {
		t.Errorf("geometry %T %v: want a Polygon starting at lon 108.05, lat 16.20", f.Geometry, f.Geometry.FlatCoords()[:2])
	}
	var p map[string]any
	_ = json.Unmarshal(f.Properties, &p)
	if p["severity"] != "Extreme" || p["expires"] != "2026-11-28T15:00:00Z" || p["event"] != "Bão số 12" || !f.Time.Equal(time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)) {
		t.Errorf("properties %v time %v", p, f.Time)
	}

	// An update with two infos: 3 areas with geometry; the circle is a
	// MultiPolygon with the circle kept as a property.
	code, v = post(t, url, "application/xml; charset=utf-8", string(fx["flood_two_languages.xml"]))
	if code != 202 || v["accepted"] != 3.0 {
		t.Fatalf("flood: %d %v", code, v)
	}
	c := s.Layer(LayerAlerts).Get("pctt@danang.gov.vn/vn.danang.pctt.2026-11-27.007/0/0")
	if mp, ok := c.Geometry.(*geom.MultiPolygon); !ok || mp.NumPolygons() != 1 || len(mp.Polygon(0).FlatCoords()) != 2*(circleSides+1) {
		t.Errorf("circle geometry %T", c.Geometry)
	}
	if !strings.Contains(string(c.Properties), `"circles":[{"lat":16.115,"lon":108.13,"radiusKm":2.5}]`) {
		t.Errorf("circle properties %s", c.Properties)
	}
	// A cancel of the update deletes its features.
	code, v = post(t, url, "application/cap+xml", string(fx["cancel_minimal.xml"]))
	if code != 202 || len(v["deleted"].([]any)) != 3 || s.Layer(LayerAlerts).Len() != 1 {
		t.Errorf("cancel: %d %v, %d features left", code, v, s.Layer(LayerAlerts).Len())
	}
}

func TestIngestRefused(t *testing.T) {
	srv, _ := newServer(t)
	url := srv.URL + "/api/v1/cap"
	code, v := post(t, url, "application/json", `{}`)
	if code != 415 {
		t.Errorf("json: %d %v", code, v)
	}
	code, v = post(t, url, "application/cap+xml", strings.Replace(valid, "<event>Flood</event>", "", 1))
	probs, _ := v["error"].(map[string]any)["problems"].([]any)
	if code != 400 || len(probs) != 1 || probs[0].(map[string]any)["path"] != "alert/info[0]/event" {
		t.Errorf("missing event: %d %v", code, v)
	}
	// Geocode-only areas cannot be drawn: rejected, the alert still accepted.
	code, v = post(t, url, "application/cap+xml", valid)
	if rj, _ := v["rejected"].([]any); code != 202 || v["accepted"] != 0.0 || len(rj) != 1 {
		t.Errorf("geocode-only: %d %v", code, v)
	}
	code, v = post(t, url, "application/cap+xml", strings.Replace(valid, "Actual", "Draft", 1))
	if code != 202 || !strings.Contains(v["note"].(string), "Draft") {
		t.Errorf("draft: %d %v", code, v)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestExport(t *testing.T) {
	srv, s := newServer(t)
	opened := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	s.Apply([]layers.Event{
		{Layer: LayerIncidents, ID: "inc-7", Time: opened, Geometry: geom.NewPointFlat(geom.XY, []float64{108.2208, 16.0678}),
			Properties: json.RawMessage(`{"category":"flooding","severity":"critical","status":"open","title":"Flooding at Hòa Xuân","district":"Quận Cẩm Lệ","districtCode":"495","ward":"Phường Hòa Xuân","wardCode":"20305","opened":"2026-11-27T09:00:00Z","evidence":[{},{}],"evidenceCount":57}`)},
		{Layer: LayerZones, ID: "zone-1", Time: opened, Geometry: geom.NewPolygonFlat(geom.XY, []float64{108.2, 16.0, 108.3, 16.0, 108.3, 16.1, 108.2, 16.0}, []int{8}),
			Properties: json.RawMessage(`{"name":"Vùng ngập Hòa Xuân","kind":"emergency","severity":"major","status":"active","declared":"2026-11-27T09:05:00Z","by":"op"}`)},
	})
	code, doc := get(t, srv.URL+"/api/v1/incidents/inc-7/cap")
	if code != 200 {
		t.Fatalf("%d %s", code, doc)
	}
	a, err := DecodeBytes([]byte(doc))
	if err != nil {
		t.Fatalf("the export is not valid CAP: %v\n%s", err, doc)
	}
	in := a.Infos[0]
	if a.MsgType != "Alert" || a.Sent != "2026-11-27T16:00:00+07:00" || in.Severity != "Extreme" || in.Categories[0] != "Met" ||
		in.Areas[0].Circles[0] != "16.0678,108.2208 0.5" || in.Areas[0].AreaDesc != "Phường Hòa Xuân, Quận Cẩm Lệ, Thành phố Đà Nẵng" ||
		!strings.Contains(in.Description, "57 bằng chứng") {
		t.Errorf("incident alert:\n%s", doc)
	}
	code, doc = get(t, srv.URL+"/api/v1/zones/zone-1/cap")
	z, err := DecodeBytes([]byte(doc))
	if code != 200 || err != nil || z.Infos[0].Severity != "Severe" || z.Infos[0].Areas[0].Polygons[0] != "16,108.2 16,108.3 16.1,108.3 16,108.2" {
		t.Errorf("zone alert %d %v:\n%s", code, err, doc)
	}
	// Resolved: a Cancel referencing the alert.
	s.Apply([]layers.Event{{Layer: LayerIncidents, ID: "inc-7", Time: opened.Add(time.Hour), Geometry: geom.NewPointFlat(geom.XY, []float64{108.2208, 16.0678}),
		Properties: json.RawMessage(`{"category":"flooding","severity":"critical","status":"resolved","title":"Flooding at Hòa Xuân","opened":"2026-11-27T09:00:00Z","resolved":"2026-11-27T10:00:00Z"}`)}})
	_, doc = get(t, srv.URL+"/api/v1/incidents/inc-7/cap")
	c, err := DecodeBytes([]byte(doc))
	if err != nil || c.MsgType != "Cancel" || c.References != "ioc@danang.gov.vn,"+a.Identifier+","+a.Sent || c.Sent != "2026-11-27T17:00:00+07:00" {
		t.Errorf("cancel %v:\n%s", err, doc)
	}
	if code, _ := get(t, srv.URL+"/api/v1/incidents/nope/cap"); code != 404 {
		t.Errorf("unknown incident: %d", code)
	}
	for sev, want := range map[string]string{"critical": "Extreme", "major": "Severe", "minor": "Moderate", "info": "Minor"} {
		if SeverityOf[sev] != want {
			t.Errorf("severity %s -> %s, want %s", sev, SeverityOf[sev], want)
		}
	}
}
