package frontend

import (
	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
)

// The hub's side of clustering. A grid exists for each (layer, grid zoom)
// some subscription clusters at; it is built by the first subscriber's
// worker from its snapshot (so an exact cut), brought up to the hub's
// cursor from the change log, then kept current change by change: a
// change costs the same whatever the layer's size. Each tick the changed
// cells are encoded once and queued for the groups whose cell range holds
// them. A grid no group uses is dropped at the end of the tick.

// applyToGrids takes one applied change of a layer into its grids.
func applyToGrids(c *layers.Change, gs []*clusterGrid) {
	spec := gs[0].spec // every grid of a layer shares its spec
	var old, nw *member
	if c.Old != nil {
		m := memberOf(c.Old, spec)
		old = &m
	}
	if c.New != nil {
		m := memberOf(c.New, spec)
		nw = &m
	}
	for _, g := range gs {
		g.apply(c, old, nw)
	}
}

// flushClusters queues every changed cell for the groups that see it.
func (h *Hub) flushClusters() {
	for _, g := range h.grids {
		if len(g.dirty) == 0 {
			continue
		}
		for _, c := range g.settle(h.store.Layer(g.layer)) {
			id := clusterID(g.z, c.x, c.y)
			pt := [2]float64{float64(c.x), float64(c.y)}
			g.watches.Search(pt, pt, func(_, _ [2]float64, grp *group) bool {
				var enc []byte
				if c.count > 0 {
					enc = g.json(c)
				}
				grp.diff.addCluster(g.layer, id, enc, c.changedAt)
				return true
			})
		}
	}
}

// ensureGrids makes sure the hub holds a grid, current at its cursor, for
// every layer the registration clusters. It reports false when one is
// missing and the registration brought none (the grid was dropped after
// the worker looked): the client then builds a fresh snapshot.
func (h *Hub) ensureGrids(r *registration) bool {
	for _, l := range r.sub.clustered {
		k := gridKey{l, r.sub.gridZoom}
		if h.grids[k] != nil {
			continue
		}
		g := r.grids[k]
		if g == nil || !h.advance(g, r.from) {
			return false
		}
		h.installGrid(g)
	}
	return true
}

// advance applies to a grid built at sequence from the changes up to the
// hub's cursor.
func (h *Hub) advance(g *clusterGrid, from uint64) bool {
	if from < h.cursor {
		changes, err := h.store.Log().Read(nil, from+1, int(h.cursor-from))
		if err != nil {
			return false
		}
		gs := []*clusterGrid{g}
		for i := range changes {
			if c := &changes[i]; c.Applied() && c.Layer() == g.layer {
				applyToGrids(c, gs)
			}
		}
	}
	g.settle(h.store.Layer(g.layer))
	return true
}

func (h *Hub) installGrid(g *clusterGrid) {
	h.grids[g.key()] = g
	h.layerGrids[g.layer] = append(h.layerGrids[g.layer], g)
	h.gridMu.Lock()
	h.published[g.key()] = true
	h.gridMu.Unlock()
}

// dropIdleGrids forgets the grids no group watches. Dropping at the end of
// a tick, not when the last group leaves, keeps the grid of a client that
// re-subscribes (a pan) between leaving its old group and joining its new.
func (h *Hub) dropIdleGrids() {
	cells := 0
	for k, g := range h.grids {
		if g.users > 0 {
			cells += len(g.cells)
			continue
		}
		delete(h.grids, k)
		gs := h.layerGrids[g.layer]
		for i, other := range gs {
			if other == g {
				gs = append(gs[:i], gs[i+1:]...)
				break
			}
		}
		if len(gs) == 0 {
			delete(h.layerGrids, g.layer)
		} else {
			h.layerGrids[g.layer] = gs
		}
		h.gridMu.Lock()
		delete(h.published, k)
		h.gridMu.Unlock()
	}
	h.metrics.clusterGrids.Set(float64(len(h.grids)))
	h.metrics.clusterCells.Set(float64(cells))
}

