// Package incidents turns change records into incidents: rules from a
// configuration file watch the layers' changes (thresholds, rates,
// staleness, counts in an area), matches near an open incident of a related
// category join it as evidence instead of raising a duplicate, and the
// incidents are written as the layer ioc.incidents through the store, so
// they are pushed and kept in history like any layer. A small workflow
// (acknowledge, assign, comment, severity, resolve, reopen, task) is served
// over HTTP; every action is recorded in the incident's trail.
package incidents

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tidwall/rtree"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/geo/areas"
	"github.com/danang-ioc/ioc/layers"
)

// Locator names the administrative areas of a position; *areas.Set is one.
type Locator interface {
	Locate(lon, lat float64) areas.Location
}

// Config configures an Engine. Zero fields take the defaults noted.
type Config struct {
	// Rules; default the embedded rules.
	Rules *RuleSet
	// Locator names the place of new incidents; nil leaves them unnamed.
	Locator Locator
	// Interval is how often the change log is read. Default 100ms.
	Interval time.Duration
	// BatchSize bounds the changes read and evaluated at once. Default 4096.
	BatchSize int
	// Ignore lists layers whose changes the engine never evaluates (besides
	// ioc.incidents itself), such as another engine's output.
	Ignore []string
	// Now is the clock of incident times; default the store's.
	Now func() time.Time
}

// Engine evaluates the rules on the store's change log in its own goroutine
// and keeps the open incidents.
type Engine struct {
	cfg      Config
	store    *layers.Store
	rules    *RuleSet
	byLayer  map[string]*layerIndex
	byName   map[string]*Rule
	groupOf  map[string]*Fusion // category -> its fusion group
	searchR  float64            // widest fusion radius, for the R-tree search
	ignore   map[string]bool
	log      *slog.Logger
	m        *metrics
	readBuf  []layers.Change
	fullScan bool // tests: evaluate every rule of the layer, without the index

	mu     sync.Mutex
	cursor atomic.Uint64 // last change read; read without mu by Lag
	// openCount mirrors len(open) for the metrics scrape, which must not
	// wait for mu: a step holds it for a whole batch.
	openCount atomic.Int64
	st        *ruleState
	open      map[string]*Incident
	tree      rtree.RTreeG[*Incident] // open incidents by evidence bounds
	entity    map[string]*Incident    // layer\x00id -> open incident holding it
	active    map[condKey]*Incident   // condition holding -> its incident
	timed     map[condKey]time.Time   // count conditions -> when they lapse
	keysOf    map[*Incident]map[condKey]bool
	refs      refs               // entries of active per entity
	props     map[string]any     // decoded properties, reused
	clearing  map[*Incident]bool // open, auto-closing, every condition clear
	dirty     map[*Incident]bool // to write at the end of the batch
	nextID    uint64
}

