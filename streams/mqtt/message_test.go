package mqtt

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
)

var testNow = time.Date(2025, 7, 1, 1, 30, 0, 0, time.UTC)

func testParser(entities EntityDecoder) *parser {
	dec := streams.NewDecoder(streams.DecoderConfig{Now: func() time.Time { return testNow }})
	return &parser{dec: dec, prefix: "ioc/", entities: entities}
}

const point = `"geometry":{"type":"Point","coordinates":[108.22,16.07]}`

func TestParseTopic(t *testing.T) {
	for _, c := range []struct{ topic, layer, id string }{
		{"ioc/traffic.cameras/cam-1", "traffic.cameras", "cam-1"},
		{"ioc/traffic.cameras", "traffic.cameras", ""},
		{"ioc/traffic.cameras/", "traffic.cameras", ""},
		{"ioc/flood.sensors/a/b", "flood.sensors", "a/b"},
		{"ioc//x", "", "x"},
		{"ioc/", "", ""},
		{"other/traffic.cameras/cam-1", "", ""},
		{"iocx/traffic.cameras/cam-1", "", ""},
		{"", "", ""},
	} {
		k := parseTopic("ioc/", c.topic)
		if k.layer != c.layer || k.id != c.id {
			t.Errorf("parseTopic(%q) = %q, %q; want %q, %q", c.topic, k.layer, k.id, c.layer, c.id)
		}
	}
}

// outcome summarises a batch: the accepted events as layer/id, and the
// reasons of the refusals.
func outcome(b *streams.Batch) (events, reasons []string) {
	for _, ev := range b.Events {
		events = append(events, ev.Layer+"/"+ev.ID)
	}
	for _, r := range b.Rejected {
		reasons = append(reasons, string(r.Reason))
	}
	return events, reasons
}

func TestMessageSingle(t *testing.T) {
	p := testParser(nil)
	for _, c := range []struct {
		name, topic, payload string
		events, reasons      string // comma-separated
	}{
		{"complete", "ioc/traffic.cameras/cam-1", `{"layer":"traffic.cameras","id":"cam-1",` + point + `}`, "traffic.cameras/cam-1", ""},
		{"no layer or id", "ioc/traffic.cameras/cam-1", `{` + point + `}`, "traffic.cameras/cam-1", ""},
		{"no layer", "ioc/traffic.cameras/cam-1", `{"id":"cam-1",` + point + `}`, "traffic.cameras/cam-1", ""},
		{"no id", "ioc/traffic.cameras/cam-1", `{"layer":"traffic.cameras",` + point + `}`, "traffic.cameras/cam-1", ""},
		{"null and empty", "ioc/traffic.cameras/cam-1", `{"layer":null,"id":"",` + point + "}\n", "traffic.cameras/cam-1", ""},
		{"id from payload", "ioc/traffic.cameras", `{"id":"cam-9",` + point + `}`, "traffic.cameras/cam-9", ""},
		{"numeric id", "ioc/traffic.cameras/7", `{"id":7,` + point + `}`, "traffic.cameras/7", ""},
		{"escaped topic id", "ioc/traffic.cameras/a\"b\\c", `{` + point + `}`, `traffic.cameras/a"b\c`, ""},
		{"outside prefix", "city/x/y", `{"layer":"x","id":"y",` + point + `}`, "x/y", ""},
		{"BOM and spaces", "ioc/traffic.cameras/cam-1", "\xef\xbb\xbf \n{ " + point + " }", "traffic.cameras/cam-1", ""},
		{"pretty", "ioc/traffic.cameras/cam-1", "{\n  \"id\": \"cam-1\",\n  " + point + "\n}\n", "traffic.cameras/cam-1", ""},
		{"layer disagrees", "ioc/traffic.cameras/cam-1", `{"layer":"traffic.other",` + point + `}`, "", "topic_mismatch"},
		{"id disagrees", "ioc/traffic.cameras/cam-1", `{"id":"cam-2",` + point + `}`, "", "topic_mismatch"},
		{"id disagrees, layer missing", "ioc/traffic.cameras/cam-1", `{"id":"cam-2",` + point + `}`, "", "topic_mismatch"},
		{"no id anywhere", "ioc/traffic.cameras", `{` + point + `}`, "", "missing_id"},
		{"no topic keys", "city/x", `{` + point + `}`, "", "missing_layer"},
		{"bad topic layer", "ioc/Traffic/cam-1", `{` + point + `}`, "", "invalid_layer"},
		{"bad topic id", "ioc/traffic.cameras/a\x01b", `{` + point + `}`, "", "invalid_id"},
		{"invalid JSON", "ioc/traffic.cameras/cam-1", `{"id":`, "", "invalid_json"},
		{"not an object", "ioc/traffic.cameras/cam-1", `42`, "", "invalid_json"},
		{"empty", "ioc/traffic.cameras/cam-1", " \n", "", "empty_body"},
		{"bad geometry", "ioc/traffic.cameras/cam-1", `{"geometry":{"type":"Point","coordinates":[200,16]}}`, "", "coordinates_out_of_range"},
		{"delete", "ioc/traffic.cameras/cam-1", `{"op":"delete"}`, "traffic.cameras/cam-1", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			events, reasons := outcome(p.message(c.topic, []byte(c.payload)))
			if strings.Join(events, ",") != c.events || strings.Join(reasons, ",") != c.reasons {
				t.Errorf("events %q, reasons %q; want %q, %q", events, reasons, c.events, c.reasons)
			}
		})
	}
}

