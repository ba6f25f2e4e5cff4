package sim

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// stormWatch follows a storm through the events and the layers.
type stormWatch struct {
	c          *city
	maxLevel   map[string]float64 // river station → highest warningLevel
	maxDepth   float64            // deepest street in the heavy areas
	heavyRain  map[string]bool    // districts with a gauge past 30 mm/h in hours 0–2
	reports    []*report          // storm-category reports created, with their hour
	hours      []float64
	perHour    [12]int
	darkRoutes int // routes whose every lamp was no_power at once
	degraded   int // most degraded signals at once
	teamStates map[string]bool
	everCut    map[string]bool // cabinets the storm has cut so far
}

var stormCats = map[string]bool{"flooded_road": true, "fallen_tree": true, "power_line_down": true, "trapped_people": true}

func (w *stormWatch) events(t *testing.T, st *storm, evs []eventView) {
	for _, ev := range evs {
		h := st.hour(ev.at)
		switch {
		case ev.layer == LayerRain && h < 2 && ev.p["intensity"].(float64) > 30:
			w.heavyRain[strings.SplitN(strings.TrimPrefix(ev.id, "rg-"), "-0", 2)[0]] = true
		case ev.layer == LayerReports && ev.p["status"] == "received" && stormCats[ev.p["category"].(string)]:
			w.reports = append(w.reports, &report{id: ev.id, lon: ev.lon, lat: ev.lat, cat: ev.p["category"].(string)})
			w.hours = append(w.hours, h)
			if h >= 0 && h < 12 {
				w.perHour[int(h)]++
			}
		}
	}
}

// layers samples the layers during the storm.
func (w *stormWatch) layers(t *testing.T) {
	c := w.c
	for id, p := range c.props(t, LayerRivers) {
		w.maxLevel[id] = max(w.maxLevel[id], p["warningLevel"].(float64))
	}
	for id, p := range c.props(t, LayerStreets) {
		if site := c.sim.streetSite(id); site != nil && site.heavy {
			w.maxDepth = max(w.maxDepth, p["depth"].(float64))
		}
	}
	w.degraded = max(w.degraded, c.count(t, LayerSignals, "degraded", true))
	lamps := c.raw(LayerLamps)
	dark := 0
	for _, rt := range c.sim.w.routes {
		all := rt.cabN > 0
		for ci := rt.cabFirst; ci < rt.cabFirst+rt.cabN && all; ci++ {
			cab := &c.sim.w.cabinets[ci]
			for j := cab.first; j < cab.first+cab.n && all; j++ {
				all = bytes.Contains(lamps[c.sim.w.lamps[j].id], []byte(`"state":"no_power"`))
			}
		}
		if all {
			dark++
		}
	}
	w.darkRoutes = max(w.darkRoutes, dark)
	for _, p := range c.props(t, LayerRescueTeams) {
		w.teamStates[p["activity"].(string)] = true
		w.teamStates[p["status"].(string)] = true
		w.teamStates["kind:"+p["kind"].(string)] = true
		if ref, _ := p["refReport"].(string); p["kind"] == "maintenance" && p["activity"] == "on_scene" && w.everCut[ref] {
			w.teamStates["crew_at_cut_cabinet"] = true
		}
	}
	for _, cab := range c.sim.w.cabinets {
		if cab.storm {
			w.everCut[cab.id] = true
		}
	}
}

// eventView is an event with its properties decoded.
type eventView struct {
	layer, id string
	at        int64
	lon, lat  float64
	p         map[string]any
}

func view(t *testing.T, s *Sim, d time.Duration) []eventView {
	var out []eventView
	for _, ev := range s.Step(d) {
		if ev.Layer != LayerRain && ev.Layer != LayerReports || ev.Properties == nil {
			continue
		}
		v := eventView{layer: ev.Layer, id: ev.ID, at: ev.Time.UnixNano()}
		if err := json.Unmarshal(ev.Properties, &v.p); err != nil {
			t.Fatal(err)
		}
		c := ev.Geometry.FlatCoords()
		v.lon, v.lat = c[0], c[1]
		out = append(out, v)
	}
	return out
}

func (s *Sim) streetSite(id string) *floodSite {
	for i := range s.w.streets {
		if s.w.streets[i].id == id {
			return &s.w.floods[s.w.streets[i].site]
		}
	}
	return nil
}

// TestStorm plays the brief's storm (8 hours in one simulated hour, the
// recovery in half an hour more) through the real modules.
func TestStorm(t *testing.T) {
	iv := map[string]time.Duration{LayerCameras: 5 * time.Minute}
	for k, v := range sparse {
		if k != LayerCameras {
			iv[k] = v
		}
	}
	c := newCity(t, Config{Seed: 11, Intervals: iv})
	for range 12 {
		c.sim.Step(10 * time.Minute) // to 09:00
	}
	before := c.count(t, LayerSignals, "degraded", true)
	speed0 := c.cameraSpeedRatio(t)
	if err := c.sim.Storm(time.Hour); err != nil {
		t.Fatal(err)
	}
	st := c.sim.st
	w := &stormWatch{c: c, maxLevel: map[string]float64{}, heavyRain: map[string]bool{}, teamStates: map[string]bool{}, everCut: map[string]bool{}}
	var speed3 float64
	for i := range 45 { // 2 simulated minutes = 16 scenario minutes each
		w.events(t, st, view(t, c.sim, 2*time.Minute))
		if i%2 == 0 {
			w.layers(t)
		}
		if i == 22 { // scenario hour 3
			speed3 = c.cameraSpeedRatio(t)
		}
	}
	w.check(t, before, speed0, speed3)
	c.sim.Step(20 * time.Minute)
	w.checkRecovery(t, before)
	c.checkNoRejections(t)
	c.checkInventory(t)
}

