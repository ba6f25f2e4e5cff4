package sim

import (
	"math"
	"time"
)

// localOffset is Da Nang's time zone, UTC+7 (Indochina Time, no DST).
const localOffset = 7 * 3600

// localHour is the local time of day of t (Unix ns) in hours, 0 to 24.
func localHour(t int64) float64 {
	sec := t/int64(time.Second) + localOffset
	sec = ((sec % 86400) + 86400) % 86400
	return float64(sec)/3600 + float64(t%int64(time.Second))/3.6e12
}

// localDayStart is the Unix ns of the local midnight that starts t's day.
func localDayStart(t int64) int64 {
	sec := t/int64(time.Second) + localOffset
	day := sec - ((sec%86400)+86400)%86400
	return (day - localOffset) * int64(time.Second)
}

// knots is a piecewise linear function: (x, y) pairs in increasing x,
// constant beyond the ends.
type knots [][2]float64

func (k knots) at(x float64) float64 {
	if x <= k[0][0] {
		return k[0][1]
	}
	for i := 1; i < len(k); i++ {
		if x <= k[i][0] {
			a, b := k[i-1], k[i]
			return a[1] + (b[1]-a[1])*(x-a[0])/(b[0]-a[0])
		}
	}
	return k[len(k)-1][1]
}

// demandCurve is traffic demand over the day, 0 to 1: rush hours 7–9 and
// 16:30–18:30 at the top, a quieter midday, an empty night.
var demandCurve = knots{{0, 0.12}, {5, 0.1}, {6, 0.35}, {7, 0.85}, {7.5, 1}, {8.5, 1}, {9, 0.75},
	{11, 0.65}, {13, 0.55}, {15, 0.65}, {16.5, 0.9}, {17, 1}, {18.5, 1}, {19.5, 0.7}, {22, 0.4}, {24, 0.12}}

// reportCurve weighs citizen reports over the day (mostly daytime).
var reportCurve = knots{{0, 0.2}, {6, 0.3}, {7, 1.2}, {11, 1.5}, {14, 1.3}, {17, 1.5}, {21, 0.8}, {23, 0.3}, {24, 0.2}}

// streetParkCurve and lotParkCurve are parking occupancy over the day: the
// riverside streets fill in the evening, the lots during office hours.
var (
	streetParkCurve = knots{{0, 0.15}, {6, 0.2}, {8, 0.6}, {11, 0.8}, {14, 0.7}, {17, 0.85}, {19, 0.95}, {21, 0.9}, {23, 0.4}, {24, 0.15}}
	lotParkCurve    = knots{{0, 0.1}, {7, 0.3}, {8.5, 0.85}, {12, 0.8}, {17, 0.7}, {18.5, 0.3}, {24, 0.1}}
)

// sun is the daylight factor, 0 at night, 1 at 12:30.
func sun(h float64) float64 {
	if h < 6 || h > 18.5 {
		return 0
	}
	return math.Sin(math.Pi * (h - 6) / 12.5)
}

// curveMean is the mean of k over the 24 hours of a day.
func curveMean(k knots) float64 {
	sum := 0.0
	for m := 0; m < 24*60; m++ {
		sum += k.at(float64(m) / 60)
	}
	return sum / (24 * 60)
}

// curveMax is the largest value of k.
func curveMax(k knots) float64 {
	m := k[0][1]
	for _, p := range k {
		m = max(m, p[1])
	}
	return m
}

// The lighting schedule, local time: on at dusk, dimmed after midnight,
// off at dawn.
const (
	dawnHour = 5.75
	duskHour = 17.75
)

// lightSchedule is the commanded state of a cabinet at t, whose clock runs
// off seconds late (it switches off seconds after the nominal times).
func lightSchedule(t, off int64) string {
	h := localHour(t - off*int64(time.Second))
	switch {
	case h < dawnHour:
		return "dimmed"
	case h < duskHour:
		return "off"
	}
	return "on"
}

// nextLightSwitch is the first switching time after t of a cabinet whose
// clock runs off seconds late.
func nextLightSwitch(t, off int64) int64 {
	shift := off * int64(time.Second)
	day := localDayStart(t - shift)
	for _, h := range []float64{dawnHour, duskHour, 24, 24 + dawnHour} {
		at := day + int64(h*3600)*int64(time.Second) + shift
		if at > t {
			return at
		}
	}
	return day + int64((24+duskHour)*3600)*int64(time.Second) + shift
}
