package frontend

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/layers/access"
)

// Places in Da Nang used by the tests.
var (
	haiChau   = []float64{108.2208, 16.0678}
	sonTra    = []float64{108.2450, 16.1000}
	lienChieu = []float64{108.1500, 16.0700}
	// A box around central Hải Châu that holds haiChau but neither other place.
	haiChauBox = []float64{108.20, 16.05, 108.23, 16.08}
	sonTraBox  = []float64{108.24, 16.09, 108.26, 16.11}
)

type testEnv struct {
	store *layers.Store
	srv   *Server
	http  *httptest.Server
	reg   *prometheus.Registry
	// principals are the callers a test may act as, by the header
	// X-Test-Principal (the auth middleware's stand-in); without the
	// header a request is the unlimited demo admin, with an unknown name
	// it has no principal at all.
	principals map[string]*access.Principal
}

// asPrincipal plays the auth middleware: it puts the principal the test
// named into the request's context.
func (e *testEnv) asPrincipal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.Header.Get("X-Test-Principal")
		if name == "" {
			next.ServeHTTP(w, r.WithContext(access.WithPrincipal(r.Context(), access.Demo())))
			return
		}
		if p := e.principals[name]; p != nil {
			r = r.WithContext(access.WithPrincipal(r.Context(), p))
		}
		next.ServeHTTP(w, r)
	})
}

func newTestEnv(t *testing.T, cfg Config, lc layers.Config) *testEnv {
	t.Helper()
	reg := prometheus.NewRegistry()
	store := layers.NewStore(lc, reg)
	srv := NewServer(cfg, store, reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Run(ctx); close(done) }()
	e := &testEnv{store: store, srv: srv, reg: reg, principals: map[string]*access.Principal{}}
	r := chi.NewRouter()
	r.Use(e.asPrincipal)
	r.Route("/api/v1", srv.Routes)
	hs := httptest.NewServer(r)
	e.http = hs
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
		hs.Close()
		cancel()
		<-done
	})
	return e
}

func (e *testEnv) apply(t *testing.T, layer, id string, pos []float64, props string) {
	t.Helper()
	ev := layers.Event{Layer: layer, ID: id, Time: time.Now(), Geometry: geom.NewPointFlat(geom.XY, pos)}
	if props != "" {
		ev.Properties = json.RawMessage(props)
	}
	e.store.Apply([]layers.Event{ev})
}

func (e *testEnv) remove(layer, id string) {
	e.store.Apply([]layers.Event{{Layer: layer, ID: id, Op: layers.OpDelete, Time: time.Now()}})
}

// wsMsg is any server message, decoded loosely.
type wsMsg struct {
	Type     string            `json:"type"`
	Epoch    string            `json:"epoch"`
	Seq      uint64            `json:"seq"`
	Code     string            `json:"code"`
	Message  string            `json:"message"`
	Features []json.RawMessage `json:"features"`
	Upserts  []json.RawMessage `json:"upserts"`
	Deletes  []struct {
		Layer string `json:"layer"`
		ID    string `json:"id"`
	} `json:"deletes"`
}

type featureHead struct {
	ID    string `json:"id"`
	Layer string `json:"layer"`
	Stale bool   `json:"stale"`
}

// testClient keeps the state a map would hold, applying every message.
type testClient struct {
	t    *testing.T
	conn *websocket.Conn

	mu     sync.Mutex
	msgs   []wsMsg
	raws   [][]byte // msgs as sent
	state  map[string]featureHead
	epoch  string
	seq    uint64
	closed bool
}

func (e *testEnv) dial(t *testing.T) *testClient {
	t.Helper()
	return e.dialAs(t, "")
}

// dialAs connects as the named principal of e.principals ("" for the
// unlimited demo admin).
func (e *testEnv) dialAs(t *testing.T, principal string) *testClient {
	t.Helper()
	url := "ws" + strings.TrimPrefix(e.http.URL, "http") + "/api/v1/ws"
	h := http.Header{}
	if principal != "" {
		h.Set("X-Test-Principal", principal)
	}
	conn, _, err := websocket.DefaultDialer.Dial(url, h)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c := &testClient{t: t, conn: conn, state: map[string]featureHead{}}
	go c.readLoop()
	t.Cleanup(func() { conn.Close() })
	return c
}

