package streams_test

import (
	"os"
	"strings"
	"testing"

	"github.com/danang-ioc/ioc/streams"
	"github.com/danang-ioc/ioc/streams/environment"
	"github.com/danang-ioc/ioc/streams/feedback"
	"github.com/danang-ioc/ioc/streams/flooding"
	"github.com/danang-ioc/ioc/streams/lighting"
	"github.com/danang-ioc/ioc/streams/traffic"
)

func TestSeverityValidate(t *testing.T) {
	tests := []struct {
		name string
		sev  streams.Severity
		want string // "" when valid
	}{
		{"none", streams.Severity{}, ""},
		{"labels", streams.Severity{Property: "state", Levels: []string{"on", "dark"}, Values: map[string]string{"fault": "dark"}}, ""},
		{"bands", streams.Severity{Property: "x", Levels: []string{"a", "b", "c"}, Bands: []float64{1, 2}}, ""},
		{"levels without property", streams.Severity{Levels: []string{"a", "b"}}, "without a property"},
		{"one level", streams.Severity{Property: "x", Levels: []string{"a"}}, "at least 2 levels"},
		{"duplicate level", streams.Severity{Property: "x", Levels: []string{"a", "a"}}, "unique"},
		{"value to no level", streams.Severity{Property: "x", Levels: []string{"a", "b"}, Values: map[string]string{"v": "c"}}, `maps to "c"`},
		{"band count", streams.Severity{Property: "x", Levels: []string{"a", "b"}, Bands: []float64{1, 2}}, "need 1 bands"},
		{"bands not increasing", streams.Severity{Property: "x", Levels: []string{"a", "b", "c"}, Bands: []float64{2, 2}}, "increase strictly"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.sev.Validate()
			if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestModuleLayersDeclareClustering pins each module layer's cluster zoom
// and checks its severity against the layer contract in docs/MODULES.md:
// the property and every level label (or mapped value) must be written
// there, so a renamed property cannot silently unrank a layer.
func TestModuleLayersDeclareClustering(t *testing.T) {
	doc, err := os.ReadFile("../docs/MODULES.md")
	if err != nil {
		t.Fatal(err)
	}
	mods, err := streams.NewModules(nil, traffic.New(traffic.Config{}), environment.New(environment.Config{}),
		lighting.New(lighting.Config{}), flooding.New(flooding.Config{}), feedback.New(feedback.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	wantZoom := map[string]int{
		"lighting.lamps": 15, "lighting.cabinets": 13,
		"feedback.reports": 13, "traffic.signals": 13, "traffic.parking": 13, "traffic.cameras": 13, "traffic.violations": 13,
		"traffic.segments": 0, "environment.air": 0, "environment.water": 0,
		"flooding.rain": 0, "flooding.rivers": 0, "flooding.streets": 0,
	}
	for _, spec := range mods.Specs() {
		if z, ok := wantZoom[spec.Name]; !ok || spec.ClusterZoom != z {
			t.Errorf("%s: cluster zoom %d, want %d", spec.Name, spec.ClusterZoom, z)
		}
		sev := spec.Severity
		if sev.Property == "" {
			if spec.Name != "traffic.violations" {
				t.Errorf("%s: no severity declared", spec.Name)
			}
			continue
		}
		if !strings.Contains(string(doc), "`"+sev.Property+"`") {
			t.Errorf("%s: severity property %q is not in docs/MODULES.md", spec.Name, sev.Property)
		}
		words := sev.Levels
		if len(sev.Values) > 0 || sev.Bands != nil {
			words = nil // labels of our own; the documented values are the keys
			for v := range sev.Values {
				words = append(words, v)
			}
		}
		for _, w := range words {
			if w != "true" && w != "false" && !strings.Contains(string(doc), "`"+w+"`") {
				t.Errorf("%s: severity value %q is not in docs/MODULES.md", spec.Name, w)
			}
		}
	}
}
