package props

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-json"
	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
)

// mustParse parses a fixture, failing the test on a bad one.
func mustParse(t *testing.T, raw string) Props {
	t.Helper()
	p, err := Parse(json.RawMessage(raw))
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return p
}

// checkErr checks that err is an *streams.EventError with the given
// reason and path, and whose message is msg (or starts with it when msg
// ends in "...").
func checkErr(t *testing.T, err error, reason streams.Reason, path, msg string) {
	t.Helper()
	var ee *streams.EventError
	if !errors.As(err, &ee) {
		t.Fatalf("error %v is not an *EventError", err)
	}
	prefix, cut := strings.CutSuffix(msg, "...")
	ok := ee.Msg == msg || cut && strings.HasPrefix(ee.Msg, prefix)
	if ee.Reason != reason || ee.Path != path || !ok {
		t.Errorf("got %s %s: %q\nwant %s %s: %q", ee.Reason, ee.Path, ee.Msg, reason, path, msg)
	}
}

func TestParse(t *testing.T) {
	cases := []struct {
		name, raw string
		want      string // the set encoded; "" for an empty set
		err       string // the error message, or its start followed by ...
	}{
		{"nil", "", "", ""},
		{"empty object", `{}`, "", ""},
		{"values pass through byte for byte", `{"b":1.50,"a":"x\u00e9","c":[1, 2],"d":{"e":true}}`,
			`{"a":"x\u00e9","b":1.50,"c":[1, 2],"d":{"e":true}}`, ""},
		{"null is absent", `{"a":null,"b":false}`, `{"b":false}`, ""},
		{"only nulls", `{"a":null}`, "", ""},
		{"white space between members is dropped", "{ \"b\" : 2 ,\n \"a\" : 1 }", `{"a":1,"b":2}`, ""},
		{"an array", `[1,2]`, "", "properties must be a JSON object: ..."},
		{"a string", `"x"`, "", "properties must be a JSON object: ..."},
		{"bad JSON", `{"a":}`, "", "properties must be a JSON object: ..."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse(json.RawMessage(c.raw))
			if c.err != "" {
				checkErr(t, err, streams.ReasonInvalidProperties, "properties", c.err)
				if p != nil {
					t.Errorf("properties %v with the error", p)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p == nil {
				t.Fatal("nil set")
			}
			if got := string(p.Encode()); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

func TestFromEvent(t *testing.T) {
	pt := geom.NewPointFlat(geom.XY, []float64{108.2, 16.0})
	p, err := FromEvent(layers.Event{Layer: "x.y", Geometry: pt, Properties: json.RawMessage(`{"a":1}`)}, "Point")
	if err != nil || string(p["a"]) != "1" {
		t.Errorf("point: %v %v", p, err)
	}
	line := geom.NewLineStringFlat(geom.XY, []float64{108.2, 16.0, 108.3, 16.1})
	_, err = FromEvent(layers.Event{Layer: "x.y", Geometry: line, Properties: json.RawMessage(`[`)}, "Point")
	checkErr(t, err, streams.ReasonUnsupportedGeom, "geometry.type", "x.y takes Point geometries, found LineString")
	_, err = FromEvent(layers.Event{Layer: "x.y", Geometry: pt, Properties: json.RawMessage(`[`)}, "Point")
	checkErr(t, err, streams.ReasonInvalidProperties, "properties", "properties must be a JSON object: ...")
}

func TestInvalidAndPath(t *testing.T) {
	err := Invalid(Path("depth"), "%s is required (%d)", "depth", 3)
	checkErr(t, err, streams.ReasonInvalidProperties, "properties.depth", "depth is required (3)")
	if got := err.Error(); !strings.Contains(got, "properties.depth") || !strings.Contains(got, "depth is required (3)") {
		t.Errorf("Error() %q", got)
	}
}

func TestAlias(t *testing.T) {
	cases := []struct {
		name, raw, want string
	}{
		{"first present alias is renamed", `{"b":2,"c":3}`, `{"a":2,"c":3}`},
		{"later alias when the first is absent", `{"c":3}`, `{"a":3}`},
		{"canonical present: aliases stay", `{"a":1,"b":2}`, `{"a":1,"b":2}`},
		{"none present", `{"x":1}`, `{"x":1}`},
		{"null canonical is absent", `{"a":null,"b":2}`, `{"a":2}`},
	}
	for _, c := range cases {
		p := mustParse(t, c.raw)
		p.Alias("a", "b", "c")
		if got := string(p.Encode()); got != c.want {
			t.Errorf("%s: %s gives %s, want %s", c.name, c.raw, got, c.want)
		}
	}
}

// validation is one call of a reader on one set of properties.
type validation struct {
	name string
	raw  string
	read func(Props) (any, bool, error)
	want any    // the value, when valid and present
	ok   bool   // present and valid
	path string // the error's path, or "" for no error
	msg  string // the error's message
}

func num(name string) func(Props) (any, bool, error) {
	return func(p Props) (any, bool, error) { return p.Num(name) }
}

func nonNeg(name, unit string) func(Props) (any, bool, error) {
	return func(p Props) (any, bool, error) { return p.NonNeg(name, unit) }
}

func within(name string, lo, hi float64) func(Props) (any, bool, error) {
	return func(p Props) (any, bool, error) { return p.Within(name, lo, hi) }
}

func count(name string) func(Props) (any, bool, error) {
	return func(p Props) (any, bool, error) { return p.Count(name) }
}

func str(name string) func(Props) (any, bool, error) {
	return func(p Props) (any, bool, error) { return p.Str(name) }
}

func enum(name string, valid ...string) func(Props) (any, bool, error) {
	return func(p Props) (any, bool, error) { return p.Enum(name, valid) }
}

func requireEnum(name string, valid ...string) func(Props) (any, bool, error) {
	return func(p Props) (any, bool, error) {
		s, err := p.RequireEnum(name, valid)
		return s, err == nil, err
	}
}

func boolean(name string) func(Props) (any, bool, error) {
	return func(p Props) (any, bool, error) { return p.Bool(name) }
}

func TestReaders(t *testing.T) {
	long := `"` + strings.Repeat("x", 50) + `"`
	cases := []validation{
		// Num
		{"num", `{"v":12.5}`, num("v"), 12.5, true, "", ""},
		{"num negative exponent", `{"v":-1e-3}`, num("v"), -0.001, true, "", ""},
		{"num absent", `{}`, num("v"), 0.0, false, "", ""},
		{"num null is absent", `{"v":null}`, num("v"), 0.0, false, "", ""},
		{"num string", `{"v":"12"}`, num("v"), nil, false, "properties.v", `v must be a number, found a string "12"`},
		{"num boolean", `{"v":true}`, num("v"), nil, false, "properties.v", "v must be a number, found a boolean true"},
		{"num object", `{"v":{"a":1}}`, num("v"), nil, false, "properties.v", `v must be a number, found an object {"a":1}`},
		{"num array", `{"v":[1]}`, num("v"), nil, false, "properties.v", "v must be a number, found an array [1]"},
		{"num long value is clipped", `{"v":` + long + `}`, num("v"), nil, false, "properties.v",
			`v must be a number, found a string "` + strings.Repeat("x", 36) + "..."},
		{"num out of range", `{"v":1e999}`, num("v"), nil, false, "properties.v", "v is out of range: 1e999"},
		{"num negative out of range", `{"v":-1e999}`, num("v"), nil, false, "properties.v", "v is out of range: -1e999"},
		// NonNeg
		{"nonNeg zero", `{"v":0}`, nonNeg("v", "mm"), 0.0, true, "", ""},
		{"nonNeg", `{"v":3}`, nonNeg("v", "mm"), 3.0, true, "", ""},
		{"nonNeg absent", `{}`, nonNeg("v", "mm"), 0.0, false, "", ""},
		{"nonNeg negative", `{"v":-0.5}`, nonNeg("v", "mm"), nil, false, "properties.v", "v must be >= 0 mm, got -0.5"},
		{"nonNeg not a number", `{"v":"a"}`, nonNeg("v", "mm"), nil, false, "properties.v", `v must be a number, found a string "a"`},
		// Within
		{"within low edge", `{"v":0}`, within("v", 0, 1), 0.0, true, "", ""},
		{"within high edge", `{"v":1}`, within("v", 0, 1), 1.0, true, "", ""},
		{"within absent", `{}`, within("v", 0, 1), 0.0, false, "", ""},
		{"within above", `{"v":1.5}`, within("v", 0, 1), nil, false, "properties.v", "v must be between 0 and 1, got 1.5"},
		{"within below", `{"v":-5}`, within("v", -2.5, 250), nil, false, "properties.v", "v must be between -2.5 and 250, got -5"},
		// Count
		{"count", `{"v":42}`, count("v"), 42, true, "", ""},
		{"count zero", `{"v":0}`, count("v"), 0, true, "", ""},
		{"count as float", `{"v":7.0}`, count("v"), 7, true, "", ""},
		{"count largest", `{"v":1e15}`, count("v"), 1000000000000000, true, "", ""},
		{"count absent", `{}`, count("v"), 0, false, "", ""},
		{"count fraction", `{"v":2.5}`, count("v"), nil, false, "properties.v", "v must be a whole number >= 0, got 2.5"},
		{"count negative", `{"v":-1}`, count("v"), nil, false, "properties.v", "v must be a whole number >= 0, got -1"},
		{"count too large", `{"v":2e15}`, count("v"), nil, false, "properties.v", "v must be a whole number >= 0, got 2000000000000000"},
		// Str
		{"str", `{"v":"Hải Châu"}`, str("v"), "Hải Châu", true, "", ""},
		{"str empty", `{"v":""}`, str("v"), "", true, "", ""},
		{"str escapes", `{"v":"a\"b\\c\u00e9\n"}`, str("v"), "a\"b\\cé\n", true, "", ""},
		{"str absent", `{}`, str("v"), "", false, "", ""},
		{"str number", `{"v":17}`, str("v"), nil, false, "properties.v", "v must be a string, found a number 17"},
		{"str bad escape", `{"v":"\x"}`, str("v"), nil, false, "properties.v", "v is not a valid string: ..."},
		// Enum
		{"enum", `{"v":"on"}`, enum("v", "on", "off"), "on", true, "", ""},
		{"enum absent", `{}`, enum("v", "on", "off"), "", false, "", ""},
		{"enum unknown", `{"v":"dim"}`, enum("v", "on", "off"), nil, false, "properties.v", `unknown v "dim": valid values are on, off`},
		{"enum is case-sensitive", `{"v":"ON"}`, enum("v", "on", "off"), nil, false, "properties.v", `unknown v "ON": valid values are on, off`},
		{"enum not a string", `{"v":1}`, enum("v", "on"), nil, false, "properties.v", "v must be a string, found a number 1"},
		// RequireEnum
		{"requireEnum", `{"v":"off"}`, requireEnum("v", "on", "off"), "off", true, "", ""},
		{"requireEnum folds", `{"v":"Flash-ing"}`, requireEnum("v", "on", "flashing"), "flashing", true, "", ""},
		{"requireEnum absent", `{}`, requireEnum("v", "on", "off"), nil, false, "properties.v", "v is required: one of on, off"},
		{"requireEnum null", `{"v":null}`, requireEnum("v", "on", "off"), nil, false, "properties.v", "v is required: one of on, off"},
		{"requireEnum unknown", `{"v":"dim"}`, requireEnum("v", "on", "off"), nil, false, "properties.v", `unknown v "dim": valid values are on, off`},
		{"requireEnum not a string", `{"v":false}`, requireEnum("v", "on"), nil, false, "properties.v", "v must be a string, found a boolean false"},
		// Bool
		{"bool true", `{"v":true}`, boolean("v"), true, true, "", ""},
		{"bool false", `{"v":false}`, boolean("v"), false, true, "", ""},
		{"bool absent", `{}`, boolean("v"), false, false, "", ""},
		{"bool string", `{"v":"true"}`, boolean("v"), nil, false, "properties.v", `v must be true or false, found a string "true"`},
		{"bool number", `{"v":1}`, boolean("v"), nil, false, "properties.v", "v must be true or false, found a number 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, ok, err := c.read(mustParse(t, c.raw))
			if c.path != "" {
				checkErr(t, err, streams.ReasonInvalidProperties, c.path, c.msg)
				if ok {
					t.Error("ok with an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ok != c.ok || v != c.want {
				t.Errorf("got %#v %v, want %#v %v", v, ok, c.want, c.ok)
			}
		})
	}
}

func TestKind(t *testing.T) {
	cases := map[string]string{"": "nothing", `"a"`: "a string", `{}`: "an object", `[]`: "an array",
		"true": "a boolean", "false": "a boolean", "null": "null", "-1": "a number", "0.5": "a number"}
	for raw, want := range cases {
		if got := kind(json.RawMessage(raw)); got != want {
			t.Errorf("kind(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestClip(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{strings.Repeat("a", 40), strings.Repeat("a", 40)},
		{strings.Repeat("a", 41), strings.Repeat("a", 37) + "..."},
	} {
		if got := clip(json.RawMessage(c.in)); got != c.want {
			t.Errorf("clip(%d bytes) = %q, want %q", len(c.in), got, c.want)
		}
	}
}

func TestSetters(t *testing.T) {
	p := Props{}
	tenth := 0.1
	p.SetNum("num", tenth+0.2)
	p.SetNum("big", 1e21)
	p.SetNum("neg", -2.50)
	p.SetInt("int", -7)
	p.SetStr("str", "Đà \"Nẵng\"\n<b>")
	p.SetTime("time", time.Date(2025, 10, 27, 19, 30, 0, 500, time.FixedZone("ICT", 7*3600)))
	p.SetBool("yes", true)
	p.SetBool("no", false)
	p.SetJSON("json", []map[string]any{{"k": 1}})
	want := map[string]string{
		"num":  "0.30000000000000004",
		"big":  "1000000000000000000000",
		"neg":  "-2.5",
		"int":  "-7",
		"time": `"2025-10-27T12:30:00.0000005Z"`,
		"yes":  "true",
		"no":   "false",
		"json": `[{"k":1}]`,
	}
	for k, w := range want {
		if got := string(p[k]); got != w {
			t.Errorf("%s: %s, want %s", k, got, w)
		}
	}
	if s, ok, err := p.Str("str"); err != nil || !ok || s != "Đà \"Nẵng\"\n<b>" {
		t.Errorf("SetStr does not read back: %q %v %v (raw %s)", s, ok, err, p["str"])
	}
	// Every value set is valid JSON, and the whole set encodes as one.
	var back map[string]any
	if err := json.Unmarshal(p.Encode(), &back); err != nil || len(back) != len(p) {
		t.Errorf("%s: %v", p.Encode(), err)
	}
}

func TestSetJSONPanicsOnWhatCannotBeEncoded(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "props: encoding ch:") {
			t.Errorf("recovered %v", r)
		}
	}()
	Props{}.SetJSON("ch", make(chan int))
}

func TestEncode(t *testing.T) {
	cases := []struct {
		name string
		p    Props
		want string
	}{
		{"nil set", nil, ""},
		{"empty set", Props{}, ""},
		{"keys sorted bytewise", Props{"b": json.RawMessage("2"), "B": json.RawMessage("3"), "a": json.RawMessage("1"), "aa": json.RawMessage("0")},
			`{"B":3,"a":1,"aa":0,"b":2}`},
		{"keys escaped", Props{"say \"hi\"": json.RawMessage("1"), "é": json.RawMessage("2")}, `{"say \"hi\"":1,"é":2}`},
		{"values as they are", Props{"o": json.RawMessage(`{"z":1,"a":[true, null]}`)}, `{"o":{"z":1,"a":[true, null]}}`},
	}
	for _, c := range cases {
		got := c.p.Encode()
		if string(got) != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
		if c.want == "" && got != nil {
			t.Errorf("%s: %q, want nil", c.name, got)
		}
	}
	// The same set always encodes the same, whatever the map's order.
	p := mustParse(t, `{"e":5,"d":4,"c":3,"b":2,"a":1,"f":6,"g":7,"h":8}`)
	first := string(p.Encode())
	for range 20 {
		if got := string(p.Clone().Encode()); got != first {
			t.Fatalf("%s then %s", first, got)
		}
	}
}

func TestCloneIsIndependent(t *testing.T) {
	p := mustParse(t, `{"a":1,"b":"x"}`)
	c := p.Clone()
	c.SetInt("a", 2)
	delete(c, "b")
	c.SetBool("new", true)
	if got := string(p.Encode()); got != `{"a":1,"b":"x"}` {
		t.Errorf("original changed: %s", got)
	}
	if got := string(c.Encode()); got != `{"a":2,"new":true}` {
		t.Errorf("clone: %s", got)
	}
	if c := Props(nil).Clone(); c == nil || len(c) != 0 {
		t.Errorf("clone of nil: %v", c)
	}
}

func TestWith(t *testing.T) {
	ev := layers.Event{Layer: "a.b", ID: "x", Properties: json.RawMessage(`{"old":1}`)}
	out := With(ev, Props{"new": json.RawMessage("2")})
	if string(out.Properties) != `{"new":2}` || out.ID != "x" || out.Layer != "a.b" {
		t.Errorf("%+v", out)
	}
	if string(ev.Properties) != `{"old":1}` {
		t.Errorf("the input event changed: %s", ev.Properties)
	}
	if out := With(ev, Props{}); out.Properties != nil {
		t.Errorf("empty set: %s, want nil", out.Properties)
	}
}

func TestRound(t *testing.T) {
	cases := []struct {
		v        float64
		decimals int
		want     float64
	}{
		{0.30000000000000004, 2, 0.3},
		{0.6667, 2, 0.67},
		{0.665, 2, 0.67}, // 66.5 rounds half away from zero
		{-1.25, 1, -1.3},
		{123.456, 0, 123},
		{1234.5, -2, 1200},
		{2.5, 0, 3},
	}
	for _, c := range cases {
		if got := Round(c.v, c.decimals); got != c.want {
			t.Errorf("Round(%v, %d) = %v, want %v", c.v, c.decimals, got, c.want)
		}
	}
}

func TestFormatNum(t *testing.T) {
	tenth := 0.1
	cases := map[float64]string{0: "0", 2.5: "2.5", -3: "-3", 1e21: "1000000000000000000000", tenth + 0.2: "0.30000000000000004", 1e-7: "0.0000001"}
	for v, want := range cases {
		if got := FormatNum(v); got != want {
			t.Errorf("FormatNum(%v) = %s, want %s", v, got, want)
		}
	}
}

func TestRequireGeom(t *testing.T) {
	pt := geom.NewPointFlat(geom.XY, []float64{108.2, 16.0})
	line := geom.NewLineStringFlat(geom.XY, []float64{108.2, 16.0, 108.3, 16.1})
	cases := []struct {
		name  string
		ev    layers.Event
		types []string
		msg   string // "" when accepted
	}{
		{"listed", layers.Event{Layer: "t.s", Geometry: line}, []string{"LineString", "MultiLineString"}, ""},
		{"not listed", layers.Event{Layer: "t.s", Geometry: pt}, []string{"LineString", "MultiLineString"},
			"t.s takes LineString or MultiLineString geometries, found Point"},
		{"one type", layers.Event{Layer: "e.a", Geometry: line}, []string{"Point"}, "e.a takes Point geometries, found LineString"},
		{"no geometry", layers.Event{Layer: "e.a"}, []string{"Point"}, ""},
		{"delete", layers.Event{Layer: "e.a", Op: layers.OpDelete, Geometry: line}, []string{"Point"}, ""},
	}
	for _, c := range cases {
		err := RequireGeom(c.ev, c.types...)
		if c.msg == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		checkErr(t, err, streams.ReasonUnsupportedGeom, "geometry.type", c.msg)
	}
}

func TestGeomName(t *testing.T) {
	cases := []struct {
		g    geom.T
		want string
	}{
		{geom.NewPoint(geom.XY), "Point"},
		{geom.NewLineString(geom.XY), "LineString"},
		{geom.NewMultiLineString(geom.XY), "MultiLineString"},
		{geom.NewPolygon(geom.XY), "Polygon"},
		{geom.NewMultiPolygon(geom.XY), "MultiPolygon"},
		{geom.NewMultiPoint(geom.XY), "MultiPoint"},
		{geom.NewGeometryCollection(), "*geom.GeometryCollection"},
	}
	for _, c := range cases {
		if got := geomName(c.g); got != c.want {
			t.Errorf("%T: %s, want %s", c.g, got, c.want)
		}
	}
}

func TestSpec(t *testing.T) {
	s := Spec("a.b", "things", 5*time.Minute, nil)
	// LayerSpec holds a Severity (slices), so it is compared field by field.
	if !reflect.DeepEqual(s, streams.LayerSpec{Name: "a.b", Description: "things", Interval: 5 * time.Minute, StaleAfter: 15 * time.Minute}) {
		t.Errorf("default: %+v", s)
	}
	over := map[string]time.Duration{"a.b": 30 * time.Second, "other": time.Hour}
	if s := Spec("a.b", "things", 5*time.Minute, over); s.Interval != 30*time.Second || s.StaleAfter != 90*time.Second {
		t.Errorf("override: %+v", s)
	}
	if s := Spec("c.d", "", time.Minute, over); s.Interval != time.Minute || s.StaleAfter != 3*time.Minute {
		t.Errorf("override of another layer: %+v", s)
	}
}

func TestUnknownLayer(t *testing.T) {
	err := UnknownLayer("traffic", layers.Event{Layer: "traffic.trams"})
	checkErr(t, err, streams.ReasonInvalidLayer, "layer", `layer "traffic.trams" is not one of the traffic module's layers`)
}

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"in_progress":    "inprogress",
		"In Progress":    "inprogress",
		"InProgress":     "inprogress",
		" in-progress. ": "inprogress",
		"Closed.":        "closed",
		"waste water":    "wastewater",
		"Cây đổ":         "câyđổ",
		"PM2.5":          "pm25",
		"":               "",
		"--":             "",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEnumFold(t *testing.T) {
	valid := []string{"in_progress", "bootingUp"}
	p := Props{"a": json.RawMessage(`"In Progress"`), "b": json.RawMessage(`"bootingUp"`), "c": json.RawMessage(`"BOOTING-UP"`),
		"d": json.RawMessage(`"booting"`), "e": json.RawMessage(`3`)}
	for name, want := range map[string]string{"a": "in_progress", "b": "bootingUp", "c": "bootingUp"} {
		if got, ok, err := p.EnumFold(name, valid); got != want || !ok || err != nil {
			t.Errorf("%s: %q %v %v, want %q", name, got, ok, err, want)
		}
		if string(p[name]) != `"`+want+`"` {
			t.Errorf("%s: written back as %s", name, p[name])
		}
	}
	if _, _, err := p.EnumFold("d", valid); err == nil || !strings.Contains(err.Error(), `unknown d "booting": valid values are in_progress, bootingUp`) {
		t.Errorf("d: %v", err)
	}
	if _, _, err := p.EnumFold("e", valid); err == nil || !strings.Contains(err.Error(), "must be a string") {
		t.Errorf("e: %v", err)
	}
	if _, ok, err := p.EnumFold("absent", valid); ok || err != nil {
		t.Errorf("absent: %v %v", ok, err)
	}
}
