package layers

import (
	"bytes"
	"context"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Hai Chau district, around the Dragon Bridge.
const lon0, lat0 = 108.2272, 16.0610

func TestUpsertCreatesThenUpdates(t *testing.T) {
	s, clk := newTestStore(t, nil)
	clk.Set(at(2 * time.Second))

	c1 := mustOneChange(t, s, upsert("bus", "43A-123.45", at(time.Second), lon0, lat0, `{"route":"R1"}`), KindUpsert)
	if c1.Old != nil {
		t.Errorf("create: Old = %v, want nil", c1.Old)
	}
	if c1.New == nil || c1.New.ID != "43A-123.45" || c1.New.Layer != "bus" || !c1.New.Time.Equal(at(time.Second)) ||
		c1.New.Stale || string(c1.New.Properties) != `{"route":"R1"}` {
		t.Fatalf("create: New = %+v", c1.New)
	}
	if c1.Seq != 1 || !c1.At.Equal(at(2*time.Second)) || !c1.Applied() || c1.Layer() != "bus" || c1.ID() != "43A-123.45" {
		t.Errorf("create: change %+v", c1)
	}
	l := s.Layer("bus")
	if l == nil || l.Name() != "bus" || l.Len() != 1 || l.Get("43A-123.45") != c1.New {
		t.Fatalf("create: layer does not hold the new feature")
	}

	c2 := mustOneChange(t, s, upsert("bus", "43A-123.45", at(3*time.Second), lon0+0.001, lat0, `{"route":"R1"}`), KindUpsert)
	if c2.Old != c1.New {
		t.Errorf("update: Old = %p, want the previous state %p", c2.Old, c1.New)
	}
	if c2.Seq != 2 || l.Get("43A-123.45") != c2.New || l.Len() != 1 {
		t.Errorf("update: seq %d, layer holds %p (want %p), len %d", c2.Seq, l.Get("43A-123.45"), c2.New, l.Len())
	}
	if info := l.Info(); info.Features != 1 || !info.Updated.Equal(at(2*time.Second)) || info.Name != "bus" {
		t.Errorf("Info() = %+v", info)
	}
	checkStore(t, s)
}

func TestMoveUpdatesIndex(t *testing.T) {
	s, _ := newTestStore(t, nil)
	oldBox := mustRect(t, lon0-0.001, lat0-0.001, lon0+0.001, lat0+0.001)
	// About 3 km south, near the airport.
	const lon1, lat1 = 108.2, 16.04
	newBox := mustRect(t, lon1-0.001, lat1-0.001, lon1+0.001, lat1+0.001)

	s.Apply([]Event{
		upsert("bus", "b1", at(0), lon0, lat0, ""),
		upsert("bus", "b2", at(0), lon0+0.0005, lat0, ""),
		{Layer: "road", ID: "closure", Time: at(0), Geometry: lineString(lon0-0.01, lat0, lon0+0.01, lat0)},
	})
	mustOneChange(t, s, upsert("bus", "b1", at(time.Second), lon1, lat1, ""), KindUpsert)
	mustOneChange(t, s, Event{Layer: "road", ID: "closure", Time: at(time.Second), Geometry: lineString(lon1-0.01, lat1, lon1+0.01, lat1)}, KindUpsert)

	for _, tc := range []struct {
		layer string
		r     string
		want  []string
	}{
		{"bus", "old", []string{"bus/b2"}},
		{"bus", "new", []string{"bus/b1"}},
		{"road", "old", nil},
		{"road", "new", []string{"road/closure"}},
	} {
		r := map[string]struct{ w, s, e, n float64 }{"old": {oldBox.MinX, oldBox.MinY, oldBox.MaxX, oldBox.MaxY}, "new": {newBox.MinX, newBox.MinY, newBox.MaxX, newBox.MaxY}}[tc.r]
		got := ids(s.Layer(tc.layer).InRect(nil, mustRect(t, r.w, r.s, r.e, r.n), 0))
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s in %s place: %v, want %v", tc.layer, tc.r, got, tc.want)
		}
	}
	if h := s.Layer("bus").Nearest(lon1, lat1, 1, 0); len(h) != 1 || h[0].Feature.ID != "b1" || h[0].Distance > 0.01 {
		t.Errorf("Nearest at the new place = %v", hitIDs(h))
	}
	checkStore(t, s)
}

