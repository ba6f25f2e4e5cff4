package lighting

import (
	"fmt"
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
	moduletest.Golden(t, New, Config{})
}

func ev(layer, id, at, props string) string {
	return fmt.Sprintf(`{"layer":%q,"id":%q,"time":%q,"geometry":{"type":"Point","coordinates":[108.2208,16.0678]},"properties":%s}`,
		layer, id, at, props)
}

func TestLampStates(t *testing.T) {
	cases := []struct {
		props string
		state string
		level any // float64 or nil when unknown
		dark  bool
	}{
		{`{"state":"on"}`, "on", 100.0, false},
		{`{"state":"off"}`, "off", 0.0, true},
		{`{"state":"dimmed","level":40}`, "dimmed", 40.0, false},
		{`{"state":"dimmed"}`, "dimmed", nil, false},
		{`{"state":"fault"}`, "fault", 0.0, true},
		{`{"state":"no_power"}`, "no_power", 0.0, true},
		{`{"state":"on","level":0}`, "off", 0.0, true},         // on at 0 % gives no light
		{`{"state":"dimmed","level":100}`, "on", 100.0, false}, // dimmed to 100 % is on
		{`{"powerState":"on"}`, "on", 100.0, false},
		{`{"powerState":"bootingUp"}`, "on", 100.0, false},
		{`{"powerState":"on","illuminanceLevel":0.5}`, "dimmed", 50.0, false},
		{`{"powerState":"low","illuminanceLevel":0.3}`, "dimmed", 30.0, false},
		{`{"powerState":"low"}`, "dimmed", nil, false},
		{`{"powerState":"off","status":"ok"}`, "off", 0.0, true},
		{`{"powerState":"on","status":"defectiveLamp"}`, "fault", 0.0, true},
		{`{"status":"brokenLantern"}`, "fault", 0.0, true},
		{`{"state":"on","status":"columnIssue"}`, "on", 100.0, false}, // the native state wins
	}
	m := New(Config{})
	for _, c := range cases {
		_, p, err := moduletest.ProcessOne(t, m, ev(LayerLamps, "l", "2025-10-27T19:00:00+07:00", c.props))
		if err != nil {
			t.Fatalf("%s: %v", c.props, err)
		}
		if p["state"] != c.state || p["level"] != c.level || p["dark"] != c.dark || p["stateSource"] != "lamp" {
			t.Errorf("%s: state %v level %v dark %v source %v, want %s %v %v", c.props,
				p["state"], p["level"], p["dark"], p["stateSource"], c.state, c.level, c.dark)
		}
	}
}

func TestErrorsSayWhatAndWhere(t *testing.T) {
	at := "2025-10-27T19:00:00+07:00"
	cases := []struct{ line, path, msg string }{
		{ev(LayerLamps, "l", at, `{"state":"broken"}`), "properties.state",
			`unknown state "broken": valid values are on, off, dimmed, fault, no_power`},
		{ev(LayerLamps, "l", at, `{"powerState":"dim"}`), "properties.powerState", "valid values are on, off, low, bootingUp"},
		{ev(LayerLamps, "l", at, `{"powerConsumption":65}`), "properties.state", "a lamp report needs state"},
		{ev(LayerLamps, "l", at, `{"state":"dimmed","level":140}`), "properties.level", "between 0 and 100"},
		{ev(LayerLamps, "l", at, `{"state":"on","illuminanceLevel":50}`), "properties.illuminanceLevel", "between 0 and 1"},
		{ev(LayerLamps, "l", at, `{"state":"on","powerConsumption":-5}`), "properties.powerConsumption", "must be >= 0 W"},
		{ev(LayerLamps, "l", at, `{"state":"on","cabinet":17}`), "properties.refStreetlightControlCabinet", "must be a string"},
		{ev(LayerCabinets, "c", at, `{"state":"broken"}`), "properties.state",
			`unknown state "broken": valid values are on, off, dimmed, fault, no_power, unknown`},
		{ev(LayerCabinets, "c", at, `{"intensityS":-2}`), "properties.intensityS", "must be >= 0 A"},
		{ev(LayerCabinets, "c", at, `{"voltageT":-230}`), "properties.voltageT", "must be >= 0 V"},
		{ev(LayerCabinets, "c", at, `{"activePowerR":-0.1}`), "properties.activePowerR", "must be >= 0 kW"},
		{ev(LayerCabinets, "c", at, `{"state":"on","energyConsumed":-1}`), "properties.energyConsumed", "must be >= 0 kWh"},
		{ev("lighting.poles", "p", at, `{}`), "layer", "not one of the lighting module's layers"},
	}
	m := New(Config{})
	for _, c := range cases {
		moduletest.ExpectError(t, m, c.line, c.path, c.msg)
	}
}

