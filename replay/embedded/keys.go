package embedded

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/danang-ioc/ioc/replay"
)

// Key layout. Every key sorts by bytes in the order queries scan it:
//
//	rec/<layer>/  len32(id) id tkey   -> JSON record      (History, Series)
//	time/<layer>/ tkey                -> op bbox id        (StateAt fold)
//	kf/<at>/<layer>/ id               -> tkey bbox         (keyframes)
//
// tkey = be64(observation ms) be64(server ms) be64(seq) epoch: history
// order, and unique per change so re-appending a record overwrites it
// instead of duplicating it. Times are flipped on the sign bit so that
// negative ones sort first. The id is length-prefixed rather than
// terminated, so no id can be a prefix of another's keys.
var (
	bucketRec  = []byte("rec")
	bucketTime = []byte("time")
	bucketKF   = []byte("kf")
)

// Entry ops in the time index.
const (
	opObserved byte = 'o' // a state of the entity: becomes the latest
	opDelete   byte = 'd' // removes the entity
	opIgnore   byte = 'x' // a late delete: no time of its own, changes no state
)

const tkeyFixed = 24 // the fixed part of a tkey, before the epoch

func putTime(b []byte, t time.Time) {
	binary.BigEndian.PutUint64(b, uint64(t.UnixMilli())^(1<<63))
}

func getTime(b []byte) time.Time {
	return time.UnixMilli(int64(binary.BigEndian.Uint64(b) ^ (1 << 63))).UTC()
}

// timeKey is the 8-byte key of a time alone: it sorts before every tkey of
// that millisecond.
func timeKey(t time.Time) []byte {
	b := make([]byte, 8)
	putTime(b, t)
	return b
}

func tkey(r *replay.Record) []byte {
	b := make([]byte, tkeyFixed, tkeyFixed+len(r.Epoch))
	putTime(b, r.Time)
	putTime(b[8:], r.Server)
	binary.BigEndian.PutUint64(b[16:], r.Seq)
	return append(b, r.Epoch...)
}

func idPrefix(id string) []byte {
	b := make([]byte, 4, 4+len(id)+tkeyFixed)
	binary.BigEndian.PutUint32(b, uint32(len(id)))
	return append(b, id...)
}

func recKey(id string, tk []byte) []byte { return append(idPrefix(id), tk...) }

func opOf(r *replay.Record) byte {
	switch {
	case r.Deleted():
		return opDelete
	case r.Observed():
		return opObserved
	}
	return opIgnore
}

func putBBox(b []byte, bb [4]float64) {
	for i, v := range bb {
		binary.BigEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
}

func getBBox(b []byte) [4]float64 {
	var bb [4]float64
	for i := range bb {
		bb[i] = math.Float64frombits(binary.BigEndian.Uint64(b[8*i:]))
	}
	return bb
}

// timeValue is the time index's value: op, bbox, id.
func timeValue(r *replay.Record) []byte {
	b := make([]byte, 33, 33+len(r.ID))
	b[0] = opOf(r)
	putBBox(b[1:], r.BBox)
	return append(b, r.ID...)
}

// entry is an entity's latest state while folding: where its record is and
// its bbox, so the bbox filter runs before any record is decoded.
type entry struct {
	tkey []byte
	bbox [4]float64
}

func kfValue(e entry) []byte {
	b := make([]byte, 32, 32+len(e.tkey))
	putBBox(b, e.bbox)
	return append(b, e.tkey...)
}

func kfEntry(v []byte) entry {
	return entry{bbox: getBBox(v), tkey: append([]byte(nil), v[32:]...)}
}
