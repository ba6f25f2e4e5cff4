package frontend

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/layers/access"
)

// haiChauCode is the district code of Hải Châu in the embedded areas.
const haiChauCode = "492"

// Places outside Hải Châu but inside its bounding box, so that only the
// exact scope test (not a bbox prefilter) keeps them from a Hải Châu user.
var (
	thanhKhe    = []float64{108.19, 16.065}
	outsideNear = []float64{108.205, 16.075}
)

// scoped returns a principal with the given roles and scope spec.
func scoped(t *testing.T, id string, spec access.ScopeSpec, roles ...access.Role) *access.Principal {
	t.Helper()
	areas, err := access.DefaultAreas()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := spec.Resolve(areas)
	if err != nil {
		t.Fatal(err)
	}
	return access.NewPrincipal(access.KindUser, id, id, roles, sc)
}

// newScopedEnv is a test server with a Hải Châu operator ("hc"), a
// traffic-only viewer ("traffic") and a principal without read:history
// ("viewer").
func newScopedEnv(t *testing.T, cfg Config) *testEnv {
	t.Helper()
	cfg.Districts = []District{{Code: "492", Name: "Hải Châu", Bounds: geo.World}, {Code: "493", Name: "Sơn Trà", Bounds: geo.World}}
	e := newTestEnv(t, cfg, layers.Config{})
	e.principals["hc"] = scoped(t, "hc", access.ScopeSpec{Areas: []string{haiChauCode}}, access.RoleOperator)
	e.principals["traffic"] = scoped(t, "traffic", access.ScopeSpec{Layers: []string{"traffic.cameras"}}, access.RoleOperator)
	e.principals["viewer"] = scoped(t, "viewer", access.ScopeSpec{}, access.RoleViewer)
	return e
}

// idsEverReceived lists every entity id the client was ever sent, as a
// feature or an upsert.
func (c *testClient) idsEverReceived() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []string
	for _, m := range c.msgs {
		for _, raw := range slices.Concat(m.Features, m.Upserts) {
			var h featureHead
			_ = json.Unmarshal(raw, &h)
			ids = append(ids, h.ID)
		}
	}
	return ids
}

func TestScopedClientSeesOnlyItsDistrictLive(t *testing.T) {
	e := newScopedEnv(t, Config{Tick: 5 * time.Millisecond})
	e.apply(t, "traffic.cameras", "in", haiChau, "")
	e.apply(t, "traffic.cameras", "out", thanhKhe, "")

	hc, all := e.dialAs(t, "hc"), e.dial(t)
	hc.subscribe([]string{"*"}, nil)
	all.subscribe([]string{"*"}, nil)
	all.waitFor("both cameras", func() bool { return all.has("traffic.cameras/in") && all.has("traffic.cameras/out") })
	hc.waitFor("the Hải Châu camera", func() bool { return hc.has("traffic.cameras/in") })

	e.apply(t, "traffic.cameras", "new-out", outsideNear, "")         // appears outside
	e.apply(t, "traffic.cameras", "in", thanhKhe, `{"moved":true}`)   // leaves the district
	e.apply(t, "traffic.cameras", "new-in", haiChau, `{"late":true}`) // appears inside
	all.waitFor("every change", func() bool {
		return all.has("traffic.cameras/new-out") && all.has("traffic.cameras/new-in") && all.has("traffic.cameras/in")
	})
	hc.waitFor("the move out as a delete and the new camera", func() bool {
		return !hc.has("traffic.cameras/in") && hc.has("traffic.cameras/new-in")
	})
	for _, id := range hc.idsEverReceived() {
		if id == "out" || id == "new-out" {
			t.Errorf("the Hải Châu client was sent %q, outside its district", id)
		}
	}
	// The move out of the district reached the scoped client as a delete
	// only; its new position never did.
	for _, raw := range hc.allUpserts() {
		if strings.Contains(raw, `"moved"`) {
			t.Errorf("the Hải Châu client was sent the camera's position outside: %s", raw)
		}
	}
}

func (c *testClient) allUpserts() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, m := range c.msgs {
		for _, raw := range slices.Concat(m.Features, m.Upserts) {
			out = append(out, string(raw))
		}
	}
	return out
}

func TestScopedClientResumeIsFiltered(t *testing.T) {
	e := newScopedEnv(t, Config{Tick: 5 * time.Millisecond})
	e.apply(t, "traffic.cameras", "in", haiChau, "")
	since, epoch := e.store.Log().Last(), e.store.Epoch()
	e.apply(t, "traffic.cameras", "out", thanhKhe, "")
	e.apply(t, "traffic.cameras", "in2", haiChau, "")

	hc := e.dialAs(t, "hc")
	hc.send(map[string]any{"type": "subscribe", "layers": []string{"*"}, "since": since, "epoch": epoch})
	hc.waitFor("the resume diff", func() bool { return hc.has("traffic.cameras/in2") })
	if ids := hc.idsEverReceived(); slices.Contains(ids, "out") {
		t.Errorf("resume sent a camera outside the district: %v", ids)
	}
}

