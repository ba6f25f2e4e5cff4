package feedback

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
	"github.com/danang-ioc/ioc/streams/internal/props/moduletest"
)

// TestGolden runs testdata/*.ndjson through the module and compares the
// output with testdata/*.golden; go test -run Golden -update rewrites the
// goldens (see package moduletest).
func TestGolden(t *testing.T) {
	moduletest.Golden(t, New, Config{})
}

var t0 = time.Date(2025, 10, 27, 15, 0, 0, 0, time.FixedZone("ICT", 7*3600))

func at(min int) string { return t0.Add(time.Duration(min) * time.Minute).Format(time.RFC3339) }

func ev(id, when string, lon, lat float64, props string) string {
	return fmt.Sprintf(`{"layer":"feedback.reports","id":%q,"time":%q,"geometry":{"type":"Point","coordinates":[%v,%v]},"properties":%s}`,
		id, when, lon, lat, props)
}

func rep(id string, min int, props string) string {
	return ev(id, at(min), 108.2208, 16.0678, props)
}

func run(t *testing.T, m *Module, line string) (layers.Event, map[string]any, error) {
	t.Helper()
	return moduletest.ProcessOne(t, m, line)
}

func TestTransitions(t *testing.T) {
	legal := map[string][]string{
		"received":    {"received", "assigned", "in_progress", "resolved", "rejected"},
		"assigned":    {"assigned", "in_progress", "resolved", "rejected"},
		"in_progress": {"in_progress", "resolved", "rejected"},
		"resolved":    {"resolved"},
		"rejected":    {"rejected"},
	}
	for _, from := range Statuses {
		for _, to := range Statuses {
			want := false
			for _, s := range legal[from] {
				want = want || s == to
			}
			if got := allowed(from, to); got != want {
				t.Errorf("%s → %s: allowed %v, want %v", from, to, got, want)
			}
		}
	}
}

// history renders statusHistory as "status@minute ...".
func history(p map[string]any) string {
	var s []string
	for _, e := range p["statusHistory"].([]any) {
		tr := e.(map[string]any)
		tm, _ := time.Parse(time.RFC3339, tr["time"].(string))
		s = append(s, fmt.Sprintf("%s@%d", tr["status"], int(tm.Sub(t0).Minutes())))
	}
	return strings.Join(s, " ")
}

