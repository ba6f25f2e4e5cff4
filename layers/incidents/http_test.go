package incidents

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/layers"
)

// apiServer serves the incident API of a scenario with one open incident on
// a random loopback port.
func apiServer(t *testing.T) (*scenario, *httptest.Server) {
	s := withIncident(t)
	r := chi.NewRouter()
	r.Route("/api/v1", func(r chi.Router) { Routes(r, s.engine) })
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return s, srv
}

type response struct {
	status int
	body   string
}

func call(t *testing.T, method, url, body string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, string(b)}
}

func TestHTTPList(t *testing.T) {
	s, srv := apiServer(t)
	if err := s.event(`{"layer":"environment.air","id":"aq-1","geometry":{"type":"Point","coordinates":[108.15,16.07]},"properties":{"pm25":120}}`); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query  string
		status int
		ids    []string
		errMsg string
	}{
		{"", 200, []string{"inc-1", "inc-2"}, ""}, // major before minor
		{"?status=open", 200, []string{"inc-1", "inc-2"}, ""},
		{"?status=resolved,closed", 200, nil, ""},
		{"?severity=minor", 200, []string{"inc-2"}, ""},
		{"?category=flooding", 200, []string{"inc-1"}, ""},
		{"?category=flooding,air_quality&severity=major,minor", 200, []string{"inc-1", "inc-2"}, ""},
		{"?bbox=108.2,16.0,108.3,16.1", 200, []string{"inc-1"}, ""},
		{"?limit=1", 200, []string{"inc-1"}, ""},
		{"?status=pending", 400, nil, `status: want open, acknowledged, assigned, resolved or closed, got \"pending\"`},
		{"?severity=high", 400, nil, "severity: want info"},
		{"?bbox=1,2,3", 400, nil, "bbox: "},
		{"?limit=0", 400, nil, "limit: want an integer"},
	}
	for _, tt := range tests {
		res := call(t, "GET", srv.URL+"/api/v1/incidents"+tt.query, "")
		if res.status != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.query, res.status, tt.status, res.body)
			continue
		}
		if tt.status != 200 {
			if !strings.Contains(res.body, tt.errMsg) || !strings.Contains(res.body, `"code":"bad_request"`) {
				t.Errorf("%s: body %s, want %q", tt.query, res.body, tt.errMsg)
			}
			continue
		}
		var fc struct {
			Features []struct {
				ID string `json:"id"`
			} `json:"features"`
			Truncated bool `json:"truncated"`
		}
		if err := json.Unmarshal([]byte(res.body), &fc); err != nil {
			t.Fatalf("%s: %v", tt.query, err)
		}
		var ids []string
		for _, f := range fc.Features {
			ids = append(ids, f.ID)
		}
		if strings.Join(ids, ",") != strings.Join(tt.ids, ",") {
			t.Errorf("%s: got %v, want %v", tt.query, ids, tt.ids)
		}
		if fc.Truncated != (tt.query == "?limit=1") {
			t.Errorf("%s: truncated %v", tt.query, fc.Truncated)
		}
	}
}