func (c *testClient) readLoop() {
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			c.mu.Lock()
			c.closed = true
			c.mu.Unlock()
			return
		}
		var m wsMsg
		if err := json.Unmarshal(data, &m); err != nil {
			c.t.Errorf("server sent invalid JSON: %v: %.200s", err, data)
			return
		}
		c.mu.Lock()
		c.msgs = append(c.msgs, m)
		c.raws = append(c.raws, data)
		c.applyLocked(m)
		c.mu.Unlock()
	}
}

func (c *testClient) applyLocked(m wsMsg) {
	switch m.Type {
	case "snapshot":
		c.state = map[string]featureHead{}
		c.addLocked(m.Features)
	case "diff":
		if (c.epoch != "" && m.Epoch != c.epoch) || m.Seq < c.seq {
			c.t.Errorf("diff epoch %s seq %d after epoch %s seq %d", m.Epoch, m.Seq, c.epoch, c.seq)
		}
		c.addLocked(m.Upserts)
		for _, d := range m.Deletes {
			delete(c.state, d.Layer+"/"+d.ID)
		}
	default:
		return
	}
	c.epoch, c.seq = m.Epoch, m.Seq
}

func (c *testClient) addLocked(fs []json.RawMessage) {
	for _, raw := range fs {
		var h featureHead
		if err := json.Unmarshal(raw, &h); err != nil {
			c.t.Errorf("bad feature %s: %v", raw, err)
			continue
		}
		c.state[h.Layer+"/"+h.ID] = h
	}
}

