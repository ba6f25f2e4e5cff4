// Package replay keeps the history of every layer: each change the layers
// emit becomes one Record in a Store, written off the live path by a Writer
// (batched, retried, spooled to disk while the store is down), and read back
// by entity (History, Series) or as the whole city at a moment (StateAt).
//
// The Store interface is shaped by its consumers (the HTTP queries here, and
// later replay over WebSocket and restart recovery), so that the embedded
// bbolt store and a ClickHouse store are interchangeable; both must pass
// replaytest.RunConformance.
package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
)

// Op is what a stored change did; the names are the layers.Kind names.
type Op string

// The ops a Record carries.
const (
	OpUpsert Op = "upsert"
	OpDelete Op = "delete"
	OpStale  Op = "stale"
	OpLate   Op = "late"
)

// Record is one stored change of one entity. Times have millisecond
// precision: that is what every backend keeps, so a record reads back equal
// to what was written.
type Record struct {
	Layer  string    `json:"layer"`
	ID     string    `json:"id"`
	Time   time.Time `json:"time"`       // observation time: orders history
	Server time.Time `json:"serverTime"` // when this server applied the change
	Seq    uint64    `json:"seq"`        // change sequence, unique within Epoch
	Epoch  string    `json:"epoch"`
	Op     Op        `json:"op"`
	Stale  bool      `json:"stale,omitempty"`
	// Geometry is GeoJSON; nil for deletes.
	Geometry json.RawMessage `json:"geometry,omitempty"`
	// BBox is [minx, miny, maxx, maxy]; for a delete, where the entity was.
	BBox       [4]float64      `json:"bbox"`
	Properties json.RawMessage `json:"properties,omitempty"`
	// Area is the district code the area tagger put in the properties.
	Area string `json:"area,omitempty"`
}

// Deleted reports whether the record removes its entity. A late delete
// (op late without geometry) removed nothing live and its observation time is
// unknown (see RecordOf), so it is kept for audit but never deletes in
// StateAt.
func (r *Record) Deleted() bool { return r.Op == OpDelete }

// Observed reports whether the record carries a state of the entity (an
// upsert, a stale mark or a late observation), as opposed to a deletion.
func (r *Record) Observed() bool { return r.Geometry != nil }

// Rect returns the record's bounding box.
func (r *Record) Rect() geo.Rect {
	return geo.Rect{MinX: r.BBox[0], MinY: r.BBox[1], MaxX: r.BBox[2], MaxY: r.BBox[3]}
}

// Bucket aggregates the numeric values of one property over [Start,
// Start+step).
type Bucket struct {
	Start time.Time `json:"start"`
	Count int       `json:"count"`
	Min   float64   `json:"min"`
	Max   float64   `json:"max"`
	Avg   float64   `json:"avg"`
	Last  float64   `json:"last"` // the value with the latest observation time
}

