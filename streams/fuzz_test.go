package streams

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/danang-ioc/ioc/layers"
)

// seedInputs are the table cases plus a few bodies of several events.
func seedInputs() []string {
	var seeds []string
	for _, cs := range [][]eventCase{acceptCases(), jsonCases(), memberCases(), geometryCases(), timeAndPropertyCases()} {
		for _, c := range cs {
			seeds = append(seeds, c.in)
		}
	}
	return seeds
}

// checkEvent asserts what the layers rely on for every accepted event.
func checkEvent(t *testing.T, e layers.Event) {
	t.Helper()
	if e.Properties != nil {
		if !stdjson.Valid(e.Properties) || e.Properties[0] != '{' || !utf8.Valid(e.Properties) {
			t.Fatalf("properties %q are not a valid JSON object", e.Properties)
		}
		var buf bytes.Buffer
		if err := stdjson.Compact(&buf, e.Properties); err != nil || !bytes.Equal(buf.Bytes(), e.Properties) {
			t.Fatalf("properties %q are not compact", e.Properties)
		}
	}
	if e.Op == layers.OpUpsert && e.Geometry == nil {
		t.Fatal("upsert without geometry")
	}
	if checkLayerName(e.Layer) != "" || e.Layer == "" {
		t.Fatalf("layer %q accepted", e.Layer)
	}
	if e.ID == "" || len(e.ID) > MaxIDLen || checkText(e.ID) != "" {
		t.Fatalf("id %q accepted", e.ID)
	}
	if e.Time.IsZero() {
		t.Fatal("zero time")
	}
	// The encoded feature is embedded in outgoing messages: it must be JSON.
	if e.Geometry != nil {
		if b := layers.AppendJSONString(nil, e.ID); !stdjson.Valid(b) {
			t.Fatalf("id %q encodes to invalid JSON %q", e.ID, b)
		}
	}
}

func FuzzDecodeEvent(f *testing.F) {
	for _, s := range seedInputs() {
		f.Add([]byte(s))
	}
	d := testDecoder(paris)
	f.Fuzz(func(t *testing.T, in []byte) {
		e, err := d.DecodeEvent(in)
		if err != nil {
			var ee *EventError
			if !errors.As(err, &ee) || ee.Reason == "" || ee.Msg == "" || !utf8.ValidString(ee.Error()) {
				t.Fatalf("bad error %#v", err)
			}
			// The scanner refuses no JSON object that encoding/json takes,
			// except for its tighter nesting limit.
			trimmed := bytes.TrimSpace(in)
			if ee.Reason == ReasonInvalidJSON && stdjson.Valid(in) && len(trimmed) > 0 && trimmed[0] == '{' &&
				!strings.Contains(ee.Msg, "nesting") {
				t.Fatalf("valid JSON %q refused: %v", in, ee)
			}
			return
		}
		checkEvent(t, e)
		// An accepted event came from valid JSON, as encoding/json sees it.
		if !stdjson.Valid(in) {
			t.Fatalf("accepted invalid JSON %q", in)
		}
	})
}

func FuzzDecodeBatch(f *testing.F) {
	for _, s := range seedInputs() {
		f.Add([]byte(s), false)
		f.Add([]byte("["+s+","+ev("")+"]"), false)
		f.Add([]byte(s+"\n\n"+ev("")+"\n"), true)
	}
	f.Add([]byte(strings.Repeat("[", 300)), false)
	d := testDecoder(paris)
	f.Fuzz(func(t *testing.T, in []byte, ndjson bool) {
		format := FormatJSON
		if ndjson {
			format = FormatNDJSON
		}
		b, err := d.DecodeBatch(in, format)
		if err != nil {
			var be *BatchError
			if !errors.As(err, &be) || be.Code == "" || !utf8.ValidString(be.Msg) {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		for _, e := range b.Events {
			checkEvent(t, e)
		}
		if n := elements(in, format); b.Len() != n {
			t.Fatalf("accepted %d + rejected %d != %d elements", len(b.Events), len(b.Rejected), n)
		}
		checkRejections(t, b)
	})
}

// elements counts the events of a body that decoded without a BatchError,
// independently of the decoder: array elements per encoding/json, or
// non-blank lines.
func elements(in []byte, f Format) int {
	in = bytes.TrimPrefix(in, []byte("\xef\xbb\xbf"))
	if f == FormatNDJSON {
		n := 0
		for line := range bytes.SplitSeq(in, []byte("\n")) {
			if len(bytes.Trim(line, " \t\r")) > 0 {
				n++
			}
		}
		return n
	}
	var arr []stdjson.RawMessage
	if stdjson.Unmarshal(in, &arr) == nil {
		return len(arr)
	}
	return 1 // a single object, or a broken one rejected as event 0
}

func checkRejections(t *testing.T, b *Batch) {
	t.Helper()
	last := -1
	for _, r := range b.Rejected {
		if r.Index <= last || r.Index >= b.Len() || r.Reason == "" || !utf8.ValidString(r.Error) {
			t.Fatalf("bad rejection %+v (previous index %d, %d events)", r, last, b.Len())
		}
		last = r.Index
	}
}
