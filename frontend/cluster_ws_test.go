package frontend

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/layers"
)

// cityBox is Da Nang's urban districts, the wall's overview.
var cityBox = []float64{108.05, 15.95, 108.35, 16.15}

// clusterConfig clusters lamps below zoom 15 and reports below 13.
func clusterConfig() Config {
	return Config{Clusters: map[string]ClusterSpec{
		"lighting.lamps":   lampRank,
		"feedback.reports": {Zoom: 13, Property: "status", Levels: []string{"closed", "in_progress", "assigned", "received"}},
		"traffic.signals":  {Property: "status", Levels: []string{"normal", "flashing", "offline", "fault"}},
		"traffic.parking":  {Zoom: 13}, // lines, unranked
	}}
}

// lampID and lampAt place n lamps on a regular grid over the city.
func lampID(i int) string { return fmt.Sprintf("L-%05d", i) }

func lampAt(i, n int) []float64 {
	side := int(math.Ceil(math.Sqrt(float64(n))))
	return []float64{108.06 + 0.28*float64(i%side)/float64(side), 15.96 + 0.18*float64(i/side)/float64(side)}
}

func (e *testEnv) applyLamps(t *testing.T, n int, state func(i int) string) {
	t.Helper()
	evs := make([]layers.Event, n)
	now := time.Now()
	for i := range evs {
		evs[i] = layers.Event{Layer: "lighting.lamps", ID: lampID(i), Time: now,
			Geometry:   geom.NewPointFlat(geom.XY, lampAt(i, n)),
			Properties: json.RawMessage(fmt.Sprintf(`{"name":"lamp %d","state":%q,"level":100}`, i, state(i)))}
	}
	e.store.Apply(evs)
}

// clusterProps is the properties of a cluster feature.
type clusterProps struct {
	Cluster    bool           `json:"cluster"`
	Count      int            `json:"count"`
	Worst      string         `json:"worst"`
	WorstLevel *int           `json:"worstLevel"`
	Levels     map[string]int `json:"levels"`
	Stale      int            `json:"stale"`
	Extent     [4]float64     `json:"extent"`
}

