package sim

import (
	"fmt"
	"time"

	"github.com/twpayne/go-geom"
)

// reportsPerMonth is the Góp ý Đà Nẵng app's volume at scale 1 (the brief).
const reportsPerMonth = 1000.0

// step is one planned move of a report's workflow, or its deletion.
type step struct {
	at     int64
	status string
	agency string
	notes  string
	del    bool
}

type report struct {
	id       string
	g        geom.T
	lon, lat float64
	cat      string
	plan     []step
	next     int
}

// feedbackState is the citizen reports on the map, by slot.
type feedbackState struct {
	slots   []*report
	free    []int32
	live    int
	n       int       // reports made
	last    *report   // the previous storm report, which others may repeat
	trapped []*report // storm reports of trapped people, for the rescue teams
}

type weighted struct {
	name string
	w    float64
}

func draw(s *Sim, ws []weighted) string {
	total := 0.0
	for _, x := range ws {
		total += x.w
	}
	r := s.rng.Float64() * total
	for _, x := range ws {
		if r -= x.w; r < 0 {
			return x.name
		}
	}
	return ws[len(ws)-1].name
}

var (
	dailyCategories = []weighted{{"garbage", 25}, {"pothole", 15}, {"streetlight_out", 14}, {"other", 20},
		{"traffic_accident", 8}, {"traffic_signal", 5}, {"fallen_tree", 6}, {"flooded_road", 7}}
	stormCategories = []weighted{{"flooded_road", 38}, {"fallen_tree", 24}, {"power_line_down", 14},
		{"trapped_people", 12}, {"landslide", 3}, {"streetlight_out", 5}, {"traffic_signal", 4}}
	channels = []weighted{{"app", 55}, {"hotline", 33}, {"web", 12}}
)

var agencies = map[string]string{
	"garbage": "Công ty CP Môi trường đô thị Đà Nẵng", "pothole": "Sở Giao thông vận tải",
	"streetlight_out": "Công ty Chiếu sáng và Thiết bị đô thị", "traffic_signal": "Trung tâm Quản lý hạ tầng giao thông",
	"traffic_accident": "Phòng Cảnh sát giao thông", "fallen_tree": "Công ty Công viên cây xanh",
	"flooded_road": "Công ty Thoát nước và Xử lý nước thải", "power_line_down": "Công ty Điện lực Đà Nẵng",
	"landslide": "Ban Chỉ huy PCTT và TKCN", "trapped_people": "Cảnh sát PCCC và CNCH",
}

var descriptions = map[string][]string{
	"garbage":          {"Rác thải tồn đọng nhiều ngày", "Đổ rác không đúng nơi quy định"},
	"pothole":          {"Mặt đường hư hỏng, ổ gà lớn", "Nắp hố ga bị vỡ"},
	"streetlight_out":  {"Đèn đường không sáng", "Cả đoạn đường mất đèn chiếu sáng"},
	"traffic_accident": {"Va chạm giữa xe máy và ô tô", "Tai nạn giao thông, cần hỗ trợ"},
	"traffic_signal":   {"Đèn tín hiệu giao thông không hoạt động", "Đèn giao thông chỉ nhấp nháy vàng"},
	"fallen_tree":      {"Cây xanh gãy đổ chắn đường", "Cành cây lớn gãy, nguy hiểm"},
	"flooded_road":     {"Đường ngập sâu, xe máy chết máy", "Nước ngập vào nhà dân"},
	"power_line_down":  {"Dây điện đứt rơi xuống đường", "Cột điện nghiêng đổ"},
	"trapped_people":   {"Gia đình mắc kẹt trong nhà ngập, cần cứu hộ", "Người già và trẻ em mắc kẹt trên mái nhà"},
	"landslide":        {"Sạt lở đất taluy dương", "Sạt lở chắn đường"},
	"other":            {"Lấn chiếm vỉa hè", "Tiếng ồn kéo dài ban đêm"},
}

var (
	reportCurveMean = curveMean(reportCurve)
	reportCurveMax  = curveMax(reportCurve)
	stormReportMax  = curveMax(stormReportCurve)
)

// reportRates are the rates now, per simulated second: the daily
// reports, the storm's, and the largest the total can reach (for
// thinning).
func (s *Sim) reportRates() (daily, storm, top float64) {
	perSec := reportsPerMonth / 30.44 / 86400 * s.cfg.Scale / reportCurveMean
	daily = perSec * reportCurve.at(localHour(s.now))
	top = perSec * reportCurveMax
	if s.st != nil {
		k := s.cfg.Scale * s.st.k / 3600
		storm = stormReportCurve.at(s.st.hour(s.now)) * k
		top += stormReportMax * k
	}
	return daily, storm, top
}

// reportArrival is a thinned Poisson process over both kinds of report.
func (s *Sim) reportArrival(it item) {
	if it.gen != s.gens[kReport] {
		return
	}
	daily, storm, top := s.reportRates()
	switch x := s.rng.Float64() * top; {
	case x < daily:
		s.dailyReport()
	case x < daily+storm:
		s.stormReport()
	}
	s.push(s.expAfter(1/top), kReport, 0, it.gen)
}

// restartReports starts a new arrival process at the current rates.
func (s *Sim) restartReports() {
	s.gens[kReport]++
	s.push(s.now, kReport, 0, s.gens[kReport])
}

