// Package feedback gives citizen reports (the Góp ý Đà Nẵng app, the 1022
// hotline, the web portal, Open311 partners) their domain meaning: a
// documented category set, a status workflow whose every transition is
// timestamped, a priority, and a hint when a report probably repeats one
// made minutes before nearby. docs/MODULES.md is the property reference.
package feedback

import (
	"sync"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
	"github.com/danang-ioc/ioc/streams/internal/props"
)

// LayerReports is the layer of citizen reports. Its name is public API.
const LayerReports = "feedback.reports"

// Categories are the kinds of report. The first ones are what storms
// bring (the brief's hours 2–4); other catches the rest.
var Categories = []string{
	"flooded_road", "fallen_tree", "power_line_down", "trapped_people", "landslide", "traffic_accident",
	"garbage", "streetlight_out", "traffic_signal", "pothole", "other",
}

// Channels are where a report came from: the Góp ý Đà Nẵng app (and the
// rescue app), the 1022 hotline, the web portal, an Open311 client.
var Channels = []string{"app", "hotline", "web", "open311"}

// priorities rank categories for the wall: critical for danger to life,
// high for what blocks roads or rescue, normal otherwise.
var priorities = map[string]string{
	"trapped_people": "critical", "power_line_down": "critical",
	"flooded_road": "high", "fallen_tree": "high", "landslide": "high", "traffic_accident": "high", "traffic_signal": "high",
}

// Config tunes the module; the zero value is usable.
type Config struct {
	// DuplicateRadius and DuplicateWindow: a new report of the same
	// category as an open report made within this distance (metres) and
	// time gets possibleDuplicateOf. Defaults 150 m and 30 minutes.
	DuplicateRadius float64
	DuplicateWindow time.Duration
	// Retention is how long the module remembers a closed (resolved or
	// rejected) report after its last change. Default 30 days.
	Retention time.Duration
}

func (c *Config) defaults() {
	if c.DuplicateRadius <= 0 {
		c.DuplicateRadius = 150
	}
	if c.DuplicateWindow <= 0 {
		c.DuplicateWindow = 30 * time.Minute
	}
	if c.Retention <= 0 {
		c.Retention = 30 * 24 * time.Hour
	}
}

// Module is the feedback module. It is safe for concurrent use.
type Module struct {
	cfg Config

	mu      sync.Mutex
	reports map[string]*report
	recent  []created // reports created within DuplicateWindow, oldest first
	newest  time.Time // newest event time seen, the module's clock
	sweeps  int       // events since the last retention sweep
}

// report is the module's memory of one report.
type report struct {
	props    props.Props // merged own properties, without the derived ones
	history  []transition
	time     time.Time // newest event
	geometry geom.T
	lon, lat float64
	category string
}

// transition is one entry of statusHistory, {"status", "time"}.
type transition struct {
	Status string
	Time   time.Time
}

type created struct {
	id string
	at time.Time
}

// New returns a feedback module.
func New(cfg Config) *Module {
	cfg.defaults()
	return &Module{cfg: cfg, reports: map[string]*report{}}
}

// Name implements streams.Module.
func (m *Module) Name() string { return "feedback" }

// Specs lists the module's layer. Reports are not sensors: they do not
// report at intervals and never go stale; they leave the map when deleted.
func Specs() []streams.LayerSpec {
	return []streams.LayerSpec{{Name: LayerReports,
		Description: "citizen reports: category, description, photo, channel, status workflow with history",
		// A report nobody has taken yet is what needs attention most.
		Severity: streams.Severity{Property: "status", Levels: []string{"closed", "in_progress", "assigned", "received"},
			Values: map[string]string{"resolved": "closed", "rejected": "closed"}},
		ClusterZoom: 13,
	}}
}

// Layers implements streams.Module.
func (m *Module) Layers() []streams.LayerSpec { return Specs() }

// Process implements streams.Module.
func (m *Module) Process(ev layers.Event) ([]layers.Event, error) {
	if ev.Layer != LayerReports {
		return nil, props.UnknownLayer(m.Name(), ev)
	}
	if ev.Op == layers.OpDelete {
		m.mu.Lock()
		delete(m.reports, ev.ID)
		m.mu.Unlock()
		return []layers.Event{ev}, nil
	}
	in, err := readReport(ev)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out, err := m.apply(ev, in)
	if err != nil {
		return nil, err
	}
	m.sweep(ev.Time)
	return []layers.Event{out}, nil
}

// sweep forgets closed reports past retention, every 1000 events.
func (m *Module) sweep(t time.Time) {
	if t.After(m.newest) {
		m.newest = t
	}
	if m.sweeps++; m.sweeps < 1000 {
		return
	}
	m.sweeps = 0
	for id, r := range m.reports {
		if !isOpen(r.status()) && m.newest.Sub(r.time) > m.cfg.Retention {
			delete(m.reports, id)
		}
	}
}
