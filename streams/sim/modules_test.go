package sim

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
	"github.com/danang-ioc/ioc/streams/environment"
	"github.com/danang-ioc/ioc/streams/feedback"
	"github.com/danang-ioc/ioc/streams/flooding"
	"github.com/danang-ioc/ioc/streams/lighting"
	"github.com/danang-ioc/ioc/streams/response"
	"github.com/danang-ioc/ioc/streams/traffic"
)

// testStart is Monday 27 October 2025, 07:00 in Da Nang.
var testStart = time.Date(2025, 10, 27, 0, 0, 0, 0, time.UTC)

// sparse thins the most frequent periodic reports, so that a simulated day
// through the modules stays fast under -race; changes (lights switching,
// signals failing) are still reported at once.
var sparse = map[string]time.Duration{
	LayerSignals: 15 * time.Minute, LayerLamps: 6 * time.Hour, LayerCameras: 15 * time.Minute,
	LayerSegments: 30 * time.Minute, LayerCabinets: 30 * time.Minute, LayerParking: 30 * time.Minute,
}

var worldRect = geo.Rect{MinX: -180, MinY: -90, MaxX: 180, MaxY: 90}

// city is a simulator wired as in iocd: the real modules, an intake, a
// local bus and a store.
type city struct {
	sim   *Sim
	store *layers.Store
}

func newCity(t testing.TB, cfg Config) *city {
	t.Helper()
	mods, err := streams.NewModules(nil,
		traffic.New(traffic.Config{}), environment.New(environment.Config{}),
		lighting.New(lighting.Config{}), flooding.New(flooding.Config{}), feedback.New(feedback.Config{}),
		response.New(response.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	c := &city{}
	c.store = layers.NewStore(layers.Config{}, nil)
	intake := streams.NewIntake(mods, streams.NewLocalBus(func(evs []layers.Event) { c.store.Apply(evs) }))
	if cfg.Start.IsZero() {
		cfg.Start = testStart
	}
	if c.sim, err = New(cfg, intake, nil); err != nil {
		t.Fatal(err)
	}
	return c
}

// props returns the properties of every feature of a layer, by id.
func (c *city) props(t testing.TB, layer string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	l := c.store.Layer(layer)
	if l == nil {
		return out
	}
	for _, f := range l.InRect(nil, worldRect, 0) {
		var p map[string]any
		if err := json.Unmarshal(f.Properties, &p); err != nil {
			t.Fatalf("%s %s: %v", layer, f.ID, err)
		}
		out[f.ID] = p
	}
	return out
}

// raw returns the properties of every feature of a layer, undecoded.
func (c *city) raw(layer string) map[string][]byte {
	out := map[string][]byte{}
	if l := c.store.Layer(layer); l != nil {
		for _, f := range l.InRect(nil, worldRect, 0) {
			out[f.ID] = f.Properties
		}
	}
	return out
}

// count counts the features of a layer whose property key has value v (the
// modules write compact JSON, so the member's bytes are exact).
func (c *city) count(t testing.TB, layer, key string, v any) int {
	member, err := json.Marshal(map[string]any{key: v})
	if err != nil {
		t.Fatal(err)
	}
	member = member[1 : len(member)-1]
	n := 0
	for _, p := range c.raw(layer) {
		if bytes.Contains(p, member) {
			n++
		}
	}
	return n
}

// checkInventory compares each layer's size with the simulator's
// inventory.
func (c *city) checkInventory(t *testing.T) {
	t.Helper()
	for layer, want := range c.sim.Inventory() {
		got := 0
		if l := c.store.Layer(layer); l != nil {
			got = l.Len()
		}
		if got != want {
			t.Errorf("layer %s holds %d entities, the simulator has %d", layer, got, want)
		}
	}
}

func (c *city) checkNoRejections(t *testing.T) {
	t.Helper()
	if st := c.sim.Stats(); st.Rejected != 0 || st.Submitted != st.Events {
		t.Fatalf("stats %+v: want every event submitted and none refused", st)
	}
}

// TestModulesAcceptADay runs a simulated day through the real modules:
// nothing is refused, every layer holds the inventory, and the day has its
// rhythm (rush-hour congestion, lights on at night and dimmed after
// midnight, AQI computed).
func TestModulesAcceptADay(t *testing.T) {
	c := newCity(t, Config{Seed: 3, Intervals: sparse})
	step := func(d time.Duration) {
		for ; d > 0; d -= 10 * time.Minute {
			c.sim.Step(10 * time.Minute)
		}
	}
	step(80 * time.Minute) // 08:20, morning rush
	c.checkInventory(t)
	rush := c.count(t, LayerSegments, "congestion", "heavy") + c.count(t, LayerSegments, "congestion", "jammed")
	if rush == 0 {
		t.Error("no heavy or jammed segment in the morning rush")
	}
	if on := c.count(t, LayerLamps, "state", "on"); on > len(c.sim.w.lamps)/100 {
		t.Errorf("%d lamps on in the morning", on)
	}
	step(13 * time.Hour) // 21:20
	if on := c.count(t, LayerLamps, "state", "on"); on < len(c.sim.w.lamps)*9/10 {
		t.Errorf("%d of %d lamps on in the evening", on, len(c.sim.w.lamps))
	}
	night := c.count(t, LayerSegments, "congestion", "free")
	step(5 * time.Hour) // 02:20
	if dim := c.count(t, LayerLamps, "state", "dimmed"); dim < len(c.sim.w.lamps)*9/10 {
		t.Errorf("%d of %d lamps dimmed after midnight", dim, len(c.sim.w.lamps))
	}
	if night < len(c.sim.w.segments)*8/10 {
		t.Errorf("only %d of %d segments free flowing in the evening", night, len(c.sim.w.segments))
	}
	for id, p := range c.props(t, LayerAir) {
		if _, ok := p["aqi"].(float64); !ok {
			t.Errorf("air station %s has no aqi: %v", id, p)
		}
	}
	step(4*time.Hour + 40*time.Minute) // a full day
	c.checkNoRejections(t)
	c.checkInventory(t)
	t.Logf("a simulated day: %+v", c.sim.Stats())
}
