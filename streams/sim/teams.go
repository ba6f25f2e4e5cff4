package sim

import "math"

// team is a response team during a storm (layer response.teams).
type team struct {
	id, name, agency string
	kind             string
	base             int
	lon, lat         float64
	toLon, toLat     float64
	status           string // the activity: standby, en_route, on_scene, returning
	task, dest, ref  string
	members          int
	dispatch, until  float64 // scenario hours
	lastH            float64
	jobs             int
}

// planTeams puts the teams at their bases, on standby, dispatched from
// hour 3.8 to 4.5.
func (s *Sim) planTeams(st *storm) {
	st.worst = s.worstFloods()
	for i, b := range s.w.bases {
		st.teams = append(st.teams, team{id: b.id, name: b.name, agency: b.agency, kind: b.kind, base: i, lon: b.lon, lat: b.lat,
			status: "standby", task: "Trực sẵn sàng", members: 6 + s.rng.IntN(10), dispatch: s.between(3.8, 4.5)})
		s.push(s.now+1+s.rng.Int64N(s.interval(kTeam)), kTeam, int32(i), st.n)
	}
}

// teamTick moves a team, reports it and plans its next report.
func (s *Sim) teamTick(i int32) {
	st := s.st
	tm := &st.teams[i]
	h := st.hour(s.now)
	s.moveTeam(tm, h)
	tm.lastH = h
	s.teamReport(tm)
	s.push(s.now+s.interval(kTeam), kTeam, i, st.n)
}

// moveTeam: on standby until dispatched; then to the worst flooded areas
// and to people trapped, 0.8–2 h on each scene; from hour 7.5 back to
// base.
func (s *Sim) moveTeam(tm *team, h float64) {
	switch tm.status {
	case "standby":
		if h >= tm.dispatch && h < 7.5 {
			s.assignTeam(tm)
		}
	case "en_route", "returning":
		if !s.moveToward(tm, (h-tm.lastH)*teamSpeed) {
			return
		}
		if tm.status == "returning" {
			tm.status, tm.task, tm.dest, tm.ref, tm.dispatch = "standby", "Trực sẵn sàng", "", "", math.Inf(1)
			return
		}
		tm.status, tm.until = "on_scene", h+s.between(0.8, 2)
	case "on_scene":
		if h < tm.until {
			return
		}
		if h < 7.5 {
			s.assignTeam(tm)
			return
		}
		b := &s.w.bases[tm.base]
		tm.status, tm.task, tm.dest, tm.ref = "returning", "Trở về đơn vị", b.name, ""
		tm.toLon, tm.toLat = b.lon, b.lat
	}
}

// assignTeam sends a team to people trapped (a storm report) or to one of
// the worst flooded areas.
func (s *Sim) assignTeam(tm *team) {
	tm.status, tm.jobs = "en_route", tm.jobs+1
	if tm.kind == "maintenance" {
		s.assignCrew(tm)
		return
	}
	if len(s.fb.trapped) > 0 && s.rng.Float64() < 0.6 {
		r := s.fb.trapped[0]
		s.fb.trapped = s.fb.trapped[1:]
		tm.toLon, tm.toLat = r.lon, r.lat
		tm.task, tm.dest, tm.ref = "Cứu người mắc kẹt", "Theo phản ánh "+r.id, r.id
		return
	}
	w := s.st.worst
	if len(w) == 0 {
		b := &s.w.bases[tm.base]
		tm.toLon, tm.toLat, tm.task, tm.dest, tm.ref = b.lon, b.lat, "Tuần tra", b.name, ""
		return
	}
	f := &s.w.floods[w[(tm.base+tm.jobs)%len(w)]]
	tm.toLon, tm.toLat = s.land.near(s.rng, f.lon, f.lat, 400)
	tm.task, tm.dest, tm.ref = "Sơ tán dân vùng ngập", f.name, ""
}

// moveToward moves the team up to m metres toward its target and says
// whether it arrived.
func (s *Sim) moveToward(tm *team, m float64) bool {
	d := dist(tm.lon, tm.lat, tm.toLon, tm.toLat)
	if d <= m {
		tm.lon, tm.lat = tm.toLon, tm.toLat
		return true
	}
	f := m / d
	tm.lon += (tm.toLon - tm.lon) * f
	tm.lat += (tm.toLat - tm.lat) * f
	return false
}

func (s *Sim) teamReport(tm *team) {
	p := newProps()
	p.str("name", tm.name)
	p.str("kind", tm.kind)
	p.str("agency", tm.agency)
	p.str("activity", tm.status)
	p.str("status", teamStatus(tm.status))
	p.str("task", tm.task)
	if tm.dest != "" {
		p.str("destination", tm.dest)
	}
	if tm.ref != "" {
		p.str("refReport", tm.ref)
	}
	p.int("members", tm.members)
	s.emit(LayerRescueTeams, tm.id, point(tm.lon, tm.lat), &p)
}

// teamStatus is the response module's status of an activity: a team on
// standby or on its way back can take a task.
func teamStatus(activity string) string {
	if activity == "en_route" || activity == "on_scene" {
		return "busy"
	}
	return "available"
}

// assignCrew sends a maintenance crew to a cabinet the storm cut (a
// different one for each crew and job), or on patrol from its base when
// none is cut.
func (s *Sim) assignCrew(tm *team) {
	var cut []int
	for ci := range s.w.cabinets {
		if s.w.cabinets[ci].storm {
			cut = append(cut, ci)
		}
	}
	if len(cut) == 0 {
		b := &s.w.bases[tm.base]
		tm.toLon, tm.toLat, tm.task, tm.dest, tm.ref = b.lon, b.lat, "Tuần tra lưới chiếu sáng", b.name, ""
		return
	}
	c := &s.w.cabinets[cut[(tm.base+tm.jobs)%len(cut)]]
	tm.toLon, tm.toLat = c.lon, c.lat
	tm.task, tm.dest, tm.ref = "Khôi phục điện tủ chiếu sáng", c.name, c.id
}