func TestDelete(t *testing.T) {
	s, _ := newTestStore(t, map[string]LayerConfig{"bus": {TTL: time.Minute}})
	s.Apply([]Event{
		upsert("bus", "b1", at(0), lon0, lat0, ""),
		upsert("bus", "b2", at(0), lon0+0.01, lat0, ""),
	})
	l := s.Layer("bus")
	prev := l.Get("b1")

	c := mustOneChange(t, s, del("bus", "b1", at(time.Second)), KindDelete)
	if c.Old != prev || c.New != nil || c.Layer() != "bus" || c.ID() != "b1" || !c.Applied() {
		t.Errorf("delete change %s, Old %p want %p", describe(c), c.Old, prev)
	}
	if l.Get("b1") != nil || l.Len() != 1 {
		t.Errorf("after delete: Get = %v, Len = %d", l.Get("b1"), l.Len())
	}
	if got := ids(l.InRect(nil, mustRect(t, lon0-0.001, lat0-0.001, lon0+0.001, lat0+0.001), 0)); len(got) != 0 {
		t.Errorf("InRect still finds %v", got)
	}
	if h := l.Nearest(lon0, lat0, 5, 0); len(h) != 1 || h[0].Feature.ID != "b2" {
		t.Errorf("Nearest after delete = %v", hitIDs(h))
	}
	if h := l.Within(lon0, lat0, 100, 0); len(h) != 0 {
		t.Errorf("Within after delete = %v", hitIDs(h))
	}
	if n, stale := l.counts(); n != 1 || stale != 0 || len(l.expiry) != 1 {
		t.Errorf("counts = %d, %d; heap %d", n, stale, len(l.expiry))
	}
	checkStore(t, s)
}

func TestDeleteUnknownID(t *testing.T) {
	s, _ := newTestStore(t, nil)
	s.Apply([]Event{upsert("bus", "b1", at(0), lon0, lat0, "")})
	last := s.Log().Last()
	if cs := applyOne(s, del("bus", "ghost", at(time.Second))); len(cs) != 0 {
		t.Errorf("delete of unknown id: changes %v", cs)
	}
	if cs := applyOne(s, del("nolayer", "ghost", at(time.Second))); len(cs) != 0 {
		t.Errorf("delete in a new layer: changes %v", cs)
	}
	if s.Log().Last() != last || s.Layer("bus").Len() != 1 {
		t.Errorf("log moved to %d (from %d) or layer changed", s.Log().Last(), last)
	}
	checkStore(t, s)
}

func TestLateEvents(t *testing.T) {
	s, _ := newTestStore(t, nil)
	l := func() *Layer { return s.Layer("bus") }
	cur := mustOneChange(t, s, upsert("bus", "b1", at(10*time.Second), lon0, lat0, `{"v":2}`), KindUpsert).New

	// An older position report arrives after a newer one.
	c := mustOneChange(t, s, upsert("bus", "b1", at(5*time.Second), lon0+0.01, lat0, `{"v":1}`), KindLate)
	if c.Old != cur || c.New == nil || !c.New.Time.Equal(at(5*time.Second)) || c.Applied() {
		t.Errorf("late upsert: %s", describe(c))
	}
	if l().Get("b1") != cur {
		t.Error("late upsert changed the state")
	}
	if got := ids(l().InRect(nil, mustRect(t, lon0+0.009, lat0-0.001, lon0+0.011, lat0+0.001), 0)); len(got) != 0 {
		t.Errorf("late position was indexed: %v", got)
	}

	// An older delete does not remove the newer state.
	c = mustOneChange(t, s, del("bus", "b1", at(9*time.Second)), KindLate)
	if c.Old != cur || c.New != nil || c.ID() != "b1" {
		t.Errorf("late delete: %s", describe(c))
	}
	if l().Get("b1") != cur {
		t.Error("late delete removed the entity")
	}

	// Same observation time is not late: the newer arrival wins.
	mustOneChange(t, s, upsert("bus", "b1", at(10*time.Second), lon0, lat0, `{"v":3}`), KindUpsert)

	// A late delete of something already gone changes nothing.
	mustOneChange(t, s, del("bus", "b1", at(20*time.Second)), KindDelete)
	if cs := applyOne(s, del("bus", "b1", at(15*time.Second))); len(cs) != 0 {
		t.Errorf("late delete of a deleted entity: %v", cs)
	}
	checkStore(t, s)
}

