package streams

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// benchEvent is a realistic air-quality reading: a point with 5 properties,
// about 260 bytes.
const benchEvent = `{"layer":"environment.air","id":"hc-aq-%04d","time":"2025-07-01T08:29:41.250+07:00",` +
	`"geometry":{"type":"Point","coordinates":[108.2208,16.0678]},` +
	`"properties":{"pm25":23.4,"pm10":41.2,"no2":18.9,"aqi":76,"station":"Hải Châu - Bạch Đằng"},"op":"upsert"}`

func benchBody(n int) []byte {
	var buf bytes.Buffer
	for i := range n {
		fmt.Fprintf(&buf, benchEvent, i)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

func BenchmarkDecodeNDJSON(b *testing.B) {
	const n = 1000
	body := benchBody(n)
	d := NewDecoder(DecoderConfig{Area: daNang, Now: func() time.Time { return testNow }})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		batch, err := d.DecodeBatch(body, FormatNDJSON)
		if err != nil || len(batch.Events) != n {
			b.Fatalf("%v, %d events", err, len(batch.Events))
		}
	}
	perEvent := b.Elapsed().Seconds() / float64(b.N) / n
	b.ReportMetric(1/perEvent, "events/s")
	b.ReportMetric(perEvent*1e9, "ns/event")
	b.ReportMetric(float64(len(body))/n, "bytes/event")
}

func BenchmarkDecodeEvent(b *testing.B) {
	raw := []byte(fmt.Sprintf(benchEvent, 42))
	d := NewDecoder(DecoderConfig{Now: func() time.Time { return testNow }})
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.DecodeEvent(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScanner(b *testing.B) {
	body := benchBody(1000)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		for line := range bytes.Lines(body) {
			s := newScanner(line, 0)
			if err := s.value(); err != nil {
				b.Fatal(err.msg)
			}
		}
	}
}
