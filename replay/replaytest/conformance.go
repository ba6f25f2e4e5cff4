// Package replaytest holds the conformance suite every replay.Store must
// pass, so that the embedded store and ClickHouse behave the same.
package replaytest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/replay"
)

// T0 is the base time of the suite's records.
var T0 = time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)

// Rec builds an upsert record of a point at (x, y) observed at T0+off.
func Rec(layer, id string, off time.Duration, seq uint64, x, y float64, props string) replay.Record {
	r := replay.Record{
		Layer: layer, ID: id, Time: T0.Add(off), Server: T0.Add(off + time.Second),
		Seq: seq, Epoch: "e1", Op: replay.OpUpsert,
		Geometry: json.RawMessage(fmt.Sprintf(`{"type":"Point","coordinates":[%g,%g]}`, x, y)),
		BBox:     [4]float64{x, y, x, y},
	}
	if props != "" {
		r.Properties = json.RawMessage(props)
	}
	return r
}

// Del builds a delete record at T0+off.
func Del(layer, id string, off time.Duration, seq uint64) replay.Record {
	return replay.Record{Layer: layer, ID: id, Time: T0.Add(off), Server: T0.Add(off + time.Second),
		Seq: seq, Epoch: "e1", Op: replay.OpDelete}
}

// RunConformance runs the suite; open returns a fresh, empty store (the
// suite closes it).
func RunConformance(t *testing.T, open func(t *testing.T) replay.Store) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s replay.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"HistoryOrderAndLimit", testHistoryOrder},
		{"HistoryRange", testHistoryRange},
		{"Empty", testEmpty},
		{"LateRecords", testLate},
		{"StateAtDeletes", testStateDeletes},
		{"StateAtFilters", testStateFilters},
		{"Series", testSeries},
		{"KeyframesChangeNothing", testKeyframes},
		{"RangeOrderAndBounds", testRangeOrder},
		{"RangeLayersAndBBox", testRangeLayers},
		{"RangeLarge", testRangeLarge},
		{"RangeStop", testRangeStop},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := open(t)
			defer func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			}()
			c.fn(t, s)
		})
	}
}

func mustAppend(t *testing.T, s replay.Store, recs ...replay.Record) {
	t.Helper()
	if err := s.Append(context.Background(), recs); err != nil {
		t.Fatalf("Append: %v", err)
	}
}

func history(t *testing.T, s replay.Store, layer, id string, from, to time.Time, limit int) []replay.Record {
	t.Helper()
	got, err := s.History(context.Background(), layer, id, from, to, limit)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	return got
}

func state(t *testing.T, s replay.Store, at time.Time, names []string, bbox geo.Rect) []replay.Record {
	t.Helper()
	got, err := s.StateAt(context.Background(), at, names, bbox)
	if err != nil {
		t.Fatalf("StateAt: %v", err)
	}
	return got
}

// keys lists layer/id@offset of records, for readable failures.
func keys(recs []replay.Record) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "%s/%s@%v:%s ", r.Layer, r.ID, r.Time.Sub(T0), r.Op)
	}
	return b.String()
}