// summary lists the output as "id:state:source" (or "id:state" for a
// cabinet), in order.
func summary(t *testing.T, out []layers.Event) string {
	var s []string
	for _, e := range out {
		p := moduletest.Props(t, e)
		if e.Layer == LayerCabinets {
			s = append(s, fmt.Sprintf("%s:%v", e.ID, p["state"]))
		} else {
			s = append(s, fmt.Sprintf("%s:%v:%v", e.ID, p["state"], p["stateSource"]))
		}
	}
	return strings.Join(s, " ")
}

func TestCabinetPowerLossDarkensAndRestoresLamps(t *testing.T) {
	m := New(Config{})
	steps := []struct {
		name, line, want string
	}{
		{"lamp a", ev(LayerLamps, "a", "2025-10-27T18:00:00+07:00", `{"state":"on","cabinet":"cab-1","powerConsumption":60}`), "a:on:lamp"},
		{"lamp b", ev(LayerLamps, "b", "2025-10-27T18:00:00+07:00", `{"state":"dimmed","level":50,"cabinet":"cab-1"}`), "b:dimmed:lamp"},
		{"lamp c", ev(LayerLamps, "c", "2025-10-27T18:00:00+07:00", `{"state":"fault","refStreetlightControlCabinet":"cab-1"}`), "c:fault:lamp"},
		{"lamp d elsewhere", ev(LayerLamps, "d", "2025-10-27T18:00:00+07:00", `{"state":"on","cabinet":"cab-2"}`), "d:on:lamp"},
		{"cabinet on", ev(LayerCabinets, "cab-1", "2025-10-27T18:00:00+07:00", `{"state":"on"}`), "cab-1:on"},
		{"power lost", ev(LayerCabinets, "cab-1", "2025-10-27T20:15:00+07:00", `{"state":"no_power"}`),
			"cab-1:no_power a:no_power:cabinet b:no_power:cabinet c:no_power:cabinet"},
		{"still lost: no repeat", ev(LayerCabinets, "cab-1", "2025-10-27T20:20:00+07:00", `{"state":"no_power"}`), "cab-1:no_power"},
		{"lamp reports during the outage", ev(LayerLamps, "a", "2025-10-27T20:25:00+07:00", `{"state":"on","cabinet":"cab-1"}`),
			"a:no_power:cabinet"},
		{"late cabinet report changes nothing", ev(LayerCabinets, "cab-1", "2025-10-27T20:10:00+07:00", `{"state":"on"}`), "cab-1:on"},
		{"new lamp joins a dark cabinet", ev(LayerLamps, "e", "2025-10-27T20:26:00+07:00", `{"powerState":"on","cabinet":"cab-1"}`),
			"e:no_power:cabinet"},
		{"power back", ev(LayerCabinets, "cab-1", "2025-10-27T21:40:00+07:00", `{"state":"on"}`),
			"cab-1:on a:on:lamp b:dimmed:lamp c:fault:lamp e:on:lamp"},
		{"lamp moves to cab-2", ev(LayerLamps, "e", "2025-10-27T21:41:00+07:00", `{"state":"on","cabinet":"cab-2"}`), "e:on:lamp"},
		{"cab-2 loses power", ev(LayerCabinets, "cab-2", "2025-10-27T22:00:00+07:00", `{"state":"no_power"}`),
			"cab-2:no_power d:no_power:cabinet e:no_power:cabinet"},
		{"cab-2 removed: its lamps are restored", `{"layer":"lighting.cabinets","id":"cab-2","op":"delete","time":"2025-10-27T22:05:00+07:00"}`,
			"cab-2:<nil> d:on:lamp e:on:lamp"},
	}
	for _, s := range steps {
		if got := summary(t, moduletest.MustProcess(t, m, s.line)); got != s.want {
			t.Errorf("%s:\n got %s\nwant %s", s.name, got, s.want)
		}
	}
}

