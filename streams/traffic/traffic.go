// Package traffic gives the traffic feeds their domain meaning: congestion
// per road segment, signal status, camera counts and speeds, violations
// and parking occupancy. docs/MODULES.md is the reference for every
// property; this package implements it.
package traffic

import (
	"sync"
	"time"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
	"github.com/danang-ioc/ioc/streams/internal/props"
)

// The layers of the traffic module. Their names are public API.
const (
	LayerSegments   = "traffic.segments"
	LayerSignals    = "traffic.signals"
	LayerCameras    = "traffic.cameras"
	LayerViolations = "traffic.violations"
	LayerParking    = "traffic.parking"
)

// Config tunes the module; the zero value is usable.
type Config struct {
	// FreeFlowSpeeds gives the free-flow speed (km/h) of a segment or
	// camera by entity id, used when its reports do not carry one.
	FreeFlowSpeeds map[string]float64
	// DefaultFreeFlowSpeed (km/h) is the last resort. Default 40 km/h, a
	// typical uncongested speed on Da Nang's urban arterials (the legal
	// limit in built-up areas is 50–60 km/h); configure real values.
	DefaultFreeFlowSpeed float64
	// ViolationTTL is how long a violation stays on the map after it was
	// observed (its expires property). Default 15 minutes.
	ViolationTTL time.Duration
	// Intervals overrides the expected reporting interval of a layer, by
	// layer name; StaleAfter follows as three intervals.
	Intervals map[string]time.Duration
}

func (c *Config) defaults() {
	if c.DefaultFreeFlowSpeed <= 0 {
		c.DefaultFreeFlowSpeed = 40
	}
	if c.ViolationTTL <= 0 {
		c.ViolationTTL = 15 * time.Minute
	}
}

// Module is the traffic module. It is safe for concurrent use.
type Module struct {
	cfg Config

	mu sync.Mutex
	// freeFlow remembers the free-flow speed a segment or camera reported
	// once, so later reports need not repeat it. Keyed by layer and id.
	freeFlow map[string]float64
	// signals remembers each signal's status and since when it holds.
	signals map[string]signalState
	// spots remembers each car park's totalSpotNumber.
	spots map[string]int
}

// New returns a traffic module.
func New(cfg Config) *Module {
	cfg.defaults()
	return &Module{
		cfg:      cfg,
		freeFlow: map[string]float64{},
		signals:  map[string]signalState{},
		spots:    map[string]int{},
	}
}

// Name implements streams.Module.
func (m *Module) Name() string { return "traffic" }

// Specs lists the module's layers with their default intervals.
func Specs() []streams.LayerSpec { return layerSpecs(nil) }

// Layers implements streams.Module.
func (m *Module) Layers() []streams.LayerSpec { return layerSpecs(m.cfg.Intervals) }

func layerSpecs(over map[string]time.Duration) []streams.LayerSpec {
	violations := streams.LayerSpec{Name: LayerViolations,
		Description: "traffic violations detected by cameras: short-lived points that carry an expires time"}
	violations.ClusterZoom = 13
	// Segments are never clustered: a congestion map is read along its
	// lines, and a few hundred lines are cheap to draw at any zoom.
	segments := props.Spec(LayerSegments, "road segments with flow, speed and congestion level 0-4", 5*time.Minute, over)
	segments.Severity = congestionSeverity
	signals := props.Spec(LayerSignals, "signalised intersections: normal, flashing, fault or offline", 10*time.Second, over)
	signals.Severity = streams.Severity{Property: "status", Levels: []string{"normal", "flashing", "offline", "fault"}}
	signals.ClusterZoom = 13
	cameras := props.Spec(LayerCameras, "traffic cameras: vehicle counts and speeds", time.Minute, over)
	cameras.Severity, cameras.ClusterZoom = congestionSeverity, 13
	parking := props.Spec(LayerParking, "car parks and parking streets: free and total spots, occupancy", 5*time.Minute, over)
	parking.Severity = streams.Severity{Property: "occupancy", Levels: []string{"free", "busy", "full"}, Bands: []float64{0.8, 1}}
	parking.ClusterZoom = 13
	return []streams.LayerSpec{segments, signals, cameras, violations, parking}
}

// congestionSeverity ranks segments and cameras by the module's
// congestionLevel, labelled as its congestion property is.
var congestionSeverity = streams.Severity{Property: "congestionLevel",
	Levels: []string{"free", "light", "moderate", "heavy", "jammed"}, Bands: []float64{1, 2, 3, 4}}

// Process implements streams.Module.
func (m *Module) Process(ev layers.Event) ([]layers.Event, error) {
	if !owns(ev.Layer) {
		return nil, props.UnknownLayer(m.Name(), ev)
	}
	if ev.Op == layers.OpDelete {
		m.forget(ev)
		return []layers.Event{ev}, nil
	}
	var out layers.Event
	var err error
	switch ev.Layer {
	case LayerSegments:
		out, err = m.segment(ev)
	case LayerSignals:
		out, err = m.signal(ev)
	case LayerCameras:
		out, err = m.camera(ev)
	case LayerViolations:
		out, err = m.violation(ev)
	default:
		out, err = m.parking(ev)
	}
	if err != nil {
		return nil, err
	}
	return []layers.Event{out}, nil
}

func owns(layer string) bool {
	switch layer {
	case LayerSegments, LayerSignals, LayerCameras, LayerViolations, LayerParking:
		return true
	}
	return false
}

// forget drops what the module remembers of a deleted entity.
func (m *Module) forget(ev layers.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := ev.Layer + "\x00" + ev.ID
	delete(m.freeFlow, key)
	switch ev.Layer {
	case LayerSignals:
		delete(m.signals, ev.ID)
	case LayerParking:
		delete(m.spots, ev.ID)
	}
}
