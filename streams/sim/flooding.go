package sim

import (
	"math"
	"time"
)

// shower is a passing rain cell of the normal weather: a peak rate at its
// centre falling to nothing at its radius, rising and easing over its
// duration.
type shower struct {
	start, end int64
	lon, lat   float64
	radius     float64 // m
	peak       float64 // mm/h
}

func (w *shower) at(t int64, lon, lat float64) float64 {
	if t < w.start || t >= w.end {
		return 0
	}
	f := float64(t-w.start) / float64(w.end-w.start)
	return w.peak * math.Sin(math.Pi*f) * max(0, 1-dist(w.lon, w.lat, lon, lat)/w.radius)
}

// startShower starts a rain cell somewhere over the city: 20–90 minutes,
// 4–12 km across, 3–30 mm/h at its heart.
func (s *Sim) startShower() {
	d := s.land.pick(s.rng, func(*district) float64 { return 1 })
	lon, lat := s.land.inDistrict(s.rng, d)
	s.wx = shower{start: s.now, end: s.now + s.dur(1.0/3, 1.5), lon: lon, lat: lat,
		radius: s.between(4000, 12000), peak: s.between(3, 30)}
}

// rainAt is the rain rate now at a position in district d, mm/h.
func (s *Sim) rainAt(lon, lat float64, d int) float64 {
	return s.wx.at(s.now, lon, lat) + s.stormRain(d)
}

// gaugeReport sends the mean rate and the amount since the gauge's last
// report. In a compressed storm the amount is what fell in scenario time,
// so totals reach the brief's values (docs/SIMULATOR.md).
func (s *Sim) gaugeReport(g *gauge) {
	rate := s.rainAt(g.lon, g.lat, g.d)
	if rate > 0 {
		rate *= s.between(0.85, 1.15)
	}
	period := s.iv[kRain]
	if g.lastAt != 0 {
		period = s.now - g.lastAt
	}
	g.lastAt = s.now
	hours := float64(period) / float64(time.Hour)
	if s.st != nil {
		hours *= s.st.k
	}
	p := newProps()
	p.str("name", g.name)
	p.num("intensity", rate, 1)
	p.num("precipitation", rate*min(hours, 1), 2)
	s.emit(LayerRain, g.id, g.g, &p)
}

// riverLevel is the level of a station at b bands: 0 is its dry level, 1
// BĐ1, 2 BĐ2, 3 BĐ3, beyond at the BĐ2–BĐ3 step.
func riverLevel(r *river, b float64) float64 {
	switch {
	case b <= 1:
		return r.base + b*(r.bd[0]-r.base)
	case b <= 2:
		return r.bd[0] + (b-1)*(r.bd[1]-r.bd[0])
	case b <= 3:
		return r.bd[1] + (b-2)*(r.bd[2]-r.bd[1])
	}
	return r.bd[2] + (b-3)*(r.bd[2]-r.bd[1])
}

// tidePeriod is the principal lunar semi-diurnal tide.
const tidePeriod = 12.42 * float64(time.Hour)

// riverReport: the dry level with the tide, raised by the storm; the
// warning levels are simulated and say so.
func (s *Sim) riverReport(r *river) {
	b := 0.0
	if s.st != nil {
		b = s.st.band(s.now) * r.peak / stormBandPeak
	}
	lvl := riverLevel(r, b) + r.amp*math.Sin(2*math.Pi*float64(s.now)/tidePeriod) + 0.01*s.rng.NormFloat64()
	p := newProps()
	p.str("name", r.name)
	p.str("river", r.river)
	p.num("currentLevel", max(0, lvl), 2)
	p.num("bd1", r.bd[0], 2)
	p.num("bd2", r.bd[1], 2)
	p.num("bd3", r.bd[2], 2)
	p.str("thresholdsSource", "simulated")
	s.emit(LayerRivers, r.id, r.g, &p)
}

// streetReport: dry, puddles in heavy showers, and the storm's flood.
func (s *Sim) streetReport(st *street) {
	depth := max(0, s.wx.at(s.now, st.lon, st.lat)-15) * 0.4
	if s.st != nil {
		depth += st.peak * s.st.depth(s.now)
	}
	if depth > 0 {
		depth = max(0, depth+0.5*s.rng.NormFloat64())
	}
	p := newProps()
	p.str("name", st.name)
	p.num("depth", depth, 1)
	s.emit(LayerStreets, st.id, st.g, &p)
}
