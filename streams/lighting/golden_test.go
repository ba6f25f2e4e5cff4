package lighting

// golden_test.go runs testdata/*.ndjson (native events, one per line;
// lines starting with # are comments) through a fresh module and compares
// the output events with testdata/*.golden. go test -run Golden -update
// rewrites the goldens; read the diff before committing it.

import (
	"bytes"
	stdjson "encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
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

// event decodes one native event, failing the test on a bad fixture.
func event(t testing.TB, line string) layers.Event {
	t.Helper()
	ev, err := decoder.DecodeEvent([]byte(line))
	if err != nil {
		t.Fatalf("fixture %s: %v", line, err)
	}
	return ev
}

func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.ndjson")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no testdata/*.ndjson: %v", err)
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			got := runGolden(t, New(goldenConfig()), in)
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
		res, err := mod.Process(event(t, line))
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
