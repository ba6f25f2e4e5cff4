package sim

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/twpayne/go-geom"
)

// builder places the city's sensors, deterministically for its rng.
type builder struct {
	rng   *rand.Rand
	land  *land
	gd    *geodata
	scale float64
	net   *network
	w     *world
}

func buildWorld(rng *rand.Rand, l *land, gd *geodata, scale float64) *world {
	b := &builder{rng: rng, land: l, gd: gd, scale: scale, w: &world{}}
	b.net = newNetwork(gd.ways, l)
	b.buildLighting()
	b.buildSegments()
	b.buildSignals()
	b.buildCameras()
	b.buildParking()
	b.buildAir()
	b.buildWater()
	b.buildGauges()
	b.buildRivers()
	b.buildStreets()
	b.buildBases()
	b.w.routes = b.net.routes
	return b.w
}

// count is x at the configured scale, at least 1.
func (b *builder) count(x float64) int { return max(1, int(math.Round(x*b.scale))) }

func (b *builder) sites(kind string) []site {
	var out []site
	for _, s := range b.gd.sites {
		if s.kind == kind {
			out = append(out, s)
		}
	}
	return out
}

// districtNamed is the index of the district with this short name, or a
// district drawn by road weight when it is not in the data.
func (b *builder) districtNamed(short string) int {
	for i := range b.land.ds {
		if b.land.ds[i].short == short {
			return i
		}
	}
	return b.land.pick(b.rng, func(d *district) float64 { return d.roads })
}

const (
	lampSpacing   = 35.0 // metres between lamps along a road
	minRouteLamps = 10   // shorter lit streets are left out
)

type spot struct {
	lon, lat float64
	d        int
}

// buildLighting hangs lamps every 35 m along the OSM streets, then along
// synthetic roads, and groups consecutive lamps of a route into cabinets
// of 20–40 (up to 54 when the rest of a route is short).
func (b *builder) buildLighting() {
	want := b.count(4500)
	for ri := 0; len(b.w.lamps) < want; ri++ {
		if ri == len(b.net.routes) {
			b.synthRoad()
		}
		b.lightRoute(ri, want)
	}
}

func (b *builder) lightRoute(ri, want int) {
	var pts []spot
	for _, i := range b.net.routes[ri].roads {
		along(b.net.roads[i].flat, b.rng.Float64()*lampSpacing, lampSpacing, func(lon, lat float64) {
			if d := b.land.at(lon, lat); d >= 0 {
				pts = append(pts, spot{lon, lat, d})
			}
		})
	}
	if len(pts) < minRouteLamps {
		return
	}
	if room := want - len(b.w.lamps); len(pts) > room {
		pts = pts[:room]
	}
	for start, k := 0, 1; start < len(pts); k++ {
		n := 20 + b.rng.IntN(21)
		if len(pts)-start-n < 15 {
			n = len(pts) - start
		}
		b.addCabinet(ri, k, pts[start:start+n])
		start += n
	}
}

func (b *builder) addCabinet(ri, k int, pts []spot) {
	rt := &b.net.routes[ri]
	ci := len(b.w.cabinets)
	if rt.cabN == 0 {
		rt.cabFirst = ci
	}
	rt.cabN++
	id := fmt.Sprintf("TC-%s-%02d", rt.code, k)
	mid := pts[len(pts)/2]
	lon, lat := offset(mid.lon, mid.lat, 6, 6)
	d := b.land.at(lon, lat)
	if d < 0 {
		lon, lat, d = mid.lon, mid.lat, mid.d
	}
	b.w.cabinets = append(b.w.cabinets, cabinet{
		sensor: newSensor(id, fmt.Sprintf("Tủ điện %s %02d", rt.name, k), lon, lat, d),
		route:  ri, first: int32(len(b.w.lamps)), n: int32(len(pts)), off: int64(b.rng.IntN(600)) - 300,
	})
	watts := []float64{100, 120, 150}[b.rng.IntN(3)]
	for j, p := range pts {
		b.w.lamps = append(b.w.lamps, lamp{sensor: newSensor(fmt.Sprintf("%s-%03d", id[3:], j+1), "", p.lon, p.lat, p.d),
			cab: int32(ci), watts: watts})
	}
}

