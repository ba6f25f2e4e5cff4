package streams

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/geo"
)

func decodeBatch(t *testing.T, body string, f Format) (*Batch, *BatchError) {
	t.Helper()
	b, err := testDecoder(geo.Rect{}).DecodeBatch([]byte(body), f)
	if err != nil {
		var be *BatchError
		if !errors.As(err, &be) {
			t.Fatalf("error %T %v, want *BatchError", err, err)
		}
		return nil, be
	}
	return b, nil
}

func indexes(b *Batch) (idx, lines []int, reasons []Reason) {
	for _, r := range b.Rejected {
		idx = append(idx, r.Index)
		lines = append(lines, r.Line)
		reasons = append(reasons, r.Reason)
	}
	return idx, lines, reasons
}

func TestDecodeBatchArray(t *testing.T) {
	body := "[" + strings.Join([]string{
		ev(""),                 // 0 ok
		`{"layer":"a"}`,        // 1 missing id
		ev(`"id":"st-02"`),     // 2 ok
		`5`,                    // 3 not an object
		ev(`"op":"remove"`),    // 4 unknown op
		"{\"id\":\"\xff\"}",    // 5 invalid UTF-8, structure still fine
		ev(`"id":"st-03"`),     // 6 ok
		ev(`"time":"noon"`),    // 7 invalid time
		ev(`"properties":[1]`), // 8 invalid properties
	}, ",\n ") + "]"
	b, be := decodeBatch(t, body, FormatJSON)
	if be != nil {
		t.Fatal(be)
	}
	idx, _, reasons := indexes(b)
	wantIdx := []int{1, 3, 4, 5, 7, 8}
	wantReasons := []Reason{ReasonMissingID, ReasonInvalidJSON, ReasonUnknownOp, ReasonInvalidUTF8, ReasonInvalidTime, ReasonInvalidProperties}
	if len(b.Events) != 3 || !equal(idx, wantIdx) || !equal(reasons, wantReasons) {
		t.Fatalf("accepted %d, rejected %v %v; want 3, %v %v", len(b.Events), idx, reasons, wantIdx, wantReasons)
	}
	for i, id := range []string{"st-01", "st-02", "st-03"} {
		if b.Events[i].ID != id {
			t.Errorf("event %d id %q, want %q (body order)", i, b.Events[i].ID, id)
		}
	}
	if b.Len() != 9 {
		t.Errorf("Len %d, want 9", b.Len())
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDecodeBatchWholeBodyErrors(t *testing.T) {
	off := func(n int) string { return "byte offset " + strconv.Itoa(len(ev(""))+n) }
	cases := []struct {
		name, body string
		f          Format
		code       string
		want       []string
	}{
		{"empty", "", FormatJSON, ErrEmptyBody, []string{"empty"}},
		{"blank", " \r\n\t", FormatJSON, ErrEmptyBody, nil},
		{"empty array", " [ ] ", FormatJSON, ErrEmptyBatch, []string{"no events"}},
		{"string body", `"hello"`, FormatJSON, ErrInvalidJSON, []string{"byte offset 0", "array of events"}},
		{"garbage", `xyz`, FormatJSON, ErrInvalidJSON, []string{"character 'x'"}},
		{"unclosed array", "[" + ev(""), FormatJSON, ErrInvalidJSON, []string{"end of input", "no event was taken"}},
		{"broken element", "[" + ev("") + `,{"layer":"a",]`, FormatJSON, ErrInvalidJSON, []string{off(15)}},
		{"trailing comma", "[" + ev("") + ",]", FormatJSON, ErrInvalidJSON, []string{"trailing comma", off(2)}},
		{"missing comma", "[" + ev("") + ev("") + "]", FormatJSON, ErrInvalidJSON, []string{"',' or ']'", off(1)}},
		{"after array", "[" + ev("") + "] x", FormatJSON, ErrInvalidJSON, []string{"after the array"}},
		{"deep array", strings.Repeat("[", 1<<16), FormatJSON, ErrInvalidJSON, []string{"nesting"}},
		{"ndjson empty", "", FormatNDJSON, ErrEmptyBody, nil},
		{"ndjson blank lines", "\n \r\n\n", FormatNDJSON, ErrEmptyBody, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, be := decodeBatch(t, c.body, c.f)
			if be == nil || be.Code != c.code {
				t.Fatalf("got %v, want code %s", be, c.code)
			}
			for _, w := range c.want {
				if !strings.Contains(be.Msg, w) {
					t.Errorf("message %q does not mention %q", be.Msg, w)
				}
			}
		})
	}
}

func TestDecodeBatchSingleObject(t *testing.T) {
	b, be := decodeBatch(t, "\xef\xbb\xbf"+ev(""), FormatJSON) // with a BOM
	if be != nil || len(b.Events) != 1 {
		t.Fatalf("got %v %v", b, be)
	}
	b, be = decodeBatch(t, `{"layer":"a",`, FormatJSON)
	if be != nil || len(b.Rejected) != 1 || b.Rejected[0].Index != 0 || b.Rejected[0].Reason != ReasonInvalidJSON {
		t.Fatalf("broken single object: got %+v %v, want one invalid_json rejection at index 0", b, be)
	}
}

func TestDecodeBatchNDJSON(t *testing.T) {
	body := strings.Join([]string{
		ev(""),                    // line 1, index 0 ok
		"",                        // line 2 blank
		`{"layer":"a","id":`,      // line 3, index 1: broken JSON
		"  \t",                    // line 4 blank
		ev(`"id":"st-02"`) + "\r", // line 5, index 2 ok, CRLF
		ev(`"op":"x"`),            // line 6, index 3 unknown op
		ev("") + " " + ev(""),     // line 7, index 4 two objects
		"[]",                      // line 8, index 5 not an object
		ev(`"id":"st-03"`),        // line 9, index 6 ok, no final newline
	}, "\n")
	b, be := decodeBatch(t, body, FormatNDJSON)
	if be != nil {
		t.Fatal(be)
	}
	idx, lines, reasons := indexes(b)
	if len(b.Events) != 3 || !equal(idx, []int{1, 3, 4, 5}) || !equal(lines, []int{3, 6, 7, 8}) ||
		!equal(reasons, []Reason{ReasonInvalidJSON, ReasonUnknownOp, ReasonInvalidJSON, ReasonInvalidJSON}) {
		t.Fatalf("accepted %d, rejected idx %v lines %v reasons %v", len(b.Events), idx, lines, reasons)
	}
	// Offsets are offsets in the body: line 3 starts after two lines.
	wantOff := len(ev("")) + 2 + len(`{"layer":"a","id":`)
	if !strings.Contains(b.Rejected[0].Error, "byte offset "+strconv.Itoa(wantOff)) {
		t.Errorf("line 3 error %q, want byte offset %d", b.Rejected[0].Error, wantOff)
	}
	if b.Events[2].ID != "st-03" {
		t.Errorf("last event %+v", b.Events[2])
	}
}

func TestDecodeBatchMaxBatch(t *testing.T) {
	d := NewDecoder(DecoderConfig{MaxBatch: 3, Now: func() time.Time { return testNow }})
	three := []string{ev(""), ev(""), ev("")}
	four := append(three, ev(""))
	for _, c := range []struct {
		body string
		f    Format
		ok   bool
	}{
		{"[" + strings.Join(three, ",") + "]", FormatJSON, true},
		{"[" + strings.Join(four, ",") + "]", FormatJSON, false},
		{strings.Join(three, "\n\n") + "\n", FormatNDJSON, true},
		{strings.Join(four, "\n"), FormatNDJSON, false},
	} {
		b, err := d.DecodeBatch([]byte(c.body), c.f)
		var be *BatchError
		if c.ok && (err != nil || len(b.Events) != 3) {
			t.Errorf("%q: got %v, want 3 events", c.body, err)
		}
		if !c.ok && (!errors.As(err, &be) || be.Code != ErrTooManyEvents || !strings.Contains(be.Msg, "more than 3")) {
			t.Errorf("%q: got %v, want too_many_events", c.body, err)
		}
	}
}

func TestDecodeBatchOneClockReading(t *testing.T) {
	calls := 0
	d := NewDecoder(DecoderConfig{Now: func() time.Time { calls++; return testNow.Add(time.Duration(calls)) }})
	b, err := d.DecodeBatch([]byte("["+ev("")+","+ev("")+"]"), FormatJSON)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 || !b.Events[0].Time.Equal(b.Events[1].Time) {
		t.Fatalf("clock read %d times, times %v %v: want one reading for the body", calls, b.Events[0].Time, b.Events[1].Time)
	}
}

func TestDecodeBatchDoesNotAliasBody(t *testing.T) {
	body := []byte("[" + ev(`"properties":{"a":1}`) + "]")
	b, err := testDecoder(geo.Rect{}).DecodeBatch(body, FormatJSON)
	if err != nil {
		t.Fatal(err)
	}
	clear(body)
	e := b.Events[0]
	if e.Layer != "environment.air" || e.ID != "st-01" || string(e.Properties) != `{"a":1}` {
		t.Fatalf("event changed with the body: %+v", e)
	}
}