// cameraSpeedRatio is the mean speed ratio of the cameras in the districts
// the storm hits.
func (c *city) cameraSpeedRatio(t *testing.T) float64 {
	sum, n := 0.0, 0
	props := c.props(t, LayerCameras)
	for _, cam := range c.sim.w.cameras {
		if r, ok := props[cam.id]["speedRatio"].(float64); ok && c.sim.affected(cam.d) {
			sum, n = sum+r, n+1
		}
	}
	return sum / float64(n)
}

func (w *stormWatch) check(t *testing.T, before int, speed0, speed3 float64) {
	t.Logf("rivers %v, heavy rain in %v, deepest %.1f cm, speed ratio %.2f → %.2f, %d dark routes, "+
		"%d → %d degraded signals, teams %v", w.maxLevel, w.heavyRain, w.maxDepth, speed0, speed3,
		w.darkRoutes, before, w.degraded, w.teamStates)
	bd3 := 0
	for _, id := range []string{"wl-cu-de", "wl-tuy-loan", "wl-ai-nghia"} {
		if w.maxLevel[id] < 2 {
			t.Errorf("river %s reached warning level %v, want at least BĐ2", id, w.maxLevel[id])
		}
	}
	for _, l := range w.maxLevel {
		if l >= 3 {
			bd3++
		}
	}
	if bd3 == 0 {
		t.Errorf("no river reached BĐ3: %v", w.maxLevel)
	}
	if !w.heavyRain["hoa-vang"] || !w.heavyRain["lien-chieu"] {
		t.Errorf("gauges past 30 mm/h in hours 0–2: %v, want Hòa Vang and Liên Chiểu", w.heavyRain)
	}
	if w.maxDepth < 20 || w.maxDepth > 60 {
		t.Errorf("deepest street in the flooded areas %v cm, want 20–50", w.maxDepth)
	}
	if speed3 > speed0*0.8 {
		t.Errorf("camera speed ratio %.2f before, %.2f in the storm: want slower", speed0, speed3)
	}
	if w.darkRoutes < 3 {
		t.Errorf("%d routes entirely without power at once, want several", w.darkRoutes)
	}
	if w.degraded < before+10 {
		t.Errorf("%d signals degraded in the storm, %d before", w.degraded, before)
	}
	for _, s := range []string{"standby", "en_route", "on_scene", "available", "busy",
		"kind:rescue", "kind:medical", "kind:maintenance", "crew_at_cut_cabinet"} {
		if !w.teamStates[s] {
			t.Errorf("no rescue team was ever %s: %v", s, w.teamStates)
		}
	}
	w.checkReports(t)
}

func (w *stormWatch) checkReports(t *testing.T) {
	peak := 0
	for _, n := range w.perHour[2:6] {
		peak = max(peak, n)
	}
	if peak < 150 {
		t.Errorf("storm reports per scenario hour %v: want hundreds in hours 2–6", w.perHour)
	}
	near := 0
	for _, r := range w.reports {
		if w.c.sim.land.at(r.lon, r.lat) < 0 {
			t.Errorf("report %s at %.5f,%.5f is not on land", r.id, r.lon, r.lat)
		}
		for _, f := range w.c.sim.w.floods {
			if f.heavy && dist(f.lon, f.lat, r.lon, r.lat) < 1500 {
				near++
				break
			}
		}
	}
	if near < len(w.reports)*6/10 {
		t.Errorf("%d of %d storm reports within 1.5 km of a flooded area", near, len(w.reports))
	}
	t.Logf("%d storm reports, per scenario hour %v; %d near flooded areas", len(w.reports), w.perHour, near)
}

func (w *stormWatch) checkRecovery(t *testing.T, before int) {
	c := w.c
	if c.sim.Stats().StormActive {
		t.Fatal("storm still active")
	}
	for id, p := range c.props(t, LayerRivers) {
		if p["levelBand"] != "below_bd1" {
			t.Errorf("after the storm river %s is at %v", id, p["levelBand"])
		}
	}
	cut := 0
	for _, cab := range c.sim.w.cabinets {
		if cab.cut {
			cut += int(cab.n)
		}
	}
	if n := c.count(t, LayerLamps, "state", "no_power"); n > cut {
		t.Errorf("%d lamps without power after the storm, %d in local cuts", n, cut)
	}
	if n := c.count(t, LayerSignals, "degraded", true); n > before+5 {
		t.Errorf("%d signals degraded after the storm, %d before", n, before)
	}
	for id, p := range c.props(t, LayerStreets) {
		if p["depth"].(float64) > 10 {
			t.Errorf("street %s still %v cm deep", id, p["depth"])
		}
	}
	if n := c.store.Layer(LayerRescueTeams).Len(); n != 0 {
		t.Errorf("%d rescue teams left on the map", n)
	}
}
