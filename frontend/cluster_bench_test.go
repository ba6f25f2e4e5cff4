package frontend

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/layers"
)

// BenchmarkPushLamps measures the cost of ingesting lamp changes and
// pushing them (store.Apply, then one hub tick, then draining every client
// queue) for clients watching the city overview, raw or clustered at zoom
// 11, with perChange changes per tick (1: a quiet night, about what 20,000
// lamps reporting every 15 minutes give per 25 ms tick; 200: a cabinet
// storm). It reports the snapshot size, the bytes pushed per change and
// client, and the time per change: wall, and CPU of the process (less
// disturbed by other load on a shared machine).
//
//	go test ./frontend -run '^$' -bench PushLamps -benchtime 2000x
func BenchmarkPushLamps(b *testing.B) {
	const lamps = 20000
	for _, zoom := range []float64{0, 11} {
		for _, perTick := range []int{1, 200} {
			for _, clients := range []int{1, 50} {
				name := fmt.Sprintf("raw/changes=%d/clients=%d", perTick, clients)
				if zoom > 0 {
					name = fmt.Sprintf("zoom11/changes=%d/clients=%d", perTick, clients)
				}
				b.Run(name, func(b *testing.B) { benchPush(b, lamps, zoom, perTick, clients) })
			}
		}
	}
}

func benchPush(b *testing.B, lamps int, zoom float64, perTick, clients int) {
	store := layers.NewStore(layers.Config{LogSize: 1 << 20}, nil)
	evs := make([]layers.Event, lamps)
	for i := range evs {
		evs[i] = lampEvent(i, lamps, "on")
	}
	store.Apply(evs)
	srv := NewServer(Config{Clusters: clusterConfig().Clusters, QueueMessages: 1 << 20, QueueBytes: 1 << 40},
		store, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	cs, snapBytes := benchClients(b, srv, zoom, clients)
	rng := rand.New(rand.NewPCG(1, 2))
	states := []string{"on", "dimmed", "off", "fault"}
	batch := make([]layers.Event, perTick)
	pushed := 0
	runtime.GC() // the setup's snapshots are not the loop's garbage
	b.ResetTimer()
	cpu0 := processCPU()
	for range b.N {
		for j := range batch {
			batch[j] = lampEvent(rng.IntN(lamps), lamps, states[rng.IntN(len(states))])
		}
		store.Apply(batch)
		srv.hub.tick()
		for _, c := range cs {
			pushed += drain(c)
		}
	}
	b.StopTimer()
	cpu := processCPU() - cpu0
	changes := float64(b.N * perTick)
	b.ReportMetric(float64(cpu.Nanoseconds())/changes, "cpu-ns/change")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/changes, "ns/change")
	b.ReportMetric(float64(pushed)/changes/float64(clients), "B/change/client")
	b.ReportMetric(float64(snapBytes), "snapshot-B")
	b.ReportMetric(0, "ns/op")
}

var benchStart = time.Date(2026, 11, 27, 18, 0, 0, 0, time.UTC)
var benchTick int64

func lampEvent(i, n int, state string) layers.Event {
	benchTick++
	return layers.Event{Layer: "lighting.lamps", ID: lampID(i), Time: benchStart.Add(time.Duration(benchTick) * time.Millisecond),
		Geometry:   geom.NewPointFlat(geom.XY, lampAt(i, n)),
		Properties: json.RawMessage(`{"dark":false,"level":100,"powerConsumption":74,"refStreetlightControlCabinet":"TC-NVL-01","state":"` + state + `","stateSource":"lamp"}`)}
}

// benchClients registers clients over the city, each panned a little so
// that each has its own subscription, and returns them with the size of
// the first snapshot.
func benchClients(b *testing.B, srv *Server, zoom float64, n int) ([]*client, int) {
	var cs []*client
	snapBytes := 0
	for i := range n {
		msg := &clientMessage{Type: "subscribe", Layers: []string{"lighting.lamps"},
			BBox: []float64{cityBox[0] - 0.001*float64(i), cityBox[1], cityBox[2], cityBox[3]}}
		if zoom > 0 {
			msg.Zoom = &zoom
		}
		sub, err := parseSubscription(msg, srv.cfg.Clusters)
		if err != nil {
			b.Fatal(err)
		}
		c := newClient(srv, nil)
		frame, grids := srv.snapshot(sub)
		data := frame.encode()
		if i == 0 {
			snapBytes = len(data)
		}
		srv.hub.handle(hubOp{reg: &registration{c: c, sub: sub, from: frame.seq, snapshot: data, grids: grids}})
		drain(c)
		cs = append(cs, c)
	}
	return cs, snapBytes
}

func drain(c *client) int {
	n := 0
	for {
		m, ok := c.queue.pop()
		if !ok {
			return n
		}
		n += m.size
		m.release()
	}
}

// BenchmarkGridApply is the grid's own cost per change (rank and place the
// old and new states, update the cells), on a grid of 20,000 lamps.
func BenchmarkGridApply(b *testing.B) {
	const lamps = 20000
	store := layers.NewStore(layers.Config{LogSize: 1 << 16}, nil)
	evs := make([]layers.Event, lamps)
	for i := range evs {
		evs[i] = lampEvent(i, lamps, "on")
	}
	grid := newClusterGrid("lighting.lamps", 13, &lampRank)
	for _, c := range store.Apply(evs) {
		grid.addFeature(c.New)
	}
	states := []string{"on", "dimmed", "off", "fault"}
	changes := make([]layers.Change, 0, 4096)
	for i := range cap(changes) {
		changes = append(changes, store.Apply([]layers.Event{lampEvent(i*7%lamps, lamps, states[i%4])})...)
	}
	gs := []*clusterGrid{grid}
	runtime.GC()
	b.ResetTimer()
	cpu0 := processCPU()
	for i := range b.N {
		applyToGrids(&changes[i%len(changes)], gs)
		if i%64 == 63 {
			grid.settle(nil)
		}
	}
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/change")
}