// Store keeps records and answers history queries. Implementations must be
// safe for concurrent use and pass replaytest.RunConformance.
//
// Conventions every implementation follows (the conformance suite checks
// them):
//   - ranges are by observation time, from inclusive, to exclusive; a zero
//     from or to leaves that side open;
//   - results are ordered by (Time, Server, Seq), oldest first;
//   - no data is an empty result, never an error;
//   - Append is atomic per call: all of the batch is stored or none of it.
type Store interface {
	// Append stores records, in any order of time (late records included).
	Append(ctx context.Context, recs []Record) error
	// History returns one entity's records in [from, to), at most limit of
	// them (limit <= 0: all), oldest first.
	History(ctx context.Context, layer, id string, from, to time.Time, limit int) ([]Record, error)
	// Series buckets the numeric values of a top-level property of one
	// entity over [from, to) in steps of step aligned on from. Only buckets
	// holding at least one value are returned. Deletes and stale marks
	// (which repeat an observation) are not values.
	Series(ctx context.Context, layer, id, property string, from, to time.Time, step time.Duration) ([]Bucket, error)
	// StateAt returns, for each entity of the named layers (none named: all
	// layers), its latest record with Time <= at, unless that record is a
	// delete; of those, the ones whose bbox intersects bbox (geo.World for
	// all). Ordered by layer, then id.
	StateAt(ctx context.Context, at time.Time, layers []string, bbox geo.Rect) ([]Record, error)
	// Keyframe folds the history up to at (inclusive) into a snapshot, so
	// that StateAt(T >= at) reads only the snapshot and what follows it.
	// Keyframes never change answers: a record appended later with Time <=
	// at must still be reflected (the embedded store drops such keyframes).
	Keyframe(ctx context.Context, at time.Time) error
	// Range streams to fn, in history order (Time, Server, Seq, Epoch), every
	// record with from < Time <= to (note: from exclusive, to inclusive, so
	// that StateAt(from) followed by Range(from, to] is the history up to
	// to) of the named layers (none named: all layers). A zero from or to
	// leaves that side open. Late deletes are included.
	//
	// bbox is a hint, not a filter: a record leaving the box must still
	// reach a replay session so that it deletes the entity it had shown, so
	// stores deliver every record of the layers in range (today both ignore
	// bbox) and the caller filters with its own view (see Session). A zero
	// Rect means everywhere.
	//
	// fn is called without any store lock held that writers wait for, but
	// the embedded store keeps a read transaction open while Range runs:
	// callers read bounded chunks (Session does) rather than pacing inside
	// fn. If fn returns an error, Range stops and returns it unchanged.
	Range(ctx context.Context, from, to time.Time, layers []string, bbox geo.Rect, fn func(Record) error) error
	Close() error
}

// RecordOf turns a change of the live layers into a Record.
//
// A layers.Change does not carry a delete's own observation time (New is
// nil, Old is the state deleted), so a delete is recorded at the later of
// the deleted state's time and the server time of the change; a late delete
// is recorded at the deleted-from state's time and never deletes in StateAt.
func RecordOf(epoch string, c layers.Change) Record {
	r := Record{
		Layer:  c.Layer(),
		ID:     c.ID(),
		Server: ms(c.At),
		Seq:    c.Seq,
		Epoch:  epoch,
		Op:     Op(c.Kind.String()),
	}
	f := c.New
	if f == nil {
		f = c.Old
		r.Time = ms(f.Time)
		if c.Kind == layers.KindDelete && c.At.After(f.Time) {
			r.Time = ms(c.At)
		}
	} else {
		r.Time = ms(f.Time)
		r.Stale = f.Stale
		r.Geometry = geo.AppendGeoJSON(nil, f.Geometry)
		if len(f.Properties) > 0 {
			r.Properties = bytes.Clone(f.Properties)
		}
		r.Area = districtCode(f.Properties)
	}
	r.BBox = [4]float64{f.Bounds.MinX, f.Bounds.MinY, f.Bounds.MaxX, f.Bounds.MaxY}
	return r
}

// ms truncates t to milliseconds in UTC, the precision history keeps.
func ms(t time.Time) time.Time { return t.Truncate(time.Millisecond).UTC() }

// MS truncates t to the millisecond precision history keeps; stores use it
// so that what they return equals what RecordOf built.
func MS(t time.Time) time.Time { return ms(t) }

// districtCode reads the districtCode member the area tagger adds. The
// bytes.Contains check skips the decode for the many layers without it.
func districtCode(props json.RawMessage) string {
	if !bytes.Contains(props, []byte(`"districtCode"`)) {
		return ""
	}
	var v struct {
		Code string `json:"districtCode"`
	}
	if json.Unmarshal(props, &v) != nil {
		return ""
	}
	return v.Code
}

// Less orders records by (Time, Server, Seq, Epoch): history order.
func Less(a, b *Record) bool {
	if !a.Time.Equal(b.Time) {
		return a.Time.Before(b.Time)
	}
	if !a.Server.Equal(b.Server) {
		return a.Server.Before(b.Server)
	}
	if a.Seq != b.Seq {
		return a.Seq < b.Seq
	}
	return a.Epoch < b.Epoch
}
