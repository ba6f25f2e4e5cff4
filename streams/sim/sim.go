// Package sim is a simulator of Da Nang's city feeds, the default data
// source of iocd: traffic signals, cameras, road segments, parking and
// violations; air and water quality stations; street lamps and their
// cabinets; rain gauges, river levels and street flood sensors; citizen
// reports with their workflow; and, on demand, the storm scenario of the
// brief with rescue teams. Sensors sit on real ground (inside the district
// polygons of geo/areas, at the named sites of sites.geojson, along the
// OpenStreetMap roads of central Hải Châu); events follow the vocabulary of
// docs/MODULES.md and go through streams.Intake like every other source.
// A run is deterministic for a given seed. docs/SIMULATOR.md describes
// what is simulated, the counts and rates, and the storm timeline.
package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/danang-ioc/ioc/geo/areas"
	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
)

// The layers the simulator writes; each belongs to a module
// (docs/MODULES.md): the city modules, and streams/response for the teams.
const (
	LayerSegments   = "traffic.segments"
	LayerSignals    = "traffic.signals"
	LayerCameras    = "traffic.cameras"
	LayerViolations = "traffic.violations"
	LayerParking    = "traffic.parking"
	LayerAir        = "environment.air"
	LayerWater      = "environment.water"
	LayerLamps      = "lighting.lamps"
	LayerCabinets   = "lighting.cabinets"
	LayerRain       = "flooding.rain"
	LayerRivers     = "flooding.rivers"
	LayerStreets    = "flooding.streets"
	LayerReports    = "feedback.reports"
	LayerTeams      = "response.teams"
	// LayerRescueTeams is the teams' layer under its earlier constant name.
	LayerRescueTeams = LayerTeams
)

// DefaultIntervals returns the reporting intervals of the periodic feeds,
// by layer: those of docs/MODULES.md, except the signals' heartbeat
// (signals also report at once on every change) and the rescue teams'
// (in scenario time).
func DefaultIntervals() map[string]time.Duration { return maps.Clone(defaultIntervals) }

var defaultIntervals = map[string]time.Duration{
	LayerSegments: 5 * time.Minute, LayerSignals: 20 * time.Second, LayerCameras: time.Minute,
	LayerParking: 5 * time.Minute, LayerAir: time.Hour, LayerWater: time.Hour,
	LayerLamps: 15 * time.Minute, LayerCabinets: 5 * time.Minute, LayerRain: 10 * time.Minute,
	LayerRivers: 10 * time.Minute, LayerStreets: 5 * time.Minute, LayerRescueTeams: time.Minute,
}

// Config configures a simulator. The zero value is usable.
type Config struct {
	// Seed makes a run reproducible: the same seed, scale, start,
	// intervals and calls give the same events, byte for byte. Default 1.
	Seed int64
	// Scale multiplies the entity counts and the report rates: 1 (default)
	// is the city's real scale, 10 ten times that, for load tests. At most
	// 100.
	Scale float64
	// Speed is how many simulated seconds pass per real second in Run.
	// Default 1. Step ignores it.
	Speed float64
	// Start is the simulated clock's start. Default Now().
	Start time.Time
	// Now is the real clock Run paces itself by. Default time.Now.
	Now func() time.Time
	// Intervals overrides reporting intervals by layer name (see
	// DefaultIntervals); at least a second. A signal heartbeat longer than
	// the signals' stale window (30 s) makes them flap stale between
	// changes.
	Intervals map[string]time.Duration
	// ReportRetention is how long a closed citizen report stays on the map
	// before the simulator deletes it. Default 24 h; negative keeps them.
	ReportRetention time.Duration
	// Tick is how often Run advances the simulated clock. Default 200 ms.
	Tick time.Duration
	// MaxBatch is the most events Run submits in one call. Default 5000.
	MaxBatch int
}