// New returns an engine over store; reg (may be nil) gets its metrics.
// Call Rebuild after the store has been restored from history and before
// Run.
func New(cfg Config, store *layers.Store, reg prometheus.Registerer, log *slog.Logger) *Engine {
	if cfg.Rules == nil {
		cfg.Rules = DefaultRules()
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 100 * time.Millisecond
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 4096
	}
	if cfg.Now == nil {
		cfg.Now = store.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{
		cfg: cfg, store: store, rules: cfg.Rules, log: log,
		byLayer: map[string]*layerIndex{}, byName: map[string]*Rule{}, groupOf: map[string]*Fusion{},
		ignore: map[string]bool{Layer: true},
		st:     newRuleState(), open: map[string]*Incident{}, entity: map[string]*Incident{},
		active: map[condKey]*Incident{}, timed: map[condKey]time.Time{}, keysOf: map[*Incident]map[condKey]bool{},
		props: map[string]any{}, refs: refs{},
		clearing: map[*Incident]bool{}, dirty: map[*Incident]bool{}, nextID: 1,
	}
	for _, l := range cfg.Ignore {
		e.ignore[l] = true
	}
	e.index()
	e.m = newMetrics(e, reg)
	return e
}

// index groups the rules by layer, so a change costs only the rules of its
// own layer, and the categories by fusion group.
func (e *Engine) index() {
	e.searchR = e.rules.Fuse.Radius
	perLayer := map[string][]*Rule{}
	for _, r := range e.rules.Rules {
		perLayer[r.Layer] = append(perLayer[r.Layer], r)
		e.byName[r.Name] = r
	}
	for l, rules := range perLayer {
		e.byLayer[l] = newLayerIndex(rules)
	}
	for _, f := range e.rules.Fusion {
		for _, c := range f.Categories {
			e.groupOf[c] = f
		}
		e.searchR = max(e.searchR, f.Radius)
	}
}

// Rules returns the rule set in use.
func (e *Engine) Rules() *RuleSet { return e.rules }

// Lag is the number of changes logged but not yet evaluated. It does not
// wait for a batch being evaluated.
func (e *Engine) Lag() uint64 {
	return e.store.Log().Last() - e.cursor.Load()
}

// Run evaluates changes until ctx ends.
func (e *Engine) Run(ctx context.Context) error {
	t := time.NewTicker(e.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			for e.Step() == e.cfg.BatchSize {
				// caught up only when a read returns less than a batch
			}
		}
	}
}

// Step reads up to BatchSize changes from the log, evaluates them, closes
// incidents whose conditions have been clear long enough, writes what
// changed and returns how many changes it read.
func (e *Engine) Step() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	start := time.Now()
	n := e.read()
	now := e.cfg.Now()
	for i := range e.readBuf {
		e.process(&e.readBuf[i], now)
		e.readBuf[i] = layers.Change{} // the buffer must not keep features alive
	}
	e.lapse(now)
	e.autoClose(now)
	e.flush(now)
	e.m.processed.Add(float64(n))
	e.m.lag.Set(float64(e.Lag()))
	if n > 0 {
		e.m.step.Observe(time.Since(start).Seconds())
	}
	return n
}

// read fills readBuf from the log. A cursor the log has overwritten loses
// those changes (counted and logged): the engine never blocks ingest.
func (e *Engine) read() int {
	log := e.store.Log()
	var err error
	cursor := e.cursor.Load()
	e.readBuf, err = log.Read(e.readBuf[:0], cursor+1, e.cfg.BatchSize)
	if errors.Is(err, layers.ErrTruncated) {
		oldest := log.Oldest()
		lost := oldest - (cursor + 1)
		e.m.lost.Add(float64(lost))
		e.log.Error("incident engine fell behind the change log: changes not evaluated", "lost", lost, "cursor", cursor)
		cursor = oldest - 1
		e.cursor.Store(cursor)
		e.readBuf, _ = log.Read(e.readBuf[:0], cursor+1, e.cfg.BatchSize)
	}
	if n := len(e.readBuf); n > 0 {
		e.cursor.Store(e.readBuf[n-1].Seq)
	}
	return len(e.readBuf)
}

func (e *Engine) process(c *layers.Change, now time.Time) {
	if c.Kind == layers.KindLate {
		return // changed nothing live
	}
	ix := e.byLayer[c.Layer()]
	if ix == nil || e.ignore[c.Layer()] {
		return
	}
	v := view{c: c, f: c.New, props: e.props, need: ix.need}
	if v.f == nil {
		v.f = c.Old
	}
	if len(e.refs) > 0 || len(e.st.refs) > 0 {
		ek := entityKey{v.f.Layer, v.f.ID}
		v.watched = e.refs[ek] > 0 || e.st.refs[ek] > 0
	}
	candidates := ix.all
	if !e.fullScan {
		candidates = ix.candidates(&v)
	}
	for _, r := range candidates {
		o := e.st.eval(r, &v)
		if o.cleared {
			e.clear(o.clear, now)
		}
		if o.m != nil {
			e.m.matches.Inc()
			e.apply(o.m, now)
		}
	}
	if v.err != nil {
		e.m.undecodable.Inc()
		e.props = map[string]any{} // a failed decode may leave it half filled
	}
}

