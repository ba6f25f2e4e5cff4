package incidents

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
)

func point(layer, id string, at time.Time, lon, lat float64, props string) layers.Event {
	return layers.Event{Layer: layer, ID: id, Time: at, Geometry: geom.NewPointFlat(geom.XY, []float64{lon, lat}),
		Properties: json.RawMessage(props)}
}

// The engine reads the change log in its own goroutine: ingest only
// appends, and the engine catches up (lag 0) by itself.
func TestRunCatchesUp(t *testing.T) {
	store := layers.NewStore(layers.Config{}, nil)
	e := New(Config{Interval: time.Millisecond}, store, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	now := time.Now()
	for i := range 200 {
		store.Apply([]layers.Event{point("environment.air", fmt.Sprint("aq-", i), now, 108.0+float64(i)*0.01, 16.0, `{"aqi":160}`)})
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.Lag() != 0 || len(e.openIDs()) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("engine did not catch up: lag %d, open %d", e.Lag(), len(e.openIDs()))
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// 200 stations 1 km apart in a line: the fuse radius (500 m) keeps them apart
	if n := len(e.openIDs()); n != 200 {
		t.Errorf("want 200 incidents, got %d", n)
	}
}

// A consumer that falls behind a full ring loses changes, counts them and
// goes on: it never blocks ingest.
func TestFallingBehindIsCounted(t *testing.T) {
	store := layers.NewStore(layers.Config{LogSize: 16}, nil)
	e := New(Config{}, store, nil, nil)
	now := time.Now()
	for i := range 100 {
		store.Apply([]layers.Event{point("environment.air", fmt.Sprint("aq-", i), now, 108.0+float64(i)*0.01, 16.0, `{"aqi":160}`)})
	}
	e.Step()
	e.Step() // reads back the engine's own writes (ignored)
	if lost := counterValue(t, e.m.lost); lost != 84 {
		t.Errorf("lost %v, want 84 (100 changes, 16 kept)", lost)
	}
	if e.Lag() != 0 {
		t.Errorf("lag %d after the step", e.Lag())
	}
}

// The engine never evaluates its own layer (no loop) nor layers it is told
// to ignore; a property that is not an object is counted and skipped.
func TestIgnoredLayers(t *testing.T) {
	rs, err := ParseRules("t.yaml", []byte(`version: 1
rules:
  - {name: z, layer: ioc.zone_events, kind: threshold, when: ["event == enter"], category: zone, severity: info}
  - {name: a, layer: environment.air, kind: threshold, when: ["aqi >= 151"], category: air_quality, severity: minor}
`))
	if err != nil {
		t.Fatal(err)
	}
	store := layers.NewStore(layers.Config{}, nil)
	e := New(Config{Rules: rs, Ignore: []string{"ioc.zone_events"}}, store, nil, nil)
	now := time.Now()
	store.Apply([]layers.Event{
		point("ioc.zone_events", "z1", now, 108.2, 16.0, `{"event":"enter"}`),
		point("environment.air", "a1", now, 108.2, 16.0, `[1]`),
	})
	e.Step()
	e.Step() // its own writes, if any, are read back here
	if ids := e.openIDs(); len(ids) != 0 {
		t.Errorf("want no incident, got %v", ids)
	}
	if counterValue(t, e.m.undecodable) != 1 {
		t.Error("the undecodable change is not counted")
	}
}

// The rule index is only a shortcut: the same changes give the same
// incidents with it as when every rule is evaluated on every change.
func TestIndexAgreesWithFullEvaluation(t *testing.T) {
	rules := benchRules(t, 120)
	batches := benchEvents(30000, time.Date(2025, 10, 27, 8, 0, 0, 0, time.UTC))
	run := func(full bool) map[string]string {
		clock := &clock{t: time.Date(2025, 10, 27, 8, 0, 0, 0, time.UTC)}
		store := layers.NewStore(layers.Config{Now: clock.now, LogSize: 1 << 17}, nil)
		e := New(Config{Rules: rules, Now: clock.now}, store, nil, nil)
		e.fullScan = full
		for _, b := range batches {
			clock.t = b[0].Time
			store.Apply(b)
			e.Step()
		}
		out := map[string]string{}
		for _, f := range store.Layer(Layer).InRect(nil, geo.World, 0) {
			out[f.ID] = string(f.Properties)
		}
		return out
	}
	indexed, full := run(false), run(true)
	if len(full) == 0 {
		t.Fatal("the workload raised no incident")
	}
	if len(indexed) != len(full) {
		t.Fatalf("%d incidents with the index, %d without", len(indexed), len(full))
	}
	for id, p := range full {
		if indexed[id] != p {
			t.Fatalf("%s differs:\nindexed %s\nfull    %s", id, indexed[id], p)
		}
	}
}

// An incident keeps only its newest 50 pieces of evidence; once resolved,
// none of its entities, not even those beyond the 50, joins it again.
func TestResolvedIncidentTakesNoEvidence(t *testing.T) {
	rs, err := ParseRules("t.yaml", []byte(`version: 1
rules:
  - {name: c, layer: feedback.reports, kind: count, when: ["category == fallen_tree"], count: 3, radius: 300, window: 30m, category: report_cluster, severity: minor}
`))
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: scenarioDay.Add(9 * time.Hour)}
	store := layers.NewStore(layers.Config{Now: c.now}, nil)
	e := New(Config{Rules: rs, Now: c.now}, store, nil, nil)
	report := func(i int) {
		c.t = c.t.Add(time.Second)
		store.Apply([]layers.Event{point("feedback.reports", fmt.Sprint("r", i), c.t, 108.2+float64(i%10)*1e-5, 16.0, `{"category":"fallen_tree"}`)})
		e.Step()
	}
	for i := range 60 {
		report(i)
	}
	inc := e.open["inc-1"]
	if inc == nil || inc.EvidenceCount != 60 || len(inc.Evidence) != MaxEvidence {
		t.Fatalf("want one cluster of 60 reports keeping 50: %+v", inc)
	}
	if _, err := e.Act("inc-1", Action{Action: ActResolve}, "lan"); err != nil {
		t.Fatal(err)
	}
	report(60)
	if ids := e.openIDs(); len(ids) != 1 || ids[0] != "inc-2" {
		t.Fatalf("a new report after the resolve opens a new incident, got %v", ids)
	}
	if f := store.Layer(Layer).Get("inc-1"); !strings.Contains(string(f.Properties), `"status":"resolved"`) || !strings.Contains(string(f.Properties), `"evidenceCount":60`) {
		t.Errorf("inc-1 changed after its resolve: %s", f.Properties)
	}
}
