package frontend

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tidwall/rtree"

	"github.com/danang-ioc/ioc/layers"
)

// Hub turns the change log into per-client diffs. One goroutine reads the
// log every tick, finds the subscriptions each change touches through an
// R-tree of viewports, coalesces per entity, encodes one frame per distinct
// subscription and hands the same bytes to every client that shares it.
// The hub never waits for a client: a full queue makes that client resync.
type Hub struct {
	cfg     HubConfig
	store   *layers.Store
	log     *slog.Logger
	metrics *hubMetrics

	ctl chan hubOp // registrations and departures, handled between ticks

	// Owned by the hub goroutine.
	cursor   uint64        // last sequence pushed
	pushed   atomic.Uint64 // copy of cursor for metrics
	groups   map[string]*group
	byLayer  map[string]*rtree.RTreeG[*group]
	wildcard rtree.RTreeG[*group] // groups subscribed to every layer
	waiting  []*registration      // registrations ahead of the cursor
	clients  map[*client]*group
	buf      []layers.Change

	// Cluster grids in use, per (layer, grid zoom); see hub_cluster.go.
	grids      map[gridKey]*clusterGrid
	layerGrids map[string][]*clusterGrid
	gridMu     sync.RWMutex
	published  map[gridKey]bool // the keys of grids, for client workers
}

// group is every client sharing one subscription.
type group struct {
	key     string
	sub     *subscription
	clients map[*client]struct{}
	diff    pendingDiff
}

// registration asks the hub to start pushing to a client from sequence
// from onwards, after first sending its snapshot frame (if any).
type registration struct {
	c        *client
	sub      *subscription
	from     uint64
	snapshot []byte
	gen      uint64
	// grids are cluster grids the worker built from the snapshot's layers
	// at sequence from, for keys the hub had no grid for.
	grids map[gridKey]*clusterGrid
}

type hubOp struct {
	reg   *registration
	leave *client
	ack   chan struct{} // closed once the op is handled, when not nil
}

// NewHub returns a hub reading store's change log.
func NewHub(cfg HubConfig, store *layers.Store, m *hubMetrics, log *slog.Logger) *Hub {
	cfg.defaults()
	h := &Hub{
		cfg:     cfg,
		store:   store,
		log:     log,
		metrics: m,
		ctl:     make(chan hubOp, 1024),
		groups:  make(map[string]*group),
		byLayer: make(map[string]*rtree.RTreeG[*group]),
		clients: make(map[*client]*group),
		cursor:  store.Log().Last(),

		grids:      make(map[gridKey]*clusterGrid),
		layerGrids: make(map[string][]*clusterGrid),
		published:  make(map[gridKey]bool),
	}
	h.pushed.Store(h.cursor)
	return h
}

// Run pushes until ctx ends. Closing client connections is the server's job.
func (h *Hub) Run(ctx context.Context) error {
	t := time.NewTicker(h.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case op := <-h.ctl:
			h.handle(op)
		case <-t.C:
			h.tick()
		}
	}
}

func (h *Hub) handle(op hubOp) {
	if op.ack != nil {
		defer close(op.ack)
	}
	if op.leave != nil {
		h.remove(op.leave)
		h.dropWaiting(op.leave)
		return
	}
	r := op.reg
	if r.gen != r.c.gen.Load() {
		return // superseded by a newer subscribe
	}
	h.remove(r.c)
	h.dropWaiting(r.c)
	if r.from > h.cursor {
		h.waiting = append(h.waiting, r)
		return
	}
	h.activate(r)
}

// tick pushes every change logged since the last tick.
func (h *Hub) tick() {
	start := time.Now()
	var err error
	h.buf, err = h.store.Log().Read(h.buf[:0], h.cursor+1, h.cfg.MaxChangesPerTick)
	if errors.Is(err, layers.ErrTruncated) {
		h.fellBehind()
		return
	}
	if len(h.buf) > 0 {
		for i := range h.buf {
			h.route(&h.buf[i])
		}
		h.cursor = h.buf[len(h.buf)-1].Seq
		h.pushed.Store(h.cursor)
		h.flush()
	}
	h.activateWaiting()
	h.dropIdleGrids()
	h.metrics.tick.Observe(time.Since(start).Seconds())
}

