package traffic

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
	moduletest.Golden(t, New, Config{FreeFlowSpeeds: map[string]float64{"seg-bach-dang-1": 50}})
}

const (
	line  = `{"type":"LineString","coordinates":[[108.2240,16.0700],[108.2245,16.0750]]}`
	point = `{"type":"Point","coordinates":[108.2208,16.0678]}`
)

func ev(layer, id, at, geometry, props string) string {
	return fmt.Sprintf(`{"layer":%q,"id":%q,"time":%q,"geometry":%s,"properties":%s}`, layer, id, at, geometry, props)
}

// process runs one event and returns the properties of the single output.
func process(t *testing.T, m *Module, line string) (map[string]any, error) {
	t.Helper()
	_, p, err := moduletest.ProcessOne(t, m, line)
	return p, err
}

func TestCongestionLevels(t *testing.T) {
	cases := []struct {
		name, props string
		level       float64 // JSON numbers decode as float64
		congestion  string
	}{
		{"free at free-flow speed", `{"averageVehicleSpeed":50}`, 0, "free"},
		{"ratio exactly 0.67 is still free", `{"averageVehicleSpeed":33.5}`, 0, "free"},
		{"ratio 0.6667 shows and counts as 0.67", `{"averageVehicleSpeed":33.34}`, 0, "free"},
		{"ratio 0.66 is light", `{"averageVehicleSpeed":33}`, 1, "light"},
		{"ratio 0.50 is light", `{"averageVehicleSpeed":25}`, 1, "light"},
		{"ratio 0.45 is moderate", `{"averageVehicleSpeed":22.5}`, 2, "moderate"},
		{"ratio 0.40 is moderate", `{"averageVehicleSpeed":20}`, 2, "moderate"},
		{"ratio 0.30 is heavy", `{"averageVehicleSpeed":15}`, 3, "heavy"},
		{"ratio 0.20 is jammed", `{"averageVehicleSpeed":10}`, 4, "jammed"},
		{"standstill is jammed", `{"averageVehicleSpeed":0,"intensity":3}`, 4, "jammed"},
		{"faster than free flow", `{"averageVehicleSpeed":70}`, 0, "free"},
		{"occupancy alone, low", `{"occupancy":0.1}`, 0, "free"},
		{"occupancy 0.15 is light", `{"occupancy":0.15}`, 1, "light"},
		{"occupancy 0.45 is heavy", `{"occupancy":0.45}`, 3, "heavy"},
		{"occupancy 0.6 is jammed", `{"occupancy":0.6}`, 4, "jammed"},
		{"worse of speed and occupancy", `{"averageVehicleSpeed":45,"occupancy":0.5}`, 3, "heavy"},
		{"no vehicles: empty road is free", `{"intensity":0,"averageVehicleSpeed":0}`, 0, "free"},
		{"no vehicles but a queue on the detector", `{"intensity":0,"occupancy":0.7}`, 4, "jammed"},
	}
	m := New(Config{DefaultFreeFlowSpeed: 50})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := process(t, m, ev(LayerSegments, "s1", "2025-10-27T08:00:00+07:00", line, c.props))
			if err != nil {
				t.Fatal(err)
			}
			if p["congestionLevel"] != c.level || p["congestion"] != c.congestion {
				t.Errorf("got level %v %v, want %v %v", p["congestionLevel"], p["congestion"], c.level, c.congestion)
			}
		})
	}
}

func TestFreeFlowSpeedResolution(t *testing.T) {
	m := New(Config{FreeFlowSpeeds: map[string]float64{"cfg": 60}})
	at := "2025-10-27T08:00:00+07:00"
	check := func(id, props string, want float64) {
		t.Helper()
		p, err := process(t, m, ev(LayerSegments, id, at, line, props))
		if err != nil {
			t.Fatal(err)
		}
		if p["freeFlowSpeed"] != want {
			t.Errorf("%s %s: freeFlowSpeed %v, want %v", id, props, p["freeFlowSpeed"], want)
		}
	}
	check("cfg", `{"averageVehicleSpeed":30}`, 60)                      // configuration
	check("other", `{"averageVehicleSpeed":30}`, 40)                    // default
	check("other", `{"averageVehicleSpeed":30,"freeFlowSpeed":55}`, 55) // reported
	check("other", `{"averageVehicleSpeed":30}`, 55)                    // remembered
	if _, err := m.Process(moduletest.Event(t, `{"layer":"traffic.segments","id":"other","op":"delete"}`)); err != nil {
		t.Fatal(err)
	}
	check("other", `{"averageVehicleSpeed":30}`, 40) // forgotten with the entity
}