func TestTombstoneStopsResurrection(t *testing.T) {
	s, _ := newTestStore(t, nil)
	mustOneChange(t, s, upsert("incident", "i1", at(0), lon0, lat0, `{"kind":"flood"}`), KindUpsert)
	mustOneChange(t, s, del("incident", "i1", at(time.Minute)), KindDelete)

	// An update observed before the delete, delivered after it.
	c := mustOneChange(t, s, upsert("incident", "i1", at(30*time.Second), lon0, lat0, `{"kind":"flood","depth":0.4}`), KindLate)
	if c.Old != nil || c.New == nil || c.ID() != "i1" || c.Layer() != "incident" {
		t.Errorf("late upsert after delete: %s", describe(c))
	}
	if s.Layer("incident").Get("i1") != nil {
		t.Fatal("deleted incident resurrected by a late update")
	}
	// A report newer than the delete re-creates it.
	c = mustOneChange(t, s, upsert("incident", "i1", at(2*time.Minute), lon0, lat0, `{"kind":"flood"}`), KindUpsert)
	if c.Old != nil {
		t.Errorf("re-create: Old = %v", c.Old)
	}
	// The tombstone went with the re-creation; a late delete of the
	// first life is still late against the new state.
	mustOneChange(t, s, del("incident", "i1", at(90*time.Second)), KindLate)
	checkStore(t, s)
}

func TestDuplicatesAndEqualTimes(t *testing.T) {
	s, _ := newTestStore(t, nil)
	ev := upsert("bus", "b1", at(0), lon0, lat0, `{"speed":31,"route":"R1"}`)
	first := mustOneChange(t, s, ev, KindUpsert).New
	last := s.Log().Last()

	// The gateway resends the same message, a fresh copy of it.
	resend := upsert("bus", "b1", at(0).In(time.FixedZone("ICT", 7*3600)), lon0, lat0, `{"speed":31,"route":"R1"}`)
	if cs := s.Apply([]Event{resend, ev}); len(cs) != 0 {
		t.Fatalf("identical resend made changes: %v", cs)
	}
	if s.Log().Last() != last || s.Layer("bus").Get("b1") != first {
		t.Fatal("identical resend touched the log or the state")
	}

	// Same time, different content: a correction, applied.
	c := mustOneChange(t, s, upsert("bus", "b1", at(0), lon0, lat0, `{"speed":32,"route":"R1"}`), KindUpsert)
	if c.Old != first || string(c.New.Properties) != `{"speed":32,"route":"R1"}` {
		t.Errorf("correction: %s", describe(c))
	}
	c = mustOneChange(t, s, upsert("bus", "b1", at(0), lon0+0.0001, lat0, `{"speed":32,"route":"R1"}`), KindUpsert)
	if got := c.New.Geometry.FlatCoords()[0]; got != lon0+0.0001 {
		t.Errorf("moved correction at %v", got)
	}
	checkStore(t, s)
}

