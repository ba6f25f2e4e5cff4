package environment

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams/internal/props/moduletest"
)

// TestGolden runs testdata/*.ndjson through the module and compares the
// output with testdata/*.golden; go test -run Golden -update rewrites the
// goldens (see package moduletest).
func TestGolden(t *testing.T) {
	moduletest.Golden(t, New, Config{StationKinds: map[string]string{"wq-cu-de": "river"}})
}

const point = `{"type":"Point","coordinates":[108.2208,16.0678]}`

func ev(layer, id, at, props string) string {
	return fmt.Sprintf(`{"layer":%q,"id":%q,"time":%q,"geometry":%s,"properties":%s}`, layer, id, at, point, props)
}

func process(t *testing.T, m *Module, line string) (map[string]any, error) {
	t.Helper()
	_, p, err := moduletest.ProcessOne(t, m, line)
	return p, err
}

// Every breakpoint of Table 2 maps to its index level exactly.
func TestSubIndexAtBreakpoints(t *testing.T) {
	for _, pol := range pollutants {
		for i, c := range pol.bp {
			if got := subIndex(pol.bp, c); got != indexLevels[i] {
				t.Errorf("%s at %v: %v, want %v", pol.name, c, got, indexLevels[i])
			}
		}
		if got := subIndex(pol.bp, pol.bp[7]*2); got != 500 {
			t.Errorf("%s above the table: %v, want 500", pol.name, got)
		}
	}
}

func TestSubIndexBetweenBreakpoints(t *testing.T) {
	cases := []struct {
		name string
		c    float64
		want int
	}{
		{"pm25", 12.5, 25},    // half of 0..25 -> half of 0..50
		{"pm25", 37.5, 75},    // 50 + (37.5-25)*50/25
		{"pm25", 25.1, 50},    // 50.2 rounds to 50: still good
		{"pm25", 65, 125},     // 100 + 15*50/30
		{"pm25", 300, 350},    // 300 + 50*100/100
		{"pm10", 100, 75},     // 50 + 50*50/100
		{"pm10", 385, 250},    // 200 + 35*100/70
		{"o3", 136.1, 43},     // the decision's worked example
		{"o3", 180, 75},       // 50 + 20*50/40
		{"no2", 118.7, 59},    // the decision's example prints 60 for 59.35; see aqi.go
		{"no2", 450, 125},     // 100 + 250*50/500
		{"so2", 237.5, 75},    // 50 + 112.5*50/225
		{"co", 20000, 75},     // 50 + 10000*50/20000
		{"co", 135000, 450},   // 400 + 15000*100/30000
		{"pm25", 20.3, 41},    // NowCast of the worked example
		{"pm25", 55.7, 110},   // the daily example's PM2.5
		{"pm25", 1000, 500},   // capped at the top of the scale
		{"pm10", 25.25, 25},   // 25.25 exactly: .25 rounds down
		{"pm25", 0.25, 1},     // 0.5 rounds half up
		{"so2", 0.0001, 0},    // near zero
		{"co", 10000.5, 50},   // just above a breakpoint
		{"pm10", 599.99, 500}, // just below the top
	}
	for _, c := range cases {
		for _, pol := range pollutants {
			if pol.name == c.name {
				if got := aqiValue(subIndex(pol.bp, c.c)); got != c.want {
					t.Errorf("%s %v: %d, want %d", c.name, c.c, got, c.want)
				}
			}
		}
	}
}

// Band edges: the index is an integer, so 50 is good and 51 moderate.
func TestBandEdges(t *testing.T) {
	cases := []struct {
		pm25   float64
		aqi    float64
		band   string
		colour string
	}{
		{0, 0, "good", "green"},
		{25, 50, "good", "green"},
		{25.5, 51, "moderate", "yellow"},
		{50, 100, "moderate", "yellow"},
		{50.6, 101, "poor", "orange"},
		{80, 150, "poor", "orange"},
		{81.4, 151, "bad", "red"},
		{150, 200, "bad", "red"},
		{151, 201, "very_bad", "purple"},
		{250, 300, "very_bad", "purple"},
		{251, 301, "hazardous", "maroon"},
		{500, 500, "hazardous", "maroon"},
		{800, 500, "hazardous", "maroon"},
	}
	m := New(Config{DisableNowCast: true})
	for _, c := range cases {
		p, err := process(t, m, ev(LayerAir, "st", "2025-10-27T08:00:00+07:00", fmt.Sprintf(`{"pm25":%v}`, c.pm25)))
		if err != nil {
			t.Fatal(err)
		}
		if p["aqi"] != c.aqi || p["aqiBand"] != c.band || p["aqiColor"] != c.colour {
			t.Errorf("pm25 %v: aqi %v %v %v, want %v %s %s", c.pm25, p["aqi"], p["aqiBand"], p["aqiColor"], c.aqi, c.band, c.colour)
		}
	}
}

