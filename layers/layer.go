package layers

import (
	"bytes"
	"container/heap"
	"sync"
	"time"

	"github.com/tidwall/rtree"
)

// LayerConfig is the per-layer behaviour.
type LayerConfig struct {
	// TTL marks an entity stale when its newest observation is older than
	// this; zero means entities never go stale.
	TTL time.Duration
}

// entry is the layer's bookkeeping for one entity.
type entry struct {
	f    *Feature
	hidx int // position in the staleness heap, -1 when not in it
}

// Layer is the live state of one layer. One method, set, keeps the id map,
// the R-tree and the staleness heap consistent.
type Layer struct {
	name  string
	cfg   LayerConfig
	store *Store

	mu         sync.RWMutex
	byID       map[string]*entry
	index      rtree.RTreeG[*Feature]
	expiry     expiryHeap
	tombstones map[string]time.Time // deleted ids -> delete time, against late resurrection
	updated    time.Time            // server time of the last applied change
}

func newLayer(name string, cfg LayerConfig, s *Store) *Layer {
	return &Layer{
		name:       name,
		cfg:        cfg,
		store:      s,
		byID:       make(map[string]*entry),
		tombstones: make(map[string]time.Time),
	}
}

// Name returns the layer's name.
func (l *Layer) Name() string { return l.name }

// Config returns the layer's configuration.
func (l *Layer) Config() LayerConfig { return l.cfg }

// apply turns events (all for this layer) into changes and appends them to
// the log while holding the layer lock, so that the log order of changes to
// one entity is the order in which they were applied.
func (l *Layer) apply(events []Event, now time.Time, changes []Change) []Change {
	start := len(changes)
	built := make([]*Feature, len(events))
	for i := range events {
		if events[i].Op == OpUpsert {
			built[i] = newFeature(&events[i], l.expired(events[i].Time, now))
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range events {
		if c, ok := l.applyOne(&events[i], built[i], now); ok {
			changes = append(changes, c)
		}
	}
	if len(changes) > start {
		l.updated = now
		l.store.log.append(changes[start:])
	}
	return changes
}

func (l *Layer) expired(obs, now time.Time) bool {
	return l.cfg.TTL > 0 && now.Sub(obs) > l.cfg.TTL
}

func (l *Layer) applyOne(ev *Event, nf *Feature, now time.Time) (Change, bool) {
	e := l.byID[ev.ID]
	var cur *Feature
	if e != nil {
		cur = e.f
	}
	if l.isLate(ev, cur) {
		l.store.metrics.late.Inc()
		if nf == nil && cur == nil {
			return Change{}, false // a late delete of an entity already gone
		}
		return Change{At: now, Kind: KindLate, Old: cur, New: nf}, true
	}
	if ev.Op == OpDelete {
		l.tombstones[ev.ID] = ev.Time
		if cur == nil {
			return Change{}, false
		}
		l.set(ev.ID, e, nil)
		return Change{At: now, Kind: KindDelete, Old: cur}, true
	}
	delete(l.tombstones, ev.ID)
	if cur != nil && cur.Time.Equal(nf.Time) && cur.Stale == nf.Stale && bytes.Equal(cur.encoded, nf.encoded) {
		l.store.metrics.duplicates.Inc()
		return Change{}, false // a resend of the state we hold
	}
	l.set(ev.ID, e, nf)
	return Change{At: now, Kind: KindUpsert, Old: cur, New: nf}, true
}

// isLate: observation time decides, not arrival. An event older than the
// entity's state, or than its deletion, does not turn the layer back.
func (l *Layer) isLate(ev *Event, cur *Feature) bool {
	if cur != nil {
		return ev.Time.Before(cur.Time)
	}
	if t, ok := l.tombstones[ev.ID]; ok {
		return ev.Time.Before(t)
	}
	return false
}

// set is the one funnel that updates every index for an entity: nf nil
// removes it. e is the existing entry, or nil.
func (l *Layer) set(id string, e *entry, nf *Feature) {
	if e != nil {
		l.index.Delete(e.f.Bounds.Min(), e.f.Bounds.Max(), e.f)
	}
	if nf == nil {
		if e != nil {
			l.expiry.remove(e)
			delete(l.byID, id)
		}
		return
	}
	if e == nil {
		e = &entry{hidx: -1}
		l.byID[id] = e
	}
	e.f = nf
	l.index.Insert(nf.Bounds.Min(), nf.Bounds.Max(), nf)
	if l.cfg.TTL > 0 && !nf.Stale {
		l.expiry.upsert(e, nf.Time.Add(l.cfg.TTL))
	} else {
		l.expiry.remove(e)
	}
}

// sweep marks entities whose observations are older than the TTL as stale
// and forgets tombstones older than keep. "Older than" is strict, as in
// expired, so that an event arriving at the same instant as the sweep is
// judged the same way and a resend cannot flip the entity back to fresh.
func (l *Layer) sweep(now time.Time, keep time.Duration) []Change {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, t := range l.tombstones {
		if now.Sub(t) > keep {
			delete(l.tombstones, id)
		}
	}
	var changes []Change
	for len(l.expiry) > 0 && l.expiry[0].deadline.Before(now) {
		e := l.expiry[0].e
		heap.Pop(&l.expiry)
		stale := e.f.withStale(true)
		old := e.f
		l.index.Delete(old.Bounds.Min(), old.Bounds.Max(), old)
		l.index.Insert(stale.Bounds.Min(), stale.Bounds.Max(), stale)
		e.f = stale
		changes = append(changes, Change{At: now, Kind: KindStale, Old: old, New: stale})
	}
	if len(changes) > 0 {
		l.updated = now
		l.store.log.append(changes)
	}
	return changes
}

// expiryHeap orders fresh entities of a TTL layer by the time they go stale.
type expiryHeap []expiryItem

type expiryItem struct {
	deadline time.Time
	e        *entry
}

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].deadline.Before(h[j].deadline) }
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].e.hidx = i
	h[j].e.hidx = j
}
func (h *expiryHeap) Push(x any) {
	it := x.(expiryItem)
	it.e.hidx = len(*h)
	*h = append(*h, it)
}
func (h *expiryHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = expiryItem{}
	*h = old[:len(old)-1]
	it.e.hidx = -1
	return it
}

func (h *expiryHeap) upsert(e *entry, deadline time.Time) {
	if e.hidx >= 0 {
		(*h)[e.hidx].deadline = deadline
		heap.Fix(h, e.hidx)
		return
	}
	heap.Push(h, expiryItem{deadline: deadline, e: e})
}

func (h *expiryHeap) remove(e *entry) {
	if e.hidx >= 0 {
		heap.Remove(h, e.hidx)
	}
}

// counts returns the number of entities and how many of them are stale. For
// a TTL layer every entity not waiting in the expiry heap is stale.
func (l *Layer) counts() (total, stale int) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.cfg.TTL == 0 {
		return len(l.byID), 0
	}
	return len(l.byID), len(l.byID) - len(l.expiry)
}