func TestWorkflow(t *testing.T) {
	m := New(Config{})
	steps := []struct {
		min         int
		props       string
		history     string
		status, err string
	}{
		{0, `{"category":"fallen_tree","channel":"hotline","description":"Cây đổ chắn đường"}`, "received@0", "received", ""},
		{5, `{"status":"assigned","assignee":"Đội cây xanh số 2"}`, "received@0 assigned@5", "assigned", ""},
		{7, `{"status":"assigned","assignee":"Đội cây xanh số 3"}`, "received@0 assigned@5", "assigned", ""}, // repeat: reassignment
		{9, `{"description":"Cây đổ chắn hai làn"}`, "received@0 assigned@5", "assigned", ""},                // no status: unchanged
		{30, `{"status":"in_progress"}`, "received@0 assigned@5 in_progress@30", "in_progress", ""},
		{31, `{"status":"received"}`, "", "", "illegal status transition in_progress → received (allowed from in_progress: resolved, rejected)"},
		{60, `{"status":"resolved"}`, "received@0 assigned@5 in_progress@30 resolved@60", "resolved", ""},
		{62, `{"status":"resolved"}`, "received@0 assigned@5 in_progress@30 resolved@60", "resolved", ""},
		{65, `{"status":"assigned"}`, "", "", "illegal status transition resolved → assigned (allowed from resolved: none: resolved is final"},
	}
	for _, s := range steps {
		out, p, err := run(t, m, rep("r1", s.min, s.props))
		if s.err != "" {
			if err == nil || !strings.Contains(err.Error(), s.err) {
				t.Errorf("minute %d: error %v, want %q", s.min, err, s.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("minute %d: %v", s.min, err)
		}
		if h := history(p); h != s.history || p["status"] != s.status || !out.Time.Equal(t0.Add(time.Duration(s.min)*time.Minute)) {
			t.Errorf("minute %d: history %s status %v time %v, want %s %s", s.min, h, p["status"], out.Time, s.history, s.status)
		}
	}
	// Updates merge: the last event carried only a status, the report keeps the rest.
	_, p, _ := run(t, m, rep("r1", 70, `{}`))
	if p["category"] != "fallen_tree" || p["channel"] != "hotline" || p["agencyResponsible"] != "Đội cây xanh số 3" ||
		p["description"] != "Cây đổ chắn hai làn" || p["open"] != false || p["priority"] != "high" ||
		p["statusSince"] != "2025-10-27T09:00:00Z" || p["reportedAt"] != "2025-10-27T08:00:00Z" {
		t.Errorf("merged report: %v", p)
	}
}

func TestLateStatusFindsItsPlace(t *testing.T) {
	m := New(Config{})
	run(t, m, rep("r", 0, `{"category":"flooded_road"}`))
	run(t, m, rep("r", 20, `{"status":"in_progress","assignee":"Đội cứu hộ 1"}`))
	out, p, err := run(t, m, rep("r", 10, `{"status":"assigned","assignee":"old"}`))
	if err != nil {
		t.Fatal(err)
	}
	if h := history(p); h != "received@0 assigned@10 in_progress@20" {
		t.Errorf("history %s", h)
	}
	if !out.Time.Equal(t0.Add(20*time.Minute)) || p["agencyResponsible"] != "Đội cứu hộ 1" || p["status"] != "in_progress" {
		t.Errorf("late event should render the newest state: %v %v", out.Time, p)
	}
	// in_progress recorded at 20 but a late report says it began at 15
	_, p, _ = run(t, m, rep("r", 15, `{"status":"in_progress"}`))
	if h := history(p); h != "received@0 assigned@10 in_progress@15" {
		t.Errorf("earlier repeat: %s", h)
	}
	// a late status that breaks the path is refused, naming the history
	_, _, err = run(t, m, rep("r", 5, `{"status":"rejected"}`))
	if err == nil || !strings.Contains(err.Error(), "status rejected at 2025-10-27T08:05:00Z does not fit the report's history") ||
		!strings.Contains(err.Error(), "rejected → assigned") {
		t.Errorf("late illegal: %v", err)
	}
}

func TestNewReportWithStatus(t *testing.T) {
	m := New(Config{})
	_, p, err := run(t, m, rep("imported", 0, `{"category":"pothole","status":"assigned","channel":"open311"}`))
	if err != nil || history(p) != "assigned@0" || p["priority"] != "normal" || p["open"] != true {
		t.Errorf("%v %v", err, p)
	}
}

func TestErrorsSayWhatAndWhere(t *testing.T) {
	long := strings.Repeat("ư", maxDescription+1)
	cases := []struct{ line, path, msg string }{
		{rep("a", 0, `{"channel":"app"}`), "properties.category", "category is required for a new report: one of flooded_road, fallen_tree"},
		{rep("a", 0, `{"status":"assigned","category":"  "}`), "properties.category", "(or an Open311 service_code or service_name)"},
		{rep("a", 0, `{"category":["fire"]}`), "properties.category", `category must be a string, found an array`},
		{rep("a", 0, `{"category":"other","status":"lost"}`), "properties.status",
			`unknown status "lost": valid values are received, assigned, in_progress, resolved, rejected (also Open311 open, closed`},
		{rep("a", 0, `{"category":"other","resolutionStatus":"Pending"}`), "properties.resolutionStatus", `unknown resolutionStatus "Pending"`},
		{rep("a", 0, `{"category":"other","status":7}`), "properties.status", "status must be a string"},
		{rep("a", 0, `{"category":"other","channel":"zalo"}`), "properties.channel", "valid values are app, hotline, web, open311"},
		{rep("a", 0, `{"category":"other","mediaURL":"file:///etc/passwd"}`), "properties.mediaURL", "must be an http or https URL"},
		{rep("a", 0, `{"category":"other","description":"`+long+`"}`), "properties.description", "4001 characters long, at most 4000"},
		{`{"layer":"feedback.reports","id":"a","geometry":{"type":"LineString","coordinates":[[108.2,16.0],[108.3,16.1]]},"properties":{"category":"other"}}`,
			"geometry.type", "feedback.reports takes Point geometries"},
		{`{"layer":"feedback.calls","id":"a","geometry":{"type":"Point","coordinates":[108.2,16.0]}}`, "layer", "not one of the feedback module's layers"},
	}
	m := New(Config{})
	for _, c := range cases {
		moduletest.ExpectError(t, m, c.line, c.path, c.msg)
	}
}

// Free-text categories are mapped to the category set: the category's own
// name in any spelling, a few common other names, else other; the value
// sent is kept in categoryOriginal.
func TestCategoryMapping(t *testing.T) {
	cases := []struct{ sent, category, original string }{
		{"pothole", "pothole", ""},
		{"Fallen tree", "fallen_tree", "Fallen tree"},
		{"STREETLIGHT-OUT", "streetlight_out", "STREETLIGHT-OUT"},
		{"tree_down", "fallen_tree", "tree_down"},
		{"Traffic light", "traffic_signal", "Traffic light"},
		{"Flooding", "flooded_road", "Flooding"},
		{"Maintenance", "other", "Maintenance"},
		{"Aceras", "other", "Aceras"},
		{"Other", "other", "Other"},
	}
	m := New(Config{})
	for i, c := range cases {
		_, p, err := run(t, m, rep(fmt.Sprintf("c%d", i), i*60, fmt.Sprintf(`{"category":%q}`, c.sent)))
		if err != nil {
			t.Errorf("%s: %v", c.sent, err)
			continue
		}
		if p["category"] != c.category || str(p["categoryOriginal"]) != c.original {
			t.Errorf("%s: category %v original %v, want %s %q", c.sent, p["category"], p["categoryOriginal"], c.category, c.original)
		}
	}
	// An Open311 request names its service instead: a service that is a
	// category gives it; another is other, its name kept.
	for props, want := range map[string]string{
		`{"service_code":"pothole","service_name":"Ổ gà"}`:     "pothole/",
		`{"service_code":"234","service_name":"Aceras"}`:       "other/Aceras",
		`{"serviceCode":"CAY-DO"}`:                             "other/CAY-DO",
		`{"service_code":"x","service_name":"Fallen trees"}`:   "fallen_tree/Fallen trees",
		`{"category":"garbage","service_name":"Cây đổ","a":1}`: "garbage/",
	} {
		_, p, err := run(t, m, rep("svc-"+props, 900, props))
		if got := fmt.Sprintf("%v/%s", p["category"], str(p["categoryOriginal"])); err != nil || got != want {
			t.Errorf("%s: %s %v, want %s", props, got, err, want)
		}
	}
	// A later update naming the category itself drops the stale original.
	run(t, m, rep("c6", 1000, `{"category":"fallen_tree"}`))
	if _, p, _ := run(t, m, rep("c6", 1001, `{"status":"assigned"}`)); p["category"] != "fallen_tree" || p["categoryOriginal"] != nil {
		t.Errorf("after recategorising: %v", p)
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// Open311's open and closed and SDM IssueReporting's resolutionStatus are
// mapped to the workflow; illegal moves stay refused, saying what was sent.
func TestStatusVocabularies(t *testing.T) {
	m := New(Config{})
	steps := []struct {
		id      string
		min     int
		props   string
		history string
		orig    string
		errMsg  string
	}{
		{"o", 0, `{"category":"pothole","status":"open"}`, "received@0", "open", ""},
		{"o", 5, `{"status":"Assigned"}`, "received@0 assigned@5", "Assigned", ""},
		{"o", 6, `{"status":"open"}`, "received@0 assigned@5", "open", ""}, // still open: no change
		{"o", 9, `{"status":"In Progress"}`, "received@0 assigned@5 in_progress@9", "In Progress", ""},
		{"o", 10, `{"status":"closed"}`, "received@0 assigned@5 in_progress@9 resolved@10", "closed", ""},
		{"o", 11, `{"status":"closed"}`, "received@0 assigned@5 in_progress@9 resolved@10", "closed", ""},
		{"o", 12, `{"status":"open"}`, "", "", `illegal status transition resolved → received (allowed from resolved: none: resolved is final, a new problem is a new report) (sent as status "open")`},
		{"o", 13, `{"status":"resolved"}`, "received@0 assigned@5 in_progress@9 resolved@10", "", ""},
		// a request closed when it reaches the IOC
		{"c", 0, `{"category":"pothole","status":"closed"}`, "resolved@0", "closed", ""},
		// a rejected report stays rejected when Open311 says closed
		{"r", 0, `{"category":"pothole","status":"rejected"}`, "rejected@0", "", ""},
		{"r", 1, `{"status":"closed"}`, "rejected@0", "closed", ""},
		// SDM IssueReporting: resolutionStatus, used when there is no status
		{"s", 0, `{"category":"Maintenance","resolutionStatus":"Unassigned"}`, "received@0", "Unassigned", ""},
		{"s", 1, `{"resolutionStatus":"Assigned"}`, "received@0 assigned@1", "Assigned", ""},
		{"s", 2, `{"resolutionStatus":"InProgress"}`, "received@0 assigned@1 in_progress@2", "InProgress", ""},
		{"s", 3, `{"resolutionStatus":"Open"}`, "received@0 assigned@1 in_progress@2", "Open", ""},
		{"s", 4, `{"resolutionStatus":"Unassigned"}`, "", "", `illegal status transition in_progress → received`},
		{"s", 5, `{"resolutionStatus":"Closed."}`, "received@0 assigned@1 in_progress@2 resolved@5", "Closed.", ""},
		{"t", 0, `{"category":"other","status":"assigned","resolutionStatus":"Open"}`, "assigned@0", "", ""}, // status wins
	}
	for _, s := range steps {
		_, p, err := run(t, m, rep(s.id, s.min, s.props))
		if s.errMsg != "" {
			if err == nil || !strings.Contains(err.Error(), s.errMsg) {
				t.Errorf("%s %s: error %v, want %q", s.id, s.props, err, s.errMsg)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %s: %v", s.id, s.props, err)
			continue
		}
		if history(p) != s.history || str(p["statusOriginal"]) != s.orig {
			t.Errorf("%s %s: history %s original %v, want %s %q", s.id, s.props, history(p), p["statusOriginal"], s.history, s.orig)
		}
	}
}

// The Smart Data Models examples, placed in Da Nang, become reports.
func TestSmartDataModelsReports(t *testing.T) {
	m := New(Config{})
	_, p, err := run(t, m, rep("urn:ngsi-ld:xYBR:0102", 0, `{"type":"IssueReporting","category":"Maintenance","subCategory":"Road Repair",`+
		`"title":"Road maintenance","mediaURL":"https://imgur.com","resolutionStatus":"Assigned"}`))
	if err != nil || p["category"] != "other" || p["categoryOriginal"] != "Maintenance" || p["status"] != "assigned" || p["resolutionStatus"] != "Assigned" {
		t.Errorf("IssueReporting: %v %v", err, p)
	}
	_, p, err = run(t, m, rep("service-request:638344", 10, `{"type":"service_requests","service_request_id":"638344","status":"closed",`+
		`"status_notes":"Duplicate request.","service_name":"Aceras","service_code":"234","agency_responsible":"Ayuntamiento de Ciudad"}`))
	if err != nil || p["category"] != "other" || p["categoryOriginal"] != "Aceras" || p["status"] != "resolved" || p["open"] != false ||
		p["statusNotes"] != "Duplicate request." || p["agencyResponsible"] != "Ayuntamiento de Ciudad" {
		t.Errorf("service_requests: %v %v", err, p)
	}
}

func TestPossibleDuplicates(t *testing.T) {
	m := New(Config{})
	// about 50 m apart: 0.00045° of latitude
	cases := []struct {
		id        string
		min       int
		lon, lat  float64
		props     string
		duplicate any
	}{
		{"first", 0, 108.2208, 16.0678, `{"category":"flooded_road"}`, nil},
		{"near", 5, 108.2208, 16.06825, `{"category":"flooded_road"}`, "first"},
		{"chain", 8, 108.2208, 16.0688, `{"category":"flooded_road"}`, "first"},  // 50 m from "near", 111 m from first
		{"other-kind", 9, 108.2208, 16.0678, `{"category":"fallen_tree"}`, nil},  // another category
		{"far", 10, 108.2250, 16.0678, `{"category":"flooded_road"}`, nil},       // 450 m away
		{"later", 45, 108.2208, 16.0678, `{"category":"flooded_road"}`, nil},     // 45 minutes later
		{"again", 46, 108.2208, 16.0679, `{"category":"flooded_road"}`, "later"}, // the window moves on
	}
	for _, c := range cases {
		_, p, err := run(t, m, ev(c.id, at(c.min), c.lon, c.lat, c.props))
		if err != nil {
			t.Fatal(err)
		}
		if p["possibleDuplicateOf"] != c.duplicate {
			t.Errorf("%s: possibleDuplicateOf %v, want %v", c.id, p["possibleDuplicateOf"], c.duplicate)
		}
	}
	// a closed report is no longer an original
	run(t, m, rep("later", 47, `{"status":"resolved"}`))
	run(t, m, rep("again", 47, `{"status":"rejected"}`))
	if _, p, _ := run(t, m, ev("after", at(48), 108.2208, 16.0678, `{"category":"flooded_road"}`)); p["possibleDuplicateOf"] != nil {
		t.Errorf("duplicate of a closed report: %v", p["possibleDuplicateOf"])
	}
}

func TestDeleteAndRetention(t *testing.T) {
	m := New(Config{Retention: time.Hour})
	run(t, m, rep("gone", 0, `{"category":"garbage"}`))
	if _, err := m.Process(moduletest.Event(t, `{"layer":"feedback.reports","id":"gone","op":"delete"}`)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, m, rep("gone", 1, `{"status":"assigned"}`)); err == nil {
		t.Error("the report survived its delete")
	}
	run(t, m, rep("closed", 0, `{"category":"garbage","status":"resolved"}`))
	run(t, m, rep("open", 0, `{"category":"garbage"}`))
	for i := range 1000 {
		run(t, m, rep(fmt.Sprint("x", i), 120, `{"category":"other"}`))
	}
	m.mu.Lock()
	_, closedKept := m.reports["closed"]
	_, openKept := m.reports["open"]
	m.mu.Unlock()
	if closedKept || !openKept {
		t.Errorf("retention: closed kept %v, open kept %v", closedKept, openKept)
	}
}

func TestSpecs(t *testing.T) {
	s := Specs()
	if len(s) != 1 || s[0].Name != LayerReports || s[0].StaleAfter != 0 || s[0].Interval != 0 {
		t.Errorf("%+v", s)
	}
}

func TestConcurrentProcess(t *testing.T) {
	m := New(Config{})
	statuses := []string{"received", "assigned", "in_progress", "resolved"}
	moduletest.Concurrent(t, m, 200, func(g, i int) []string {
		props := fmt.Sprintf(`{"category":"flooded_road","status":%q}`, statuses[i%4])
		return []string{rep(fmt.Sprintf("r%d-%d", g, i/4), i, props)}
	})
}

func BenchmarkProcess(b *testing.B) {
	const n = 1000
	events := make([]layers.Event, n)
	statuses := []string{"received", "assigned", "in_progress", "resolved"}
	for i := range events {
		id := fmt.Sprintf("gopy-%05d", i/4)
		events[i] = moduletest.Event(b, ev(id, at(i), 108.15+float64(i%97)/1000, 16.0+float64(i%89)/1000, fmt.Sprintf(
			`{"category":"flooded_road","channel":"app","status":%q,"description":"Nước ngập sâu 40cm","mediaURL":"https://gopy.danang.gov.vn/m/%d.jpg"}`,
			statuses[i%4], i)))
	}
	// Each pass replays the same reports from scratch.
	moduletest.BenchFresh(b, func() streams.Module { return New(Config{}) }, events)
}
