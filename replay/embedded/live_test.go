package embedded_test

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/replay"
	"github.com/danang-ioc/ioc/replay/embedded"
	"github.com/danang-ioc/ioc/streams/sim"
)

// fakeClock is the simulated time, shared by the live store and the writer.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	if t.After(c.t) {
		c.t = t
	}
	c.mu.Unlock()
}

// liveState is one entity as the live layers held it.
type liveState struct {
	time       time.Time
	geometry   []byte
	properties []byte
}

// TestStateAtMatchesLive: the state history gives at T equals what the live
// layers held at T. A simulated run drives a live store whose changes a
// Writer copies into the embedded store; snapshots of the live layers taken
// during the run are then compared with StateAt at the same moments.
func TestStateAtMatchesLive(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Date(2026, 7, 1, 6, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: start}

	// No layer has a TTL and the store's sweep never runs: stale marks come
	// from a sweep paced by the real clock, so whether one falls before or
	// after a snapshot is timing, not history. The stale flag is ignored in
	// the comparison below for the same reason.
	live := layers.NewStore(layers.Config{Now: clock.Now, LogSize: 1 << 20}, nil)
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg := prometheus.NewRegistry()
	w, err := replay.NewWriter(replay.WriterConfig{
		DataDir:       t.TempDir(),
		Interval:      5 * time.Millisecond,
		KeyframeEvery: 10 * time.Minute, // simulated minutes: several keyframes in the run
		Now:           clock.Now,
	}, live, st, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()

	s, err := sim.New(sim.Config{Seed: 7, Start: start, Now: clock.Now, Intervals: map[string]time.Duration{
		sim.LayerSignals: 15 * time.Minute, sim.LayerLamps: 6 * time.Hour, sim.LayerCameras: 15 * time.Minute,
		sim.LayerSegments: 30 * time.Minute, sim.LayerCabinets: 30 * time.Minute, sim.LayerParking: 30 * time.Minute,
	}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}

	// History is ordered by observation time, the live layers by arrival:
	// an event that arrives after T but was observed before T is in
	// StateAt(T) although it was not live at T, and one that arrives out of
	// order is a late change live but may be the latest record at an
	// earlier T. The simulator's events are in order within a step except
	// for the backlog of the first one, and arrive up to a step after they
	// were observed. So the live store is fed in observation order behind a
	// watermark two steps behind the simulated clock, as a server receiving
	// every observation at once would be; each event is applied with the
	// clock at its own time, so that a change's server time (which dates
	// deletes, see RecordOf) is the event's time. The watermark's promise
	// is checked: no event arrives at or before a watermark already passed.
	const lag = 2 * time.Minute
	snaps := map[time.Time]map[string]liveState{}
	var order []time.Time
	var buf []layers.Event
	var mark time.Time
	for i := range 120 {
		for _, ev := range s.Step(time.Minute) {
			if !mark.IsZero() && !ev.Time.After(mark) {
				t.Fatalf("step %d: %s/%s observed at %v arrived after the watermark %v", i, ev.Layer, ev.ID, ev.Time, mark)
			}
			buf = append(buf, ev)
		}
		mark = s.Now().Add(-lag)
		slices.SortStableFunc(buf, func(a, b layers.Event) int { return a.Time.Compare(b.Time) })
		n := 0
		for j := 0; j < len(buf) && !buf[j].Time.After(mark); {
			k := j
			for k < len(buf) && buf[k].Time.Equal(buf[j].Time) {
				k++
			}
			clock.Set(buf[j].Time)
			live.Apply(buf[j:k])
			j, n = k, k
		}
		buf = append(buf[:0], buf[n:]...)
		clock.Set(mark)
		if i%15 == 7 || i == 119 {
			snaps[mark] = snapshot(live)
			order = append(order, mark)
		}
	}
	if live.Log().Last() == 0 {
		t.Fatal("the simulator made no changes")
	}

	// Wait until the writer has stored every change of the log.
	want := float64(live.Log().Last())
	deadline := time.Now().Add(20 * time.Second)
	for written(t, reg) < want {
		if time.Now().After(deadline) {
			t.Fatalf("writer stored %v of %v changes", written(t, reg), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d := gauge(t, reg, "ioc_history_records_dropped_total"); d != 0 {
		t.Fatalf("writer dropped %v changes", d)
	}

	compare := func(stage string) {
		t.Helper()
		for _, T := range order {
			got, err := st.StateAt(context.Background(), T, nil, geo.World)
			if err != nil {
				t.Fatal(err)
			}
			exp := snaps[T]
			seen := map[string]bool{}
			for _, r := range got {
				key := r.Layer + "/" + r.ID
				seen[key] = true
				l, ok := exp[key]
				if !ok {
					t.Errorf("%s: at %v history has %s (op %s, time %v), the live layers did not", stage, T, key, r.Op, r.Time)
					continue
				}
				if !r.Time.Equal(l.time) {
					t.Errorf("%s: at %v %s: history time %v, live %v", stage, T, key, r.Time, l.time)
				}
				if !bytes.Equal(r.Geometry, l.geometry) {
					t.Errorf("%s: at %v %s: history geometry %s, live %s", stage, T, key, r.Geometry, l.geometry)
				}
				if !bytes.Equal(r.Properties, l.properties) {
					t.Errorf("%s: at %v %s: history properties %s, live %s", stage, T, key, r.Properties, l.properties)
				}
			}
			for key := range exp {
				if !seen[key] {
					t.Errorf("%s: at %v the live layers had %s, history did not", stage, T, key)
				}
			}
			if t.Failed() {
				t.FailNow()
			}
		}
	}
	compare("writer keyframes")
	// Keyframes of our own at some snapshot times (and between two), so
	// that StateAt reads from a keyframe for certain.
	for i, T := range order {
		if i%3 == 1 {
			if err := st.Keyframe(context.Background(), T.Add(-30*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
	}
	compare("explicit keyframes")
	t.Logf("%d changes, %d snapshots, %d entities at the end", live.Log().Last(), len(order), len(snaps[order[len(order)-1]]))
}

func snapshot(live *layers.Store) map[string]liveState {
	var names []string
	for _, l := range live.Layers() {
		names = append(names, l.Name())
	}
	out := map[string]liveState{}
	for _, f := range live.Snapshot(names, geo.World).Features {
		var props []byte
		if len(f.Properties) > 0 {
			props = bytes.Clone(f.Properties)
		}
		out[f.Layer+"/"+f.ID] = liveState{
			time:       replay.MS(f.Time),
			geometry:   geo.AppendGeoJSON(nil, f.Geometry),
			properties: props,
		}
	}
	return out
}

func written(t *testing.T, reg *prometheus.Registry) float64 {
	return gauge(t, reg, "ioc_history_records_written_total")
}

// gauge reads one unlabelled counter or gauge from reg.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		m := mf.GetMetric()[0]
		if c := m.GetCounter(); c != nil {
			return c.GetValue()
		}
		return m.GetGauge().GetValue()
	}
	t.Fatalf("no metric %s", name)
	return 0
}
