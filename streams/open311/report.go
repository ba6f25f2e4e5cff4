package open311

import (
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Report is a validated POST Service Request.
type Report struct {
	Service       *Service
	Lat, Long     float64
	AddressString string
	AddressID     string
	Description   string
	MediaURL      string
	// Attributes holds attribute[CODE]=v as CODE: "v" and
	// attribute[CODE][]=v1&attribute[CODE][]=v2 as CODE: ["v1", "v2"].
	Attributes map[string]any
	Contact    Contact
}

// Contact is who submitted a request. It is personal data: see
// Config.KeepContact.
type Contact struct {
	Email     string `json:"email,omitempty"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	Phone     string `json:"phone,omitempty"`
	DeviceID  string `json:"deviceId,omitempty"`
	AccountID string `json:"accountId,omitempty"`
}

// Limits of the POST fields, in characters.
const (
	maxDescription = 4000 // the spec's limit
	maxAddress     = 1000
	maxName        = 100
	maxIdentifier  = 256
	maxURL         = 2048
	maxEmail       = 254
	maxPhone       = 32
	maxAttrValue   = 1000
	maxAttributes  = 50
)

// parser collects every problem of a form, so that a client learns them
// all at once, each naming its field.
type parser struct {
	v    url.Values
	errs []SpecError
}

func (p *parser) fail(status int, field, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		msg = field + ": " + msg
	}
	p.errs = append(p.errs, SpecError{Code: status, Description: msg})
}

// get returns the field's value with surrounding space trimmed, "" when
// absent or empty. A field given twice with different values is an error
// (ok false).
func (p *parser) get(name string) (val string, ok bool) {
	vals := p.v[name]
	if len(vals) == 0 {
		return "", true
	}
	val = strings.TrimSpace(vals[0])
	for _, o := range vals[1:] {
		if strings.TrimSpace(o) != val {
			p.fail(http.StatusBadRequest, name, "given %d times with different values: send it once", len(vals))
			return "", false
		}
	}
	return val, true
}

// parseReport validates the fields of POST requests.json.
func (a *API) parseReport(v url.Values) (*Report, []SpecError) {
	p := &parser{v: v}
	rep := &Report{Service: a.parseService(p)}
	rep.Lat, rep.Long = a.parseLocation(p)
	rep.AddressString = p.text("address_string", maxAddress, false)
	rep.AddressID = p.text("address_id", maxIdentifier, false)
	rep.Description = p.text("description", maxDescription, true)
	rep.MediaURL = p.mediaURL("media_url")
	rep.Contact = Contact{
		Email:     p.email("email"),
		FirstName: p.text("first_name", maxName, false),
		LastName:  p.text("last_name", maxName, false),
		Phone:     p.phone("phone"),
		DeviceID:  p.text("device_id", maxIdentifier, false),
		AccountID: p.text("account_id", maxIdentifier, false),
	}
	rep.Attributes = p.attributes()
	// api_key and jurisdiction_id are accepted and ignored (docs/OPEN311.md).
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return rep, nil
}

func (a *API) parseService(p *parser) *Service {
	code, ok := p.get("service_code")
	switch {
	case !ok:
		return nil
	case code == "":
		p.fail(http.StatusBadRequest, "service_code", "is required: %s", a.codeList())
		return nil
	}
	s := a.byCode[code]
	if s == nil {
		p.fail(http.StatusNotFound, "service_code", "%s is not a service of this server: %s", quote(code), a.codeList())
	}
	return s
}

// parseLocation reads lat and long. The IOC places every report on the
// map and has no geocoder, so address_string or address_id alone is not
// enough.
func (a *API) parseLocation(p *parser) (lat, long float64) {
	latS, ok1 := p.get("lat")
	longS, ok2 := p.get("long")
	switch {
	case !ok1 || !ok2:
		return 0, 0
	case latS == "" && longS == "":
		p.fail(http.StatusBadRequest, "lat", "lat and long are required%s", missingLocationHint(p.v))
		return 0, 0
	case latS == "":
		p.fail(http.StatusBadRequest, "lat", "is required with long: send both, in WGS 84 decimal degrees (lat=16.0678&long=108.2208)")
		return 0, 0
	case longS == "":
		p.fail(http.StatusBadRequest, "long", "is required with lat: send both, in WGS 84 decimal degrees (lat=16.0678&long=108.2208)")
		return 0, 0
	}
	lat, okLat := p.number("lat", latS)
	long, okLong := p.number("long", longS)
	if okLat && okLong {
		if msg := a.checkPosition(lat, long); msg != "" {
			p.fail(http.StatusBadRequest, "lat/long", "%s", msg)
		}
	}
	return lat, long
}

// missingLocationHint explains why lat and long are needed, naming the
// fields a client sent instead.
func missingLocationHint(v url.Values) string {
	for _, alt := range []string{"latitude", "longitude", "lon", "lng"} {
		if v.Has(alt) {
			return fmt.Sprintf(" (found %s: Open311 names the fields lat and long)", alt)
		}
	}
	if v.Get("address_string") != "" || v.Get("address_id") != "" {
		return ": this server places every report on the map and cannot geocode address_string or address_id, " +
			"send lat and long (WGS 84 decimal degrees) with the address"
	}
	return " (WGS 84 decimal degrees, e.g. lat=16.0678&long=108.2208)"
}

// number parses a decimal number; NaN, infinities and hexadecimal floats,
// which strconv accepts, are refused.
func (p *parser) number(field, s string) (float64, bool) {
	valid := len(s) <= 32 && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r == '.' || r == '-' || r == '+' || r == 'e' || r == 'E')
	}) < 0
	f, err := strconv.ParseFloat(s, 64)
	if valid && err == nil {
		return f, true
	}
	hint := ": send a decimal number in WGS 84 degrees, e.g. 16.0678"
	if strings.Contains(s, ",") {
		hint = ": use a point, not a comma, as the decimal separator (16.0678)"
	}
	p.fail(http.StatusBadRequest, field, "%s is not a number%s", quote(s), hint)
	return 0, false
}

// checkPosition returns what is wrong with the position, "" if nothing.
func (a *API) checkPosition(lat, long float64) string {
	inLat, inLong := lat >= -90 && lat <= 90, long >= -180 && long <= 180
	area := a.cfg.Area
	switch {
	case !inLat && inLong && lat >= -180 && lat <= 180 && long >= -90 && long <= 90:
		return fmt.Sprintf("lat %g is out of range [-90, 90] but long %g would be a latitude: lat and long look swapped "+
			"(lat is the latitude, about 16.07 in Da Nang; long the longitude, about 108.22)", lat, long)
	case !inLat:
		return fmt.Sprintf("lat %g is out of range [-90, 90]", lat)
	case !inLong:
		return fmt.Sprintf("long %g is out of range [-180, 180]", long)
	case area.ContainsPoint(long, lat):
		return ""
	case area.ContainsPoint(lat, long):
		return fmt.Sprintf("lat %g, long %g is outside the service area (%v as west,south,east,north) but inside it with "+
			"the two exchanged: lat and long look swapped (lat is the latitude, about 16.07 in Da Nang; long the longitude, "+
			"about 108.22)", lat, long, area)
	}
	return fmt.Sprintf("lat %g, long %g is outside the service area (%v as west,south,east,north): "+
		"this server takes reports in Da Nang only", lat, long, area)
}

// text reads a free-text field: valid UTF-8, no control characters (line
// breaks and tabs allowed when multiline), at most max characters.
func (p *parser) text(field string, max int, multiline bool) string {
	s, ok := p.get(field)
	if !ok || s == "" {
		return ""
	}
	if msg := checkText(s, multiline); msg != "" {
		p.fail(http.StatusBadRequest, field, "%s", msg)
		return ""
	}
	if n := utf8.RuneCountInString(s); n > max {
		p.fail(http.StatusBadRequest, field, "is %d characters long, at most %d are allowed", n, max)
		return ""
	}
	return s
}

func checkText(s string, multiline bool) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8: send the form in UTF-8"
	}
	for i, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t')) {
			return fmt.Sprintf("has control character %U at byte %d", r, i)
		}
	}
	return ""
}

// mediaURL reads an absolute http or https URL, which displays link to.
func (p *parser) mediaURL(field string) string {
	s := p.text(field, maxURL, false)
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || strings.ContainsAny(s, " \t"):
		p.fail(http.StatusBadRequest, field, "%s is not a URL", quote(s))
	case !strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https"):
		p.fail(http.StatusBadRequest, field, "%s is not an http or https URL", quote(s))
	case u.Host == "":
		p.fail(http.StatusBadRequest, field, "%s has no host: send an absolute URL such as https://example.org/photo.jpg", quote(s))
	default:
		return s
	}
	return ""
}

func (p *parser) email(field string) string {
	s := p.text(field, maxEmail, false)
	if s == "" {
		return ""
	}
	if addr, err := mail.ParseAddress(s); err != nil || addr.Name != "" || addr.Address != s {
		p.fail(http.StatusBadRequest, field, "%s is not an email address such as ten@example.vn", quote(s))
		return ""
	}
	return s
}

func (p *parser) phone(field string) string {
	s := p.text(field, maxPhone, false)
	if s == "" {
		return ""
	}
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune("+-(). ", r):
		default:
			p.fail(http.StatusBadRequest, field, "%s is not a phone number: use digits, spaces and + - ( ) . only", quote(s))
			return ""
		}
	}
	if digits < 3 {
		p.fail(http.StatusBadRequest, field, "%s is not a phone number: it has fewer than 3 digits", quote(s))
		return ""
	}
	return s
}

// attributes reads attribute[CODE]=value and attribute[CODE][]=value.
func (p *parser) attributes() map[string]any {
	var out map[string]any
	keys := make([]string, 0, 4)
	for k := range p.v {
		if strings.HasPrefix(k, "attribute") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		code, multi, ok := p.attributeKey(k)
		if !ok {
			continue
		}
		if out == nil {
			out = map[string]any{}
		}
		if len(out) >= maxAttributes {
			p.fail(http.StatusBadRequest, "attribute", "more than %d attributes", maxAttributes)
			return nil
		}
		if val, ok := p.attributeValue(k, multi); ok {
			out[code] = val
		}
	}
	return out
}

// attributeKey parses "attribute[CODE]" or "attribute[CODE][]".
func (p *parser) attributeKey(k string) (code string, multi, ok bool) {
	rest, found := strings.CutPrefix(k, "attribute[")
	if !found {
		if strings.HasPrefix(k, "attributes") {
			return "", false, false // not an Open311 field; ignored like other unknown fields
		}
		p.fail(http.StatusBadRequest, quote(k), "attributes are sent as attribute[CODE]=value or attribute[CODE][]=value")
		return "", false, false
	}
	code, tail, found := strings.Cut(rest, "]")
	if !found || (tail != "" && tail != "[]") {
		p.fail(http.StatusBadRequest, quote(k), "attributes are sent as attribute[CODE]=value or attribute[CODE][]=value")
		return "", false, false
	}
	if msg := checkCode(code); msg != "" {
		p.fail(http.StatusBadRequest, quote(k), "the attribute code %s", msg)
		return "", false, false
	}
	return code, tail == "[]", true
}

func (p *parser) attributeValue(k string, multi bool) (any, bool) {
	if !multi {
		s := p.text(k, maxAttrValue, true)
		return s, s != ""
	}
	vals := make([]string, 0, len(p.v[k]))
	for _, s := range p.v[k] {
		s = strings.TrimSpace(s)
		if msg := checkText(s, true); msg != "" {
			p.fail(http.StatusBadRequest, quote(k), "%s", msg)
			return nil, false
		}
		if n := utf8.RuneCountInString(s); n > maxAttrValue {
			p.fail(http.StatusBadRequest, quote(k), "a value is %d characters long, at most %d are allowed", n, maxAttrValue)
			return nil, false
		}
		if s != "" {
			vals = append(vals, s)
		}
	}
	return vals, len(vals) > 0
}

// quote quotes a client's value for a message, cut to 64 bytes.
func quote(s string) string {
	const limit = 64
	if len(s) <= limit {
		return strconv.Quote(s)
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}