func TestMismatchMessage(t *testing.T) {
	b := testParser(nil).message("ioc/traffic.cameras/cam-1", []byte(`{"id":"cam-2",`+point+`}`))
	if len(b.Rejected) != 1 {
		t.Fatalf("rejected %v", b.Rejected)
	}
	want := `id: id "cam-2" disagrees with "cam-1" in the topic "ioc/traffic.cameras/cam-1"`
	if got := b.Rejected[0].Error; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
	b = testParser(nil).message("ioc/Bad/cam-1", []byte(`{`+point+`}`))
	if got := b.Rejected[0].Error; !strings.HasSuffix(got, `(taken from the topic "ioc/Bad/cam-1")`) {
		t.Errorf("error %q does not name the topic", got)
	}
}

func TestMessageBatch(t *testing.T) {
	p := testParser(nil)
	ev := func(members string) string { return `{` + members + point + `}` }
	for _, c := range []struct {
		name, topic, payload string
		events, reasons      string
	}{
		{"array, layer from topic", "ioc/traffic.cameras",
			`[` + ev(`"id":"a",`) + `,` + ev(`"id":"b","layer":"traffic.cameras",`) + `]`, "traffic.cameras/a,traffic.cameras/b", ""},
		{"array, mixed", "ioc/traffic.cameras",
			`[` + ev(`"id":"a",`) + `,` + ev(`"id":"b","layer":"x",`) + `,` + ev(``) + `,` + ev(`"id":"c","op":"bad",`) + `]`,
			"traffic.cameras/a", "topic_mismatch,missing_id,unknown_op"},
		{"array, id from topic", "ioc/traffic.cameras/cam-1", `[` + ev(``) + `,` + ev(`"id":"cam-1",`) + `]`,
			"traffic.cameras/cam-1,traffic.cameras/cam-1", ""},
		{"array, no topic keys", "city/x", `[` + ev(`"layer":"a","id":"1",`) + `,` + ev(``) + `]`, "a/1", "missing_layer"},
		{"ndjson", "ioc/traffic.cameras",
			ev(`"id":"a",`) + "\n\n" + ev(`"id":"b","layer":"other",`) + "\r\n" + ev(`"id":"c",`) + "\n",
			"traffic.cameras/a,traffic.cameras/c", "topic_mismatch"},
		{"ndjson, bad line", "ioc/traffic.cameras", ev(`"id":"a",`) + "\n{oops\n", "traffic.cameras/a", "invalid_json"},
		{"broken array", "ioc/traffic.cameras", `[` + ev(`"id":"a",`) + `,`, "", "invalid_json"},
		{"empty array", "ioc/traffic.cameras", `[]`, "", "empty_batch"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := p.message(c.topic, []byte(c.payload))
			events, reasons := outcome(b)
			if strings.Join(events, ",") != c.events || strings.Join(reasons, ",") != c.reasons {
				t.Errorf("events %q, reasons %q; want %q, %q", events, reasons, c.events, c.reasons)
			}
			for i := 1; i < len(b.Indexes); i++ {
				if b.Indexes[i] <= b.Indexes[i-1] {
					t.Errorf("indexes not increasing: %v", b.Indexes)
				}
			}
		})
	}
}

func TestNDJSONLines(t *testing.T) {
	b := testParser(nil).message("ioc/l", []byte("\n"+`{"id":"a",`+point+"}\n"+`{"id":"b","layer":"x",`+point+"}\n"))
	if len(b.Rejected) != 1 || b.Rejected[0].Index != 1 || b.Rejected[0].Line != 3 {
		t.Errorf("rejected %+v; want index 1 on line 3", b.Rejected)
	}
}

type fakeEntities struct {
	events []layers.Event
	err    error
	got    string
}

func (f *fakeEntities) DecodeEntity(payload []byte) ([]layers.Event, error) {
	f.got = string(payload)
	return f.events, f.err
}