type fullFeature struct {
	ID         string          `json:"id"`
	Layer      string          `json:"layer"`
	Time       string          `json:"time"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties json.RawMessage `json:"properties"`
}

func decodeFeature(t *testing.T, raw json.RawMessage) fullFeature {
	t.Helper()
	var f fullFeature
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("feature %s: %v", raw, err)
	}
	return f
}

func (f fullFeature) cluster(t *testing.T) clusterProps {
	t.Helper()
	var p clusterProps
	if err := json.Unmarshal(f.Properties, &p); err != nil || !p.Cluster {
		t.Fatalf("feature %s is not a cluster: %s", f.ID, f.Properties)
	}
	return p
}

// features replays every message the client got and returns what a map
// would hold, by layer/id.
func (c *testClient) features() map[string]json.RawMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	held := map[string]json.RawMessage{}
	for _, m := range c.msgs {
		switch m.Type {
		case "snapshot":
			held = map[string]json.RawMessage{}
			m.Upserts = m.Features
		case "diff":
		default:
			continue
		}
		for _, raw := range m.Upserts {
			var h featureHead
			_ = json.Unmarshal(raw, &h)
			held[h.Layer+"/"+h.ID] = raw
		}
		for _, d := range m.Deletes {
			delete(held, d.Layer+"/"+d.ID)
		}
	}
	return held
}

func (c *testClient) lastOf(typ string) wsMsg {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.msgs) - 1; i >= 0; i-- {
		if c.msgs[i].Type == typ {
			return c.msgs[i]
		}
	}
	return wsMsg{}
}

func TestZoomedOutWallGetsClustersNotTwentyThousandLamps(t *testing.T) {
	e := newTestEnv(t, clusterConfig(), layers.Config{})
	const n = 20000
	e.applyLamps(t, n, func(int) string { return "on" })
	c := e.dial(t)
	c.send(map[string]any{"type": "subscribe", "layers": []string{"lighting.lamps"}, "bbox": cityBox, "zoom": 11.3, "id": "z11"})
	c.waitFor("snapshot", func() bool { return c.count("snapshot") == 1 })

	snap := c.lastOf("snapshot")
	if len(snap.Features) < 10 || len(snap.Features) > 500 {
		t.Fatalf("zoom 11 snapshot has %d features, want a few dozen to a few hundred clusters", len(snap.Features))
	}
	total := 0
	for _, raw := range snap.Features {
		f := decodeFeature(t, raw)
		if !strings.HasPrefix(f.ID, "cluster/13/") || f.Layer != "lighting.lamps" {
			t.Fatalf("feature %s of %s is not a grid-13 cluster", f.ID, f.Layer)
		}
		p := f.cluster(t)
		total += p.Count
		if p.Worst != "on" || p.Levels["on"] != p.Count || p.Stale != 0 {
			t.Errorf("cluster %s: %s, want every member on", f.ID, f.Properties)
		}
	}
	if total != n {
		t.Errorf("clusters count %d lamps, want %d", total, n)
	}

	// One lamp goes dark: its cluster's worst and levels change in the next diff.
	dark := 4321
	e.apply(t, "lighting.lamps", lampID(dark), lampAt(dark, n), `{"state":"fault","level":0}`)
	x, y := cellOf(lampAt(dark, n)[0], lampAt(dark, n)[1], 13)
	id := fmt.Sprintf("lighting.lamps/cluster/13/%d/%d", x, y)
	c.waitFor("diff", func() bool { return c.count("diff") > 0 })
	diff := c.lastOf("diff")
	if len(diff.Upserts) != 1 || len(diff.Deletes) != 0 {
		t.Fatalf("diff after one lamp changed: %d upserts %d deletes, want the one cluster", len(diff.Upserts), len(diff.Deletes))
	}
	f := decodeFeature(t, diff.Upserts[0])
	p := f.cluster(t)
	if f.Layer+"/"+f.ID != id || p.Worst != "dark" || p.WorstLevel == nil || *p.WorstLevel != 3 || p.Levels["dark"] != 1 || p.Levels["on"] != p.Count-1 {
		t.Errorf("cluster after the lamp went dark: %s %s", f.ID, f.Properties)
	}
}

func TestZoomedInClientGetsRawFeatures(t *testing.T) {
	e := newTestEnv(t, clusterConfig(), layers.Config{})
	e.applyLamps(t, 400, func(int) string { return "on" })
	c := e.dial(t)
	c.send(map[string]any{"type": "subscribe", "layers": []string{"*"}, "bbox": []float64{108.10, 16.00, 108.15, 16.05}, "zoom": 16})
	c.waitFor("snapshot", func() bool { return c.count("snapshot") == 1 })
	snap := c.lastOf("snapshot")
	if len(snap.Features) == 0 {
		t.Fatal("zoom 16 snapshot is empty")
	}
	for _, raw := range snap.Features {
		if f := decodeFeature(t, raw); !strings.HasPrefix(f.ID, "L-") {
			t.Fatalf("zoom 16 got %s, want raw lamps", f.ID)
		}
	}
}

func TestWildcardClustersOnlyDeclaredLayers(t *testing.T) {
	e := newTestEnv(t, clusterConfig(), layers.Config{})
	e.applyLamps(t, 100, func(int) string { return "on" })
	e.apply(t, "traffic.signals", "sig-1", haiChau, `{"status":"normal"}`)
	c := e.dial(t)
	c.send(map[string]any{"type": "subscribe", "layers": []string{"*"}, "bbox": cityBox, "zoom": 12})
	c.waitFor("snapshot", func() bool { return c.count("snapshot") == 1 })
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.has("traffic.signals/sig-1") {
		t.Errorf("signals (no cluster zoom) should come raw: %v", c.state)
	}
	for k := range c.state {
		if strings.HasPrefix(k, "lighting.lamps/") && !strings.HasPrefix(k, "lighting.lamps/cluster/14/") {
			t.Errorf("lamp %s sent raw at zoom 12", k)
		}
	}
}

func TestPropertySelectionKeepsFramesShared(t *testing.T) {
	e := newTestEnv(t, clusterConfig(), layers.Config{})
	e.apply(t, "lighting.lamps", "L-1", haiChau, `{"name":"Bạch Đằng 1","state":"on","level":100,"powerConsumption":74}`)
	e.apply(t, "traffic.signals", "sig-1", haiChau, `{"name":"Bạch Đằng – Lê Hồng Phong","status":"normal","statusSince":"x"}`)
	sub := map[string]any{"type": "subscribe", "layers": []string{"lighting.lamps", "traffic.signals"}, "bbox": haiChauBox,
		"zoom": 16, "properties": map[string][]string{"lighting.lamps": {"state"}, "*": {"name"}}}
	a, b := e.dial(t), e.dial(t)
	a.send(sub)
	b.send(sub)
	a.waitFor("snapshot", func() bool { return a.count("snapshot") == 1 })
	b.waitFor("snapshot", func() bool { return b.count("snapshot") == 1 })
	want := map[string]string{
		"lighting.lamps/L-1":    `{"state":"on"}`,
		"traffic.signals/sig-1": `{"name":"Bạch Đằng – Lê Hồng Phong"}`,
	}
	for k, raw := range a.features() {
		if got := string(decodeFeature(t, raw).Properties); got != want[k] {
			t.Errorf("snapshot %s properties %s, want %s", k, got, want[k])
		}
	}
	if g := testutil.ToFloat64(e.srv.metrics.groups); g != 1 {
		t.Errorf("two clients with one subscription make %v groups, want 1", g)
	}

	before := testutil.ToFloat64(e.srv.metrics.diffs)
	e.apply(t, "lighting.lamps", "L-1", haiChau, `{"name":"Bạch Đằng 1","state":"dimmed","level":50,"powerConsumption":40}`)
	a.waitFor("diff", func() bool { return a.count("diff") == 1 })
	b.waitFor("diff", func() bool { return b.count("diff") == 1 })
	da, db := a.lastOf("diff"), b.lastOf("diff")
	if len(da.Upserts) != 1 || string(da.Upserts[0]) != string(db.Upserts[0]) {
		t.Fatalf("clients sharing a subscription got different diffs: %s / %s", da.Upserts, db.Upserts)
	}
	if got := string(decodeFeature(t, da.Upserts[0]).Properties); got != `{"state":"dimmed"}` {
		t.Errorf("diff properties %s, want only state", got)
	}
	if d := testutil.ToFloat64(e.srv.metrics.diffs) - before; d != 1 {
		t.Errorf("%v diffs encoded for one change to one shared subscription, want 1", d)
	}
}

func TestClusterRequestsAreBounded(t *testing.T) {
	e := newTestEnv(t, clusterConfig(), layers.Config{})
	many := make([]string, maxPropertyNames+1)
	for i := range many {
		many[i] = fmt.Sprintf("p%d", i)
	}
	tests := []struct {
		msg  map[string]any
		want string
	}{
		{map[string]any{"zoom": 25}, "zoom 25"},
		{map[string]any{"zoom": -1}, "zoom -1"},
		{map[string]any{"zoom": 11}, "cluster cells"}, // no bbox: the whole world
		{map[string]any{"zoom": 11, "properties": map[string]any{"lighting.lamps": many}}, `properties["lighting.lamps"]: at most 64 names`},
		{map[string]any{"properties": map[string]any{"*": []string{""}}}, `properties["*"]: names must be`},
	}
	c := e.dial(t)
	for i, tt := range tests {
		msg := map[string]any{"type": "subscribe", "layers": []string{"lighting.lamps"}, "id": fmt.Sprint(i)}
		for k, v := range tt.msg {
			msg[k] = v
		}
		c.send(msg)
		c.waitFor("error "+tt.want, func() bool { return c.count("error") == i+1 })
		if m := c.lastOf("error"); m.Code != "bad_request" || !strings.Contains(m.Message, tt.want) {
			t.Errorf("%v: error %s %q, want bad_request naming %q", tt.msg, m.Code, m.Message, tt.want)
		}
	}
}

func TestClusteredResumeGetsASnapshot(t *testing.T) {
	e := newTestEnv(t, clusterConfig(), layers.Config{})
	e.applyLamps(t, 50, func(int) string { return "on" })
	c := e.dial(t)
	since := e.store.Log().Last()
	c.send(map[string]any{"type": "subscribe", "layers": []string{"lighting.lamps"}, "bbox": cityBox, "zoom": 11,
		"since": since, "epoch": e.store.Epoch(), "id": "resume"})
	c.waitFor("snapshot", func() bool { return c.count("snapshot") == 1 })
	if n := len(c.lastOf("snapshot").Features); n == 0 {
		t.Error("resumed clustered subscription got an empty snapshot")
	}
}

// TestClustersStayExactUnderChurn checks the incremental grid against a
// fresh snapshot after random state changes, moves, deletes and new lamps,
// while a second client pans (re-subscribes) on the same grid.
func TestClustersStayExactUnderChurn(t *testing.T) {
	e := newTestEnv(t, clusterConfig(), layers.Config{})
	const n = 3000
	states := []string{"on", "dimmed", "off", "fault", "no_power", "blinking"}
	e.applyLamps(t, n, func(i int) string { return states[i%len(states)] })
	sub := map[string]any{"type": "subscribe", "layers": []string{"lighting.lamps"}, "bbox": cityBox, "zoom": 11.5}
	live, panner := e.dial(t), e.dial(t)
	live.send(sub)
	live.waitFor("snapshot", func() bool { return live.count("snapshot") == 1 })

	rng := rand.New(rand.NewPCG(7, 11))
	for round := range 30 {
		evs := make([]layers.Event, 0, 100)
		for range 100 {
			i := rng.IntN(n + 200)
			ev := layers.Event{Layer: "lighting.lamps", ID: lampID(i), Time: time.Now()}
			switch rng.IntN(4) {
			case 0:
				ev.Op = layers.OpDelete
			case 1: // moves somewhere in the city
				ev.Geometry = geom.NewPointFlat(geom.XY, []float64{108.06 + 0.28*rng.Float64(), 15.96 + 0.18*rng.Float64()})
				ev.Properties = json.RawMessage(fmt.Sprintf(`{"state":%q}`, states[rng.IntN(len(states))]))
			default: // switches where it is
				ev.Geometry = geom.NewPointFlat(geom.XY, lampAt(i, n))
				ev.Properties = json.RawMessage(fmt.Sprintf(`{"state":%q}`, states[rng.IntN(len(states))]))
			}
			evs = append(evs, ev)
		}
		e.store.Apply(evs)
		if round%10 == 0 {
			panner.send(map[string]any{"type": "subscribe", "layers": []string{"lighting.lamps"},
				"bbox": []float64{108.05 + 0.01*float64(round), 15.95, 108.30, 16.10}, "zoom": 11.2})
		}
	}
	e.apply(t, "lighting.lamps", "marker", haiChau, `{"state":"on"}`)
	want, got := freshAndLive(t, e, live, sub)
	if len(got) != len(want) {
		t.Errorf("live client holds %d clusters, a fresh snapshot %d", len(got), len(want))
	}
	for k, w := range want {
		sameCluster(t, k, got[k], w)
	}
}

// sameCluster compares two cluster features: everything exactly, except
// the centroid, kept by running sums, to within rounding.
func sameCluster(t *testing.T, k string, got, want json.RawMessage) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: missing from the live client", k)
		return
	}
	g, w := decodeFeature(t, got), decodeFeature(t, want)
	if string(g.Properties) != string(w.Properties) || g.Time != w.Time {
		t.Errorf("%s: live %s %s, fresh %s %s", k, g.Time, g.Properties, w.Time, w.Properties)
	}
	var gp, wp struct{ Coordinates [2]float64 }
	_ = json.Unmarshal(g.Geometry, &gp)
	_ = json.Unmarshal(w.Geometry, &wp)
	if math.Abs(gp.Coordinates[0]-wp.Coordinates[0]) > 2e-6 || math.Abs(gp.Coordinates[1]-wp.Coordinates[1]) > 2e-6 {
		t.Errorf("%s: centroid %v, fresh %v", k, gp.Coordinates, wp.Coordinates)
	}
}

func TestLayersListingReportsClusterZoomAndLevels(t *testing.T) {
	e := newTestEnv(t, clusterConfig(), layers.Config{})
	e.apply(t, "lighting.lamps", "L-1", haiChau, `{"state":"on"}`)
	e.apply(t, "traffic.signals", "sig-1", haiChau, `{"status":"normal"}`)
	e.apply(t, "environment.air", "aq-1", haiChau, `{"aqi":40}`)
	var out struct {
		Layers []struct {
			Name        string `json:"name"`
			ClusterZoom int    `json:"cluster_zoom"`
			Severity    *struct {
				Property string   `json:"property"`
				Levels   []string `json:"levels"`
			} `json:"severity"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(get(t, e, "/api/v1/layers", 200), &out); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, l := range out.Layers {
		s := fmt.Sprintf("zoom %d", l.ClusterZoom)
		if l.Severity != nil {
			s += fmt.Sprintf(" %s %v", l.Severity.Property, l.Severity.Levels)
		}
		got[l.Name] = s
	}
	want := map[string]string{
		"lighting.lamps":  "zoom 15 state [on dimmed off dark]",
		"traffic.signals": "zoom 0 status [normal flashing offline fault]",
		"environment.air": "zoom 0",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}
}

