package traffic

import (
	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams/internal/props"
)

// Congestion levels, 0 (free flow) to 4 (jammed).
var congestionNames = [...]string{"free", "light", "moderate", "heavy", "jammed"}

// speedSteps are the lower bounds of the speed ratio (average speed over
// free-flow speed) for levels 0..3; below the last is level 4. They follow
// the urban-street levels of service of the US Highway Capacity Manual
// (2010): A–B above 67 % of free-flow speed, C 50–67 %, D 40–50 %,
// E 30–40 %, F below 30 %.
var speedSteps = [...]float64{0.67, 0.50, 0.40, 0.30}

// occupancySteps are the upper bounds (exclusive) of detector occupancy,
// the fraction of time a vehicle is over the detection zone, for levels
// 0..3; at or above the last is level 4. Occupancy rises steeply once a
// queue forms over the detector; the steps are a heuristic to be tuned
// with Da Nang's camera data (motorbike-dominated traffic).
var occupancySteps = [...]float64{0.15, 0.30, 0.45, 0.60}

// flow is what a segment or camera report says about traffic.
type flow struct {
	intensity, speed, occupancy          float64
	hasIntensity, hasSpeed, hasOccupancy bool
}

func readFlow(p props.Props) (flow, error) {
	var f flow
	var err error
	if f.intensity, f.hasIntensity, err = p.NonNeg("intensity", "vehicles"); err != nil {
		return f, err
	}
	if f.speed, f.hasSpeed, err = p.Within("averageVehicleSpeed", 0, 250); err != nil {
		return f, err
	}
	if f.occupancy, f.hasOccupancy, err = p.Within("occupancy", 0, 1); err != nil {
		return f, err
	}
	return f, nil
}

// congestion computes the level from what is known: the speed ratio and
// the occupancy each give a level and the worse one wins, since either is
// a sign of congestion on its own (a queue standing on the detector has
// high occupancy but no speed sample). With no vehicle counted the average
// speed means nothing and is ignored; an empty road is free flowing. ok is
// false when nothing allows a judgement.
func congestion(f flow, freeFlow float64) (level int, ratio float64, usedSpeed, ok bool) {
	if f.hasIntensity && f.intensity == 0 && !f.hasOccupancy {
		return 0, 0, false, true
	}
	if f.hasSpeed && !(f.hasIntensity && f.intensity == 0) {
		// Judge on the ratio as shown (two decimals), so the map never
		// shows 0.67 next to a level computed from 0.6667.
		ratio = props.Round(f.speed/freeFlow, 2)
		level = len(speedSteps)
		for i, s := range speedSteps {
			if ratio >= s {
				level = i
				break
			}
		}
		usedSpeed, ok = true, true
	}
	if f.hasOccupancy {
		occ := len(occupancySteps)
		for i, s := range occupancySteps {
			if f.occupancy < s {
				occ = i
				break
			}
		}
		level, ok = max(level, occ), true
	}
	return level, ratio, usedSpeed, ok
}

// freeFlowFor resolves the free-flow speed of an entity: its report, then
// what it reported before, then the configuration, then the default.
func (m *Module) freeFlowFor(ev layers.Event, p props.Props) (float64, error) {
	v, ok, err := p.Within("freeFlowSpeed", 1, 250)
	if err != nil {
		return 0, err
	}
	key := ev.Layer + "\x00" + ev.ID
	m.mu.Lock()
	defer m.mu.Unlock()
	if ok {
		m.freeFlow[key] = v
		return v, nil
	}
	if v, ok := m.freeFlow[key]; ok {
		return v, nil
	}
	if v, ok := m.cfg.FreeFlowSpeeds[ev.ID]; ok && v > 0 {
		return v, nil
	}
	return m.cfg.DefaultFreeFlowSpeed, nil
}

// setCongestion writes the derived congestion properties.
func setCongestion(p props.Props, level int, ratio, freeFlow float64, usedSpeed bool) {
	p.SetInt("congestionLevel", level)
	p.SetStr("congestion", congestionNames[level])
	p.SetNum("freeFlowSpeed", freeFlow)
	if usedSpeed {
		p.SetNum("speedRatio", ratio)
	} else {
		delete(p, "speedRatio")
	}
}

func (m *Module) segment(ev layers.Event) (layers.Event, error) {
	p, err := props.FromEvent(ev, "LineString", "MultiLineString")
	if err != nil {
		return ev, err
	}
	f, err := readFlow(p)
	if err != nil {
		return ev, err
	}
	ff, err := m.freeFlowFor(ev, p)
	if err != nil {
		return ev, err
	}
	level, ratio, usedSpeed, ok := congestion(f, ff)
	if !ok {
		return ev, props.Invalid("properties", "a road segment needs averageVehicleSpeed (km/h) or occupancy (0-1), "+
			"or intensity 0, to compute its congestionLevel")
	}
	setCongestion(p, level, ratio, ff, usedSpeed)
	return props.With(ev, p), nil
}

// camera: counts and speeds at a point; congestion is added when the
// report allows it, with the same rule as segments.
func (m *Module) camera(ev layers.Event) (layers.Event, error) {
	p, err := props.FromEvent(ev, "Point")
	if err != nil {
		return ev, err
	}
	f, err := readFlow(p)
	if err != nil {
		return ev, err
	}
	if !f.hasIntensity && !f.hasSpeed {
		return ev, props.Invalid("properties", "a camera report needs intensity (vehicles counted) or averageVehicleSpeed (km/h)")
	}
	ff, err := m.freeFlowFor(ev, p)
	if err != nil {
		return ev, err
	}
	if level, ratio, usedSpeed, ok := congestion(f, ff); ok {
		setCongestion(p, level, ratio, ff, usedSpeed)
	}
	return props.With(ev, p), nil
}
