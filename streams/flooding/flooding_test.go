package flooding

import (
	"fmt"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams/internal/props/moduletest"
)

// TestGolden runs testdata/*.ndjson through the module and compares the
// output with testdata/*.golden; go test -run Golden -update rewrites the
// goldens (see package moduletest).
func TestGolden(t *testing.T) {
	moduletest.Golden(t, New, Config{RiverThresholds: map[string][3]float64{"wl-cam-le": {1.9, 2.9, 3.5}}})
}

var t0 = time.Date(2025, 10, 27, 12, 0, 0, 0, time.FixedZone("ICT", 7*3600))

func at(min int) string { return t0.Add(time.Duration(min) * time.Minute).Format(time.RFC3339) }

func ev(layer, id, when, props string) string {
	return fmt.Sprintf(`{"layer":%q,"id":%q,"time":%q,"geometry":{"type":"Point","coordinates":[108.1700,16.0200]},"properties":%s}`,
		layer, id, when, props)
}

type result struct {
	id   string
	time time.Time
	p    map[string]any
}

func run(t *testing.T, m *Module, line string) []result {
	t.Helper()
	out := moduletest.MustProcess(t, m, line)
	res := make([]result, len(out))
	for i, e := range out {
		res[i] = result{id: e.ID, time: e.Time, p: moduletest.Props(t, e)}
	}
	return res
}

func TestRainTotals(t *testing.T) {
	m := New(Config{})
	steps := []struct {
		min         int
		props       string
		intensity   float64
		precip      float64
		h1, h3, h24 float64
		heavy       bool
	}{
		// first report: the period is the nominal 10 minutes
		{0, `{"precipitation":5}`, 30, 5, 5, 5, 5, false},
		// 10 min later: 4 mm in 10 min is 24 mm/h
		{10, `{"precipitation":4}`, 24, 4, 9, 9, 9, false},
		// intensity only: 36 mm/h over the 10 minutes since the last report is 6 mm
		{20, `{"intensity":36}`, 36, 6, 15, 15, 15, false},
		// both given: taken as they are
		{30, `{"precipitation":3,"intensity":20}`, 20, 3, 18, 18, 18, false},
		// 70 min after the first: the 0-min report (5 mm) leaves the 1 h window, exactly at its edge
		{60, `{"precipitation":12}`, 24, 12, 25, 30, 30, false},
		// 20.6 mm more: 3 h total 50.6 > 50 mm is heavy
		{90, `{"precipitation":20.6}`, 41.2, 20.6, 32.6, 50.6, 50.6, true},
		// 4 h later the 3 h window holds only this report; 24 h still everything
		{330, `{"precipitation":0}`, 0, 0, 0, 0, 50.6, false},
	}
	for _, s := range steps {
		r := run(t, m, ev(LayerRain, "g1", at(s.min), s.props))
		p := r[0].p
		if len(r) != 1 || p["intensity"] != s.intensity || p["precipitation"] != s.precip || p["rain1h"] != s.h1 ||
			p["rain3h"] != s.h3 || p["rain24h"] != s.h24 || p["heavy"] != s.heavy {
			t.Errorf("minute %d %s: %d events, %v", s.min, s.props, len(r), p)
		}
	}
}

// The 3-hour total at exactly 50 mm is not yet heavy: the brief says more
// than 50 mm.
func TestHeavyRainEdge(t *testing.T) {
	m := New(Config{})
	run(t, m, ev(LayerRain, "g", at(0), `{"precipitation":25}`))
	if p := run(t, m, ev(LayerRain, "g", at(60), `{"precipitation":25}`))[0].p; p["rain3h"] != 50.0 || p["heavy"] != false {
		t.Errorf("50 mm: %v", p)
	}
	if p := run(t, m, ev(LayerRain, "g", at(70), `{"precipitation":0.01}`))[0].p; p["heavy"] != true {
		t.Errorf("50.01 mm: %v", p)
	}
}

