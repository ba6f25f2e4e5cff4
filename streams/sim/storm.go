package sim

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
)

// The storm scenario, in scenario hours (docs/SIMULATOR.md has the
// timeline). Storm(compress) plays the brief's 8 hours in compress of
// simulated time; the recovery that follows, to hour 12, plays at the same
// pace.
const (
	stormScenario = 8 * time.Hour
	stormHours    = 12.0
	stormBandPeak = 3.3     // the band curve's value for a river whose peak is 3.3 bands
	teamSpeed     = 15000.0 // m per scenario hour, through flooded streets
)

var (
	// stormRainCurve is rain (mm/h) in the districts the storm hits hardest
	// (Hòa Vang, Liên Chiểu); the others get a share (districtParams.rain).
	stormRainCurve = knots{{0, 2}, {1, 32}, {1.5, 42}, {2.5, 58}, {3.5, 55}, {4.5, 35}, {6, 15}, {8, 4}, {9, 1}, {10, 0}}
	// stormBandCurve raises a river, in bands, scaled by its peak: BĐ1 at
	// 2.4 h, BĐ2 at 3.3 h, BĐ3 after 3.8 h for the rivers that reach it.
	stormBandCurve   = knots{{0, 0}, {1.2, 0.1}, {2.4, 1}, {3.3, 2}, {4, 3.3}, {5, 3.4}, {8, 2}, {10, 1}, {12, 0}}
	stormDepthCurve  = knots{{0, 0}, {2, 0}, {2.5, 0.3}, {3.5, 1}, {5.5, 1}, {7, 0.6}, {9.5, 0.05}, {10.5, 0}}
	stormSlowCurve   = knots{{0, 1}, {1.5, 0.75}, {2.5, 0.55}, {6, 0.55}, {8, 0.8}, {10, 1}}
	stormThinCurve   = knots{{0, 1}, {2, 0.8}, {3, 0.5}, {6, 0.5}, {9, 0.9}, {10, 1}}
	stormReportCurve = knots{{0, 5}, {1, 15}, {2, 60}, {2.5, 200}, {3, 320}, {4, 300}, {5, 220}, {6, 140}, {8, 60}, {10, 15}, {12, 0}}
)

// storm is a running storm scenario.
type storm struct {
	n     uint32 // which storm, for its scheduled items
	start int64
	k     float64 // scenario time per simulated time
	teams []team
	worst []int // heavy flood sites, deepest first
}

func (st *storm) hour(t int64) float64 { return float64(t-st.start) / float64(time.Hour) * st.k }
func (st *storm) at(h float64) int64   { return st.start + int64(h*float64(time.Hour)/st.k) }
func (st *storm) band(t int64) float64 {
	return stormBandCurve.at(st.hour(t))
}
func (st *storm) depth(t int64) float64 { return stormDepthCurve.at(st.hour(t)) }

