package open311

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestServiceList(t *testing.T) {
	e := newEnv(t, nil)
	rec := e.get(BasePath + "/services.json")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	// The spec's shape: a bare array of objects with exactly these members.
	var raw []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	wantKeys := "description,group,keywords,metadata,service_code,service_name,type"
	var codes []string
	for _, s := range raw {
		if got := sortedKeys(s); got != wantKeys {
			t.Errorf("service %v has members %s, want %s", s["service_code"], got, wantKeys)
		}
		if s["metadata"] != false || s["type"] != "realtime" {
			t.Errorf("service %v: metadata %v type %v, want false and realtime", s["service_code"], s["metadata"], s["type"])
		}
		for _, k := range []string{"service_code", "service_name", "description", "keywords", "group"} {
			if v, _ := s[k].(string); v == "" {
				t.Errorf("service %v: %s is %v, want a non-empty string", s["service_code"], k, s[k])
			}
		}
		codes = append(codes, s["service_code"].(string))
	}
	// One service per category of the feedback module.
	want := "flooded_road,fallen_tree,power_line_down,trapped_people,garbage,streetlight_out,traffic_signal,pothole,other"
	if got := strings.Join(codes, ","); got != want {
		t.Errorf("codes %s, want %s", got, want)
	}
	golden(t, "services.golden.json", rec.Body.Bytes())
	if e.counter("services", "200") != 1 {
		t.Errorf("ioc_open311_requests_total{endpoint=services,code=200} = %v, want 1", e.counter("services", "200"))
	}
}

func sortedKeys(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(keys, ",")
}

func TestServiceListLanguage(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct {
		accept, want string
	}{
		{"", "Đường ngập nước"},
		{"vi-VN,vi;q=0.9,en;q=0.8", "Đường ngập nước"},
		{"en-US,en;q=0.9", "Flooded road"},
		{"EN", "Flooded road"},
		{"fr", "Đường ngập nước"},
	} {
		var list []serviceJSON
		mustJSON(t, e.get(BasePath+"/services.json", "Accept-Language", tc.accept).Body.Bytes(), &list)
		if list[0].ServiceName != tc.want {
			t.Errorf("Accept-Language %q: service_name %q, want %q", tc.accept, list[0].ServiceName, tc.want)
		}
	}
}

func TestServiceDefinition(t *testing.T) {
	e := newEnv(t, nil)
	rec := e.get(BasePath + "/services/pothole.json")
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"service_code":"pothole","attributes":[]}` {
		t.Errorf("services/pothole.json: %d %s", rec.Code, rec.Body)
	}
	msgs := specErrors(t, e.get(BasePath+"/services/graffiti.json"), http.StatusNotFound)
	if !strings.Contains(msgs[0], `"graffiti" is not a service`) || !strings.Contains(msgs[0], "flooded_road") {
		t.Errorf("unknown service: %q", msgs[0])
	}
	specErrors(t, e.get(BasePath+"/services/pothole"), http.StatusBadRequest)
}

func TestXMLIsRefused(t *testing.T) {
	e := newEnv(t, nil)
	for _, path := range []string{"/services.xml", "/services/pothole.xml", "/requests.xml", "/requests/DN-1.xml"} {
		msgs := specErrors(t, e.get(BasePath+path), http.StatusBadRequest)
		if !strings.Contains(msgs[0], "JSON only") {
			t.Errorf("%s: %q", path, msgs[0])
		}
	}
	rec := e.post(formType, "service_code=pothole&lat=16.0678&long=108.2208")
	if rec.Code != http.StatusOK {
		t.Fatalf("control POST: %d %s", rec.Code, rec.Body)
	}
	xml := e.do(newPost(BasePath+"/requests.xml", formType, "service_code=pothole&lat=16.0678&long=108.2208"))
	specErrors(t, xml, http.StatusBadRequest)
	specErrors(t, e.get(BasePath+"/services.csv"), http.StatusBadRequest)
}

func TestUnknownPathAndMethod(t *testing.T) {
	e := newEnv(t, nil)
	specErrors(t, e.get(BasePath+"/tokens/abc.json"), http.StatusNotFound)
	specErrors(t, e.do(newPost(BasePath+"/services.json", formType, "")), http.StatusMethodNotAllowed)
	if e.counter("other", "404") != 1 || e.counter("other", "405") != 1 {
		t.Errorf("other: 404 %v, 405 %v, want 1 each", e.counter("other", "404"), e.counter("other", "405"))
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"defaults", Config{}, ""},
		{"duplicate", Config{Services: []Service{{Code: "a", Name: "A"}, {Code: "a", Name: "B"}}}, "listed twice"},
		{"bad code", Config{Services: []Service{{Code: "a b", Name: "A"}}}, "only letters"},
		{"no name", Config{Services: []Service{{Code: "a"}}}, "no name"},
		{"empty list", Config{Services: []Service{}}, "empty"},
		{"bad layer", Config{Layer: "Feedback"}, "not a layer name"},
	} {
		err := tc.cfg.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}
