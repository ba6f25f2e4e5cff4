package incidents

import (
	"encoding/json"
	"reflect"
	"testing"
)

// extract reads exactly what a full decode reads, for the scalar members
// asked for, and refuses what is not an object.
func TestExtract(t *testing.T) {
	tests := []struct {
		raw  string
		want map[string]any
		bad  bool
	}{
		{`{}`, map[string]any{}, false},
		{`{"aqi":151,"aqiBand":"bad","aqiSubIndex":{"pm25":151,"aqi":1},"open":true,"x":null}`, map[string]any{"aqi": 151.0, "aqiBand": "bad", "open": true}, false},
		{`{"statusHistory":[{"aqi":"no"}],"aqi":-1.5e2}`, map[string]any{"aqi": -150.0}, false},
		{` { "aqi" : 3 , "state" : "a\"b\u00e9" } `, map[string]any{"aqi": 3.0, "state": "a\"bé"}, false},
		{`{"a\u0071i":7}`, map[string]any{"aqi": 7.0}, false},
		{`[1]`, nil, true},
		{`{"aqi":1`, nil, true},
		{`{"aqi" 1}`, nil, true},
		{`{"aqi":}`, nil, true},
		{`{"aqi":[1,{"x":"]"}`, nil, true},
	}
	need := map[string]bool{"aqi": true, "aqiBand": true, "open": true, "state": true, "x": true}
	for _, tt := range tests {
		got := map[string]any{}
		err := extract([]byte(tt.raw), need, got)
		if (err != nil) != tt.bad {
			t.Errorf("%s: error %v", tt.raw, err)
			continue
		}
		if !tt.bad && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.raw, got, tt.want)
		}
	}
}

// FuzzExtract: on any JSON object, extract agrees with encoding/json for
// every scalar member; on anything else it returns an error or agrees.
func FuzzExtract(f *testing.F) {
	for _, s := range []string{`{"aqi":151,"band":"bad"}`, `{"a":{"b":[1,"}"]},"c":true}`, `{"s":"\u00e9\"","n":null,"f":-0.5e-3}`, `[]`, `{"a":1,}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var full map[string]any
		valid := json.Unmarshal(raw, &full) == nil && full != nil
		need := map[string]bool{}
		for k := range full {
			need[k] = true
		}
		got := map[string]any{}
		err := extract(raw, need, got)
		if !valid {
			return // extract may or may not refuse; it must not panic
		}
		if err != nil {
			t.Fatalf("valid object refused: %v", err)
		}
		for k, v := range full {
			switch v.(type) {
			case float64, string, bool:
				if got[k] != v {
					t.Fatalf("%q: got %v, want %v", k, got[k], v)
				}
			default:
				if _, ok := got[k]; ok {
					t.Fatalf("%q: a %T must not be extracted", k, v)
				}
			}
		}
	})
}
