package frontend

import (
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/tidwall/rtree"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
)

// ClusterSpec is how the push clusters and ranks one layer. The frontend
// defines what it needs; cmd fills it from the modules' declarations.
type ClusterSpec struct {
	// Zoom: a subscription whose zoom is below it gets the layer as
	// clusters; 0 never clusters.
	Zoom int
	// Property is the property a feature is ranked by; Levels its level
	// labels, best first. Values maps property values that are not labels
	// (true and false as "true" and "false") to labels. Bands, when set,
	// ranks a numeric property: Bands[i] is the lowest value of level i+1.
	Property string
	Levels   []string
	Values   map[string]string
	Bands    []float64
}

// unranked is the level of a feature whose property is absent or names no
// level; such features are counted under "unknown".
const unranked = -1

// level ranks a feature's properties.
func (s *ClusterSpec) level(props []byte) int {
	if s.Property == "" || len(s.Levels) == 0 {
		return unranked
	}
	v, ok := propertyValue(props, s.Property)
	if !ok {
		return unranked
	}
	if s.Bands != nil {
		x, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return unranked
		}
		lvl, _ := slices.BinarySearch(s.Bands, x)
		if lvl < len(s.Bands) && s.Bands[lvl] == x {
			lvl++ // a band's lowest value belongs to it
		}
		return lvl
	}
	label := string(v)
	if len(v) >= 2 && v[0] == '"' {
		label = unquote(v)
	}
	if mapped, ok := s.Values[label]; ok {
		label = mapped
	}
	return slices.Index(s.Levels, label)
}

// The cluster grid: cells of 64 screen pixels at the map's integer zoom,
// which are the Web Mercator tiles of zoom floor(zoom)+2. Cell ids do not
// depend on the viewport, so subscriptions at one zoom share cells.
const (
	gridZoomOffset  = 2
	maxMapZoom      = 24
	maxMercatorLat  = 85.05112877980659
	maxClusterCells = 16384 // cells one subscription may span per layer
	coordScale      = 1e6   // cluster coordinates are rounded to 1e-6 degree (0.1 m)
)

// gridZoomFor is the grid a map zoom clusters on.
func gridZoomFor(zoom float64) int { return int(math.Floor(zoom)) + gridZoomOffset }

// cellOf returns the tile at zoom z holding (lon, lat); positions beyond
// the Mercator latitude limit fall in the edge row.
func cellOf(lon, lat float64, z int) (x, y uint32) {
	n := float64(uint64(1) << z)
	lat = math.Max(-maxMercatorLat, math.Min(maxMercatorLat, lat))
	fx := math.Floor((lon + 180) / 360 * n)
	rad := lat * math.Pi / 180
	fy := math.Floor((1 - math.Asinh(math.Tan(rad))/math.Pi) / 2 * n)
	return uint32(math.Max(0, math.Min(n-1, fx))), uint32(math.Max(0, math.Min(n-1, fy)))
}

// cellBounds is the tile's rectangle in degrees.
func cellBounds(z int, x, y uint32) geo.Rect {
	n := float64(uint64(1) << z)
	lat := func(y float64) float64 { return math.Atan(math.Sinh(math.Pi*(1-2*y/n))) * 180 / math.Pi }
	return geo.Rect{MinX: float64(x)/n*360 - 180, MaxX: float64(x+1)/n*360 - 180, MinY: lat(float64(y + 1)), MaxY: lat(float64(y))}
}

// cellRange is the block of cells a viewport touches, inclusive.
type cellRange struct{ x0, y0, x1, y1 uint32 }

func rangeOf(r geo.Rect, z int) cellRange {
	x0, y0 := cellOf(r.MinX, r.MaxY, z) // north-west: y grows southwards
	x1, y1 := cellOf(r.MaxX, r.MinY, z)
	return cellRange{x0, y0, x1, y1}
}

func (cr cellRange) count() uint64 {
	return uint64(cr.x1-cr.x0+1) * uint64(cr.y1-cr.y0+1)
}