// route adds one change to the pending diff of every group that sees it.
func (h *Hub) route(c *layers.Change) {
	if !c.Applied() {
		return
	}
	if gs := h.layerGrids[c.Layer()]; len(gs) > 0 {
		applyToGrids(c, gs)
	}
	r := c.New
	if r == nil {
		r = c.Old
	}
	box := r.Bounds
	if c.Old != nil && c.New != nil {
		box = c.Old.Bounds.Union(c.New.Bounds)
	}
	visit := func(_, _ [2]float64, g *group) bool {
		if inNew := g.sub.sees(c.New); inNew {
			g.diff.add(c, c.New)
		} else if g.sub.sees(c.Old) {
			g.diff.add(c, nil)
		}
		return true
	}
	if idx := h.byLayer[c.Layer()]; idx != nil {
		idx.Search(box.Min(), box.Max(), visit)
	}
	h.wildcard.Search(box.Min(), box.Max(), visit)
}

// flush encodes each group's pending diff once and queues it for its clients.
func (h *Hub) flush() {
	h.flushClusters()
	epoch := h.store.Epoch()
	for _, g := range h.groups {
		if g.diff.empty() {
			continue
		}
		m := h.frame(g, epoch)
		g.diff.reset()
		h.metrics.diffs.Inc()
		for c := range g.clients {
			if !c.queue.push(m) {
				m.release() // only single-client frames are pooled
				h.lagging(c)
			}
		}
	}
}

// frame encodes a group's pending diff: into a pooled buffer for a single
// client, or once into a PreparedMessage shared by all its clients.
func (h *Hub) frame(g *group, epoch string) outMsg {
	oldest := time.Unix(0, g.diff.oldest)
	if len(g.clients) == 1 {
		bp := framePool.Get().(*[]byte)
		data := g.diff.appendTo((*bp)[:0], epoch, h.cursor, "", g.sub.props)
		return outMsg{data: data, size: len(data), oldest: oldest, pooled: bp}
	}
	data := g.diff.encode(epoch, h.cursor, "", g.sub.props)
	m := outMsg{data: data, size: len(data), oldest: oldest}
	if pm, err := websocket.NewPreparedMessage(websocket.TextMessage, data); err == nil {
		m.prepared, m.data = pm, nil
	}
	return m
}

// lagging takes a client that cannot keep up out of the push: its queue is
// dropped and it is asked to resynchronise; its worker builds the fresh
// snapshot only once the writer is idle again (see client.awaitIdle), so a
// dead socket costs no snapshots while its write times out.
func (h *Hub) lagging(c *client) {
	h.remove(c)
	dropped := c.queue.reset()
	h.metrics.drops.WithLabelValues("slow_client").Add(float64(dropped + 1))
	h.metrics.resyncs.WithLabelValues("slow_client").Inc()
	signal(c.resync)
}

// fellBehind: the log overwrote changes the hub had not pushed. Every
// client resynchronises; this only happens under overload.
func (h *Hub) fellBehind() {
	h.log.Warn("push hub fell behind the change log; resynchronising every client",
		"cursor", h.cursor, "oldest", h.store.Log().Oldest())
	h.cursor = h.store.Log().Last()
	h.pushed.Store(h.cursor)
	for c := range h.clients {
		h.remove(c)
		h.metrics.resyncs.WithLabelValues("hub_behind").Inc()
		signal(c.resync)
	}
	for _, r := range h.waiting {
		signal(r.c.resync)
	}
	h.waiting = nil
	h.dropIdleGrids() // they missed changes too
}

func (h *Hub) activateWaiting() {
	kept := h.waiting[:0]
	for _, r := range h.waiting {
		if r.from <= h.cursor {
			h.activate(r)
		} else {
			kept = append(kept, r)
		}
	}
	clear(h.waiting[len(kept):])
	h.waiting = kept
}

