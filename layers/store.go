package layers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Store. The zero value is usable; see the field
// comments for defaults.
type Config struct {
	// LogSize is how many recent changes are kept for consumers and for
	// clients that resume after a reconnect. Default 262144.
	LogSize int
	// Layers holds per-layer settings; layers not named get DefaultLayer.
	Layers map[string]LayerConfig
	// DefaultLayer applies to layers created on first event.
	DefaultLayer LayerConfig
	// SweepInterval is how often staleness is checked. Default 1s.
	SweepInterval time.Duration
	// TombstoneTTL is how long a deleted id refuses older upserts. Default 1h.
	TombstoneTTL time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

func (c *Config) defaults() {
	if c.LogSize <= 0 {
		c.LogSize = 1 << 18
	}
	if c.SweepInterval <= 0 {
		c.SweepInterval = time.Second
	}
	if c.TombstoneTTL <= 0 {
		c.TombstoneTTL = time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Store holds every layer of one server, the change log they write to and
// the epoch that names this run of the server.
type Store struct {
	cfg     Config
	epoch   string
	log     *Log
	metrics *metrics

	mu     sync.RWMutex
	layers map[string]*Layer
}

// NewStore returns an empty store with a fresh random epoch. Metrics are
// registered with reg when it is not nil.
func NewStore(cfg Config, reg prometheus.Registerer) *Store {
	cfg.defaults()
	s := &Store{
		cfg:    cfg,
		epoch:  newEpoch(),
		log:    NewLog(cfg.LogSize),
		layers: make(map[string]*Layer),
	}
	s.metrics = newMetrics(s, reg)
	for name, lc := range cfg.Layers {
		s.layers[name] = newLayer(name, lc, s)
	}
	return s
}

func newEpoch() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Epoch names this run of the server; sequence numbers are only comparable
// within one epoch.
func (s *Store) Epoch() string { return s.epoch }

// Log returns the change log.
func (s *Store) Log() *Log { return s.log }

// Now returns the store's clock reading.
func (s *Store) Now() time.Time { return s.cfg.Now() }

// Layer returns the named layer, or nil if no event has created it.
func (s *Store) Layer(name string) *Layer {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.layers[name]
}

// Layers returns every layer sorted by name.
func (s *Store) Layers() []*Layer {
	s.mu.RLock()
	out := make([]*Layer, 0, len(s.layers))
	for _, l := range s.layers {
		out = append(out, l)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b *Layer) int { return strings.Compare(a.name, b.name) })
	return out
}

func (s *Store) layerFor(name string) *Layer {
	if l := s.Layer(name); l != nil {
		return l
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.layers[name]; l != nil {
		return l
	}
	l := newLayer(name, s.cfg.DefaultLayer, s)
	s.layers[name] = l
	return l
}

// Apply applies validated events and returns the changes they made
// (including late events, which change nothing live). Events of one layer
// are applied in order under one lock.
func (s *Store) Apply(events []Event) []Change {
	now := s.cfg.Now()
	changes := make([]Change, 0, len(events))
	for _, run := range byLayer(events) {
		changes = s.layerFor(run[0].Layer).apply(run, now, changes)
	}
	s.metrics.count(changes)
	if len(changes) == 0 {
		return nil // as before the slice was sized up front
	}
	return changes
}

// byLayer splits events into one run per layer, keeping their order within
// each layer, so a batch that interleaves layers takes each layer's lock
// once. Order across layers does not matter: they hold different entities.
func byLayer(events []Event) [][]Event {
	single := true
	for i := 1; i < len(events) && single; i++ {
		single = events[i].Layer == events[0].Layer
	}
	if single {
		if len(events) == 0 {
			return nil
		}
		return [][]Event{events}
	}
	index := map[string]int{}
	var runs [][]Event
	for _, ev := range events {
		i, ok := index[ev.Layer]
		if !ok {
			i = len(runs)
			index[ev.Layer] = i
			runs = append(runs, make([]Event, 0, len(events)/4+1))
		}
		runs[i] = append(runs[i], ev)
	}
	return runs
}

// Run marks silent entities stale until ctx ends.
func (s *Store) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			s.Sweep()
		}
	}
}

// Sweep runs one staleness pass over every layer and returns its changes.
func (s *Store) Sweep() []Change {
	now := s.cfg.Now()
	var all []Change
	for _, l := range s.Layers() {
		all = append(all, l.sweep(now, s.cfg.TombstoneTTL)...)
	}
	s.metrics.count(all)
	return all
}

// LayerInfo summarises a layer for listings.
type LayerInfo struct {
	Name     string
	Features int
	Stale    int
	Updated  time.Time
	TTL      time.Duration
}

// Info returns the layer's size and last update.
func (l *Layer) Info() LayerInfo {
	n, stale := l.counts()
	l.mu.RLock()
	defer l.mu.RUnlock()
	return LayerInfo{Name: l.name, Features: n, Stale: stale, Updated: l.updated, TTL: l.cfg.TTL}
}