func TestScopedSubscriptionRules(t *testing.T) {
	e := newScopedEnv(t, Config{Tick: 5 * time.Millisecond, Clusters: map[string]ClusterSpec{"traffic.cameras": {Zoom: 14}}})
	e.apply(t, "traffic.cameras", "cam", haiChau, "")
	e.apply(t, "lighting.lamps", "lamp", haiChau, "")

	// A layer-limited principal: another layer is refused, "*" narrows.
	tr := e.dialAs(t, "traffic")
	tr.subscribe([]string{"lighting.lamps"}, nil)
	tr.waitFor("the refusal", func() bool { return tr.lastError() == "out_of_scope" })
	tr.subscribe([]string{"*"}, nil)
	tr.waitFor("the camera", func() bool { return tr.has("traffic.cameras/cam") })
	if tr.has("lighting.lamps/lamp") {
		t.Error(`"*" gave a traffic-only client a lamp`)
	}

	// An area-limited principal never gets clusters: raw features instead.
	hc := e.dialAs(t, "hc")
	hc.send(map[string]any{"type": "subscribe", "layers": []string{"traffic.cameras"}, "zoom": 10, "bbox": haiChauBox})
	hc.waitFor("the raw camera", func() bool { return hc.has("traffic.cameras/cam") })
}

func (c *testClient) lastError() string {
	for i := len(c.msgs) - 1; i >= 0; i-- {
		if c.msgs[i].Type == "error" {
			return c.msgs[i].Code
		}
	}
	return ""
}

// fakeReplay sends fixed frames once, then waits to be stopped.
type fakeReplay struct {
	frames [][]byte
	send   func([]byte) bool
}

func (f *fakeReplay) Run(ctx context.Context) error {
	for _, fr := range f.frames {
		f.send(fr)
	}
	<-ctx.Done()
	return nil
}
func (*fakeReplay) Play()              {}
func (*fakeReplay) Pause()             {}
func (*fakeReplay) Seek(time.Time)     {}
func (*fakeReplay) SetSpeed(x float64) {}

func pointFeature(id string, pos []float64) string {
	b, _ := json.Marshal(map[string]any{"type": "Feature", "id": id, "layer": "traffic.cameras",
		"geometry": map[string]any{"type": "Point", "coordinates": pos}, "properties": map[string]any{}})
	return string(b)
}

func TestScopedReplayIsFiltered(t *testing.T) {
	frames := [][]byte{
		[]byte(`{"type":"snapshot","replay":true,"features":[` + pointFeature("in", haiChau) + `,` + pointFeature("out", thanhKhe) + `]}`),
		// "in" moves out, "out" moves further, "gone" was never sent.
		[]byte(`{"type":"diff","replay":true,"upserts":[` + pointFeature("in", outsideNear) + `,` + pointFeature("out", outsideNear) + `],"deletes":[{"layer":"traffic.cameras","id":"gone"}]}`),
		[]byte(`{"type":"diff","replay":true,"upserts":[` + pointFeature("back", haiChau) + `],"deletes":[]}`),
	}
	var got []ReplayRequest
	cfg := Config{Tick: 5 * time.Millisecond, Replayer: func(req ReplayRequest, send func([]byte) bool) ReplaySession {
		got = append(got, req)
		return &fakeReplay{frames: frames, send: send}
	}}
	e := newScopedEnv(t, cfg)
	req := map[string]any{"type": "replay", "from": "2026-01-01T00:00:00Z", "to": "2026-01-01T01:00:00Z"}

	viewer := e.dialAs(t, "viewer")
	viewer.send(req)
	viewer.waitFor("the refusal", func() bool { return viewer.lastError() == "forbidden" })

	hc := e.dialAs(t, "hc")
	hc.send(req)
	hc.waitFor("three replay frames", func() bool { return len(hc.msgs) >= 3 })
	hc.mu.Lock()
	defer hc.mu.Unlock()
	want := []string{
		`{"type":"snapshot","replay":true,"features":[` + pointFeature("in", haiChau) + `]}`,
		`{"type":"diff","replay":true,"upserts":[],"deletes":[{"layer":"traffic.cameras","id":"in"}]}`,
		`{"type":"diff","replay":true,"upserts":[` + pointFeature("back", haiChau) + `],"deletes":[]}`,
	}
	for i, w := range want {
		if got := string(hc.raws[i]); got != w {
			t.Errorf("frame %d:\n got %s\nwant %s", i, got, w)
		}
	}
	if len(got) != 1 || got[0].BBox.MinX == 0 {
		t.Errorf("the replay request was not narrowed to the scope's bounds: %+v", got)
	}
}

