package replay

import (
	"context"
	"fmt"
	"time"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
)

// Restore rebuilds the live layers from history, so that a restart does
// not blank the wall: the state as observed at now (the nearest keyframe
// plus what followed, see StateAt) is applied to live, whose TTLs then mark
// whatever has gone silent as stale. It returns how many entities it
// restored and the change sequence after them, from which the history
// writer must start (WriterConfig.StartAfter) so the restored state is not
// written to history a second time.
func Restore(ctx context.Context, store Store, live *layers.Store, now time.Time) (int, uint64, error) {
	recs, err := store.StateAt(ctx, now, nil, geo.World)
	if err != nil {
		return 0, live.Log().Last(), fmt.Errorf("restore: state at %v: %w", now, err)
	}
	const batch = 10000
	events := make([]layers.Event, 0, min(len(recs), batch))
	n := 0
	for i := range recs {
		ev, err := eventOf(&recs[i])
		if err != nil {
			return n, live.Log().Last(), fmt.Errorf("restore: %s/%s: %w", recs[i].Layer, recs[i].ID, err)
		}
		events = append(events, ev)
		if len(events) == batch || i == len(recs)-1 {
			live.Apply(events)
			n += len(events)
			events = events[:0]
		}
	}
	return n, live.Log().Last(), nil
}

// eventOf turns a stored upsert back into the event that made it.
func eventOf(r *Record) (layers.Event, error) {
	g, err := geo.Decode(r.Geometry)
	if err != nil {
		return layers.Event{}, fmt.Errorf("stored geometry: %w", err)
	}
	return layers.Event{Layer: r.Layer, ID: r.ID, Time: r.Time, Geometry: g, Properties: r.Properties}, nil
}
