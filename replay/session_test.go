package replay_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/replay"
	"github.com/danang-ioc/ioc/replay/embedded"
	"github.com/danang-ioc/ioc/replay/replaytest"
)

var t0 = replaytest.T0

type frame struct {
	Type     string            `json:"type"`
	Replay   bool              `json:"replay"`
	Time     time.Time         `json:"time"`
	Features []json.RawMessage `json:"features"`
	Upserts  []json.RawMessage `json:"upserts"`
	Deletes  []struct {
		Layer, ID string
	} `json:"deletes"`
	raw string
}

func (f frame) upsertIDs() string {
	var ids []string
	for _, u := range f.Upserts {
		var v struct {
			ID    string    `json:"id"`
			Layer string    `json:"layer"`
			Time  time.Time `json:"time"`
		}
		_ = json.Unmarshal(u, &v)
		ids = append(ids, fmt.Sprintf("%s/%s@%v", v.Layer, v.ID, v.Time.Sub(t0)))
	}
	return strings.Join(ids, " ")
}

// harness runs a session on an embedded store with a fake clock.
type harness struct {
	t      *testing.T
	store  replay.Store
	clock  *replaytest.FakeClock
	s      *replay.Session
	frames chan frame
	ctx    context.Context // wall-clock guard against a hung test, never slept on
	ended  context.Context
	mu     sync.Mutex
	reject func(n int) bool // refuse the nth offer
	offers int
}

func newStore(t *testing.T, recs ...replay.Record) replay.Store {
	s, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Append(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	return s
}

func start(t *testing.T, store replay.Store, req replay.Request, reject func(int) bool) *harness {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	ended, endCancel := context.WithCancel(ctx)
	h := &harness{t: t, store: store, clock: replaytest.NewFakeClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)),
		frames: make(chan frame, 100000), ctx: ctx, ended: ended, reject: reject}
	h.s = replay.NewSession(store, req, func(b []byte) bool {
		h.mu.Lock()
		h.offers++
		n := h.offers
		h.mu.Unlock()
		if h.reject != nil && h.reject(n) {
			return false
		}
		var f frame
		if err := json.Unmarshal(b, &f); err != nil {
			t.Errorf("frame is not JSON: %v: %s", err, b)
		}
		f.raw = string(b)
		h.frames <- f
		if f.Type == "replay_end" {
			endCancel()
		}
		return true
	}, h.clock)
	done := make(chan error, 1)
	go func() { done <- h.s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != context.Canceled && err != context.DeadlineExceeded {
			t.Errorf("Run: %v", err)
		}
	})
	return h
}

// next returns the next frame.
func (h *harness) next() frame {
	h.t.Helper()
	select {
	case f := <-h.frames:
		return f
	case <-h.ctx.Done():
		h.t.Fatal("no frame")
		return frame{}
	}
}

func (h *harness) none() {
	h.t.Helper()
	select {
	case f := <-h.frames:
		h.t.Fatalf("unexpected frame %s", f.raw)
	default:
	}
}

// settle waits until the session has reacted and waits on the clock again
// (n timers were created).
func (h *harness) settle(n int) {
	h.t.Helper()
	if err := h.clock.WaitCreated(h.ctx, n); err != nil {
		for len(h.frames) > 0 {
			h.t.Log((<-h.frames).raw)
		}
		h.t.Fatalf("session did not settle: created %d want %d, waiters %d", h.clock.Created(), n, h.clock.Waiters())
	}
}

// do runs a control (or clock step) and waits for the session to settle.
func (h *harness) do(f func()) {
	h.t.Helper()
	n := h.clock.Created()
	f()
	h.settle(n + 1)
}

func (h *harness) step(d time.Duration) { h.do(func() { h.clock.Advance(d) }) }

func (h *harness) snapshotOK(f frame, at time.Time, layers []string, bbox geo.Rect) {
	h.t.Helper()
	if f.Type != "snapshot" || !f.Replay || !f.Time.Equal(at) {
		h.t.Fatalf("want a replay snapshot at %v, got %s", at, f.raw)
	}
	if bbox == (geo.Rect{}) {
		bbox = geo.World
	}
	recs, err := h.store.StateAt(context.Background(), at, layers, bbox)
	if err != nil {
		h.t.Fatal(err)
	}
	want := string(replay.AppendFeatureCollection(nil, at, recs))
	want = want[strings.Index(want, `"features":`):]
	if got := f.raw[strings.Index(f.raw, `"features":`):]; got != want {
		h.t.Fatalf("snapshot at %v:\n got %s\nwant %s", at, got, want)
	}
}