func TestSequenceAndEpoch(t *testing.T) {
	s, _ := newTestStore(t, nil)
	other, _ := newTestStore(t, nil)
	if s.Epoch() == other.Epoch() {
		t.Errorf("two stores share epoch %s", s.Epoch())
	}
	if b, err := hex.DecodeString(s.Epoch()); err != nil || len(b) != 8 {
		t.Errorf("epoch %q is not 16 hex digits", s.Epoch())
	}

	var all []Change
	all = append(all, s.Apply([]Event{
		upsert("bus", "b1", at(0), lon0, lat0, ""),
		upsert("cam", "c1", at(0), lon0, lat0, ""),
		upsert("bus", "b2", at(0), lon0, lat0, ""),
		upsert("bus", "b1", at(time.Second), lon0, lat0, ""),
		upsert("air", "a1", at(0), lon0, lat0, ""),
	})...)
	all = append(all, s.Apply([]Event{upsert("cam", "c1", at(time.Second), lon0, lat0, "")})...)
	all = append(all, s.Apply([]Event{del("bus", "b2", at(time.Second)), upsert("bus", "b1", at(0), lon0, lat0, "")})...)
	other.Apply([]Event{upsert("bus", "b1", at(0), lon0, lat0, "")})

	if len(all) != 8 {
		t.Fatalf("got %d changes, want 8", len(all))
	}
	for i, c := range all {
		if c.Seq != uint64(i+1) {
			t.Errorf("change %d (%s) has seq %d", i, describe(c), c.Seq)
		}
	}
	if s.Log().Last() != 8 || other.Log().Last() != 1 {
		t.Errorf("log last = %d and %d", s.Log().Last(), other.Log().Last())
	}
	logged, err := s.Log().Read(nil, 1, 100)
	if err != nil || len(logged) != 8 {
		t.Fatalf("Read = %d changes, %v", len(logged), err)
	}
	for i := range logged {
		if logged[i].Seq != all[i].Seq || logged[i].New != all[i].New || logged[i].Kind != all[i].Kind {
			t.Errorf("log entry %d = %s, Apply returned %s", i, describe(logged[i]), describe(all[i]))
		}
	}
	snap := s.Snapshot([]string{"bus"}, worldRect)
	if snap.Epoch != s.Epoch() || snap.Seq != 8 {
		t.Errorf("snapshot epoch %s seq %d", snap.Epoch, snap.Seq)
	}
	if names := layerNames(s.Layers()); names != "air,bus,cam" {
		t.Errorf("Layers() = %s", names)
	}
}

func layerNames(ls []*Layer) string {
	var names []string
	for _, l := range ls {
		names = append(names, l.Name())
	}
	return strings.Join(names, ",")
}

func TestConfiguredLayers(t *testing.T) {
	s, _ := newTestStore(t, map[string]LayerConfig{"air": {TTL: 10 * time.Minute}, "": {TTL: time.Hour}})
	if l := s.Layer("air"); l == nil || l.Config().TTL != 10*time.Minute || l.Len() != 0 {
		t.Fatalf("configured layer air missing before any event")
	}
	if s.Layer("bus") != nil {
		t.Fatal("unconfigured layer exists before its first event")
	}
	s.Apply([]Event{upsert("bus", "b1", at(0), lon0, lat0, "")})
	if l := s.Layer("bus"); l == nil || l.Config().TTL != time.Hour {
		t.Fatalf("layer created on first event does not get DefaultLayer")
	}
}