func TestEntities(t *testing.T) {
	entity := `{"id":"urn:ngsi-ld:AirQualityObserved:st-01","type":"AirQualityObserved","pm25":{"type":"Property","value":23}}`
	upper := `{"id":"URN:NGSI-LD:Streetlight:l-1","type":"Streetlight"}`
	withContext := `{"@context":"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld","id":"x","type":"T"}`
	for _, payload := range []string{entity, upper, withContext, "[" + entity + "]"} {
		b := testParser(nil).message("ioc/environment.air/st-01", []byte(payload))
		if _, reasons := outcome(b); strings.Join(reasons, ",") != "unsupported_payload" {
			t.Errorf("%s: reasons %q, want unsupported_payload", payload, reasons)
		}
	}
	// Native events with URN ids stay native.
	for _, payload := range []string{
		`{"layer":"l","id":"urn:x:1",` + point + `}`,
		`{"layer":"l","id":"urn:x:1","type":"Feature",` + point + `}`,
	} {
		if events, _ := outcome(testParser(nil).message("x", []byte(payload))); len(events) != 1 {
			t.Errorf("%s: not taken as a native event", payload)
		}
	}
	ev := layers.Event{Layer: "environment.air", ID: "urn:ngsi-ld:AirQualityObserved:st-01"}
	f := &fakeEntities{events: []layers.Event{ev, ev}}
	b := testParser(f).message("ioc/x/y", []byte(entity))
	if len(b.Events) != 2 || len(b.Rejected) != 0 || f.got != entity {
		t.Errorf("batch %+v, decoder got %q", b, f.got)
	}
	f.err = &streams.EventError{Reason: "unknown_type", Msg: "no layer for type T"}
	if _, reasons := outcome(testParser(f).message("x", []byte(entity))); strings.Join(reasons, ",") != "unknown_type" {
		t.Errorf("reasons %q, want unknown_type", reasons)
	}
	f.err = errors.New("boom")
	if _, reasons := outcome(testParser(f).message("x", []byte(entity))); strings.Join(reasons, ",") != "invalid_entity" {
		t.Errorf("reasons %q, want invalid_entity", reasons)
	}
}

func TestAddMember(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{}`, `{"id":"v"}`},
		{`{ }`, `{"id":"v"}`},
		{`{"a":1}`, `{"a":1,"id":"v"}`},
		{"{\"a\":1\n}\n", `{"a":1,"id":"v"}`},
		{`[1]`, `[1]`},
	} {
		if got := string(addMember([]byte(c.in), "id", "v")); got != c.want {
			t.Errorf("addMember(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestConfig(t *testing.T) {
	for _, c := range []struct {
		cfg Config
		ok  bool
	}{
		{Config{URL: "tcp://localhost:1883"}, true},
		{Config{URL: "mqtts://broker:8883", QoS: 2, Topics: []string{"ioc/+/x", "a/#"}}, true},
		{Config{}, false},
		{Config{URL: "localhost:1883"}, false},
		{Config{URL: "http://localhost"}, false},
		{Config{URL: "tcp://h:1", QoS: 3}, false},
		{Config{URL: "tcp://h:1", Topics: []string{"a/#/b"}}, false},
		{Config{URL: "tcp://h:1", Topics: []string{"a+"}}, false},
		{Config{URL: "tcp://h:1", Topics: []string{""}}, false},
	} {
		if err := c.cfg.Validate(); (err == nil) != c.ok {
			t.Errorf("%+v: Validate() = %v", c.cfg, err)
		}
	}
	c := Config{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	c.defaults()
	if c.backoff(0) != 0 {
		t.Errorf("first attempt waits %v", c.backoff(0))
	}
	for n, hi := range []time.Duration{0, 100, 200, 400, 800, 1000, 1000} {
		hi *= time.Millisecond
		if n == 0 {
			continue
		}
		for range 50 {
			if d := c.backoff(n); d < hi/2 || d > hi {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, d, hi/2, hi)
			}
		}
	}
	c = Config{URL: "tcp://ioc:s3cret@broker:1883"}
	c.defaults()
	if c.Username != "ioc" || c.Password != "s3cret" {
		t.Errorf("credentials from the URL: %q, %q", c.Username, c.Password)
	}
	c = Config{URL: "tcp://ioc:s3cret@broker:1883", Username: "other"}
	c.defaults()
	if c.Username != "other" || c.Password != "" {
		t.Errorf("Username must win over the URL: %q, %q", c.Username, c.Password)
	}
	c = Config{}
	c.defaults()
	if c.receiveMaximum() != 128 || c.QoS != 1 || c.Topics[0] != "ioc/#" || !strings.HasPrefix(c.ClientID, "iocd-") {
		t.Errorf("defaults: %+v", c)
	}
}
