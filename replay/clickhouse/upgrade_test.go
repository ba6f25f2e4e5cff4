package clickhouse

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/replay"
	"github.com/danang-ioc/ioc/replay/replaytest"
)

// schemaV1Timeline is version 1's timeline: the fold columns only, late
// deletes left out.
const schemaV1Timeline = `CREATE TABLE %[1]s.timeline (
    layer String, time Int64, server_time Int64, seq UInt64, epoch String, id String,
    kind Int8, min_x Float64, min_y Float64, max_x Float64, max_y Float64
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(toDateTime(intDiv(time, 1000)))
ORDER BY (layer, time, server_time, seq, epoch, id)`

// TestUpgradeFromVersion1: a database written with schema version 1 (its
// narrow timeline, keyframes over it) opens as version 2 with the timeline
// rebuilt from records, so StateAt and Range answer from the full history.
func TestUpgradeFromVersion1(t *testing.T) {
	addr := testServer(t)
	ctx := context.Background()
	db := fmt.Sprintf("ioc_v1_%d_%d", os.Getpid(), dbCounter.Add(1))
	s := freshStoreNamed(t, addr, db)
	recs := replaytest.RandomRecords(rand.New(rand.NewPCG(3, 3)), 2000, 2*time.Hour, 0)
	if err := s.Append(ctx, recs); err != nil {
		t.Fatal(err)
	}
	// Turn the database into version 1: the old timeline (empty, as if its
	// rows could not serve version 2) and only version 1 recorded.
	for _, q := range []string{
		"DROP TABLE " + s.t("timeline_mv"), "DROP TABLE " + s.t("timeline"),
		fmt.Sprintf(schemaV1Timeline, db), "DROP TABLE " + s.t("schema_version"),
		"CREATE TABLE " + s.t("schema_version") + " (version UInt32, applied_ms Int64) ENGINE = MergeTree ORDER BY version",
	} {
		if err := s.conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := s.insertRow(ctx, "schema_version (version, applied_ms)", uint32(1), int64(0)); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s2 := freshStoreNamed(t, addr, db)
	defer s2.Close()
	if v, err := s2.schemaVersion(ctx); err != nil || v != SchemaVersion {
		t.Fatalf("schema version after upgrade = %d, %v; want %d", v, err, SchemaVersion)
	}
	at := replaytest.T0.Add(90 * time.Minute)
	want := replaytest.ReferenceState(recs, at, nil, geo.World)
	got, err := s2.StateAt(ctx, at, nil, geo.World)
	if err != nil || len(got) != len(want) {
		t.Fatalf("StateAt after upgrade = %d entities, %v; want %d", len(got), err, len(want))
	}
	n := 0
	if err := s2.Range(ctx, time.Time{}, time.Time{}, nil, geo.Rect{}, func(replay.Record) error { n++; return nil }); err != nil || n != len(recs) {
		t.Fatalf("Range after upgrade = %d records, %v; want %d", n, err, len(recs))
	}
}

func freshStoreNamed(t *testing.T, addr, db string) *Store {
	t.Helper()
	s, err := Open(context.Background(), Config{Addr: addr, Database: db})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestReappendKeyframeAndRange: after a batch is appended twice (a retry)
// and one record again with new content, a keyframe, StateAt through it
// and Range all see each record once, with the latest content.
func TestReappendKeyframeAndRange(t *testing.T) {
	s := freshStore(t)
	defer s.Close()
	ctx := context.Background()
	a := replaytest.Rec("l", "a", 0, 1, 1, 1, `{"v":1}`)
	b := replaytest.Rec("l", "b", time.Second, 2, 1, 1, `{"v":2}`)
	for range 2 {
		if err := s.Append(ctx, []replay.Record{a, b}); err != nil {
			t.Fatal(err)
		}
	}
	b2 := b
	b2.Properties = []byte(`{"v":3}`)
	if err := s.Append(ctx, []replay.Record{b2}); err != nil {
		t.Fatal(err)
	}
	if err := s.Keyframe(ctx, replaytest.T0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, err := s.keyframeAt(ctx, ms(replaytest.T0.Add(2*time.Minute))); err != nil || !ok {
		t.Fatalf("keyframe not found: %v", err)
	}
	st, err := s.StateAt(ctx, replaytest.T0.Add(2*time.Minute), nil, geo.World)
	if err != nil || len(st) != 2 || string(st[0].Properties) != `{"v":1}` || string(st[1].Properties) != `{"v":3}` {
		t.Fatalf("StateAt through the keyframe = %+v, %v; want a {\"v\":1} and b {\"v\":3}", st, err)
	}
	var props []string
	err = s.Range(ctx, time.Time{}, time.Time{}, nil, geo.Rect{}, func(r replay.Record) error {
		props = append(props, string(r.Properties))
		return nil
	})
	if err != nil || fmt.Sprint(props) != `[{"v":1} {"v":3}]` {
		t.Fatalf("Range = %v, %v; want each record once, b with {\"v\":3}", props, err)
	}
}
