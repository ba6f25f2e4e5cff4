package sim

// kind says what a scheduled item does.
type kind uint8

// The scheduled items. Periodic reports carry the index of their entity;
// the entity's due time tells a superseded item (rescheduled since) from
// the live one.
const (
	kSignal         kind = iota // a signal's heartbeat
	kSignalNight                // a signal enters or leaves night flashing
	kSignalRepair               // a signal's fault or outage ends
	kCamera                     // a camera's counts
	kSegment                    // a road segment's flow
	kParking                    // a car park's occupancy
	kViolation                  // the violation arrival process
	kViolationEnd               // a violation expires and is deleted
	kAir                        // an air station's hourly report
	kWater                      // a water station's report
	kLamp                       // a lamp's periodic report
	kCabinet                    // a cabinet's periodic report
	kCabinetSwitch              // a cabinet switches on, dims or off
	kCabinetRestore             // power returns after a local outage
	kLampRepair                 // a faulty lamp is repaired
	kRain                       // a rain gauge's report
	kRiver                      // a river level station's report
	kStreet                     // a street flood sensor's report
	kReport                     // the citizen report arrival process
	kReportStep                 // a report moves along its workflow
	kGenLampFault               // the lamp fault process
	kGenSignalFault             // the signal fault process
	kGenCut                     // the local power cut process
	kGenDropout                 // the sensor dropout process
	kGenShower                  // the shower (weather) process
	kStormCabOff                // the storm cuts a route's power
	kStormCabOn                 // a route's power returns
	kStormSigOff                // the storm degrades a signal
	kStormSigOn                 // a degraded signal is restored
	kTeam                       // a rescue team moves and reports
	kStormEnd                   // the storm scenario ends
)

// item is one scheduled action. Items run in (at, seq) order, so runs are
// deterministic.
type item struct {
	at  int64 // simulated time, Unix nanoseconds
	seq uint64
	idx int32
	gen uint32
	k   kind
}

func (a item) before(b item) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

// queue is a binary min-heap of items.
type queue []item

func (q *queue) push(it item) {
	*q = append(*q, it)
	h := *q
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].before(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (q *queue) pop() item {
	h := *q
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && h[l].before(h[m]) {
			m = l
		}
		if r < n && h[r].before(h[m]) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	*q = h
	return top
}
