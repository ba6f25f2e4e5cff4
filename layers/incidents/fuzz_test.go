package incidents

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// FuzzParseRules: any bytes either fail with an error naming the file or
// give a rule set whose every rule is valid and indexed without panic.
func FuzzParseRules(f *testing.F) {
	f.Add(defaultRules)
	f.Add([]byte("version: 1\nrules:\n  - {name: a, layer: x.y, kind: count, count: 3, radius: 300, window: 30m, category: c, severity: info}\n"))
	f.Add([]byte("version: 1\nrules:\n  - {name: a, layer: x.y, kind: threshold, when: ['v in [1,\"a\",true]'], category: c, severity: info}\n"))
	f.Add([]byte("version: 1\nfusion:\n  - {name: f, categories: [a], radius: 1, window: 1s, raise: {layers: 2, severity: major}}\n"))
	f.Add([]byte("version: 1\nrules: [&a {name: x}, *a]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := ParseRules("fuzz.yaml", b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, r := range rs.Rules {
			if err := r.validate(); err != nil {
				t.Fatalf("accepted an invalid rule: %v", err)
			}
		}
		e := &Engine{rules: rs, byLayer: map[string]*layerIndex{}, byName: map[string]*Rule{}, groupOf: map[string]*Fusion{}}
		e.index()
	})
}

// FuzzDecodeAction: any body either fails with an error naming a field or
// decodes to a valid action that survives a round trip.
func FuzzDecodeAction(f *testing.F) {
	for _, s := range []string{`{"action":"acknowledge"}`, `{"action":"assign","team":"rescue-1"}`,
		`{"action":"comment","text":"xin chào","by":"lan"}`, `{"action":"severity","severity":"critical"}`,
		`{"action":"task","team":"t","status":"on_site"}`, `{"action":"resolve"} x`, `[]`, `{"action":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := DecodeAction(bytes.NewReader(b))
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Fatalf("error names no field: %v", err)
			}
			return
		}
		again, err := DecodeAction(bytes.NewReader(mustJSON(t, a)))
		if err != nil || again != a {
			t.Fatalf("round trip: %+v -> %+v, %v", a, again, err)
		}
		if !json.Valid(mustJSON(t, a)) {
			t.Fatal("invalid JSON")
		}
	})
}
