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
	index    int
	id       string
	layer    string
	lon, lat float64
}

// lampsPerCabinet is how many consecutive entities share a lighting
// control cabinet.
const lampsPerCabinet = 30

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
		p.entities[i] = entity{index: i, id: "e-" + strconv.Itoa(i), layer: layerNames[i%len(layerNames)], lon: lon, lat: lat}
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

// appendEvent writes one NDJSON line of about 260 bytes: a point event
// observed at obs, with five small properties whose values change on every
// call so that no event is dropped as a duplicate. The properties are what
// the layer's module requires, so that events take iocd's full path.
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
	b = append(b, `]},"properties":{`...)
	b = appendProperties(b, e, rng)
	b = append(b, `,"source":"iocbench-gateway-`...)
	b = strconv.AppendInt(b, int64(rng.IntN(100)), 10)
	return append(b, "\"}}\n"...)
}

// appendProperties writes four layer-specific properties.
func appendProperties(b []byte, e *entity, rng *rand.Rand) []byte {
	num := func(b []byte, name string, v float64, decimals int) []byte {
		b = append(b, name...)
		return strconv.AppendFloat(b, v, 'f', decimals, 64)
	}
	switch e.layer {
	case "traffic.cameras": // vehicles counted, speed, occupancy, free-flow speed
		b = num(b, `"intensity":`, float64(rng.IntN(120)), 0)
		b = num(b, `,"averageVehicleSpeed":`, 5+rng.Float64()*60, 1)
		b = num(b, `,"occupancy":`, rng.Float64(), 3)
		return num(b, `,"freeFlowSpeed":`, 50, 0)
	case "environment.air": // µg/m³
		b = num(b, `"pm25":`, 5+rng.Float64()*80, 1)
		b = num(b, `,"pm10":`, 10+rng.Float64()*120, 1)
		b = num(b, `,"o3":`, rng.Float64()*150, 1)
		return num(b, `,"no2":`, rng.Float64()*90, 1)
	case "lighting.lamps":
		level := [...]int{0, 40, 70, 100}[rng.IntN(4)]
		b = append(b, `"state":"`...)
		b = append(b, [...]string{"off", "dimmed", "dimmed", "on"}[level/30]...)
		b = num(b, `","level":`, float64(level), 0)
		b = num(b, `,"powerConsumption":`, float64(level)*1.2+rng.Float64(), 2)
		b = append(b, `,"refStreetlightControlCabinet":"cab-`...)
		b = strconv.AppendInt(b, int64(e.index/lampsPerCabinet), 10)
		return append(b, '"')
	}
	b = append(b, `"status":"`...)
	b = append(b, [...]string{"ok", "degraded", "offline", "maintenance"}[rng.IntN(4)]...)
	b = num(b, `","value":`, rng.Float64()*500, 2)
	b = num(b, `,"count":`, float64(rng.IntN(10000)), 0)
	return num(b, `,"quality":`, rng.Float64(), 3)
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
