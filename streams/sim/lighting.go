package sim

// The lighting: each cabinet follows the schedule (on at dusk, dimmed to
// 50% after midnight, off at dawn) on its own slightly offset clock, and
// its lamps switch with it. A cabinet without power (a local cut or the
// storm) reports no_power, and the lighting module darkens its lamps;
// the lamp nodes, battery-backed, keep reporting their commanded state
// with no power drawn.

func (s *Sim) noPower(c *cabinet) bool { return c.cut || c.storm }

func (s *Sim) cabinetState(c *cabinet) string {
	if s.noPower(c) {
		return "no_power"
	}
	return lightSchedule(s.now, c.off)
}

func (s *Sim) lampState(l *lamp) string {
	if l.fault {
		return "fault"
	}
	return lightSchedule(s.now, s.w.cabinets[l.cab].off)
}

func lightLevel(state string) int {
	switch state {
	case "on":
		return 100
	case "dimmed":
		return 50
	}
	return 0
}

// lampWatts is what a lamp in this state draws (LED drivers draw a bit
// more than proportionally when dimmed).
func lampWatts(l *lamp, state string, powered bool) float64 {
	if !powered {
		return 0
	}
	switch state {
	case "on":
		return l.watts
	case "dimmed":
		return l.watts * 0.55
	}
	return 0
}

func (s *Sim) lampReport(i int32) {
	l := &s.w.lamps[i]
	c := &s.w.cabinets[l.cab]
	st := s.lampState(l)
	p := newProps()
	p.str("state", st)
	if lv := lightLevel(st); lv > 0 {
		p.int("level", lv)
	}
	p.num("powerConsumption", lampWatts(l, st, !s.noPower(c)), 1)
	p.str("refStreetlightControlCabinet", c.id)
	s.emit(LayerLamps, l.id, l.g, &p)
}

// cabinetReport: state, the power its lamps draw (kW) and the energy
// metered since the simulation started (kWh).
func (s *Sim) cabinetReport(ci int32) {
	c := &s.w.cabinets[ci]
	kw := 0.0
	powered := !s.noPower(c)
	for j := c.first; j < c.first+c.n; j++ {
		l := &s.w.lamps[j]
		kw += lampWatts(l, s.lampState(l), powered) / 1000
	}
	if c.lastAt != 0 {
		c.energy += kw * float64(s.now-c.lastAt) / 3.6e12
	}
	c.lastAt = s.now
	st := s.cabinetState(c)
	p := newProps()
	p.str("name", c.name)
	p.str("route", s.w.routes[c.route].name)
	p.str("state", st)
	if lv := lightLevel(st); lv > 0 {
		p.int("level", lv)
	}
	p.num("totalActivePower", kw, 3)
	p.num("energyConsumed", c.energy, 1)
	s.emit(LayerCabinets, c.id, c.g, &p)
}

// cabinetSwitch: at the schedule's switching times the cabinet and its
// working lamps report their new state (nothing changes without power).
func (s *Sim) cabinetSwitch(ci int32) {
	c := &s.w.cabinets[ci]
	if !s.noPower(c) && s.now >= c.silent {
		s.cabinetReport(ci)
		s.lampsReport(c, true)
	}
	s.push(nextLightSwitch(s.now, c.off), kCabinetSwitch, ci, 0)
}

// lampsReport reports the cabinet's lamps (only the working ones when
// skipFaulty).
func (s *Sim) lampsReport(c *cabinet, skipFaulty bool) {
	for j := c.first; j < c.first+c.n; j++ {
		if !(skipFaulty && s.w.lamps[j].fault) {
			s.lampReport(j)
		}
	}
}

// setPower sets a cabinet's outage causes and reports a change at once:
// losing power is the cabinet's no_power (the module darkens the lamps);
// when power returns the cabinet and every lamp report.
func (s *Sim) setPower(ci int32, cut, storm bool) {
	c := &s.w.cabinets[ci]
	before := s.noPower(c)
	c.cut, c.storm = cut, storm
	if after := s.noPower(c); after != before {
		s.cabinetReport(ci)
		if !after {
			s.lampsReport(c, false)
		}
	}
}

func (s *Sim) lampRepair(i int32) {
	s.w.lamps[i].fault = false
	s.lampReport(i)
}