func TestDominantPollutant(t *testing.T) {
	cases := []struct {
		props    string
		aqi      any
		dominant any
	}{
		{`{"pm25":20,"o3":180}`, 75.0, "o3"},
		{`{"pm25":25,"pm10":50}`, 50.0, "pm25"}, // a tie goes to PM2.5
		{`{"pm10":100,"no2":450,"co":20000}`, 125.0, "no2"},
		{`{"pm10":10,"so2":700}`, 180.0, "so2"},               // 150 + 150*50/250
		{`{"o3":300,"no2":50}`, nil, nil},                     // no particles: no VN_AQI
		{`{"pm2_5":37.5}`, 75.0, "pm25"},                      // the alias
		{`{"pm25":10,"aqi":999,"aqiBand":"x"}`, 20.0, "pm25"}, // a source's own aqi is replaced
	}
	m := New(Config{DisableNowCast: true})
	for _, c := range cases {
		p, err := process(t, m, ev(LayerAir, "st", "2025-10-27T08:00:00+07:00", c.props))
		if err != nil {
			t.Fatal(err)
		}
		if p["aqi"] != c.aqi || p["aqiMajorPollutant"] != c.dominant {
			t.Errorf("%s: aqi %v major %v, want %v %v", c.props, p["aqi"], p["aqiMajorPollutant"], c.aqi, c.dominant)
		}
		if _, ok := p["aqiSubIndex"].(map[string]any); !ok {
			t.Errorf("%s: no aqiSubIndex", c.props)
		}
	}
}

func TestCOInMilligrams(t *testing.T) {
	m := New(Config{DisableNowCast: true, COInMilligrams: true})
	p, err := process(t, m, ev(LayerAir, "st", "2025-10-27T08:00:00+07:00", `{"pm25":1,"co":20}`))
	if err != nil {
		t.Fatal(err)
	}
	if sub := p["aqiSubIndex"].(map[string]any); sub["co"] != 75.0 || p["co"] != 20.0 {
		t.Errorf("co 20 mg/m³: sub-index %v (want 75), co %v (want as sent)", sub["co"], p["co"])
	}
}

// The worked example of the decision (section 2.3 a): twelve hourly PM2.5
// means from 09:00 to 20:00 give a NowCast of 20.3 µg/m³.
func TestNowCastWorkedExample(t *testing.T) {
	hours := []float64{26.9, 24.7, 20.5, 23.5, 19.5, 16.5, 19.0, 16.5, 20.3, 22.4, 19.6, 20.6} // 09:00..20:00
	var c [nowCastHours]float64
	var has [nowCastHours]bool
	for i, v := range hours {
		c[len(hours)-1-i], has[len(hours)-1-i] = v, true
	}
	nc, ok := nowCast(c, has)
	if !ok || math.Abs(nc-20.3) > 0.05 {
		t.Fatalf("NowCast %v %v, want 20.3", nc, ok)
	}
	// Through the module: the 20:00 report carries the NowCast and the
	// hourly index of the example (O3 43, NO2 59, PM2.5 41).
	m := New(Config{})
	var p map[string]any
	for i, v := range hours {
		at := time.Date(2019, 11, 12, 9+i, 0, 0, 0, time.FixedZone("ICT", 7*3600)).Format(time.RFC3339)
		props := fmt.Sprintf(`{"pm25":%v}`, v)
		if i == len(hours)-1 {
			props = fmt.Sprintf(`{"pm25":%v,"o3":136.1,"no2":118.7}`, v)
		}
		var err error
		if p, err = process(t, m, ev(LayerAir, "st", at, props)); err != nil {
			t.Fatal(err)
		}
	}
	sub := p["aqiSubIndex"].(map[string]any)
	if p["pm25NowCast"] != 20.3 || sub["pm25"] != 41.0 || sub["o3"] != 43.0 || sub["no2"] != 59.0 || p["aqi"] != 59.0 {
		t.Errorf("example: NowCast %v, sub-indices %v, aqi %v", p["pm25NowCast"], sub, p["aqi"])
	}
	if p["aqiMajorPollutant"] != "no2" || p["aqiProvisional"] != nil {
		t.Errorf("major %v provisional %v", p["aqiMajorPollutant"], p["aqiProvisional"])
	}
}