// Storm starts the storm scenario now. compress is the simulated time the
// brief's 8 hours take (the recovery to hour 12 follows at the same pace):
// 8 h (or 0) plays it in real time, 5 minutes plays it in 5 minutes of
// simulated time, which Run at Speed 1 shows in 5 real minutes. At least
// a minute; ErrStormActive while a storm plays.
func (s *Sim) Storm(compress time.Duration) error {
	if compress == 0 {
		compress = stormScenario
	}
	if compress < time.Minute {
		return fmt.Errorf("sim: storm compressed to %v: give at least a minute", compress)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st != nil {
		return ErrStormActive
	}
	s.nst++
	st := &storm{n: s.nst, start: s.now, k: float64(stormScenario) / float64(compress)}
	s.st = st
	s.planOutages(st)
	s.planSignals(st)
	s.planTeams(st)
	s.push(st.at(stormHours), kStormEnd, 0, st.n)
	s.repace()
	s.restartReports()
	s.log.Info("storm scenario started", "compress", compress, "ends", time.Unix(0, st.at(stormHours)).UTC())
	return nil
}

// repace reschedules the storm-paced sensors at their storm intervals.
func (s *Sim) repace() {
	for _, k := range []kind{kRain, kRiver, kStreet} {
		for i := range s.countOf(k) {
			s.setDue(k, int32(i), s.sensorOf(k, int32(i)), s.now+1+s.rng.Int64N(s.interval(k)))
		}
	}
}

func (s *Sim) affected(d int) bool { return d >= 0 && s.land.ds[d].affected }

// planOutages: whole routes lose power between hours 2.3 and 3.8 (45% of
// the lit routes in the districts the storm hits, 8% elsewhere) and get it
// back between hours 6 and 9.5.
func (s *Sim) planOutages(st *storm) {
	planned, fallback := false, -1
	for ri := range s.w.routes {
		rt := &s.w.routes[ri]
		if rt.cabN == 0 {
			continue
		}
		p := 0.08
		if s.affected(rt.d) {
			p, fallback = 0.45, max(fallback, ri)
		}
		if s.rng.Float64() < p {
			s.planOutage(st, ri)
			planned = true
		}
	}
	if !planned && fallback >= 0 {
		s.planOutage(st, fallback)
	}
}

func (s *Sim) planOutage(st *storm, ri int) {
	s.push(st.at(s.between(2.3, 3.8)), kStormCabOff, int32(ri), st.n)
	s.push(st.at(s.between(6, 9.5)), kStormCabOn, int32(ri), st.n)
}

// planSignals: 40% of the signals in the districts the storm hits (8%
// elsewhere) fall back to flashing or go offline between hours 2.2 and 4,
// and recover between hours 6.5 and 9.5.
func (s *Sim) planSignals(st *storm) {
	for i := range s.w.signals {
		sg := &s.w.signals[i]
		p := 0.08
		if s.affected(sg.d) {
			p = 0.4
		}
		if s.rng.Float64() >= p {
			continue
		}
		sg.stormPlan = "flashing"
		if s.rng.Float64() < 0.4 {
			sg.stormPlan = "offline"
		}
		s.push(st.at(s.between(2.2, 4)), kStormSigOff, int32(i), st.n)
		s.push(st.at(s.between(6.5, 9.5)), kStormSigOn, int32(i), st.n)
	}
}

// stormItem runs an item of the current storm.
func (s *Sim) stormItem(it item) {
	st := s.st
	if st == nil || it.gen != st.n {
		return
	}
	switch it.k {
	case kStormCabOff, kStormCabOn:
		rt := &s.w.routes[it.idx]
		for ci := rt.cabFirst; ci < rt.cabFirst+rt.cabN; ci++ {
			s.setPower(int32(ci), s.w.cabinets[ci].cut, it.k == kStormCabOff)
		}
	case kStormSigOff, kStormSigOn:
		sg := &s.w.signals[it.idx]
		sg.storm = ""
		if it.k == kStormSigOff {
			sg.storm = sg.stormPlan
		}
		s.signalChanged(it.idx)
	case kTeam:
		s.teamTick(it.idx)
	case kStormEnd:
		s.endStorm()
	}
}

// endStorm restores whatever the storm still holds, stands the teams down
// (deleting them from the map) and returns the report rate to normal.
func (s *Sim) endStorm() {
	for ci := range s.w.cabinets {
		if s.w.cabinets[ci].storm {
			s.setPower(int32(ci), s.w.cabinets[ci].cut, false)
		}
	}
	for i := range s.w.signals {
		if s.w.signals[i].storm != "" {
			s.w.signals[i].storm = ""
			s.signalChanged(int32(i))
		}
	}
	for _, tm := range s.st.teams {
		s.emitDelete(LayerRescueTeams, tm.id)
	}
	s.st, s.fb.last, s.fb.trapped = nil, nil, nil
	s.restartReports()
	s.log.Info("storm scenario ended")
}

// stormRain is the storm's rain now in district d, mm/h.
func (s *Sim) stormRain(d int) float64 {
	if s.st == nil {
		return 0
	}
	f := 1.0 // outside the districts: the Vu Gia basin upstream
	if d >= 0 {
		f = s.land.ds[d].rain
	}
	return stormRainCurve.at(s.st.hour(s.now)) * f
}

// stormTraffic is the storm's effect on traffic in district d: a speed
// factor and a volume factor (half as strong outside the hardest-hit
// districts).
func (s *Sim) stormTraffic(d int) (slow, thin float64) {
	if s.st == nil {
		return 1, 1
	}
	h := s.st.hour(s.now)
	slow, thin = stormSlowCurve.at(h), stormThinCurve.at(h)
	if !s.affected(d) {
		slow, thin = 1-(1-slow)/2, 1-(1-thin)/2
	}
	return slow, thin
}

// stormPlace is where a storm report comes from: three in four within
// 1.2 km of a flooding area, the rest anywhere in the districts hit.
func (s *Sim) stormPlace() (float64, float64) {
	if w := s.st.worst; len(w) > 0 && s.rng.Float64() < 0.75 {
		f := &s.w.floods[w[s.rng.IntN(len(w))]]
		return s.land.near(s.rng, f.lon, f.lat, 1200)
	}
	d := s.land.pick(s.rng, func(x *district) float64 {
		if x.affected {
			return 1
		}
		return 0
	})
	return s.land.inDistrict(s.rng, d)
}

// worstFloods lists the heavy flood sites, deepest (by their sensors'
// storm peaks) first.
func (s *Sim) worstFloods() []int {
	depth := make([]float64, len(s.w.floods))
	for _, st := range s.w.streets {
		depth[st.site] = math.Max(depth[st.site], st.peak)
	}
	var out []int
	for i, f := range s.w.floods {
		if f.heavy {
			out = append(out, i)
		}
	}
	slices.SortStableFunc(out, func(a, b int) int { return cmp.Compare(depth[b], depth[a]) })
	return out
}