// buildSegments cuts the sample's main roads into segments of at most
// 600 m, then takes the edges of synthetic roads.
func (b *builder) buildSegments() {
	want := b.count(300)
	for i := 0; i < b.net.nOSM && len(b.w.segments) < want; i++ {
		r := &b.net.roads[i]
		if _, ok := mainClasses[r.class]; !ok || lineLength(r.flat) < 80 {
			continue
		}
		for _, part := range splitLine(r.flat, 600) {
			if len(b.w.segments) < want {
				b.addSegment(i, part)
			}
		}
	}
	for i := b.net.nOSM; len(b.w.segments) < want; i++ {
		if i == len(b.net.roads) {
			b.synthRoad()
		}
		flat := b.net.roads[i].flat
		for j := 2; j+1 < len(flat) && len(b.w.segments) < want; j += 2 {
			b.addSegment(i, slices.Clone(flat[j-2:j+2]))
		}
	}
}

func (b *builder) addSegment(ri int, flat []float64) {
	r := &b.net.roads[ri]
	lon, lat := midpoint(flat)
	d := b.land.at(lon, lat)
	if d < 0 {
		d = r.d
	}
	sn := sensor{id: fmt.Sprintf("seg-%04d", len(b.w.segments)+1), name: r.name, lon: lon, lat: lat, d: d,
		g: geom.NewLineStringFlat(geom.XY, flat)}
	b.w.segments = append(b.w.segments, segment{sensor: sn, class: r.class, free: r.free, busy: r.busy})
}

// buildSignals puts signals at the adaptive-signal pilot, at the
// junctions of the sample's main roads, then at synthetic road vertices
// (round robin over the roads, so they spread over the city).
func (b *builder) buildSignals() {
	want := b.count(166)
	for _, s := range b.sites("intersection") {
		b.addSignal(s.name, s.lon, s.lat, 0.9, false).adaptive = true
	}
	for _, j := range b.osmJunctions() {
		if len(b.w.signals) < want {
			b.addSignal(j.name, j.lon, j.lat, 0.9, false)
		}
	}
	need := want - len(b.w.signals)
	for b.interiorVertices() < need {
		b.synthRoad()
	}
	for v := 1; len(b.w.signals) < want; v++ {
		for i := b.net.nOSM; i < len(b.net.roads) && len(b.w.signals) < want; i++ {
			r := &b.net.roads[i]
			if v < len(r.flat)/2-1 {
				name := fmt.Sprintf("%s – nút %d", r.name, v)
				b.addSignal(name, r.flat[2*v], r.flat[2*v+1], r.busy, b.rng.Float64() < 0.15)
			}
		}
	}
}

func (b *builder) interiorVertices() int {
	n := 0
	for i := b.net.nOSM; i < len(b.net.roads); i++ {
		n += max(0, len(b.net.roads[i].flat)/2-2)
	}
	return n
}

func (b *builder) addSignal(name string, lon, lat, busy float64, night bool) *signal {
	id := fmt.Sprintf("sig-%04d", len(b.w.signals)+1)
	b.w.signals = append(b.w.signals, signal{sensor: newSensor(id, name, lon, lat, b.land.at(lon, lat)),
		busy: busy, night: night, status: "normal"})
	return &b.w.signals[len(b.w.signals)-1]
}

type junction struct {
	name     string
	lon, lat float64
}

