package sim

import (
	"fmt"
	"strings"
)

// buildAir: the six stations of the plan at their sites, then extra
// stations in the industrial and dense districts.
func (b *builder) buildAir() {
	for _, s := range b.sites("air_station") {
		base := 16 + 10*b.rng.Float64()
		if strings.Contains(s.name, "QL1A") {
			base = 32
		}
		b.addAir(s.name, s.lon, s.lat, base)
	}
	extra := []string{"Liên Chiểu", "Cẩm Lệ", "Hải Châu", "Thanh Khê"}
	for k := 0; k < b.count(4); k++ {
		d := b.districtNamed(extra[k%len(extra)])
		lon, lat := b.land.inDistrict(b.rng, d)
		base := 20 + 10*b.rng.Float64()
		if b.land.ds[d].short == "Liên Chiểu" {
			base += 12 // Hòa Khánh industrial zone
		}
		b.addAir(fmt.Sprintf("Trạm không khí %s %d (mô phỏng)", b.land.ds[d].short, k+1), lon, lat, base)
	}
}

func (b *builder) addAir(name string, lon, lat, base float64) {
	id := fmt.Sprintf("aq-%02d", len(b.w.air)+1)
	b.w.air = append(b.w.air, airStation{sensor: newSensor(id, name, lon, lat, b.land.at(lon, lat)), base: base})
}

// wasteWeights spread the waste-water stations (industrial zones, the
// Thọ Quang seafood processing area, treatment plants).
var wasteWeights = map[string]float64{"Liên Chiểu": 4, "Sơn Trà": 3, "Cẩm Lệ": 2, "Thanh Khê": 2,
	"Hải Châu": 2, "Ngũ Hành Sơn": 2, "Hòa Vang": 2}

// buildWater: the 4 sea and 5 river stations at their sites, then
// waste-water stations (36 environment stations in all at scale 1).
func (b *builder) buildWater() {
	for _, s := range b.sites("sea_water_station") {
		b.addWater("sea", s.name, s.lon, s.lat, 0.1+0.2*b.rng.Float64())
	}
	for _, s := range b.sites("river_water_station") {
		dirty := 0.2 + 0.2*b.rng.Float64()
		if strings.Contains(s.name, "Phú Lộc") {
			dirty = 1 // the city's most polluted river
		}
		b.addWater("river", s.name, s.lon, s.lat, dirty)
	}
	for k := 1; k <= b.count(17); k++ {
		d := b.land.pick(b.rng, func(x *district) float64 { return wasteWeights[x.short] })
		lon, lat := b.land.inDistrict(b.rng, d)
		b.addWater("waste_water", fmt.Sprintf("Nước thải %s %02d (mô phỏng)", b.land.ds[d].short, k),
			lon, lat, 0.2+0.8*b.rng.Float64())
	}
}

var waterPrefix = map[string]string{"sea": "wq-sea", "river": "wq-river", "waste_water": "wq-ww"}

func (b *builder) addWater(kind, name string, lon, lat, dirty float64) {
	n := 1
	for _, w := range b.w.water {
		if w.kind == kind {
			n++
		}
	}
	id := fmt.Sprintf("%s-%02d", waterPrefix[kind], n)
	b.w.water = append(b.w.water, waterStation{sensor: newSensor(id, name, lon, lat, b.land.at(lon, lat)),
		kind: kind, dirty: dirty})
}

// buildGauges spreads the 25 rain gauges over the districts, most in
// Hòa Vang and Liên Chiểu.
func (b *builder) buildGauges() {
	for d := range b.land.ds {
		ds := &b.land.ds[d]
		for k := 1; k <= b.count(float64(ds.gauges)); k++ {
			lon, lat := b.land.inDistrict(b.rng, d)
			sn := newSensor(fmt.Sprintf("rg-%s-%02d", ds.slug, k), fmt.Sprintf("Trạm đo mưa %s %02d", ds.short, k), lon, lat, d)
			b.w.gauges = append(b.w.gauges, gauge{sensor: sn})
		}
	}
}

// riverTable gives each named river level station its id and simulated
// warning levels (m, station datum: NOT the official ones), its dry level,
// tide amplitude and how high the storm takes it, in bands (1 = BĐ1,
// 2 = BĐ2, 3 = BĐ3).
var riverTable = []struct {
	prefix, id, river    string
	base, amp            float64
	bd1, bd2, bd3, storm float64
}{
	{"Cẩm Lệ", "wl-cam-le", "Cẩm Lệ", 0.5, 0.15, 1.0, 2.0, 3.0, 2.4},
	{"Ái Nghĩa", "wl-ai-nghia", "Vu Gia", 3.2, 0, 6.5, 8.0, 9.0, 2.6},
	{"Cu Đê", "wl-cu-de", "Cu Đê", 0.4, 0.2, 1.5, 2.5, 3.3, 3.3},
	{"Túy Loan", "wl-tuy-loan", "Túy Loan", 2.0, 0, 4.0, 5.0, 6.0, 3.2},
	{"Hàn", "wl-han", "Hàn", 0.3, 0.35, 1.2, 1.8, 2.5, 1.2},
}

