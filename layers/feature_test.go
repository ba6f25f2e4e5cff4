package layers

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/geo"
)

// awkwardStrings are ids and layer names a stream may pass on: valid UTF-8
// but full of characters JSON must escape.
var awkwardStrings = []string{
	"",
	"plain-123",
	`quote"inside`,
	`back\slash`,
	`\"`,
	`"`,
	`\`,
	"ends with backslash\\",
	"nul\x00byte",
	"bell\x07 and \x1f unit separator",
	"tab\tnew\nline\rreturn\b\f",
	"del\x7f",
	"Cầu Rồng – Đà Nẵng",
	"emoji 🚌🚨",
	"line\u2028sep\u2029para",
	"</script><script>alert(1)</script>",
	"{\"type\":\"Feature\"}",
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range awkwardStrings {
		b := AppendJSONString([]byte("x"), s)
		if b[0] != 'x' {
			t.Fatalf("AppendJSONString lost dst")
		}
		var back string
		if err := json.Unmarshal(b[1:], &back); err != nil {
			t.Errorf("AppendJSONString(%q) = %s: %v", s, b[1:], err)
			continue
		}
		if back != s {
			t.Errorf("AppendJSONString(%q) decodes to %q", s, back)
		}
		for _, c := range b[1:] {
			if c < 0x20 {
				t.Errorf("AppendJSONString(%q) = %q holds a raw control byte", s, b[1:])
				break
			}
		}
	}
}

// wireFeature is what a client decodes.
type wireFeature struct {
	Type       string          `json:"type"`
	ID         string          `json:"id"`
	Layer      string          `json:"layer"`
	Time       time.Time       `json:"time"`
	Stale      bool            `json:"stale"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties json.RawMessage `json:"properties"`
}

func TestFeatureJSON(t *testing.T) {
	ict := time.FixedZone("ICT", 7*3600)
	obs := time.Date(2025, 6, 2, 8, 0, 0, 123456789, ict)
	for _, name := range awkwardStrings {
		for _, props := range []string{"", `{}`, `{"plate":"43A-123.45","speed":31.5,"note":"say \"hi\"\n","tags":["a","b"],"n":null}`} {
			ev := Event{Layer: "layer " + name, ID: name, Time: obs, Geometry: rectPolygon(108.2, 16.05, 108.21, 16.06)}
			if props != "" {
				ev.Properties = json.RawMessage(props)
			}
			for _, stale := range []bool{false, true} {
				f := newFeature(&ev, stale)
				if !json.Valid(f.JSON()) {
					t.Fatalf("invalid JSON for id %q props %q: %s", name, props, f.JSON())
				}
				var w wireFeature
				if err := json.Unmarshal(f.JSON(), &w); err != nil {
					t.Fatalf("id %q: %v", name, err)
				}
				wantProps := props
				if props == "" {
					wantProps = "{}"
				}
				if w.Type != "Feature" || w.ID != name || w.Layer != "layer "+name || !w.Time.Equal(obs) || w.Stale != stale ||
					string(w.Properties) != wantProps || string(w.Geometry) != string(geo.AppendGeoJSON(nil, ev.Geometry)) {
					t.Errorf("id %q: decoded %+v", name, w)
				}
				// Time is written in UTC with full precision.
				if !strings.Contains(string(f.JSON()), `"time":"2025-06-02T01:00:00.123456789Z"`) {
					t.Errorf("time not in UTC RFC 3339: %s", f.JSON())
				}
				if got := strings.Contains(string(f.JSON()), `"stale"`); got != stale {
					t.Errorf("stale=%v but JSON %s", stale, f.JSON())
				}
			}
		}
	}
}

func TestWithStaleKeepsFeature(t *testing.T) {
	ev := upsert("air", `s"1`, at(0), lon0, lat0, `{"pm25":41}`)
	f := newFeature(&ev, false)
	before := string(f.JSON())
	st := f.withStale(true)
	if st == f || !st.Stale || f.Stale || string(f.JSON()) != before {
		t.Fatal("withStale modified the original")
	}
	if st.ID != f.ID || st.Layer != f.Layer || !st.Time.Equal(f.Time) || st.Geometry != f.Geometry || st.Bounds != f.Bounds ||
		string(st.Properties) != string(f.Properties) {
		t.Errorf("withStale changed more than the flag: %+v", st)
	}
	if want := strings.Replace(before, `Z","geometry"`, `Z","stale":true,"geometry"`, 1); string(st.JSON()) != want {
		t.Errorf("stale JSON\n got %s\nwant %s", st.JSON(), want)
	}
	if back := st.withStale(false); string(back.JSON()) != before {
		t.Errorf("fresh again: %s", back.JSON())
	}
}

func TestKindAndOpStrings(t *testing.T) {
	for k, want := range map[Kind]string{KindUpsert: "upsert", KindDelete: "delete", KindStale: "stale", KindLate: "late", 0: "", 9: "unknown"} {
		if k.String() != want {
			t.Errorf("Kind(%d) = %q, want %q", k, k.String(), want)
		}
	}
	if OpUpsert.String() != "upsert" || OpDelete.String() != "delete" {
		t.Errorf("Op strings %s %s", OpUpsert, OpDelete)
	}
}

// TestFeatureOwnsItsBytes: a stream may reuse the buffer its properties
// came in; the feature must not change with it, and a consumer appending to
// Properties must not corrupt the shared encoding.
func TestFeatureOwnsItsBytes(t *testing.T) {
	s, _ := newTestStore(t, nil)
	buf := []byte(`{"plate":"43A-123.45","speed":31}` + "garbage after the object")
	ev := upsert("bus", "b1", at(0), lon0, lat0, "")
	ev.Properties = buf[:33]
	f := mustOneChange(t, s, ev, KindUpsert).New
	want := string(f.JSON())
	copy(buf, `{"plate":"XXXXXXXXXX","speed":99}`)
	if string(f.Properties) != `{"plate":"43A-123.45","speed":31}` || string(f.JSON()) != want {
		t.Errorf("feature changed with the event's buffer: %s / %s", f.Properties, f.JSON())
	}
	_ = append(f.Properties, `,"x":1`...)
	if string(f.JSON()) != want || !json.Valid(f.JSON()) {
		t.Errorf("appending to Properties changed the JSON: %s", f.JSON())
	}
	st := f.withStale(true)
	if string(st.Properties) != string(f.Properties) {
		t.Errorf("stale copy properties %s", st.Properties)
	}
}

func TestNewFeatureAllocations(t *testing.T) {
	ev := upsert("bus", "43A-123.45", at(0), lon0, lat0, `{"speed":31,"heading":270,"route":"R6","load":40,"ok":true}`)
	if n := testing.AllocsPerRun(100, func() { newFeature(&ev, false) }); n > 2 {
		t.Errorf("newFeature makes %v allocations for a point, want 2 (the feature and its encoding)", n)
	}
	big := ev
	flat := make([]float64, 0, 400)
	for i := range 200 {
		flat = append(flat, lon0+float64(i)*1e-4, lat0)
	}
	big.Geometry = lineString(flat...)
	f := newFeature(&big, false)
	if !json.Valid(f.JSON()) || string(f.Properties) != string(ev.Properties) {
		t.Errorf("large feature encoding broken")
	}
}
