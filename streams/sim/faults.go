package sim

// The random processes of a normal day, Poisson with these rates (per
// simulated day, at scale 1 and proportional to the entity counts):
//
//   - lamp faults: 0.4% of lamps a day (about 18), repaired in 12–72 h;
//   - signal faults: 1.2% of signals a day (about 2), two in three a
//     controller fault of 0.5–3 h, one in three an outage of 10–90 min;
//   - local power cuts: 0.4% of cabinets a day, 1–4 h without power;
//   - sensor dropouts: 2% a day of the cameras, segments, car parks,
//     stations, gauges and flood sensors; 20 min – 4 h of silence, so
//     staleness shows;
//   - showers: 3 a day (the rainy season).
const (
	lampFaultsPerDay   = 0.004
	signalFaultsPerDay = 0.012
	cutsPerDay         = 0.004
	dropoutsPerDay     = 0.02
	showersPerDay      = 3.0
)

// nextGen schedules the next event of a random process.
func (s *Sim) nextGen(k kind) {
	perDay := 0.0
	switch k {
	case kGenLampFault:
		perDay = lampFaultsPerDay * float64(len(s.w.lamps))
	case kGenSignalFault:
		perDay = signalFaultsPerDay * float64(len(s.w.signals))
	case kGenCut:
		perDay = cutsPerDay * float64(len(s.w.cabinets))
	case kGenDropout:
		perDay = dropoutsPerDay * float64(s.dropoutCount())
	case kGenShower:
		perDay = showersPerDay
	}
	if perDay > 0 {
		s.push(s.expAfter(86400/perDay), k, 0, 0)
	}
}

func (s *Sim) generate(k kind) {
	switch k {
	case kGenLampFault:
		s.lampFault()
	case kGenSignalFault:
		s.signalFault()
	case kGenCut:
		s.powerCut()
	case kGenDropout:
		s.dropout()
	case kGenShower:
		s.startShower()
	}
}

func (s *Sim) lampFault() {
	if len(s.w.lamps) == 0 {
		return
	}
	i := int32(s.rng.IntN(len(s.w.lamps)))
	if l := &s.w.lamps[i]; !l.fault {
		l.fault = true
		s.lampReport(i)
		s.push(s.now+s.dur(12, 72), kLampRepair, i, 0)
	}
}

func (s *Sim) signalFault() {
	if len(s.w.signals) == 0 {
		return
	}
	i := int32(s.rng.IntN(len(s.w.signals)))
	sg := &s.w.signals[i]
	var until int64
	if s.rng.IntN(3) < 2 {
		until = s.now + s.dur(0.5, 3)
		sg.faultUntil = max(sg.faultUntil, until)
	} else {
		until = s.now + s.dur(1.0/6, 1.5)
		sg.offlineUntil = max(sg.offlineUntil, until)
	}
	s.signalChanged(i)
	s.push(until, kSignalRepair, i, 0)
}

func (s *Sim) powerCut() {
	if len(s.w.cabinets) == 0 {
		return
	}
	i := int32(s.rng.IntN(len(s.w.cabinets)))
	if c := &s.w.cabinets[i]; !c.cut {
		s.setPower(i, true, c.storm)
		s.push(s.now+s.dur(1, 4), kCabinetRestore, i, 0)
	}
}

// dropoutable are the kinds of sensor that can fall silent.
var dropoutable = []kind{kCamera, kSegment, kParking, kAir, kWater, kRain, kRiver, kStreet}

func (s *Sim) dropoutCount() int {
	n := 0
	for _, k := range dropoutable {
		n += s.countOf(k)
	}
	return n
}

// dropout silences one sensor for 20 minutes to 4 hours.
func (s *Sim) dropout() {
	x := s.rng.IntN(s.dropoutCount())
	for _, k := range dropoutable {
		if c := s.countOf(k); x >= c {
			x -= c
			continue
		}
		sn := s.sensorOf(k, int32(x))
		sn.silent = max(sn.silent, s.now+s.dur(1.0/3, 4))
		return
	}
}