func testRoundTrip(t *testing.T, s replay.Store) {
	r := Rec("traffic.cameras", "cam-1", 1500*time.Millisecond, 7, 108.22, 16.07, `{"speed_kmh":31,"districtCode":"490"}`)
	r.Area, r.Stale, r.Op = "490", true, replay.OpStale
	r.Geometry = json.RawMessage(`{"type":"LineString","coordinates":[[108.2,16],[108.3,16.1]]}`)
	r.BBox = [4]float64{108.2, 16, 108.3, 16.1}
	d := Del("traffic.cameras", "cam-1", time.Minute, 8)
	d.BBox = r.BBox
	mustAppend(t, s, r, d)
	got := history(t, s, "traffic.cameras", "cam-1", time.Time{}, time.Time{}, 0)
	want := []replay.Record{r, d}
	if len(got) != 2 {
		t.Fatalf("got %d records, want 2", len(got))
	}
	for i := range want {
		if !equal(got[i], want[i]) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// equal compares records, times by instant and JSON by bytes.
func equal(a, b replay.Record) bool {
	if !a.Time.Equal(b.Time) || !a.Server.Equal(b.Server) {
		return false
	}
	a.Time, b.Time, a.Server, b.Server = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return string(a.Geometry) == string(b.Geometry) && string(a.Properties) == string(b.Properties) &&
		reflect.DeepEqual(stripJSON(a), stripJSON(b))
}

func stripJSON(r replay.Record) replay.Record {
	r.Geometry, r.Properties = nil, nil
	return r
}

func testHistoryOrder(t *testing.T, s replay.Store) {
	mustAppend(t, s, Rec("l", "a", 30*time.Second, 3, 1, 1, ""), Rec("l", "b", 10*time.Second, 4, 1, 1, ""))
	mustAppend(t, s, Rec("l", "a", 10*time.Second, 1, 1, 1, ""), Rec("l2", "a", 20*time.Second, 5, 1, 1, ""))
	mustAppend(t, s, Rec("l", "a", 20*time.Second, 2, 1, 1, ""), Rec("l", "a-", 15*time.Second, 6, 1, 1, ""))
	// Same observation time: the later server change comes last.
	same := Rec("l", "a", 30*time.Second, 9, 2, 2, "")
	same.Server = same.Server.Add(time.Second)
	mustAppend(t, s, same)
	got := history(t, s, "l", "a", time.Time{}, time.Time{}, 0)
	if want := "l/a@10s:upsert l/a@20s:upsert l/a@30s:upsert l/a@30s:upsert "; keys(got) != want {
		t.Fatalf("history = %s, want %s", keys(got), want)
	}
	if got[2].Seq != 3 || got[3].Seq != 9 {
		t.Errorf("same-time records out of server order: seqs %d, %d", got[2].Seq, got[3].Seq)
	}
	if got := history(t, s, "l", "a", time.Time{}, time.Time{}, 2); keys(got) != "l/a@10s:upsert l/a@20s:upsert " {
		t.Errorf("limit 2 = %s, want the two oldest", keys(got))
	}
}

func testHistoryRange(t *testing.T, s replay.Store) {
	for i := range 5 {
		mustAppend(t, s, Rec("l", "a", time.Duration(i)*10*time.Second, uint64(i+1), 1, 1, ""))
	}
	got := history(t, s, "l", "a", T0.Add(10*time.Second), T0.Add(30*time.Second), 0)
	if want := "l/a@10s:upsert l/a@20s:upsert "; keys(got) != want {
		t.Errorf("[10s,30s) = %s, want %s (from inclusive, to exclusive)", keys(got), want)
	}
	if got := history(t, s, "l", "a", T0.Add(30*time.Second), time.Time{}, 0); len(got) != 2 {
		t.Errorf("[30s,∞) = %s, want 2 records", keys(got))
	}
	if got := history(t, s, "l", "a", time.Time{}, T0.Add(time.Millisecond), 0); len(got) != 1 {
		t.Errorf("(-∞,1ms) = %s, want 1 record", keys(got))
	}
}

func testEmpty(t *testing.T, s replay.Store) {
	ctx := context.Background()
	if got := history(t, s, "none", "x", time.Time{}, time.Time{}, 0); len(got) != 0 {
		t.Errorf("History on empty store = %v", got)
	}
	if got := state(t, s, T0, nil, geo.World); len(got) != 0 {
		t.Errorf("StateAt on empty store = %v", got)
	}
	b, err := s.Series(ctx, "none", "x", "v", T0, T0.Add(time.Hour), time.Minute)
	if err != nil || len(b) != 0 {
		t.Errorf("Series on empty store = %v, %v", b, err)
	}
	if err := s.Keyframe(ctx, T0); err != nil {
		t.Errorf("Keyframe on empty store: %v", err)
	}
	mustAppend(t, s, Rec("l", "a", 0, 1, 1, 1, ""))
	if got := history(t, s, "l", "b", time.Time{}, time.Time{}, 0); len(got) != 0 {
		t.Errorf("History of an unknown id = %v", got)
	}
	if got := state(t, s, T0.Add(-time.Millisecond), nil, geo.World); len(got) != 0 {
		t.Errorf("StateAt before the first record = %v", keys(got))
	}
}

func testLate(t *testing.T, s replay.Store) {
	mustAppend(t, s, Rec("l", "a", 10*time.Second, 1, 1, 1, ""), Rec("l", "a", 30*time.Second, 2, 1, 1, ""))
	late := Rec("l", "a", 20*time.Second, 3, 5, 5, "")
	late.Op = replay.OpLate
	lateDel := replay.Record{Layer: "l", ID: "a", Time: T0.Add(30 * time.Second), Server: T0.Add(time.Hour), Seq: 4, Epoch: "e1", Op: replay.OpLate}
	mustAppend(t, s, late, lateDel)
	got := history(t, s, "l", "a", time.Time{}, time.Time{}, 0)
	if want := "l/a@10s:upsert l/a@20s:late l/a@30s:upsert l/a@30s:late "; keys(got) != want {
		t.Errorf("history = %s, want %s", keys(got), want)
	}
	// Observation time decides: between 20s and 30s the city was as the late
	// record says, even though the live map never showed it.
	if st := state(t, s, T0.Add(25*time.Second), nil, geo.World); len(st) != 1 || st[0].Seq != 3 {
		t.Errorf("StateAt(25s) = %s, want the late record", keys(st))
	}
	// A late delete carries no time of its own and deletes nothing.
	if st := state(t, s, T0.Add(time.Hour), nil, geo.World); len(st) != 1 || st[0].Seq != 2 {
		t.Errorf("StateAt(1h) = %s, want the 30s upsert", keys(st))
	}
}

func testStateDeletes(t *testing.T, s replay.Store) {
	mustAppend(t, s, Rec("l", "a", 0, 1, 1, 1, ""), Rec("l", "b", 0, 2, 1, 1, ""),
		Del("l", "a", 10*time.Second, 3), Rec("l", "b", 20*time.Second, 4, 1, 1, ""))
	mustAppend(t, s, Rec("l", "a", 30*time.Second, 5, 1, 1, ""))
	check := func(at time.Duration, want string) {
		t.Helper()
		if got := keys(state(t, s, T0.Add(at), nil, geo.World)); got != want {
			t.Errorf("StateAt(%v) = %s, want %s", at, got, want)
		}
	}
	check(5*time.Second, "l/a@0s:upsert l/b@0s:upsert ")
	check(10*time.Second, "l/b@0s:upsert ") // at is inclusive
	check(25*time.Second, "l/b@20s:upsert ")
	check(30*time.Second, "l/a@30s:upsert l/b@20s:upsert ")
}

func testStateFilters(t *testing.T, s replay.Store) {
	mustAppend(t, s, Rec("x.b", "in", 0, 1, 108.2, 16.05, ""), Rec("x.b", "out", 0, 2, 109, 17, ""),
		Rec("x.a", "in", 0, 3, 108.21, 16.06, ""), Rec("x.c", "in", 0, 4, 108.2, 16.05, ""))
	// An entity that moves out of the box is judged by its latest state.
	mustAppend(t, s, Rec("x.b", "moved", 0, 5, 108.2, 16.05, ""), Rec("x.b", "moved", time.Second, 6, 110, 18, ""))
	line := Rec("x.a", "line", 0, 7, 0, 0, "")
	line.BBox = [4]float64{108.0, 16.0, 108.1, 16.1} // crosses the box edge
	mustAppend(t, s, line)
	box := geo.Rect{MinX: 108.1, MinY: 16.0, MaxX: 108.3, MaxY: 16.1}
	got := state(t, s, T0.Add(time.Minute), []string{"x.b", "x.a"}, box)
	if want := "x.a/in@0s:upsert x.a/line@0s:upsert x.b/in@0s:upsert "; keys(got) != want {
		t.Errorf("StateAt(layers x.a,x.b; box) = %s, want %s", keys(got), want)
	}
	if got := state(t, s, T0.Add(time.Minute), nil, geo.World); len(got) != 6 {
		t.Errorf("StateAt(all) = %s, want 6 entities", keys(got))
	}
}

func testSeries(t *testing.T, s replay.Store) {
	vals := []struct {
		off time.Duration
		v   string
	}{{0, "1"}, {30 * time.Second, "3"}, {59 * time.Second, "2"}, {2 * time.Minute, "10"},
		{150 * time.Second, `"n/a"`}, {5 * time.Minute, "99"}}
	for i, x := range vals {
		mustAppend(t, s, Rec("env", "st", x.off, uint64(i+1), 1, 1, `{"pm25":`+x.v+`}`))
	}
	stale := Rec("env", "st", 2*time.Minute, 50, 1, 1, `{"pm25":10}`)
	stale.Op, stale.Stale = replay.OpStale, true
	mustAppend(t, s, stale, Del("env", "st", 3*time.Minute, 51))
	got, err := s.Series(context.Background(), "env", "st", "pm25", T0, T0.Add(5*time.Minute), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	want := []replay.Bucket{
		{Start: T0, Count: 3, Min: 1, Max: 3, Avg: 2, Last: 2},
		{Start: T0.Add(2 * time.Minute), Count: 1, Min: 10, Max: 10, Avg: 10, Last: 10},
	}
	if len(got) != len(want) {
		t.Fatalf("Series = %+v, want %+v", got, want)
	}
	for i := range want {
		if !got[i].Start.Equal(want[i].Start) || got[i].Count != want[i].Count || got[i].Min != want[i].Min ||
			got[i].Max != want[i].Max || got[i].Avg != want[i].Avg || got[i].Last != want[i].Last {
			t.Errorf("bucket %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	got, _ = s.Series(context.Background(), "env", "st", "pm25", T0.Add(30*time.Second), T0.Add(time.Hour), 2*time.Minute)
	if len(got) != 2 || !got[0].Start.Equal(T0.Add(30*time.Second)) || got[0].Count != 3 || got[1].Last != 99 {
		t.Errorf("Series aligned on from = %+v", got)
	}
}

// testKeyframes checks StateAt against a brute-force fold over random
// histories, before and after keyframes, and after late records that fall
// before a keyframe.
func testKeyframes(t *testing.T, s replay.Store) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(4, 2))
	var all []replay.Record
	add := func(n int, maxOff time.Duration) {
		batch := RandomRecords(rng, n, maxOff, uint64(len(all)))
		all = append(all, batch...)
		mustAppend(t, s, batch...)
	}
	add(400, time.Hour)
	times := []time.Duration{-time.Minute, 0, 7 * time.Minute, 20 * time.Minute, 31 * time.Minute, 59 * time.Minute, 2 * time.Hour}
	box := geo.Rect{MinX: 108.1, MinY: 16.0, MaxX: 108.2, MaxY: 16.1}
	compare := func(stage string) {
		t.Helper()
		for _, at := range times {
			for _, q := range []struct {
				names []string
				box   geo.Rect
			}{{nil, geo.World}, {[]string{"k.b"}, box}} {
				want := ReferenceState(all, T0.Add(at), q.names, q.box)
				got := state(t, s, T0.Add(at), q.names, q.box)
				if keys(got) != keys(want) {
					t.Fatalf("%s: StateAt(%v, %v) =\n %s\nwant\n %s", stage, at, q.names, keys(got), keys(want))
				}
			}
		}
	}
	compare("no keyframe")
	for _, at := range []time.Duration{10 * time.Minute, 30 * time.Minute, 45 * time.Minute} {
		if err := s.Keyframe(ctx, T0.Add(at)); err != nil {
			t.Fatalf("Keyframe: %v", err)
		}
	}
	compare("keyframes")
	add(100, 40*time.Minute) // late records, many before the keyframes
	compare("late records after keyframes")
	if err := s.Keyframe(ctx, T0.Add(50*time.Minute)); err != nil {
		t.Fatalf("Keyframe: %v", err)
	}
	compare("keyframe after late records")
}

// RandomRecords returns n records of 30 entities in 3 layers with random
// times in [0, maxOff), random positions around Da Nang and about one delete
// in eight. Seqs start after seq0.
func RandomRecords(rng *rand.Rand, n int, maxOff time.Duration, seq0 uint64) []replay.Record {
	out := make([]replay.Record, n)
	for i := range out {
		layer := []string{"k.a", "k.b", "k.c"}[rng.IntN(3)]
		id := fmt.Sprintf("e%02d", rng.IntN(10))
		off := time.Duration(rng.Int64N(int64(maxOff/time.Second))) * time.Second
		seq := seq0 + uint64(i) + 1
		if rng.IntN(8) == 0 {
			out[i] = Del(layer, id, off, seq)
		} else {
			out[i] = Rec(layer, id, off, seq, 108+rng.Float64()*0.3, 16+rng.Float64()*0.2, fmt.Sprintf(`{"v":%d}`, i))
		}
		out[i].Server = T0.Add(time.Duration(seq) * time.Millisecond)
	}
	return out
}

// ReferenceState is StateAt by brute force, the definition stores are held
// to.
func ReferenceState(all []replay.Record, at time.Time, names []string, bbox geo.Rect) []replay.Record {
	sorted := slices.Clone(all)
	slices.SortStableFunc(sorted, func(a, b replay.Record) int {
		if replay.Less(&a, &b) {
			return -1
		}
		if replay.Less(&b, &a) {
			return 1
		}
		return 0
	})
	latest := map[[2]string]replay.Record{}
	for _, r := range sorted {
		if r.Time.After(at) || (len(names) > 0 && !slices.Contains(names, r.Layer)) {
			continue
		}
		k := [2]string{r.Layer, r.ID}
		switch {
		case r.Deleted():
			delete(latest, k)
		case r.Observed():
			latest[k] = r
		}
	}
	var out []replay.Record
	for _, r := range latest {
		if r.Rect().Intersects(bbox) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b replay.Record) int {
		return strings.Compare(a.Layer+"\x00"+a.ID, b.Layer+"\x00"+b.ID)
	})
	return out
}

func rangeAll(t *testing.T, s replay.Store, from, to time.Time, names []string, bbox geo.Rect) []replay.Record {
	t.Helper()
	out := []replay.Record{}
	err := s.Range(context.Background(), from, to, names, bbox, func(r replay.Record) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatalf("Range: %v", err)
	}
	return out
}

// ReferenceRange is Range by brute force: the records of the layers with
// from < Time <= to, in history order.
func ReferenceRange(all []replay.Record, from, to time.Time, names []string) []replay.Record {
	var out []replay.Record
	for _, r := range all {
		if (!from.IsZero() && !r.Time.After(from)) || (!to.IsZero() && r.Time.After(to)) ||
			(len(names) > 0 && !slices.Contains(names, r.Layer)) {
			continue
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b replay.Record) int {
		switch {
		case replay.Less(&a, &b):
			return -1
		case replay.Less(&b, &a):
			return 1
		}
		return strings.Compare(a.Layer, b.Layer)
	})
	return out
}

func testRangeOrder(t *testing.T, s replay.Store) {
	a10 := Rec("l", "a", 10*time.Second, 1, 1, 1, `{"v":1}`)
	b10 := Rec("m", "b", 10*time.Second, 2, 1, 1, "")
	b10.Server = a10.Server.Add(time.Millisecond) // same time, later server time
	a20 := Rec("l", "a", 20*time.Second, 5, 1, 1, "")
	b20 := Rec("m", "b", 20*time.Second, 4, 1, 1, "") // same time and server time, lower seq
	lateDel := replay.Record{Layer: "l", ID: "a", Time: T0.Add(30 * time.Second), Server: T0.Add(time.Hour), Seq: 9, Epoch: "e1", Op: replay.OpLate}
	d30 := Del("m", "b", 30*time.Second, 6)
	mustAppend(t, s, d30, a20, lateDel)
	mustAppend(t, s, b20, b10, a10, Rec("l", "c", 0, 7, 1, 1, ""))
	got := rangeAll(t, s, T0, T0.Add(30*time.Second), nil, geo.Rect{})
	want := []replay.Record{a10, b10, b20, a20, d30, lateDel}
	if keys(got) != keys(want) {
		t.Fatalf("Range(0s, 30s] = %s\nwant %s", keys(got), keys(want))
	}
	for i := range want {
		if !equal(got[i], want[i]) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	// from exclusive, to inclusive; zero bounds are open.
	if got := rangeAll(t, s, T0.Add(10*time.Second), T0.Add(20*time.Second), nil, geo.World); keys(got) != "m/b@20s:upsert l/a@20s:upsert " {
		t.Errorf("Range(10s, 20s] = %s", keys(got))
	}
	if got := rangeAll(t, s, time.Time{}, T0.Add(10*time.Second-time.Millisecond), nil, geo.World); keys(got) != "l/c@0s:upsert " {
		t.Errorf("Range(-inf, 9.999s] = %s", keys(got))
	}
	if got := rangeAll(t, s, T0.Add(20*time.Second), time.Time{}, nil, geo.World); len(got) != 2 {
		t.Errorf("Range(20s, inf) = %s, want the delete and the late delete", keys(got))
	}
	if got := rangeAll(t, s, T0.Add(time.Hour), time.Time{}, nil, geo.World); len(got) != 0 {
		t.Errorf("Range after the last record = %s", keys(got))
	}
	if got := rangeAll(t, s, T0, T0.Add(time.Minute), []string{"nope"}, geo.World); len(got) != 0 {
		t.Errorf("Range of an unknown layer = %s", keys(got))
	}
}

func testRangeLayers(t *testing.T, s replay.Store) {
	rng := rand.New(rand.NewPCG(7, 1))
	all := RandomRecords(rng, 300, time.Hour, 0)
	mustAppend(t, s, all...)
	from, to := T0.Add(10*time.Minute), T0.Add(40*time.Minute)
	for _, names := range [][]string{nil, {"k.b"}, {"k.c", "k.a"}} {
		want := ReferenceRange(all, from, to, names)
		if got := rangeAll(t, s, from, to, names, geo.World); keys(got) != keys(want) {
			t.Errorf("Range(%v) =\n %s\nwant\n %s", names, keys(got), keys(want))
		}
	}
	// bbox never hides a record: an entity leaving the box must still be
	// deleted by the session that showed it.
	box := geo.Rect{MinX: 108.1, MinY: 16.0, MaxX: 108.2, MaxY: 16.1}
	if got, want := rangeAll(t, s, from, to, []string{"k.b"}, box), ReferenceRange(all, from, to, []string{"k.b"}); len(got) != len(want) {
		t.Errorf("Range with a bbox returned %d records, want all %d of the layer", len(got), len(want))
	}
}

func testRangeLarge(t *testing.T, s replay.Store) {
	rng := rand.New(rand.NewPCG(9, 9))
	var all []replay.Record
	for range 10 {
		batch := RandomRecords(rng, 2000, 24*time.Hour, uint64(len(all)))
		all = append(all, batch...)
		mustAppend(t, s, batch...)
	}
	n := 0
	var prev replay.Record
	err := s.Range(context.Background(), time.Time{}, time.Time{}, nil, geo.Rect{}, func(r replay.Record) error {
		if n > 0 && replay.Less(&r, &prev) {
			return fmt.Errorf("record %d out of history order: %s after %s", n, keys([]replay.Record{r}), keys([]replay.Record{prev}))
		}
		prev = r
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(all) {
		t.Errorf("Range over everything streamed %d records, want %d", n, len(all))
	}
	from, to := T0.Add(5*time.Hour), T0.Add(17*time.Hour)
	if got, want := rangeAll(t, s, from, to, []string{"k.a"}, geo.World), ReferenceRange(all, from, to, []string{"k.a"}); keys(got) != keys(want) {
		t.Errorf("Range(5h, 17h] of k.a: %d records, want %d", len(got), len(want))
	}
}

func testRangeStop(t *testing.T, s replay.Store) {
	rng := rand.New(rand.NewPCG(3, 3))
	mustAppend(t, s, RandomRecords(rng, 5000, time.Hour, 0)...)
	stop := fmt.Errorf("enough")
	n := 0
	err := s.Range(context.Background(), time.Time{}, time.Time{}, nil, geo.World, func(replay.Record) error {
		if n++; n == 10 {
			return stop
		}
		return nil
	})
	if err != stop || n != 10 {
		t.Errorf("Range stopped by fn: err %v after %d records, want %v after 10", err, n, stop)
	}
	// The store is still usable after an early stop.
	if got := rangeAll(t, s, time.Time{}, T0.Add(time.Minute), []string{"k.a"}, geo.World); len(got) == 0 {
		t.Errorf("Range after an early stop returned nothing")
	}
}
