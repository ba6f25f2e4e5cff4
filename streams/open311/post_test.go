package open311

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
)

func TestPostAllFields(t *testing.T) {
	e := newEnv(t, nil)
	rec := e.post(formType+"; charset=utf-8", readTestdata(t, "post-all-fields.form"))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	want := `[{"service_request_id":"DN-20261127-0001","service_notice":"` + DefaultNotice + `","account_id":"acc-42"}]`
	if got := strings.TrimSpace(rec.Body.String()); got != want {
		t.Errorf("answer\n%s\nwant\n%s", got, want)
	}
	evs := e.events()
	if len(evs) != 1 {
		t.Fatalf("%d events published, want 1", len(evs))
	}
	ev := evs[0]
	if ev.Layer != "feedback.reports" || ev.ID != "DN-20261127-0001" || ev.Op != layers.OpUpsert || !ev.Time.Equal(t0) {
		t.Errorf("event %s/%s op %v time %v", ev.Layer, ev.ID, ev.Op, ev.Time)
	}
	p, ok := ev.Geometry.(*geom.Point)
	if !ok || p.X() != 108.2208 || p.Y() != 16.0678 {
		t.Errorf("geometry %#v, want Point [108.2208, 16.0678] ([long, lat])", ev.Geometry)
	}
	// Contact fields are personal data and are not kept by default.
	wantProps := `{"category":"flooded_road","serviceCode":"flooded_road","status":"received","channel":"open311",` +
		`"description":"Nước ngập sâu khoảng 40 cm, xe máy chết máy.\nCần cắm biển.",` +
		`"mediaURL":"https://media.example.vn/gopy/2026/0001.jpg","address":"12 Bạch Đằng, Hải Châu, Đà Nẵng",` +
		`"addressId":"HC-BD-12","attributes":{"DEPTH_CM":"40","VEHICLES":["motorbike","car"]},` +
		`"dateCreated":"2026-11-27T08:30:00+07:00"}`
	if string(ev.Properties) != wantProps {
		t.Errorf("properties\n%s\nwant\n%s", ev.Properties, wantProps)
	}
	if f := e.store.Layer(DefaultLayer).Get("DN-20261127-0001"); f == nil {
		t.Error("the report is not in the layer")
	}
	if e.counter("post_request", "200") != 1 {
		t.Errorf("ioc_open311_requests_total{endpoint=post_request,code=200} = %v", e.counter("post_request", "200"))
	}
}

func TestPostKeepContact(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.KeepContact = true })
	e.postID(readTestdata(t, "post-all-fields.form"))
	props := string(e.events()[0].Properties)
	want := `"contact":{"email":"nguyen.van.a@example.vn","firstName":"Văn A","lastName":"Nguyễn",` +
		`"phone":"+84 905 123 456","deviceId":"dev-7f3a","accountId":"acc-42"}`
	if !strings.Contains(props, want) {
		t.Errorf("properties %s\nlack %s", props, want)
	}
}