func TestRainLateAndResentReports(t *testing.T) {
	m := New(Config{})
	run(t, m, ev(LayerRain, "g", at(0), `{"precipitation":2}`))
	run(t, m, ev(LayerRain, "g", at(20), `{"precipitation":6,"name":"Hòa Khánh"}`))
	// the 10-minute report arrives after the 20-minute one
	r := run(t, m, ev(LayerRain, "g", at(10), `{"precipitation":3}`))
	if len(r) != 2 {
		t.Fatalf("late report: %d events, want the late one and the newest again", len(r))
	}
	if r[0].p["rain1h"] != 5.0 || r[0].p["intensity"] != 18.0 {
		t.Errorf("late report as of its own time: %v", r[0].p)
	}
	if !r[1].time.Equal(t0.Add(20*time.Minute)) || r[1].p["rain1h"] != 11.0 || r[1].p["name"] != "Hòa Khánh" ||
		r[1].p["precipitation"] != 6.0 || r[1].p["intensity"] != 36.0 { // 6 mm now in 10 minutes, not 20
		t.Errorf("newest again: %v %v", r[1].time, r[1].p)
	}
	// the same report sent twice is counted once
	r = run(t, m, ev(LayerRain, "g", at(20), `{"precipitation":6,"name":"Hòa Khánh"}`))
	if len(r) != 1 || r[0].p["rain1h"] != 11.0 {
		t.Errorf("resent report: %d events %v", len(r), r[0].p)
	}
	// a report older than the history still leaves the totals right
	r = run(t, m, ev(LayerRain, "g", t0.Add(-30*time.Hour).Format(time.RFC3339), `{"precipitation":40}`))
	if r[1].p["rain24h"] != 11.0 {
		t.Errorf("a report 30 h old counted in the 24 h total: %v", r[1].p)
	}
	// delete forgets the history
	run(t, m, fmt.Sprintf(`{"layer":"flooding.rain","id":"g","op":"delete","time":%q}`, at(21)))
	if p := run(t, m, ev(LayerRain, "g", at(30), `{"precipitation":1}`))[0].p; p["rain24h"] != 1.0 {
		t.Errorf("after delete: %v", p)
	}
}

func TestRainHistoryIsBounded(t *testing.T) {
	m := New(Config{MaxRainSamples: 100})
	for i := range 1000 {
		run(t, m, ev(LayerRain, "g", t0.Add(time.Duration(i)*time.Minute).Format(time.RFC3339), `{"precipitation":0.1}`))
	}
	if n := len(m.gauges["g"].samples); n != 100 {
		t.Errorf("%d samples kept, want 100", n)
	}
}

func TestRiverBands(t *testing.T) {
	cases := []struct {
		level  float64
		band   string
		w      float64
		toNext any
	}{
		{0.5, "below_bd1", 0, 1.4},
		{1.89, "below_bd1", 0, 0.01},
		{1.9, "bd1", 1, 1.0}, // reaching BĐ1 is BĐ1
		{2.5, "bd1", 1, 0.4},
		{2.9, "bd2", 2, 0.6},
		{3.49, "bd2", 2, 0.01},
		{3.5, "bd3", 3, nil},
		{4.2, "bd3", 3, nil},
	}
	m := New(Config{})
	for i, c := range cases {
		props := fmt.Sprintf(`{"currentLevel":%v,"bd1":1.9,"bd2":2.9,"bd3":3.5}`, c.level)
		p := run(t, m, ev(LayerRivers, fmt.Sprint("st", i), at(0), props))[0].p
		if p["levelBand"] != c.band || p["warningLevel"] != c.w || p["toNextBand"] != c.toNext {
			t.Errorf("level %v: %v %v %v, want %s %v %v", c.level, p["levelBand"], p["warningLevel"], p["toNextBand"], c.band, c.w, c.toNext)
		}
	}
}

func TestRiverThresholdSources(t *testing.T) {
	m := New(Config{RiverThresholds: map[string][3]float64{"cfg": {1, 2, 3}}})
	check := func(id, props, band string) {
		t.Helper()
		if p := run(t, m, ev(LayerRivers, id, at(0), props))[0].p; p["levelBand"] != band {
			t.Errorf("%s %s: band %v, want %s", id, props, p["levelBand"], band)
		}
	}
	check("cfg", `{"currentLevel":2.5}`, "bd2")                               // configuration
	check("cfg", `{"currentLevel":2.5,"bd1":3,"bd2":4,"bd3":5}`, "below_bd1") // the report wins
	check("cfg", `{"currentLevel":3.5}`, "bd1")                               // and is remembered
	check("none", `{"waterLevel":2.5}`, "unknown")                            // no thresholds; the alias
	check("cfg", `{"height":5.5,"waterLevel":4.5}`, "bd2")                    // waterLevel is preferred to height
	check("cfg", `{"height":5.5}`, "bd3")                                     // height when alone
}

