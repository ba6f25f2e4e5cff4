package layers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/danang-ioc/ioc/geo"
)

var update = flag.Bool("update", false, "rewrite layers/testdata/*.golden from the current behaviour")

// The golden scripts in testdata/*.txt drive a store on a fake clock; the
// output, compared with testdata/*.golden, lists every change record and
// the state and snapshots the script asks for. Script lines:
//
//	# comment                      ignored (blank lines too)
//	config ttl.LAYER=DUR default_ttl=DUR tombstone_ttl=DUR
//	                               must come first; durations as time.ParseDuration
//	at HH:MM:SS                    set the clock; the JSON lines that follow
//	{"layer":..., "id":..., ...}   are applied as one batch, in order
//	sweep HH:MM:SS                 set the clock and run Sweep
//	state                          list every entity of every layer
//	snapshot L1,L2 W,S,E,N         Snapshot of those layers in that box
//	nearest L1,L2 LON,LAT K        Store.Nearest
//
// An event line has layer, id, time, op ("upsert", the default, or
// "delete"), geometry (GeoJSON, decoded by geo.Decode) and properties.
// Times are wall-clock times in Da Nang (UTC+7) on 2025-06-02, written
// HH:MM:SS(.fff), or full RFC 3339.

var (
	ict       = time.FixedZone("ICT", 7*3600)
	goldenDay = time.Date(2025, 6, 2, 0, 0, 0, 0, ict)
)

func parseClock(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	c, err := time.ParseInLocation("15:04:05.999999999", s, ict)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: want HH:MM:SS(.fff) or RFC 3339", s)
	}
	return goldenDay.Add(c.Sub(time.Date(0, 1, 1, 0, 0, 0, 0, ict))), nil
}

func formatClock(t time.Time) string {
	t = t.In(ict)
	if y, m, d := t.Date(); y == 2025 && m == 6 && d == 2 {
		return t.Format("15:04:05.999")
	}
	return t.Format(time.RFC3339Nano)
}

