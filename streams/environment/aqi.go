package environment

import (
	"math"
)

// Vietnam's air quality index, VN_AQI, as set out by the Vietnam
// Environment Administration in Decision 1459/QĐ-TCMT of 12 November 2019
// ("Hướng dẫn kỹ thuật tính toán và công bố chỉ số chất lượng không khí
// Việt Nam"). The module computes the hourly index (AQI giờ, section
// 2.2.1 of the guidance):
//
//   - every pollutant gets a sub-index by linear interpolation between the
//     breakpoints of Table 2 (Bảng 2) below: formula 1 on the 1-hour mean
//     for O3, NO2, SO2 and CO, formula 2 on the NowCast for PM2.5 and PM10;
//   - the index is the largest sub-index, rounded to an integer;
//   - the index is published only when PM2.5 or PM10 is among them
//     (section 2.1 b: at least one of the two is mandatory);
//   - bands and colours are Table 1 (Bảng 1).
//
// Rounding: the guidance says only that the index is rounded to an
// integer; we round half up (math.Round). The guidance's own worked
// example gives NO2 118.7 µg/m³ as 60 where the formula yields 59.35, so
// either it rounds up or the example is off by one; its other examples
// match rounding to nearest, which we follow.

// indexLevels are the index values I_i of the breakpoint rows.
var indexLevels = [8]float64{0, 50, 100, 150, 200, 300, 400, 500}

// pollutant is one column of Table 2: the concentrations (µg/m³) at the
// index levels above. The last row of the table reads "≥": a concentration
// at or above it is 500, the top of the scale (no extrapolation).
type pollutant struct {
	name    string
	bp      [8]float64
	nowcast bool // hourly index from the 12-hour NowCast (PM only)
}

// pollutants is Table 2 of Decision 1459/QĐ-TCMT, checked value by value
// against a transcription of the decision. O3 uses the 1-hour column: the
// 8-hour column (100, 120, 170, 210, 400) is for the daily index, which
// this module does not compute. The order breaks ties for the dominant
// pollutant: particles first, as the guidance requires them.
var pollutants = [...]pollutant{
	{"pm25", [8]float64{0, 25, 50, 80, 150, 250, 350, 500}, true},
	{"pm10", [8]float64{0, 50, 150, 250, 350, 420, 500, 600}, true},
	{"o3", [8]float64{0, 160, 200, 300, 400, 800, 1000, 1200}, false},
	{"no2", [8]float64{0, 100, 200, 700, 1200, 2350, 3100, 3850}, false},
	{"so2", [8]float64{0, 125, 350, 550, 800, 1600, 2100, 2630}, false},
	{"co", [8]float64{0, 10000, 30000, 45000, 60000, 90000, 120000, 150000}, false},
}

// subIndex interpolates a concentration on a column: formula 1 (and 2)
// of the guidance, AQIx = (I[i+1]−I[i]) / (BP[i+1]−BP[i]) × (C−BP[i]) + I[i].
// It is not rounded; see aqiValue.
func subIndex(bp [8]float64, c float64) float64 {
	if c >= bp[len(bp)-1] {
		return indexLevels[len(indexLevels)-1]
	}
	for i := 1; i < len(bp); i++ {
		if c <= bp[i] {
			lo, hi := indexLevels[i-1], indexLevels[i]
			return (hi-lo)/(bp[i]-bp[i-1])*(c-bp[i-1]) + lo
		}
	}
	return indexLevels[len(indexLevels)-1]
}

// aqiValue rounds a sub-index to the published integer.
func aqiValue(x float64) int { return int(math.Round(x)) }

// band is one row of Table 1: the index range, its name (English, for the
// API), the colour the decision assigns and its RGB.
type band struct {
	max    int
	name   string
	colour string
	rgb    string
}

// bands is Table 1 of Decision 1459/QĐ-TCMT: Tốt, Trung bình, Kém, Xấu,
// Rất xấu, Nguy hại with colours Xanh (0;228;0), Vàng (255;255;0), Da cam
// (255;126;0), Đỏ (255;0;0), Tím (143;63;151), Nâu (126;0;35).
var bands = [...]band{
	{50, "good", "green", "#00e400"},
	{100, "moderate", "yellow", "#ffff00"},
	{150, "poor", "orange", "#ff7e00"},
	{200, "bad", "red", "#ff0000"},
	{300, "very_bad", "purple", "#8f3f97"},
	{500, "hazardous", "maroon", "#7e0023"},
}

// bandOf returns the band of an integer index.
func bandOf(aqi int) band {
	for _, b := range bands {
		if aqi <= b.max {
			return b
		}
	}
	return bands[len(bands)-1]
}

// nowCastHours is how many hourly means NowCast weighs.
const nowCastHours = 12

// nowCast is the weighted mean of section 2.2.1 a. c[0] is the current
// hour's mean, c[i] the mean i hours before; has says which exist. It
// needs at least two of the three latest hours, else "no data". The
// weight w = Cmin/Cmax, at least 1/2; missing hours weigh 0. The guidance
// writes the w = 1/2 case without dividing by the sum of the weights;
// with 12 hours that sum is 2 − 2⁻¹¹, so normalising, as we always do,
// differs by 0.02 % and stays right when hours are missing.
func nowCast(c [nowCastHours]float64, has [nowCastHours]bool) (float64, bool) {
	recent := 0
	for i := range 3 {
		if has[i] {
			recent++
		}
	}
	if recent < 2 {
		return 0, false
	}
	cmin, cmax := math.Inf(1), math.Inf(-1)
	for i := range c {
		if has[i] {
			cmin, cmax = min(cmin, c[i]), max(cmax, c[i])
		}
	}
	w := 1.0
	if cmax > 0 {
		w = max(cmin/cmax, 0.5)
	}
	var num, den float64
	wi := 1.0
	for i := range c {
		if has[i] {
			num += wi * c[i]
			den += wi
		}
		wi *= w
	}
	return num / den, true
}

// hourly keeps the hourly means of one PM pollutant at one station for the
// last nowCastHours hours, in a ring indexed by hour number.
type hourly struct {
	slots [nowCastHours]hourSlot
}

type hourSlot struct {
	hour int64 // hours since the Unix epoch; clock hours are the same in UTC and UTC+7
	sum  float64
	n    int
}

// add records a concentration observed in the given hour. A value for an
// hour older than the ring holds is dropped.
func (h *hourly) add(hour int64, c float64) {
	s := &h.slots[ringIndex(hour)]
	switch {
	case s.n > 0 && s.hour > hour:
		return
	case s.n == 0 || s.hour < hour:
		*s = hourSlot{hour: hour}
	}
	s.sum += c
	s.n++
}

// nowCastAt computes the NowCast for the given current hour.
func (h *hourly) nowCastAt(hour int64) (float64, bool) {
	var c [nowCastHours]float64
	var has [nowCastHours]bool
	for i := range nowCastHours {
		want := hour - int64(i)
		if s := h.slots[ringIndex(want)]; s.n > 0 && s.hour == want {
			c[i], has[i] = s.sum/float64(s.n), true
		}
	}
	return nowCast(c, has)
}

// ringIndex maps an hour number to its slot, also for hours before 1970.
func ringIndex(hour int64) int64 { return (hour%nowCastHours + nowCastHours) % nowCastHours }
