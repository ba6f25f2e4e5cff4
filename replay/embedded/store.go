// Package embedded is the default history store: bbolt under the data
// directory, so that history works with nothing installed. It implements
// replay.Store; see keys.go for the layout.
package embedded

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/replay"
)

// FileName is the database file inside the data directory.
const FileName = "history.db"

// Store is a replay.Store on one bbolt file.
type Store struct {
	db      *bbolt.DB
	scanned atomic.Int64 // time-index entries StateAt visited; tests prove keyframes bound it
}

var _ replay.Store = (*Store)(nil)

// Open opens (creating if needed) the store in dir.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	// The timeout turns a second process on the same directory into an
	// error instead of a hang on the file lock.
	db, err := bbolt.Open(filepath.Join(dir, FileName), 0o600, &bbolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("history: open %s: %w", dir, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketRec, bucketTime, bucketKF} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("history: init: %w", err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Append stores recs in one transaction.
func (s *Store) Append(ctx context.Context, recs []replay.Record) error {
	if len(recs) == 0 {
		return ctx.Err()
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep properties byte-exact
	return s.db.Update(func(tx *bbolt.Tx) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		oldest := recs[0].Time
		for i := range recs {
			r := recs[i]
			r.Time, r.Server = replay.MS(r.Time), replay.MS(r.Server)
			oldest = minTime(oldest, r.Time)
			buf.Reset()
			if err := enc.Encode(&r); err != nil {
				return fmt.Errorf("history: encode %s/%s: %w", r.Layer, r.ID, err)
			}
			// bbolt keeps the value slice until commit: each needs its own.
			if err := put(tx, &r, bytes.Clone(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))); err != nil {
				return err
			}
		}
		return dropKeyframesFrom(tx, oldest)
	})
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func put(tx *bbolt.Tx, r *replay.Record, value []byte) error {
	rb, err := tx.Bucket(bucketRec).CreateBucketIfNotExists([]byte(r.Layer))
	if err != nil {
		return fmt.Errorf("history: layer %q: %w", r.Layer, err)
	}
	tb, err := tx.Bucket(bucketTime).CreateBucketIfNotExists([]byte(r.Layer))
	if err != nil {
		return fmt.Errorf("history: layer %q: %w", r.Layer, err)
	}
	tk := tkey(r)
	if err := rb.Put(recKey(r.ID, tk), value); err != nil {
		return err
	}
	return tb.Put(tk, timeValue(r))
}

// dropKeyframesFrom deletes the keyframes at or after t: a record observed
// at t was not folded into them, and a keyframe must never change an answer.
// Live records arrive after the keyframes the writer asks for (it lags them
// behind the clock), so this is rare outside backfills.
func dropKeyframesFrom(tx *bbolt.Tx, t time.Time) error {
	kf := tx.Bucket(bucketKF)
	var doomed [][]byte
	c := kf.Cursor()
	for k, _ := c.Seek(timeKey(t)); k != nil; k, _ = c.Next() {
		doomed = append(doomed, slices.Clone(k))
	}
	for _, k := range doomed {
		if err := kf.DeleteBucket(k); err != nil {
			return err
		}
	}
	return nil
}

// History scans the entity's keys from from to to.
func (s *Store) History(ctx context.Context, layer, id string, from, to time.Time, limit int) ([]replay.Record, error) {
	out := []replay.Record{}
	err := s.scanEntity(ctx, layer, id, from, to, func(v []byte) (bool, error) {
		var r replay.Record
		if err := json.Unmarshal(v, &r); err != nil {
			return false, fmt.Errorf("history: decode %s/%s: %w", layer, id, err)
		}
		out = append(out, r)
		return limit <= 0 || len(out) < limit, nil
	})
	return out, err
}

// scanEntity calls fn with each stored record of the entity in [from, to),
// oldest first, until fn returns false.
func (s *Store) scanEntity(ctx context.Context, layer, id string, from, to time.Time, fn func(v []byte) (bool, error)) error {
	return s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketRec).Bucket([]byte(layer))
		if b == nil {
			return nil
		}
		prefix := idPrefix(id)
		start := prefix
		if !from.IsZero() {
			start = append(slices.Clone(prefix), timeKey(from)...)
		}
		var end []byte
		if !to.IsZero() {
			end = append(slices.Clone(prefix), timeKey(to)...)
		}
		c := b.Cursor()
		for k, v := c.Seek(start); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if end != nil && bytes.Compare(k, end) >= 0 {
				return nil
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			more, err := fn(v)
			if err != nil || !more {
				return err
			}
		}
		return nil
	})
}

// Series aggregates the property over the entity's records in [from, to).
func (s *Store) Series(ctx context.Context, layer, id, property string, from, to time.Time, step time.Duration) ([]replay.Bucket, error) {
	if step <= 0 {
		return nil, fmt.Errorf("history: series step must be positive")
	}
	agg := replay.NewSeries(from, step)
	err := s.scanEntity(ctx, layer, id, from, to, func(v []byte) (bool, error) {
		var r replay.Record
		if err := json.Unmarshal(v, &r); err != nil {
			return false, fmt.Errorf("history: decode %s/%s: %w", layer, id, err)
		}
		agg.Add(&r, property)
		return true, nil
	})
	return agg.Buckets(), err
}

// StateAt folds from the nearest keyframe at or before at.
func (s *Store) StateAt(ctx context.Context, at time.Time, names []string, bbox geo.Rect) ([]replay.Record, error) {
	out := []replay.Record{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		states, err := s.fold(ctx, tx, at, names)
		if err != nil {
			return err
		}
		for _, layer := range sortedKeys(states) {
			recs, err := recordsOf(tx, layer, states[layer], bbox)
			if err != nil {
				return err
			}
			out = append(out, recs...)
		}
		return nil
	})
	return out, err
}

// Keyframe folds the history up to at and stores it as the keyframe at at.
func (s *Store) Keyframe(ctx context.Context, at time.Time) error {
	at = replay.MS(at)
	return s.db.Update(func(tx *bbolt.Tx) error {
		states, err := s.fold(ctx, tx, at, nil)
		if err != nil {
			return err
		}
		kf := tx.Bucket(bucketKF)
		key := timeKey(at)
		if kf.Bucket(key) != nil {
			if err := kf.DeleteBucket(key); err != nil {
				return err
			}
		}
		frame, err := kf.CreateBucket(key)
		if err != nil {
			return err
		}
		return writeFrame(frame, states)
	})
}

func writeFrame(frame *bbolt.Bucket, states map[string]map[string]entry) error {
	for layer, ents := range states {
		lb, err := frame.CreateBucket([]byte(layer))
		if err != nil {
			return err
		}
		// bbolt fills pages best when keys arrive in order.
		for _, id := range sortedKeys(ents) {
			if err := lb.Put([]byte(id), kfValue(ents[id])); err != nil {
				return err
			}
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