// activate queues a registration's snapshot, then what changed between its
// sequence and the hub's cursor, then joins its group for live diffs.
func (h *Hub) activate(r *registration) {
	if !h.ensureGrids(r) {
		h.metrics.resyncs.WithLabelValues("cluster_grid").Inc()
		signal(r.c.resync)
		return
	}
	catchUp, err := h.catchUp(r.sub, r.from)
	if err != nil {
		h.metrics.resyncs.WithLabelValues("resume_expired").Inc()
		signal(r.c.resync)
		return
	}
	if r.snapshot != nil {
		// A snapshot replaces everything the client holds, so frames still
		// queued for its previous view are obsolete.
		r.c.queue.reset()
		r.c.queue.push(outMsg{data: r.snapshot, size: len(r.snapshot), snapshot: true})
	}
	if catchUp != nil && !r.c.queue.push(outMsg{data: catchUp, size: len(catchUp)}) {
		h.lagging(r.c)
		return
	}
	h.join(r.c, r.sub)
}

// catchUp encodes the changes after seq from that the subscription sees. A
// resume always gets a diff, even an empty one, to confirm it; a fresh
// snapshot gets one only if something changed meanwhile.
func (h *Hub) catchUp(sub *subscription, from uint64) ([]byte, error) {
	if from == h.cursor && !sub.resume {
		return nil, nil
	}
	changes, err := h.store.Log().Read(nil, from+1, int(h.cursor-from))
	if err != nil {
		return nil, err
	}
	var p pendingDiff
	touched := make(cellSet)
	for i := range changes {
		c := &changes[i]
		if !c.Applied() {
			continue
		}
		if sub.clusters(c.Layer()) {
			touched.addChange(c, sub)
		} else if sub.sees(c.New) {
			p.add(c, c.New)
		} else if sub.sees(c.Old) {
			p.add(c, nil)
		}
	}
	h.addCells(&p, sub, touched)
	if p.empty() && !sub.resume {
		return nil, nil
	}
	return p.encode(h.store.Epoch(), h.cursor, sub.reqID, sub.props), nil
}

func (h *Hub) join(c *client, sub *subscription) {
	key := sub.key()
	g := h.groups[key]
	if g == nil {
		g = &group{key: key, sub: sub, clients: make(map[*client]struct{})}
		h.groups[key] = g
		h.index(g, true)
		h.watch(g, true)
	}
	g.clients[c] = struct{}{}
	h.clients[c] = g
	h.metrics.groups.Set(float64(len(h.groups)))
}

func (h *Hub) remove(c *client) {
	g := h.clients[c]
	if g == nil {
		return
	}
	delete(h.clients, c)
	delete(g.clients, c)
	if len(g.clients) == 0 {
		h.index(g, false)
		h.watch(g, false)
		delete(h.groups, g.key)
	}
	h.metrics.groups.Set(float64(len(h.groups)))
}

func (h *Hub) dropWaiting(c *client) {
	kept := h.waiting[:0]
	for _, r := range h.waiting {
		if r.c != c {
			kept = append(kept, r)
		}
	}
	clear(h.waiting[len(kept):])
	h.waiting = kept
}

// index adds or removes a group in the viewport R-trees.
func (h *Hub) index(g *group, add bool) {
	trees := []*rtree.RTreeG[*group]{&h.wildcard}
	if !g.sub.all {
		trees = trees[:0]
		for _, l := range g.sub.layers {
			if g.sub.clusters(l) {
				continue // its changes reach the group through the grid
			}
			if h.byLayer[l] == nil && add {
				h.byLayer[l] = &rtree.RTreeG[*group]{}
			}
			if t := h.byLayer[l]; t != nil {
				trees = append(trees, t)
			}
		}
	}
	for _, t := range trees {
		if add {
			t.Insert(g.sub.bbox.Min(), g.sub.bbox.Max(), g)
		} else {
			t.Delete(g.sub.bbox.Min(), g.sub.bbox.Max(), g)
		}
	}
}

// submit hands an operation to the hub goroutine; it waits only for room
// in the control queue, never for a tick.
func (h *Hub) submit(ctx context.Context, op hubOp) error {
	select {
	case h.ctl <- op:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// lag is how many logged changes the hub has not pushed yet.
func (h *Hub) lag() float64 {
	return float64(h.store.Log().Last()) - float64(h.pushed.Load())
}
