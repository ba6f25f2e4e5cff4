package sim

import (
	"math"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/layers"
)

// periodicKinds are the items of entities that report at an interval, in
// scheduling order, with their layers.
var periodicKinds = []struct {
	k     kind
	layer string
}{
	{kSignal, LayerSignals}, {kCamera, LayerCameras}, {kSegment, LayerSegments}, {kParking, LayerParking},
	{kAir, LayerAir}, {kWater, LayerWater}, {kLamp, LayerLamps}, {kCabinet, LayerCabinets},
	{kRain, LayerRain}, {kRiver, LayerRivers}, {kStreet, LayerStreets}, {kTeam, LayerRescueTeams},
}

func (s *Sim) initIntervals() {
	for _, p := range periodicKinds {
		iv := defaultIntervals[p.layer]
		if v := s.cfg.Intervals[p.layer]; v > 0 {
			iv = max(v, time.Second)
		}
		s.iv[p.k] = int64(iv)
	}
}

// sensorOf is the entity of a periodic item.
func (s *Sim) sensorOf(k kind, i int32) *sensor {
	w := s.w
	switch k {
	case kSignal:
		return &w.signals[i].sensor
	case kCamera:
		return &w.cameras[i].sensor
	case kSegment:
		return &w.segments[i].sensor
	case kParking:
		return &w.parking[i].sensor
	case kAir:
		return &w.air[i].sensor
	case kWater:
		return &w.water[i].sensor
	case kLamp:
		return &w.lamps[i].sensor
	case kCabinet:
		return &w.cabinets[i].sensor
	case kRain:
		return &w.gauges[i].sensor
	case kRiver:
		return &w.rivers[i].sensor
	case kStreet:
		return &w.streets[i].sensor
	}
	return nil
}

func (s *Sim) countOf(k kind) int {
	w := s.w
	switch k {
	case kSignal:
		return len(w.signals)
	case kCamera:
		return len(w.cameras)
	case kSegment:
		return len(w.segments)
	case kParking:
		return len(w.parking)
	case kAir:
		return len(w.air)
	case kWater:
		return len(w.water)
	case kLamp:
		return len(w.lamps)
	case kCabinet:
		return len(w.cabinets)
	case kRain:
		return len(w.gauges)
	case kRiver:
		return len(w.rivers)
	case kStreet:
		return len(w.streets)
	}
	return 0
}

// scheduleAll plans every entity's first report (within its interval,
// at most five seconds away, so the map fills at once), the lighting and
// night-flashing switches, and the random processes.
func (s *Sim) scheduleAll() {
	for _, p := range periodicKinds {
		first := min(s.iv[p.k], int64(time.Minute))
		fill := min(first, int64(5*time.Second))
		for i := range s.countOf(p.k) {
			// Draw within the interval as before (the seed's sequence stays
			// the same), then squeeze the first reports into fill.
			at := s.now + 1 + s.rng.Int64N(first)*fill/first
			s.setDue(p.k, int32(i), s.sensorOf(p.k, int32(i)), at)
		}
	}
	for i := range s.w.cabinets {
		s.push(nextLightSwitch(s.now, s.w.cabinets[i].off), kCabinetSwitch, int32(i), 0)
	}
	for i := range s.w.signals {
		if sg := &s.w.signals[i]; sg.night {
			sg.nightOn = nightFlashing(s.now)
			sg.status = s.signalStatus(sg)
			s.push(nextLocal(s.now, nightStart, nightEnd), kSignalNight, int32(i), 0)
		}
	}
	s.push(s.now, kViolation, 0, s.gens[kViolation])
	s.push(s.now, kReport, 0, s.gens[kReport])
	s.seedReports()
	for _, k := range []kind{kGenLampFault, kGenSignalFault, kGenCut, kGenDropout, kGenShower} {
		s.nextGen(k)
	}
}

// seedReports makes the citizen reports of the last day, each at its own
// past time with its workflow up to now (the steps already due run on the
// first advance, in time order), so the map opens on the city as it is
// rather than on an empty feedback layer.
func (s *Sim) seedReports() {
	start := s.now
	n := int(reportsPerMonth / 30.44 * s.cfg.Scale)
	for range n {
		s.setNow(start - 1 - s.rng.Int64N(int64(24*time.Hour)))
		s.dailyReport()
	}
	s.setNow(start)
}

func (s *Sim) push(at int64, k kind, i int32, gen uint32) {
	s.seq++
	s.q.push(item{at: at, seq: s.seq, idx: i, gen: gen, k: k})
}

func (s *Sim) setDue(k kind, i int32, sn *sensor, at int64) {
	sn.due = at
	s.push(at, k, i, 0)
}

