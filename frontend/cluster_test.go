package frontend

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/danang-ioc/ioc/geo"
)

func TestCellOf(t *testing.T) {
	tests := []struct {
		name     string
		lon, lat float64
		z        int
		x, y     uint32
	}{
		{"Hải Châu at grid 13 (map zoom 11)", 108.21, 16.05, 13, 6558, 3725},
		{"Hải Châu at grid 15", 108.2208, 16.0678, 15, 26234, 14901},
		{"whole world at grid 0", 0, 0, 0, 0, 0},
		{"origin falls in the south-east tile", 0, 0, 1, 1, 1},
		{"beyond the Mercator limit clamps to the top row", -180, 89, 4, 0, 0},
		{"east edge and south pole clamp to the last tile", 180, -90, 4, 15, 15},
		{"deepest grid (map zoom 24)", 108.21, 16.05, 26, 53726238, 30522579},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, y := cellOf(tt.lon, tt.lat, tt.z)
			if x != tt.x || y != tt.y {
				t.Errorf("cellOf(%g, %g, %d) = %d/%d, want %d/%d", tt.lon, tt.lat, tt.z, x, y, tt.x, tt.y)
			}
		})
	}
}

func TestCellBoundsHoldTheirCell(t *testing.T) {
	for _, z := range []int{2, 13, 17, 26} {
		x, y := cellOf(108.21, 16.05, z)
		b := cellBounds(z, x, y)
		if !b.ContainsPoint(108.21, 16.05) {
			t.Errorf("z %d: bounds %v do not hold the point", z, b)
		}
		cx, cy := cellOf((b.MinX+b.MaxX)/2, (b.MinY+b.MaxY)/2, z)
		if cx != x || cy != y {
			t.Errorf("z %d: centre of %d/%d maps to %d/%d", z, x, y, cx, cy)
		}
		// The range of the cell's own bounds is that one cell.
		if r := rangeOf(b, z); r.count() > 4 || !r.contains(x, y) {
			t.Errorf("z %d: range of the cell's bounds %+v", z, r)
		}
	}
}

func TestGridZoomAndRange(t *testing.T) {
	tests := []struct {
		zoom     float64
		gridZoom int
	}{{0, 2}, {11, 13}, {11.3, 13}, {11.99, 13}, {14.5, 16}, {24, 26}}
	for _, tt := range tests {
		if got := gridZoomFor(tt.zoom); got != tt.gridZoom {
			t.Errorf("gridZoomFor(%g) = %d, want %d", tt.zoom, got, tt.gridZoom)
		}
	}
	// The city at zoom 11 is a few dozen cells; the world at zoom 11 is far
	// over the bound.
	city := geo.Rect{MinX: 107.9, MinY: 15.9, MaxX: 108.4, MaxY: 16.2}
	if n := rangeOf(city, 13).count(); n < 20 || n > 200 {
		t.Errorf("city at grid 13 spans %d cells", n)
	}
	if n := rangeOf(geo.World, 13).count(); n <= maxClusterCells {
		t.Errorf("world at grid 13 spans only %d cells", n)
	}
}

var (
	lampRank = ClusterSpec{Zoom: 15, Property: "state", Levels: []string{"on", "dimmed", "off", "dark"},
		Values: map[string]string{"fault": "dark", "no_power": "dark"}}
	congestionRank = ClusterSpec{Property: "congestionLevel", Levels: []string{"free", "light", "moderate", "heavy", "jammed"},
		Bands: []float64{1, 2, 3, 4}}
	exceededRank = ClusterSpec{Property: "exceeded", Levels: []string{"ok", "exceeded"},
		Values: map[string]string{"false": "ok", "true": "exceeded"}}
)

func TestLevel(t *testing.T) {
	tests := []struct {
		name  string
		spec  ClusterSpec
		props string
		want  int
	}{
		{"label", lampRank, `{"dark":false,"state":"on"}`, 0},
		{"label off", lampRank, `{"state":"off"}`, 2},
		{"value mapped to the worst label", lampRank, `{"dark":true,"state":"fault"}`, 3},
		{"no_power is dark too", lampRank, `{"state":"no_power","level":0}`, 3},
		{"unknown value", lampRank, `{"state":"blinking"}`, unranked},
		{"absent", lampRank, `{"level":100}`, unranked},
		{"null", lampRank, `{"state":null}`, unranked},
		{"no properties", lampRank, ``, unranked},
		{"nested member of the same name is not read", lampRank, `{"x":{"state":"fault"},"state":"on"}`, 0},
		{"escaped key", lampRank, `{"st\u0061te":"fault"}`, 3},
		{"number below the first band", congestionRank, `{"congestionLevel":0}`, 0},
		{"number on a band's lowest value", congestionRank, `{"congestionLevel":2}`, 2},
		{"number inside a band", congestionRank, `{"congestionLevel":2.5}`, 2},
		{"number on the last band", congestionRank, `{"congestionLevel":4}`, 4},
		{"number above the last band", congestionRank, `{"congestionLevel":9}`, 4},
		{"string where a number is wanted", congestionRank, `{"congestionLevel":"heavy"}`, unranked},
		{"boolean true", exceededRank, `{"exceeded":true}`, 1},
		{"boolean false", exceededRank, `{"exceeded":false,"exceedances":[]}`, 0},
		{"no severity declared", ClusterSpec{Zoom: 13}, `{"state":"on"}`, unranked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.spec.level([]byte(tt.props)); got != tt.want {
				t.Errorf("level(%s) = %d, want %d", tt.props, got, tt.want)
			}
		})
	}
}