// apply files a match: into the open incident it belongs to, or a new one.
func (e *Engine) apply(m *match, now time.Time) {
	inc := e.target(m)
	if inc == nil {
		inc = e.openIncident(m, now)
	} else {
		e.join(inc, m, now)
	}
	for _, k := range m.keys {
		e.activate(k, inc, m.until)
	}
}

// target finds the open incident a match joins: the one already holding
// one of its entities, else the nearest related one within the fusion
// distance and time window, found through the R-tree of open incidents.
func (e *Engine) target(m *match) *Incident {
	for _, ev := range m.evidence {
		k := ev.Layer + "\x00" + ev.ID
		inc := e.entity[k]
		if inc != nil && e.open[inc.ID] == inc {
			return inc
		}
		if inc != nil {
			delete(e.entity, k) // of an incident since closed, beyond its newest evidence
		}
	}
	var best *Incident
	bestD := 0.0
	p := geo.NewProjection(m.lon, m.lat)
	b := geo.CircleBounds(m.lon, m.lat, e.searchR)
	e.tree.Search(b.Min(), b.Max(), func(_, _ [2]float64, inc *Incident) bool {
		radius, window, ok := e.related(inc, m.rule.Category)
		if !ok || m.at.Sub(inc.lastEvidence()) > window {
			return true
		}
		d := p.RectDistance(inc.box)
		if d <= radius && (best == nil || d < bestD || (d == bestD && idNumber(inc.ID) < idNumber(best.ID))) {
			best, bestD = inc, d
		}
		return true
	})
	return best
}

// related says whether a match of category cat may join inc, and within
// which distance and time window: the same category fuses within the rule
// set's fuse defaults, categories of one fusion group within the group's.
func (e *Engine) related(inc *Incident, cat string) (radius float64, window time.Duration, ok bool) {
	g := e.groupOf[cat]
	for _, c := range e.categories(inc) {
		if c == cat {
			radius, window, ok = max(radius, e.rules.Fuse.Radius), max(window, e.rules.Fuse.Window.D()), true
		}
		if g != nil && e.groupOf[c] == g {
			radius, window, ok = max(radius, g.Radius), max(window, g.Window.D()), true
		}
	}
	return radius, window, ok
}

// categories are the rule categories of an incident's evidence, plus its
// own category.
func (e *Engine) categories(inc *Incident) []string {
	out := []string{inc.Category}
	for _, name := range inc.Rules {
		if r := e.byName[name]; r != nil && !slices.Contains(out, r.Category) {
			out = append(out, r.Category)
		}
	}
	return out
}

func (e *Engine) openIncident(m *match, now time.Time) *Incident {
	inc := &Incident{
		ID: fmt.Sprintf("inc-%d", e.nextID), Category: m.rule.Category, Severity: m.rule.Severity,
		Status: StatusOpen, Opened: now, Updated: now, AutoClose: m.rule.ClearAfter,
		Evidence: []Evidence{}, Tasks: []Task{}, Trail: []TrailEntry{},
	}
	e.nextID++
	e.place(inc, m.lon, m.lat)
	inc.Title = m.rule.title(inc.Place, m.group)
	for _, ev := range m.evidence {
		inc.addEvidence(ev)
		e.entity[ev.Layer+"\x00"+ev.ID] = inc
	}
	inc.record(now, EngineActor, "opened", fmt.Sprintf("rule %s: %s", m.rule.Name, m.evidence[len(m.evidence)-1].Summary))
	e.open[inc.ID] = inc
	e.tree.Insert(inc.box.Min(), inc.box.Max(), inc)
	e.keysOf[inc] = map[condKey]bool{}
	e.applyFusion(inc, now)
	e.dirty[inc] = true
	e.m.opened.WithLabelValues(inc.Category).Inc()
	return inc
}

