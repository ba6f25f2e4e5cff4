package replay

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
)

// fakeStore records every batch it takes and fails while down is set.
type fakeStore struct {
	mu      sync.Mutex
	down    bool
	batches [][]Record
	kf      []time.Time
}

func (f *fakeStore) setDown(v bool) { f.mu.Lock(); f.down = v; f.mu.Unlock() }

func (f *fakeStore) Append(_ context.Context, recs []Record) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errors.New("store down")
	}
	f.batches = append(f.batches, append([]Record(nil), recs...))
	return nil
}

// seqs returns every stored sequence in append order.
func (f *fakeStore) seqs() []uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []uint64
	for _, b := range f.batches {
		for _, r := range b {
			out = append(out, r.Seq)
		}
	}
	return out
}

func (f *fakeStore) History(context.Context, string, string, time.Time, time.Time, int) ([]Record, error) {
	return nil, nil
}
func (f *fakeStore) Series(context.Context, string, string, string, time.Time, time.Time, time.Duration) ([]Bucket, error) {
	return nil, nil
}
func (f *fakeStore) StateAt(context.Context, time.Time, []string, geo.Rect) ([]Record, error) {
	return nil, nil
}
func (f *fakeStore) Keyframe(_ context.Context, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.kf = append(f.kf, at)
	return nil
}
func (f *fakeStore) Range(context.Context, time.Time, time.Time, []string, geo.Rect, func(Record) error) error {
	return nil
}
func (f *fakeStore) Close() error { return nil }

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time            { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration)       { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock() *clock                     { return &clock{t: time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)} }
func value(c prometheus.Collector) float64 { return metricValue(c) }

func metricValue(c prometheus.Collector) float64 {
	ch := make(chan prometheus.Metric, 1)
	c.Collect(ch)
	var m dto.Metric
	_ = (<-ch).Write(&m)
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

// apply puts n upserts of distinct entities into the live store.
func apply(ls *layers.Store, n int, tag string) {
	evs := make([]layers.Event, n)
	for i := range evs {
		evs[i] = layers.Event{Layer: "test.layer", ID: fmt.Sprintf("%s-%d", tag, i), Time: time.Now(),
			Geometry: geom.NewPointFlat(geom.XY, []float64{108.2, 16.05}), Properties: []byte(`{"v":1}`)}
	}
	ls.Apply(evs)
}

func newTestWriter(t *testing.T, ls *layers.Store, st Store, dir string, clk *clock) *Writer {
	t.Helper()
	w, err := NewWriter(WriterConfig{DataDir: dir, BatchSize: 50, KeyframeEvery: -1, Now: clk.now}, ls, st, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func checkInOrder(t *testing.T, seqs []uint64, n int) {
	t.Helper()
	if len(seqs) != n {
		t.Fatalf("stored %d records, want %d", len(seqs), n)
	}
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("record %d has seq %d: not every change exactly once in order", i, s)
		}
	}
}

func TestWriterSpoolsWhileDownAndDrainsInOrder(t *testing.T) {
	ls := layers.NewStore(layers.Config{LogSize: 1024}, nil)
	st := &fakeStore{down: true}
	clk := newClock()
	w := newTestWriter(t, ls, st, t.TempDir(), clk)
	ctx := context.Background()
	for round := range 4 {
		apply(ls, 120, fmt.Sprint(round))
		w.tick(ctx)
		clk.add(time.Minute) // past any backoff
	}
	if got := st.seqs(); len(got) != 0 {
		t.Fatalf("store down but got %d records", len(got))
	}
	if value(w.m.spooled) != 480 || w.spool.len() == 0 || value(w.m.spoolBytes) == 0 {
		t.Fatalf("spooled %v records in %d files (%v bytes), want 480", value(w.m.spooled), w.spool.len(), value(w.m.spoolBytes))
	}
	if value(w.m.retries) == 0 {
		t.Error("no retries counted")
	}
	st.setDown(false)
	apply(ls, 30, "after")
	w.tick(ctx)
	checkInOrder(t, st.seqs(), 510)
	if w.spool.len() != 0 || value(w.m.spoolBytes) != 0 || value(w.m.written) != 510 || value(w.m.dropped) != 0 {
		t.Errorf("after drain: %d spool files, %v bytes, %v written, %v dropped", w.spool.len(),
			value(w.m.spoolBytes), value(w.m.written), value(w.m.dropped))
	}
}

func TestWriterBacksOff(t *testing.T) {
	ls := layers.NewStore(layers.Config{LogSize: 1024}, nil)
	st := &fakeStore{down: true}
	clk := newClock()
	w := newTestWriter(t, ls, st, t.TempDir(), clk)
	for range 5 {
		apply(ls, 1, "x")
		w.tick(context.Background()) // no time passes: one attempt, then backoff
	}
	if got := value(w.m.retries); got != 1 {
		t.Errorf("retries = %v within the backoff, want 1", got)
	}
	if w.backoff != w.cfg.RetryMin {
		t.Errorf("backoff = %v, want %v", w.backoff, w.cfg.RetryMin)
	}
}

func TestWriterCountsTruncation(t *testing.T) {
	ls := layers.NewStore(layers.Config{LogSize: 16}, nil)
	st := &fakeStore{}
	w := newTestWriter(t, ls, st, t.TempDir(), newClock())
	apply(ls, 40, "x") // the log keeps the last 16
	w.tick(context.Background())
	if got := value(w.m.dropped); got != 24 {
		t.Errorf("dropped = %v, want 24", got)
	}
	if got := st.seqs(); len(got) != 16 || got[0] != 25 {
		t.Errorf("stored %v, want seqs 25..40", got)
	}
}

// TestWriterSpoolSurvivesRestart: a batch spooled at shutdown is stored by
// the next run, before that run's own changes.
func TestWriterSpoolSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ls := layers.NewStore(layers.Config{LogSize: 1024}, nil)
	st := &fakeStore{down: true}
	w := newTestWriter(t, ls, st, dir, newClock())
	apply(ls, 70, "a")
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "spool", "*.json"))
	if len(files) == 0 {
		t.Fatal("nothing spooled at shutdown")
	}
	st.setDown(false)
	w2 := newTestWriter(t, ls, st, dir, newClock())
	w2.cursor = ls.Log().Last() // a new run reads a new log; these were spooled
	apply(ls, 5, "b")
	w2.tick(context.Background())
	checkInOrder(t, st.seqs(), 75)
	if _, err := os.Stat(filepath.Join(dir, "spool")); err != nil {
		t.Fatal(err)
	}
}

// TestWriterRunUnderLoad runs the writer against concurrent ingest and a
// store that goes down and up, and finds every change exactly once, in order.
func TestWriterRunUnderLoad(t *testing.T) {
	ls := layers.NewStore(layers.Config{LogSize: 1 << 14}, nil)
	st := &fakeStore{}
	w, err := NewWriter(WriterConfig{DataDir: t.TempDir(), Interval: 5 * time.Millisecond, BatchSize: 64,
		RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond}, ls, st, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	for i := range 60 {
		apply(ls, 25, fmt.Sprint(i))
		st.setDown(i%20 >= 10)
		time.Sleep(2 * time.Millisecond)
	}
	st.setDown(false)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkInOrder(t, st.seqs(), 1500)
	if value(w.m.spooled) == 0 {
		t.Error("the outage spooled nothing")
	}
}
