package sim

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/geo/areas"
	"github.com/danang-ioc/ioc/layers"
)

func newSim(t testing.TB, cfg Config) *Sim {
	t.Helper()
	if cfg.Start.IsZero() {
		cfg.Start = testStart
	}
	s, err := New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestInventory: the city's real scale (the brief's plan figures).
func TestInventory(t *testing.T) {
	s := newSim(t, Config{})
	inv := s.Inventory()
	want := map[string]int{
		LayerSignals: 166, LayerCameras: 186, LayerSegments: 300, LayerRain: 25, LayerRivers: 5,
		LayerAir: 10, LayerWater: 26, LayerStreets: 24, LayerLamps: 4500, LayerParking: 14,
		LayerViolations: 0, LayerRescueTeams: 0,
		LayerReports: 32, // the last day's reports, at 1,000 a month
	}
	for layer, n := range want {
		if inv[layer] != n {
			t.Errorf("%s: %d entities, want %d", layer, inv[layer], n)
		}
	}
	if n := inv[LayerCabinets]; n < 100 || n > 250 {
		t.Errorf("%d cabinets, want a hundred or two (20–50 lamps each)", n)
	}
	if inv[LayerAir]+inv[LayerWater] != 36 {
		t.Errorf("%d environment stations, the plan has 36", inv[LayerAir]+inv[LayerWater])
	}
	for _, c := range s.w.cabinets[:len(s.w.cabinets)-1] { // the last one may be cut short
		if c.n < minRouteLamps || c.n > 54 {
			t.Errorf("cabinet %s has %d lamps", c.id, c.n)
		}
	}
	gauges := map[string]int{}
	for _, g := range s.w.gauges {
		gauges[s.land.ds[g.d].short]++
	}
	if gauges["Hòa Vang"] <= gauges["Hải Châu"] || gauges["Liên Chiểu"] <= gauges["Sơn Trà"] {
		t.Errorf("rain gauges per district %v: want more in Hòa Vang and Liên Chiểu", gauges)
	}
}

func TestScaleTen(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 45,000 lamps")
	}
	inv := newSim(t, Config{Scale: 10}).Inventory()
	for layer, n := range map[string]int{LayerSignals: 1660, LayerCameras: 1860, LayerSegments: 3000,
		LayerLamps: 45000, LayerRain: 250, LayerAir: 46, LayerStreets: 240} {
		if inv[layer] != n {
			t.Errorf("scale 10: %s has %d entities, want %d", layer, inv[layer], n)
		}
	}
}

// TestPositionsOnLand: every sensor is inside a mainland district of
// geo/areas, or (the river, sea and bridge stations) within 600 m of its
// named site.
func TestPositionsOnLand(t *testing.T) {
	set, err := areas.Default()
	if err != nil {
		t.Fatal(err)
	}
	gd, _ := loadData()
	s := newSim(t, Config{})
	onLand := func(lon, lat float64) bool {
		loc := set.Locate(lon, lat)
		if loc.DistrictCode != "" && loc.DistrictCode != "498" { // not Hoàng Sa
			return true
		}
		for _, st := range gd.sites {
			if dist(st.lon, st.lat, lon, lat) < 600 {
				return true
			}
		}
		return false
	}
	if onLand(108.30, 16.02) || !onLand(108.2208, 16.0678) {
		t.Fatal("the check itself is wrong: the sea east of Ngũ Hành Sơn or the centre of Hải Châu")
	}
	check := func(layer string, sn *sensor) {
		if !onLand(sn.lon, sn.lat) {
			t.Errorf("%s %s (%s) at %.5f,%.5f is not on land", layer, sn.id, sn.name, sn.lon, sn.lat)
		}
	}
	for _, p := range periodicKinds { // segments: their midpoints
		for i := range s.countOf(p.k) {
			check(p.layer, s.sensorOf(p.k, int32(i)))
		}
	}
	w := s.w
	for _, b := range w.bases {
		check(LayerRescueTeams, &sensor{id: b.id, name: b.name, lon: b.lon, lat: b.lat})
	}
}

