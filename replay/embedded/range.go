package embedded

import (
	"bytes"
	"container/heap"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/replay"
)

// Range merges the per-layer time indexes (each already in history order,
// tkey = time, server, seq, epoch) and decodes each record from the rec
// bucket. bbox is not used: see replay.Store.
func (s *Store) Range(ctx context.Context, from, to time.Time, names []string, _ geo.Rect, fn func(replay.Record) error) error {
	return s.db.View(func(tx *bbolt.Tx) error {
		tb, rb := tx.Bucket(bucketTime), tx.Bucket(bucketRec)
		if len(names) == 0 {
			names = layerNames(tb)
		}
		var start, end []byte
		if !from.IsZero() {
			start = timeKey(replay.MS(from).Add(time.Millisecond)) // from is exclusive
		}
		if !to.IsZero() {
			end = timeKey(replay.MS(to).Add(time.Millisecond)) // to is inclusive
		}
		h := &cursors{}
		for _, layer := range slices.Compact(slices.Sorted(slices.Values(names))) {
			b := tb.Bucket([]byte(layer))
			if b == nil {
				continue
			}
			lc := &layerCursor{layer: layer, c: b.Cursor(), rec: rb.Bucket([]byte(layer)), end: end}
			if start == nil {
				lc.k, lc.v = lc.c.First()
			} else {
				lc.k, lc.v = lc.c.Seek(start)
			}
			if lc.valid() {
				h.items = append(h.items, lc)
			}
		}
		heap.Init(h)
		n := 0
		for h.Len() > 0 {
			if n++; n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			lc := h.items[0]
			r, err := lc.record()
			if err != nil {
				return err
			}
			if err := fn(r); err != nil {
				return err
			}
			lc.k, lc.v = lc.c.Next()
			if lc.valid() {
				heap.Fix(h, 0)
			} else {
				heap.Pop(h)
			}
		}
		return ctx.Err()
	})
}

// layerCursor walks one layer's time index.
type layerCursor struct {
	layer string
	c     *bbolt.Cursor
	rec   *bbolt.Bucket
	end   []byte
	k, v  []byte
}

func (l *layerCursor) valid() bool {
	return l.k != nil && (l.end == nil || bytes.Compare(l.k, l.end) < 0)
}

func (l *layerCursor) record() (replay.Record, error) {
	var r replay.Record
	id := string(l.v[33:])
	var v []byte
	if l.rec != nil {
		v = l.rec.Get(recKey(id, l.k))
	}
	if v == nil {
		return r, fmt.Errorf("history: %s/%s: time index points at a missing record", l.layer, id)
	}
	if err := json.Unmarshal(v, &r); err != nil {
		return r, fmt.Errorf("history: decode %s/%s: %w", l.layer, id, err)
	}
	return r, nil
}

// cursors is a min-heap of layer cursors by (tkey, layer): history order.
type cursors struct{ items []*layerCursor }

func (h *cursors) Len() int { return len(h.items) }
func (h *cursors) Less(i, j int) bool {
	if c := bytes.Compare(h.items[i].k, h.items[j].k); c != 0 {
		return c < 0
	}
	return h.items[i].layer < h.items[j].layer
}
func (h *cursors) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *cursors) Push(x any)    { h.items = append(h.items, x.(*layerCursor)) }
func (h *cursors) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}