// hasGrid tells a client worker whether the hub holds a grid, so that it
// builds one only when needed. The answer may be stale by the time the
// registration arrives; ensureGrids copes.
func (h *Hub) hasGrid(k gridKey) bool {
	h.gridMu.RLock()
	defer h.gridMu.RUnlock()
	return h.published[k]
}

// watch adds or removes a group's cell ranges in the grids it clusters.
func (h *Hub) watch(g *group, add bool) {
	for _, l := range g.sub.clustered {
		grid := h.grids[gridKey{l, g.sub.gridZoom}]
		if grid == nil {
			continue // dropped with every grid when the hub fell behind
		}
		if add {
			grid.watches.Insert(g.sub.cells.min(), g.sub.cells.max(), g)
			grid.users++
		} else {
			grid.watches.Delete(g.sub.cells.min(), g.sub.cells.max(), g)
			grid.users--
		}
	}
}

// cellSet collects the cells a run of changes touched, for a catch-up.
type cellSet map[layerCell]struct{}

type layerCell struct {
	layer string
	key   uint64
}

// addChange notes the cells of c's old and new states that sub sees.
func (s cellSet) addChange(c *layers.Change, sub *subscription) {
	for _, f := range [2]*layers.Feature{c.Old, c.New} {
		if f == nil {
			continue
		}
		px, py := repPoint(f)
		x, y := cellOf(px, py, sub.gridZoom)
		if sub.cells.contains(x, y) {
			s[layerCell{f.Layer, cellKey(x, y)}] = struct{}{}
		}
	}
}

// addCells adds the current state of the touched cells to a catch-up diff.
func (h *Hub) addCells(p *pendingDiff, sub *subscription, touched cellSet) {
	for lc := range touched {
		g := h.grids[gridKey{lc.layer, sub.gridZoom}]
		if g == nil {
			continue
		}
		x, y := uint32(lc.key>>32), uint32(lc.key)
		var enc []byte
		if c := g.cells[lc.key]; c != nil && c.count > 0 {
			enc = g.json(c)
		}
		p.addCluster(lc.layer, clusterID(g.z, x, y), enc, 0)
	}
}

// snapshot reads the subscription's state at one cut of the change log:
// raw features of the layers it does not cluster, inside its view, and
// cluster features of the cells it sees. For a clustered layer the hub has
// no grid for, the whole layer is read and its grid returned, to be handed
// to the hub with the registration.
func (s *Server) snapshot(sub *subscription) (*snapshotFrame, map[gridKey]*clusterGrid) {
	rect, building := sub.bbox, false
	if len(sub.clustered) > 0 {
		rect = rect.Union(sub.cells.bounds(sub.gridZoom))
		for _, l := range sub.clustered {
			building = building || !s.hub.hasGrid(gridKey{l, sub.gridZoom})
		}
		if building {
			rect = geo.World
		}
	}
	snap := s.store.Snapshot(sub.snapshotLayers(s.layerNames), rect)
	frame := &snapshotFrame{epoch: snap.Epoch, seq: snap.Seq, reqID: sub.reqID, sel: sub.props}
	grids := make(map[string]*clusterGrid, len(sub.clustered))
	for _, l := range sub.clustered {
		grids[l] = newClusterGrid(l, sub.gridZoom, s.specs[l])
	}
	raw := snap.Features[:0]
	for _, f := range snap.Features {
		if g := grids[f.Layer]; g != nil {
			g.addFeature(f)
		} else if sub.sees(f) {
			raw = append(raw, f)
		}
	}
	if max := s.cfg.MaxSnapshotFeatures; max > 0 && len(raw) > max {
		raw, frame.truncated = raw[:max], true
	}
	frame.features = raw
	for _, l := range sub.clustered {
		g := grids[l]
		for _, c := range g.inRange(sub.cells) {
			frame.clusters = append(frame.clusters, g.json(c))
		}
	}
	if !building {
		return frame, nil
	}
	built := make(map[gridKey]*clusterGrid, len(grids))
	for _, g := range grids {
		built[g.key()] = g
	}
	return frame, built
}