// encode writes events as lines, for byte comparisons.
func encode(evs []layers.Event) []byte {
	var b []byte
	for _, ev := range evs {
		b = append(b, ev.Layer...)
		b = append(b, ' ')
		b = append(b, ev.ID...)
		b = append(b, ' ')
		b = append(b, ev.Op.String()...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, ev.Time.UnixNano(), 10)
		b = append(b, ' ')
		if ev.Geometry != nil {
			b = geo.AppendGeoJSON(b, ev.Geometry)
		}
		b = append(b, ' ')
		b = append(b, ev.Properties...)
		b = append(b, '\n')
	}
	return b
}

// run steps a simulator for four hours, a storm starting after the first.
func run(t *testing.T, seed int64) []byte {
	s := newSim(t, Config{Seed: seed, Intervals: sparse})
	var out []byte
	for i := range 4 * 12 {
		if i == 12 {
			if err := s.Storm(time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, encode(s.Step(5*time.Minute))...)
	}
	return out
}

func TestDeterminism(t *testing.T) {
	a, b, c := run(t, 42), run(t, 42), run(t, 43)
	if !bytes.Equal(a, b) {
		t.Fatal("two runs with seed 42 differ")
	}
	if bytes.Equal(a, c) {
		t.Fatal("seeds 42 and 43 give the same events")
	}
	t.Logf("%d bytes of events, identical for the same seed", len(a))
}

func TestStormErrors(t *testing.T) {
	s := newSim(t, Config{Scale: 0.1})
	if err := s.Storm(time.Second); err == nil {
		t.Error("a storm compressed to a second was accepted")
	}
	if err := s.Storm(10 * time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Storm(10 * time.Minute); !errors.Is(err, ErrStormActive) {
		t.Errorf("second storm: %v, want ErrStormActive", err)
	}
	s.Step(15*time.Minute + time.Second) // 12 scenario hours: over
	if st := s.Stats(); st.StormActive {
		t.Fatalf("storm still active after its end: %+v", st)
	}
	if err := s.Storm(10 * time.Minute); err != nil {
		t.Errorf("a storm after the first ended: %v", err)
	}
	if _, err := New(Config{Scale: -1}, nil, nil); err == nil {
		t.Error("a negative scale was accepted")
	}
}

// TestRun: in real time (here 600 times faster) through the modules,
// with a storm started from another goroutine.
func TestRun(t *testing.T) {
	c := newCity(t, Config{Speed: 600, Tick: 10 * time.Millisecond, Intervals: sparse})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.sim.Run(ctx) }()
	// Poll the simulated clock rather than sleeping: a loaded machine runs
	// the simulation slower, not differently.
	waitSim := func(what string, d time.Duration) {
		deadline := time.Now().Add(30 * time.Second)
		for c.sim.Stats().SimTime.Sub(testStart) < d {
			if time.Now().After(deadline) {
				t.Fatalf("simulated clock never reached %v (%s): %+v", d, what, c.sim.Stats())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitSim("before the storm", 10*time.Second)
	if err := c.sim.Storm(10 * time.Minute); err != nil {
		t.Fatal(err)
	}
	waitSim("during the storm", time.Minute)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	st := c.sim.Stats()
	if st.Events == 0 || st.Rejected != 0 || !st.StormActive {
		t.Fatalf("after a simulated minute at speed 600: %+v", st)
	}
	// The events of the tick the deadline interrupted are dropped.
	if n := c.store.Layer(LayerLamps).Len(); n != len(c.sim.w.lamps) && st.Submitted == st.Events {
		t.Errorf("%d lamps on the map, want %d", n, len(c.sim.w.lamps))
	}
	if st.Submitted == 0 || c.store.Layer(LayerSignals).Len() == 0 {
		t.Errorf("nothing reached the map: %+v", st)
	}
}