// track: entity l/a reports every 10 s for 10 minutes; m/b every minute.
func track() []replay.Record {
	var recs []replay.Record
	for i := range 61 {
		recs = append(recs, replaytest.Rec("l", "a", time.Duration(i)*10*time.Second, uint64(i+1), 108.2, 16.05, fmt.Sprintf(`{"i":%d}`, i)))
	}
	for i := range 11 {
		recs = append(recs, replaytest.Rec("m", "b", time.Duration(i)*time.Minute+5*time.Second, uint64(100+i), 108.21, 16.06, ""))
	}
	return recs
}

func TestSessionSnapshotAndPacing(t *testing.T) {
	store := newStore(t, track()...)
	h := start(t, store, replay.Request{From: t0.Add(30 * time.Second), To: t0.Add(10 * time.Minute), Speed: 60}, nil)
	h.snapshotOK(h.next(), t0.Add(30*time.Second), nil, geo.Rect{})
	h.settle(1)
	// One fake second at speed 60 is one historical minute.
	h.step(time.Second)
	f := h.next()
	if f.Type != "diff" || !f.Replay || !f.Time.Equal(t0.Add(90*time.Second)) {
		t.Fatalf("first diff = %s, want time +90s", f.raw)
	}
	// Coalesced per entity: only the latest state of l/a and m/b.
	if got := f.upsertIDs(); got != "l/a@1m30s m/b@1m5s" {
		t.Errorf("upserts = %s", got)
	}
	h.none()
	h.step(500 * time.Millisecond)
	if f := h.next(); !f.Time.Equal(t0.Add(2*time.Minute)) || f.upsertIDs() != "l/a@2m0s m/b@2m5s" && f.upsertIDs() != "l/a@2m0s" {
		t.Errorf("diff after 0.5 s = %s, want up to +2m", f.raw)
	}
	// Diffs at 50 ms ticks: 3 historical seconds each, empty ones not sent.
	var last time.Time
	for range 20 {
		h.step(replay.Tick)
		for len(h.frames) > 0 {
			f := h.next()
			if f.Type != "diff" || f.Time.Before(last) {
				t.Fatalf("diff out of order: %s", f.raw)
			}
			last = f.Time
		}
	}
	if want := t0.Add(2*time.Minute + 60*time.Second); !last.Equal(want) {
		t.Errorf("after 20 ticks the last diff is at %v, want %v", last.Sub(t0), want.Sub(t0))
	}
}

func TestSessionPauseSpeedSeekEnd(t *testing.T) {
	store := newStore(t, track()...)
	h := start(t, store, replay.Request{From: t0, To: t0.Add(10 * time.Minute), Speed: 60}, nil)
	h.snapshotOK(h.next(), t0, nil, geo.Rect{})
	h.settle(1)
	h.step(time.Second)
	if f := h.next(); !f.Time.Equal(t0.Add(time.Minute+5*time.Second)) && !f.Time.Equal(t0.Add(time.Minute)) {
		t.Fatalf("diff = %s", f.raw)
	}
	// Pause: time passes, nothing is sent; Play resumes where it stopped.
	h.s.Pause()
	h.clock.Advance(time.Hour)
	h.none()
	h.do(h.s.Play)
	h.none()
	h.step(time.Second)
	if f := h.next(); !f.Time.Equal(t0.Add(2 * time.Minute)) {
		t.Fatalf("diff after resume = %s, want +2m", f.raw)
	}
	// Speed 600: one historical minute per 100 ms.
	h.do(func() { h.s.SetSpeed(600) })
	h.step(100 * time.Millisecond)
	if f := h.next(); !f.Time.Equal(t0.Add(3 * time.Minute)) {
		t.Fatalf("diff after speed 600 = %s, want +3m", f.raw)
	}
	// Seek backwards and forwards: a fresh snapshot each time.
	h.do(func() { h.s.Seek(t0.Add(45 * time.Second)) })
	h.snapshotOK(h.next(), t0.Add(45*time.Second), nil, geo.Rect{})
	h.step(100 * time.Millisecond)
	if f := h.next(); f.Type != "diff" || !f.Time.Equal(t0.Add(100*time.Second)) {
		t.Fatalf("diff after seek back = %s, want +1m40s (the last record up to +1m45s)", f.raw)
	}
	h.do(func() { h.s.Seek(t0.Add(9 * time.Minute)) })
	h.snapshotOK(h.next(), t0.Add(9*time.Minute), nil, geo.Rect{})
	// The end: replay_end once, then paused; Play does nothing.
	h.clock.Advance(time.Second)
	var f frame
	for f = h.next(); f.Type == "diff"; f = h.next() {
	}
	if f.Type != "replay_end" || !f.Time.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("want replay_end at +10m, got %s", f.raw)
	}
	h.s.Play()
	h.clock.Advance(time.Hour)
	h.none()
	// A seek after the end gives a snapshot and stays paused until Play.
	h.s.Seek(t0.Add(5 * time.Minute))
	h.snapshotOK(h.next(), t0.Add(5*time.Minute), nil, geo.Rect{})
	h.do(h.s.Play)
	h.step(100 * time.Millisecond) // still at speed 600
	if f := h.next(); !f.Time.Equal(t0.Add(6 * time.Minute)) {
		t.Fatalf("diff after seek and play = %s, want +6m", f.raw)
	}
}

