package zones

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tidwall/rtree"
	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/geo/areas"
	"github.com/danang-ioc/ioc/layers"
)

// Config configures an Engine. Zero fields take the defaults noted.
type Config struct {
	// ReadInterval is how often the change log is read. Default 200ms.
	ReadInterval time.Duration
	// BatchSize bounds the changes read from the log at once (and so the
	// engine's buffer). Default 4096.
	BatchSize int
	// SummaryEvery is the least time between two writes of one zone's
	// feature, so a storm of changes inside a zone does not flood the push.
	// Default 1s.
	SummaryEvery time.Duration
	// EventTTL is how long an enter or leave event stays on its layer
	// (its expires property); the engine deletes it then. Default 15m.
	EventTTL time.Duration
	// MaxEvents bounds the live event features; beyond it the oldest are
	// deleted early. Default 10000.
	MaxEvents int
	// EventLayers are the layers whose entities get enter and leave events:
	// things that move. Fixed sensors appearing in a zone would only flood
	// the layer. Default ["response.teams"].
	EventLayers []string
	// Scales are the worst-state scales per layer; default DefaultScales.
	Scales map[string]Scale
	// Areas names the district and ward of drawn zones and resolves area
	// references by name; Boundaries gives those areas' polygons. Either
	// may be nil: then zones can only be drawn, and are not named.
	Areas      *areas.Set
	Boundaries *Boundaries
	// NewID names a new zone; default "zone-" and 8 random hex digits.
	NewID func() string
}

func (c *Config) defaults() {
	if c.ReadInterval <= 0 {
		c.ReadInterval = 200 * time.Millisecond
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 4096
	}
	if c.SummaryEvery <= 0 {
		c.SummaryEvery = time.Second
	}
	if c.EventTTL <= 0 {
		c.EventTTL = 15 * time.Minute
	}
	if c.MaxEvents <= 0 {
		c.MaxEvents = 10000
	}
	if c.EventLayers == nil {
		c.EventLayers = []string{layerTeams}
	}
	if c.Scales == nil {
		c.Scales = DefaultScales
	}
	if c.NewID == nil {
		c.NewID = randomID
	}
}

func randomID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "zone-" + hex.EncodeToString(b[:])
}

// Engine keeps the zones and their contents. All its state is guarded by
// one mutex: the log reader and the HTTP handlers take it in turn, each
// for a bounded amount of work.
type Engine struct {
	cfg   Config
	store *layers.Store
	log   *slog.Logger
	m     *metrics

	mu      sync.Mutex
	zones   map[string]*zone
	index   rtree.RTreeG[*zone]
	cursor  uint64 // last change sequence processed
	buf     []layers.Change
	cands   []*zone
	pending []layers.Event // enter/leave events not yet applied
	live    []liveEvent    // event features on the layer, oldest first
	seq     uint64         // numbers event features within this run
	run     string         // names this run in event ids
}

// liveEvent is an event feature waiting for its expiry.
type liveEvent struct {
	id      string
	expires time.Time
}

// New builds the engine over store: it rebuilds the active zones from the
// ioc.zones layer (restored from history at start), fills them from the
// store's current state and starts reading the log after its newest change.
func New(cfg Config, store *layers.Store, reg prometheus.Registerer, log *slog.Logger) *Engine {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{cfg: cfg, store: store, log: log, zones: map[string]*zone{}, run: store.Epoch()[:min(6, len(store.Epoch()))]}
	e.m = newMetrics(e, reg)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rebuild()
	e.cursor = store.Log().Last()
	return e
}

// rebuild restores the active zones and the pending expiries of event
// features from the store.
func (e *Engine) rebuild() {
	if l := e.store.Layer(LayerZones); l != nil {
		for _, f := range l.InRect(nil, geo.World, 0) {
			z, err := decodeZone(f.ID, f.Geometry, f.Properties)
			if err != nil {
				e.log.Error("zone not restored", "err", err)
				continue
			}
			if z.Status == StatusActive {
				e.add(newZone(z))
			}
		}
	}
	if l := e.store.Layer(LayerEvents); l != nil {
		for _, f := range l.InRect(nil, geo.World, 0) {
			var p struct {
				Expires time.Time `json:"expires"`
			}
			_ = jsonUnmarshal(f.Properties, &p)
			e.live = append(e.live, liveEvent{id: f.ID, expires: p.Expires})
		}
		slices.SortFunc(e.live, func(a, b liveEvent) int { return a.expires.Compare(b.expires) })
	}
	if len(e.zones) > 0 {
		e.log.Info("zones restored", "zones", len(e.zones))
	}
}

