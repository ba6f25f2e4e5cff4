// Package flooding gives the flood feeds their domain meaning: rain
// intensity and 1 h / 3 h / 24 h totals per gauge, river levels against the
// station's warning levels BĐ1–BĐ3 with their trend, and street flood
// depth. docs/MODULES.md is the property reference.
package flooding

import (
	"sort"
	"sync"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
	"github.com/danang-ioc/ioc/streams/internal/props"
)

// The layers of the flooding module. Their names are public API.
const (
	LayerRain    = "flooding.rain"
	LayerRivers  = "flooding.rivers"
	LayerStreets = "flooding.streets"
)

// Config tunes the module; the zero value is usable.
type Config struct {
	// RainInterval is a gauge's nominal reporting interval, the period
	// assumed for a gauge's first report. Default 10 minutes.
	RainInterval time.Duration
	// HeavyRain3h is the 3-hour total (mm) above which rain is heavy for
	// the city's drains. Default 50 mm, per the brief.
	HeavyRain3h float64
	// MaxRainSamples bounds the history kept per gauge (24 h of reports).
	// Default 4320, one every 20 s.
	MaxRainSamples int
	// RiverThresholds gives a station's warning levels BĐ1, BĐ2, BĐ3 in
	// metres by station id, for stations whose reports do not carry them.
	RiverThresholds map[string][3]float64
	// TrendWindow is how far back the river level trend looks. Default 1 h.
	TrendWindow time.Duration
	// TrendThreshold (cm/h) is the rate from which a river is rising or
	// falling rather than steady. Default 5 cm/h.
	TrendThreshold float64
	// TrendMinSpan is how far apart the first and last readings in the
	// window must be for a trend: with a 1 cm sensor resolution, two
	// readings 10 minutes apart already differ by 6 cm/h. Default 20
	// minutes (three readings at the usual 10-minute interval).
	TrendMinSpan time.Duration
	// DepthSteps are the lower bounds (cm) of the street depth classes
	// shallow, moderate, deep and very_deep. Default 5, 15, 30, 50.
	DepthSteps [4]float64
	// Intervals overrides the expected reporting interval of a layer, by
	// layer name; StaleAfter follows as three intervals.
	Intervals map[string]time.Duration
}

func (c *Config) defaults() {
	if c.RainInterval <= 0 {
		c.RainInterval = 10 * time.Minute
	}
	if c.HeavyRain3h <= 0 {
		c.HeavyRain3h = 50
	}
	if c.MaxRainSamples <= 0 {
		c.MaxRainSamples = 4320
	}
	if c.TrendWindow <= 0 {
		c.TrendWindow = time.Hour
	}
	if c.TrendThreshold <= 0 {
		c.TrendThreshold = 5
	}
	if c.TrendMinSpan <= 0 {
		c.TrendMinSpan = 20 * time.Minute
	}
	if c.DepthSteps == [4]float64{} {
		c.DepthSteps = [4]float64{5, 15, 30, 50}
	}
}

// Module is the flooding module. It is safe for concurrent use.
type Module struct {
	cfg Config

	mu     sync.Mutex
	gauges map[string]*series // rain gauges: rainfall amounts (mm)
	rivers map[string]*river
}

// series is a station's recent samples, sorted by time, and its newest
// report as rendered, kept to re-emit it when a late sample changes what
// was derived from the history.
type series struct {
	samples []sample
	newest  report
}

type sample struct {
	t time.Time
	v float64
}

type report struct {
	time     time.Time
	geometry geom.T
	props    props.Props // own properties, before the history-derived ones
	rain     rainReport
}

// New returns a flooding module.
func New(cfg Config) *Module {
	cfg.defaults()
	return &Module{cfg: cfg, gauges: map[string]*series{}, rivers: map[string]*river{}}
}

// Name implements streams.Module.
func (m *Module) Name() string { return "flooding" }

// Specs lists the module's layers with their default intervals.
func Specs() []streams.LayerSpec { return layerSpecs(nil) }

// Layers implements streams.Module.
func (m *Module) Layers() []streams.LayerSpec { return layerSpecs(m.cfg.Intervals) }

// The brief gives 5 to 15 minutes for rain and water level.
func layerSpecs(over map[string]time.Duration) []streams.LayerSpec {
	// Tens of stations at most: never clustered (ClusterZoom 0).
	rain := props.Spec(LayerRain, "rain gauges: intensity (mm/h), 1 h / 3 h / 24 h totals, heavy when > 50 mm in 3 h", 10*time.Minute, over)
	rain.Severity = streams.Severity{Property: "heavy", Levels: []string{"normal", "heavy"},
		Values: map[string]string{"false": "normal", "true": "heavy"}}
	rivers := props.Spec(LayerRivers, "river water levels (m) against the station's BĐ1/BĐ2/BĐ3 warning levels, with trend", 10*time.Minute, over)
	rivers.Severity = streams.Severity{Property: "levelBand", Levels: []string{"below_bd1", "bd1", "bd2", "bd3"}}
	streets := props.Spec(LayerStreets, "street flood sensors: water depth (cm) and depth class", 5*time.Minute, over)
	streets.Severity = streams.Severity{Property: "depthClass", Levels: []string{"dry", "shallow", "moderate", "deep", "very_deep"}}
	return []streams.LayerSpec{rain, rivers, streets}
}

// Process implements streams.Module.
func (m *Module) Process(ev layers.Event) ([]layers.Event, error) {
	switch ev.Layer {
	case LayerRain, LayerRivers, LayerStreets:
	default:
		return nil, props.UnknownLayer(m.Name(), ev)
	}
	if ev.Op == layers.OpDelete {
		m.mu.Lock()
		switch ev.Layer {
		case LayerRain:
			delete(m.gauges, ev.ID)
		case LayerRivers:
			delete(m.rivers, ev.ID)
		}
		m.mu.Unlock()
		return []layers.Event{ev}, nil
	}
	p, err := props.FromEvent(ev, "Point")
	if err != nil {
		return nil, err
	}
	switch ev.Layer {
	case LayerRain:
		return m.rain(ev, p)
	case LayerRivers:
		return m.river(ev, p)
	}
	if err := m.street(p); err != nil {
		return nil, err
	}
	return []layers.Event{props.With(ev, p)}, nil
}

// insert adds a sample in time order; a sample at the same instant as one
// held replaces it (a resent report). It returns the index of the sample.
func (s *series) insert(t time.Time, v float64) int {
	i := sort.Search(len(s.samples), func(i int) bool { return !s.samples[i].t.Before(t) })
	if i < len(s.samples) && s.samples[i].t.Equal(t) {
		s.samples[i].v = v
		return i
	}
	s.samples = append(s.samples, sample{})
	copy(s.samples[i+1:], s.samples[i:])
	s.samples[i] = sample{t, v}
	return i
}

// prune drops samples older than keep before the newest, and the oldest
// beyond limit.
func (s *series) prune(keep time.Duration, limit int) {
	if len(s.samples) == 0 {
		return
	}
	cut := s.samples[len(s.samples)-1].t.Add(-keep)
	i := sort.Search(len(s.samples), func(i int) bool { return s.samples[i].t.After(cut) })
	i = max(i, len(s.samples)-limit)
	if i > 0 {
		s.samples = append(s.samples[:0], s.samples[i:]...)
	}
}

// late says a report is older than the newest one held.
func (s *series) late(t time.Time) bool { return t.Before(s.newest.time) }