func TestSessionBBoxAndLayers(t *testing.T) {
	in, out := [2]float64{108.2, 16.05}, [2]float64{109, 17}
	at := func(off time.Duration, seq uint64, p [2]float64) replay.Record {
		return replaytest.Rec("l", "c", off, seq, p[0], p[1], "")
	}
	recs := []replay.Record{at(0, 1, in), at(time.Minute, 2, out), at(2*time.Minute, 3, out), at(3*time.Minute, 4, in),
		replaytest.Del("l", "c", 4*time.Minute, 5), at(5*time.Minute, 6, out),
		replaytest.Rec("other", "x", 30*time.Second, 7, 108.2, 16.05, "")}
	box := geo.Rect{MinX: 108, MinY: 16, MaxX: 108.5, MaxY: 16.5}
	h := start(t, newStore(t, recs...), replay.Request{From: t0, To: t0.Add(6 * time.Minute), Speed: 60, Layers: []string{"l"}, BBox: box}, nil)
	h.snapshotOK(h.next(), t0, []string{"l"}, box)
	h.settle(1)
	type want struct {
		time      time.Duration
		ups, dels string
	}
	for i, w := range []want{
		{time.Minute, "", "l/c"},          // moved out: delete
		{3 * time.Minute, "l/c@3m0s", ""}, // 2m stays out (nothing sent), 3m back in
		{4 * time.Minute, "", "l/c"},      // deleted
	} {
		_ = i
		var f frame
		for f.Type == "" {
			h.step(time.Second)
			if len(h.frames) > 0 {
				f = h.next()
			}
		}
		var dels []string
		for _, d := range f.Deletes {
			dels = append(dels, d.Layer+"/"+d.ID)
		}
		if !f.Time.Equal(t0.Add(w.time)) || f.upsertIDs() != w.ups || strings.Join(dels, " ") != w.dels {
			t.Errorf("diff = %s, want time %v upserts %q deletes %q", f.raw, w.time, w.ups, w.dels)
		}
	}
	// Reappearing outside the box sends nothing; then the end.
	h.clock.Advance(time.Minute)
	if f := h.next(); f.Type != "replay_end" {
		t.Errorf("want replay_end, got %s", f.raw)
	}
}

// TestSessionBackpressure refuses every other offer: the replay slows down
// but the client's view ends equal to the state at To, with every diff in
// order.
func TestSessionBackpressure(t *testing.T) {
	rng := newRand()
	recs := replaytest.RandomRecords(rng, 3000, time.Hour, 0)
	store := newStore(t, recs...)
	box := geo.Rect{MinX: 108.1, MinY: 16.0, MaxX: 108.2, MaxY: 16.1}
	to := t0.Add(50 * time.Minute)
	h := start(t, store, replay.Request{From: t0.Add(10 * time.Minute), To: to, Speed: 3600, BBox: box},
		func(n int) bool { return n%2 == 1 || n%7 == 0 })
	for h.ended.Err() == nil {
		n := h.clock.Created()
		h.clock.Advance(replay.Tick)
		_ = h.clock.WaitCreated(h.ended, n+1)
		if h.ctx.Err() != nil {
			t.Fatal("replay did not end")
		}
	}
	view := map[string]string{}
	var last time.Time
	for len(h.frames) > 0 {
		f := h.next()
		if f.Time.Before(last) {
			t.Fatalf("frame out of order: %s", f.raw)
		}
		last = f.Time
		if f.Type == "snapshot" {
			clear(view)
			f.Upserts = f.Features
		}
		for _, u := range f.Upserts {
			var v struct{ ID, Layer string }
			_ = json.Unmarshal(u, &v)
			view[v.Layer+"/"+v.ID] = string(u)
		}
		for _, d := range f.Deletes {
			delete(view, d.Layer+"/"+d.ID)
		}
	}
	want, _ := store.StateAt(context.Background(), to, nil, box)
	if len(view) != len(want) {
		t.Fatalf("client holds %d entities, state at To has %d", len(view), len(want))
	}
	for i := range want {
		if got := view[want[i].Layer+"/"+want[i].ID]; got != string(replay.AppendFeature(nil, &want[i])) {
			t.Errorf("%s/%s: client has %s, want %s", want[i].Layer, want[i].ID, got, replay.AppendFeature(nil, &want[i]))
		}
	}
}