// A cabinet's state comes from its report (state, powerState), else from
// its SDM measurements, else it holds from the cabinet's previous report,
// else it is unknown; a report is never refused for lacking one.
func TestCabinetStates(t *testing.T) {
	m := New(Config{})
	steps := []struct {
		props, state, source string
		level, dark          any // nil: absent
	}{
		{`{"workingMode":"automatic","energyConsumed":162456}`, "unknown", "none", nil, nil},
		{`{"intensityR":20.1,"intensityS":14.4,"intensityT":22}`, "on", "measurements", nil, false},
		{`{"energyConsumed":162460}`, "on", "previous", nil, false},
		{`{"totalActivePower":0,"intensityR":0,"voltageR":229}`, "off", "measurements", 0.0, true},
		{`{"voltageR":0,"voltageS":0,"voltageT":0,"intensityR":0}`, "no_power", "measurements", 0.0, true},
		{`{"lastMeterReading":161237}`, "no_power", "previous", 0.0, true},
		// the supply is back, but whether the circuits are on is not said
		{`{"voltageR":229,"voltageS":231}`, "unknown", "none", nil, nil},
		{`{"powerState":"Low","illuminanceLevel":0.4}`, "dimmed", "report", 40.0, false},
		{`{"meterReadingPeriod":60}`, "dimmed", "previous", 40.0, false},
		{`{"voltageR":230,"dark":true,"stateSource":"mine"}`, "dimmed", "previous", 40.0, false},
		{`{"state":"ON"}`, "on", "report", 100.0, false},
		{`{"state":"unknown","level":30}`, "unknown", "report", 30.0, nil},
		{`{"activePowerS":0.8}`, "on", "measurements", nil, false},
		{`{"activePowerS":0.8,"level":60}`, "dimmed", "measurements", 60.0, false},
	}
	for i, s := range steps {
		at := time.Date(2025, 10, 27, 12, i, 0, 0, time.UTC).Format(time.RFC3339)
		_, p, err := moduletest.ProcessOne(t, m, ev(LayerCabinets, "c1", at, s.props))
		if err != nil {
			t.Fatalf("%s: %v", s.props, err)
		}
		if p["state"] != s.state || p["stateSource"] != s.source || p["level"] != s.level || p["dark"] != s.dark {
			t.Errorf("%s: state %v source %v level %v dark %v, want %s %s %v %v", s.props,
				p["state"], p["stateSource"], p["level"], p["dark"], s.state, s.source, s.level, s.dark)
		}
	}
}

// A supply cut seen only in the measurements darkens the cabinet's lamps
// like a reported no_power; the supply coming back restores them.
func TestCabinetMeasuredPowerLoss(t *testing.T) {
	m := New(Config{})
	moduletest.MustProcess(t, m, ev(LayerLamps, "a", "2025-10-27T18:00:00+07:00", `{"powerState":"on","refStreetlightControlCabinet":"k"}`))
	for _, s := range []struct{ props, want string }{
		{`{"intensityR":12,"voltageR":230}`, "k:on"},
		{`{"voltageR":0,"voltageS":0,"voltageT":0}`, "k:no_power a:no_power:cabinet"},
		{`{"voltageR":228,"voltageS":229,"voltageT":230}`, "k:unknown a:on:lamp"},
	} {
		if got := summary(t, moduletest.MustProcess(t, m, ev(LayerCabinets, "k", "2025-10-27T19:00:00+07:00", s.props))); got != s.want {
			t.Errorf("%s: got %s, want %s", s.props, got, s.want)
		}
	}
}

