package traffic

import (
	"strings"
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
	// SDM TrafficViolation has no violationType (only a local titleCode):
	// a violation without one is still a violation, of type other.
	if _, ok, err := p.EnumFold("violationType", violationTypes); err != nil {
		return ev, err
	} else if !ok {
		p.SetStr("violationType", "other")
	}
	if _, _, err := p.Str("vehiclePlateIdentifier"); err != nil {
		return ev, err
	}
	p.SetTime("expires", ev.Time.Add(m.cfg.ViolationTTL))
	return props.With(ev, p), nil
}

// parking computes occupancy from available and total spots. A report may
// give availableSpotNumber or occupiedSpotNumber; totalSpotNumber may be
// left out once the car park has reported it. A single parking spot (SDM
// ParkingSpot) reports its status instead of counts: see spot.
func (m *Module) parking(ev layers.Event) (layers.Event, error) {
	p, err := props.FromEvent(ev, "Point", "Polygon", "MultiPolygon", "LineString", "MultiLineString")
	if err != nil {
		return ev, err
	}
	_, hasAvail := p["availableSpotNumber"]
	_, hasOccupied := p["occupiedSpotNumber"]
	if !hasAvail && !hasOccupied && m.isSpot(ev.ID, p) {
		return m.spot(ev, p)
	}
	if _, ok := p["totalSpotNumber"]; !ok && isSpotType(p) {
		p.SetInt("totalSpotNumber", 1) // a ParkingSpot sending counts is still one spot
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
	setCounts(p, total, avail, occupied)
	return props.With(ev, p), nil
}

func setCounts(p props.Props, total, avail, occupied int) {
	p.SetInt("totalSpotNumber", total)
	p.SetInt("availableSpotNumber", avail)
	p.SetInt("occupiedSpotNumber", occupied)
	p.SetNum("occupancy", props.Round(float64(occupied)/float64(total), 3))
	p.SetBool("full", avail == 0)
}

// spotStatuses are the values of SDM ParkingSpot's status.
var spotStatuses = []string{"free", "occupied", "closed", "unknown"}

// isSpot tells a single parking spot, reporting its status, from a car park
// that left its counts out: the NGSI type ParkingSpot says so; otherwise a
// report whose status is a string, without totalSpotNumber, from an id
// whose remembered total is none or one is taken as a spot. Car parks send
// status as an array (SDM OffStreetParking), so a car park's status never
// reads as a spot's.
func (m *Module) isSpot(id string, p props.Props) bool {
	if isSpotType(p) {
		return true
	}
	if raw, ok := p["status"]; !ok || len(raw) == 0 || raw[0] != '"' {
		return false
	}
	if _, ok := p["totalSpotNumber"]; ok {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	total, known := m.spots[id]
	return !known || total == 1
}

func isSpotType(p props.Props) bool {
	typ, _, _ := p.Str("type")
	return typ == "ParkingSpot"
}

// spot maps a single parking spot's status to the counts of a car park
// of one: free is one spot available, occupied one spot occupied, closed
// no spot available (and no occupancy: the spot is out of use), unknown
// no counts at all. The status is kept, in lower case.
func (m *Module) spot(ev layers.Event, p props.Props) (layers.Event, error) {
	raw, ok, err := p.Str("status")
	if err != nil {
		return ev, err
	}
	if !ok {
		return ev, props.Invalid(props.Path("status"), "a parking spot needs status (%s) or availableSpotNumber / occupiedSpotNumber",
			strings.Join(spotStatuses, ", "))
	}
	status := ""
	for _, s := range spotStatuses {
		if props.Fold(raw) == s {
			status = s
		}
	}
	if status == "" {
		return ev, props.Invalid(props.Path("status"), "unknown parking spot status %q: valid values are %s", raw, strings.Join(spotStatuses, ", "))
	}
	total, hasTotal, err := p.Count("totalSpotNumber")
	if err != nil {
		return ev, err
	}
	if hasTotal && total != 1 {
		return ev, props.Invalid(props.Path("totalSpotNumber"), "a parking spot reporting its status is one spot, got totalSpotNumber %d "+
			"(a car park sends availableSpotNumber or occupiedSpotNumber)", total)
	}
	m.mu.Lock()
	m.spots[ev.ID] = 1
	m.mu.Unlock()
	p.SetStr("status", status)
	for _, k := range []string{"availableSpotNumber", "occupiedSpotNumber", "occupancy", "full"} {
		delete(p, k)
	}
	switch status {
	case "free":
		setCounts(p, 1, 1, 0)
	case "occupied":
		setCounts(p, 1, 0, 1)
	case "closed":
		p.SetInt("totalSpotNumber", 1)
		p.SetInt("availableSpotNumber", 0)
	default:
		p.SetInt("totalSpotNumber", 1)
	}
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