// add indexes a zone and fills it from the store's current state.
func (e *Engine) add(z *zone) {
	e.zones[z.ID] = z
	e.index.Insert(z.bounds.Min(), z.bounds.Max(), z)
	e.fill(z)
}

// fill recomputes what is inside z from the store, without events: what
// was there before the zone was declared did not enter it.
func (e *Engine) fill(z *zone) {
	clear(z.members)
	for _, l := range e.store.Layers() {
		if own(l.Name()) {
			continue
		}
		for _, f := range l.InRect(nil, z.bounds, 0) {
			var p *entityProps
			if e.inside(z, f, &p) {
				m := classify(f.Layer, f.Stale, e.propsOf(f, &p), e.cfg.Scales)
				z.members[key{f.Layer, f.ID}] = &m
			}
		}
	}
	z.dirty = true
}

// own says the layer is one the engine writes: its changes are ignored.
func own(layer string) bool { return layer == LayerZones || layer == LayerEvents }

// Run reads the log until ctx ends.
func (e *Engine) Run(ctx context.Context) error {
	t := time.NewTicker(e.cfg.ReadInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			e.Step()
		}
	}
}

// Step processes every change in the log not yet seen, writes the enter
// and leave events, deletes expired ones and writes the summaries that
// are due. Run calls it; tests call it to advance deterministically.
func (e *Engine) Step() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for e.read() {
	}
	e.flushEvents()
	e.writeSummaries(false)
	e.m.lag.Set(float64(e.store.Log().Last() - e.cursor))
}

// read processes up to BatchSize changes and reports whether it read any.
func (e *Engine) read() bool {
	log := e.store.Log()
	var err error
	e.buf, err = log.Read(e.buf[:0], e.cursor+1, e.cfg.BatchSize)
	if errors.Is(err, layers.ErrTruncated) {
		e.resync(log)
		return false
	}
	if len(e.buf) == 0 {
		return false
	}
	start := time.Now()
	for i := range e.buf {
		e.process(&e.buf[i])
		e.buf[i] = layers.Change{} // the buffer must not keep features alive
	}
	e.cursor += uint64(len(e.buf))
	e.m.processed.Add(float64(len(e.buf)))
	e.m.evalSeconds.Observe(time.Since(start).Seconds())
	return true
}

// resync: the log overwrote changes the engine had not read. Contents are
// recomputed from the store; enter and leave events of the lost changes
// are lost (counted).
func (e *Engine) resync(log *layers.Log) {
	e.m.resyncs.Inc()
	e.log.Warn("zone engine fell behind the change log; recomputing zone contents from the live layers",
		"cursor", e.cursor, "oldest", log.Oldest())
	e.cursor = log.Last()
	for _, z := range e.zones {
		e.fill(z)
	}
}

// process applies one change to every zone its old or new state touches.
func (e *Engine) process(c *layers.Change) {
	if !c.Applied() || own(c.Layer()) {
		return
	}
	e.cands = e.cands[:0]
	for _, f := range []*layers.Feature{c.Old, c.New} {
		if f == nil {
			continue
		}
		e.index.Search(f.Bounds.Min(), f.Bounds.Max(), func(_, _ [2]float64, z *zone) bool {
			if !slices.Contains(e.cands, z) {
				e.cands = append(e.cands, z)
			}
			return true
		})
	}
	var p *entityProps
	for _, z := range e.cands {
		e.update(z, c, &p)
	}
}

// update moves one entity in or out of one zone. The entity was inside if
// the zone held it: its previous state's position, as the last change
// left it.
func (e *Engine) update(z *zone, c *layers.Change, p **entityProps) {
	k := key{c.Layer(), c.ID()}
	old := z.members[k]
	in := c.New != nil && e.inside(z, c.New, p)
	switch {
	case in:
		m := classify(k.layer, c.New.Stale, e.propsOf(c.New, p), e.cfg.Scales)
		switch {
		case old == nil:
			z.members[k] = &m
			z.dirty = true
		case *old != m:
			*old = m // in place: most changes are new readings of an entity already inside
			z.dirty = true
		}
	case old != nil:
		delete(z.members, k)
		z.dirty = true
	}
	if (old != nil) != in && slices.Contains(e.cfg.EventLayers, k.layer) {
		f := c.New
		if f == nil {
			f = c.Old
		}
		e.emit(z, c, in, e.propsOf(f, p).Name)
	}
}

// inside decides membership, parsing the properties only when the zone
// needs them (an area zone reads the entity's area codes).
func (e *Engine) inside(z *zone, f *layers.Feature, p **entityProps) bool {
	if _, point := f.Geometry.(*geom.Point); point && z.Area != nil {
		return z.contains(f.Geometry, e.propsOf(f, p))
	}
	return z.contains(f.Geometry, nil)
}

