package traffic

import (
	"time"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams/internal/props"
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
	p, err := props.FromEvent(ev, "Point")
	if err != nil {
		return ev, err
	}
	status, err := p.RequireEnum("status", signalStatuses)
	if err != nil {
		return ev, err
	}
	p.SetTime("statusSince", m.signalSince(ev, status))
	p.SetBool("degraded", status != "normal")
	return props.With(ev, p), nil
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
	p, err := props.FromEvent(ev, "Point")
	if err != nil {
		return ev, err
	}
	if _, err := p.RequireEnum("violationType", violationTypes); err != nil {
		return ev, err
	}
	if _, _, err := p.Str("vehiclePlateIdentifier"); err != nil {
		return ev, err
	}
	p.SetTime("expires", ev.Time.Add(m.cfg.ViolationTTL))
	return props.With(ev, p), nil
}

// parking computes occupancy from available and total spots. A report may
// give availableSpotNumber or occupiedSpotNumber; totalSpotNumber may be
// left out once the car park has reported it.
func (m *Module) parking(ev layers.Event) (layers.Event, error) {
	p, err := props.FromEvent(ev, "Point", "Polygon", "MultiPolygon", "LineString", "MultiLineString")
	if err != nil {
		return ev, err
	}
	total, err := m.totalSpots(ev.ID, p)
	if err != nil {
		return ev, err
	}
	avail, hasAvail, err := p.Count("availableSpotNumber")
	if err != nil {
		return ev, err
	}
	occupied, hasOccupied, err := p.Count("occupiedSpotNumber")
	if err != nil {
		return ev, err
	}
	switch {
	case hasAvail && avail > total:
		return ev, props.Invalid(props.Path("availableSpotNumber"), "availableSpotNumber %d exceeds totalSpotNumber %d", avail, total)
	case hasAvail:
		occupied = total - avail
	case hasOccupied && occupied > total:
		return ev, props.Invalid(props.Path("occupiedSpotNumber"), "occupiedSpotNumber %d exceeds totalSpotNumber %d", occupied, total)
	case hasOccupied:
		avail = total - occupied
	default:
		return ev, props.Invalid(props.Path("availableSpotNumber"), "availableSpotNumber (or occupiedSpotNumber) is required")
	}
	p.SetInt("totalSpotNumber", total)
	p.SetInt("availableSpotNumber", avail)
	p.SetInt("occupiedSpotNumber", occupied)
	p.SetNum("occupancy", props.Round(float64(occupied)/float64(total), 3))
	p.SetBool("full", avail == 0)
	return props.With(ev, p), nil
}

func (m *Module) totalSpots(id string, p props.Props) (int, error) {
	total, ok, err := p.Count("totalSpotNumber")
	if err != nil {
		return 0, err
	}
	if ok && total == 0 {
		return 0, props.Invalid(props.Path("totalSpotNumber"), "totalSpotNumber must be at least 1")
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
	return 0, props.Invalid(props.Path("totalSpotNumber"), "totalSpotNumber is required (at least in a car park's first report)")
}