// osmJunctions are the nodes shared by two named main roads of the
// sample, at least 60 m apart (a dual carriageway crossing is one
// junction), in file order.
func (b *builder) osmJunctions() []junction {
	names := map[[2]float64][]string{}
	var order [][2]float64
	for i := 0; i < b.net.nOSM; i++ {
		r := &b.net.roads[i]
		if _, ok := mainClasses[r.class]; !ok {
			continue
		}
		for j := 0; j+1 < len(r.flat); j += 2 {
			k := [2]float64{r.flat[j], r.flat[j+1]}
			ns := names[k]
			if len(ns) == 0 {
				order = append(order, k)
			}
			if !slices.Contains(ns, r.name) {
				names[k] = append(ns, r.name)
			}
		}
	}
	var out []junction
	for _, k := range order {
		if ns := names[k]; len(ns) >= 2 && !nearAny(out, k[0], k[1], 60) {
			out = append(out, junction{ns[0] + " – " + ns[1], k[0], k[1]})
		}
	}
	return out
}

func nearAny(js []junction, lon, lat, r float64) bool {
	for _, j := range js {
		if dist(j.lon, j.lat, lon, lat) < r {
			return true
		}
	}
	return false
}

// buildCameras: the bridges first, then 55% next to signals, the rest on
// road segments.
func (b *builder) buildCameras() {
	want := b.count(186)
	for _, s := range b.sites("bridge") {
		if len(b.w.cameras) < want {
			b.addCamera("Camera "+s.name, s.lon, s.lat, 40, 0.8)
		}
	}
	atSignals := (want - len(b.w.cameras)) * 55 / 100
	for k := 0; k < atSignals; k++ {
		sg := &b.w.signals[k*len(b.w.signals)/atSignals]
		lon, lat := b.land.near(b.rng, sg.lon, sg.lat, 30)
		b.addCamera("Camera "+sg.name, lon, lat, 40, sg.busy)
	}
	segs := b.w.segments
	rest := want - len(b.w.cameras)
	for k := 0; k < rest; k++ {
		sg := &segs[(k*len(segs)/rest+k/len(segs))%len(segs)]
		b.addCamera("Camera "+sg.name, sg.lon, sg.lat, sg.free, sg.busy)
	}
}

func (b *builder) addCamera(name string, lon, lat, free, busy float64) {
	id := fmt.Sprintf("cam-%04d", len(b.w.cameras)+1)
	b.w.cameras = append(b.w.cameras, camera{sensor: newSensor(id, name, lon, lat, b.land.at(lon, lat)),
		free: free, busy: busy})
}

// buildParking: the paid-parking streets Bạch Đằng and Trần Phú as lines
// (their longest OSM ways, up to three sections each), then off-street
// lots in the urban districts.
func (b *builder) buildParking() {
	for _, name := range []string{"Bạch Đằng", "Trần Phú"} {
		b.streetParking(name)
	}
	for k := 1; k <= b.count(10); k++ {
		d := b.land.pick(b.rng, func(x *district) float64 { return x.reports * x.busy })
		lon, lat := b.land.inDistrict(b.rng, d)
		sn := newSensor(fmt.Sprintf("park-lot-%02d", k), fmt.Sprintf("Bãi đỗ xe %s %02d", b.land.ds[d].short, k), lon, lat, d)
		b.w.parking = append(b.w.parking, parking{sensor: sn, total: 40 + b.rng.IntN(261)})
	}
}

func (b *builder) streetParking(name string) {
	var ways []int
	for i := 0; i < b.net.nOSM; i++ {
		if b.net.roads[i].name == name && lineLength(b.net.roads[i].flat) >= 100 {
			ways = append(ways, i)
		}
	}
	slices.SortStableFunc(ways, func(x, y int) int {
		return cmp.Compare(lineLength(b.net.roads[y].flat), lineLength(b.net.roads[x].flat))
	})
	for k, i := range ways[:min(3, len(ways))] {
		r := &b.net.roads[i]
		lon, lat := midpoint(r.flat)
		sn := sensor{id: fmt.Sprintf("park-%s-%d", slug(name), k+1), name: fmt.Sprintf("%s (đoạn %d)", name, k+1),
			lon: lon, lat: lat, d: b.land.at(lon, lat), g: geom.NewLineStringFlat(geom.XY, slices.Clone(r.flat))}
		b.w.parking = append(b.w.parking, parking{sensor: sn, total: max(10, int(lineLength(r.flat)/6)), street: true})
	}
}
