package traffic

import (
	"time"

	"github.com/danang-ioc/ioc/layers"
)

// signalStatuses are the states of a signalised intersection: normal
// operation, flashing amber (night mode or controller fallback), a
// reported fault, or a controller that cannot be reached.
var signalStatuses = []string{"normal", "flashing", "fault", "offline"}

type signalState struct {
	status string
	since  time.Time // when the status began
	last   time.Time // newest report
}

// signal validates the status and adds statusSince, so the wall can show
// how long an intersection has been dark or flashing, and degraded.
func (m *Module) signal(ev layers.Event) (layers.Event, error) {
	if err := requireGeom(ev, "Point"); err != nil {
		return ev, err
	}
	p, err := parseProps(ev.Properties)
	if err != nil {
		return ev, err
	}
	status, ok, err := p.enum("status", signalStatuses)
	if err != nil {
		return ev, err
	}
	if !ok {
		return ev, invalid(path("status"), "status is required: one of normal, flashing, fault, offline")
	}
	p.setTime("statusSince", m.signalSince(ev, status))
	p.setBool("degraded", status != "normal")
	return with(ev, p), nil
}

// signalSince records the report and returns since when its status holds.
// A late report (older than the newest) does not move the state: the
// layer will not apply it either.
func (m *Module) signalSince(ev layers.Event, status string) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, known := m.signals[ev.ID]
	switch {
	case known && ev.Time.Before(st.last):
		if status == st.status && !ev.Time.Before(st.since) {
			return st.since
		}
		return ev.Time
	case known && status == st.status:
		st.last = ev.Time
	default:
		st = signalState{status: status, since: ev.Time, last: ev.Time}
	}
	m.signals[ev.ID] = st
	return st.since
}

// violationTypes are the violations the city's cameras detect (red light,
// lane and wrong-way, speed, parking, helmets) plus other.
var violationTypes = []string{"red_light", "wrong_lane", "wrong_way", "speeding", "illegal_parking", "no_helmet", "other"}

// violation: a violation is an instant, not a state; it gets an expires
// time (observation time + ViolationTTL). The layer's StaleAfter is zero,
// so nothing marks violations stale: clients hide a violation once
// expires has passed and a sweeper (not yet built) deletes it.
func (m *Module) violation(ev layers.Event) (layers.Event, error) {
	if err := requireGeom(ev, "Point"); err != nil {
		return ev, err
	}
	p, err := parseProps(ev.Properties)
	if err != nil {
		return ev, err
	}
	if _, ok, err := p.enum("violationType", violationTypes); err != nil || !ok {
		if err == nil {
			err = invalid(path("violationType"), "violationType is required: one of red_light, wrong_lane, "+
				"wrong_way, speeding, illegal_parking, no_helmet, other")
		}
		return ev, err
	}
	if _, _, err := p.str("vehiclePlateIdentifier"); err != nil {
		return ev, err
	}
	p.setTime("expires", ev.Time.Add(m.cfg.ViolationTTL))
	return with(ev, p), nil
}

// parking computes occupancy from available and total spots. A report may
// give availableSpotNumber or occupiedSpotNumber; totalSpotNumber may be
// left out once the car park has reported it.
func (m *Module) parking(ev layers.Event) (layers.Event, error) {
	if err := requireGeom(ev, "Point", "Polygon", "MultiPolygon", "LineString", "MultiLineString"); err != nil {
		return ev, err
	}
	p, err := parseProps(ev.Properties)
	if err != nil {
		return ev, err
	}
	total, err := m.totalSpots(ev.ID, p)
	if err != nil {
		return ev, err
	}
	avail, hasAvail, err := p.count("availableSpotNumber")
	if err != nil {
		return ev, err
	}
	occupied, hasOccupied, err := p.count("occupiedSpotNumber")
	if err != nil {
		return ev, err
	}
	switch {
	case hasAvail && avail > total:
		return ev, invalid(path("availableSpotNumber"), "availableSpotNumber %d exceeds totalSpotNumber %d", avail, total)
	case hasAvail:
		occupied = total - avail
	case hasOccupied && occupied > total:
		return ev, invalid(path("occupiedSpotNumber"), "occupiedSpotNumber %d exceeds totalSpotNumber %d", occupied, total)
	case hasOccupied:
		avail = total - occupied
	default:
		return ev, invalid(path("availableSpotNumber"), "availableSpotNumber (or occupiedSpotNumber) is required")
	}
	p.setInt("totalSpotNumber", total)
	p.setInt("availableSpotNumber", avail)
	p.setInt("occupiedSpotNumber", occupied)
	p.setNum("occupancy", round(float64(occupied)/float64(total), 3))
	p.setBool("full", avail == 0)
	return with(ev, p), nil
}

func (m *Module) totalSpots(id string, p props) (int, error) {
	total, ok, err := p.count("totalSpotNumber")
	if err != nil {
		return 0, err
	}
	if ok && total == 0 {
		return 0, invalid(path("totalSpotNumber"), "totalSpotNumber must be at least 1")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if ok {
		m.spots[id] = total
		return total, nil
	}
	if total, ok := m.spots[id]; ok {
		return total, nil
	}
	return 0, invalid(path("totalSpotNumber"), "totalSpotNumber is required (at least in a car park's first report)")
}