// Just after a start only one hour is known: the reported value is used
// and the index is marked provisional, until two of the last three hours
// are known. Reports within an hour are averaged.
func TestNowCastNeedsTwoOfThreeHours(t *testing.T) {
	steps := []struct {
		at          string
		pm25        float64
		provisional any
		nowcast     any
	}{
		{"2025-10-27T08:00:00+07:00", 40, true, nil},
		{"2025-10-27T08:30:00+07:00", 60, true, nil},
		{"2025-10-27T09:10:00+07:00", 20, nil, 30.0}, // hours 50 (mean of 40, 60) and 20: w = 0.5, (20 + 0.5×50) / 1.5
		{"2025-10-27T12:00:00+07:00", 30, true, nil}, // 10:00 and 11:00 missing
		{"2025-10-27T13:00:00+07:00", 30, nil, 30.0},
	}
	m := New(Config{})
	for _, s := range steps {
		p, err := process(t, m, ev(LayerAir, "st", s.at, fmt.Sprintf(`{"pm25":%v}`, s.pm25)))
		if err != nil {
			t.Fatal(err)
		}
		if p["aqiProvisional"] != s.provisional {
			t.Errorf("%s: provisional %v, want %v", s.at, p["aqiProvisional"], s.provisional)
		}
		if s.nowcast != nil && math.Abs(p["pm25NowCast"].(float64)-s.nowcast.(float64)) > 1e-9 {
			t.Errorf("%s: NowCast %v, want %v", s.at, p["pm25NowCast"], s.nowcast)
		}
	}
}

func TestWaterExceedances(t *testing.T) {
	m := New(Config{})
	at := "2025-10-27T08:00:00+07:00"
	cases := []struct {
		id, props string
		want      []string
	}{
		{"r1", `{"kind":"river","pH":7.2,"O2":6.1,"bod":4,"cod":12,"tss":30,"NH4":0.2,"coliform":2300}`, nil},
		{"r1", `{"pH":8.6,"O2":4.9,"bod":6,"cod":15.5,"NH4":0.31}`, []string{"pH", "O2", "cod", "NH4"}}, // kind remembered; bod 6 is at the limit
		{"r2", `{"kind":"river","ph":5.9,"do":5,"bod5":7}`, []string{"pH", "bod"}},                      // aliases
		{"s1", `{"kind":"sea","tss":60,"coliform":900}`, []string{"tss"}},
		{"w1", `{"kind":"waste_water","cod":140,"bod":55,"temperature":41}`, []string{"bod", "temperature"}},
	}
	for _, c := range cases {
		p, err := process(t, m, ev(LayerWater, c.id, at, c.props))
		if err != nil {
			t.Fatalf("%s: %v", c.props, err)
		}
		var got []string
		for _, e := range p["exceedances"].([]any) {
			got = append(got, e.(map[string]any)["parameter"].(string))
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") || p["exceeded"] != (len(c.want) > 0) {
			t.Errorf("%s: exceedances %v exceeded %v, want %v", c.props, got, p["exceeded"], c.want)
		}
	}
}

func TestWaterStationThresholds(t *testing.T) {
	m := New(Config{StationWater: map[string]Thresholds{"lake": {Standard: "custom", Limits: map[string]Limit{"bod": AtMost(4)}}}})
	p, err := process(t, m, ev(LayerWater, "lake", "2025-10-27T08:00:00+07:00", `{"kind":"river","bod":5,"cod":100}`))
	if err != nil {
		t.Fatal(err)
	}
	if p["standard"] != "custom" || len(p["exceedances"].([]any)) != 1 {
		t.Errorf("station thresholds: %v %v", p["standard"], p["exceedances"])
	}
}

func TestErrorsSayWhatAndWhere(t *testing.T) {
	at := "2025-10-27T08:00:00+07:00"
	cases := []struct{ line, path, msg string }{
		{ev(LayerAir, "a", at, `{"pm25":-3}`), "properties.pm25", "pm25 must be >= 0 µg/m³, got -3"},
		{ev(LayerAir, "a", at, `{"pm10":"12"}`), "properties.pm10", `pm10 must be a number, found a string "12"`},
		{ev(LayerAir, "a", at, `{"temperature":30}`), "properties", "needs at least one of pm25, pm10, o3, no2, so2, co"},
		{ev(LayerWater, "w", at, `{"kind":"lake","pH":7}`), "properties.kind", `unknown kind "lake": valid values are river, sea, waste_water`},
		{ev(LayerWater, "w", at, `{"kind":3,"pH":7}`), "properties.kind", "kind must be a string"},
		{ev(LayerWater, "w", at, `{"pH":-0.1}`), "properties.pH", "between 0 and 14"},
		{ev(LayerWater, "w", at, `{"NH4":-2}`), "properties.NH4", "between 0 and"},
		{ev(LayerWater, "w", at, `{"kind":"river","pH":15}`), "properties.pH", "between 0 and 14"},
		{ev(LayerWater, "w", at, `{"kind":"river","note":"x"}`), "properties", "needs at least one of pH, O2"},
		{`{"layer":"environment.noise","id":"n","geometry":` + point + `}`, "layer", "not one of the environment module's layers"},
		{`{"layer":"environment.air","id":"a","geometry":{"type":"LineString","coordinates":[[108.2,16.0],[108.3,16.1]]}}`,
			"geometry.type", "environment.air takes Point geometries, found LineString"},
	}
	m := New(Config{})
	for _, c := range cases {
		moduletest.ExpectError(t, m, c.line, c.path, c.msg)
	}
}

