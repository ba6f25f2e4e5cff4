package frontend

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// goldenEvent is an event of the golden scripts: a point, or a delete.
type goldenEvent struct {
	Layer      string          `json:"layer"`
	ID         string          `json:"id"`
	Op         string          `json:"op"`
	Time       time.Time       `json:"time"`
	Point      []float64       `json:"point"`
	Properties json.RawMessage `json:"properties"`
}

func (g goldenEvent) event() layers.Event {
	ev := layers.Event{Layer: g.Layer, ID: g.ID, Time: g.Time, Properties: g.Properties}
	if g.Op == "delete" {
		ev.Op = layers.OpDelete
	} else {
		ev.Geometry = geom.NewPointFlat(geom.XY, g.Point)
	}
	return ev
}

// TestClusterGolden runs testdata/clusters.txt: lamp events into a store,
// the change log into a grid tick by tick, as the hub does, and prints the
// cluster features and deletes each tick pushes.
func TestClusterGolden(t *testing.T) {
	in, err := os.ReadFile("testdata/clusters.txt")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 18, 10, 0, 0, time.UTC)
	store := layers.NewStore(layers.Config{Now: func() time.Time { return now },
		Layers: map[string]layers.LayerConfig{"lighting.lamps": {TTL: 45 * time.Minute}}}, nil)
	const layer, z = "lighting.lamps", 13
	grid := newClusterGrid(layer, z, &lampRank)
	var out bytes.Buffer
	cursor := uint64(0)
	sc := bufio.NewScanner(bytes.NewReader(in))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case line == "tick":
			changes, err := store.Log().Read(nil, cursor+1, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			for i := range changes {
				if c := &changes[i]; c.Applied() {
					applyToGrids(c, []*clusterGrid{grid})
				}
				cursor = changes[i].Seq
			}
			fmt.Fprintf(&out, "tick (%d changes)\n", len(changes))
			printCells(&out, grid, grid.settle(store.Layer(layer)))
		case line == "snapshot":
			snap := newClusterGrid(layer, z, &lampRank)
			for _, f := range store.Snapshot([]string{layer}, geo.World).Features {
				snap.addFeature(f)
			}
			fmt.Fprintf(&out, "snapshot\n")
			printCells(&out, snap, snap.inRange(rangeOf(geo.World, z)))
		case strings.HasPrefix(line, "sweep at "):
			if now, err = time.Parse(time.RFC3339, strings.TrimPrefix(line, "sweep at ")); err != nil {
				t.Fatalf("line %d: %v", n, err)
			}
			store.Sweep()
		default:
			var ev goldenEvent
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				t.Fatalf("line %d: %v", n, err)
			}
			store.Apply([]layers.Event{ev.event()})
		}
	}
	checkGolden(t, "testdata/clusters.golden", out.Bytes())
}

// printCells writes one line per cell, sorted by id: the cluster feature,
// or "delete <id>" for an emptied cell.
func printCells(out *bytes.Buffer, g *clusterGrid, cells []*cell) {
	lines := make([]string, 0, len(cells))
	for _, c := range cells {
		if c.count == 0 {
			lines = append(lines, "delete "+clusterID(g.z, c.x, c.y))
		} else {
			lines = append(lines, string(g.json(c)))
		}
	}
	slices.Sort(lines)
	for _, l := range lines {
		out.WriteString(l + "\n")
	}
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update and read the diff):\n--- got\n%s--- want\n%s", path, got, want)
	}
}
