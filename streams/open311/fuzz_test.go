package open311

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/twpayne/go-geom"
)

// FuzzPostRequest feeds arbitrary bodies and Content-Types to the form
// decoder and validation, then to the whole POST handler: nothing may
// panic, a refusal is a spec error array, and an accepted form makes a
// valid event.
func FuzzPostRequest(f *testing.F) {
	f.Add(formType, readTestdata(f, "post-all-fields.form"))
	f.Add(formType, "service_code=pothole&lat=16.0678&long=108.2208")
	f.Add(formType, "service_code=pothole&lat=108.2208&long=16.0678")
	f.Add(formType, "service_code=x&lat=NaN&long=1e400&attribute[a][]=1&attribute[a]=2&attribute[=&email=%00")
	f.Add(formType+"; charset=latin1", "service_code=%zz;")
	f.Add("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"service_code\"\r\n\r\npothole\r\n--b--\r\n")
	f.Add("application/json", `{"service_code":"pothole"}`)
	e := newEnv(f, nil)
	f.Fuzz(func(t *testing.T, contentType, body string) {
		if v, ferr := decodeForm(contentType, []byte(body)); ferr == nil {
			if rep, errs := e.api.parseReport(v); errs == nil {
				checkEvent(t, e, rep)
			} else {
				for _, se := range errs {
					if se.Code != http.StatusBadRequest && se.Code != http.StatusNotFound || !utf8.ValidString(se.Description) {
						t.Fatalf("error %+v", se)
					}
				}
			}
		}
		rec := e.do(newPost(BasePath+"/requests.json", contentType, body))
		if rec.Code == http.StatusOK {
			var resp []postResponse
			mustJSON(t, rec.Body.Bytes(), &resp)
			return
		}
		var errs []SpecError
		mustJSON(t, rec.Body.Bytes(), &errs)
		if len(errs) == 0 {
			t.Fatalf("%d without errors", rec.Code)
		}
	})
}

func checkEvent(t *testing.T, e *env, rep *Report) {
	ev := e.api.event(rep, "DN-FUZZ", t0)
	p, ok := ev.Geometry.(*geom.Point)
	if !ok || !e.api.cfg.Area.ContainsPoint(p.X(), p.Y()) {
		t.Fatalf("geometry %#v outside the area", ev.Geometry)
	}
	var props map[string]any
	if err := json.Unmarshal(ev.Properties, &props); err != nil || !utf8.Valid(ev.Properties) {
		t.Fatalf("properties %q: %v", ev.Properties, err)
	}
	if d, _ := props["description"].(string); utf8.RuneCountInString(d) > maxDescription {
		t.Fatalf("description of %d characters", utf8.RuneCountInString(d))
	}
	if u, _ := props["mediaURL"].(string); u != "" && !strings.HasPrefix(strings.ToLower(u), "http") {
		t.Fatalf("mediaURL %q", u)
	}
}

// FuzzListRequests: no query string makes GET requests.json panic or
// answer anything but 200 or a 400 spec error.
func FuzzListRequests(f *testing.F) {
	for _, q := range []string{"", "status=open,closed", "start_date=2026-11-27&end_date=2026-11-28",
		"service_request_id=a,,b", "start_date=2026-11-27T08:00:00", "end_date=9999-99-99", "status=%ff"} {
		f.Add(q)
	}
	e := newEnv(f, nil)
	seed(e)
	f.Fuzz(func(t *testing.T, query string) {
		req, err := http.NewRequest(http.MethodGet, BasePath+"/requests.json", nil)
		if err != nil {
			t.Skip()
		}
		req.URL.RawQuery = query
		rec := e.do(req)
		switch rec.Code {
		case http.StatusOK:
			requests(t, rec)
		case http.StatusBadRequest:
			specErrors(t, rec, http.StatusBadRequest)
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}