func (e *Engine) propsOf(f *layers.Feature, p **entityProps) *entityProps {
	if *p == nil {
		*p = parseProps(f.Properties)
	}
	return *p
}

// writeSummaries writes the feature of every zone whose summary changed
// and was last written at least SummaryEvery ago (all changed ones when
// force is set).
func (e *Engine) writeSummaries(force bool) {
	now := e.store.Now()
	var evs []layers.Event
	for _, z := range e.zones {
		if z.dirty && (force || now.Sub(z.written) >= e.cfg.SummaryEvery) {
			evs = append(evs, e.featureEvent(z, now))
			z.dirty, z.written = false, now
		}
	}
	if len(evs) > 0 {
		slices.SortFunc(evs, func(a, b layers.Event) int { return compareStrings(a.ID, b.ID) })
		e.store.Apply(evs)
		e.m.writes.Add(float64(len(evs)))
	}
}

func (e *Engine) featureEvent(z *zone, now time.Time) layers.Event {
	return layers.Event{Layer: LayerZones, ID: z.ID, Time: now, Geometry: z.Geometry,
		Properties: encodeProps(&z.Zone, z.summarize(now, e.cfg.Scales))}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ErrNotFound is returned for a zone that does not exist or is closed.
var ErrNotFound = errors.New("no such active zone")

// Declare adds a zone, fills it from the live layers and writes its
// feature. z's ID, Status and Declared are set here.
func (e *Engine) Declare(z *Zone) (*Zone, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	z.ID, z.Status, z.Declared = e.cfg.NewID(), StatusActive, e.store.Now()
	if l := e.store.Layer(LayerZones); e.zones[z.ID] != nil || (l != nil && l.Get(z.ID) != nil) {
		return nil, fmt.Errorf("zone id %s is taken (a closed zone keeps its id)", z.ID)
	}
	e.name(z)
	if err := z.check(); err != nil {
		return nil, err
	}
	zn := newZone(z)
	e.add(zn)
	e.store.Apply([]layers.Event{e.featureEvent(zn, z.Declared)})
	zn.dirty, zn.written = false, z.Declared
	e.m.declared.Inc()
	out := zn.Zone
	return &out, nil
}

// name sets where a drawn zone lies, as the area tagger would name an
// entity there; an area zone keeps the names of its area.
func (e *Engine) name(z *Zone) {
	if e.cfg.Areas == nil || z.Area != nil {
		return
	}
	loc := e.cfg.Areas.LocateGeometry(z.Geometry)
	z.District, z.DistrictCode, z.Ward, z.WardCode = loc.District, loc.DistrictCode, loc.Ward, loc.WardCode
}

// Close closes an active zone: it stops being evaluated and its feature
// keeps its last summary with who closed it and when.
func (e *Engine) Close(id, by string) (*Zone, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	z := e.zones[id]
	if z == nil {
		return nil, ErrNotFound
	}
	now := e.store.Now()
	z.Status, z.Closed, z.ClosedBy = StatusClosed, now, by
	e.store.Apply([]layers.Event{e.featureEvent(z, now)})
	e.index.Delete(z.bounds.Min(), z.bounds.Max(), z)
	delete(e.zones, id)
	e.m.closed.Inc()
	out := z.Zone
	return &out, nil
}

// Live returns an active zone with its summary computed now.
func (e *Engine) Live(id string) (*Zone, *Summary, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	z := e.zones[id]
	if z == nil {
		return nil, nil, ErrNotFound
	}
	out := z.Zone
	return &out, z.summarize(e.store.Now(), e.cfg.Scales), nil
}

// Contents returns the features inside an active zone now, of one layer
// when layer is not empty, sorted by layer and id, at most limit of them
// (0: all); total counts them all.
func (e *Engine) Contents(id, layer string, limit int) (features []*layers.Feature, total int, err error) {
	e.mu.Lock()
	z := e.zones[id]
	if z == nil {
		e.mu.Unlock()
		return nil, 0, ErrNotFound
	}
	var keys []key
	for k := range z.members {
		if layer == "" || k.layer == layer {
			keys = append(keys, k)
		}
	}
	e.mu.Unlock()
	slices.SortFunc(keys, func(a, b key) int {
		if c := compareStrings(a.layer, b.layer); c != 0 {
			return c
		}
		return compareStrings(a.id, b.id)
	})
	total = len(keys)
	if limit > 0 && len(keys) > limit {
		keys = keys[:limit]
	}
	for _, k := range keys {
		if l := e.store.Layer(k.layer); l != nil {
			if f := l.Get(k.id); f != nil {
				features = append(features, f)
			}
		}
	}
	return features, total, nil
}

// Active counts the active zones.
func (e *Engine) Active() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.zones)
}
