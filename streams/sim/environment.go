package sim

// airReport: PM follows traffic (rush-hour peaks), is trapped a little at
// night and washed out by rain; O3 follows the sun; NO2 and CO follow
// traffic. All in µg/m³, the VN_AQI unit.
func (s *Sim) airReport(a *airStation) {
	h := localHour(s.now)
	dem := demandCurve.at(h)
	trap := 1.0
	if h < 6 || h > 21 {
		trap = 1.15
	}
	wash := 1 / (1 + s.rainAt(a.lon, a.lat, a.d)/8)
	pm25 := max(2, s.noise(a.base*(0.55+0.75*dem)*trap*wash, 0.12))
	heavy := a.base / 22 // stations on main roads and in industry see more NO2 and CO
	p := newProps()
	p.str("name", a.name)
	p.num("pm25", pm25, 1)
	p.num("pm10", pm25*s.between(1.5, 1.9), 1)
	p.num("o3", s.noise(25+75*sun(h), 0.15), 1)
	p.num("no2", s.noise((12+45*dem)*heavy*wash, 0.15), 1)
	p.num("so2", s.between(4, 14), 1)
	p.num("co", s.noise((350+1100*dem)*heavy, 0.15), 0)
	p.num("temperature", 24+7*sun(h)+0.5*s.rng.NormFloat64(), 1)
	p.num("relativeHumidity", clamp(0.88-0.2*sun(h)+0.03*s.rng.NormFloat64()+0.1*(1-wash), 0.4, 1), 2)
	s.emit(LayerAir, a.id, a.g, &p)
}

// waterReport: typical values for the station's kind and how dirty it
// is; the storm's runoff raises suspended solids, turbidity and coliforms
// and freshens the sea.
func (s *Sim) waterReport(w *waterStation) {
	run := min(1, s.stormRain(w.d)/50) // storm runoff, 0–1
	p := newProps()
	p.str("name", w.name)
	p.str("kind", w.kind)
	switch w.kind {
	case "river":
		s.riverWater(&p, w.dirty, run)
	case "sea":
		s.seaWater(&p, w.dirty, run)
	default:
		s.wasteWater(&p, w.dirty)
	}
	s.emit(LayerWater, w.id, w.g, &p)
}

func (s *Sim) riverWater(p *props, dirty, run float64) {
	p.num("pH", s.between(6.9, 7.6), 2)
	p.num("O2", max(1, s.noise(6.6-2.6*dirty, 0.06)), 2)
	p.num("bod", s.noise(3+9*dirty, 0.12), 1)
	p.num("cod", s.noise(8+14*dirty, 0.12), 1)
	p.num("tss", s.noise((25+40*dirty)*(1+5*run), 0.15), 1)
	p.num("NH4", s.noise(0.08+1.1*dirty*dirty, 0.15), 2)
	p.num("coliform", s.noise((1500+7000*dirty)*(1+2*run), 0.2), 0)
	p.num("temperature", s.between(26.5, 29), 1)
	p.num("turbidity", s.noise((10+30*dirty)*(1+6*run), 0.15), 1)
}

func (s *Sim) seaWater(p *props, dirty, run float64) {
	p.num("pH", s.between(7.95, 8.3), 2)
	p.num("O2", s.noise(6.4, 0.05), 2)
	p.num("tss", s.noise((15+15*dirty)*(1+2*run), 0.15), 1)
	p.num("NH4", s.noise(0.05+0.2*dirty, 0.15), 2)
	p.num("coliform", s.noise((150+500*dirty)*(1+4*run), 0.2), 0)
	p.num("salinity", s.noise(32.5-8*run, 0.02), 1)
	p.num("temperature", s.between(26, 28.5), 1)
}

// wasteWater: treated effluent, now and then over the QCVN 40 limits.
func (s *Sim) wasteWater(p *props, dirty float64) {
	spike := 1.0
	if s.rng.Float64() < 0.05 {
		spike = s.between(1.5, 2.5)
	}
	p.num("pH", s.between(6.6, 8), 2)
	p.num("bod", s.noise((15+30*dirty)*spike, 0.12), 1)
	p.num("cod", s.noise((40+90*dirty)*spike, 0.12), 1)
	p.num("tss", s.noise(30+60*dirty, 0.15), 1)
	p.num("NH4", s.noise(2+7*dirty, 0.15), 2)
	p.num("coliform", s.noise(1500+3000*dirty, 0.2), 0)
	p.num("temperature", s.between(28, 33), 1)
}
