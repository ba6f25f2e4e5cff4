package incidents

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/danang-ioc/ioc/geo/areas"
	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
	"github.com/danang-ioc/ioc/streams/environment"
	"github.com/danang-ioc/ioc/streams/feedback"
	"github.com/danang-ioc/ioc/streams/flooding"
	"github.com/danang-ioc/ioc/streams/lighting"
	"github.com/danang-ioc/ioc/streams/traffic"
)

var update = flag.Bool("update", false, "rewrite layers/incidents/testdata/*.golden from the current behaviour")

// Scenario scripts (testdata/*.txt) drive the five city modules, a store
// and an engine on a fake clock. Lines:
//
//	# comment                       ignored, blank lines too
//	at HH:MM[:SS]                   set the clock (Da Nang time, 2025-10-27)
//	{"layer":..., "id":..., ...}    a native event, time defaulting to the clock; through its module,
//	                                applied, then one engine step
//	sweep                           the store's staleness sweep, then one engine step
//	tick                            one engine step (auto-close runs on the clock)
//	act ID WHO {"action":...}       a workflow action
//
// The output lists, after each line, every incident the engine wrote: its
// status, severity, category, title, evidence, tasks and the trail entries
// added since it was last printed.

var (
	ict         = time.FixedZone("ICT", 7*3600)
	scenarioDay = time.Date(2025, 10, 27, 0, 0, 0, 0, ict)
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

type scenario struct {
	t        testing.TB
	clock    *clock
	store    *layers.Store
	engine   *Engine
	mods     *streams.Modules
	decoder  *streams.Decoder
	cursor   uint64
	trails   map[string]int    // trail entries printed per incident
	evidence map[string]string // evidence last printed per incident
	out      bytes.Buffer
}

var testAreas = func() *areas.Set {
	s, err := areas.Default()
	if err != nil {
		panic(err)
	}
	return s
}()

func newScenario(t testing.TB, rules *RuleSet) *scenario {
	c := &clock{t: scenarioDay.Add(8 * time.Hour)}
	mods, err := streams.NewModules(areas.NewTagger(testAreas),
		traffic.New(traffic.Config{}), environment.New(environment.Config{}), lighting.New(lighting.Config{}),
		flooding.New(flooding.Config{}), feedback.New(feedback.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	lc := layers.Config{Now: c.now, Layers: map[string]layers.LayerConfig{}}
	for _, s := range mods.Specs() {
		lc.Layers[s.Name] = layers.LayerConfig{TTL: s.StaleAfter}
	}
	store := layers.NewStore(lc, nil)
	if rules == nil {
		rules = DefaultRules()
	}
	e := New(Config{Rules: rules, Locator: testAreas, Now: c.now}, store, nil, nil)
	return &scenario{t: t, clock: c, store: store, engine: e, mods: mods, trails: map[string]int{}, evidence: map[string]string{},
		decoder: streams.NewDecoder(streams.DecoderConfig{Now: c.now})}
}

// event sends one native event through its module into the store and
// steps the engine.
func (s *scenario) event(line string) error {
	ev, err := s.decoder.DecodeEvent([]byte(line))
	if err != nil {
		return err
	}
	evs, err := s.mods.Process(ev)
	if err != nil {
		return err
	}
	s.store.Apply(evs)
	s.engine.Step()
	return nil
}

func (s *scenario) run(path string) string {
	f, err := os.Open(path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := s.line(line); err != nil {
			fmt.Fprintf(&s.out, "%s line %d: error: %v\n", s.stamp(), n, err)
		}
		s.print()
	}
	return s.out.String()
}

func (s *scenario) line(line string) error {
	word, rest, _ := strings.Cut(line, " ")
	switch {
	case strings.HasPrefix(line, "{"):
		return s.event(line)
	case word == "at":
		c, err := time.ParseInLocation("15:04:05", rest, ict)
		if err != nil {
			if c, err = time.ParseInLocation("15:04", rest, ict); err != nil {
				return fmt.Errorf("at %q: want HH:MM or HH:MM:SS", rest)
			}
		}
		t := scenarioDay.Add(time.Duration(c.Hour())*time.Hour + time.Duration(c.Minute())*time.Minute + time.Duration(c.Second())*time.Second)
		if t.Before(s.clock.t) {
			return fmt.Errorf("at %s: the clock does not go back", rest)
		}
		s.clock.t = t
		return nil
	case word == "sweep":
		s.store.Sweep()
		s.engine.Step()
		return nil
	case word == "tick":
		s.engine.Step()
		return nil
	case word == "act":
		return s.act(rest)
	}
	return fmt.Errorf("unknown script line %q", line)
}

func (s *scenario) act(rest string) error {
	parts := strings.SplitN(rest, " ", 3)
	if len(parts) != 3 {
		return fmt.Errorf("act: want act ID WHO {json}")
	}
	a, err := DecodeAction(strings.NewReader(parts[2]))
	if err != nil {
		return err
	}
	_, err = s.engine.Act(parts[0], a, parts[1])
	return err
}

func (s *scenario) stamp() string { return s.clock.t.In(ict).Format("15:04:05") }

// print lists the incidents written since the last print.
func (s *scenario) print() {
	changes, err := s.store.Log().Read(nil, s.cursor+1, 1<<20)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, c := range changes {
		s.cursor = c.Seq
		if c.New == nil || c.New.Layer != Layer {
			continue
		}
		inc, err := fromFeature(c.New)
		if err != nil {
			s.t.Fatal(err)
		}
		s.out.WriteString(s.describe(inc))
	}
}

func (s *scenario) describe(inc *Incident) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s %s %s %q at %.4f,%.4f", s.stamp(), inc.ID, inc.Status, inc.Severity, inc.Category, inc.Title, inc.lon, inc.lat)
	if inc.ClearSince != nil {
		fmt.Fprintf(&b, " clear-since %s", inc.ClearSince.In(ict).Format("15:04:05"))
	}
	b.WriteString("\n")
	var ev strings.Builder
	fmt.Fprintf(&ev, "    evidence %d of %d, layers %s:\n", len(inc.Evidence), inc.EvidenceCount, strings.Join(inc.Layers, ","))
	for _, e := range inc.Evidence {
		fmt.Fprintf(&ev, "      %s/%s %s [%s] %s\n", e.Layer, e.ID, e.Time.In(ict).Format("15:04:05"), e.Rule, e.Summary)
	}
	if ev.String() != s.evidence[inc.ID] { // printed only when it changed
		b.WriteString(ev.String())
		s.evidence[inc.ID] = ev.String()
	}
	for _, t := range inc.Tasks {
		fmt.Fprintf(&b, "    task %s %s since %s\n", t.Team, t.Status, t.Since.In(ict).Format("15:04:05"))
	}
	seen := s.trails[inc.ID]
	for i, e := range inc.Trail {
		if inc.TrailCount-len(inc.Trail)+i >= seen {
			fmt.Fprintf(&b, "    trail %s %s %s %s\n", e.At.In(ict).Format("15:04:05"), e.By, e.Action, e.Detail)
		}
	}
	s.trails[inc.ID] = inc.TrailCount
	return b.String()
}

// golden compares got with testdata/NAME.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test ./layers/incidents -run Golden -update, then read the diff)\n%s",
			name, firstDiff(string(want), got))
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\nwant: %s\ngot:  %s", i+1, a, b)
		}
	}
	return ""
}

// openIDs lists the ids of the open incidents, sorted.
func (e *Engine) openIDs() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ids []string
	for id := range e.open {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func mustJSON(t testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func counterValue(t testing.TB, c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