func TestAppendFiltered(t *testing.T) {
	tests := []struct {
		props string
		names []string
		want  string
	}{
		{`{"a":1,"name":"Bạch Đằng","state":"on"}`, []string{"name", "state"}, `{"name":"Bạch Đằng","state":"on"}`},
		{`{"a":{"state":"x"},"b":[1,"]",{"c":"}"}],"state":"on"}`, []string{"state"}, `{"state":"on"}`},
		{`{"a":{"state":"x"},"b":[1,"]",{"c":"}"}],"state":"on"}`, []string{"a", "b"}, `{"a":{"state":"x"},"b":[1,"]",{"c":"}"}]}`},
		{`{"q\"uote":"\\\"","state":"on"}`, []string{"q\"uote"}, `{"q\"uote":"\\\""}`},
		{`{"state":"on"}`, nil, `{}`},
		{`{ "spaced" : true , "x" : null }`, []string{"spaced", "x"}, `{"spaced":true,"x":null}`},
	}
	for _, tt := range tests {
		got := string(appendFiltered(nil, []byte(tt.props), tt.names))
		if got != tt.want {
			t.Errorf("filter %s to %v = %s, want %s", tt.props, tt.names, got, tt.want)
		}
	}
}

// FuzzEachMember checks the scanner against encoding/json: on any valid
// object, selecting a subset of members gives what decoding would.
func FuzzEachMember(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":"x"}`, `{"a":{"b":[1,{"c":"}"}]},"d":null}`, `{"\u00e9":"\\\"","e":-1.5e3}`, `{}`, `{"a":[]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // the streams refuse such properties
		}
		var want map[string]json.RawMessage
		if json.Unmarshal([]byte(s), &want) != nil || want == nil {
			return
		}
		keys := make([]string, 0, len(want))
		for k := range want {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		names := keys[:len(keys)/2+len(keys)%2] // about half of them
		var got map[string]json.RawMessage
		out := appendFiltered(nil, []byte(s), names)
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("filtered %s to %s: invalid JSON: %v", s, out, err)
		}
		if len(got) != len(names) {
			t.Fatalf("filtered %s to %v: got %s", s, names, out)
		}
		for _, n := range names {
			if !jsonEqual(got[n], want[n]) {
				t.Fatalf("member %q: got %s, want %s", n, got[n], want[n])
			}
		}
	})
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}

func TestClusterCoordinatesAreRounded(t *testing.T) {
	if got := string(appendCoord(nil, 108.123456789)); got != "108.123457" {
		t.Errorf("appendCoord = %s", got)
	}
	if got := string(appendCoord(nil, math.Round(16.05*1e6)/1e6)); got != "16.05" {
		t.Errorf("appendCoord = %s", got)
	}
}

func TestReplayFramesKeepOnlySelectedProperties(t *testing.T) {
	sel, err := parsePropSelection(map[string][]string{"lighting.lamps": {"state"}, "*": {"name"}})
	if err != nil {
		t.Fatal(err)
	}
	lamp := `{"type":"Feature","id":"L-1","layer":"lighting.lamps","time":"2025-10-27T11:00:00Z","geometry":{"type":"Point","coordinates":[108.2,16.0]},"properties":{"level":100,"name":"x","state":"on"}}`
	signal := `{"type":"Feature","id":"s-1","layer":"traffic.signals","time":"2025-10-27T11:00:00Z","stale":true,"geometry":{"type":"Point","coordinates":[108.2,16.0]},"properties":{"name":"Bạch Đằng","status":"fault"}}`
	tests := []struct{ frame, want string }{
		{`{"type":"snapshot","replay":true,"time":"T","features":[` + lamp + `,` + signal + `]}`,
			`{"type":"snapshot","replay":true,"time":"T","features":[` + strings.Replace(lamp, `{"level":100,"name":"x","state":"on"}`, `{"state":"on"}`, 1) +
				`,` + strings.Replace(signal, `{"name":"Bạch Đằng","status":"fault"}`, `{"name":"Bạch Đằng"}`, 1) + `]}`},
		{`{"type":"diff","replay":true,"time":"T","upserts":[],"deletes":[{"layer":"lighting.lamps","id":"L-2"}]}`,
			`{"type":"diff","replay":true,"time":"T","upserts":[],"deletes":[{"layer":"lighting.lamps","id":"L-2"}]}`},
		{`{"type":"replay_end","replay":true,"time":"T"}`, `{"type":"replay_end","replay":true,"time":"T"}`},
	}
	for _, tt := range tests {
		if got := string(selectInFrame([]byte(tt.frame), sel)); got != tt.want {
			t.Errorf("selectInFrame:\n got %s\nwant %s", got, tt.want)
		}
	}
}
