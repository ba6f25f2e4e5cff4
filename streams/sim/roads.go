package sim

import (
	"fmt"
	"math"
	"strings"

	"github.com/danang-ioc/ioc/geo"
)

// road is a polyline vehicles drive on: an OSM way of the Hải Châu sample
// or a synthetic road elsewhere.
type road struct {
	name  string
	class string // OSM highway class, or "synthetic"
	osm   int64  // OSM way id, 0 for a synthetic road
	flat  []float64
	free  float64 // free-flow speed, km/h
	busy  float64 // traffic busyness, 0–1
	d     int     // district of its first vertex, -1 when unknown
	route int     // index of its lamp route
}

// route is a lit street: the lamps of its roads hang on its cabinets.
type route struct {
	name, code string
	d          int
	roads      []int
	cabFirst   int // its cabinets are cabinets[cabFirst : cabFirst+cabN]
	cabN       int
}

// network is the city's roads: the OSM ways of the sample, then synthetic
// roads made on demand.
type network struct {
	roads  []road
	routes []route
	nOSM   int      // roads[:nOSM] are OSM ways
	box    geo.Rect // the sample's extent; synthetic roads keep out of it
	codes  map[string]bool
	counts []int // synthetic roads per district, for names
}

// mainClasses carry signals and traffic segments; litClasses also carry
// lamps (with the residential streets that have a street name).
var (
	mainClasses = map[string]float64{"primary": 0.95, "secondary": 0.85, "tertiary": 0.75}
	litClasses  = map[string]float64{"primary_link": 0.7, "secondary_link": 0.7, "tertiary_link": 0.7,
		"residential": 0.5, "unclassified": 0.5, "living_street": 0.4}
	classSpeed = map[string]float64{"primary": 45, "secondary": 40, "tertiary": 35}
)

func newNetwork(ways []osmWay, l *land) *network {
	n := &network{codes: map[string]bool{}, counts: make([]int, len(l.ds))}
	byName := map[string]int{}
	for _, w := range ways {
		busy, main := mainClasses[w.highway]
		if !main {
			busy = litClasses[w.highway]
		}
		if busy == 0 || w.name == "" || isAlley(w.name) {
			continue
		}
		r := road{name: w.name, class: w.highway, osm: w.id, flat: w.flat, busy: busy,
			free: freeSpeed(w), d: l.at(w.flat[0], w.flat[1])}
		ri, ok := byName[w.name]
		if !ok {
			ri = len(n.routes)
			byName[w.name] = ri
			n.routes = append(n.routes, route{name: w.name, code: n.code(abbr(w.name)), d: r.d})
		}
		r.route = ri
		n.routes[ri].roads = append(n.routes[ri].roads, len(n.roads))
		n.roads = append(n.roads, r)
		n.box = growBox(n.box, w.flat, len(n.roads) == 1)
	}
	n.nOSM = len(n.roads)
	return n
}

// isAlley: a kiệt (alley), "Kiệt 356 Hoàng Diệu" or "K391 Nguyễn Văn Linh".
func isAlley(name string) bool {
	return strings.HasPrefix(name, "Kiệt") || len(name) > 1 && name[0] == 'K' && name[1] >= '0' && name[1] <= '9'
}

func freeSpeed(w osmWay) float64 {
	v, ok := classSpeed[w.highway]
	if !ok {
		v = 30
	}
	if w.maxSpeed > 0 {
		v = min(v, w.maxSpeed)
	}
	return v
}

func growBox(b geo.Rect, flat []float64, first bool) geo.Rect {
	for i := 0; i+1 < len(flat); i += 2 {
		p := geo.Rect{MinX: flat[i], MinY: flat[i+1], MaxX: flat[i], MaxY: flat[i+1]}
		if first {
			b, first = p, false
			continue
		}
		b = b.Union(p)
	}
	return b
}

// code returns base, made unique with a number when taken.
func (n *network) code(base string) string {
	c := base
	for i := 2; n.codes[c]; i++ {
		c = fmt.Sprintf("%s%d", base, i)
	}
	n.codes[c] = true
	return c
}