func (cr cellRange) contains(x, y uint32) bool {
	return x >= cr.x0 && x <= cr.x1 && y >= cr.y0 && y <= cr.y1
}

// bounds covers the range's cells, widened by a hair so that float error
// in the inverse projection never leaves a member out.
func (cr cellRange) bounds(z int) geo.Rect {
	nw, se := cellBounds(z, cr.x0, cr.y0), cellBounds(z, cr.x1, cr.y1)
	const eps = 1e-9
	return geo.Rect{MinX: nw.MinX - eps, MaxY: nw.MaxY + eps, MaxX: se.MaxX + eps, MinY: se.MinY - eps}
}

// rtree keys of a range, for indexing subscriptions by the cells they see.
func (cr cellRange) min() [2]float64 { return [2]float64{float64(cr.x0), float64(cr.y0)} }
func (cr cellRange) max() [2]float64 { return [2]float64{float64(cr.x1), float64(cr.y1)} }

func cellKey(x, y uint32) uint64 { return uint64(x)<<32 | uint64(y) }

// member is what a cluster needs of one feature.
type member struct {
	x, y  float64
	level int
	stale bool
	time  int64
}

func memberOf(f *layers.Feature, spec *ClusterSpec) member {
	x, y := repPoint(f)
	return member{x: x, y: y, level: spec.level(f.Properties), stale: f.Stale, time: f.Time.UnixNano()}
}

// repPoint is where a feature counts: its first position (the point
// itself for a Point). Unlike the centre of its box, it lies on the
// geometry, so a feature counted in a cell always intersects the cell and
// every query of the cell's area finds it.
func repPoint(f *layers.Feature) (x, y float64) {
	if c := f.Geometry.FlatCoords(); len(c) >= 2 {
		return c[0], c[1]
	}
	return (f.Bounds.MinX + f.Bounds.MaxX) / 2, (f.Bounds.MinY + f.Bounds.MaxY) / 2
}

// cell is the aggregate of one grid cell, maintained incrementally: a
// change takes its old member out and puts its new one in. The extent and
// the newest time cannot shrink incrementally; when a member on the edge
// (or the newest) leaves, they are recomputed from the layer once per tick.
type cell struct {
	x, y       uint32
	count      int
	stale      int
	levels     []int32 // per level, then the unranked
	sumX, sumY float64
	extent     geo.Rect
	newest     int64
	// rescanExtent, rescanTime: the value is an upper bound, recompute.
	rescanExtent, rescanTime bool
	dirty                    bool
	changedAt                int64  // server time of the oldest change since the last push
	encoded                  []byte // the cluster feature, built on demand; nil when stale
}

func (c *cell) add(m member) {
	c.count++
	c.levels[levelSlot(m.level, len(c.levels))]++
	if m.stale {
		c.stale++
	}
	c.sumX += m.x
	c.sumY += m.y
	if c.count == 1 {
		c.extent = geo.Rect{MinX: m.x, MinY: m.y, MaxX: m.x, MaxY: m.y}
		c.newest, c.rescanExtent, c.rescanTime = m.time, false, false
		return
	}
	c.extent = c.extent.Union(geo.Rect{MinX: m.x, MinY: m.y, MaxX: m.x, MaxY: m.y})
	c.addTime(m.time)
}

// addTime: while newest is only an upper bound, a member at least as new
// is the newest for certain.
func (c *cell) addTime(t int64) {
	if t >= c.newest {
		c.newest, c.rescanTime = t, false
	}
}

func (c *cell) remove(m member) {
	c.count--
	c.levels[levelSlot(m.level, len(c.levels))]--
	if m.stale {
		c.stale--
	}
	if c.count == 0 {
		clear(c.levels)
		*c = cell{x: c.x, y: c.y, levels: c.levels, dirty: c.dirty, changedAt: c.changedAt}
		return
	}
	c.sumX -= m.x
	c.sumY -= m.y
	e := c.extent
	if m.x == e.MinX || m.x == e.MaxX || m.y == e.MinY || m.y == e.MaxY {
		c.rescanExtent = true
	}
	if m.time >= c.newest {
		c.rescanTime = true
	}
}