func TestDeleteForgetsStation(t *testing.T) {
	m := New(Config{})
	at := "2025-10-27T08:00:00+07:00"
	if _, err := process(t, m, ev(LayerWater, "w", at, `{"kind":"river","pH":7}`)); err != nil {
		t.Fatal(err)
	}
	out, err := m.Process(moduletest.Event(t, `{"layer":"environment.water","id":"w","op":"delete"}`))
	if err != nil || len(out) != 1 || out[0].Op != layers.OpDelete {
		t.Fatalf("delete: %v %v", out, err)
	}
	if p, err := process(t, m, ev(LayerWater, "w", at, `{"pH":7}`)); err != nil || p["kind"] != KindUnknown {
		t.Errorf("the kind survived the delete: %v %v", p, err)
	}
}

// A station whose kind nobody gives (SDM WaterQualityObserved has no kind)
// is taken: parameters are validated, but no limits are checked. Sloppy
// spellings of a kind are normalised.
func TestWaterKindUnknownAndSloppy(t *testing.T) {
	m := New(Config{StationWater: map[string]Thresholds{"cfg": {Standard: "custom", Limits: map[string]Limit{"pH": Between(6, 8)}}}})
	at := "2025-10-27T08:00:00+07:00"
	p, err := process(t, m, ev(LayerWater, "x", at, `{"pH":9.5,"standard":"mine","exceeded":false,"exceedances":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	if p["kind"] != "unknown" || p["standard"] != nil || p["exceedances"] != nil || p["exceeded"] != nil {
		t.Errorf("unknown kind: %v", p)
	}
	// "unknown" sent explicitly is the same; the station's own limits still apply.
	if p, err = process(t, m, ev(LayerWater, "cfg", at, `{"kind":"unknown","pH":9.5}`)); err != nil || p["kind"] != "unknown" || p["exceeded"] != true {
		t.Errorf("station thresholds without kind: %v %v", p, err)
	}
	for sent, want := range map[string]string{"River": "river", "Waste Water": "waste_water", "waste-water": "waste_water",
		"wastewater": "waste_water", "SEA": "sea", "seawater": "sea"} {
		p, err := process(t, m, ev(LayerWater, "k-"+sent, at, fmt.Sprintf(`{"kind":%q,"pH":7}`, sent)))
		if err != nil || p["kind"] != want || p["standard"] == nil {
			t.Errorf("kind %q: %v %v, want %s", sent, p, err, want)
		}
	}
	// A kind learnt later replaces unknown, and is remembered.
	if p, err = process(t, m, ev(LayerWater, "x", at, `{"kind":"river","pH":9.5}`)); err != nil || p["exceeded"] != true {
		t.Errorf("%v %v", p, err)
	}
	if p, err = process(t, m, ev(LayerWater, "x", at, `{"pH":7}`)); err != nil || p["kind"] != "river" {
		t.Errorf("%v %v", p, err)
	}
}

func TestSpecs(t *testing.T) {
	specs := Specs()
	if len(specs) != 2 || specs[0].Name != LayerAir || specs[1].Name != LayerWater {
		t.Fatalf("%+v", specs)
	}
	for _, s := range specs {
		if s.Interval != time.Hour || s.StaleAfter != 3*time.Hour {
			t.Errorf("%+v", s)
		}
	}
}

func TestConcurrentProcess(t *testing.T) {
	m := New(Config{})
	moduletest.Concurrent(t, m, 300, func(g, i int) []string {
		at := time.Date(2025, 10, 27, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 10 * time.Minute).Format(time.RFC3339)
		return []string{
			ev(LayerAir, fmt.Sprintf("a%d", i%3), at, fmt.Sprintf(`{"pm25":%d,"pm10":40}`, g+i%50)),
			ev(LayerWater, fmt.Sprintf("w%d", i%3), at, `{"kind":"river","pH":7.1}`),
		}
	})
}

func BenchmarkProcess(b *testing.B) {
	m := New(Config{})
	const n = 1000
	events := make([]layers.Event, n)
	for i := range events {
		at := time.Date(2025, 10, 27, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 5 * time.Minute).Format(time.RFC3339)
		events[i] = moduletest.Event(b, ev(LayerAir, fmt.Sprintf("aq-%02d", i%42), at,
			`{"pm25":23.4,"pm10":41.2,"o3":61,"no2":18.9,"so2":7.5,"co":640,"temperature":29.1,"relativeHumidity":0.81}`))
	}
	moduletest.Bench(b, m, events)
}