// EngineActor is who the trail names for what the engine does by itself.
const EngineActor = "engine"

func (e *Engine) place(inc *Incident, lon, lat float64) {
	if e.cfg.Locator == nil {
		return
	}
	loc := e.cfg.Locator.Locate(lon, lat)
	inc.District, inc.DistrictCode, inc.Ward, inc.WardCode = loc.District, loc.DistrictCode, loc.Ward, loc.WardCode
	inc.Place = shortName(loc.Ward)
	if inc.Place == "" {
		inc.Place = shortName(loc.District)
	}
}

// shortName drops the type of an area ("Phường Hòa Xuân" -> "Hòa Xuân").
func shortName(s string) string {
	for _, p := range []string{"Phường ", "Xã ", "Thị trấn ", "Đặc khu ", "Quận ", "Huyện ", "Thành phố "} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			return rest
		}
	}
	return s
}

// join adds a match's evidence to inc and raises its severity if the rule
// is graver.
func (e *Engine) join(inc *Incident, m *match, now time.Time) {
	oldBox := inc.box
	for _, ev := range m.evidence {
		inc.addEvidence(ev)
		e.entity[ev.Layer+"\x00"+ev.ID] = inc
	}
	if inc.box != oldBox {
		e.tree.Delete(oldBox.Min(), oldBox.Max(), inc)
		e.tree.Insert(inc.box.Min(), inc.box.Max(), inc)
	}
	if inc.AutoClose > 0 && m.rule.ClearAfter == 0 {
		inc.AutoClose = 0 // a rule that needs a person: a person resolves it
	} else if inc.AutoClose > 0 {
		inc.AutoClose = max(inc.AutoClose, m.rule.ClearAfter)
	}
	e.raise(inc, m.rule.Severity, now, "rule "+m.rule.Name)
	e.applyFusion(inc, now)
	inc.Updated = now
	e.dirty[inc] = true
	e.m.joined.Inc()
}

// raise makes inc at least sev; the engine never lowers a severity.
func (e *Engine) raise(inc *Incident, sev Severity, now time.Time, why string) {
	if next := maxSeverity(inc.Severity, sev); next != inc.Severity {
		inc.record(now, EngineActor, "severity", fmt.Sprintf("%s → %s (%s)", inc.Severity, next, why))
		inc.Severity = next
	}
}

// applyFusion renames an incident that holds two categories of a fusion
// group, and raises it once its evidence spans enough layers.
func (e *Engine) applyFusion(inc *Incident, now time.Time) {
	cats := e.categories(inc)
	for _, f := range e.rules.Fusion {
		n := 0
		for _, c := range cats {
			if e.groupOf[c] == f {
				n++
			}
		}
		if f.Category != "" && n >= 1 && (n >= 2 || len(inc.Layers) >= 2) {
			title := fillTitle(f.Title, f.Category, inc.Place)
			if inc.Category != f.Category || inc.Title != title {
				inc.record(now, EngineActor, "fused", fmt.Sprintf("%s → %s (fusion %s)", inc.Title, title, f.Name))
				inc.Category, inc.Title = f.Category, title
			}
		}
		if f.Raise != nil && n >= 1 && len(inc.Layers) >= f.Raise.Layers {
			e.raise(inc, f.Raise.Severity, now, fmt.Sprintf("fusion %s: evidence from %d layers", f.Name, len(inc.Layers)))
		}
	}
}