func TestRiverTrend(t *testing.T) {
	cases := []struct {
		name   string
		levels []float64 // every 10 minutes
		trend  string
		rate   any
	}{
		{"one reading", []float64{2.0}, "unknown", nil},
		{"rising 10 cm per 10 min", []float64{2.0, 2.1, 2.2, 2.3}, "rising", 60.0},
		{"falling", []float64{3.0, 2.95, 2.9}, "falling", -30.0},
		{"steady with noise", []float64{2.0, 2.01, 1.99, 2.0, 2.01}, "steady", 0.6},
		{"gentle rise", []float64{2.0, 2.025, 2.05}, "rising", 15.0},
		{"a dip does not flip it", []float64{2.0, 2.1, 2.2, 2.05, 2.4}, "rising", 45.0},
	}
	for _, c := range cases {
		m := New(Config{})
		var p map[string]any
		for i, l := range c.levels {
			p = run(t, m, ev(LayerRivers, "st", at(10*i), fmt.Sprintf(`{"currentLevel":%v}`, l)))[0].p
		}
		if p["trend"] != c.trend || p["levelRate"] != c.rate {
			t.Errorf("%s: trend %v rate %v, want %s %v", c.name, p["trend"], p["levelRate"], c.trend, c.rate)
		}
	}
	// The threshold itself: 5 cm/h is rising, 4.9 steady.
	m := New(Config{})
	run(t, m, ev(LayerRivers, "st", at(0), `{"currentLevel":2}`))
	if p := run(t, m, ev(LayerRivers, "st", at(60), `{"currentLevel":2.05}`))[0].p; p["trend"] != "rising" || p["levelRate"] != 5.0 {
		t.Errorf("5 cm/h: %v %v", p["trend"], p["levelRate"])
	}
	m = New(Config{})
	run(t, m, ev(LayerRivers, "st", at(0), `{"currentLevel":2}`))
	if p := run(t, m, ev(LayerRivers, "st", at(60), `{"currentLevel":2.049}`))[0].p; p["trend"] != "steady" {
		t.Errorf("4.9 cm/h: %v %v", p["trend"], p["levelRate"])
	}
	// Readings older than the window do not count.
	m = New(Config{TrendWindow: 30 * time.Minute})
	run(t, m, ev(LayerRivers, "st", at(0), `{"currentLevel":1}`))
	run(t, m, ev(LayerRivers, "st", at(40), `{"currentLevel":2}`))
	if p := run(t, m, ev(LayerRivers, "st", at(60), `{"currentLevel":2}`))[0].p; p["trend"] != "steady" {
		t.Errorf("window: %v %v", p["trend"], p["levelRate"])
	}
}

func TestRiverLateReport(t *testing.T) {
	m := New(Config{})
	run(t, m, ev(LayerRivers, "st", at(0), `{"currentLevel":2.0,"bd1":1.9,"bd2":2.9,"bd3":3.5}`))
	run(t, m, ev(LayerRivers, "st", at(20), `{"currentLevel":2.0}`))
	r := run(t, m, ev(LayerRivers, "st", at(10), `{"currentLevel":2.3}`))
	if len(r) != 2 || r[0].p["levelBand"] != "bd1" || r[1].p["levelRate"] != 0.0 || !r[1].time.Equal(t0.Add(20*time.Minute)) {
		t.Fatalf("late: %+v", r)
	}
	if r[1].p["currentLevel"] != 2.0 || r[1].p["bd3"] != 3.5 {
		t.Errorf("newest again: %v", r[1].p)
	}
}

