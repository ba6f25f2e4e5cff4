package sim

import (
	"github.com/twpayne/go-geom"
)

// sensor is what every reporting entity has.
type sensor struct {
	id, name string
	lon, lat float64
	g        geom.T
	d        int   // index of its district in land.ds, -1 outside them
	due      int64 // time of its next periodic report
	silent   int64 // it reports nothing before this time (a dropout)
	started  bool  // it has reported once
}

type signal struct {
	sensor
	busy         float64
	night        bool // a minor intersection that flashes amber at night
	nightOn      bool
	adaptive     bool
	faultUntil   int64
	offlineUntil int64
	storm        string // the storm's effect: "", "flashing" or "offline"
	stormPlan    string // what the storm will do to it
	status       string // the status last reported
}

type camera struct {
	sensor
	free, busy float64
}

type segment struct {
	sensor // g is the LineString; lon, lat its midpoint
	class  string
	free   float64
	busy   float64
}

type parking struct {
	sensor
	total  int
	street bool
}

type airStation struct {
	sensor
	base float64 // typical PM2.5, µg/m³
}

type waterStation struct {
	sensor
	kind  string // river, sea, waste_water
	dirty float64
}

type lamp struct {
	sensor
	cab   int32
	watts float64
	fault bool
}

type cabinet struct {
	sensor
	route   int
	first   int32 // its lamps are lamps[first : first+n]
	n       int32
	off     int64 // its clock runs off seconds late
	cut     bool  // a local power cut
	storm   bool  // the storm cut its power
	energy  float64
	lastAt  int64
	reports int
}

type gauge struct {
	sensor
	lastAt int64
}

type river struct {
	sensor
	river     string
	base, amp float64 // dry-season level and tide amplitude, m
	bd        [3]float64
	peak      float64 // the storm's peak, in bands (3 = BĐ3)
}

type street struct {
	sensor
	site int     // index in world.floods
	peak float64 // the storm's peak depth, cm
}

// floodSite is a named flood-prone area with its street sensors.
type floodSite struct {
	name     string
	lon, lat float64
	d        int
	heavy    bool // floods 20–50 cm in the storm
}

// world is everything the simulator reports on.
type world struct {
	signals  []signal
	cameras  []camera
	segments []segment
	parking  []parking
	air      []airStation
	water    []waterStation
	lamps    []lamp
	cabinets []cabinet
	routes   []route
	gauges   []gauge
	rivers   []river
	streets  []street
	floods   []floodSite
	bases    []teamBase
}

// teamBase is where a rescue team waits.
type teamBase struct {
	id, name string
	agency   string
	kind     string // rescue, medical (response.teams)
	lon, lat float64
	d        int
}

func point(lon, lat float64) geom.T {
	return geom.NewPointFlat(geom.XY, []float64{lon, lat})
}

func newSensor(id, name string, lon, lat float64, d int) sensor {
	return sensor{id: id, name: name, lon: lon, lat: lat, g: point(lon, lat), d: d}
}