func TestStaleness(t *testing.T) {
	const ttl = 5 * time.Minute
	s, clk := newTestStore(t, map[string]LayerConfig{"air": {TTL: ttl}})
	l := s.Layer("air")
	fresh := mustOneChange(t, s, upsert("air", "aqi-7", at(-10*time.Second), lon0, lat0, `{"pm25":41}`), KindUpsert).New
	if fresh.Stale || bytes.Contains(fresh.JSON(), []byte(`"stale"`)) {
		t.Fatalf("fresh feature is stale: %s", fresh.JSON())
	}

	clk.Set(at(ttl - 11*time.Second))
	if cs := s.Sweep(); len(cs) != 0 {
		t.Fatalf("sweep before the TTL: %v", cs)
	}
	clk.Set(at(ttl - 9*time.Second))
	cs := s.Sweep()
	if len(cs) != 1 || cs[0].Kind != KindStale {
		t.Fatalf("sweep after the TTL: %v", cs)
	}
	c := cs[0]
	if c.Old != fresh || c.New == nil || !c.New.Stale || !c.New.Time.Equal(fresh.Time) || c.New.Geometry != fresh.Geometry ||
		!c.At.Equal(at(ttl-9*time.Second)) || c.Seq != 2 || !c.Applied() {
		t.Errorf("stale change %s", describe(c))
	}
	if !bytes.Contains(c.New.JSON(), []byte(`"stale":true`)) || !strings.HasSuffix(string(c.New.JSON()), `"properties":{"pm25":41}}`) {
		t.Errorf("stale JSON %s", c.New.JSON())
	}
	if bytes.Contains(fresh.JSON(), []byte(`"stale"`)) {
		t.Error("marking stale changed the old feature's JSON")
	}
	if l.Get("aqi-7") != c.New {
		t.Error("layer does not hold the stale feature")
	}
	if got := ids(l.InRect(nil, mustRect(t, lon0-0.001, lat0-0.001, lon0+0.001, lat0+0.001), 0)); len(got) != 1 || l.InRect(nil, worldRect, 0)[0] != c.New {
		t.Errorf("stale feature not found by InRect as the stale version: %v", got)
	}
	if n, stale := l.counts(); n != 1 || stale != 1 {
		t.Errorf("counts = %d, %d", n, stale)
	}
	checkStore(t, s)

	// Nothing more to do until it reports again.
	clk.Add(time.Hour)
	if cs := s.Sweep(); len(cs) != 0 {
		t.Errorf("second sweep: %v", cs)
	}
	// A resend of the last observation stays stale and changes nothing.
	if cs := applyOne(s, upsert("air", "aqi-7", at(-10*time.Second), lon0, lat0, `{"pm25":41}`)); len(cs) != 0 {
		t.Errorf("resend of the stale observation: %v", cs)
	}
	// A fresh report brings it back.
	back := mustOneChange(t, s, upsert("air", "aqi-7", clk.Now().Add(-time.Second), lon0, lat0, `{"pm25":40}`), KindUpsert)
	if back.Old != c.New || back.New.Stale || bytes.Contains(back.New.JSON(), []byte(`"stale"`)) {
		t.Errorf("return: %s %s", describe(back), back.New.JSON())
	}
	if n, stale := l.counts(); n != 1 || stale != 0 {
		t.Errorf("counts after return = %d, %d", n, stale)
	}
	checkStore(t, s)

	// A report already older than the TTL when it arrives (a gateway
	// flushing its backlog) is stored stale at once and never swept.
	old := mustOneChange(t, s, upsert("air", "aqi-9", clk.Now().Add(-ttl-time.Second), lon0, lat0, `{"pm25":12}`), KindUpsert)
	if !old.New.Stale || !bytes.Contains(old.New.JSON(), []byte(`"stale":true`)) {
		t.Errorf("backlog report stored fresh: %s", old.New.JSON())
	}
	checkStore(t, s)
	clk.Add(time.Hour)
	for _, c := range s.Sweep() {
		if c.ID() == "aqi-9" {
			t.Errorf("sweep touched the already stale aqi-9: %s", describe(c))
		}
	}
	checkStore(t, s)
}

// TestStaleBoundary: the sweep and the arrival of an event must agree on
// when an observation is too old, or an entity flips between stale and
// fresh when its last report is resent exactly at the boundary.
func TestStaleBoundary(t *testing.T) {
	const ttl = time.Minute
	for _, age := range []time.Duration{ttl - time.Nanosecond, ttl, ttl + time.Nanosecond} {
		s, clk := newTestStore(t, map[string]LayerConfig{"air": {TTL: ttl}})
		ev := upsert("air", "a", at(0), lon0, lat0, "")
		applyOne(s, ev)
		clk.Set(at(age))
		swept := len(s.Sweep()) == 1

		other, oclk := newTestStore(t, map[string]LayerConfig{"air": {TTL: ttl}})
		oclk.Set(at(age))
		arrivedStale := applyOne(other, ev)[0].New.Stale
		if swept != arrivedStale {
			t.Errorf("age %v: sweep marks stale %v, arrival marks stale %v", age, swept, arrivedStale)
		}
		if cs := applyOne(s, ev); len(cs) != 0 {
			t.Errorf("age %v: resend after the sweep made changes: %s", age, describe(cs[0]))
		}
		if want := age > ttl; swept != want {
			t.Errorf("age %v: stale %v, want %v (stale means older than the TTL)", age, swept, want)
		}
	}
}

func TestTombstonesPruned(t *testing.T) {
	clk := newClock(t0)
	s := NewStore(Config{Now: clk.Now, TombstoneTTL: time.Hour}, nil)
	s.Apply([]Event{upsert("bus", "b1", at(0), lon0, lat0, ""), upsert("bus", "b2", at(0), lon0, lat0, "")})
	s.Apply([]Event{del("bus", "b1", at(time.Minute)), del("bus", "never-seen", at(time.Minute))})
	l := s.Layer("bus")
	if len(l.tombstones) != 2 {
		t.Fatalf("%d tombstones, want 2", len(l.tombstones))
	}

	clk.Set(at(time.Minute + time.Hour))
	s.Sweep()
	if len(l.tombstones) != 2 {
		t.Fatalf("tombstones pruned at exactly TombstoneTTL: %d left", len(l.tombstones))
	}
	mustOneChange(t, s, upsert("bus", "b1", at(30*time.Second), lon0, lat0, ""), KindLate)

	clk.Set(at(time.Minute + time.Hour + time.Second))
	s.Sweep()
	if len(l.tombstones) != 0 {
		t.Fatalf("%d tombstones left after TombstoneTTL", len(l.tombstones))
	}
	// Without its tombstone, a very late update is taken as new.
	mustOneChange(t, s, upsert("bus", "b1", at(30*time.Second), lon0, lat0, ""), KindUpsert)
	checkStore(t, s)
}

