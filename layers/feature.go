// Package layers keeps the live state of the city: per layer, the latest
// feature of every entity, indexed by location. Every change to a layer is
// one Change record (old and new state, sequence number, time) written to a
// bounded change log that the push hub, and later history and incident rules,
// all read.
package layers

import (
	"encoding/json"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
)

// Op is what an event does to its entity.
type Op uint8

// The operations an event can carry.
const (
	OpUpsert Op = iota // create or replace the entity's state (default)
	OpDelete           // remove the entity from the layer
)

func (o Op) String() string {
	if o == OpDelete {
		return "delete"
	}
	return "upsert"
}

// Event is one observation of one entity, already validated by its stream.
type Event struct {
	Layer      string
	ID         string
	Op         Op
	Time       time.Time       // observation time; decides ordering
	Geometry   geom.T          // required for upserts
	Properties json.RawMessage // a compact JSON object, or nil
}

// Feature is the state of one entity. Features are immutable once built, so
// readers may keep and encode them without holding any lock.
type Feature struct {
	Layer      string
	ID         string
	Time       time.Time
	Geometry   geom.T
	Bounds     geo.Rect
	Properties json.RawMessage
	Stale      bool
	encoded    []byte
}

// JSON returns the feature's GeoJSON encoding, computed once when the
// feature was built and shared by every message that carries it.
func (f *Feature) JSON() []byte { return f.encoded }

func newFeature(ev *Event, stale bool) *Feature {
	f := &Feature{
		Layer:      ev.Layer,
		ID:         ev.ID,
		Time:       ev.Time,
		Geometry:   ev.Geometry,
		Bounds:     geo.BoundsOf(ev.Geometry),
		Properties: ev.Properties,
		Stale:      stale,
	}
	f.encode()
	return f
}

// withStale returns a copy of f with its stale flag set to stale.
func (f *Feature) withStale(stale bool) *Feature {
	c := *f
	c.Stale = stale
	c.encode()
	return &c
}

// encode sets f.encoded to exactly the bytes of the encoding, and points
// f.Properties into it: a live feature then holds one copy of its
// properties, and keeps no reference into the buffer the event came in.
// Small features are encoded on the stack and copied once; large ones are
// encoded straight into a buffer sized by an estimate.
func (f *Feature) encode() {
	var b []byte
	if est := 160 + 2*(len(f.ID)+len(f.Layer)) + len(f.Properties) + 20*len(f.Geometry.FlatCoords()); est > 512 {
		b = f.appendJSON(make([]byte, 0, est))
	} else {
		var buf [512]byte
		tmp := f.appendJSON(buf[:0]) // stays on the stack unless it outgrows buf
		b = append(make([]byte, 0, len(tmp)), tmp...)
	}
	f.encoded = b
	if n := len(f.Properties); n > 0 {
		end := len(b) - 1 // the Feature's closing brace follows the properties
		f.Properties = b[end-n : end : end]
	}
}

// appendJSON writes the Feature with the foreign members layer, time and
// (only when true) stale.
func (f *Feature) appendJSON(b []byte) []byte {
	b = append(b, `{"type":"Feature","id":`...)
	b = AppendJSONString(b, f.ID)
	b = append(b, `,"layer":`...)
	b = AppendJSONString(b, f.Layer)
	b = append(b, `,"time":"`...)
	b = f.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if f.Stale {
		b = append(b, `,"stale":true`...)
	}
	b = append(b, `,"geometry":`...)
	b = geo.AppendGeoJSON(b, f.Geometry)
	b = append(b, `,"properties":`...)
	if len(f.Properties) == 0 {
		b = append(b, "{}"...)
	} else {
		b = append(b, f.Properties...)
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string. s must be valid UTF-8, which
// the streams guarantee for ids and layer names.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
