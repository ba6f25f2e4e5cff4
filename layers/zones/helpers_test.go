package zones

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.t) {
		c.t = t
	}
}

var t0 = time.Date(2025, 10, 27, 10, 0, 0, 0, time.UTC)

func newStore(c *clock) *layers.Store {
	return layers.NewStore(layers.Config{LogSize: 1 << 12, Now: c.Now}, nil)
}

// seqIDs names zones zone-1, zone-2, ...
func seqIDs() func() string {
	n := 0
	return func() string { n++; return fmt.Sprintf("zone-%d", n) }
}

var decoder = streams.NewDecoder(streams.DecoderConfig{Now: func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }})

// readEvents decodes an ndjson fixture, skipping comments.
func readEvents(t testing.TB, path string) []layers.Event {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []layers.Event
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ev, err := decoder.DecodeEvent([]byte(line))
		if err != nil {
			t.Fatalf("%s: %s: %v", path, line, err)
		}
		out = append(out, ev)
	}
	return out
}

func point(lon, lat float64) geom.T { return geom.NewPointFlat(geom.XY, []float64{lon, lat}) }

// rect is a closed rectangular polygon.
func rect(minX, minY, maxX, maxY float64) geom.T {
	return geom.NewPolygonFlat(geom.XY, []float64{minX, minY, maxX, minY, maxX, maxY, minX, maxY, minX, minY}, []int{10})
}

func feature(layer, id string, at time.Time, g geom.T, props string) layers.Event {
	return layers.Event{Layer: layer, ID: id, Time: at, Geometry: g, Properties: json.RawMessage(props)}
}

// zoneEvents returns the enter/leave upserts in the log after seq, as
// compact maps.
func zoneEvents(t testing.TB, s *layers.Store, after uint64) ([]map[string]any, uint64) {
	t.Helper()
	chs, err := s.Log().Read(nil, after+1, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, c := range chs {
		if c.Layer() != LayerEvents || c.Kind != layers.KindUpsert {
			continue
		}
		var p map[string]any
		if err := json.Unmarshal(c.New.Properties, &p); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out, s.Log().Last()
}

// summaryOf reads the summary of a zone's feature in the store.
func summaryOf(t testing.TB, s *layers.Store, id string) Summary {
	t.Helper()
	f := s.Layer(LayerZones).Get(id)
	if f == nil {
		t.Fatalf("zone %s has no feature", id)
	}
	var p struct {
		Summary Summary `json:"summary"`
	}
	if err := json.Unmarshal(f.Properties, &p); err != nil {
		t.Fatal(err)
	}
	return p.Summary
}

type geomT = geom.T

func lineString(x1, y1, x2, y2 float64) geom.T {
	return geom.NewLineStringFlat(geom.XY, []float64{x1, y1, x2, y2})
}

func strconvItoa(i int) string { return fmt.Sprint(i) }
