package lighting

import (
	"slices"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams/internal/props"
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
	state, err := p.RequireEnum("state", states)
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
	state, level, _ = settle(state, level, hasLevel)
	if level >= 0 {
		p.SetInt("level", level)
	}
	p.SetStr("state", state)
	p.SetBool("dark", dark(state))

	m.mu.Lock()
	defer m.mu.Unlock()
	p.SetInt("lampCount", len(m.members[ev.ID]))
	out := []layers.Event{props.With(ev, p)}
	prev, known := m.cabinets[ev.ID]
	if known && ev.Time.Before(prev.time) {
		return out, nil // late: the newer report already decided the lamps
	}
	m.cabinets[ev.ID] = cabinet{state: state, time: ev.Time}
	if (prev.state == StateNoPower) != (state == StateNoPower) {
		out = append(out, m.relight(ev)...)
	}
	return out, nil
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
		out = append(out, m.lampEvent(id, l, at))
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