func TestParkingOccupancy(t *testing.T) {
	cases := []struct {
		props    string
		occ      float64
		avail    float64
		full     bool
		errMatch string
	}{
		{`{"totalSpotNumber":200,"availableSpotNumber":50}`, 0.75, 50, false, ""},
		{`{"totalSpotNumber":200,"availableSpotNumber":0}`, 1, 0, true, ""},
		{`{"totalSpotNumber":200,"availableSpotNumber":200}`, 0, 200, false, ""},
		{`{"totalSpotNumber":3,"occupiedSpotNumber":1}`, 0.333, 2, false, ""},
		{`{"availableSpotNumber":10}`, 0.95, 10, false, ""}, // total remembered from the first case's id
		{`{"totalSpotNumber":10,"availableSpotNumber":11}`, 0, 0, false, "availableSpotNumber 11 exceeds totalSpotNumber 10"},
		{`{"totalSpotNumber":0,"availableSpotNumber":0}`, 0, 0, false, "at least 1"},
		{`{"totalSpotNumber":10,"availableSpotNumber":2.5}`, 0, 0, false, "whole number"},
		{`{"totalSpotNumber":10,"availableSpotNumber":-1}`, 0, 0, false, "whole number"},
		{`{"totalSpotNumber":10}`, 0, 0, false, "availableSpotNumber (or occupiedSpotNumber) is required"},
	}
	m := New(Config{})
	at := "2025-10-27T08:00:00+07:00"
	for i, c := range cases {
		id := "p1"
		if i == 3 {
			id = "p3"
		}
		p, err := process(t, m, ev(LayerParking, id, at, point, c.props))
		if c.errMatch != "" {
			if err == nil || !strings.Contains(err.Error(), c.errMatch) {
				t.Errorf("%s: error %v, want %q", c.props, err, c.errMatch)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.props, err)
		}
		if p["occupancy"] != c.occ || p["availableSpotNumber"] != c.avail || p["full"] != c.full {
			t.Errorf("%s: occupancy %v available %v full %v, want %v %v %v", c.props,
				p["occupancy"], p["availableSpotNumber"], p["full"], c.occ, c.avail, c.full)
		}
	}
	// A new car park must say how big it is.
	_, err := process(t, m, ev(LayerParking, "new", at, point, `{"availableSpotNumber":5}`))
	if err == nil || !strings.Contains(err.Error(), "totalSpotNumber is required") {
		t.Errorf("new car park without total: %v", err)
	}
}