func TestHTTPGetAndActions(t *testing.T) {
	_, srv := apiServer(t)
	base := srv.URL + "/api/v1/incidents/"
	res := call(t, "GET", base+"inc-1", "")
	if res.status != 200 || !strings.Contains(res.body, `"evidence":[{"layer":"flooding.rivers","id":"wl-1"`) || !strings.Contains(res.body, `"trail":[{`) {
		t.Fatalf("get: %d %s", res.status, res.body)
	}
	if res := call(t, "GET", base+"inc-9", ""); res.status != 404 || !strings.Contains(res.body, `"code":"not_found"`) {
		t.Errorf("unknown incident: %d %s", res.status, res.body)
	}
	actions := []struct {
		body    string
		header  []string
		status  int
		want    string
		wantWho string
	}{
		{`{"action":"acknowledge"}`, []string{UserHeader, "lan"}, 200, `"status":"acknowledged"`, `"by":"lan","action":"acknowledge"`},
		{`{"action":"acknowledge"}`, nil, 409, `"code":"illegal_action","message":"incident inc-1 is already acknowledged"`, ""},
		{`{"action":"comment","text":"xin chào","by":"tablet-7"}`, nil, 200, `"detail":"xin chào"`, `"by":"tablet-7","action":"comment"`},
		{`{"action":"comment","text":"header wins","by":"tablet-7"}`, []string{UserHeader, "minh"}, 200, `header wins`, `"by":"minh","action":"comment"`},
		{`{"action":"severity","severity":"critical"}`, nil, 200, `"severity":"critical"`, `"by":"anonymous","action":"severity"`},
		{`{"action":"severity","severity":"extreme"}`, nil, 400, `"message":"severity: want info, minor, major or critical, got \"extreme\""`, ""},
		{`{"action":"assign"}`, nil, 400, `"message":"team: required"`, ""},
		{`not json`, nil, 400, `"message":"body: invalid JSON`, ""},
		{`{"action":"assign","team":"rescue-1"}`, nil, 200, `"tasks":[{"team":"rescue-1","status":"assigned"`, ""},
		{`{"action":"task","team":"rescue-1","status":"en_route"}`, nil, 200, `"status":"en_route"`, ""},
		{`{"action":"resolve"}`, nil, 200, `"status":"resolved"`, ""},
		{`{"action":"reopen"}`, []string{UserHeader, "chi"}, 200, `"status":"open"`, `"by":"chi","action":"reopen"`},
	}
	for _, a := range actions {
		res := call(t, "POST", base+"inc-1/actions", a.body, a.header...)
		if res.status != a.status || !strings.Contains(res.body, a.want) || !strings.Contains(res.body, a.wantWho) {
			t.Errorf("%s: %d %s\nwant %d containing %s and %s", a.body, res.status, res.body, a.status, a.want, a.wantWho)
		}
	}
	if res := call(t, "POST", base+"inc-9/actions", `{"action":"acknowledge"}`); res.status != 404 {
		t.Errorf("action on unknown incident: %d %s", res.status, res.body)
	}
	// the stored feature is what GET returns: the trail holds every action
	res = call(t, "GET", base+"inc-1", "")
	for _, want := range []string{`"action":"acknowledge"`, `"action":"assign"`, `"action":"task"`, `"action":"resolve"`, `"action":"reopen"`, `"trailCount":9`} {
		if !strings.Contains(res.body, want) {
			t.Errorf("trail lacks %s: %s", want, res.body)
		}
	}
}

func TestHTTPNearestTeams(t *testing.T) {
	s, srv := apiServer(t)
	team := func(id string, lon, lat float64, status string) layers.Event {
		return layers.Event{Layer: TeamsLayer, ID: id, Time: s.clock.t,
			Geometry:   geom.NewPointFlat(geom.XY, []float64{lon, lat}),
			Properties: json.RawMessage(`{"name":"` + id + `","kind":"rescue","status":"` + status + `","members":4}`)}
	}
	url := srv.URL + "/api/v1/incidents/inc-1/teams"
	if res := call(t, "GET", url, ""); res.status != 200 || !strings.Contains(res.body, `"teams":[]`) {
		t.Fatalf("no teams layer yet: %d %s", res.status, res.body)
	}
	// the incident is at 108.2150,16.0100
	s.store.Apply([]layers.Event{
		team("near-busy", 108.2151, 16.0100, "busy"),
		team("near-assigned", 108.2152, 16.0100, "available"),
		team("second", 108.2160, 16.0100, "available"),
		team("third", 108.2200, 16.0100, "available"),
		team("far", 108.3000, 16.0100, "available"),
		team("offline", 108.2155, 16.0100, "offline"),
	})
	if _, err := s.engine.Act("inc-1", Action{Action: ActAssign, Team: "near-assigned"}, "lan"); err != nil {
		t.Fatal(err)
	}
	res := call(t, "GET", url+"?k=2", "")
	var got struct {
		Teams []TeamHit `json:"teams"`
	}
	if err := json.Unmarshal([]byte(res.body), &got); err != nil || res.status != 200 {
		t.Fatalf("%d %s %v", res.status, res.body, err)
	}
	if len(got.Teams) != 2 || got.Teams[0].ID != "second" || got.Teams[1].ID != "third" || got.Teams[0].Distance > got.Teams[1].Distance {
		t.Errorf("want second and third (available, on no task), nearest first: %s", res.body)
	}
	if res := call(t, "GET", url+"?k=10", ""); strings.Count(res.body, `"layer":"response.teams"`) != 3 {
		t.Errorf("k larger than the available teams returns them all: %s", res.body)
	}
	if res := call(t, "GET", url+"?k=0", ""); res.status != 400 || !strings.Contains(res.body, "k: want an integer in [1, 100]") {
		t.Errorf("k=0: %d %s", res.status, res.body)
	}
	if res := call(t, "GET", srv.URL+"/api/v1/incidents/inc-9/teams", ""); res.status != 404 {
		t.Errorf("unknown incident: %d", res.status)
	}
}