func TestPostMinimalAndNotice(t *testing.T) {
	e := newEnv(t, nil)
	req := newPost(BasePath+"/requests.json", formType, "service_code=trapped_people&lat=16.03&long=108.21")
	req.Header.Set("Accept-Language", "en")
	rec := e.do(req)
	var resp []map[string]any
	mustJSON(t, rec.Body.Bytes(), &resp)
	if rec.Code != http.StatusOK || len(resp) != 1 || resp[0]["account_id"] != nil {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if n, _ := resp[0]["service_notice"].(string); !strings.Contains(n, "call 112") {
		t.Errorf("service_notice %q should point to the emergency numbers", n)
	}
	want := `{"category":"trapped_people","serviceCode":"trapped_people","status":"received","channel":"open311",` +
		`"dateCreated":"2026-11-27T08:30:00+07:00"}`
	if got := string(e.events()[0].Properties); got != want {
		t.Errorf("properties %s, want %s", got, want)
	}
}

func TestPostFieldErrors(t *testing.T) {
	const loc = "&lat=16.0678&long=108.2208"
	for _, tc := range []struct {
		name, form string
		status     int
		want       []string // one substring per expected error
	}{
		{"missing service_code", "lat=16.0678&long=108.2208", 400, []string{"service_code: is required: one of flooded_road"}},
		{"empty service_code", "service_code=+" + loc, 400, []string{"service_code: is required"}},
		{"unknown service_code", "service_code=graffiti" + loc, 404, []string{`service_code: "graffiti" is not a service of this server: one of flooded_road`}},
		{"service_code twice", "service_code=pothole&service_code=garbage" + loc, 400, []string{"service_code: given 2 times"}},
		{"same service_code twice", "service_code=pothole&service_code=pothole" + loc, 200, nil},
		{"no location", "service_code=pothole", 400, []string{"lat: lat and long are required (WGS 84"}},
		{"address only", "service_code=pothole&address_string=12+B%E1%BA%A1ch+%C4%90%E1%BA%B1ng", 400, []string{"cannot geocode address_string"}},
		{"address_id only", "service_code=pothole&address_id=HC-1", 400, []string{"cannot geocode"}},
		{"latitude/longitude names", "service_code=pothole&latitude=16&longitude=108", 400, []string{"found latitude: Open311 names the fields lat and long"}},
		{"lat only", "service_code=pothole&lat=16.0678", 400, []string{"long: is required with lat"}},
		{"long only", "service_code=pothole&long=108.2208", 400, []string{"lat: is required with long"}},
		{"lat out of range", "service_code=pothole&lat=95&long=108.2", 400, []string{"lat/long: lat 95 is out of range [-90, 90]"}},
		{"long out of range", "service_code=pothole&lat=16&long=181", 400, []string{"long 181 is out of range [-180, 180]"}},
		{"swapped", "service_code=pothole&lat=108.2208&long=16.0678", 400, []string{"lat 108.2208 is out of range [-90, 90] but long 16.0678 would be a latitude: lat and long look swapped"}},
		{"outside Da Nang", "service_code=pothole&lat=21.0285&long=105.8542", 400, []string{"outside the service area (107,14.8,109,16.5"}},
		{"null island", "service_code=pothole&lat=0&long=0", 400, []string{"outside the service area"}},
		{"comma decimal", "service_code=pothole&lat=16%2C0678&long=108.2208", 400, []string{`lat: "16,0678" is not a number: use a point, not a comma`}},
		{"NaN", "service_code=pothole&lat=NaN&long=108.2208", 400, []string{`lat: "NaN" is not a number`}},
		{"Inf", "service_code=pothole&lat=16&long=Inf", 400, []string{`long: "Inf" is not a number`}},
		{"hex float", "service_code=pothole&lat=0x1p4&long=108.2", 400, []string{`lat: "0x1p4" is not a number`}},
		{"description 4000", "service_code=pothole" + loc + "&description=" + strings.Repeat("%E1%BA%A1", 4000), 200, nil},
		{"description 4001", "service_code=pothole" + loc + "&description=" + strings.Repeat("a", 4001), 400, []string{"description: is 4001 characters long, at most 4000"}},
		{"description not UTF-8", "service_code=pothole" + loc + "&description=%C3%28", 400, []string{"description: is not valid UTF-8"}},
		{"control character", "service_code=pothole" + loc + "&first_name=A%00B", 400, []string{"first_name: has control character U+0000"}},
		{"media_url javascript", "service_code=pothole" + loc + "&media_url=javascript%3Aalert(1)", 400, []string{"media_url: \"javascript:alert(1)\" is not an http or https URL"}},
		{"media_url relative", "service_code=pothole" + loc + "&media_url=%2Fphoto.jpg", 400, []string{"not an http or https URL"}},
		{"media_url no host", "service_code=pothole" + loc + "&media_url=http%3A%2F%2F%2Fx", 400, []string{"has no host"}},
		{"email", "service_code=pothole" + loc + "&email=not-an-address", 400, []string{`email: "not-an-address" is not an email address`}},
		{"email with name", "service_code=pothole" + loc + "&email=A+%3Ca%40b.vn%3E", 400, []string{"is not an email address"}},
		{"phone", "service_code=pothole" + loc + "&phone=call+me", 400, []string{"phone: \"call me\" is not a phone number"}},
		{"attribute key", "service_code=pothole" + loc + "&attribute%5BX=1", 400, []string{`"attribute[X": attributes are sent as attribute[CODE]=value`}},
		{"attribute code", "service_code=pothole" + loc + "&attribute%5Ba+b%5D=1", 400, []string{"the attribute code has ' '"}},
		{"several errors", "service_code=graffiti&lat=95&long=108.2&email=x", 400, []string{"service_code:", "lat/long:", "email:"}},
		{"api_key and jurisdiction_id ignored", "api_key=anything&jurisdiction_id=elsewhere.gov&service_code=pothole" + loc, 200, nil},
		{"unknown fields ignored", "service_code=pothole" + loc + "&zipcode=550000&foo=bar", 200, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			rec := e.post(formType, tc.form)
			if tc.status == http.StatusOK {
				if rec.Code != http.StatusOK {
					t.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				return
			}
			msgs := specErrors(t, rec, tc.status)
			if len(msgs) != len(tc.want) {
				t.Fatalf("errors %q, want %d", msgs, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(msgs[i], w) {
					t.Errorf("error %q, want it to contain %q", msgs[i], w)
				}
			}
			if n := len(e.events()); n != 0 {
				t.Errorf("%d events published for a refused request", n)
			}
		})
	}
}

func TestPostSwappedInsideRange(t *testing.T) {
	// Where both orders are valid positions, only the service area tells.
	e := newEnv(t, func(c *Config) { c.Area = geo.Rect{MinX: 100, MinY: 8, MaxX: 110, MaxY: 24} })
	msgs := specErrors(t, e.post(formType, "service_code=pothole&lat=108.2&long=16.07"), http.StatusBadRequest)
	if !strings.Contains(msgs[0], "look swapped") {
		t.Errorf("%q", msgs[0])
	}
	e = newEnv(t, func(c *Config) { c.Area = geo.Rect{MinX: 10, MinY: 10, MaxX: 20, MaxY: 50} })
	msgs = specErrors(t, e.post(formType, "service_code=pothole&lat=15&long=45"), http.StatusBadRequest)
	if !strings.Contains(msgs[0], "outside the service area (10,10,20,50 as west,south,east,north) but inside it with the two exchanged") {
		t.Errorf("%q", msgs[0])
	}
	e = newEnv(t, func(c *Config) { c.Area = geo.World })
	e.postID("service_code=pothole&lat=-33.86&long=151.21")
}

func TestPostBodyErrors(t *testing.T) {
	const form = "service_code=pothole&lat=16.0678&long=108.2208"
	for _, tc := range []struct {
		name, contentType, encoding, body string
		status                            int
		want                              string
	}{
		{"JSON", "application/json", "", `{"service_code":"pothole","lat":16.0678,"long":108.2208}`, 415,
			"Content-Type application/json is not supported: Open311 GeoReport v2 sends service requests as a form"},
		{"no Content-Type", "", "", form, 415, "the Content-Type header is missing"},
		{"text/plain", "text/plain", "", form, 415, `Content-Type "text/plain" is not supported`},
		{"bad Content-Type", "application/x-www-form-urlencoded; =", "", form, 415, "cannot be parsed"},
		{"latin-1", formType + "; charset=iso-8859-1", "", form, 415, `charset "iso-8859-1" is not supported`},
		{"gzip", formType, "gzip", form, 415, `Content-Encoding "gzip" is not supported`},
		{"semicolon", formType, "", "service_code=pothole;lat=16", 400, "not a valid URL-encoded form"},
		{"bad escape", formType, "", "service_code=%zz", 400, "not a valid URL-encoded form"},
		{"too large", formType, "", form + "&description=" + strings.Repeat("a", 1<<20), 413, "larger than 1048576 bytes"},
		{"multipart without boundary", "multipart/form-data", "", form, 400, "without a boundary"},
		{"multipart broken", "multipart/form-data; boundary=xyz", "", form, 400, "not valid multipart/form-data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			req := newPost(BasePath+"/requests.json", tc.contentType, tc.body)
			if tc.encoding != "" {
				req.Header.Set("Content-Encoding", tc.encoding)
			}
			msgs := specErrors(t, e.do(req), tc.status)
			if !strings.Contains(msgs[0], tc.want) {
				t.Errorf("%q, want it to contain %q", msgs[0], tc.want)
			}
		})
	}
}

func multipartBody(t *testing.T, fields map[string]string, file bool) (string, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if file {
		fw, err := mw.CreateFormFile("media", "photo.jpg")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write([]byte{0xff, 0xd8, 0xff})
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), buf.String()
}

func TestPostMultipart(t *testing.T) {
	e := newEnv(t, nil)
	fields := map[string]string{"service_code": "garbage", "lat": "16.06", "long": "108.24", "description": "Rác tồn đọng"}
	ct, body := multipartBody(t, fields, false)
	rec := e.post(ct, body)
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(string(e.events()[0].Properties), `"description":"Rác tồn đọng"`) {
		t.Errorf("properties %s", e.events()[0].Properties)
	}
	ct, body = multipartBody(t, fields, true)
	msgs := specErrors(t, e.post(ct, body), http.StatusBadRequest)
	if !strings.Contains(msgs[0], `field "media" is a file: uploads are not supported`) {
		t.Errorf("%q", msgs[0])
	}
}

func TestPostModuleRefusal(t *testing.T) {
	e := newEnv(t, nil)
	refuse := procFunc(func(ev layers.Event) ([]layers.Event, error) {
		return nil, &streams.EventError{Reason: streams.ReasonInvalidProperties, Path: "properties.status", Msg: "no transition from nothing to received"}
	})
	bus := streams.NewLocalBus(func(evs []layers.Event) { e.store.Apply(evs) })
	e.api.intake = streams.NewIntake(refuse, bus)
	msgs := specErrors(t, e.post(formType, "service_code=pothole&lat=16.0678&long=108.2208"), http.StatusBadRequest)
	if msgs[0] != "the report was refused: properties.status: no transition from nothing to received" {
		t.Errorf("%q", msgs[0])
	}
}

func TestPostBusFailure(t *testing.T) {
	e := newEnv(t, nil)
	e.api.intake = streams.NewIntake(nil, failingBus{})
	rec := e.post(formType, "service_code=pothole&lat=16.0678&long=108.2208")
	msgs := specErrors(t, rec, http.StatusServiceUnavailable)
	if rec.Header().Get("Retry-After") != "1" || !strings.Contains(msgs[0], "retry later") {
		t.Errorf("Retry-After %q, %q", rec.Header().Get("Retry-After"), msgs[0])
	}
	if e.counter("post_request", "503") != 1 {
		t.Error("503 not counted")
	}
	e.api.intake = nil
	specErrors(t, e.post(formType, "service_code=pothole&lat=16.0678&long=108.2208"), http.StatusServiceUnavailable)
}

func TestPostIDs(t *testing.T) {
	ids := []string{"DN-A", "DN-A", "DN-B", "bad/id"}
	e := newEnv(t, func(c *Config) {
		c.NewID = func(time.Time) string { id := ids[0]; ids = ids[1:]; return id }
	})
	const form = "service_code=pothole&lat=16.0678&long=108.2208"
	if id := e.postID(form); id != "DN-A" {
		t.Errorf("first id %s", id)
	}
	if id := e.postID(form); id != "DN-B" {
		t.Errorf("an id in use must be drawn again: got %s, want DN-B", id)
	}
	specErrors(t, e.post(formType, form), http.StatusInternalServerError)

	e = newEnv(t, func(c *Config) { c.NewID = func(time.Time) string { return "DN-SAME" } })
	e.postID(form)
	msgs := specErrors(t, e.post(formType, form), http.StatusInternalServerError)
	if !strings.Contains(msgs[0], "already in use 5 times") {
		t.Errorf("%q", msgs[0])
	}
}

func TestRandomID(t *testing.T) {
	seen := map[string]bool{}
	at := time.Date(2026, 11, 27, 23, 59, 0, 0, time.FixedZone("ICT", 7*3600))
	for range 1000 {
		id := RandomID(at)
		if len(id) != 20 || !strings.HasPrefix(id, "DN-20261127-") || strings.ContainsAny(id[12:], "ILOU") {
			t.Fatalf("id %q", id)
		}
		if seen[id] {
			t.Fatalf("id %q drawn twice", id)
		}
		seen[id] = true
	}
	e := newEnv(t, func(c *Config) { c.NewID = nil })
	if id := e.postID("service_code=pothole&lat=16.0678&long=108.2208"); !strings.HasPrefix(id, "DN-20261127-") {
		t.Errorf("default id %q", id)
	}
}

func TestDecodeFormValues(t *testing.T) {
	v, ferr := decodeForm(formType, []byte(readTestdata(t, "post-all-fields.form")))
	if ferr != nil {
		t.Fatal(ferr.msg)
	}
	want := url.Values{"attribute[VEHICLES][]": {"motorbike", "car"}}
	if got := v["attribute[VEHICLES][]"]; strings.Join(got, ",") != strings.Join(want["attribute[VEHICLES][]"], ",") {
		t.Errorf("multivaluelist %q", got)
	}
}
