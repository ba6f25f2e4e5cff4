package embedded

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/replay"
)

// fold computes, per layer, each live entity's latest entry at at: the
// nearest keyframe at or before at, then the time index from just after the
// keyframe up to at. names empty means every layer.
func (s *Store) fold(ctx context.Context, tx *bbolt.Tx, at time.Time, names []string) (map[string]map[string]entry, error) {
	frame, frameAt := keyframeAt(tx, at)
	if len(names) == 0 {
		names = layerNames(tx.Bucket(bucketTime))
	}
	states := make(map[string]map[string]entry, len(names))
	for _, layer := range slices.Compact(slices.Sorted(slices.Values(names))) {
		ents := map[string]entry{}
		start := []byte(nil)
		if frame != nil {
			loadFrame(frame.Bucket([]byte(layer)), ents)
			start = timeKey(frameAt.Add(time.Millisecond))
		}
		if err := s.replayLayer(ctx, tx.Bucket(bucketTime).Bucket([]byte(layer)), start, at, ents); err != nil {
			return nil, err
		}
		states[layer] = ents
	}
	return states, nil
}

// keyframeAt returns the latest keyframe at or before at, or nil.
func keyframeAt(tx *bbolt.Tx, at time.Time) (*bbolt.Bucket, time.Time) {
	kf := tx.Bucket(bucketKF)
	c := kf.Cursor()
	want := timeKey(at)
	k, _ := c.Seek(want)
	switch {
	case k == nil:
		k, _ = c.Last()
	case !bytes.Equal(k, want):
		k, _ = c.Prev()
	}
	if k == nil {
		return nil, time.Time{}
	}
	return kf.Bucket(k), getTime(k)
}

func layerNames(b *bbolt.Bucket) []string {
	var names []string
	_ = b.ForEachBucket(func(k []byte) error {
		names = append(names, string(k))
		return nil
	})
	return names
}

func loadFrame(b *bbolt.Bucket, ents map[string]entry) {
	if b == nil {
		return
	}
	_ = b.ForEach(func(k, v []byte) error {
		ents[string(k)] = kfEntry(v)
		return nil
	})
}

// replayLayer applies the time index entries in [start, at] to ents. The
// index is in history order, so the last entry seen for an id wins.
func (s *Store) replayLayer(ctx context.Context, b *bbolt.Bucket, start []byte, at time.Time, ents map[string]entry) error {
	if b == nil {
		return nil
	}
	end := timeKey(at.Add(time.Millisecond))
	c := b.Cursor()
	k, v := c.First()
	if start != nil {
		k, v = c.Seek(start)
	}
	n := int64(0)
	defer func() { s.scanned.Add(n) }()
	for ; k != nil && bytes.Compare(k, end) < 0; k, v = c.Next() {
		if n++; n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		id := string(v[33:])
		switch v[0] {
		case opObserved:
			ents[id] = entry{tkey: slices.Clone(k), bbox: getBBox(v[1:])}
		case opDelete:
			delete(ents, id)
		}
	}
	return nil
}

// recordsOf decodes the records of the entries whose bbox meets bbox,
// ordered by id.
func recordsOf(tx *bbolt.Tx, layer string, ents map[string]entry, bbox geo.Rect) ([]replay.Record, error) {
	rb := tx.Bucket(bucketRec).Bucket([]byte(layer))
	var out []replay.Record
	for _, id := range sortedKeys(ents) {
		e := ents[id]
		if !(geo.Rect{MinX: e.bbox[0], MinY: e.bbox[1], MaxX: e.bbox[2], MaxY: e.bbox[3]}).Intersects(bbox) {
			continue
		}
		var v []byte
		if rb != nil {
			v = rb.Get(recKey(id, e.tkey))
		}
		if v == nil {
			return nil, fmt.Errorf("history: %s/%s: time index points at a missing record", layer, id)
		}
		var r replay.Record
		if err := json.Unmarshal(v, &r); err != nil {
			return nil, fmt.Errorf("history: decode %s/%s: %w", layer, id, err)
		}
		out = append(out, r)
	}
	return out, nil
}
