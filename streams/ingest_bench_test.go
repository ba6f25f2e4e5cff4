package streams

import (
	"bytes"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/layers"
)

// BenchmarkIngestInProcess is the whole in-process ingest path the core
// is sized by: decode and validate NDJSON, then apply to the layers (index
// update and change record), with as many senders as GOMAXPROCS. Each
// sender moves its own 1,000 of 100,000 entities spread over four layers,
// so the layers hold steady state, as in a city where sensors report again
// and again.
func BenchmarkIngestInProcess(b *testing.B) {
	const perBatch, entities = 1000, 100000
	store := layers.NewStore(layers.Config{}, nil)
	dec := NewDecoder(DecoderConfig{Area: daNang})
	bodies := make([][]byte, entities/perBatch)
	for i := range bodies {
		var buf bytes.Buffer
		for j := range perBatch {
			id := i*perBatch + j
			fmt.Fprintf(&buf, `{"layer":"bench.l%d","id":"e-%06d","geometry":{"type":"Point","coordinates":[%.5f,%.5f]},`+
				`"properties":{"pm25":23.4,"pm10":41.2,"no2":18.9,"aqi":76,"station":"Hải Châu - Bạch Đằng"}}`+"\n",
				id%4, id, 107.9+float64(id%400)*0.001, 15.95+float64(id/400)*0.001)
		}
		bodies[i] = buf.Bytes()
	}
	for _, body := range bodies { // preload: the benchmark measures updates, not inserts
		bt, _ := dec.DecodeBatch(body, FormatNDJSON)
		store.Apply(bt.Events)
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := bodies[int(next.Add(1))%len(bodies)]
			bt, err := dec.DecodeBatch(body, FormatNDJSON)
			if err != nil || len(bt.Events) != perBatch {
				b.Errorf("decode: %v", err)
				return
			}
			store.Apply(bt.Events)
		}
	})
	b.ReportMetric(float64(b.N*perBatch)/time.Since(start).Seconds(), "events/s")
}