// replace is a change that keeps the member where it was (a lamp switching
// state): the extent cannot change, only levels, staleness and time.
func (c *cell) replace(old, nw member) {
	n := len(c.levels)
	c.levels[levelSlot(old.level, n)]--
	c.levels[levelSlot(nw.level, n)]++
	if old.stale {
		c.stale--
	}
	if nw.stale {
		c.stale++
	}
	if old.time >= c.newest && nw.time < old.time {
		c.rescanTime = true
		return
	}
	c.addTime(nw.time)
}

func levelSlot(level, slots int) int {
	if level < 0 {
		return slots - 1
	}
	return level
}

// clusterGrid holds the cells of one layer at one grid zoom, and the
// subscriptions that watch them indexed by the cells they see.
type clusterGrid struct {
	layer   string
	z       int
	spec    *ClusterSpec
	cells   map[uint64]*cell
	dirty   []*cell
	watches rtree.RTreeG[*group] // groups by cell range
	users   int
}

type gridKey struct {
	layer string
	z     int
}

func newClusterGrid(layer string, z int, spec *ClusterSpec) *clusterGrid {
	return &clusterGrid{layer: layer, z: z, spec: spec, cells: make(map[uint64]*cell)}
}

func (g *clusterGrid) key() gridKey { return gridKey{g.layer, g.z} }

// cellAt returns the cell holding m, creating it.
func (g *clusterGrid) cellAt(m member) *cell {
	x, y := cellOf(m.x, m.y, g.z)
	k := cellKey(x, y)
	c := g.cells[k]
	if c == nil {
		c = &cell{x: x, y: y, levels: make([]int32, len(g.spec.Levels)+1)}
		g.cells[k] = c
	}
	return c
}

// addFeature counts a feature in, when building a grid from a snapshot.
func (g *clusterGrid) addFeature(f *layers.Feature) {
	m := memberOf(f, g.spec)
	g.cellAt(m).add(m)
}

// apply takes one change of the grid's layer: the old state out of its
// cell, the new one into its cell.
func (g *clusterGrid) apply(ch *layers.Change, old, nw *member) {
	at := ch.At.UnixNano()
	var oc *cell
	if old != nil {
		oc = g.cellAt(*old)
		g.touch(oc, at)
	}
	if nw == nil {
		oc.remove(*old)
		return
	}
	nc := g.cellAt(*nw)
	g.touch(nc, at)
	switch {
	case oc == nil:
		nc.add(*nw)
	case oc == nc && old.x == nw.x && old.y == nw.y:
		nc.replace(*old, *nw)
	default:
		oc.remove(*old)
		nc.add(*nw)
	}
}

func (g *clusterGrid) touch(c *cell, at int64) {
	c.encoded = nil
	if !c.dirty {
		c.dirty, c.changedAt = true, at
		g.dirty = append(g.dirty, c)
	}
}

// settle finishes the cells changed since the last call: the extents and
// times that lost their edge are recomputed from the live layer, and empty
// cells are forgotten. It returns the changed cells, valid until the next
// call. The live layer may be a few changes ahead of the hub; the extent
// then shows them one tick early, and the next change corrects it.
func (g *clusterGrid) settle(live *layers.Layer) []*cell {
	changed := g.dirty
	g.dirty = g.dirty[:0:0]
	for _, c := range changed {
		c.dirty = false
		if c.count == 0 {
			delete(g.cells, cellKey(c.x, c.y))
			continue
		}
		if (c.rescanExtent || c.rescanTime) && live != nil {
			g.rescan(c, live)
		}
	}
	return changed
}

func (g *clusterGrid) rescan(c *cell, live *layers.Layer) {
	var extent geo.Rect
	var newest int64
	n := 0
	for _, f := range live.InRect(nil, cellRange{c.x, c.y, c.x, c.y}.bounds(g.z), 0) {
		m := memberOf(f, g.spec)
		if x, y := cellOf(m.x, m.y, g.z); x != c.x || y != c.y {
			continue
		}
		p := geo.Rect{MinX: m.x, MinY: m.y, MaxX: m.x, MaxY: m.y}
		if n == 0 {
			extent = p
		}
		extent, newest = extent.Union(p), max(newest, m.time)
		n++
	}
	if n > 0 {
		c.extent, c.newest = extent, newest
	}
	c.rescanExtent, c.rescanTime = false, false
}