// TestPanningKeepsTheGridAndAnIdleGridIsDropped: a client re-subscribing
// at the same zoom reuses the hub's grid (no resync); once nobody clusters
// at that zoom the grid goes, and the next subscriber builds it again.
func TestPanningKeepsTheGridAndAnIdleGridIsDropped(t *testing.T) {
	e := newTestEnv(t, clusterConfig(), layers.Config{})
	e.applyLamps(t, 500, func(int) string { return "on" })
	grids := func() float64 { return testutil.ToFloat64(e.srv.metrics.clusterGrids) }
	c := e.dial(t)
	for i := range 3 {
		box := []float64{cityBox[0] + 0.01*float64(i), cityBox[1], cityBox[2], cityBox[3]}
		c.send(map[string]any{"type": "subscribe", "layers": []string{"lighting.lamps"}, "bbox": box, "zoom": 11})
		c.waitFor("snapshot", func() bool { return c.count("snapshot") == i+1 })
	}
	c.waitFor("one grid", func() bool { return grids() == 1 })
	if n := testutil.ToFloat64(e.srv.metrics.resyncs.WithLabelValues("cluster_grid")); n != 0 {
		t.Errorf("panning forced %v resyncs for a missing grid", n)
	}

	c.send(map[string]any{"type": "unsubscribe"})
	c.waitFor("the grid dropped", func() bool { return grids() == 0 })
	c.send(map[string]any{"type": "subscribe", "layers": []string{"lighting.lamps"}, "bbox": cityBox, "zoom": 11})
	c.waitFor("snapshot", func() bool { return c.count("snapshot") == 4 })
	e.apply(t, "lighting.lamps", lampID(7), lampAt(7, 500), `{"state":"no_power"}`)
	c.waitFor("a diff from the rebuilt grid", func() bool { return c.count("diff") > 0 })
	if p := decodeFeature(t, c.lastOf("diff").Upserts[0]).cluster(t); p.Worst != "dark" {
		t.Errorf("rebuilt grid: worst %q, want dark", p.Worst)
	}
}

