// Package moduletest is the test harness shared by the city modules that
// build on package props (traffic, environment, lighting, flooding,
// feedback): it decodes fixture events, runs the golden-file test, and
// holds the processing, error, concurrency and benchmark loops every
// module's tests repeat. Only tests import it.
//
// The golden test runs testdata/*.ndjson (native events, one per line;
// lines starting with # are comments) through a fresh module and compares
// the output events with testdata/*.golden. go test -run Golden -update
// rewrites the goldens; read the diff before committing it.
package moduletest

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// clock is far ahead of every test event, so none is refused as future.
var decoder = streams.NewDecoder(streams.DecoderConfig{Now: func() time.Time {
	return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
}})

// Event decodes one native event, failing the test on a bad fixture.
func Event(t testing.TB, line string) layers.Event {
	t.Helper()
	ev, err := decoder.DecodeEvent([]byte(line))
	if err != nil {
		t.Fatalf("fixture %s: %v", line, err)
	}
	return ev
}

// Props decodes an event's properties; an event without any gives an
// empty map.
func Props(t testing.TB, ev layers.Event) map[string]any {
	t.Helper()
	p := map[string]any{}
	if ev.Properties == nil {
		return p
	}
	if err := stdjson.Unmarshal(ev.Properties, &p); err != nil {
		t.Fatalf("%s/%s: properties are not a JSON object: %v", ev.Layer, ev.ID, err)
	}
	return p
}

// MustProcess runs one event through m, failing the test when m refuses
// it, and returns the output events.
func MustProcess(t testing.TB, m streams.Module, line string) []layers.Event {
	t.Helper()
	out, err := m.Process(Event(t, line))
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return out
}

// ProcessOne runs one event through m, which must give exactly one event
// back, and returns that event and its properties; or m's error.
func ProcessOne(t testing.TB, m streams.Module, line string) (layers.Event, map[string]any, error) {
	t.Helper()
	out, err := m.Process(Event(t, line))
	if err != nil {
		return layers.Event{}, nil, err
	}
	if len(out) != 1 {
		t.Fatalf("%d events out, want 1", len(out))
	}
	return out[0], Props(t, out[0]), nil
}

// ExpectError runs one event through m and checks that m refuses it with
// a *streams.EventError whose Path is path and whose Msg contains msg.
func ExpectError(t testing.TB, m streams.Module, line, path, msg string) {
	t.Helper()
	_, err := m.Process(Event(t, line))
	var ee *streams.EventError
	if !errors.As(err, &ee) {
		t.Errorf("%.80s: error %v is not an *EventError", line, err)
		return
	}
	if ee.Path != path || !strings.Contains(ee.Msg, msg) {
		t.Errorf("%.80s:\n got %.200s\nwant %s: ...%s...", line, ee, path, msg)
	}
}

// Concurrent runs 8 goroutines that each, for i in [0, rounds), process
// the events lines(g, i) gives, g being the goroutine's number; under
// -race it shows a module safe for concurrent use. A refused event fails
// the test.
func Concurrent(t *testing.T, m streams.Module, rounds int, lines func(g, i int) []string) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range rounds {
				for _, l := range lines(g, i) {
					if _, err := m.Process(Event(t, l)); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// Bench processes events through m in turn, over and over, and reports
// the allocations and the events per second.
func Bench(b *testing.B, m streams.Module, events []layers.Event) {
	bench(b, events, func() streams.Module { return m })
}

// BenchFresh is Bench for a module whose state must start from scratch on
// every pass through events: newModule gives the module of each pass.
func BenchFresh(b *testing.B, newModule func() streams.Module, events []layers.Event) {
	bench(b, events, newModule)
}

func bench(b *testing.B, events []layers.Event, pass func() streams.Module) {
	b.ReportAllocs()
	var m streams.Module
	i := 0
	for b.Loop() {
		if i%len(events) == 0 {
			m = pass()
		}
		if _, err := m.Process(events[i%len(events)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// Golden runs every testdata/*.ndjson file through a fresh module,
// newModule(cfg), and compares the output with the file's .golden; with
// -update it rewrites the golden instead.
func Golden[C any, M streams.Module](t *testing.T, newModule func(C) M, cfg C) {
	inputs, err := filepath.Glob("testdata/*.ndjson")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no testdata/*.ndjson: %v", err)
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			got := runGolden(t, newModule(cfg), in)
			golden := strings.TrimSuffix(in, ".ndjson") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run Golden -update to create it)", err)
			}
			compareLines(t, got, want)
		})
	}
}

// runGolden processes the events of one input file in order and returns
// one line per output event, or per refused event.
func runGolden(t *testing.T, mod streams.Module, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		res, err := mod.Process(Event(t, line))
		if err != nil {
			writeLine(t, &out, map[string]any{"line": n + 1, "error": err.Error()})
			continue
		}
		for _, ev := range res {
			writeLine(t, &out, goldenEvent(t, ev))
		}
	}
	return out.Bytes()
}

func goldenEvent(t *testing.T, ev layers.Event) map[string]any {
	m := map[string]any{"layer": ev.Layer, "id": ev.ID, "op": ev.Op.String(),
		"time": ev.Time.UTC().Format(time.RFC3339Nano)}
	if len(ev.Properties) > 0 {
		var props map[string]any
		if err := stdjson.Unmarshal(ev.Properties, &props); err != nil {
			t.Fatalf("%s/%s: properties are not a JSON object: %v", ev.Layer, ev.ID, err)
		}
		m["properties"] = props
	}
	return m
}

// writeLine writes v as one line of JSON; encoding/json sorts map keys at
// every level. HTML escaping is off so messages read as they are ("<", ">").
func writeLine(t *testing.T, out *bytes.Buffer, v any) {
	enc := stdjson.NewEncoder(out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
}

func compareLines(t *testing.T, got, want []byte) {
	g := strings.Split(strings.TrimRight(string(got), "\n"), "\n")
	w := strings.Split(strings.TrimRight(string(want), "\n"), "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Fatalf("output line %d differs\n got: %s\nwant: %s\n(go test -run Golden -update rewrites the golden)", i+1, gl, wl)
		}
	}
}