func (c *testClient) send(v any) {
	c.t.Helper()
	if err := c.conn.WriteJSON(v); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

func (c *testClient) subscribe(layers []string, bbox []float64) {
	c.send(map[string]any{"type": "subscribe", "layers": layers, "bbox": bbox})
}

// waitFor polls cond over the client's state until it holds or 5s pass.
func (c *testClient) waitFor(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		ok := cond()
		c.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.t.Fatalf("timed out waiting for %s; state %v, %d messages", what, c.state, len(c.msgs))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (c *testClient) has(key string) bool { _, ok := c.state[key]; return ok }

func (c *testClient) count(typ string) int {
	n := 0
	for _, m := range c.msgs {
		if m.Type == typ {
			n++
		}
	}
	return n
}

func (c *testClient) keys() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ks []string
	for k := range c.state {
		ks = append(ks, k)
	}
	return fmt.Sprint(ks)
}

func TestSubscribeSnapshotThenDiffs(t *testing.T) {
	e := newTestEnv(t, Config{}, layers.Config{})
	e.apply(t, "traffic.cameras", "cam-hc", haiChau, `{"speed":32}`)
	e.apply(t, "traffic.cameras", "cam-st", sonTra, `{"speed":40}`)
	c := e.dial(t)
	c.subscribe([]string{"traffic.cameras"}, haiChauBox)
	c.waitFor("snapshot", func() bool { return c.count("snapshot") == 1 })
	c.mu.Lock()
	if !c.has("traffic.cameras/cam-hc") || len(c.state) != 1 {
		t.Errorf("snapshot state = %v, want only cam-hc", c.state)
	}
	c.mu.Unlock()

	e.apply(t, "traffic.cameras", "cam-st2", sonTra, "")  // outside: never sent
	e.apply(t, "environment.air", "air-hc", haiChau, "")  // other layer: never sent
	e.apply(t, "traffic.cameras", "cam-hc2", haiChau, "") // inside
	c.waitFor("cam-hc2 upsert", func() bool { return c.has("traffic.cameras/cam-hc2") })
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.has("traffic.cameras/cam-st2") || c.has("environment.air/air-hc") {
		t.Errorf("client received features outside its subscription: %v", c.state)
	}
}

func TestEventReachesOnlyTheClientWatchingItsArea(t *testing.T) {
	e := newTestEnv(t, Config{}, layers.Config{})
	hc, st := e.dial(t), e.dial(t)
	hc.subscribe([]string{"feedback.reports"}, haiChauBox)
	st.subscribe([]string{"feedback.reports"}, sonTraBox)
	hc.waitFor("snapshot", func() bool { return hc.count("snapshot") == 1 })
	st.waitFor("snapshot", func() bool { return st.count("snapshot") == 1 })

	e.apply(t, "feedback.reports", "r1", haiChau, `{"category":"flooded_road"}`)
	e.apply(t, "feedback.reports", "r2", sonTra, `{"category":"fallen_tree"}`)
	hc.waitFor("r1", func() bool { return hc.has("feedback.reports/r1") })
	st.waitFor("r2", func() bool { return st.has("feedback.reports/r2") })
	if hc.keys() != "[feedback.reports/r1]" || st.keys() != "[feedback.reports/r2]" {
		t.Errorf("Hải Châu client has %s, Sơn Trà client has %s", hc.keys(), st.keys())
	}
}

func TestMovingOutOfTheViewIsADelete(t *testing.T) {
	e := newTestEnv(t, Config{}, layers.Config{})
	e.apply(t, "rescue.teams", "team-7", haiChau, "")
	c := e.dial(t)
	c.subscribe([]string{"rescue.teams"}, haiChauBox)
	c.waitFor("team in snapshot", func() bool { return c.has("rescue.teams/team-7") })

	e.apply(t, "rescue.teams", "team-7", lienChieu, "")
	c.waitFor("delete on leaving", func() bool { return !c.has("rescue.teams/team-7") })
	e.apply(t, "rescue.teams", "team-7", haiChau, "")
	c.waitFor("upsert on entering", func() bool { return c.has("rescue.teams/team-7") })
	e.remove("rescue.teams", "team-7")
	c.waitFor("delete", func() bool { return !c.has("rescue.teams/team-7") })
}

func TestLaterSubscribeReplacesTheEarlier(t *testing.T) {
	e := newTestEnv(t, Config{}, layers.Config{})
	e.apply(t, "lighting.lamps", "lamp-hc", haiChau, "")
	e.apply(t, "lighting.lamps", "lamp-st", sonTra, "")
	c := e.dial(t)
	c.subscribe([]string{"lighting.lamps"}, haiChauBox)
	c.waitFor("first snapshot", func() bool { return c.has("lighting.lamps/lamp-hc") })
	c.subscribe([]string{"lighting.lamps"}, sonTraBox)
	c.waitFor("second snapshot", func() bool { return c.count("snapshot") == 2 })
	e.apply(t, "lighting.lamps", "lamp-hc-2", haiChau, "")
	e.apply(t, "lighting.lamps", "lamp-st-2", sonTra, "")
	c.waitFor("new view's diff", func() bool { return c.has("lighting.lamps/lamp-st-2") })
	if got := c.keys(); strings.Contains(got, "hc") {
		t.Errorf("after panning to Sơn Trà the client still holds %s", got)
	}
}

func TestResumeGetsOnlyWhatWasMissed(t *testing.T) {
	e := newTestEnv(t, Config{}, layers.Config{})
	e.apply(t, "flooding.rivers", "cu-de", haiChau, `{"level":1.2}`)
	c := e.dial(t)
	c.subscribe([]string{"flooding.rivers"}, nil)
	c.waitFor("snapshot", func() bool { return c.count("snapshot") == 1 })
	c.mu.Lock()
	epoch, seq := c.epoch, c.seq
	c.mu.Unlock()
	c.conn.Close()

	e.apply(t, "flooding.rivers", "tuy-loan", sonTra, `{"level":2.1}`)
	e.remove("flooding.rivers", "cu-de")

	r := e.dial(t)
	r.send(map[string]any{"type": "subscribe", "layers": []string{"flooding.rivers"}, "since": seq, "epoch": epoch})
	deleted := func() bool {
		for _, m := range r.msgs {
			for _, d := range m.Deletes {
				if d.ID == "cu-de" {
					return true
				}
			}
		}
		return false
	}
	r.waitFor("missed upsert and delete", func() bool { return r.has("flooding.rivers/tuy-loan") && deleted() })
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := r.count("snapshot"); n != 0 {
		t.Errorf("resume sent %d snapshots, want only diffs", n)
	}
	if len(r.state) != 1 {
		t.Errorf("resumed client was sent %v, want only the missed tuy-loan", r.state)
	}
}

func TestResumeFromAnotherEpochGetsASnapshot(t *testing.T) {
	e := newTestEnv(t, Config{}, layers.Config{})
	e.apply(t, "flooding.rivers", "cu-de", haiChau, "")
	c := e.dial(t)
	c.send(map[string]any{"type": "subscribe", "layers": []string{"flooding.rivers"}, "since": 1, "epoch": "an-old-run"})
	c.waitFor("snapshot", func() bool { return c.count("snapshot") == 1 && c.has("flooding.rivers/cu-de") })
}

func TestResumeBeyondTheLogGetsASnapshot(t *testing.T) {
	e := newTestEnv(t, Config{}, layers.Config{LogSize: 8})
	e.apply(t, "flooding.rain", "g0", haiChau, "")
	epoch := e.store.Epoch()
	for i := 0; i < 20; i++ {
		e.apply(t, "flooding.rain", fmt.Sprintf("g%d", i%3), haiChau, fmt.Sprintf(`{"mm":%d}`, i))
	}
	c := e.dial(t)
	c.send(map[string]any{"type": "subscribe", "layers": []string{"flooding.rain"}, "since": 1, "epoch": epoch})
	c.waitFor("snapshot", func() bool { return c.count("snapshot") == 1 && len(c.state) == 3 })
}

func TestStaleEntitiesArePushed(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newTestEnv(t, Config{}, layers.Config{
		Now: clock, Layers: map[string]layers.LayerConfig{"environment.air": {TTL: time.Minute}},
	})
	e.store.Apply([]layers.Event{{Layer: "environment.air", ID: "air-1", Time: now, Geometry: geom.NewPointFlat(geom.XY, haiChau)}})
	c := e.dial(t)
	c.subscribe([]string{"environment.air"}, nil)
	c.waitFor("fresh station", func() bool { return c.has("environment.air/air-1") && !c.state["environment.air/air-1"].Stale })
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	e.store.Sweep()
	c.waitFor("stale station", func() bool { return c.state["environment.air/air-1"].Stale })
}

func TestBadClientMessagesGetErrors(t *testing.T) {
	e := newTestEnv(t, Config{}, layers.Config{})
	c := e.dial(t)
	for _, msg := range []string{
		`not json`,
		`{"type":"dance"}`,
		`{"type":"subscribe"}`,
		`{"type":"subscribe","layers":["a"],"bbox":[1,2,3]}`,
		`{"type":"subscribe","layers":["a"],"bbox":[108.3,16,108.2,16.1]}`,
	} {
		if err := c.conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	c.send(map[string]any{"type": "ping", "id": "p1"})
	c.waitFor("5 errors and a pong", func() bool { return c.count("error") == 5 && c.count("pong") == 1 })
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.msgs {
		if m.Type == "error" && (m.Code != "bad_request" || m.Message == "") {
			t.Errorf("error message %+v lacks code or text", m)
		}
	}
}

func TestWildcardSubscriptionSeesNewLayers(t *testing.T) {
	e := newTestEnv(t, Config{}, layers.Config{})
	c := e.dial(t)
	c.subscribe([]string{"*"}, haiChauBox)
	c.waitFor("snapshot", func() bool { return c.count("snapshot") == 1 })
	e.apply(t, "brand.new", "x", haiChau, "")
	c.waitFor("feature of a layer created after subscribing", func() bool { return c.has("brand.new/x") })
}

// A client that never reads must not slow ingest or the other clients: it
// overflows its small queue, is resynchronised or dropped, and everyone
// else keeps receiving every entity's latest state.
func TestSlowClientDoesNotBlockOthers(t *testing.T) {
	e := newTestEnv(t, Config{QueueMessages: 4, QueueBytes: 64 << 10, WriteTimeout: 500 * time.Millisecond}, layers.Config{})
	url := "ws" + strings.TrimPrefix(e.http.URL, "http") + "/api/v1/ws"
	dialer := websocket.Dialer{ReadBufferSize: 1024}
	slow, _, err := dialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if err := slow.WriteJSON(map[string]any{"type": "subscribe", "layers": []string{"traffic.segments"}}); err != nil {
		t.Fatal(err)
	}
	fast := e.dial(t)
	fast.subscribe([]string{"traffic.segments"}, nil)
	fast.waitFor("snapshot", func() bool { return fast.count("snapshot") == 1 })

	pad := strings.Repeat("x", 2000)
	deadline := time.Now().Add(20 * time.Second)
	rounds := 0
	for metricSum(e.reg, "ioc_ws_drops_total") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after %d rounds the stalled client still had not overflowed its queue", rounds)
		}
		batch := make([]layers.Event, 50)
		for i := range batch {
			batch[i] = layers.Event{Layer: "traffic.segments", ID: fmt.Sprintf("seg-%d", i), Time: time.Now(),
				Geometry: geom.NewPointFlat(geom.XY, haiChau), Properties: json.RawMessage(fmt.Sprintf(`{"round":%d,"pad":%q}`, rounds, pad))}
		}
		e.store.Apply(batch)
		rounds++
	}
	e.apply(t, "traffic.segments", "final", haiChau, "")
	fast.waitFor("every segment and the final marker", func() bool { return len(fast.state) == 51 })
	t.Logf("the stalled client overflowed after %d rounds of 50 events; the other client kept up", rounds)
}

func metricSum(reg *prometheus.Registry, name string) float64 {
	var sum float64
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}
