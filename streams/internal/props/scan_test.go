package props

import (
	"maps"
	"testing"

	"github.com/goccy/go-json"
)

// scanSeeds are inputs on both sides of what parseCompact accepts.
var scanSeeds = []string{
	`{}`, `{"a":1}`, `{"a":null}`, `{"a":1,"a":null}`, `{"a":null,"a":2}`, `{"a":1,"a":2}`,
	`{"a":-0.5e+10,"b":0,"c":-0,"d":1E5,"e":12.250}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`,
	`{"a":"x\u00e9\n\"\\\/"}`, `{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\x01\"}", `{"a":"Đà Nẵng"}`, "{\"a\":\"\xff\"}",
	`{"é":1}`, `{"a\"b":1}`, `{"a":[1, 2],"b":{"c":[true,false,null]}}`, `{"a":[1,}`, `{"a":[1]]}`, `{"a":{"b":1]}`,
	`{"a":true,"b":false}`, `{"a":tru}`, `{"a":nul}`, `{"a":1,}`, `{,"a":1}`, `{"a":1"b":2}`, `{"a" :1}`, `{ "a":1}`,
	`{"a":1} `, `{"a":1}x`, `{"a":1}}`, `{"a"}`, `{"a":}`, `{"a"`, `{`, `}`, `[1]`, `"x"`, `1`, `{"a":"}`, `{"a":"\"}`,
	`{"":1}`, `{"a":"x"}{"b":1}`, `{"a":[[[[[[]]]]]]}`, `{"a":[{"b":"]"}]}`,
}

// FuzzParse checks that the compact scanner gives what the JSON decoder
// gives, error messages included, on any input.
func FuzzParse(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) == 0 {
			return
		}
		got, gotErr := Parse(json.RawMessage(raw))
		want, wantErr := parseGeneric(json.RawMessage(raw))
		if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
			t.Fatalf("%q: error %v, want %v", raw, gotErr, wantErr)
		}
		if !maps.EqualFunc(got, want, func(a, b json.RawMessage) bool { return string(a) == string(b) }) {
			t.Fatalf("%q: got %q, want %q", raw, got, want)
		}
	})
}

// TestParseCompactTakes checks the fast path does take the input the
// decoder gives the modules, so the benchmarks measure it.
func TestParseCompactTakes(t *testing.T) {
	for _, s := range []string{`{}`, `{"a":1,"b":"x\"y","c":[1, 2],"d":null,"e":"Đà Nẵng","f":-1.5e3}`} {
		if _, ok := parseCompact([]byte(s)); !ok {
			t.Errorf("%s: not taken", s)
		}
	}
}
