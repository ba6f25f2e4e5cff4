package flooding

import (
	"time"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams/internal/props"
)

// river is a water-level station: its level history and its warning
// levels (báo động) BĐ1 < BĐ2 < BĐ3 in metres, when known.
type river struct {
	series
	bd    [3]float64
	hasBD bool
}

// riverDerived are computed by the module; a report's own values for them
// are dropped.
var riverDerived = []string{"levelBand", "warningLevel", "toNextBand", "trend", "levelRate"}

// river reads a water-level report, places the level against the
// station's warning levels and computes its trend. Like rain, a late
// report is returned as it was and is followed by the newest report again,
// whose trend the late reading may change.
func (m *Module) river(ev layers.Event, p props.Props) ([]layers.Event, error) {
	p.Alias("currentLevel", "waterLevel", "height")
	level, ok, err := p.Num("currentLevel")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, props.Invalid(props.Path("currentLevel"), "currentLevel (water level, m) is required")
	}
	for _, k := range riverDerived {
		delete(p, k)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.rivers[ev.ID]
	if r == nil {
		r = &river{}
		m.rivers[ev.ID] = r
	}
	if err := m.thresholds(ev.ID, r, p); err != nil {
		return nil, err
	}
	late := r.late(ev.Time)
	r.insert(ev.Time, level)
	if !late {
		r.newest = report{time: ev.Time, geometry: ev.Geometry, props: p.Clone()}
	}
	r.prune(2*m.cfg.TrendWindow, 1000)

	out := []layers.Event{props.With(ev, m.riverState(r, ev.Time, level, p))}
	if late {
		n := r.newest
		newestLevel, _, _ := n.props.Num("currentLevel")
		again := layers.Event{Layer: ev.Layer, ID: ev.ID, Op: layers.OpUpsert, Time: n.time, Geometry: n.geometry}
		out = append(out, props.With(again, m.riverState(r, n.time, newestLevel, n.props.Clone())))
	}
	return out, nil
}

// thresholds resolves the station's warning levels, in order: the report
// (bd1, bd2, bd3 together, remembered for later reports), the levels it
// reported before, the configuration. It writes them to p.
func (m *Module) thresholds(id string, r *river, p props.Props) error {
	var bd [3]float64
	n := 0
	for i, name := range [3]string{"bd1", "bd2", "bd3"} {
		v, ok, err := p.Num(name)
		if err != nil {
			return err
		}
		if ok {
			bd[i] = v
			n++
		}
	}
	switch {
	case n == 3:
		if !(bd[0] < bd[1] && bd[1] < bd[2]) {
			return props.Invalid("properties.bd1", "warning levels must increase, bd1 < bd2 < bd3; got %s, %s, %s m",
				props.FormatNum(bd[0]), props.FormatNum(bd[1]), props.FormatNum(bd[2]))
		}
		r.bd, r.hasBD = bd, true
	case n > 0:
		return props.Invalid("properties.bd1", "bd1, bd2 and bd3 go together: give all three warning levels (m) or none")
	case !r.hasBD:
		if c, ok := m.cfg.RiverThresholds[id]; ok {
			r.bd, r.hasBD = c, true
		}
	}
	if r.hasBD {
		p.SetNum("bd1", r.bd[0])
		p.SetNum("bd2", r.bd[1])
		p.SetNum("bd3", r.bd[2])
	}
	return nil
}

// bandNames are the level bands: a level at or above a warning level is in
// its band, as "reaching BĐ2" counts as BĐ2.
var bandNames = [...]string{"below_bd1", "bd1", "bd2", "bd3"}

// riverState sets the band and trend of a level observed at t on p.
func (m *Module) riverState(r *river, t time.Time, level float64, p props.Props) props.Props {
	if r.hasBD {
		w := 0
		for w < 3 && level >= r.bd[w] {
			w++
		}
		p.SetStr("levelBand", bandNames[w])
		p.SetInt("warningLevel", w)
		if w < 3 {
			p.SetNum("toNextBand", props.Round(r.bd[w]-level, 2))
		}
	} else {
		p.SetStr("levelBand", "unknown")
	}
	rate, ok := r.rate(t, m.cfg.TrendWindow, m.cfg.TrendMinSpan)
	if !ok {
		p.SetStr("trend", "unknown")
		return p
	}
	rate = props.Round(rate, 1) // judge on the rate as shown
	p.SetNum("levelRate", rate)
	switch {
	case rate >= m.cfg.TrendThreshold:
		p.SetStr("trend", "rising")
	case rate <= -m.cfg.TrendThreshold:
		p.SetStr("trend", "falling")
	default:
		p.SetStr("trend", "steady")
	}
	return p
}

// rate is the least-squares slope, in cm/h, of the levels in
// [t-window, t]. A fitted slope rather than first-to-last keeps one noisy
// reading from flipping the trend. It needs readings spanning minSpan.
func (s *series) rate(t time.Time, window, minSpan time.Duration) (float64, bool) {
	from := t.Add(-window)
	var n, sx, sy, sxx, sxy float64
	var first, last time.Time
	for _, smp := range s.samples {
		if smp.t.Before(from) || smp.t.After(t) {
			continue
		}
		if n == 0 {
			first = smp.t
		}
		last = smp.t
		x := smp.t.Sub(t).Hours()
		n++
		sx += x
		sy += smp.v
		sxx += x * x
		sxy += x * smp.v
	}
	if n < 2 || last.Sub(first) < minSpan {
		return 0, false
	}
	slope := (n*sxy - sx*sy) / (n*sxx - sx*sx) // metres per hour
	return slope * 100, true
}

// depthClasses name street flood depths; see Config.DepthSteps.
var depthClasses = [...]string{"dry", "shallow", "moderate", "deep", "very_deep"}

// street reads a street sensor's depth (cm; or, in metres, the Smart Data
// Models FloodMonitoring currentLevel or WaterObserved height) and
// classifies it. The default
// steps: under 5 cm is a wet road, not a flood; from 15 cm motorbikes
// stall; from 30 cm the street is impassable for motorbikes and small
// cars; from 50 cm the water endangers people.
func (m *Module) street(p props.Props) error {
	depth, ok, err := p.NonNeg("depth", "cm")
	if err != nil {
		return err
	}
	for _, name := range []string{"currentLevel", "height"} {
		if ok {
			break
		}
		var metres float64
		if metres, ok, err = p.NonNeg(name, "m"); err != nil {
			return err
		}
		depth = props.Round(metres*100, 1)
	}
	if !ok {
		return props.Invalid(props.Path("depth"), "depth (cm) is required (or currentLevel or height in metres)")
	}
	p.SetNum("depth", depth)
	c := 0
	for c < len(m.cfg.DepthSteps) && depth >= m.cfg.DepthSteps[c] {
		c++
	}
	p.SetStr("depthClass", depthClasses[c])
	p.SetBool("flooded", c > 0)
	return nil
}
