package sim

import (
	"fmt"
	"math"
	"time"
)

// trafficState is the violations on the map, by slot.
type trafficState struct {
	slots []string // violation id per slot, "" when free
	free  []int32
	live  int
	n     int // violations made
}

// flow is the traffic on a road now: speed (km/h), detector occupancy
// (0–1) and volume (vehicles per hour). Load is the road's busyness times
// the time-of-day demand; the speed ratio falls with the square of load
// (rush hours reach heavy and jammed on the busiest roads of the centre);
// the storm slows traffic and thins it.
func (s *Sim) flow(busy, free float64, d int) (speed, occ, perHour float64) {
	load := busy * demandCurve.at(localHour(s.now))
	ratio := 1 - 0.78*math.Pow(load, 2.2) + 0.05*s.rng.NormFloat64()
	slow, thin := s.stormTraffic(d)
	ratio = clamp(ratio*slow, 0.08, 1.05)
	speed = free * ratio
	occ = clamp(0.03+0.62*math.Pow(1-min(ratio, 1), 1.3)+0.02*s.rng.NormFloat64(), 0, 0.95)
	perHour = s.noise(1600*load*min(1, ratio+0.3)*thin, 0.08)
	return speed, occ, perHour
}

func (s *Sim) cameraReport(c *camera) {
	speed, occ, perHour := s.flow(c.busy, c.free, c.d)
	p := newProps()
	p.str("name", c.name)
	p.int("intensity", int(math.Round(perHour/60)))
	p.num("averageVehicleSpeed", speed, 1)
	p.num("occupancy", occ, 2)
	p.num("freeFlowSpeed", c.free, 0)
	s.emit(LayerCameras, c.id, c.g, &p)
}

func (s *Sim) segmentReport(sg *segment) {
	speed, occ, perHour := s.flow(sg.busy, sg.free, sg.d)
	p := newProps()
	p.str("name", sg.name)
	p.str("roadClass", sg.class)
	p.int("intensity", int(math.Round(perHour/12)))
	p.num("averageVehicleSpeed", speed, 1)
	p.num("occupancy", occ, 2)
	p.num("freeFlowSpeed", sg.free, 0)
	s.emit(LayerSegments, sg.id, sg.g, &p)
}

// Night flashing of minor intersections, local time.
const (
	nightStart = 23.0
	nightEnd   = 5.0
)

func nightFlashing(t int64) bool {
	h := localHour(t)
	return h >= nightStart || h < nightEnd
}

// signalStatus is what a signal shows now: an outage wins over a fault,
// a fault over flashing (storm fallback or night mode).
func (s *Sim) signalStatus(sg *signal) string {
	switch {
	case sg.storm == "offline" || s.now < sg.offlineUntil:
		return "offline"
	case s.now < sg.faultUntil:
		return "fault"
	case sg.storm == "flashing" || sg.nightOn:
		return "flashing"
	}
	return "normal"
}

// signalChanged reports a signal at once when its status changed.
func (s *Sim) signalChanged(i int32) {
	sg := &s.w.signals[i]
	if st := s.signalStatus(sg); st != sg.status {
		sg.status = st
		s.signalReport(sg)
	}
}

func (s *Sim) signalReport(sg *signal) {
	p := newProps()
	p.str("name", sg.name)
	p.str("status", sg.status)
	if sg.adaptive {
		p.boolean("adaptive", true)
	}
	s.emit(LayerSignals, sg.id, sg.g, &p)
}

func (s *Sim) signalNight(i int32) {
	s.w.signals[i].nightOn = nightFlashing(s.now)
	s.signalChanged(i)
	s.push(nextLocal(s.now, nightStart, nightEnd), kSignalNight, i, 0)
}

// parkingReport: the riverside streets fill in the evening, the lots in
// office hours; the storm empties both.
func (s *Sim) parkingReport(pk *parking) {
	curve := lotParkCurve
	if pk.street {
		curve = streetParkCurve
	}
	occ := curve.at(localHour(s.now)) + 0.05*s.rng.NormFloat64()
	if _, thin := s.stormTraffic(pk.d); thin < 1 {
		occ *= thin
	}
	occupied := int(math.Round(clamp(occ, 0, 1) * float64(pk.total)))
	p := newProps()
	p.str("name", pk.name)
	p.int("totalSpotNumber", pk.total)
	p.int("availableSpotNumber", pk.total-occupied)
	s.emit(LayerParking, pk.id, pk.g, &p)
}

// violationsPerCameraHour is the mean violation rate of one camera at
// full demand.
const violationsPerCameraHour = 0.25

var violationTypes = []struct {
	name string
	w    float64
}{
	{"red_light", 30}, {"wrong_lane", 25}, {"no_helmet", 15}, {"speeding", 10}, {"illegal_parking", 10},
	{"wrong_way", 5}, {"other", 5},
}

// violationArrival is a thinned Poisson process: candidates arrive at the
// full-demand rate and are kept with the current demand.
func (s *Sim) violationArrival(it item) {
	if it.gen != s.gens[kViolation] || len(s.w.cameras) == 0 {
		return
	}
	maxRate := violationsPerCameraHour * float64(len(s.w.cameras)) / 3600
	c := &s.w.cameras[s.rng.IntN(len(s.w.cameras))]
	_, thin := s.stormTraffic(c.d)
	if s.rng.Float64() < demandCurve.at(localHour(s.now))*thin && s.now >= c.silent {
		s.newViolation(c)
	}
	s.push(s.expAfter(1/maxRate), kViolation, 0, it.gen)
}

func (s *Sim) newViolation(c *camera) {
	s.tr.n++
	id := fmt.Sprintf("vio-%s-%06d", localDate(s.now), s.tr.n)
	x := s.rng.Float64() * 100
	typ := violationTypes[0].name
	for _, v := range violationTypes {
		if x -= v.w; x < 0 {
			typ = v.name
			break
		}
	}
	p := newProps()
	p.str("violationType", typ)
	p.str("vehiclePlateIdentifier", s.plate())
	p.str("equipmentId", c.id)
	s.emit(LayerViolations, id, c.g, &p)
	var slot int32
	if n := len(s.tr.free); n > 0 {
		slot, s.tr.free = s.tr.free[n-1], s.tr.free[:n-1]
		s.tr.slots[slot] = id
	} else {
		slot = int32(len(s.tr.slots))
		s.tr.slots = append(s.tr.slots, id)
	}
	s.tr.live++
	s.push(s.now+int64(15*time.Minute), kViolationEnd, slot, 0)
}

// violationEnd deletes a violation when its 15 minutes on the map are up
// (the module's expires; nothing else removes them yet).
func (s *Sim) violationEnd(slot int32) {
	s.emitDelete(LayerViolations, s.tr.slots[slot])
	s.tr.slots[slot] = ""
	s.tr.free = append(s.tr.free, slot)
	s.tr.live--
}

// plate draws a Vietnamese car plate: mostly Đà Nẵng (43), some Quảng Nam
// (92) and Huế (75).
func (s *Sim) plate() string {
	prov := []string{"43", "43", "43", "43", "92", "75"}[s.rng.IntN(6)]
	series := "ABCDEFGHKL"[s.rng.IntN(10)]
	return fmt.Sprintf("%s%c-%03d.%02d", prov, series, s.rng.IntN(1000), s.rng.IntN(100))
}

// localDate is t's local date as YYYYMMDD.
func localDate(t int64) string {
	return time.Unix(0, t).UTC().Add(localOffset * time.Second).Format("20060102")
}
