// Package response gives the emergency-response feed its meaning: the
// layer response.teams of rescue, medical, fire, police and maintenance
// teams as moving points, with a small status vocabulary (available, busy,
// offline) that the incident engine's "nearest available team" query and
// the zone engine's "teams inside" both rely on. docs/MODULES.md is the
// property reference.
package response

import (
	"sync"
	"time"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
	"github.com/danang-ioc/ioc/streams/internal/props"
)

// LayerTeams is the layer of response teams. Its name is public API.
const LayerTeams = "response.teams"

// The statuses of a team.
const (
	StatusAvailable = "available"
	StatusBusy      = "busy"
	StatusOffline   = "offline"
)

var statuses = []string{StatusAvailable, StatusBusy, StatusOffline}

// Kinds are the team kinds the module accepts.
var Kinds = []string{"rescue", "medical", "fire", "police", "maintenance", "utility", "military", "volunteer"}

// Activities are the finer states a team may report instead of (or beside)
// its status; each implies a status when none is sent.
var activities = map[string]string{
	"standby":   StatusAvailable,
	"patrol":    StatusAvailable,
	"returning": StatusAvailable,
	"en_route":  StatusBusy,
	"on_scene":  StatusBusy,
	"off_duty":  StatusOffline,
}

var activityNames = []string{"standby", "patrol", "returning", "en_route", "on_scene", "off_duty"}

// Config tunes the module; the zero value is usable.
type Config struct {
	// Interval is how often a team is expected to report its position;
	// default 1 minute. It goes stale after three missed reports.
	Interval time.Duration
}

// Module is the response module. It is safe for concurrent use.
type Module struct {
	cfg Config

	mu    sync.Mutex
	teams map[string]memory
}

// memory is what the module keeps of a team between reports: a position
// update may carry nothing but the position.
type memory struct {
	name, kind, status string
	since              time.Time
}

// New returns a response module.
func New(cfg Config) *Module {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	return &Module{cfg: cfg, teams: map[string]memory{}}
}

// Name implements streams.Module.
func (m *Module) Name() string { return "response" }

// Layers implements streams.Module.
func (m *Module) Layers() []streams.LayerSpec {
	spec := props.Spec(LayerTeams,
		"response teams (rescue, medical, fire, police, maintenance) as moving points: status available, busy or offline",
		m.cfg.Interval, nil)
	spec.Severity = streams.Severity{Property: "status", Levels: statuses}
	return []streams.LayerSpec{spec}
}

// Process implements streams.Module.
func (m *Module) Process(ev layers.Event) ([]layers.Event, error) {
	if ev.Layer != LayerTeams {
		return nil, props.UnknownLayer(m.Name(), ev)
	}
	if ev.Op == layers.OpDelete {
		m.mu.Lock()
		delete(m.teams, ev.ID)
		m.mu.Unlock()
		return []layers.Event{ev}, nil
	}
	p, err := props.FromEvent(ev, "Point")
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	prev, known := m.teams[ev.ID]
	cur, err := read(p, prev, known)
	if err != nil {
		return nil, err
	}
	cur.since = prev.since
	if !known || cur.status != prev.status || ev.Time.Before(prev.since) {
		cur.since = ev.Time
	}
	m.teams[ev.ID] = cur
	p.SetStr("name", cur.name)
	p.SetStr("kind", cur.kind)
	p.SetStr("status", cur.status)
	p.SetTime("statusSince", cur.since)
	p.SetBool("available", cur.status == StatusAvailable)
	return []layers.Event{props.With(ev, p)}, nil
}

// read validates a report against what is known of the team: name and
// kind are required on its first report and remembered after.
func read(p props.Props, prev memory, known bool) (memory, error) {
	cur := prev
	name, ok, err := p.Str("name")
	if err != nil {
		return cur, err
	}
	if ok && name != "" {
		cur.name = name
	} else if !known {
		return cur, props.Invalid(props.Path("name"), "name is required on a team's first report")
	}
	p.Alias("kind", "type", "teamType")
	kind, ok, err := p.EnumFold("kind", Kinds)
	if err != nil {
		return cur, err
	}
	if ok {
		cur.kind = kind
	} else if !known {
		return cur, props.Invalid(props.Path("kind"), "kind is required on a team's first report: one of rescue, medical, fire, police, maintenance, utility, military, volunteer")
	}
	if _, _, err := p.Count("members"); err != nil {
		return cur, err
	}
	return status(p, cur, known)
}

// status takes the status sent, else the one the activity implies, else
// the one known; a new team without either is available.
func status(p props.Props, cur memory, known bool) (memory, error) {
	activity, hasActivity, err := p.EnumFold("activity", activityNames)
	if err != nil {
		return cur, err
	}
	st, ok, err := p.EnumFold("status", statuses)
	switch {
	case err != nil:
		return cur, err
	case ok:
		cur.status = st
	case hasActivity:
		cur.status = activities[activity]
	case !known:
		cur.status = StatusAvailable
	}
	return cur, nil
}
