package zones

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/danang-ioc/ioc/layers"
)

func newServer(t *testing.T) (*httptest.Server, *Engine, *layers.Store, *clock) {
	t.Helper()
	set, bounds := defaultAreas(t)
	c := &clock{t: t0}
	s := newStore(c)
	e := New(Config{NewID: seqIDs(), Areas: set, Boundaries: bounds}, s, nil, nil)
	r := chi.NewRouter()
	r.Route("/api/v1", e.Routes)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv, e, s, c
}

func do(t *testing.T, method, url, body string, header ...string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	return resp.StatusCode, v
}

const square = `{"type":"Polygon","coordinates":[[[108.20,16.03],[108.23,16.03],[108.23,16.06],[108.20,16.06],[108.20,16.03]]]}`

func TestHTTPLifecycle(t *testing.T) {
	srv, e, s, c := newServer(t)
	api := srv.URL + "/api/v1/zones"
	code, v := do(t, "POST", api, `{"name":"Ngập Hòa Xuân","kind":"emergency","severity":"critical","geometry":`+square+`}`, "X-IOC-User", "op-7")
	props, _ := v["properties"].(map[string]any)
	if code != http.StatusCreated || v["id"] != "zone-1" || props["by"] != "op-7" || props["status"] != "active" || props["district"] == nil {
		t.Fatalf("declare: %d %v", code, v)
	}
	code, v = do(t, "POST", api, `{"name":"Quận Hải Châu","area":{"ref":"Hải Châu"},"by":"op-8"}`)
	props, _ = v["properties"].(map[string]any)
	area, _ := props["area"].(map[string]any)
	if code != http.StatusCreated || props["by"] != "op-8" || area["level"] != "district" || props["severity"] != "major" {
		t.Fatalf("declare by area: %d %v", code, v)
	}
	c.Set(t0.Add(time.Minute))
	s.Apply([]layers.Event{feature("response.teams", "T", t0, point(108.21, 16.04), `{"name":"T","kind":"rescue","status":"busy"}`)})
	e.Step()
	code, v = do(t, "GET", api+"/zone-1", "")
	sum := v["properties"].(map[string]any)["summary"].(map[string]any)
	if code != 200 || sum["teams"] != 1.0 {
		t.Errorf("get: %d %v", code, v)
	}
	code, v = do(t, "GET", api+"/zone-1/contents?layer=response.teams", "")
	if code != 200 || v["total"] != 1.0 || len(v["features"].([]any)) != 1 {
		t.Errorf("contents: %d %v", code, v)
	}
	code, v = do(t, "GET", api, "")
	if code != 200 || len(v["features"].([]any)) != 2 {
		t.Errorf("list: %d %v", code, v)
	}
	code, v = do(t, "DELETE", api+"/zone-1", "", "X-IOC-User", "chief")
	props, _ = v["properties"].(map[string]any)
	if code != 200 || props["status"] != "closed" || props["closedBy"] != "chief" || props["closed"] == nil {
		t.Errorf("close: %d %v", code, v)
	}
	if code, v = do(t, "GET", api+"?status=closed", ""); len(v["features"].([]any)) != 1 {
		t.Errorf("closed list: %d %v", code, v)
	}
	if code, _ = do(t, "GET", api+"/zone-1", ""); code != 200 {
		t.Errorf("a closed zone stays readable: %d", code)
	}
	if code, _ = do(t, "GET", api+"/zone-1/contents", ""); code != 404 {
		t.Errorf("contents of a closed zone: %d", code)
	}
	if code, _ = do(t, "DELETE", api+"/zone-1", ""); code != 404 {
		t.Errorf("closing twice: %d", code)
	}
}

func TestHTTPRefused(t *testing.T) {
	srv, _, _, _ := newServer(t)
	api := srv.URL + "/api/v1/zones"
	cases := []struct {
		body, msg string
	}{
		{`{"geometry":` + square + `}`, "name: a zone needs a name"},
		{`{"name":"A"}`, "geometry: a zone needs a geometry"},
		{`{"name":"A","kind":"party","geometry":` + square + `}`, `kind: "party"`},
		{`{"name":"A","severity":"huge","geometry":` + square + `}`, `severity: "huge"`},
		{`{"name":"A","geometry":{"type":"Point","coordinates":[108.2,16.0]}}`, "Polygon or MultiPolygon"},
		{`{"name":"A","geometry":{"type":"Polygon","coordinates":[[[108.2,16.0],[108.3,16.0]]]}}`, "geometry:"},
		{`{"name":"A","area":{"ref":"Atlantis"}}`, `area.ref: no district or ward has the code or name "Atlantis"`},
		{`{"name":"A","area":{"level":"city","ref":"x"}}`, `area.level: "city"`},
		{`{"name":"A","area":{"ref":"492"},"geometry":` + square + `}`, "not both"},
		{`{"name":"A","colour":"red","geometry":` + square + `}`, "unknown field"},
		{`[1]`, "body:"},
	}
	for _, c := range cases {
		code, v := do(t, "POST", api, c.body)
		msg, _ := v["error"].(map[string]any)["message"].(string)
		if code != 400 || !strings.Contains(msg, c.msg) {
			t.Errorf("%s: %d %q, want 400 with %q", c.body, code, msg, c.msg)
		}
	}
	if code, _ := do(t, "GET", api+"?status=maybe", ""); code != 400 {
		t.Errorf("bad status filter: %d", code)
	}
	if code, _ := do(t, "GET", api+"/nope", ""); code != 404 {
		t.Errorf("unknown zone: %d", code)
	}
}
