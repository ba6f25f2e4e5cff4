package embedded

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/replay"
	"github.com/danang-ioc/ioc/replay/replaytest"
)

func TestConformance(t *testing.T) {
	replaytest.RunConformance(t, func(t *testing.T) replay.Store {
		s, err := Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestKeyframeBoundsTheScan: a seek reads the keyframe and what follows it,
// not the whole history.
func TestKeyframeBoundsTheScan(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs := replaytest.RandomRecords(rand.New(rand.NewPCG(1, 1)), 2000, time.Hour, 0)
	if err := s.Append(ctx, recs); err != nil {
		t.Fatal(err)
	}
	at := replaytest.T0.Add(55 * time.Minute)
	before, err := s.StateAt(ctx, at, nil, geo.World)
	if err != nil {
		t.Fatal(err)
	}
	full := s.scanned.Swap(0)
	if err := s.Keyframe(ctx, replaytest.T0.Add(50*time.Minute)); err != nil {
		t.Fatal(err)
	}
	s.scanned.Store(0)
	after, err := s.StateAt(ctx, at, nil, geo.World)
	if err != nil {
		t.Fatal(err)
	}
	if seek := s.scanned.Load(); seek*5 > full {
		t.Errorf("with a keyframe 5 min before T the seek scanned %d entries, without %d", seek, full)
	}
	if len(after) != len(before) {
		t.Fatalf("keyframe changed the answer: %d vs %d entities", len(after), len(before))
	}
}

// TestReopen: history survives closing the store.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Append(ctx, []replay.Record{replaytest.Rec("l", "a", 0, 1, 1, 1, `{"v":1}`)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.History(ctx, "l", "a", time.Time{}, time.Time{}, 0)
	if err != nil || len(got) != 1 || string(got[0].Properties) != `{"v":1}` {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
}
