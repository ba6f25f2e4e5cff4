package replay_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/replay"
	"github.com/danang-ioc/ioc/replay/replaytest"
)

// rangeLog records the span of history each Range call asks for.
type rangeLog struct {
	replay.Store
	mu    sync.Mutex
	calls [][2]time.Time
}

func (r *rangeLog) Range(ctx context.Context, from, to time.Time, layers []string, bbox geo.Rect, fn func(replay.Record) error) error {
	r.mu.Lock()
	r.calls = append(r.calls, [2]time.Time{from, to})
	r.mu.Unlock()
	return r.Store.Range(ctx, from, to, layers, bbox, fn)
}

// TestSessionReadsAboutOneChunkPerRange: at 3600x the read-ahead is two
// hours of history; on dense history a Range call must ask for about what
// one chunk holds, not the whole read-ahead, so that a database reads what
// the session keeps. The replay still delivers everything, in order.
func TestSessionReadsAboutOneChunkPerRange(t *testing.T) {
	// One record every 180 ms for an hour, then three quiet hours: 10,000
	// records (a chunk) per 1,800 s of the first hour.
	var recs []replay.Record
	for i := range 20000 {
		recs = append(recs, replaytest.Rec("l", fmt.Sprintf("e%02d", i%50), time.Duration(i+1)*180*time.Millisecond, uint64(i+1), 108.2, 16.05, ""))
	}
	logged := &rangeLog{Store: newStore(t, recs...)}
	h := start(t, logged, replay.Request{From: t0, To: t0.Add(4 * time.Hour), Speed: 3600}, nil)
	h.snapshotOK(h.next(), t0, nil, geo.Rect{})
	h.settle(1)
	h.clock.Advance(4 * time.Second) // the whole span is due
	var last frame
	for last.Type != "replay_end" {
		f := h.next()
		if f.Type == "diff" && f.Time.Before(last.Time) {
			t.Fatalf("diff out of order: %s", f.raw)
		}
		last = f
	}
	logged.mu.Lock()
	defer logged.mu.Unlock()
	if len(logged.calls) < 3 {
		t.Fatalf("Range called %d times for 20,000 records; want one per chunk of 10,000", len(logged.calls))
	}
	// The first call asks for the read-ahead (2 h) and is cut at a chunk;
	// later ones in the dense hour ask for what a chunk held (1,800 s).
	for i, c := range logged.calls[1:] {
		if span := c[1].Sub(c[0]); c[0].Before(t0.Add(time.Hour)) && span > 2*1800*time.Second {
			t.Errorf("Range call %d asked for %v of history; want about one chunk (1800s)", i+2, span)
		}
	}
	st, err := logged.StateAt(context.Background(), t0.Add(time.Hour), nil, geo.World)
	if err != nil || len(st) != 50 {
		t.Fatalf("StateAt(To) = %d, %v", len(st), err)
	}
}