// A lamp darkened by its cabinet is shown with no power draw, and its
// event is never older than the lamp's own newest report.
func TestDarkenedLampEvent(t *testing.T) {
	m := New(Config{})
	moduletest.MustProcess(t, m, ev(LayerLamps, "a", "2025-10-27T20:30:00+07:00", `{"state":"on","cabinet":"k","powerConsumption":60,"name":"Trần Phú 12"}`))
	out := moduletest.MustProcess(t, m, ev(LayerCabinets, "k", "2025-10-27T20:15:00+07:00", `{"state":"no_power"}`))
	if len(out) != 2 {
		t.Fatalf("%d events", len(out))
	}
	lampEv := out[1]
	p := moduletest.Props(t, lampEv)
	if p["powerConsumption"] != 0.0 || p["level"] != 0.0 || p["dark"] != true || p["name"] != "Trần Phú 12" {
		t.Errorf("darkened lamp: %v", p)
	}
	if want := time.Date(2025, 10, 27, 13, 30, 0, 0, time.UTC); !lampEv.Time.Equal(want) || lampEv.Geometry == nil {
		t.Errorf("time %v (want %v), geometry %v", lampEv.Time, want, lampEv.Geometry)
	}
	// The cabinet knows how many lamps it feeds.
	if cp := moduletest.Props(t, out[0]); cp["lampCount"] != 1.0 || cp["dark"] != true {
		t.Errorf("cabinet: %v", cp)
	}
}

func TestLampDeleteLeavesCabinet(t *testing.T) {
	m := New(Config{})
	moduletest.MustProcess(t, m, ev(LayerLamps, "a", "2025-10-27T18:00:00+07:00", `{"state":"on","cabinet":"k"}`))
	moduletest.MustProcess(t, m, `{"layer":"lighting.lamps","id":"a","op":"delete","time":"2025-10-27T18:01:00+07:00"}`)
	out := moduletest.MustProcess(t, m, ev(LayerCabinets, "k", "2025-10-27T19:00:00+07:00", `{"state":"no_power"}`))
	if len(out) != 1 {
		t.Errorf("a deleted lamp was darkened: %s", summary(t, out))
	}
}

func TestSpecs(t *testing.T) {
	specs := Specs()
	if len(specs) != 2 || specs[0].Name != LayerLamps || specs[1].Name != LayerCabinets {
		t.Fatalf("%+v", specs)
	}
	for _, s := range specs {
		if s.StaleAfter != 3*s.Interval || s.Interval == 0 {
			t.Errorf("%+v", s)
		}
	}
}

func TestConcurrentProcess(t *testing.T) {
	m := New(Config{})
	moduletest.Concurrent(t, m, 300, func(g, i int) []string {
		at := time.Date(2025, 10, 27, 12, 0, i, 0, time.UTC).Format(time.RFC3339)
		cab := fmt.Sprintf("cab-%d", i%3)
		state := []string{"on", "no_power"}[(i/7+g)%2]
		return []string{
			ev(LayerLamps, fmt.Sprintf("lamp-%d", i%20), at, fmt.Sprintf(`{"state":"on","cabinet":%q}`, cab)),
			ev(LayerCabinets, cab, at, fmt.Sprintf(`{"state":%q}`, state)),
		}
	})
}

func BenchmarkProcess(b *testing.B) {
	m := New(Config{})
	const n = 1000
	events := make([]layers.Event, n)
	for i := range events {
		at := time.Date(2025, 10, 27, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second).Format(time.RFC3339)
		events[i] = moduletest.Event(b, ev(LayerLamps, fmt.Sprintf("lamp-%04d", i%500), at,
			fmt.Sprintf(`{"powerState":"on","illuminanceLevel":0.7,"powerConsumption":42.5,"refStreetlightControlCabinet":"cab-%02d"}`, i%25)))
	}
	moduletest.Bench(b, m, events)
}