// expAfter is now plus an exponential wait of the given mean (seconds).
func (s *Sim) expAfter(mean float64) int64 {
	return s.now + 1 + int64(s.rng.ExpFloat64()*mean*float64(time.Second))
}

func (s *Sim) dispatch(it item) {
	switch it.k {
	case kSignal, kCamera, kSegment, kParking, kAir, kWater, kLamp, kCabinet, kRain, kRiver, kStreet:
		s.periodic(it)
	case kSignalNight:
		s.signalNight(it.idx)
	case kSignalRepair:
		s.signalChanged(it.idx)
	case kViolation:
		s.violationArrival(it)
	case kViolationEnd:
		s.violationEnd(it.idx)
	case kCabinetSwitch:
		s.cabinetSwitch(it.idx)
	case kCabinetRestore:
		s.setPower(it.idx, false, s.w.cabinets[it.idx].storm)
	case kLampRepair:
		s.lampRepair(it.idx)
	case kReport:
		s.reportArrival(it)
	case kReportStep:
		s.reportStep(it.idx)
	case kGenLampFault, kGenSignalFault, kGenCut, kGenDropout, kGenShower:
		s.generate(it.k)
		s.nextGen(it.k)
	default:
		s.stormItem(it)
	}
}

// periodic runs an entity's report unless it was rescheduled since or is
// silent, and plans the next one.
func (s *Sim) periodic(it item) {
	sn := s.sensorOf(it.k, it.idx)
	if sn.due != it.at {
		return
	}
	if s.now >= sn.silent {
		s.report(it.k, it.idx)
	}
	f := 0.9 + 0.2*s.rng.Float64()
	if !sn.started { // spread the reports that all started within a minute
		f, sn.started = 0.2+0.8*s.rng.Float64(), true
	}
	s.setDue(it.k, it.idx, sn, s.now+1+int64(float64(s.interval(it.k))*f))
}

func (s *Sim) report(k kind, i int32) {
	switch k {
	case kSignal:
		sg := &s.w.signals[i]
		sg.status = s.signalStatus(sg)
		s.signalReport(sg)
	case kCamera:
		s.cameraReport(&s.w.cameras[i])
	case kSegment:
		s.segmentReport(&s.w.segments[i])
	case kParking:
		s.parkingReport(&s.w.parking[i])
	case kAir:
		s.airReport(&s.w.air[i])
	case kWater:
		s.waterReport(&s.w.water[i])
	case kLamp:
		s.lampReport(i)
	case kCabinet:
		s.cabinetReport(i)
	case kRain:
		s.gaugeReport(&s.w.gauges[i])
	case kRiver:
		s.riverReport(&s.w.rivers[i])
	case kStreet:
		s.streetReport(&s.w.streets[i])
	}
}

// minStormInterval bounds how often a storm-paced sensor reports.
const minStormInterval = int64(2 * time.Second)

// interval is a periodic kind's reporting interval now: during a
// compressed storm the rain, river, street and team reports keep their
// interval in scenario time, so the storm is seen in as many reports.
func (s *Sim) interval(k kind) int64 {
	iv := s.iv[k]
	if s.st != nil && (k == kRain || k == kRiver || k == kStreet || k == kTeam) {
		return max(minStormInterval, min(iv, int64(float64(iv)/s.st.k)))
	}
	return iv
}

func (s *Sim) emit(layer, id string, g geom.T, p *props) {
	s.out = append(s.out, layers.Event{Layer: layer, ID: id, Time: s.tnow, Geometry: g, Properties: p.done()})
}

func (s *Sim) emitDelete(layer, id string) {
	s.out = append(s.out, layers.Event{Layer: layer, ID: id, Op: layers.OpDelete, Time: s.tnow})
}

// nextLocal is the first of the given local times of day (hours) after t.
func nextLocal(t int64, hours ...float64) int64 {
	day := localDayStart(t)
	best := int64(math.MaxInt64)
	for _, h := range hours {
		at := day + int64(h*3600)*int64(time.Second)
		if at <= t {
			at += 24 * int64(time.Hour)
		}
		best = min(best, at)
	}
	return best
}

// noise is v scaled by a normal factor of relative spread rel, never
// below zero.
func (s *Sim) noise(v, rel float64) float64 {
	return max(0, v*(1+rel*s.rng.NormFloat64()))
}

// between draws uniformly from [lo, hi).
func (s *Sim) between(lo, hi float64) float64 { return lo + (hi-lo)*s.rng.Float64() }

// dur is a duration of hours drawn uniformly from [lo, hi), in ns.
func (s *Sim) dur(lo, hi float64) int64 { return int64(s.between(lo, hi) * float64(time.Hour)) }