func TestStreetDepthClasses(t *testing.T) {
	cases := []struct {
		props   string
		class   string
		depth   float64
		flooded bool
	}{
		{`{"depth":0}`, "dry", 0, false},
		{`{"depth":4.9}`, "dry", 4.9, false},
		{`{"depth":5}`, "shallow", 5, true},
		{`{"depth":15}`, "moderate", 15, true},
		{`{"depth":29.9}`, "moderate", 29.9, true},
		{`{"depth":30}`, "deep", 30, true},
		{`{"depth":50}`, "very_deep", 50, true},
		{`{"height":0.42}`, "deep", 42, true},             // WaterObserved height in metres
		{`{"currentLevel":0.123}`, "shallow", 12.3, true}, // FloodMonitoring currentLevel in metres
	}
	m := New(Config{})
	for _, c := range cases {
		p := run(t, m, ev(LayerStreets, "s", at(0), c.props))[0].p
		if p["depthClass"] != c.class || p["depth"] != c.depth || p["flooded"] != c.flooded {
			t.Errorf("%s: %v", c.props, p)
		}
	}
}

func TestErrorsSayWhatAndWhere(t *testing.T) {
	cases := []struct{ line, path, msg string }{
		{ev(LayerRain, "g", at(0), `{"precipitation":-1}`), "properties.precipitation", "must be >= 0 mm"},
		{ev(LayerRain, "g", at(0), `{"intensity":"heavy"}`), "properties.intensity", "must be a number"},
		{ev(LayerRain, "g", at(0), `{"temperature":25}`), "properties", "needs precipitation"},
		{ev(LayerRivers, "r", at(0), `{"currentLevel":"high"}`), "properties.currentLevel",
			`currentLevel must be a number, found a string "high"`},
		{ev(LayerRivers, "r", at(0), `{}`), "properties.currentLevel", "currentLevel (water level, m) is required"},
		{ev(LayerRivers, "r", at(0), `{"currentLevel":2,"bd1":3,"bd2":2.5,"bd3":4}`), "properties.bd1",
			"warning levels must increase, bd1 < bd2 < bd3; got 3, 2.5, 4 m"},
		{ev(LayerRivers, "r", at(0), `{"currentLevel":2,"bd1":3}`), "properties.bd1", "go together"},
		{ev(LayerStreets, "s", at(0), `{"depth":-3}`), "properties.depth", "must be >= 0 cm"},
		{ev(LayerStreets, "s", at(0), `{}`), "properties.depth", "depth (cm) is required"},
		{ev("flooding.tides", "t", at(0), `{}`), "layer", "not one of the flooding module's layers"},
	}
	m := New(Config{})
	for _, c := range cases {
		moduletest.ExpectError(t, m, c.line, c.path, c.msg)
	}
}

func TestSpecs(t *testing.T) {
	specs := Specs()
	want := []string{LayerRain, LayerRivers, LayerStreets}
	for i, s := range specs {
		if s.Name != want[i] || s.StaleAfter != 3*s.Interval || s.Interval < 5*time.Minute || s.Interval > 15*time.Minute {
			t.Errorf("%+v", s)
		}
	}
}

func TestConcurrentProcess(t *testing.T) {
	m := New(Config{})
	moduletest.Concurrent(t, m, 300, func(g, i int) []string {
		when := t0.Add(time.Duration(i*7+g) * time.Minute).Format(time.RFC3339)
		return []string{
			ev(LayerRain, fmt.Sprintf("g%d", i%4), when, `{"precipitation":1.5}`),
			ev(LayerRivers, fmt.Sprintf("r%d", i%4), when, fmt.Sprintf(`{"currentLevel":%v}`, 2+float64(i%10)/10)),
			ev(LayerStreets, "s", when, `{"depth":12}`),
		}
	})
}

func BenchmarkProcess(b *testing.B) {
	m := New(Config{})
	const n = 2000
	events := make([]layers.Event, n)
	for i := range events {
		when := t0.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)
		if i%2 == 0 {
			events[i] = moduletest.Event(b, ev(LayerRain, fmt.Sprintf("rg-%02d", i%25), when, `{"precipitation":2.4,"name":"rain gauge"}`))
		} else {
			events[i] = moduletest.Event(b, ev(LayerRivers, fmt.Sprintf("wl-%02d", i%5), when,
				fmt.Sprintf(`{"currentLevel":%v,"bd1":1.9,"bd2":2.9,"bd3":3.5}`, 2+float64(i%40)/100)))
		}
	}
	moduletest.Bench(b, m, events)
}