func TestConfigDefaults(t *testing.T) {
	s := NewStore(Config{}, nil)
	if s.Log().Capacity() != 1<<18 || s.cfg.SweepInterval != time.Second || s.cfg.TombstoneTTL != time.Hour {
		t.Errorf("defaults: log %d, sweep %v, tombstones %v", s.Log().Capacity(), s.cfg.SweepInterval, s.cfg.TombstoneTTL)
	}
	if d := time.Since(s.Now()); d < 0 || d > time.Minute {
		t.Errorf("default clock is %v off", d)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	clk := newClock(t0)
	s := NewStore(Config{Now: clk.Now, Layers: map[string]LayerConfig{"air": {TTL: time.Minute}}}, reg)
	s.Apply([]Event{
		upsert("air", "a1", at(0), lon0, lat0, ""),
		upsert("air", "a2", at(0), lon0, lat0, ""),
		upsert("air", "a1", at(-time.Second), lon0, lat0, ""), // late
		upsert("air", "a2", at(0), lon0, lat0, ""),            // duplicate
		upsert("bus", "b1", at(0), lon0, lat0, ""),
		del("bus", "b1", at(time.Second)),
	})
	clk.Set(at(2 * time.Minute))
	s.Sweep()
	applyOne(s, upsert("air", "a2", at(2*time.Minute), lon0, lat0, ""))

	want := map[string]float64{
		`ioc_layers_changes_total{kind="upsert"}`: 4,
		`ioc_layers_changes_total{kind="delete"}`: 1,
		`ioc_layers_changes_total{kind="stale"}`:  2,
		`ioc_layers_changes_total{kind="late"}`:   1,
		`ioc_layers_late_events_total`:            1,
		`ioc_layers_duplicate_events_total`:       1,
		`ioc_layer_features{layer="air"}`:         2,
		`ioc_layer_features{layer="bus"}`:         0,
		`ioc_layer_stale_features{layer="air"}`:   1,
		`ioc_layer_stale_features{layer="bus"}`:   0,
		`ioc_layers_change_seq`:                   8,
		`ioc_layers_change_log_capacity`:          1 << 18,
	}
	got := gather(t, reg)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

// gather flattens a registry into "name{labels}" -> value.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			var labels []string
			for _, lp := range m.GetLabel() {
				labels = append(labels, lp.GetName()+`="`+lp.GetValue()+`"`)
			}
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func TestRunSweepsUntilCancelled(t *testing.T) {
	clk := newClock(t0)
	s := NewStore(Config{Now: clk.Now, SweepInterval: time.Millisecond, Layers: map[string]LayerConfig{"air": {TTL: time.Minute}}}, nil)
	s.Apply([]Event{upsert("air", "a1", at(0), lon0, lat0, "")})
	clk.Set(at(2 * time.Minute))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	// Poll until the ticker has swept.
	for deadline := time.Now().Add(10 * time.Second); !s.Layer("air").Get("a1").Stale; {
		if time.Now().After(deadline) {
			t.Fatal("Run did not sweep within 10s")
		}
		time.Sleep(time.Millisecond) // poll
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run returned %v", err)
	}
	if s.Log().Last() != 2 {
		t.Errorf("log last %d, want 2 (upsert, stale)", s.Log().Last())
	}
}

func TestApplyReturnsNilWithoutChanges(t *testing.T) {
	s, _ := newTestStore(t, nil)
	if cs := s.Apply(nil); cs != nil {
		t.Errorf("Apply(nil) = %#v", cs)
	}
	if cs := s.Apply([]Event{del("bus", "x", at(0))}); cs != nil {
		t.Errorf("Apply(no-op delete) = %#v", cs)
	}
}
