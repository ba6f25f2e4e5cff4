package incidents

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultRulesLoad(t *testing.T) {
	rs, err := LoadRules("")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Rules) < 10 || len(rs.Fusion) == 0 {
		t.Fatalf("default rules: %d rules, %d fusion groups", len(rs.Rules), len(rs.Fusion))
	}
	if rs.Fuse.Radius != 500 || rs.Fuse.Window.D().Minutes() != 60 {
		t.Errorf("fuse defaults: %+v", rs.Fuse)
	}
}

func TestLoadRulesFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.yaml")
	body := "version: 1\nrules:\n  - {name: a, layer: x.y, kind: stale, category: sensor_offline, severity: info}\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	rs, err := LoadRules(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Rules) != 1 || rs.Fuse.Radius != 500 {
		t.Fatalf("got %+v", rs)
	}
	if _, err := LoadRules(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("a missing file must be named: %v", err)
	}
}

// Every validation error names the file, the rule and the field.
func TestRuleValidationErrors(t *testing.T) {
	const head = "version: 1\nrules:\n"
	rule := func(fields string) string {
		return head + "  - {name: r1, layer: environment.air, category: air_quality, severity: minor, " + fields + "}\n"
	}
	tests := []struct {
		name, body, want string
	}{
		{"empty", "", "f.yaml: empty rules file"},
		{"version", "version: 2\n", "f.yaml: version: want 1, got 2"},
		{"unknown field", rule("kind: stale, severty: major"), "f.yaml: yaml: unmarshal errors:\n  line 3: field severty not found"},
		{"no kind", rule(""), `f.yaml: rule "r1" (rules[0]): kind: want threshold, rate, stale or count, got ""`},
		{"no when", rule("kind: threshold"), `f.yaml: rule "r1" (rules[0]): when: a threshold rule needs at least one condition`},
		{"bad op", rule(`kind: threshold, when: ["aqi ~ 3"]`), `f.yaml: rule "r1" (rules[0]): when[0]: "aqi ~ 3": want <property> <op> <value>`},
		{"no value", rule(`kind: threshold, when: ["aqi >= "]`), `when[0]: "aqi >= ": no value after >=`},
		{"string order", rule(`kind: threshold, when: ["state > on"]`), `when[0]: "state > on": > compares numbers`},
		{"bad in", rule(`kind: threshold, when: ["state in on"]`), `when[0]: "state in on": in wants a JSON array`},
		{"bad severity", head + "  - {name: r1, layer: a.b, kind: stale, category: c, severity: high}\n", `rule "r1" (rules[0]): severity: want info, minor, major or critical, got "high"`},
		{"bad category", head + "  - {name: r1, layer: a.b, kind: stale, category: Air, severity: info}\n", `rule "r1" (rules[0]): category: want a lower-case word`},
		{"no layer", head + "  - {name: r1, kind: stale, category: c, severity: info}\n", `rule "r1" (rules[0]): layer: required`},
		{"own layer", head + "  - {name: r1, layer: ioc.incidents, kind: stale, category: c, severity: info}\n", `layer: rules cannot watch ioc.incidents itself`},
		{"no name", head + "  - {layer: a.b, kind: stale, category: c, severity: info}\n", `rule "" (rules[0]): name: required`},
		{"duplicate", rule("kind: stale") + "  - {name: r1, layer: a.b, kind: stale, category: c, severity: info}\n", `rule "r1" (rules[1]): name: used by an earlier rule`},
		{"rate property", rule("kind: rate, perHour: 5"), `rule "r1" (rules[0]): property: a rate rule needs`},
		{"rate zero", rule("kind: rate, property: depth"), `perHour: want a non-zero rate`},
		{"count small", rule("kind: count, count: 1, radius: 300, window: 30m"), `count: want at least 2, got 1`},
		{"count radius", rule("kind: count, count: 3, window: 30m"), `radius: want metres > 0, got 0`},
		{"count window", rule("kind: count, count: 3, radius: 300"), `window: a count rule needs`},
		{"for on stale", rule("kind: stale, for: 5m"), `for: only threshold rules are sustained`},
		{"bad duration", rule("kind: stale, clearAfter: soon"), `want a non-negative duration such as 30m, got "soon"`},
		{"fusion radius", head + "fusion:\n  - {name: f, categories: [a, b], window: 1h}\n", `fusion "f" (fusion[0]): radius: want metres > 0`},
		{"fusion twice", head + "fusion:\n  - {name: f, categories: [a, b], radius: 1, window: 1h}\n  - {name: g, categories: [b], radius: 1, window: 1h}\n",
			`fusion "g" (fusion[1]): categories: "b" is already in fusion "f"`},
		{"raise", head + "fusion:\n  - {name: f, categories: [a], radius: 1, window: 1h, raise: {layers: 1, severity: major}}\n", `raise.layers: want at least 2, got 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRules("f.yaml", []byte(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

// Conditions at their edges: reaching a threshold counts for >=, not for >.
func TestConditionEdges(t *testing.T) {
	tests := []struct {
		cond         string
		props        map[string]any
		holds, known bool
	}{
		{"aqi >= 151", map[string]any{"aqi": 150.0}, false, true},
		{"aqi >= 151", map[string]any{"aqi": 151.0}, true, true},
		{"rain3h > 50", map[string]any{"rain3h": 50.0}, false, true},
		{"rain3h > 50", map[string]any{"rain3h": 50.01}, true, true},
		{"depth >= 20", map[string]any{"depth": 19.9}, false, true},
		{"depth >= 20", map[string]any{"depth": 20.0}, true, true},
		{"level < 1", map[string]any{"level": 0.99}, true, true},
		{"level <= 1", map[string]any{"level": 1.0}, true, true},
		{"warningLevel == 2", map[string]any{"warningLevel": 2.0}, true, true},
		{"warningLevel != 2", map[string]any{"warningLevel": 2.0}, false, true},
		{"state == no_power", map[string]any{"state": "no_power"}, true, true},
		{`state == "no_power"`, map[string]any{"state": "on"}, false, true},
		{"state != on", map[string]any{"state": "off"}, true, true},
		{"flooded == true", map[string]any{"flooded": true}, true, true},
		{"flooded == true", map[string]any{"flooded": false}, false, true},
		{`category in ["a","b"]`, map[string]any{"category": "b"}, true, true},
		{`category in ["a","b"]`, map[string]any{"category": "c"}, false, true},
		{"aqi >= 151", map[string]any{}, false, false},                    // missing: neither raises nor clears
		{"aqi >= 151", map[string]any{"aqi": "high"}, false, false},       // wrong type likewise
		{"aqi != 151", map[string]any{"aqi": nil}, false, false},          // null is absent
		{"state == on", map[string]any{"state": 1.0}, false, false},       // a number for a string
		{"flooded == true", map[string]any{"flooded": "y"}, false, false}, // a string for a bool
	}
	for _, tt := range tests {
		c, err := parseCond(tt.cond)
		if err != nil {
			t.Fatalf("%s: %v", tt.cond, err)
		}
		holds, known := c.holds(tt.props)
		if holds != tt.holds || known != tt.known {
			t.Errorf("%s on %v: got holds=%v known=%v, want %v %v", tt.cond, tt.props, holds, known, tt.holds, tt.known)
		}
	}
}

func TestRateSamples(t *testing.T) {
	var sm samples
	base := scenarioDay
	sm.add(base, 10, hour)
	if _, ok := sm.perHour(hour); ok {
		t.Fatal("one reading has no rate")
	}
	sm.add(base.Add(10*minute), 12, hour)
	if _, ok := sm.perHour(hour); ok {
		t.Fatal("10 minutes is under a third of the window: no rate yet")
	}
	sm.add(base.Add(20*minute), 15, hour)
	if r, ok := sm.perHour(hour); !ok || r != 15 {
		t.Fatalf("got %v %v, want +15/h over 20 minutes", r, ok)
	}
	sm.add(base.Add(5*minute), 11, hour) // late reading placed in order
	sm.add(base.Add(90*minute), 30, hour)
	if len(sm.t) != 1 || !sm.t[0].Equal(base.Add(90*minute)) {
		t.Fatalf("readings more than the window older than the newest are dropped: %v", sm.t)
	}
	sm.add(base.Add(90*minute), 31, hour) // a resend replaces
	if len(sm.v) != 1 || sm.v[0] != 31 {
		t.Fatalf("a resend at the same time replaces the reading: %v", sm.v)
	}
}

const (
	minute = time.Minute
	hour   = time.Hour
)