func (s *Sim) dailyReport() {
	d := s.land.pick(s.rng, func(x *district) float64 { return x.reports })
	lon, lat := s.land.inDistrict(s.rng, d)
	s.newReport(draw(s, dailyCategories), lon, lat, d, false, "")
}

// stormReport: mostly around the flooded areas, the rest anywhere in the
// districts the storm hits; some repeat a report made just before.
func (s *Sim) stormReport() {
	if last := s.fb.last; last != nil && s.rng.Float64() < 0.15 {
		lon, lat := s.land.near(s.rng, last.lon, last.lat, 40)
		s.newReport(last.cat, lon, lat, s.land.at(lon, lat), true, last.id)
		return
	}
	lon, lat := s.stormPlace()
	d := s.land.at(lon, lat)
	cat := draw(s, stormCategories)
	if cat == "landslide" && (d < 0 || s.land.ds[d].short != "Hòa Vang") {
		cat = "flooded_road"
	}
	s.fb.last = s.newReport(cat, lon, lat, d, true, "")
}

func (s *Sim) newReport(cat string, lon, lat float64, d int, storm bool, dupOf string) *report {
	s.fb.n++
	ch := draw(s, channels)
	prefix := "gopy"
	if ch == "hotline" {
		prefix = "1022"
	}
	r := &report{id: fmt.Sprintf("%s-%s-%05d", prefix, localDate(s.now), s.fb.n), g: point(lon, lat),
		lon: lon, lat: lat, cat: cat}
	p := newProps()
	p.str("category", cat)
	p.str("channel", ch)
	p.str("status", "received")
	opts := descriptions[cat]
	p.str("description", opts[s.rng.IntN(len(opts))])
	s.emit(LayerReports, r.id, r.g, &p)
	r.plan = s.planReport(cat, d, storm, dupOf)
	slot := s.reportSlot(r)
	s.push(r.plan[0].at, kReportStep, slot, 0)
	if storm && cat == "trapped_people" {
		s.fb.trapped = append(s.fb.trapped, r)
	}
	return r
}

func (s *Sim) reportSlot(r *report) int32 {
	s.fb.live++
	if n := len(s.fb.free); n > 0 {
		slot := s.fb.free[n-1]
		s.fb.free = s.fb.free[:n-1]
		s.fb.slots[slot] = r
		return slot
	}
	s.fb.slots = append(s.fb.slots, r)
	return int32(len(s.fb.slots) - 1)
}

// planReport plans a report's workflow: assigned, in progress, resolved
// (some rejected: duplicates, out of remit), then deleted after the
// retention. Storm reports move in scenario time. Night reports wait for
// the morning shift.
func (s *Sim) planReport(cat string, d int, storm bool, dupOf string) []step {
	f := 1.0
	if storm {
		f = 1 / s.st.k
	}
	t := s.now
	after := func(lo, hi float64) int64 {
		t += max(int64(time.Minute), int64(s.between(lo, hi)*f*float64(time.Hour)))
		return t
	}
	var plan []step
	switch {
	case dupOf != "" && s.rng.Float64() < 0.6:
		plan = []step{{at: after(1.0/12, 1.0/3), status: "rejected", notes: "Trùng với phản ánh " + dupOf}}
	case !storm && s.rng.Float64() < 0.08:
		plan = []step{{at: after(0.2, 4), status: "rejected", notes: "Không thuộc thẩm quyền hoặc thông tin chưa chính xác"}}
	default:
		if h := localHour(s.now); !storm && (h >= 22 || h < 6) {
			t = nextLocal(s.now, 7)
		}
		lo, hi := 1.0/6, 2.0
		if storm {
			lo, hi = 1.0/12, 0.5
		}
		plan = append(plan, step{at: after(lo, hi), status: "assigned", agency: s.agency(cat, d, storm)})
		plan = append(plan, step{at: after(lo, hi*3), status: "in_progress"})
		plan = append(plan, step{at: after(1, 24), status: "resolved", notes: "Đã xử lý xong"})
	}
	if s.cfg.ReportRetention > 0 {
		plan = append(plan, step{at: t + int64(s.cfg.ReportRetention), del: true})
	}
	return plan
}

func (s *Sim) agency(cat string, d int, storm bool) string {
	if cat == "trapped_people" && storm && len(s.w.bases) > 0 {
		return s.w.bases[s.rng.IntN(len(s.w.bases))].name
	}
	if a, ok := agencies[cat]; ok {
		return a
	}
	if d >= 0 {
		return "UBND " + s.land.ds[d].name
	}
	return "Văn phòng UBND thành phố"
}

// reportStep runs the next step of a report's plan.
func (s *Sim) reportStep(slot int32) {
	r := s.fb.slots[slot]
	st := r.plan[r.next]
	r.next++
	if st.del {
		s.emitDelete(LayerReports, r.id)
		s.fb.slots[slot] = nil
		s.fb.free = append(s.fb.free, slot)
		s.fb.live--
		return
	}
	p := newProps()
	p.str("status", st.status)
	if st.agency != "" {
		p.str("agencyResponsible", st.agency)
	}
	if st.notes != "" {
		p.str("statusNotes", st.notes)
	}
	s.emit(LayerReports, r.id, r.g, &p)
	if r.next < len(r.plan) {
		s.push(r.plan[r.next].at, kReportStep, slot, 0)
	}
}
