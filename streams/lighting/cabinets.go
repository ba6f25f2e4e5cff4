package lighting

import (
	"slices"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams/internal/props"
)

// StateUnknown is the state of a cabinet whose report does not tell it
// and whose earlier state is not known (SDM StreetlightControlCabinet has
// no state attribute). A cabinet in this state darkens no lamp.
const StateUnknown = "unknown"

// cabinetStates are the states a cabinet report may give: a lamp's, or
// unknown.
var cabinetStates = append(slices.Clone(states), StateUnknown)

// Where a cabinet's state came from (its stateSource property).
const (
	sourceReport       = "report"       // state or powerState
	sourceMeasurements = "measurements" // voltages, currents, active power
	sourcePrevious     = "previous"     // the cabinet's newest known state
	sourceNone         = "none"         // unknown
)

// cabinetReport validates a cabinet report. When the cabinet goes to
// no_power it returns, after the cabinet event, an upsert for each of its
// lamps with state no_power; when it leaves no_power, an upsert restoring
// each lamp to the state of the lamp's own newest report.
func (m *Module) cabinetReport(ev layers.Event) ([]layers.Event, error) {
	p, err := props.FromEvent(ev, "Point")
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"totalActivePower", "energyConsumed"} {
		if _, _, err := p.NonNeg(name, unitOf[name]); err != nil {
			return nil, err
		}
	}
	level, hasLevel, err := readLevel(p)
	if err != nil {
		return nil, err
	}
	state, source, err := reportedCabinetState(p)
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"dark", "lampCount", "stateSource"} {
		delete(p, k)
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	prev, known := m.cabinets[ev.ID]
	switch {
	case state == "" && known && prev.state != StateUnknown && (source != sourceMeasurements || prev.state != StateNoPower):
		// Nothing in the report tells the state (or only that the supply
		// is up, which does not say whether the circuits are on): it holds.
		state, source = prev.state, sourcePrevious
		if !hasLevel && prev.level >= 0 {
			level, hasLevel = prev.level, true
		}
	case state == "":
		state, source = StateUnknown, sourceNone
	}
	if state == StateUnknown {
		if !hasLevel {
			level = -1
		}
	} else {
		state, level, _ = settle(state, level, hasLevel)
		if source != sourceReport && state == StateOn && !hasLevel {
			level = -1 // current flows, but at what dimming level is not known
		}
	}
	delete(p, "level")
	if level >= 0 {
		p.SetInt("level", level)
	}
	p.SetStr("state", state)
	p.SetStr("stateSource", source)
	if state != StateUnknown {
		p.SetBool("dark", dark(state))
	}
	p.SetInt("lampCount", len(m.members[ev.ID]))
	out := []layers.Event{props.With(ev, p)}
	if known && ev.Time.Before(prev.time) {
		return out, nil // late: the newer report already decided the lamps
	}
	m.cabinets[ev.ID] = cabinet{state: state, level: level, time: ev.Time}
	if (prev.state == StateNoPower) != (state == StateNoPower) {
		out = append(out, m.relight(ev)...)
	}
	return out, nil
}

// reportedCabinetState reads the state a cabinet report gives, in order:
// the native state; the SDM Streetlight powerState (some controllers send
// it for the cabinet too); the SDM StreetlightControlCabinet measurements.
// It returns "" when the report does not tell the state, with source
// sourceMeasurements when the report only shows that the supply is up.
func reportedCabinetState(p props.Props) (string, string, error) {
	state, ok, err := p.EnumFold("state", cabinetStates)
	if err != nil || ok {
		return state, sourceReport, err
	}
	power, ok, err := p.EnumFold("powerState", sdmPowerStates)
	if err != nil || ok {
		return fromPowerState(power), sourceReport, err
	}
	return measuredState(p)
}

// The SDM StreetlightControlCabinet measurements, per phase (R, S, T).
var (
	voltages = []string{"voltageR", "voltageS", "voltageT"}
	loads    = []string{"totalActivePower", "activePowerR", "activePowerS", "activePowerT", "intensityR", "intensityS", "intensityT"}
)

// measuredState derives a cabinet's state from its electrical
// measurements: every phase voltage sent at 0 is no_power (the supply is
// cut); any load (active power or current) above 0 is on (the circuits
// draw power, so the lamps are lit); all loads sent at 0 with the supply up
// is off. Voltages up without any load sent only say the supply is up.
// Negative values are refused.
func measuredState(p props.Props) (string, string, error) {
	var anyVoltage, powered, anyLoad, loaded bool
	for _, name := range voltages {
		v, ok, err := p.NonNeg(name, "V")
		if err != nil {
			return "", "", err
		}
		anyVoltage = anyVoltage || ok
		powered = powered || v > 0
	}
	for _, name := range loads {
		v, ok, err := p.NonNeg(name, loadUnit(name))
		if err != nil {
			return "", "", err
		}
		anyLoad = anyLoad || ok
		loaded = loaded || v > 0
	}
	switch {
	case anyVoltage && !powered:
		return StateNoPower, sourceMeasurements, nil
	case loaded:
		return StateOn, sourceMeasurements, nil
	case anyLoad:
		return StateOff, sourceMeasurements, nil
	case anyVoltage:
		return "", sourceMeasurements, nil
	}
	return "", "", nil
}

func loadUnit(name string) string {
	if name[0] == 'i' {
		return "A"
	}
	return "kW"
}

// relight re-emits every lamp of the cabinet in its current light, at the
// cabinet's report time, or the lamp's own newer time so the layer does
// not take the event for a late one. Lamps are sorted by id, for a stable
// order.
func (m *Module) relight(ev layers.Event) []layers.Event {
	ids := make([]string, 0, len(m.members[ev.ID]))
	for id := range m.members[ev.ID] {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]layers.Event, 0, len(ids))
	for _, id := range ids {
		l := m.lamps[id]
		at := ev.Time
		if l.time.After(at) {
			at = l.time
		}
		out = append(out, lampEvent(id, l, at, m.cabinetDown(l.cabinet)))
	}
	return out
}

// forgetCabinet passes the delete through; a cabinet that was without
// power no longer darkens its lamps, so they are restored.
func (m *Module) forgetCabinet(ev layers.Event) []layers.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []layers.Event{ev}
	prev, ok := m.cabinets[ev.ID]
	delete(m.cabinets, ev.ID)
	if ok && prev.state == StateNoPower {
		out = append(out, m.relight(ev)...)
	}
	return out
}