// activate records that condition k holds and belongs to inc; until, when
// set, is when it lapses by itself (count rules).
func (e *Engine) activate(k condKey, inc *Incident, until time.Time) {
	prev := e.active[k]
	if prev != nil && prev != inc {
		delete(e.keysOf[prev], k)
	}
	if prev == nil {
		e.refs.add(k.entity())
	}
	e.active[k] = inc
	if e.keysOf[inc] == nil {
		e.keysOf[inc] = map[condKey]bool{}
	}
	e.keysOf[inc][k] = true
	if !until.IsZero() {
		e.timed[k] = until
	}
	if inc.ClearSince != nil {
		inc.ClearSince = nil
		delete(e.clearing, inc)
		e.dirty[inc] = true
	}
}

// clear records that condition k no longer holds. When the last condition
// of an auto-closing incident clears, its clear time starts.
func (e *Engine) clear(k condKey, now time.Time) {
	inc := e.active[k]
	if inc == nil {
		return
	}
	e.unactive(k)
	keys := e.keysOf[inc]
	delete(keys, k)
	if len(keys) == 0 && inc.open() && inc.AutoClose > 0 && inc.ClearSince == nil {
		t := now
		inc.ClearSince = &t
		e.clearing[inc] = true
		e.dirty[inc] = true
	}
}

func (e *Engine) unactive(k condKey) {
	if _, ok := e.active[k]; ok {
		delete(e.active, k)
		e.refs.drop(k.entity())
	}
	delete(e.timed, k)
}

// lapse clears the count conditions whose window has passed.
func (e *Engine) lapse(now time.Time) {
	for k, until := range e.timed {
		if !until.After(now) {
			e.clear(k, now)
		}
	}
}

// autoClose closes the incidents whose conditions have all been clear for
// their rule's clearAfter. An incident with a task not done waits for the
// team to report done.
func (e *Engine) autoClose(now time.Time) {
	for inc := range e.clearing {
		if inc.ClearSince == nil || now.Sub(*inc.ClearSince) < inc.AutoClose.D() || inc.busy() {
			continue
		}
		inc.Status = StatusClosed
		t := now
		inc.Resolved = &t
		inc.Updated = now
		inc.record(now, EngineActor, "closed", fmt.Sprintf("every condition clear for %v", inc.AutoClose.D()))
		e.retire(inc)
		e.dirty[inc] = true
		e.m.closed.WithLabelValues("auto").Inc()
	}
}

// busy reports whether a team is still working on the incident.
func (in *Incident) busy() bool {
	for _, t := range in.Tasks {
		if t.Status != "done" {
			return true
		}
	}
	return false
}

func (in *Incident) lastEvidence() time.Time {
	var t time.Time
	for _, ev := range in.Evidence {
		if ev.Time.After(t) {
			t = ev.Time
		}
	}
	return t
}

// retire removes a resolved or closed incident from every index of open
// incidents; its feature stays in the layer.
func (e *Engine) retire(inc *Incident) {
	delete(e.open, inc.ID)
	e.tree.Delete(inc.box.Min(), inc.box.Max(), inc)
	for _, ev := range inc.Evidence {
		if k := ev.Layer + "\x00" + ev.ID; e.entity[k] == inc {
			delete(e.entity, k)
		}
	}
	for k := range e.keysOf[inc] {
		if e.active[k] == inc {
			e.unactive(k)
		}
	}
	delete(e.keysOf, inc)
	delete(e.clearing, inc)
}

// flush writes every incident changed in this batch through the store.
func (e *Engine) flush(now time.Time) {
	e.openCount.Store(int64(len(e.open)))
	if len(e.dirty) == 0 {
		return
	}
	events := make([]layers.Event, 0, len(e.dirty))
	for inc := range e.dirty {
		ev, err := inc.event(now)
		if err != nil {
			e.log.Error("incident not written", "err", err)
			continue
		}
		events = append(events, ev)
	}
	clear(e.dirty)
	slices.SortFunc(events, func(a, b layers.Event) int { return cmp.Compare(idNumber(a.ID), idNumber(b.ID)) })
	e.store.Apply(events)
	e.m.writes.Add(float64(len(events)))
}
