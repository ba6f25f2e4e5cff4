package incidents

import (
	"strings"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/streams/sim"
)

// TestSimulatorStorm plays the simulator's storm (seed 1, the brief's eight
// hours compressed into 45 minutes, followed to its recovery) through the
// five modules, the store and the engine with the default rules, and checks
// what an operator would see: a few dozen incidents, each explained by its
// evidence and named after its place, rather than the hundreds of alarms the
// rules match. The simulator changes as it grows, so this checks bounds; the
// exact incidents over time are pinned by the hand-written
// testdata/storm.txt.
func TestSimulatorStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("plays a simulated storm")
	}
	s := newScenario(t, nil)
	city, err := sim.New(sim.Config{Seed: 1, Start: scenarioDay.Add(12 * time.Hour)}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	feed := func(d time.Duration) {
		for _, ev := range city.Step(d) {
			evs, err := s.mods.Process(ev)
			if err != nil {
				continue // layers without a module here (teams)
			}
			s.store.Apply(evs)
		}
		s.clock.t = city.Now()
		s.store.Sweep()
		s.engine.Step()
	}
	for range 10 {
		feed(time.Minute) // past the simulator's start-up burst
	}
	if err := city.Storm(45 * time.Minute); err != nil {
		t.Fatal(err)
	}
	for range 70 {
		feed(time.Minute)
	}
	matches := counterValue(t, s.engine.m.matches)
	all := s.store.Layer(Layer).InRect(nil, geo.World, 0)
	byCat := map[string]int{}
	for _, f := range all {
		inc, err := fromFeature(f)
		if err != nil {
			t.Fatal(err)
		}
		byCat[inc.Category]++
		if len(inc.Evidence) == 0 || strings.Contains(inc.Title, "unknown place") || inc.Place == "" {
			t.Errorf("%s: want evidence and a place, got %d evidence, title %q, place %q", inc.ID, len(inc.Evidence), inc.Title, inc.Place)
		}
	}
	t.Logf("%d rule matches became %d incidents (%d open): %v", int(matches), len(all), len(s.engine.openIDs()), byCat)
	if len(all) == 0 || len(all) > 60 {
		t.Errorf("want a few dozen incidents at most, got %d", len(all))
	}
	if matches < 10*float64(len(all)) {
		t.Errorf("want at least ten matches per incident (dedup and fusion), got %v matches for %d incidents", matches, len(all))
	}
	if byCat["flooding"] == 0 || byCat["power"] == 0 {
		t.Errorf("a storm floods streets and cuts power: got %v", byCat)
	}
}