func TestScopedQueries(t *testing.T) {
	e := newScopedEnv(t, Config{Tick: 5 * time.Millisecond})
	e.apply(t, "traffic.cameras", "in", haiChau, `{"districtCode":"492"}`)
	e.apply(t, "traffic.cameras", "out", thanhKhe, `{"districtCode":"493"}`)
	e.apply(t, "lighting.lamps", "lamp", haiChau, `{"districtCode":"492"}`)

	cases := []struct {
		name, principal, method, path, body string
		status                              int
		want, wantNot                       []string
	}{
		{"bbox, scoped", "hc", "GET", "/api/v1/layers/traffic.cameras/features", "", 200, []string{`"in"`}, []string{`"out"`}},
		{"bbox, unscoped", "", "GET", "/api/v1/layers/traffic.cameras/features", "", 200, []string{`"in"`, `"out"`}, nil},
		{"near", "hc", "GET", "/api/v1/layers/traffic.cameras/features?near=108.23,16.08&radius=10000", "", 200, []string{`"in"`}, []string{`"out"`}},
		{"district of another", "hc", "GET", "/api/v1/layers/traffic.cameras/features?district=493", "", 200, nil, []string{`"out"`}},
		{"within", "hc", "POST", "/api/v1/layers/traffic.cameras/within", `{"type":"Polygon","coordinates":[[[108,16],[108.4,16],[108.4,16.2],[108,16.2],[108,16]]]}`, 200, []string{`"in"`}, []string{`"out"`}},
		{"feature in scope", "hc", "GET", "/api/v1/layers/traffic.cameras/features/in", "", 200, []string{`"in"`}, nil},
		{"feature out of scope is not disclosed", "hc", "GET", "/api/v1/layers/traffic.cameras/features/out", "", 404, nil, []string{`"geometry"`}},
		{"nearest", "hc", "GET", "/api/v1/nearest?lon=108.19&lat=16.065&k=1&layers=traffic.cameras", "", 200, []string{`"in"`}, []string{`"out"`}},
		{"layer outside a layer scope", "traffic", "GET", "/api/v1/layers/lighting.lamps/features", "", 403, []string{"out_of_scope"}, nil},
		{"nearest outside a layer scope", "traffic", "GET", "/api/v1/nearest?lon=108.2&lat=16&layers=lighting.lamps", "", 403, []string{"out_of_scope"}, nil},
		{"layers counts the scope", "hc", "GET", "/api/v1/layers", "", 200, []string{`"name":"traffic.cameras","features":1,`}, nil},
		{"layers lists the scope's", "traffic", "GET", "/api/v1/layers", "", 200, []string{"traffic.cameras"}, []string{"lighting.lamps"}},
		{"districts count the scope", "hc", "GET", "/api/v1/districts", "", 200, []string{`"traffic.cameras":1`}, nil},
		{"no principal", "nobody", "GET", "/api/v1/layers", "", 401, []string{"unauthenticated"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, e.http.URL+tc.path, strings.NewReader(tc.body))
			req.Header.Set("X-Test-Principal", tc.principal)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			body := string(b)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("answer lacks %s: %s", w, body)
				}
			}
			if n := strings.Count(body, `"traffic.cameras":1`); tc.path == "/api/v1/districts" && n != 1 {
				t.Errorf("districts counted cameras in %d districts, want only Hải Châu: %s", n, body)
			}
			for _, w := range tc.wantNot {
				if strings.Contains(body, w) {
					t.Errorf("answer holds %s: %s", w, body)
				}
			}
		})
	}
}

func TestMessageBudget(t *testing.T) {
	t0 := time.Unix(0, 0)
	b := newMessageBudget(2, t0)
	var got []bool
	for range 5 { // burst of 4, then refused
		got = append(got, b.take(t0))
	}
	got = append(got, b.take(t0.Add(500*time.Millisecond))) // one more after half a second
	got = append(got, b.take(t0.Add(500*time.Millisecond)))
	if want := []bool{true, true, true, true, false, true, false}; !slices.Equal(got, want) {
		t.Errorf("takes %v, want %v", got, want)
	}
}

func TestClientOverMessageRateIsRefused(t *testing.T) {
	e := newTestEnv(t, Config{Tick: 5 * time.Millisecond, MaxMessagesPerSecond: 1}, layers.Config{})
	c := e.dial(t)
	for range 5 {
		c.send(map[string]any{"type": "ping"})
	}
	c.waitFor("a rate_limited error", func() bool { return c.lastError() == "rate_limited" })
}

// Clients of different scopes never share a frame, even when their
// subscriptions are otherwise equal (the hub groups by key).
func TestScopeIsPartOfTheSubscriptionKey(t *testing.T) {
	hc := scoped(t, "hc", access.ScopeSpec{Areas: []string{haiChauCode}}, access.RoleViewer).Scope()
	hc2 := scoped(t, "hc2", access.ScopeSpec{Areas: []string{haiChauCode}}, access.RoleViewer).Scope()
	inHC := geo.Rect{MinX: 108.20, MinY: 16.05, MaxX: 108.23, MaxY: 16.08}
	key := func(sc *access.Scope) string {
		s := &subscription{layers: []string{"traffic.cameras"}, bbox: inHC}
		if err := s.limitTo(sc); err != nil {
			t.Fatal(err)
		}
		return s.key()
	}
	if key(nil) == key(hc) {
		t.Error("a Hải Châu subscription shares its key with an unscoped one")
	}
	if key(hc) != key(hc2) {
		t.Error("two Hải Châu subscriptions do not share frames")
	}
}