// json returns the cell's cluster feature, encoding it once per change.
func (g *clusterGrid) json(c *cell) []byte {
	if c.encoded == nil {
		c.encoded = g.appendCluster(make([]byte, 0, 256+24*len(g.spec.Levels)), c)
	}
	return c.encoded
}

// clusterID names a cell: cluster/<grid zoom>/<x>/<y>.
func clusterID(z int, x, y uint32) string {
	b := make([]byte, 0, 32)
	b = append(b, "cluster/"...)
	b = strconv.AppendInt(b, int64(z), 10)
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(x), 10)
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(y), 10)
	return string(b)
}

// appendCluster writes the cell as a GeoJSON Feature with the members of a
// live feature (id, layer, time) and the cluster summary as properties.
func (g *clusterGrid) appendCluster(b []byte, c *cell) []byte {
	b = append(b, `{"type":"Feature","id":"`...)
	b = append(b, clusterID(g.z, c.x, c.y)...)
	b = append(b, `","layer":`...)
	b = layers.AppendJSONString(b, g.layer)
	b = append(b, `,"time":"`...)
	b = time.Unix(0, c.newest).UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","geometry":{"type":"Point","coordinates":[`...)
	n := float64(c.count)
	b = appendCoord(b, c.sumX/n)
	b = append(b, ',')
	b = appendCoord(b, c.sumY/n)
	b = append(b, `]},"properties":{"cluster":true,"count":`...)
	b = strconv.AppendInt(b, int64(c.count), 10)
	b = g.appendLevels(b, c)
	b = append(b, `,"stale":`...)
	b = strconv.AppendInt(b, int64(c.stale), 10)
	b = append(b, `,"extent":[`...)
	for i, v := range [4]float64{c.extent.MinX, c.extent.MinY, c.extent.MaxX, c.extent.MaxY} {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCoord(b, v)
	}
	return append(b, "]}}"...)
}

// appendLevels writes worst and worstLevel (only when a member is ranked)
// and the count per level label, in level order, unranked last.
func (g *clusterGrid) appendLevels(b []byte, c *cell) []byte {
	labels := g.spec.Levels
	for lvl := len(labels) - 1; lvl >= 0; lvl-- {
		if c.levels[lvl] > 0 {
			b = append(b, `,"worst":`...)
			b = layers.AppendJSONString(b, labels[lvl])
			b = append(b, `,"worstLevel":`...)
			b = strconv.AppendInt(b, int64(lvl), 10)
			break
		}
	}
	b = append(b, `,"levels":{`...)
	first := true
	for slot, n := range c.levels {
		if n == 0 {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		label := "unknown"
		if slot < len(labels) {
			label = labels[slot]
		}
		b = layers.AppendJSONString(b, label)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return append(b, '}')
}

func appendCoord(b []byte, v float64) []byte {
	return strconv.AppendFloat(b, math.Round(v*coordScale)/coordScale, 'f', -1, 64)
}

// inRange lists the grid's non-empty cells in r, in row order, for a
// snapshot.
func (g *clusterGrid) inRange(r cellRange) []*cell {
	var out []*cell
	if uint64(len(g.cells)) < r.count() {
		for _, c := range g.cells {
			if r.contains(c.x, c.y) {
				out = append(out, c)
			}
		}
	} else {
		for y := r.y0; y <= r.y1; y++ {
			for x := r.x0; x <= r.x1; x++ {
				if c := g.cells[cellKey(x, y)]; c != nil {
					out = append(out, c)
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b *cell) int {
		if a.y != b.y {
			return int(a.y) - int(b.y)
		}
		return int(a.x) - int(b.x)
	})
	return out
}
