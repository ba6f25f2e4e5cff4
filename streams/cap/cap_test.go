package cap

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func fixtures(t testing.TB) map[string][]byte {
	t.Helper()
	paths, _ := filepath.Glob("testdata/*.xml")
	if len(paths) == 0 {
		t.Fatal("no fixtures")
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

// TestRoundTrip: decode -> encode -> decode gives the same alert, and the
// encoding is stable (encoding again gives the same bytes).
func TestRoundTrip(t *testing.T) {
	for name, data := range fixtures(t) {
		a, err := DecodeBytes(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		enc, err := Marshal(a)
		if err != nil {
			t.Fatalf("%s: encode: %v", name, err)
		}
		if !bytes.Contains(enc, []byte(`<alert xmlns="`+Namespace+`">`)) {
			t.Errorf("%s: encoding lacks the CAP 1.2 namespace:\n%s", name, enc)
		}
		b, err := DecodeBytes(enc)
		if err != nil {
			t.Fatalf("%s: decoding the encoding: %v\n%s", name, err, enc)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: round trip differs:\n%+v\n%+v", name, a, b)
		}
		enc2, _ := Marshal(b)
		if !bytes.Equal(enc, enc2) {
			t.Errorf("%s: encoding not stable", name)
		}
	}
}

func TestFixtureContents(t *testing.T) {
	a, err := DecodeBytes(fixtures(t)["flood_two_languages.xml"])
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Infos) != 2 || len(a.Infos[0].Areas) != 2 || len(a.Infos[0].Areas[1].Polygons) != 2 || a.Infos[0].Categories[1] != "Safety" {
		t.Errorf("decoded %+v", a)
	}
	c, err := ParseCircle(a.Infos[0].Areas[0].Circles[0])
	if err != nil || c.Centre != (LatLon{16.115, 108.13}) || c.RadiusKm != 2.5 {
		t.Errorf("circle %+v %v", c, err)
	}
	typhoon, _ := DecodeBytes(fixtures(t)["typhoon_nchmf.xml"])
	if !strings.Contains(typhoon.Infos[0].Description, "lũ quét & sạt lở") {
		t.Errorf("escaped text: %q", typhoon.Infos[0].Description)
	}
}

// valid is a minimal valid alert with one info and one area; each case
// below breaks one thing.
const valid = `<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>ID-1</identifier><sender>s@example.vn</sender><sent>2026-11-27T10:00:00+07:00</sent>
<status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
<info><category>Met</category><event>Flood</event><urgency>Immediate</urgency><severity>Severe</severity><certainty>Observed</certainty>
<area><areaDesc>Hải Châu</areaDesc></area></info></alert>`

func problemsOf(t *testing.T, doc string) []Problem {
	t.Helper()
	_, err := DecodeBytes([]byte(doc))
	var ce *Error
	if err == nil {
		return nil
	}
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is not a *cap.Error", err)
	}
	return ce.Problems
}

// TestRequired removes each required element in turn.
func TestRequired(t *testing.T) {
	if p := problemsOf(t, valid); p != nil {
		t.Fatalf("the valid alert: %v", p)
	}
	cases := []struct {
		element, path string
	}{
		{"<identifier>ID-1</identifier>", "alert/identifier"},
		{"<sender>s@example.vn</sender>", "alert/sender"},
		{"<sent>2026-11-27T10:00:00+07:00</sent>", "alert/sent"},
		{"<status>Actual</status>", "alert/status"},
		{"<msgType>Alert</msgType>", "alert/msgType"},
		{"<scope>Public</scope>", "alert/scope"},
		{"<category>Met</category>", "alert/info[0]/category"},
		{"<event>Flood</event>", "alert/info[0]/event"},
		{"<urgency>Immediate</urgency>", "alert/info[0]/urgency"},
		{"<severity>Severe</severity>", "alert/info[0]/severity"},
		{"<certainty>Observed</certainty>", "alert/info[0]/certainty"},
		{"<areaDesc>Hải Châu</areaDesc>", "alert/info[0]/area[0]/areaDesc"},
	}
	for _, c := range cases {
		doc := strings.Replace(valid, c.element, "", 1)
		p := problemsOf(t, doc)
		if len(p) != 1 || p[0].Path != c.path || !strings.Contains(p[0].Msg, "required") {
			t.Errorf("without %s: %v, want one problem at %s", c.element, p, c.path)
		}
	}
}

// TestInvalidValues breaks enumerations and formats one by one.
func TestInvalidValues(t *testing.T) {
	cases := []struct {
		from, to, path, msg string
	}{
		{"<status>Actual</status>", "<status>actual</status>", "alert/status", `"actual" is not one of Actual, Exercise`},
		{"<msgType>Alert</msgType>", "<msgType>Warning</msgType>", "alert/msgType", `"Warning"`},
		{"<scope>Public</scope>", "<scope>Everyone</scope>", "alert/scope", `"Everyone"`},
		{"<scope>Public</scope>", "<scope>Restricted</scope>", "alert/restriction", "required when scope is Restricted"},
		{"<scope>Public</scope>", "<scope>Private</scope>", "alert/addresses", "required when scope is Private"},
		{"<category>Met</category>", "<category>Weather</category>", "alert/info[0]/category[0]", `"Weather"`},
		{"<urgency>Immediate</urgency>", "<urgency>Now</urgency>", "alert/info[0]/urgency", `"Now"`},
		{"<severity>Severe</severity>", "<severity>critical</severity>", "alert/info[0]/severity", `"critical"`},
		{"<certainty>Observed</certainty>", "<certainty>Very Likely</certainty>", "alert/info[0]/certainty", `"Very Likely"`},
		{"<sent>2026-11-27T10:00:00+07:00</sent>", "<sent>2026-11-27T03:00:00Z</sent>", "alert/sent", "no Z"},
		{"<sent>2026-11-27T10:00:00+07:00</sent>", "<sent>2026-13-27T10:00:00+07:00</sent>", "alert/sent", "not a valid date"},
		{"<identifier>ID-1</identifier>", "<identifier>ID 1</identifier>", "alert/identifier", "must not contain spaces"},
		{"<sender>s@example.vn</sender>", "<sender>a,b</sender>", "alert/sender", "commas"},
		{"</areaDesc>", "</areaDesc><polygon>16.0,108.0 16.1,108.0 16.0,108.0</polygon>", "alert/info[0]/area[0]/polygon[0]", "at least 4"},
		{"</areaDesc>", "</areaDesc><polygon>16.0,108.0 16.1,108.0 16.1,108.1 16.0,108.2</polygon>", "alert/info[0]/area[0]/polygon[0]", "end at its first point"},
		{"</areaDesc>", "</areaDesc><polygon>108.0,16.0 108.1,16.0 108.1,16.1 108.0,16.0</polygon>", "alert/info[0]/area[0]/polygon[0]", "latitude 108.0 outside"},
		{"</areaDesc>", "</areaDesc><circle>16.0,108.0</circle>", "alert/info[0]/area[0]/circle[0]", `is not "lat,lon radius"`},
		{"</areaDesc>", "</areaDesc><circle>16.0,108.0 -1</circle>", "alert/info[0]/area[0]/circle[0]", "radius"},
		{"</areaDesc>", "</areaDesc><ceiling>30</ceiling>", "alert/info[0]/area[0]/ceiling", "needs altitude"},
		{"</areaDesc>", "</areaDesc><geocode><value>48</value></geocode>", "alert/info[0]/area[0]/geocode[0]/valueName", "required"},
		{"<event>Flood</event>", "<event>Flood</event><colour>red</colour>", "alert/info[0]/colour", "not defined by CAP 1.2"},
		{"<scope>Public</scope>", "<scope>Public</scope><references>a,b</references>", "alert/references[0]", "sender,identifier,sent"},
		{`xmlns="urn:oasis:names:tc:emergency:cap:1.2"`, `xmlns="urn:oasis:names:tc:emergency:cap:1.1"`, "alert", "want {urn:oasis:names:tc:emergency:cap:1.2}alert"},
	}
	for _, c := range cases {
		doc := strings.Replace(valid, c.from, c.to, 1)
		p := problemsOf(t, doc)
		if len(p) != 1 || p[0].Path != c.path || !strings.Contains(p[0].Msg, c.msg) {
			t.Errorf("%s -> %s: %v, want one problem at %s containing %q", c.from, c.to, p, c.path, c.msg)
		}
	}
}

func TestNotXML(t *testing.T) {
	for _, doc := range []string{"", "{}", "<alert>", "<notice/>", valid + "<alert/>"} {
		if _, err := DecodeBytes([]byte(doc)); err == nil {
			t.Errorf("%.40q: accepted", doc)
		}
	}
}

func TestEncodeRefusesInvalid(t *testing.T) {
	a, _ := DecodeBytes([]byte(valid))
	a.Infos[0].Severity = "Huge"
	if _, err := Marshal(a); err == nil || !strings.Contains(err.Error(), "alert/info[0]/severity") {
		t.Errorf("encode of an invalid alert: %v", err)
	}
}

// FuzzDecode: the parser never panics, and whatever it accepts encodes to
// a document it accepts again as the same alert.
func FuzzDecode(f *testing.F) {
	for _, data := range fixtures(f) {
		f.Add(data)
	}
	f.Add([]byte(valid))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := DecodeBytes(data)
		if err != nil {
			return
		}
		enc, err := Marshal(a)
		if err != nil {
			t.Fatalf("accepted alert does not encode: %v", err)
		}
		b, err := DecodeBytes(enc)
		if err != nil {
			t.Fatalf("encoding of an accepted alert is refused: %v\n%s", err, enc)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip differs:\n%+v\n%+v", a, b)
		}
	})
}