// buildRivers places a level station at each named river site.
func (b *builder) buildRivers() {
	for i, s := range b.sites("river_level_station") {
		r := river{sensor: newSensor(fmt.Sprintf("wl-%02d", i+1), s.name, s.lon, s.lat, b.land.at(s.lon, s.lat)),
			river: s.name, base: 1, bd: [3]float64{2, 3, 4}, peak: 2}
		for _, t := range riverTable {
			if strings.HasPrefix(s.name, t.prefix) {
				r.id, r.river, r.base, r.amp, r.bd, r.peak = t.id, t.river, t.base, t.amp, [3]float64{t.bd1, t.bd2, t.bd3}, t.storm
			}
		}
		b.w.rivers = append(b.w.rivers, r)
	}
}

// buildStreets puts 4 street flood sensors within 500 m of each named
// flood-prone area. Areas in the districts the storm hits flood 20–50 cm,
// the others 5–18 cm.
func (b *builder) buildStreets() {
	for si, s := range b.sites("flood_prone_area") {
		short := strings.TrimSpace(strings.SplitN(s.name, "(", 2)[0])
		d := b.land.at(s.lon, s.lat)
		heavy := d >= 0 && b.land.ds[d].affected
		b.w.floods = append(b.w.floods, floodSite{name: short, lon: s.lon, lat: s.lat, d: d, heavy: heavy})
		for k := 1; k <= b.count(4); k++ {
			lon, lat := b.land.near(b.rng, s.lon, s.lat, 500)
			peak := 5 + 13*b.rng.Float64()
			if heavy {
				peak = 20 + 28*b.rng.Float64()
			}
			sn := newSensor(fmt.Sprintf("ss-%s-%02d", slug(short), k), fmt.Sprintf("%s %02d", short, k), lon, lat, b.land.at(lon, lat))
			b.w.streets = append(b.w.streets, street{sensor: sn, site: si, peak: peak})
		}
	}
}

// teamDistricts is where the rescue teams wait, in order: the storm's
// districts first.
var teamDistricts = []string{"Liên Chiểu", "Cẩm Lệ", "Hòa Vang", "Liên Chiểu", "Cẩm Lệ", "Hòa Vang",
	"Hải Châu", "Thanh Khê", "Sơn Trà", "Ngũ Hành Sơn", "Liên Chiểu", "Cẩm Lệ"}

var teamAgencies = []string{"Cảnh sát PCCC và CNCH", "Bộ Chỉ huy Quân sự thành phố", "Dân quân tự vệ", "Hội Chữ thập đỏ"}

// teamKinds are the kinds of the agencies' teams: the Red Cross sends
// first-aid (medical) teams, the others rescue teams.
var teamKinds = []string{"rescue", "rescue", "rescue", "medical"}

var teamNames = []string{"Đội cứu hộ", "Đội cứu hộ", "Đội cứu hộ", "Đội sơ cấp cứu"}

// buildBases places the rescue and first-aid teams' bases (12 at scale 1)
// and then the lighting maintenance crews' (3 at scale 1); the crews come
// last so that adding them moved no other entity of the world.
func (b *builder) buildBases() {
	defer b.buildCrews()
	per := map[int]int{}
	for k := 0; k < b.count(12); k++ {
		d := b.districtNamed(teamDistricts[k%len(teamDistricts)])
		per[d]++
		lon, lat := b.land.inDistrict(b.rng, d)
		ds := &b.land.ds[d]
		b.w.bases = append(b.w.bases, teamBase{id: fmt.Sprintf("team-%s-%d", ds.slug, per[d]),
			name:   fmt.Sprintf("%s %s %d", teamNames[k%len(teamKinds)], ds.short, per[d]),
			agency: teamAgencies[k%len(teamAgencies)], kind: teamKinds[k%len(teamKinds)], lon: lon, lat: lat, d: d})
	}
}

// crewDistricts is where the lighting company's maintenance crews wait.
var crewDistricts = []string{"Hải Châu", "Thanh Khê", "Sơn Trà"}

// buildCrews places the lighting maintenance crews, who restore the power
// of storm-cut cabinets.
func (b *builder) buildCrews() {
	for k := 0; k < b.count(3); k++ {
		d := b.districtNamed(crewDistricts[k%len(crewDistricts)])
		lon, lat := b.land.inDistrict(b.rng, d)
		b.w.bases = append(b.w.bases, teamBase{id: fmt.Sprintf("crew-lighting-%d", k+1),
			name:   fmt.Sprintf("Tổ sửa chữa điện chiếu sáng %d", k+1),
			agency: "Công ty Chiếu sáng và Thiết bị đô thị Đà Nẵng", kind: "maintenance", lon: lon, lat: lat, d: d})
	}
}
