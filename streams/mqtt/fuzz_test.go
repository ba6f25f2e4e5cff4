package mqtt

import (
	"testing"
	"unicode/utf8"
)

func FuzzMessage(f *testing.F) {
	for _, s := range []struct{ topic, payload string }{
		{"ioc/traffic.cameras/cam-1", `{` + point + `}`},
		{"ioc/traffic.cameras/cam-1", `{"layer":"traffic.cameras","id":"cam-1",` + point + `}`},
		{"ioc/traffic.cameras/cam-1", `{"id":"cam-2","layer":null,` + point + `}`},
		{"ioc/traffic.cameras", `[{"id":"a",` + point + `},{"id":1,"op":"delete"}]`},
		{"ioc/traffic.cameras", `{"id":"a",` + point + "}\n\n{\"id\":\"b\"}\n"},
		{"ioc/x", "\xef\xbb\xbf{\n}\n"},
		{"ioc/x/y", `{"@context":[],"id":"urn:a","type":"T"}`},
		{"ioc/x/y", `[{"id":"urn:a","type":"T"}]`},
		{"other", `{}`},
		{"ioc/A/\x00", `[{},{"layer":""}]`},
	} {
		f.Add(s.topic, []byte(s.payload))
	}
	valid := map[string]bool{}
	for _, r := range reasons() {
		valid[string(r)] = true
	}
	p := testParser(nil)
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		b := p.message(topic, payload)
		if len(b.Events) != len(b.Indexes) {
			t.Fatalf("%d events, %d indexes", len(b.Events), len(b.Indexes))
		}
		for _, r := range b.Rejected {
			if !valid[string(r.Reason)] || r.Error == "" || !utf8.ValidString(r.Error) {
				t.Fatalf("bad rejection %+v", r)
			}
		}
		if len(b.Events) > 0 && isEntity(payload) {
			t.Fatalf("events from an entity payload without an EntityDecoder")
		}
		k := parseTopic(p.prefix, topic)
		for i, ev := range b.Events {
			if ev.Layer == "" || ev.ID == "" {
				t.Fatalf("event without layer or id: %+v", ev)
			}
			if (k.layer != "" && ev.Layer != k.layer) || (k.id != "" && ev.ID != k.id) {
				t.Fatalf("event %s/%s on topic %q", ev.Layer, ev.ID, topic)
			}
			if i > 0 && b.Indexes[i] <= b.Indexes[i-1] {
				t.Fatalf("indexes %v", b.Indexes)
			}
		}
	})
}
