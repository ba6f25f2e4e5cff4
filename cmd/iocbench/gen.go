package main

import (
	"math/rand/v2"
	"strconv"
	"time"
)

// box is w, s, e, n in degrees.
type box [4]float64

// Da Nang as a whole, and its dense urban core (Hải Châu, Thanh Khê, the
// river banks and the beach), where most sensors and most viewers are.
var (
	daNang    = box{107.82, 15.92, 108.34, 16.22}
	urbanCore = box{108.15, 15.98, 108.26, 16.10}
)

// coreShare is the fraction of entities (and of viewport centres) placed
// in the urban core; the rest are spread over the whole city.
const coreShare = 0.7

// Metres per degree at Da Nang's latitude (16°N).
const (
	metresPerDegLon = 107_000.0
	metresPerDegLat = 110_600.0
)

// entity is one simulated sensor: fixed id, layer and position.
type entity struct {
	id       string
	layer    string
	lon, lat float64
}

// pool is the set of entities events are drawn from, spread over Da Nang.
// Entity i belongs to layers[i % len(layers)].
type pool struct {
	entities []entity
	layers   []string
}

func newPool(n int, layerNames []string, seed uint64) *pool {
	rng := rand.New(rand.NewPCG(seed, 1))
	p := &pool{entities: make([]entity, n), layers: layerNames}
	for i := range p.entities {
		lon, lat := randomPlace(rng)
		p.entities[i] = entity{id: "e-" + strconv.Itoa(i), layer: layerNames[i%len(layerNames)], lon: lon, lat: lat}
	}
	return p
}

func randomPlace(rng *rand.Rand) (lon, lat float64) {
	b := daNang
	if rng.Float64() < coreShare {
		b = urbanCore
	}
	return b[0] + rng.Float64()*(b[2]-b[0]), b[1] + rng.Float64()*(b[3]-b[1])
}

// randomViewport is a box of 2–4 km a side centred on a place drawn like
// the entities, kept inside Da Nang.
func randomViewport(rng *rand.Rand) box {
	lon, lat := randomPlace(rng)
	halfW := (2000 + rng.Float64()*2000) / metresPerDegLon / 2
	halfH := (2000 + rng.Float64()*2000) / metresPerDegLat / 2
	lon = min(max(lon, daNang[0]+halfW), daNang[2]-halfW)
	lat = min(max(lat, daNang[1]+halfH), daNang[3]-halfH)
	return box{lon - halfW, lat - halfH, lon + halfW, lat + halfH}
}

var statuses = [...]string{"ok", "degraded", "offline", "maintenance"}

// appendEvent writes one NDJSON line of about 260 bytes: a point event
// observed at obs, with five small properties whose values change on every
// call so that no event is dropped as a duplicate.
func appendEvent(b []byte, e *entity, obs []byte, rng *rand.Rand) []byte {
	b = append(b, `{"layer":"`...)
	b = append(b, e.layer...)
	b = append(b, `","id":"`...)
	b = append(b, e.id...)
	b = append(b, `","time":"`...)
	b = append(b, obs...)
	b = append(b, `","geometry":{"type":"Point","coordinates":[`...)
	b = strconv.AppendFloat(b, e.lon, 'f', 7, 64)
	b = append(b, ',')
	b = strconv.AppendFloat(b, e.lat, 'f', 7, 64)
	b = append(b, `]},"properties":{"status":"`...)
	b = append(b, statuses[rng.IntN(len(statuses))]...)
	b = append(b, `","value":`...)
	b = strconv.AppendFloat(b, rng.Float64()*500, 'f', 2, 64)
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, int64(rng.IntN(10000)), 10)
	b = append(b, `,"quality":`...)
	b = strconv.AppendFloat(b, rng.Float64(), 'f', 3, 64)
	b = append(b, `,"source":"iocbench-gateway-`...)
	b = strconv.AppendInt(b, int64(rng.IntN(100)), 10)
	return append(b, "\"}}\n"...)
}

// batchBuilder builds NDJSON bodies; each sender owns one.
type batchBuilder struct {
	pool *pool
	rng  *rand.Rand
	buf  []byte
	ts   []byte
	// singleLayer makes each random batch hold one layer only, the next
	// layer in turn on each call, like a feed per sensor system; otherwise
	// a batch mixes every layer, like a gateway forwarding them all.
	singleLayer bool
	next        int
}

func newBatchBuilder(p *pool, seed uint64, singleLayer bool) *batchBuilder {
	return &batchBuilder{pool: p, rng: rand.New(rand.NewPCG(seed, 2)), singleLayer: singleLayer}
}

// random builds n events of entities drawn at random, all observed at obs.
// The returned slice is reused by the next call.
func (bb *batchBuilder) random(n int, obs time.Time) []byte {
	bb.stamp(obs)
	bb.buf = bb.buf[:0]
	layers, entities := len(bb.pool.layers), len(bb.pool.entities)
	layer := bb.next % layers
	bb.next++
	rows := entities / layers // entity row*layers+layer is in layer
	for range n {
		i := bb.rng.IntN(entities)
		if bb.singleLayer && rows > 0 {
			i = bb.rng.IntN(rows)*layers + layer
		}
		bb.buf = appendEvent(bb.buf, &bb.pool.entities[i], bb.ts, bb.rng)
	}
	return bb.buf
}

// span builds the events of entities [from, to), for loading every entity
// exactly once.
func (bb *batchBuilder) span(from, to int, obs time.Time) []byte {
	bb.stamp(obs)
	bb.buf = bb.buf[:0]
	for i := from; i < to; i++ {
		bb.buf = appendEvent(bb.buf, &bb.pool.entities[i], bb.ts, bb.rng)
	}
	return bb.buf
}

func (bb *batchBuilder) stamp(obs time.Time) {
	bb.ts = obs.UTC().AppendFormat(bb.ts[:0], time.RFC3339Nano)
}
