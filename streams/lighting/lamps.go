package lighting

import (
	"math"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams/internal/props"
)

// The Smart Data Models Streetlight vocabulary: powerState and status.
var (
	sdmPowerStates = []string{"on", "off", "low", "bootingUp"}
	sdmStatuses    = []string{"ok", "brokenLantern", "columnIssue", "defectiveLamp"}
)

// derived are the properties the module computes; they are never kept as
// a lamp's own report, so a restore cannot resurrect them.
var derived = []string{"dark", "stateSource"}

// lampReport validates a lamp report, remembers it and renders it.
func (m *Module) lampReport(ev layers.Event) (layers.Event, error) {
	p, err := props.FromEvent(ev, "Point")
	if err != nil {
		return ev, err
	}
	p.Alias("refStreetlightControlCabinet", "cabinet")
	cab, _, err := p.Str("refStreetlightControlCabinet")
	if err != nil {
		return ev, err
	}
	for _, name := range []string{"powerConsumption", "lifetimePowerConsumption"} {
		if _, _, err := p.NonNeg(name, unitOf[name]); err != nil {
			return ev, err
		}
	}
	state, level, err := lampState(p)
	if err != nil {
		return ev, err
	}
	for _, k := range derived {
		delete(p, k)
	}
	l := &lamp{geometry: ev.Geometry, time: ev.Time, own: p, state: state, level: level, cabinet: cab}

	m.mu.Lock()
	prev := m.lamps[ev.ID]
	if prev == nil || !ev.Time.Before(prev.time) {
		if prev != nil && prev.cabinet != cab {
			m.leave(prev.cabinet, ev.ID)
		}
		m.lamps[ev.ID] = l
		if cab != "" {
			if m.members[cab] == nil {
				m.members[cab] = map[string]struct{}{}
			}
			m.members[cab][ev.ID] = struct{}{}
		}
	}
	down := m.cabinetDown(cab)
	m.mu.Unlock()
	// A late report is rendered as it was (the layer keeps it as late)
	// and does not replace the lamp's newer state. Rendering and encoding
	// happen outside the lock: l is never modified once stored.
	return lampEvent(ev.ID, l, ev.Time, down), nil
}

// unitOf gives the unit of the power and energy properties, for messages.
// Lamps report W and kWh (Streetlight); cabinets kW and kWh, the units the
// Smart Data Models StreetlightControlCabinet gives these attributes.
var unitOf = map[string]string{"powerConsumption": "W", "lifetimePowerConsumption": "kWh",
	"totalActivePower": "kW", "energyConsumed": "kWh"}

// lampState derives a lamp's own state and level (0-100, -1 unknown) from
// its report: the native state, or the Smart Data Models powerState and
// status. A broken lantern, column or lamp is a fault whatever the power
// state; a lamp switched on at a level below 100 is dimmed, at 0 it is off.
func lampState(p props.Props) (string, int, error) {
	level, hasLevel, err := readLevel(p)
	if err != nil {
		return "", 0, err
	}
	state, hasState, err := p.EnumFold("state", states)
	if err != nil {
		return "", 0, err
	}
	power, hasPower, err := p.EnumFold("powerState", sdmPowerStates)
	if err != nil {
		return "", 0, err
	}
	status, _, err := p.EnumFold("status", sdmStatuses)
	if err != nil {
		return "", 0, err
	}
	switch {
	case hasState:
	case status != "" && status != "ok":
		state = StateFault
	case !hasPower:
		return "", 0, props.Invalid(props.Path("state"), "a lamp report needs state (on, off, dimmed, fault, no_power) "+
			"or powerState (on, off, low, bootingUp)")
	default:
		state = fromPowerState(power)
	}
	return settle(state, level, hasLevel)
}

// fromPowerState maps an SDM powerState to a state: off is off, low is
// dimmed, on and bootingUp are on.
func fromPowerState(power string) string {
	switch power {
	case "off":
		return StateOff
	case "low":
		return StateDimmed
	}
	return StateOn
}

// settle makes state and level agree.
func settle(state string, level int, hasLevel bool) (string, int, error) {
	switch state {
	case StateOn, StateDimmed:
		if !hasLevel {
			if state == StateOn {
				return state, 100, nil
			}
			return state, -1, nil // dimmed to an unknown level
		}
		switch {
		case level == 0:
			return StateOff, 0, nil
		case level < 100:
			return StateDimmed, level, nil
		}
		return StateOn, 100, nil
	}
	return state, 0, nil
}

// readLevel reads the dimming level: the native level (0-100), or the
// Smart Data Models illuminanceLevel (0-1).
func readLevel(p props.Props) (int, bool, error) {
	if v, ok, err := p.Within("level", 0, 100); err != nil || ok {
		return int(math.Round(v)), ok, err
	}
	v, ok, err := p.Within("illuminanceLevel", 0, 1)
	return int(math.Round(v * 100)), ok, err
}
