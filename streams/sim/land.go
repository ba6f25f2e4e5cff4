package sim

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"unicode"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/geo/areas"
)

// districtParams are the simulator's assumptions about one district: how
// much road and traffic it has, how its rain gauges are spread, how hard
// the storm scenario hits it and how many citizen reports it sends. They
// are scenario parameters, matched by the district's short name to the
// polygons of geo/areas; districts not listed (Hoàng Sa) get no sensors.
type districtParams struct {
	short    string
	roads    float64 // weight of synthetic roads and signals
	gauges   int     // rain gauges at scale 1
	rain     float64 // storm rain factor: 1 for the brief's 30+ mm/h districts
	affected bool    // the storm floods it, cuts its power, fails its signals
	reports  float64 // weight of citizen reports
	busy     float64 // traffic busyness, 0–1
	free     float64 // free-flow speed of its synthetic roads, km/h
}

var districtTable = []districtParams{
	{"Liên Chiểu", 2.5, 5, 1.0, true, 1.2, 0.65, 45},
	{"Thanh Khê", 2.0, 2, 0.45, false, 1.5, 0.8, 40},
	{"Hải Châu", 1.2, 3, 0.45, false, 1.8, 0.85, 40},
	{"Sơn Trà", 2.0, 2, 0.45, false, 1.0, 0.65, 45},
	{"Ngũ Hành Sơn", 1.5, 2, 0.45, false, 0.9, 0.6, 45},
	{"Cẩm Lệ", 2.0, 3, 0.7, true, 1.1, 0.7, 40},
	{"Hòa Vang", 2.0, 8, 1.0, true, 0.8, 0.45, 55},
}

// district is a district the simulator places sensors in.
type district struct {
	districtParams
	code, name string
	slug       string // ASCII, for ids: "lien-chieu"
	abbr       string // "LC"
	bounds     geo.Rect
}

// land places things on real ground: inside the district polygons of
// geo/areas, never at sea.
type land struct {
	set *areas.Set
	ds  []district
}

func newLand(set *areas.Set) (*land, error) {
	l := &land{set: set}
	for _, p := range districtTable {
		for _, info := range set.Districts() {
			if info.ShortName == p.short {
				l.ds = append(l.ds, district{districtParams: p, code: info.Code, name: info.Name,
					slug: slug(p.short), abbr: abbr(p.short), bounds: info.Bounds})
			}
		}
	}
	if len(l.ds) == 0 {
		return nil, errors.New("sim: none of the simulated districts is in the area data")
	}
	return l, nil
}

// at is the index of the simulated district holding (lon, lat), or -1.
func (l *land) at(lon, lat float64) int {
	code := l.set.Locate(lon, lat).DistrictCode
	if code == "" {
		return -1
	}
	for i := range l.ds {
		if l.ds[i].code == code {
			return i
		}
	}
	return -1
}

// inDistrict draws a uniform random point of district d (rejection
// sampling in its bounding box against its polygons).
func (l *land) inDistrict(rng *rand.Rand, d int) (float64, float64) {
	b := l.ds[d].bounds
	for range 100000 {
		lon := b.MinX + rng.Float64()*(b.MaxX-b.MinX)
		lat := b.MinY + rng.Float64()*(b.MaxY-b.MinY)
		if l.at(lon, lat) == d {
			return lon, lat
		}
	}
	return (b.MinX + b.MaxX) / 2, (b.MinY + b.MaxY) / 2 // not reached with real polygons
}

// near draws a point on land within radius metres of (lon, lat); (lon,
// lat) itself when no try lands.
func (l *land) near(rng *rand.Rand, lon, lat, radius float64) (float64, float64) {
	for range 200 {
		r := radius * math.Sqrt(rng.Float64())
		a := 2 * math.Pi * rng.Float64()
		x, y := offset(lon, lat, r*math.Cos(a), r*math.Sin(a))
		if l.at(x, y) >= 0 {
			return x, y
		}
	}
	return lon, lat
}

// pick draws a district index with probability proportional to w.
func (l *land) pick(rng *rand.Rand, w func(*district) float64) int {
	total := 0.0
	for i := range l.ds {
		total += w(&l.ds[i])
	}
	x := rng.Float64() * total
	for i := range l.ds {
		if x -= w(&l.ds[i]); x < 0 {
			return i
		}
	}
	return len(l.ds) - 1
}

// mPerDegLat is metres per degree of latitude (and of longitude at the
// equator), on the sphere geo uses.
const mPerDegLat = math.Pi / 180 * geo.EarthRadius

// offset moves (lon, lat) by dx metres east and dy metres north.
func offset(lon, lat, dx, dy float64) (float64, float64) {
	return lon + dx/(mPerDegLat*math.Cos(lat*math.Pi/180)), lat + dy/mPerDegLat
}

// dist is the distance in metres between two nearby positions.
func dist(lon1, lat1, lon2, lat2 float64) float64 {
	dx := (lon2 - lon1) * mPerDegLat * math.Cos((lat1+lat2)/2*math.Pi/180)
	dy := (lat2 - lat1) * mPerDegLat
	return math.Hypot(dx, dy)
}

// foldTable maps Vietnamese letters to their ASCII base letter.
var foldTable = func() map[rune]rune {
	groups := []string{"aàáạảãâầấậẩẫăằắặẳẵ", "eèéẹẻẽêềếệểễ", "iìíịỉĩ", "oòóọỏõôồốộổỗơờớợởỡ",
		"uùúụủũưừứựửữ", "yỳýỵỷỹ", "dđ"}
	m := map[rune]rune{}
	for _, g := range groups {
		base := []rune(g)[0]
		for _, r := range g {
			m[r] = base
		}
	}
	return m
}()

// fold lowercases s and strips its Vietnamese diacritics.
func fold(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if f, ok := foldTable[r]; ok {
			r = f
		}
		b.WriteRune(r)
	}
	return b.String()
}

// slug is s folded to ASCII with words joined by '-': "Hòa Vang" → "hoa-vang".
func slug(s string) string {
	return strings.Join(strings.FieldsFunc(fold(s), notAlnum), "-")
}

// abbr is the upper-case initials of s's words: "Nguyễn Văn Linh" → "NVL".
func abbr(s string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(fold(s), notAlnum) {
		r := []rune(w)[0]
		if unicode.IsDigit(r) {
			b.WriteString(w)
			continue
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

func notAlnum(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') }