func TestSignalStatusSince(t *testing.T) {
	m := New(Config{})
	steps := []struct{ at, status, since string }{
		{"2025-10-27T20:00:00Z", "normal", "2025-10-27T20:00:00Z"},
		{"2025-10-27T20:00:10Z", "normal", "2025-10-27T20:00:00Z"},
		{"2025-10-27T20:00:20Z", "flashing", "2025-10-27T20:00:20Z"},
		{"2025-10-27T20:00:30Z", "flashing", "2025-10-27T20:00:20Z"},
		{"2025-10-27T20:00:25Z", "flashing", "2025-10-27T20:00:20Z"}, // late, same status
		{"2025-10-27T20:00:40Z", "offline", "2025-10-27T20:00:40Z"},
	}
	for _, s := range steps {
		p, err := process(t, m, ev(LayerSignals, "sig-1", s.at, point, `{"status":"`+s.status+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		if p["statusSince"] != s.since || p["degraded"] != (s.status != "normal") {
			t.Errorf("%s %s: since %v degraded %v, want %s", s.at, s.status, p["statusSince"], p["degraded"], s.since)
		}
	}
}

func TestErrorsSayWhatAndWhere(t *testing.T) {
	at := "2025-10-27T08:00:00+07:00"
	cases := []struct{ line, path, msg string }{
		{ev(LayerSignals, "s", at, point, `{"status":"blinking"}`), "properties.status",
			`unknown status "blinking": valid values are normal, flashing, fault, offline`},
		{ev(LayerSignals, "s", at, point, `{}`), "properties.status", "status is required"},
		{ev(LayerSegments, "s", at, line, `{"averageVehicleSpeed":"fast"}`), "properties.averageVehicleSpeed",
			`averageVehicleSpeed must be a number, found a string "fast"`},
		{ev(LayerSegments, "s", at, line, `{"occupancy":1.5}`), "properties.occupancy", "between 0 and 1"},
		{ev(LayerSegments, "s", at, line, `{"intensity":12}`), "properties", "needs averageVehicleSpeed"},
		{ev(LayerSegments, "s", at, point, `{"averageVehicleSpeed":20}`), "geometry.type",
			"traffic.segments takes LineString or MultiLineString geometries, found Point"},
		{ev(LayerCameras, "c", at, point, `{"occupancy":0.2}`), "properties", "needs intensity"},
		{ev(LayerViolations, "v", at, point, `{"violationType":"jaywalking"}`), "properties.violationType", "valid values are red_light"},
		{ev(LayerViolations, "v", at, point, `{"violationType":4}`), "properties.violationType", "must be a string"},
		{ev("traffic.trams", "t", at, point, `{}`), "layer", "not one of the traffic module's layers"},
	}
	m := New(Config{})
	for _, c := range cases {
		moduletest.ExpectError(t, m, c.line, c.path, c.msg)
	}
}

func TestViolationExpires(t *testing.T) {
	m := New(Config{ViolationTTL: 10 * time.Minute})
	p, err := process(t, m, ev(LayerViolations, "v1", "2025-10-27T08:00:00+07:00", point,
		`{"violationType":"red_light","vehiclePlateIdentifier":"43A-123.45"}`))
	if err != nil {
		t.Fatal(err)
	}
	if p["expires"] != "2025-10-27T01:10:00Z" {
		t.Errorf("expires %v", p["expires"])
	}
	for _, s := range m.Layers() {
		if s.Name == LayerViolations && (s.StaleAfter != 0 || s.Interval != 0) {
			t.Errorf("violations spec %+v: want no interval and no staleness", s)
		}
	}
}

func TestDeletePassesThrough(t *testing.T) {
	m := New(Config{})
	in := moduletest.Event(t, `{"layer":"traffic.signals","id":"sig-9","op":"delete"}`)
	out, err := m.Process(in)
	if err != nil || len(out) != 1 || out[0].Op != layers.OpDelete || out[0].ID != "sig-9" {
		t.Fatalf("delete: %v %+v", err, out)
	}
}

func TestSpecs(t *testing.T) {
	want := []string{LayerSegments, LayerSignals, LayerCameras, LayerViolations, LayerParking}
	specs := Specs()
	if len(specs) != len(want) {
		t.Fatalf("%d specs", len(specs))
	}
	for i, s := range specs {
		if s.Name != want[i] || s.Description == "" {
			t.Errorf("spec %d: %+v", i, s)
		}
		if s.Name != LayerViolations && s.StaleAfter != 3*s.Interval {
			t.Errorf("%s: StaleAfter %v for interval %v", s.Name, s.StaleAfter, s.Interval)
		}
	}
	over := New(Config{Intervals: map[string]time.Duration{LayerSignals: 30 * time.Second}}).Layers()
	if over[1].Interval != 30*time.Second || over[1].StaleAfter != 90*time.Second {
		t.Errorf("override: %+v", over[1])
	}
}

func TestConcurrentProcess(t *testing.T) {
	m := New(Config{})
	moduletest.Concurrent(t, m, 200, func(g, i int) []string {
		at := time.Date(2025, 10, 27, 8, 0, i, 0, time.UTC).Format(time.RFC3339)
		id := fmt.Sprintf("e%d", i%5)
		return []string{
			ev(LayerSegments, id, at, line, `{"averageVehicleSpeed":20,"freeFlowSpeed":50}`),
			ev(LayerSignals, id, at, point, `{"status":"normal"}`),
			ev(LayerParking, id, at, point, fmt.Sprintf(`{"totalSpotNumber":100,"availableSpotNumber":%d}`, g)),
		}
	})
}

func BenchmarkProcess(b *testing.B) {
	m := New(Config{})
	const n = 1000
	events := make([]layers.Event, n)
	for i := range events {
		at := time.Date(2025, 10, 27, 8, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second).Format(time.RFC3339)
		events[i] = moduletest.Event(b, ev(LayerSegments, fmt.Sprintf("seg-%03d", i%200), at, line,
			`{"intensity":42,"averageVehicleSpeed":23.5,"occupancy":0.21,"laneId":1}`))
	}
	moduletest.Bench(b, m, events)
}

func TestParkingSpot(t *testing.T) {
	cases := []struct {
		id, props string
		want      map[string]any // properties that must have these values; nil: must be absent
		errMatch  string
	}{
		{"s1", `{"type":"ParkingSpot","status":"free"}`,
			map[string]any{"totalSpotNumber": 1.0, "availableSpotNumber": 1.0, "occupiedSpotNumber": 0.0, "occupancy": 0.0, "full": false, "status": "free"}, ""},
		{"s1", `{"type":"ParkingSpot","status":"Occupied"}`,
			map[string]any{"availableSpotNumber": 0.0, "occupiedSpotNumber": 1.0, "occupancy": 1.0, "full": true, "status": "occupied"}, ""},
		{"s1", `{"type":"ParkingSpot","status":"closed","occupancy":0.5,"full":false}`,
			map[string]any{"totalSpotNumber": 1.0, "availableSpotNumber": 0.0, "occupiedSpotNumber": nil, "occupancy": nil, "full": nil}, ""},
		{"s1", `{"type":"ParkingSpot","status":"unknown"}`,
			map[string]any{"totalSpotNumber": 1.0, "availableSpotNumber": nil, "occupancy": nil, "status": "unknown"}, ""},
		// without the NGSI type: a status string and no total make a spot
		{"s2", `{"status":"free"}`, map[string]any{"availableSpotNumber": 1.0, "full": false}, ""},
		{"s2", `{"status":"occupied"}`, map[string]any{"availableSpotNumber": 0.0, "full": true}, ""},
		// a ParkingSpot may send counts instead; its total is one
		{"s3", `{"type":"ParkingSpot","occupiedSpotNumber":1}`, map[string]any{"totalSpotNumber": 1.0, "availableSpotNumber": 0.0}, ""},
		{"s4", `{"type":"ParkingSpot"}`, nil, "a parking spot needs status (free, occupied, closed, unknown)"},
		{"s4", `{"type":"ParkingSpot","status":"taken"}`, nil, `unknown parking spot status "taken"`},
		{"s4", `{"type":"ParkingSpot","status":["free"]}`, nil, "status must be a string"},
		{"s4", `{"type":"ParkingSpot","status":"free","totalSpotNumber":3}`, nil, "is one spot, got totalSpotNumber 3"},
		// a car park whose size is known stays a car park: a status string is no count
		{"p1", `{"totalSpotNumber":120,"availableSpotNumber":3}`, map[string]any{"occupancy": 0.975}, ""},
		{"p1", `{"status":"closed"}`, nil, "availableSpotNumber (or occupiedSpotNumber) is required"},
	}
	m := New(Config{})
	at := "2025-10-27T08:00:00+07:00"
	for _, c := range cases {
		p, err := process(t, m, ev(LayerParking, c.id, at, point, c.props))
		if c.errMatch != "" {
			if err == nil || !strings.Contains(err.Error(), c.errMatch) {
				t.Errorf("%s %s: error %v, want %q", c.id, c.props, err, c.errMatch)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %s: %v", c.id, c.props, err)
			continue
		}
		for k, want := range c.want {
			if got, ok := p[k]; (want == nil && ok) || (want != nil && got != want) {
				t.Errorf("%s %s: %s = %v, want %v", c.id, c.props, k, got, want)
			}
		}
	}
}

// SDM TrafficViolation carries no violationType: such a violation is of
// type other; a type sent in another spelling is normalised.
func TestViolationTypeLenient(t *testing.T) {
	m := New(Config{})
	at := "2025-10-27T08:00:00+07:00"
	for props, want := range map[string]string{
		`{"titleCode":"11","paymentStatus":"Paid","amountCollected":10500}`: "other",
		`{"violationType":"Red Light"}`:                                     "red_light",
		`{"violationType":"NO-HELMET"}`:                                     "no_helmet",
	} {
		p, err := process(t, m, ev(LayerViolations, "v", at, point, props))
		if err != nil || p["violationType"] != want || p["expires"] == nil {
			t.Errorf("%s: %v %v, want %s", props, p, err, want)
		}
	}
}