// synthRoad adds a synthetic road with its own route and returns its
// index: a random walk of 4–8 vertices, 250–550 m apart, from a random
// point of a district drawn by road weight, every vertex and edge
// midpoint on land and outside the OSM sample.
func (b *builder) synthRoad() int {
	n := b.net
	var flat []float64
	var d int
	for try := 0; len(flat) < 8 && try < 200; try++ {
		d = b.land.pick(b.rng, func(x *district) float64 { return x.roads })
		flat = b.walk(d)
	}
	if len(flat) < 4 { // not reached with the real district polygons
		lon, lat := b.land.inDistrict(b.rng, d)
		flat = []float64{lon, lat, lon, lat + 0.0001}
	}
	n.counts[d]++
	ds := &b.land.ds[d]
	name := fmt.Sprintf("Tuyến mô phỏng %s %02d", ds.short, n.counts[d])
	r := road{name: name, class: "synthetic", flat: flat, d: d, route: len(n.routes),
		free: ds.free, busy: clamp(ds.busy+0.2*(b.rng.Float64()-0.5), 0.2, 1)}
	n.routes = append(n.routes, route{name: name, code: n.code(fmt.Sprintf("%sS%02d", ds.abbr, n.counts[d])),
		d: d, roads: []int{len(n.roads)}})
	n.roads = append(n.roads, r)
	return len(n.roads) - 1
}

// walk draws the vertices of one synthetic road in district d.
func (b *builder) walk(d int) []float64 {
	lon, lat := b.land.inDistrict(b.rng, d)
	if b.net.box.ContainsPoint(lon, lat) {
		return nil
	}
	flat := []float64{lon, lat}
	heading := 2 * math.Pi * b.rng.Float64()
	for want := 4 + b.rng.IntN(5); len(flat)/2 < want; {
		ok := false
		for try := 0; try < 8 && !ok; try++ {
			h := heading + b.rng.NormFloat64()*(0.3+0.3*float64(try))
			step := 250 + 300*b.rng.Float64()
			x, y := offset(lon, lat, step*math.Cos(h), step*math.Sin(h))
			if b.onLand(x, y) && b.onLand((x+lon)/2, (y+lat)/2) {
				heading, lon, lat, ok = h, x, y, true
			}
		}
		if !ok {
			break
		}
		flat = append(flat, lon, lat)
	}
	return flat
}

// onLand: inside a simulated district and outside the OSM sample.
func (b *builder) onLand(lon, lat float64) bool {
	return b.land.at(lon, lat) >= 0 && !b.net.box.ContainsPoint(lon, lat)
}

// lineLength is the length of a polyline in metres.
func lineLength(flat []float64) float64 {
	l := 0.0
	for i := 2; i+1 < len(flat); i += 2 {
		l += dist(flat[i-2], flat[i-1], flat[i], flat[i+1])
	}
	return l
}

// along calls fn at the points start, start+spacing, … metres along flat.
func along(flat []float64, start, spacing float64, fn func(lon, lat float64)) {
	at, pos := start, 0.0
	for i := 2; i+1 < len(flat); i += 2 {
		ax, ay, bx, by := flat[i-2], flat[i-1], flat[i], flat[i+1]
		seg := dist(ax, ay, bx, by)
		for ; seg > 0 && at <= pos+seg; at += spacing {
			t := (at - pos) / seg
			fn(ax+t*(bx-ax), ay+t*(by-ay))
		}
		pos += seg
	}
}

// splitLine cuts flat into pieces of at most maxLen metres (equal parts),
// keeping the original vertices.
func splitLine(flat []float64, maxLen float64) [][]float64 {
	total := lineLength(flat)
	parts := max(1, int(math.Ceil(total/maxLen)))
	each := total / float64(parts)
	var out [][]float64
	cur := []float64{flat[0], flat[1]}
	pos, cut := 0.0, each
	for i := 2; i+1 < len(flat); i += 2 {
		ax, ay, bx, by := flat[i-2], flat[i-1], flat[i], flat[i+1]
		seg := dist(ax, ay, bx, by)
		for len(out) < parts-1 && seg > 0 && cut < pos+seg {
			t := (cut - pos) / seg
			x, y := ax+t*(bx-ax), ay+t*(by-ay)
			out = append(out, append(cur, x, y))
			cur = []float64{x, y}
			cut += each
		}
		cur = append(cur, bx, by)
		pos += seg
	}
	return append(out, cur)
}

// midpoint is the point halfway along flat.
func midpoint(flat []float64) (float64, float64) {
	half := lineLength(flat) / 2
	lon, lat := flat[0], flat[1]
	done := false
	along(flat, half, math.Inf(1), func(x, y float64) {
		if !done {
			lon, lat, done = x, y, true
		}
	})
	return lon, lat
}

func clamp(v, lo, hi float64) float64 { return max(lo, min(hi, v)) }
