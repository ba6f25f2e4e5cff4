// Package lighting gives the public-lighting feed its domain meaning: the
// state of every lamp and control cabinet (on, off, dimmed, fault, no
// power), their power and energy, and the darkening of a cabinet's lamps
// when the cabinet loses power. docs/MODULES.md is the property reference.
package lighting

import (
	"sync"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
	"github.com/danang-ioc/ioc/streams/internal/props"
)

// The layers of the lighting module. Their names are public API.
const (
	LayerLamps    = "lighting.lamps"
	LayerCabinets = "lighting.cabinets"
)

// The states of a lamp or cabinet.
const (
	StateOn      = "on"
	StateOff     = "off"
	StateDimmed  = "dimmed"
	StateFault   = "fault"
	StateNoPower = "no_power"
)

var states = []string{StateOn, StateOff, StateDimmed, StateFault, StateNoPower}

// Config tunes the module; the zero value is usable.
type Config struct {
	// Intervals overrides the expected reporting interval of a layer, by
	// layer name; StaleAfter follows as three intervals.
	Intervals map[string]time.Duration
}

// Module is the lighting module. It is safe for concurrent use.
type Module struct {
	cfg Config

	mu sync.Mutex
	// lamps holds what is needed to re-emit a lamp when its cabinet loses
	// or regains power: its position and its own last report.
	lamps map[string]*lamp
	// cabinets holds each cabinet's newest state.
	cabinets map[string]cabinet
	// members lists the lamps that name a cabinet, by cabinet id. A lamp
	// may name a cabinet that has not reported yet.
	members map[string]map[string]struct{}
}

// lamp is the module's memory of one lamp.
type lamp struct {
	geometry geom.T
	time     time.Time   // newest own report
	own      props.Props // its own newest properties, without derived ones
	state    string      // the state its own report gives
	level    int         // 0-100, -1 when unknown
	cabinet  string
}

type cabinet struct {
	state string
	level int // 0-100, -1 when unknown
	time  time.Time
}

// New returns a lighting module.
func New(cfg Config) *Module {
	return &Module{
		cfg:      cfg,
		lamps:    map[string]*lamp{},
		cabinets: map[string]cabinet{},
		members:  map[string]map[string]struct{}{},
	}
}

// Name implements streams.Module.
func (m *Module) Name() string { return "lighting" }

// Specs lists the module's layers with their default intervals.
func Specs() []streams.LayerSpec { return layerSpecs(nil) }

// Layers implements streams.Module.
func (m *Module) Layers() []streams.LayerSpec { return layerSpecs(m.cfg.Intervals) }

// Intervals are assumptions (the brief gives none for lighting): cabinet
// controllers are polled every few minutes, lamp nodes report less often.
func layerSpecs(over map[string]time.Duration) []streams.LayerSpec {
	lamps := props.Spec(LayerLamps, "street lamps: state, dimming level, power and energy; dark when not lit", 15*time.Minute, over)
	lamps.Severity, lamps.ClusterZoom = lightSeverity, 15
	cabinets := props.Spec(LayerCabinets, "lighting control cabinets: state, power and energy; no_power darkens their lamps", 5*time.Minute, over)
	cabinets.Severity, cabinets.ClusterZoom = lightSeverity, 13
	return []streams.LayerSpec{lamps, cabinets}
}

// lightSeverity ranks lamps and cabinets by state. Switched off is dark
// too, but commanded; a fault or a power cut is what operators chase, so
// both are the worst level, "dark". A cabinet's "unknown" is unranked.
var lightSeverity = streams.Severity{Property: "state", Levels: []string{"on", "dimmed", "off", "dark"},
	Values: map[string]string{"fault": "dark", "no_power": "dark"}}

// Process implements streams.Module.
func (m *Module) Process(ev layers.Event) ([]layers.Event, error) {
	switch ev.Layer {
	case LayerLamps:
		if ev.Op == layers.OpDelete {
			m.forgetLamp(ev.ID)
			return []layers.Event{ev}, nil
		}
		out, err := m.lampReport(ev)
		if err != nil {
			return nil, err
		}
		return []layers.Event{out}, nil
	case LayerCabinets:
		if ev.Op == layers.OpDelete {
			return m.forgetCabinet(ev), nil
		}
		return m.cabinetReport(ev)
	}
	return nil, props.UnknownLayer(m.Name(), ev)
}

// dark says a state gives no light.
func dark(state string) bool {
	return state == StateOff || state == StateFault || state == StateNoPower
}

// render builds a lamp's properties from its own report; a cabinet without
// power overrides the lamp's own state, because lamp nodes on a backup
// battery keep reporting the state they were last commanded.
func render(l *lamp, cabinetDown bool) props.Props {
	p := l.own.Clone()
	if cabinetDown {
		p.SetStr("state", StateNoPower)
		p.SetInt("level", 0)
		p.SetNum("powerConsumption", 0)
		p.SetBool("dark", true)
		p.SetStr("stateSource", "cabinet")
		return p
	}
	p.SetStr("state", l.state)
	if l.level >= 0 {
		p.SetInt("level", l.level)
	} else {
		delete(p, "level")
	}
	p.SetBool("dark", dark(l.state))
	p.SetStr("stateSource", "lamp")
	return p
}

// cabinetDown reports whether the cabinet feeding a lamp has no power;
// the caller holds m.mu.
func (m *Module) cabinetDown(cab string) bool {
	return m.cabinets[cab].state == StateNoPower
}

// lampEvent is the upsert that shows lamp id in its current light.
func lampEvent(id string, l *lamp, at time.Time, cabinetDown bool) layers.Event {
	return props.With(layers.Event{Layer: LayerLamps, ID: id, Op: layers.OpUpsert, Time: at, Geometry: l.geometry}, render(l, cabinetDown))
}

func (m *Module) forgetLamp(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l := m.lamps[id]; l != nil {
		m.leave(l.cabinet, id)
		delete(m.lamps, id)
	}
}

// leave removes a lamp from a cabinet's member list.
func (m *Module) leave(cab, id string) {
	if set := m.members[cab]; set != nil {
		delete(set, id)
		if len(set) == 0 {
			delete(m.members, cab)
		}
	}
}