func (c *Config) defaults() error {
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Scale == 0 {
		c.Scale = 1
	}
	if c.Speed == 0 {
		c.Speed = 1
	}
	if !(c.Scale > 0 && c.Scale <= 100) || !(c.Speed > 0 && c.Speed <= 1e6) {
		return fmt.Errorf("sim: scale must be in (0, 100] and speed in (0, 1e6], got %g and %g", c.Scale, c.Speed)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Start.IsZero() {
		c.Start = c.Now()
	}
	if c.ReportRetention == 0 {
		c.ReportRetention = 24 * time.Hour
	}
	if c.Tick <= 0 {
		c.Tick = 200 * time.Millisecond
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 5000
	}
	return nil
}

// Stats are counters of a simulator.
type Stats struct {
	SimTime     time.Time // the simulated clock
	Events      uint64    // events generated
	Submitted   uint64    // events handed to the intake
	Rejected    uint64    // of those, refused by the modules
	StormActive bool
	StormHour   float64 // hours into the storm scenario (scenario time)
}

// Sim simulates the city. Its methods are safe for concurrent use; drive
// it either with Run or with Step, not both.
type Sim struct {
	cfg    Config
	log    *slog.Logger
	intake *streams.Intake

	smu  sync.Mutex // serialises submissions, so events reach the intake in order
	mu   sync.Mutex // guards everything below
	rng  *rand.Rand
	now  int64 // simulated clock, Unix ns
	tnow time.Time
	q    queue
	seq  uint64
	out  []layers.Event
	land *land
	w    *world
	iv   [kStormEnd + 1]int64 // reporting interval per periodic kind, ns
	gens [kStormEnd + 1]uint32
	wx   shower
	fb   feedbackState
	tr   trafficState
	st   *storm
	nst  uint32 // storms started

	events, submitted, rejected atomic.Uint64
	logged                      atomic.Int32
}

// ErrStormActive is returned by Storm while a storm is still playing.
var ErrStormActive = errors.New("sim: a storm is already running")

// New builds the simulated city. Events go to intake (nil: Step only
// returns them, Run discards them); log may be nil.
func New(cfg Config, intake *streams.Intake, log *slog.Logger) (*Sim, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	set, err := areas.Default()
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	gd, err := loadData()
	if err != nil {
		return nil, err
	}
	l, err := newLand(set)
	if err != nil {
		return nil, err
	}
	seed := uint64(cfg.Seed)
	s := &Sim{cfg: cfg, log: log, intake: intake, land: l,
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	s.setNow(cfg.Start.UnixNano())
	s.w = buildWorld(s.rng, l, gd, cfg.Scale)
	s.initIntervals()
	s.scheduleAll()
	return s, nil
}

// setNow moves the clock; events carry its time to the millisecond.
func (s *Sim) setNow(t int64) {
	s.now = t
	s.tnow = time.Unix(0, t-t%int64(time.Millisecond)).UTC()
}

// Now is the simulated clock.
func (s *Sim) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tnow
}

// Step advances the simulated clock by d, without goroutines or the real
// clock, and returns the events of that span in order; they are also
// submitted to the intake when there is one.
func (s *Sim) Step(d time.Duration) []layers.Event {
	s.smu.Lock()
	defer s.smu.Unlock()
	s.mu.Lock()
	evs := s.advance(s.now + int64(d))
	s.mu.Unlock()
	_ = s.submit(context.Background(), evs)
	return evs
}

// Run emits events in real time (Speed simulated seconds per second)
// until ctx ends; it returns nil then.
func (s *Sim) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	s.mu.Lock()
	simAnchor := s.now
	s.mu.Unlock()
	realAnchor := s.cfg.Now()
	s.log.Info("simulator running", "seed", s.cfg.Seed, "scale", s.cfg.Scale, "speed", s.cfg.Speed,
		"start", time.Unix(0, simAnchor).UTC())
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		target := simAnchor + int64(float64(s.cfg.Now().Sub(realAnchor))*s.cfg.Speed)
		s.smu.Lock()
		s.mu.Lock()
		evs := s.advance(target)
		s.mu.Unlock()
		err := s.submit(ctx, evs)
		s.smu.Unlock()
		if err != nil && ctx.Err() != nil {
			return nil
		}
	}
}

// advance runs every item due up to time to and returns their events.
func (s *Sim) advance(to int64) []layers.Event {
	for len(s.q) > 0 && s.q[0].at <= to {
		it := s.q.pop()
		s.setNow(it.at)
		s.dispatch(it)
	}
	if to > s.now {
		s.setNow(to)
	}
	out := s.out
	s.out = nil
	s.events.Add(uint64(len(out)))
	return out
}

// submit hands events to the intake in batches of at most MaxBatch and
// logs the first refusals (there should be none).
func (s *Sim) submit(ctx context.Context, evs []layers.Event) error {
	if s.intake == nil {
		return nil
	}
	for start := 0; start < len(evs); start += s.cfg.MaxBatch {
		chunk := evs[start:min(len(evs), start+s.cfg.MaxBatch)]
		b, err := s.intake.SubmitEvents(ctx, chunk)
		if err != nil {
			s.log.Warn("simulator: submit failed", "events", len(chunk), "err", err)
			return err
		}
		s.submitted.Add(uint64(len(chunk)))
		s.rejected.Add(uint64(len(b.Rejected)))
		for _, r := range b.Rejected {
			if s.logged.Add(1) <= 20 {
				ev := chunk[r.Index]
				s.log.Warn("simulator: event refused", "layer", ev.Layer, "id", ev.ID, "reason", r.Reason, "err", r.Error)
			}
		}
	}
	return nil
}

// Stats returns the simulator's counters.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{SimTime: s.tnow, Events: s.events.Load(), Submitted: s.submitted.Load(), Rejected: s.rejected.Load()}
	if s.st != nil {
		st.StormActive, st.StormHour = true, s.st.hour(s.now)
	}
	return st
}

// Inventory counts the entities per layer: the sensors, and the
// violations, reports and rescue teams currently on the map.
func (s *Sim) Inventory() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.w
	teams := 0
	if s.st != nil {
		teams = len(s.st.teams)
	}
	return map[string]int{
		LayerSegments: len(w.segments), LayerSignals: len(w.signals), LayerCameras: len(w.cameras),
		LayerViolations: s.tr.live, LayerParking: len(w.parking), LayerAir: len(w.air), LayerWater: len(w.water),
		LayerLamps: len(w.lamps), LayerCabinets: len(w.cabinets), LayerRain: len(w.gauges),
		LayerRivers: len(w.rivers), LayerStreets: len(w.streets), LayerReports: s.fb.live, LayerRescueTeams: teams,
	}
}
