package zones

import (
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/geo/areas"
	"github.com/danang-ioc/ioc/layers"
)

func declare(t testing.TB, e *Engine, z *Zone) *Zone {
	t.Helper()
	if z.Kind == "" {
		z.Kind, z.Severity, z.By = KindEmergency, "major", "test"
	}
	out, err := e.Declare(z)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSummaryThrottle: many changes inside a zone within a second write
// its feature once; the next step after a second writes the rest.
func TestSummaryThrottle(t *testing.T) {
	c := &clock{t: t0}
	s := newStore(c)
	e := New(Config{NewID: seqIDs()}, s, nil, nil)
	z := declare(t, e, &Zone{Name: "A", Geometry: rect(108.2, 16.0, 108.3, 16.1)})
	writes := func() int {
		chs, _ := s.Log().Read(nil, 1, 1<<20)
		n := 0
		for _, ch := range chs {
			if ch.Layer() == LayerZones {
				n++
			}
		}
		return n
	}
	c.Set(t0.Add(2 * time.Second))
	for i := range 50 {
		s.Apply([]layers.Event{feature("lighting.lamps", "L", t0.Add(time.Duration(i)*time.Millisecond), point(108.25, 16.05),
			`{"dark":true,"state":"`+[]string{"off", "fault", "no_power"}[i%3]+`"}`)})
		e.Step()
	}
	if got := writes(); got != 2 { // the declaration and one summary
		t.Errorf("%d writes of the zone within one second, want 2", got)
	}
	c.Set(t0.Add(2500 * time.Millisecond))
	e.Step()
	if got := writes(); got != 2 {
		t.Errorf("%d writes half a second later, want still 2", got)
	}
	c.Set(t0.Add(3 * time.Second))
	e.Step()
	if got := writes(); got != 3 {
		t.Errorf("%d writes a second later, want 3", got)
	}
	if sum := summaryOf(t, s, z.ID); sum.LampsOut != 1 || sum.Layers["lighting.lamps"].Worst != "fault" {
		t.Errorf("summary %+v", sum)
	}
}

// TestEventsExpire: enter/leave features are deleted at their expiry, and
// beyond MaxEvents the oldest go first.
func TestEventsExpire(t *testing.T) {
	c := &clock{t: t0}
	s := newStore(c)
	e := New(Config{NewID: seqIDs(), EventTTL: time.Minute, MaxEvents: 3}, s, nil, nil)
	declare(t, e, &Zone{Name: "A", Geometry: rect(108.2, 16.0, 108.3, 16.1)})
	for i := range 5 { // in, out, in, out, in: five events
		lon := 108.25
		if i%2 == 1 {
			lon = 108.35
		}
		s.Apply([]layers.Event{feature("response.teams", "T", t0.Add(time.Duration(i)*time.Second), point(lon, 16.05), `{"name":"T"}`)})
		e.Step()
	}
	if n := s.Layer(LayerEvents).Len(); n != 3 {
		t.Errorf("%d live events, want 3 (MaxEvents)", n)
	}
	c.Set(t0.Add(2 * time.Minute))
	e.Step()
	if n := s.Layer(LayerEvents).Len(); n != 0 {
		t.Errorf("%d live events after their expiry, want 0", n)
	}
}

// TestIncidentsAndLayers: incidents count while not resolved; worst states
// per layer follow the scales.
func TestIncidentsAndLayers(t *testing.T) {
	c := &clock{t: t0}
	s := newStore(c)
	e := New(Config{NewID: seqIDs()}, s, nil, nil)
	z := declare(t, e, &Zone{Name: "A", Geometry: rect(108.2, 16.0, 108.3, 16.1)})
	c.Set(t0.Add(time.Minute))
	s.Apply([]layers.Event{
		feature("ioc.incidents", "inc-1", t0, point(108.25, 16.05), `{"category":"flooding","severity":"major","status":"open","title":"Flooding at Hòa Xuân"}`),
		feature("ioc.incidents", "inc-2", t0, point(108.26, 16.05), `{"category":"lighting","severity":"critical","status":"resolved","title":"Dark route"}`),
		feature("environment.air", "A1", t0, point(108.21, 16.01), `{"aqiBand":"poor"}`),
		feature("environment.air", "A2", t0, point(108.22, 16.01), `{"aqiBand":"very_bad"}`),
		feature("environment.air", "A3", t0, point(108.40, 16.01), `{"aqiBand":"hazardous"}`), // outside
		feature("traffic.segments", "S1", t0, geo2line(108.19, 16.05, 108.21, 16.05), `{"congestionLevel":4,"congestion":"jammed"}`),
	})
	e.Step()
	sum := summaryOf(t, s, z.ID)
	if sum.Incidents != 1 || sum.IncidentList[0].ID != "inc-1" || sum.IncidentList[0].Severity != "major" {
		t.Errorf("incidents %d %+v", sum.Incidents, sum.IncidentList)
	}
	if air := sum.Layers["environment.air"]; air.Count != 2 || air.Worst != "very_bad" {
		t.Errorf("air %+v", air)
	}
	if sum.RoadsBlocked != 1 {
		t.Errorf("a jammed segment crossing the zone's edge: roadsBlocked %d, want 1", sum.RoadsBlocked)
	}
	fs, total, err := e.Contents(z.ID, "environment.air", 0)
	if err != nil || total != 2 || fs[0].ID != "A1" || fs[1].ID != "A2" {
		t.Errorf("contents: %v %d %v", fs, total, err)
	}
}

func geo2line(x1, y1, x2, y2 float64) geomT { return lineString(x1, y1, x2, y2) }

// defaultAreas loads the embedded areas and the district outlines.
func defaultAreas(t testing.TB) (*areas.Set, *Boundaries) {
	t.Helper()
	set, err := areas.Default()
	if err != nil {
		t.Skip("no embedded area data:", err)
	}
	data, err := fs.ReadFile(areas.Files(), "districts.geojson")
	if err != nil {
		t.Fatal(err)
	}
	b := NewBoundaries()
	if err := b.Add("districts.geojson", data); err != nil {
		t.Fatal(err)
	}
	return set, b
}

// TestAreaZones: a zone declared over a district holds exactly what the
// tagger puts in that district; a ward known by its point is outlined by
// its districts and holds what the tagger puts in the ward.
func TestAreaZones(t *testing.T) {
	set, bounds := defaultAreas(t)
	tagger := areas.NewTagger(set)
	c := &clock{t: t0}
	s := newStore(c)
	e := New(Config{NewID: seqIDs(), Areas: set, Boundaries: bounds}, s, nil, nil)
	ref, g, err := resolveArea(set, bounds, AreaRequest{Ref: "hải châu"})
	if err != nil {
		t.Fatal(err)
	}
	if ref.Level != "district" || ref.Name != "Quận Hải Châu" || geo.NewArea(g) == nil {
		t.Fatalf("Hải Châu resolved to %+v", ref)
	}
	z := declare(t, e, &Zone{Name: "Hải Châu", Area: ref, Geometry: g, DistrictCode: ref.Code, District: ref.Name})
	var in, out int
	var evs []layers.Event
	for i := range 200 { // a grid over central Da Nang
		lon, lat := 108.17+float64(i%20)*0.004, 16.02+float64(i/20)*0.006
		ev := feature("environment.air", "A"+itoa(i), t0, point(lon, lat), `{"aqiBand":"good"}`)
		tagger.Tag(&ev)
		if set.Locate(lon, lat).DistrictCode == ref.Code {
			in++
		} else {
			out++
		}
		evs = append(evs, ev)
	}
	c.Set(t0.Add(time.Minute))
	s.Apply(evs)
	e.Step()
	if in == 0 || out == 0 {
		t.Fatalf("the grid should straddle the district: %d in, %d out", in, out)
	}
	if got := summaryOf(t, s, z.ID).Layers["environment.air"].Count; got != in {
		t.Errorf("%d sensors in the district zone, want %d", got, in)
	}
	// A road from the sea (east of the city) to the district's centre is
	// inside: lines and polygons are judged by the outline.
	c.Set(t0.Add(2 * time.Minute))
	s.Apply([]layers.Event{feature("traffic.segments", "road", t0, lineString(108.2208, 16.0678, 108.40, 16.0678), `{"congestionLevel":4}`),
		feature("traffic.segments", "far", t0, lineString(108.30, 15.90, 108.40, 15.90), `{"congestionLevel":4}`)})
	e.Step()
	if got := summaryOf(t, s, z.ID).RoadsBlocked; got != 1 {
		t.Errorf("%d blocked roads in the district zone, want 1 (the one crossing it)", got)
	}
	wards := set.Wards()
	var w areas.WardInfo
	for _, wi := range wards {
		if len(wi.Districts) == 1 && wi.Districts[0] == ref.Code {
			w = wi
			break
		}
	}
	wref, wg, err := resolveArea(set, bounds, AreaRequest{Level: "ward", Ref: w.Code})
	if err != nil || !wref.Approx || geo.NewArea(wg) == nil {
		t.Fatalf("ward %s: %+v %v", w.Code, wref, err)
	}
	if _, _, err := resolveArea(set, bounds, AreaRequest{Ref: "Atlantis"}); err == nil || !strings.Contains(err.Error(), `"Atlantis"`) {
		t.Errorf("unknown area: %v", err)
	}
}

// TestRestartRebuild: a second engine over a store holding the first's
// features (as history's restore leaves it) has the same active zones and
// contents; a closed zone stays closed.
func TestRestartRebuild(t *testing.T) {
	c := &clock{t: t0}
	s := newStore(c)
	e := New(Config{NewID: seqIDs()}, s, nil, nil)
	a := declare(t, e, &Zone{Name: "A", Geometry: rect(108.2, 16.0, 108.3, 16.1)})
	b := declare(t, e, &Zone{Name: "B", Geometry: rect(108.0, 15.0, 108.1, 15.1)})
	c.Set(t0.Add(time.Minute))
	s.Apply([]layers.Event{
		feature("response.teams", "T", t0, point(108.25, 16.05), `{"name":"T","kind":"rescue","status":"busy"}`),
		feature("lighting.lamps", "L", t0, point(108.26, 16.05), `{"state":"off","dark":true}`),
	})
	e.Step()
	if _, err := e.Close(b.ID, "chief"); err != nil {
		t.Fatal(err)
	}
	_, before, _ := e.Live(a.ID)

	s2 := newStore(c) // "restart": replay every live feature into a fresh store
	for _, l := range s.Layers() {
		var evs []layers.Event
		for _, f := range l.InRect(nil, geo.World, 0) {
			evs = append(evs, layers.Event{Layer: f.Layer, ID: f.ID, Time: f.Time, Geometry: f.Geometry, Properties: f.Properties})
		}
		s2.Apply(evs)
	}
	e2 := New(Config{NewID: seqIDs()}, s2, nil, nil)
	if e2.Active() != 1 {
		t.Fatalf("%d active zones after restart, want 1", e2.Active())
	}
	z, after, err := e2.Live(a.ID)
	if err != nil || z.Name != "A" || z.By != "test" || !z.Declared.Equal(t0) {
		t.Fatalf("restored zone %+v %v", z, err)
	}
	if after.Entities != before.Entities || after.Teams != 1 || after.LampsOut != 1 {
		t.Errorf("summary after restart %+v, before %+v", after, before)
	}
	if _, _, err := e2.Live(b.ID); err != ErrNotFound {
		t.Errorf("closed zone after restart: %v", err)
	}
	// No enter event for what was already inside: a moving team leaves.
	seq := s2.Log().Last()
	c.Set(t0.Add(2 * time.Minute))
	s2.Apply([]layers.Event{feature("response.teams", "T", t0.Add(time.Minute), point(108.35, 16.05), `{"name":"T"}`)})
	e2.Step()
	evs, _ := zoneEvents(t, s2, seq)
	if len(evs) != 1 || evs[0]["event"] != EventLeave {
		t.Errorf("events after restart: %v", evs)
	}
}

// TestResync: an engine lapped by the log recomputes the contents.
func TestResync(t *testing.T) {
	c := &clock{t: t0}
	s := layers.NewStore(layers.Config{LogSize: 16, Now: c.Now}, nil)
	e := New(Config{NewID: seqIDs()}, s, nil, nil)
	z := declare(t, e, &Zone{Name: "A", Geometry: rect(108.2, 16.0, 108.3, 16.1)})
	c.Set(t0.Add(time.Minute))
	for i := range 40 {
		s.Apply([]layers.Event{feature("lighting.lamps", "L"+itoa(i), t0, point(108.25, 16.05), `{"dark":true}`)})
	}
	e.Step()
	if _, sum, _ := e.Live(z.ID); sum.LampsOut != 40 {
		t.Errorf("after a resync: %d lamps out, want 40", sum.LampsOut)
	}
}

func itoa(i int) string { return strconvItoa(i) }

func TestScaleValue(t *testing.T) {
	cases := []struct {
		raw, name, want string
	}{
		{`{"aqiBand":"bad","aqi":160}`, "aqiBand", "bad"},
		{`{"aqi":160,"aqiBand":"bad"}`, "aqiBand", "bad"},
		{`{"statusHistory":[{"status":"received"}],"status":"resolved"}`, "status", "resolved"},
		{`{"nested":{"status":"x"}}`, "status", ""},
		{`{"note":"\"status\":\"fake\"","status":"ok"}`, "status", "ok"},
		{`{"status":"a\u0062c"}`, "status", "abc"},
		{`{"status":3}`, "status", ""},
		{`{}`, "status", ""},
		{``, "status", ""},
		{`{"status":"unterminated`, "status", ""},
	}
	for _, c := range cases {
		if got := scaleValue([]byte(c.raw), c.name); got != c.want {
			t.Errorf("%s %s: %q, want %q", c.raw, c.name, got, c.want)
		}
	}
}

// TestIDTaken: a new zone never overwrites another's feature, even a
// closed one's.
func TestIDTaken(t *testing.T) {
	c := &clock{t: t0}
	s := newStore(c)
	e := New(Config{NewID: func() string { return "zone-x" }}, s, nil, nil)
	z := declare(t, e, &Zone{Name: "A", Geometry: rect(108.2, 16.0, 108.3, 16.1)})
	if _, err := e.Close(z.ID, "chief"); err != nil {
		t.Fatal(err)
	}
	_, err := e.Declare(&Zone{Name: "B", Kind: KindEmergency, Severity: "major", Geometry: rect(108.2, 16.0, 108.3, 16.1)})
	if err == nil || !strings.Contains(err.Error(), "zone-x is taken") {
		t.Errorf("declaring over a closed zone's id: %v", err)
	}
}
