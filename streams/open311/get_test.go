package open311

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// seed fills the layer with reports from Open311 and from other channels,
// some of them moved on by the feedback workflow, and sets the clock to
// t0+1h. Ids by requested time, newest first:
//
//	DN-20261127-0003  t0       garbage          open311  received
//	weird-0001        t0-5m    (bad types)      -        -
//	hotline-0001      t0-20m   flooded_road     hotline  rejected
//	gopy-0001         t0-30m   fallen_tree      app      assigned
//	DN-20261127-0002  t0-1h    pothole          open311  resolved at t0+10m
//	DN-20261127-0001  t0-2h    flooded_road     open311  received
//	gopy 2026.1       t0-3h    garbage          app      in_progress
//	gopy/7            t0-4h    streetlight_out  web      received
//	old-0001          t0-100d  pothole          app      resolved
func seed(e *env) {
	e.clock.Set(t0.Add(-2 * time.Hour))
	e.postID("service_code=flooded_road&lat=16.0678&long=108.2208&description=Ng%E1%BA%ADp+40+cm")
	e.clock.Set(t0.Add(-time.Hour))
	e.postID("service_code=pothole&lat=16.0544&long=108.2022")
	e.clock.Set(t0)
	e.postID("service_code=garbage&lat=16.0471&long=108.2425")
	e.apply("DN-20261127-0002", t0.Add(10*time.Minute), 108.2022, 16.0544,
		`{"category":"pothole","serviceCode":"pothole","status":"resolved","channel":"open311",`+
			`"dateCreated":"2026-11-27T07:30:00+07:00","statusNotes":"Đã vá ổ gà.","agencyResponsible":"Sở Xây dựng"}`)
	e.apply("gopy-0001", t0.Add(-30*time.Minute), 108.2150, 16.0700,
		`{"category":"fallen_tree","channel":"app","status":"assigned","mediaURL":"https://gopy.danang.gov.vn/m/1.jpg",`+
			`"address":{"streetAddress":"Lê Duẩn","district":"Hải Châu","addressLocality":"Đà Nẵng","postalCode":"550000"},`+
			`"dateExpected":"2026-11-27T12:00:00+07:00"}`)
	e.apply("hotline-0001", t0.Add(-20*time.Minute), 108.1700, 16.0200,
		`{"category":"flooded_road","channel":"hotline","status":"rejected","address":"Hòa Xuân, Cẩm Lệ"}`)
	e.apply("weird-0001", t0.Add(-5*time.Minute), 108.2, 16.05, `{"category":5,"status":["x"],"description":{"a":1},"dateCreated":"yesterday"}`)
	e.apply("gopy 2026.1", t0.Add(-3*time.Hour), 108.21, 16.06, `{"category":"garbage","channel":"app","status":"in_progress"}`)
	e.apply("gopy/7", t0.Add(-4*time.Hour), 108.22, 16.07, `{"category":"streetlight_out","channel":"web","status":"received"}`)
	e.apply("old-0001", t0.Add(-100*24*time.Hour), 108.2, 16.05, `{"category":"pothole","channel":"app","status":"resolved"}`)
	e.clock.Set(t0.Add(time.Hour))
}

