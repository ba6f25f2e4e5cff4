package areas_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo/areas"
	"github.com/danang-ioc/ioc/layers"
)

// Both satisfy streams.Tagger, which asks for exactly this method.
var _ interface{ Tag(ev *layers.Event) } = (*areas.Tagger)(nil)

func pointEvent(lon, lat float64, props string) layers.Event {
	ev := layers.Event{Layer: "feedback", ID: "r1", Time: time.Unix(0, 0), Geometry: geom.NewPointFlat(geom.XY, []float64{lon, lat})}
	if props != "" {
		ev.Properties = json.RawMessage(props)
	}
	return ev
}

const haiChauTags = `"district":"Quận Hải Châu","districtCode":"492","ward":"Phường Hải Châu","wardCode":"20242"`

func TestTag(t *testing.T) {
	tagger := areas.NewTagger(defaultSet(t))
	tests := []struct {
		name     string
		lon, lat float64
		props    string // "" for nil
		want     string
	}{
		{"nil properties", 108.2208, 16.0678, "", `{` + haiChauTags + `}`},
		{"empty object", 108.2208, 16.0678, `{}`, `{` + haiChauTags + `}`},
		{"null", 108.2208, 16.0678, `null`, `{` + haiChauTags + `}`},
		{"members kept, tags appended", 108.2208, 16.0678, `{"category":"flood","depth":0.3}`, `{"category":"flood","depth":0.3,` + haiChauTags + `}`},
		{"sender's district wins, with its code left out",
			108.2208, 16.0678, `{"district":"Hải Châu (sender)"}`,
			`{"district":"Hải Châu (sender)","ward":"Phường Hải Châu","wardCode":"20242"}`},
		{"sender's wardCode keeps both ward members out",
			108.2208, 16.0678, `{"wardCode":"X"}`,
			`{"wardCode":"X","district":"Quận Hải Châu","districtCode":"492"}`},
		{"escaped member name counts", 108.2208, 16.0678, `{"\u0064istrictCode":"1","ward":"w"}`, `{"\u0064istrictCode":"1","ward":"w"}`},
		{"nested and value strings do not count",
			108.2208, 16.0678, `{"a":{"district":"x"},"b":["ward",{"wardCode":1}],"c":"district"}`,
			`{"a":{"district":"x"},"b":["ward",{"wardCode":1}],"c":"district",` + haiChauTags + `}`},
		{"strings with braces and quotes", 108.2208, 16.0678, `{"note":"a \"}\" b {[","n":null}`, `{"note":"a \"}\" b {[","n":null,` + haiChauTags + `}`},
		{"Vietnamese text survives", 108.2208, 16.0678, `{"tên":"Ngập đường Lê Duẩn"}`, `{"tên":"Ngập đường Lê Duẩn",` + haiChauTags + `}`},
		{"at sea: unchanged", 108.40, 16.10, `{"a":1}`, `{"a":1}`},
		{"at sea, nil stays nil", 108.40, 16.10, "", ""},
		{"merged area: ward only", 108.33, 15.88, `{"a":1}`, `{"a":1,"ward":"Phường Hội An","wardCode":"20410"}`},
		{"not an object: unchanged", 108.2208, 16.0678, `[1,2]`, `[1,2]`},
		{"malformed: unchanged", 108.2208, 16.0678, `{"a":"x}`, `{"a":"x}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := pointEvent(tt.lon, tt.lat, tt.props)
			orig := append([]byte(nil), ev.Properties...)
			tagger.Tag(&ev)
			if got := string(ev.Properties); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
			if tt.props != "" && string(orig) != tt.props {
				t.Fatalf("input bytes modified: %s", orig)
			}
			if len(ev.Properties) > 0 && tt.want != `{"a":"x}` && !json.Valid(ev.Properties) {
				t.Fatalf("invalid JSON: %s", ev.Properties)
			}
		})
	}
}

// The input slice may be shared between events (a module fanning one event
// out); Tag must not write into its spare capacity.
func TestTagDoesNotWriteIntoSharedBytes(t *testing.T) {
	tagger := areas.NewTagger(defaultSet(t))
	buf := make([]byte, 0, 256)
	buf = append(buf, `{"a":1}`...)
	a, b := pointEvent(108.2208, 16.0678, ""), pointEvent(108.27, 16.10, "")
	a.Properties, b.Properties = buf, buf
	tagger.Tag(&a)
	tagger.Tag(&b)
	var pa, pb map[string]any
	if err := json.Unmarshal(a.Properties, &pa); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b.Properties, &pb); err != nil {
		t.Fatal(err)
	}
	if pa["districtCode"] != "492" || pb["districtCode"] != "493" || string(buf) != `{"a":1}` {
		t.Fatalf("a=%s b=%s buf=%s", a.Properties, b.Properties, buf)
	}
}

func TestTagGeometries(t *testing.T) {
	tagger := areas.NewTagger(defaultSet(t))
	line := layers.Event{Geometry: geom.NewLineStringFlat(geom.XY, []float64{108.05, 16.00, 108.40, 16.10})}
	tagger.Tag(&line)
	var p map[string]any
	if err := json.Unmarshal(line.Properties, &p); err != nil || p["districtCode"] != "492" {
		t.Fatalf("line: %s (%v)", line.Properties, err)
	}
	none := layers.Event{}
	tagger.Tag(&none)
	(*areas.Tagger)(nil).Tag(&none)
	areas.NewTagger(nil).Tag(&none)
	if none.Properties != nil {
		t.Fatalf("event without geometry tagged: %s", none.Properties)
	}
}

// Every tag over a grid of the merged city decodes to what Locate says.
func TestTagMatchesLocate(t *testing.T) {
	s := defaultSet(t)
	tagger := areas.NewTagger(s)
	for x := 107.2; x <= 108.8; x += 0.037 {
		for y := 14.9; y <= 16.3; y += 0.029 {
			ev := pointEvent(x, y, `{"k":"v"}`)
			tagger.Tag(&ev)
			var got map[string]string
			if err := json.Unmarshal(ev.Properties, &got); err != nil {
				t.Fatalf("(%g, %g): %s: %v", x, y, ev.Properties, err)
			}
			loc := s.Locate(x, y)
			want := map[string]string{"k": "v"}
			for k, v := range map[string]string{"district": loc.District, "districtCode": loc.DistrictCode, "ward": loc.Ward, "wardCode": loc.WardCode} {
				if v != "" {
					want[k] = v
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("(%g, %g): tags %v, Locate %v", x, y, got, want)
			}
		}
	}
}

func TestTagConcurrent(t *testing.T) {
	tagger := areas.NewTagger(defaultSet(t))
	shared := json.RawMessage(`{"shared":true}`)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				ev := pointEvent(108.15+float64(i%100)*0.001, 16.0+float64(g)*0.01, "")
				ev.Properties = shared
				tagger.Tag(&ev)
				if !json.Valid(ev.Properties) {
					panic(fmt.Sprintf("invalid: %s", ev.Properties))
				}
			}
		}()
	}
	wg.Wait()
	if string(shared) != `{"shared":true}` {
		t.Fatalf("shared properties modified: %s", shared)
	}
}

func newTagger(t testing.TB) *areas.Tagger { return areas.NewTagger(defaultSet(t)) }