// TestLineClustersStayExact: lines count at their first position; a
// clustered view smaller than the city, with lines crossing its edges,
// holds after churn what a fresh snapshot holds.
func TestLineClustersStayExact(t *testing.T) {
	e := newTestEnv(t, clusterConfig(), layers.Config{})
	rng := rand.New(rand.NewPCG(3, 5))
	line := func(id string) layers.Event {
		x, y := 108.06+0.28*rng.Float64(), 15.96+0.18*rng.Float64()
		coords := []float64{x, y, x + 0.1*(rng.Float64()-0.5), y + 0.1*(rng.Float64()-0.5), x + 0.05, y}
		return layers.Event{Layer: "traffic.parking", ID: id, Time: time.Now(), Geometry: geom.NewLineStringFlat(geom.XY, coords)}
	}
	var evs []layers.Event
	for i := range 2000 {
		evs = append(evs, line(fmt.Sprint("p-", i)))
	}
	e.store.Apply(evs)
	sub := map[string]any{"type": "subscribe", "layers": []string{"traffic.parking"}, "bbox": []float64{108.15, 16.0, 108.25, 16.1}, "zoom": 12}
	live := e.dial(t)
	live.send(sub)
	live.waitFor("snapshot", func() bool { return live.count("snapshot") == 1 })
	for range 10 {
		evs = evs[:0]
		for range 100 {
			ev := line(fmt.Sprint("p-", rng.IntN(2100)))
			if rng.IntN(4) == 0 {
				ev.Op, ev.Geometry = layers.OpDelete, nil
			}
			evs = append(evs, ev)
		}
		e.store.Apply(evs)
	}
	e.store.Apply([]layers.Event{{Layer: "traffic.parking", ID: "marker", Time: time.Now(),
		Geometry: geom.NewLineStringFlat(geom.XY, []float64{108.2, 16.05, 108.21, 16.06})}})
	want, got := freshAndLive(t, e, live, sub)
	if len(want) == 0 || len(got) != len(want) {
		t.Errorf("live client holds %d clusters, a fresh snapshot %d", len(got), len(want))
	}
	for k, w := range want {
		sameCluster(t, k, got[k], w)
	}
}

// freshAndLive subscribes a fresh client as sub and returns what it holds
// and what the live client holds once it has applied every change up to
// the fresh snapshot's cut. The last change must lie in the view (a
// marker), so that the live client gets a diff at the cut.
func freshAndLive(t *testing.T, e *testEnv, live *testClient, sub map[string]any) (fresh, held map[string]json.RawMessage) {
	t.Helper()
	fc := e.dial(t)
	fc.send(sub)
	fc.waitFor("snapshot", func() bool { return fc.count("snapshot") == 1 })
	cut := fc.lastOf("snapshot").Seq
	if last := e.store.Log().Last(); cut != last {
		t.Fatalf("snapshot cut %d, log at %d: nothing may change meanwhile", cut, last)
	}
	live.waitFor("diffs up to the fresh cut", func() bool { return live.seq >= cut })
	return fc.features(), live.features()
}