func TestGetRequestsFilters(t *testing.T) {
	e := newEnv(t, nil)
	seed(e)
	const all = "DN-20261127-0003,weird-0001,hotline-0001,gopy-0001,DN-20261127-0002,DN-20261127-0001,gopy 2026.1,gopy/7"
	for _, tc := range []struct {
		name, query, want string
	}{
		{"default window", "", all},
		{"status open", "status=open", "DN-20261127-0003,weird-0001,gopy-0001,DN-20261127-0001,gopy 2026.1,gopy/7"},
		{"status closed", "status=closed", "hotline-0001,DN-20261127-0002"},
		{"status both", "status=open,closed", all},
		{"status upper case", "status=CLOSED", "hotline-0001,DN-20261127-0002"},
		{"service_code", "service_code=flooded_road", "hotline-0001,DN-20261127-0001"},
		{"service_code list", "service_code=pothole,+garbage", "DN-20261127-0003,DN-20261127-0002,gopy 2026.1"},
		{"service_code unknown", "service_code=graffiti", ""},
		{"bad types read as other", "service_code=other", "weird-0001"},
		{"code and status", "service_code=flooded_road&status=open", "DN-20261127-0001"},
		{"start_date", "start_date=2026-11-27T07:00:00%2B07:00", "DN-20261127-0003,weird-0001,hotline-0001,gopy-0001,DN-20261127-0002"},
		{"end_date UTC", "end_date=2026-11-27T00:45:00Z", "DN-20261127-0002,DN-20261127-0001,gopy 2026.1,gopy/7"},
		{"window without seconds, inclusive", "start_date=2026-11-27T07:00%2B07:00&end_date=2026-11-27T08:00%2B07:00", "gopy-0001,DN-20261127-0002"},
		{"date only", "start_date=2026-08-19&end_date=2026-08-19", "old-0001"},
		{"ids override filters", "service_request_id=DN-20261127-0002,old-0001,nope,DN-20261127-0002&status=open&start_date=2026-11-27", "DN-20261127-0002,old-0001"},
		{"ids with spaces", "service_request_id=+gopy-0001+,", "gopy-0001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := requestIDs(requests(t, e.get(BasePath+"/requests.json?"+tc.query)))
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestGetRequestsQueryErrors(t *testing.T) {
	e := newEnv(t, nil)
	seed(e)
	for _, tc := range []struct{ query, want string }{
		{"status=pending", `status: "pending" is not a status: use open, closed`},
		{"start_date=2026-11-27T08:00:00", "start_date: \"2026-11-27T08:00:00\" is not a W3C datetime: it has no time zone"},
		{"end_date=27/11/2026", "end_date: \"27/11/2026\" is not a W3C datetime (e.g."},
		{"start_date=2026-11-27&end_date=2026-11-01", "end_date: 2026-11-01 is before start_date 2026-11-27"},
		{"start_date=2026-01-01&end_date=2026-12-01", "the window from start_date to end_date is 335 days, at most 90 days"},
		{"status=open&status=closed", "status: given 2 times"},
	} {
		msgs := specErrors(t, e.get(BasePath+"/requests.json?"+tc.query), http.StatusBadRequest)
		if !strings.Contains(msgs[0], tc.want) {
			t.Errorf("%s: %q, want %q", tc.query, msgs[0], tc.want)
		}
	}
	// Repeats collapse: 1001 times one id is one id; 1001 different ids are too many.
	requests(t, e.get(BasePath+"/requests.json?service_request_id="+strings.Repeat("a,", 1001)))
	var many []string
	for i := range 1001 {
		many = append(many, "id-"+strconv.Itoa(i))
	}
	msgs := specErrors(t, e.get(BasePath+"/requests.json?service_request_id="+strings.Join(many, ",")), http.StatusBadRequest)
	if !strings.Contains(msgs[0], "lists 1001 ids, at most 1000") {
		t.Errorf("%q", msgs[0])
	}
}

func TestGetRequestsLimit(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxResults = 3 })
	seed(e)
	rec := e.get(BasePath + "/requests.json")
	if got := requestIDs(requests(t, rec)); got != "DN-20261127-0003,weird-0001,hotline-0001" {
		t.Errorf("got %s", got)
	}
	if rec.Header().Get("X-Open311-Truncated") != "true" {
		t.Error("a cut answer must say so")
	}
	rec = e.get(BasePath + "/requests.json?status=closed")
	if rec.Header().Get("X-Open311-Truncated") != "" {
		t.Error("an answer that was not cut says it was")
	}
}

func TestGetRequestsEmpty(t *testing.T) {
	e := newEnv(t, nil) // no report yet: the layer does not exist
	if rec := e.get(BasePath + "/requests.json"); rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != "[]" {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
	if rec := e.get(BasePath + "/requests.json?service_request_id=x"); strings.TrimSpace(rec.Body.String()) != "[]" {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
	specErrors(t, e.get(BasePath+"/requests/x.json"), http.StatusNotFound)
}

func TestGetRequestOne(t *testing.T) {
	e := newEnv(t, nil)
	id := e.postID(readTestdata(t, "post-all-fields.form"))
	e.clock.Set(t0.Add(time.Minute))
	rec := e.get(BasePath + "/requests/" + id + ".json")
	// Every field of the spec, in its order, null when unknown.
	var raw []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil || len(raw) != 1 {
		t.Fatalf("%v: %s", err, rec.Body)
	}
	want := "address,address_id,agency_responsible,description,expected_datetime,lat,long,media_url,requested_datetime," +
		"service_code,service_name,service_notice,service_request_id,status,status_notes,updated_datetime,zipcode"
	if got := sortedKeys(raw[0]); got != want {
		t.Errorf("members %s\nwant    %s", got, want)
	}
	golden(t, "request.golden.json", rec.Body.Bytes())
	if e.counter("get_request", "200") != 1 {
		t.Error("not counted")
	}
}

func TestGetRequestFields(t *testing.T) {
	e := newEnv(t, nil)
	seed(e)
	one := func(path string, header ...string) requestJSON {
		t.Helper()
		rs := requests(t, e.get(BasePath+"/requests/"+path, header...))
		if len(rs) != 1 {
			t.Fatalf("%s: %d elements, want 1", path, len(rs))
		}
		return rs[0]
	}
	r := one("DN-20261127-0002.json")
	if r.Status != "closed" || val(r.StatusNotes) != "Đã vá ổ gà." || val(r.AgencyResponsible) != "Sở Xây dựng" ||
		r.RequestedDatetime != "2026-11-27T07:30:00+07:00" || r.UpdatedDatetime != "2026-11-27T08:40:00+07:00" ||
		r.Lat != 16.0544 || r.Long != 108.2022 || val(r.ServiceName) != "Ổ gà, hư hỏng mặt đường" {
		t.Errorf("resolved report: %+v", r)
	}
	r = one("gopy-0001.json", "Accept-Language", "en")
	if r.Status != "open" || r.ServiceCode != "fallen_tree" || val(r.ServiceName) != "Fallen tree" ||
		val(r.Address) != "Lê Duẩn, Hải Châu, Đà Nẵng" || val(r.Zipcode) != "550000" ||
		val(r.ExpectedDatetime) != "2026-11-27T12:00:00+07:00" || val(r.MediaURL) != "https://gopy.danang.gov.vn/m/1.jpg" ||
		r.RequestedDatetime != "2026-11-27T08:00:00+07:00" || val(r.ServiceNotice) != DefaultNoticeEN {
		t.Errorf("app report: %+v", r)
	}
	r = one("weird-0001.json")
	if r.ServiceCode != "other" || r.Status != "open" || r.Description != nil || r.RequestedDatetime != "2026-11-27T08:25:00+07:00" {
		t.Errorf("report with odd property types: %+v", r)
	}
	if r = one("gopy%202026.1.json"); r.ServiceRequestID != "gopy 2026.1" {
		t.Errorf("id with a space and a dot: %+v", r)
	}
	if r = one("gopy%2F7.json"); r.ServiceRequestID != "gopy/7" {
		t.Errorf("id with a slash: %+v", r)
	}
	msgs := specErrors(t, e.get(BasePath+"/requests/DN-19990101-0001.json"), http.StatusNotFound)
	if msgs[0] != `service_request_id "DN-19990101-0001" is not known` {
		t.Errorf("%q", msgs[0])
	}
	specErrors(t, e.get(BasePath+"/requests/DN-20261127-0001"), http.StatusBadRequest)
	if e.counter("get_request", "404") != 1 {
		t.Error("404 not counted")
	}
}

func val(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func TestStatusMapping(t *testing.T) {
	for status, closed := range map[string]bool{
		StatusReceived: false, StatusAssigned: false, StatusInProgress: false,
		StatusResolved: true, StatusRejected: true, "closed": true, "Resolved": true, "": false, "unknown": false,
	} {
		if isClosed(status) != closed {
			t.Errorf("isClosed(%q) = %v", status, !closed)
		}
	}
}

// TestConcurrentOverHTTP files and reads requests from many clients at once
// through a real HTTP server, as curl would.
func TestConcurrentOverHTTP(t *testing.T) {
	e := newEnv(t, nil)
	srv := httptest.NewServer(e.router)
	defer srv.Close()
	const clients, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, clients*each*2)
	for c := range clients {
		wg.Go(func() {
			for i := range each {
				form := url.Values{"service_code": {"flooded_road"}, "lat": {strconv.FormatFloat(16.05+float64(c)/100, 'f', 4, 64)},
					"long": {strconv.FormatFloat(108.2+float64(i)/100, 'f', 4, 64)}, "description": {"Ngập"}}
				resp, err := http.PostForm(srv.URL+BasePath+"/requests.json", form)
				if err != nil {
					errs <- err
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("POST: %d", resp.StatusCode)
				}
				if resp, err = http.Get(srv.URL + BasePath + "/requests.json?status=open"); err == nil {
					resp.Body.Close()
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(requests(t, e.get(BasePath+"/requests.json"))); got != clients*each {
		t.Errorf("%d requests listed, want %d", got, clients*each)
	}
}