type scriptEvent struct {
	Layer      string          `json:"layer"`
	ID         string          `json:"id"`
	Op         string          `json:"op"`
	Time       string          `json:"time"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties json.RawMessage `json:"properties"`
}

func (se *scriptEvent) event() (Event, error) {
	ev := Event{Layer: se.Layer, ID: se.ID}
	if se.Layer == "" || se.ID == "" {
		return ev, fmt.Errorf("event needs layer and id")
	}
	var err error
	if ev.Time, err = parseClock(se.Time); err != nil {
		return ev, err
	}
	switch se.Op {
	case "", "upsert":
		g, err := geo.Decode(se.Geometry)
		if err != nil {
			return ev, fmt.Errorf("geometry: %w", err)
		}
		ev.Geometry = g
		if len(se.Properties) > 0 {
			var buf bytes.Buffer
			if err := json.Compact(&buf, se.Properties); err != nil {
				return ev, err
			}
			ev.Properties = buf.Bytes()
		}
	case "delete":
		ev.Op = OpDelete
	default:
		return ev, fmt.Errorf("op %q", se.Op)
	}
	return ev, nil
}

// goldenRun executes one script and returns its output.
type goldenRun struct {
	t     *testing.T
	name  string
	cfg   Config
	clk   *fakeClock
	s     *Store
	out   bytes.Buffer
	batch []Event
	all   []Change // every change returned, to check against the log
}

func (g *goldenRun) fail(lineNo int, format string, args ...any) {
	g.t.Helper()
	g.t.Fatalf("%s:%d: %s", g.name, lineNo, fmt.Sprintf(format, args...))
}

func (g *goldenRun) store() *Store {
	if g.s == nil {
		g.cfg.Now = g.clk.Now
		g.cfg.LogSize = 1 << 12
		g.s = NewStore(g.cfg, nil)
	}
	return g.s
}

func (g *goldenRun) flush() {
	if g.batch == nil {
		return
	}
	n := len(g.batch)
	cs := g.store().Apply(g.batch)
	g.batch = nil
	plural := "s"
	if n == 1 {
		plural = ""
	}
	fmt.Fprintf(&g.out, "at %s apply %d event%s\n", formatClock(g.clk.Now()), n, plural)
	g.writeChanges(cs)
}

func (g *goldenRun) writeChanges(cs []Change) {
	g.all = append(g.all, cs...)
	if len(cs) == 0 {
		fmt.Fprintf(&g.out, "  (no changes)\n")
		return
	}
	tw := tabwriter.NewWriter(&g.out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  seq\tkind\tentity\told\tnew\tstale\n")
	for _, c := range cs {
		old, nw, stale := "-", "-", "-"
		if c.Old != nil {
			old = formatClock(c.Old.Time)
			if c.Old.Stale {
				old += " (stale)"
			}
		}
		if c.New != nil {
			nw = formatClock(c.New.Time)
			stale = fmt.Sprint(c.New.Stale)
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s/%s\t%s\t%s\t%s\n", c.Seq, c.Kind, c.Layer(), c.ID(), old, nw, stale)
	}
	tw.Flush()
}

func (g *goldenRun) writeState() {
	fmt.Fprintf(&g.out, "state at %s\n", formatClock(g.clk.Now()))
	tw := tabwriter.NewWriter(&g.out, 0, 0, 2, ' ', 0)
	for _, l := range g.store().Layers() {
		fs := l.InRect(nil, geo.World, 0)
		slices.SortFunc(fs, func(a, b *Feature) int { return strings.Compare(a.ID, b.ID) })
		if len(fs) == 0 {
			fmt.Fprintf(tw, "  %s\t(empty)\n", l.Name())
		}
		for _, f := range fs {
			stale := ""
			if f.Stale {
				stale = "stale"
			}
			props := string(f.Properties)
			if props == "" {
				props = "{}"
			}
			fmt.Fprintf(tw, "  %s/%s\t%s\t%s\t%s\t%s\n", f.Layer, f.ID, formatClock(f.Time), stale, geo.AppendGeoJSON(nil, f.Geometry), props)
		}
	}
	tw.Flush()
}

func (g *goldenRun) exec(lineNo int, line string) {
	if strings.HasPrefix(line, "{") {
		var se scriptEvent
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&se); err != nil {
			g.fail(lineNo, "event: %v", err)
		}
		ev, err := se.event()
		if err != nil {
			g.fail(lineNo, "event: %v", err)
		}
		if g.batch == nil {
			g.batch = []Event{}
		}
		g.batch = append(g.batch, ev)
		return
	}
	g.flush()
	f := strings.Fields(line)
	switch {
	case f[0] == "config" && g.s == nil:
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			d, err := time.ParseDuration(v)
			if err != nil {
				g.fail(lineNo, "config %s: %v", kv, err)
			}
			switch {
			case k == "default_ttl":
				g.cfg.DefaultLayer.TTL = d
			case k == "tombstone_ttl":
				g.cfg.TombstoneTTL = d
			case strings.HasPrefix(k, "ttl."):
				if g.cfg.Layers == nil {
					g.cfg.Layers = map[string]LayerConfig{}
				}
				g.cfg.Layers[strings.TrimPrefix(k, "ttl.")] = LayerConfig{TTL: d}
			default:
				g.fail(lineNo, "unknown config %q", k)
			}
		}
		fmt.Fprintf(&g.out, "%s\n", line)
	case (f[0] == "at" || f[0] == "sweep") && len(f) == 2:
		t, err := parseClock(f[1])
		if err != nil {
			g.fail(lineNo, "%v", err)
		}
		if t.Before(g.clk.Now()) {
			g.fail(lineNo, "the clock does not go back (%s)", f[1])
		}
		g.clk.Set(t)
		g.batch = []Event{} // even an empty "at" block reports itself
		if f[0] == "sweep" {
			g.batch = nil
			fmt.Fprintf(&g.out, "sweep at %s\n", formatClock(t))
			g.writeChanges(g.store().Sweep())
		}
	case f[0] == "state" && len(f) == 1:
		g.writeState()
	case f[0] == "snapshot" && len(f) == 3:
		r, err := geo.ParseRect(f[2])
		if err != nil {
			g.fail(lineNo, "%v", err)
		}
		snap := g.store().Snapshot(strings.Split(f[1], ","), r)
		got := ids(snap.Features)
		slices.Sort(got)
		if len(got) == 0 {
			got = []string{"(none)"}
		}
		fmt.Fprintf(&g.out, "snapshot %s %s: seq %d: %s\n", f[1], f[2], snap.Seq, strings.Join(got, " "))
		if snap.Seq != g.s.Log().Last() {
			g.fail(lineNo, "snapshot seq %d, log last %d", snap.Seq, g.s.Log().Last())
		}
	case f[0] == "nearest" && len(f) == 4:
		var lon, lat float64
		var k int
		if _, err := fmt.Sscanf(f[2]+" "+f[3], "%g,%g %d", &lon, &lat, &k); err != nil {
			g.fail(lineNo, "nearest: %v", err)
		}
		fmt.Fprintf(&g.out, "nearest %s %s k=%d:", f[1], f[2], k)
		for _, h := range g.store().Nearest(strings.Split(f[1], ","), lon, lat, k, 0) {
			fmt.Fprintf(&g.out, " %s/%s@%.0fm", h.Feature.Layer, h.Feature.ID, h.Distance)
		}
		fmt.Fprintln(&g.out)
	default:
		g.fail(lineNo, "cannot run %q", line)
	}
}

func runScript(t *testing.T, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	g := &goldenRun{t: t, name: filepath.Base(path), clk: newClock(goldenDay.Add(8 * time.Hour))}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		g.exec(n, line)
		if g.s != nil && g.batch == nil {
			checkStore(t, g.s)
		}
	}
	g.flush()
	if g.s == nil {
		t.Fatalf("%s: script applies nothing", path)
	}
	checkStore(t, g.s)

	// The log holds exactly what Apply and Sweep returned, in order.
	logged, err := g.s.Log().Read(nil, 1, len(g.all)+1)
	if err != nil || len(logged) != len(g.all) {
		t.Fatalf("log holds %d changes (%v), the script saw %d", len(logged), err, len(g.all))
	}
	for i := range logged {
		if logged[i].Seq != uint64(i+1) || logged[i].Seq != g.all[i].Seq || logged[i].New != g.all[i].New || logged[i].Old != g.all[i].Old {
			t.Errorf("log entry %d is %s, the script saw %s", i, describe(logged[i]), describe(g.all[i]))
		}
	}
	return g.out.Bytes()
}

func TestGolden(t *testing.T) {
	scripts, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(scripts) < 3 {
		t.Fatalf("want at least 3 scripts in testdata, found %d (%v)", len(scripts), err)
	}
	for _, script := range scripts {
		name := strings.TrimSuffix(filepath.Base(script), ".txt")
		t.Run(name, func(t *testing.T) {
			got := runScript(t, script)
			golden := strings.TrimSuffix(script, ".txt") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./layers/ -run TestGolden -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (rerun with -update after checking):\n%s", script, golden, lineDiff(string(want), string(got)))
			}
		})
	}
}

// lineDiff shows the lines that differ, with line numbers.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %q\n   got %q\n", i+1, wl, gl)
		}
	}
	return b.String()
}
