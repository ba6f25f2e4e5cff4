package cap

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Problem is one thing wrong with an alert, at an element path such as
// alert/info[0]/area[1]/polygon[0].
type Problem struct {
	Path string `json:"path"`
	Msg  string `json:"message"`
}

func (p Problem) String() string { return p.Path + ": " + p.Msg }

// Error lists every problem found in an alert.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return "cap: invalid alert: " + strings.Join(parts, "; ")
}

// MaxSize bounds an alert document; CAP alerts are a few kilobytes.
const MaxSize = 1 << 20

// Decode reads one CAP 1.2 alert and validates it. A document that is not
// XML, not a CAP 1.2 alert, or breaks the schema's rules gives an *Error
// with every problem found (when the XML itself is readable).
func Decode(r io.Reader) (*Alert, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("cap: reading the alert: %w", err)
	}
	if len(data) > MaxSize {
		return nil, &Error{[]Problem{{"alert", fmt.Sprintf("document larger than %d bytes", MaxSize)}}}
	}
	return DecodeBytes(data)
}

// DecodeBytes is Decode for a document in memory.
func DecodeBytes(data []byte) (*Alert, error) {
	var a Alert
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = nil // CAP is UTF-8; another declared charset is an error
	if err := d.Decode(&a); err != nil {
		return nil, &Error{[]Problem{{"alert", "not a well-formed XML alert: " + xmlErrorText(err)}}}
	}
	if err := trailing(d); err != nil {
		return nil, err
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return &a, nil
}

// trailing refuses a second element after the alert.
func trailing(d *xml.Decoder) error {
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return &Error{[]Problem{{"alert", "after the alert: " + xmlErrorText(err)}}}
		}
		if _, ok := tok.(xml.StartElement); ok {
			return &Error{[]Problem{{"alert", "more than one root element: a CAP document holds one alert"}}}
		}
	}
}

func xmlErrorText(err error) string {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("line %d: %s", se.Line, se.Msg)
	}
	return err.Error()
}

// checker collects problems with their paths.
type checker struct{ problems []Problem }

func (c *checker) add(path, format string, args ...any) {
	c.problems = append(c.problems, Problem{path, fmt.Sprintf(format, args...)})
}

// required checks a required element is present and not blank.
func (c *checker) required(path, v string) bool {
	if strings.TrimSpace(v) == "" {
		c.add(path, "required element missing or empty")
		return false
	}
	return true
}

// enum checks a value against its enumeration (case matters in CAP).
func (c *checker) enum(path, v string, valid []string) {
	if v != "" && !slices.Contains(valid, v) {
		c.add(path, "%q is not one of %s", v, strings.Join(valid, ", "))
	}
}

// dateTimeRE is CAP's dateTime: XML Schema dateTime with an explicit
// offset; CAP forbids "Z" and the spec's examples carry no fractions.
var dateTimeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[-+]\d{2}:\d{2}$`)

// TimeLayout is CAP's dateTime layout.
const TimeLayout = "2006-01-02T15:04:05-07:00"

func (c *checker) dateTime(path, v string) {
	if v == "" {
		return
	}
	if !dateTimeRE.MatchString(v) {
		c.add(path, "%q is not a CAP dateTime such as 2026-11-27T14:00:00+07:00 (explicit offset, no Z)", v)
		return
	}
	if _, err := time.Parse(TimeLayout, v); err != nil {
		c.add(path, "%q is not a valid date and time", v)
	}
}

// noSpace checks identifier and sender: no spaces, commas or < and &.
func (c *checker) noSpace(path, v string) {
	if strings.ContainsAny(v, " \t\r\n,<&") {
		c.add(path, "%q must not contain spaces, commas, < or &", v)
	}
}

func (c *checker) unknown(path string, els []Element) {
	for _, e := range els {
		c.add(path+"/"+e.XMLName.Local, "element not defined by CAP 1.2 here")
	}
}

// Validate checks an alert against CAP 1.2's required elements,
// enumerations and value formats; the returned *Error lists every
// problem.
func (a *Alert) Validate() error {
	c := &checker{}
	if a.XMLName.Local != "" && (a.XMLName.Local != "alert" || a.XMLName.Space != Namespace) {
		c.add("alert", "root element {%s}%s: want {%s}alert", a.XMLName.Space, a.XMLName.Local, Namespace)
	}
	if c.required("alert/identifier", a.Identifier) {
		c.noSpace("alert/identifier", a.Identifier)
	}
	if c.required("alert/sender", a.Sender) {
		c.noSpace("alert/sender", a.Sender)
	}
	if c.required("alert/sent", a.Sent) {
		c.dateTime("alert/sent", a.Sent)
	}
	if c.required("alert/status", a.Status) {
		c.enum("alert/status", a.Status, Statuses)
	}
	if c.required("alert/msgType", a.MsgType) {
		c.enum("alert/msgType", a.MsgType, MsgTypes)
	}
	if c.required("alert/scope", a.Scope) {
		c.enum("alert/scope", a.Scope, Scopes)
	}
	if a.Scope == "Restricted" && a.Restriction == "" {
		c.add("alert/restriction", "required when scope is Restricted")
	}
	if a.Scope == "Private" && a.Addresses == "" {
		c.add("alert/addresses", "required when scope is Private")
	}
	c.references(a.References)
	c.unknown("alert", a.Unknown)
	for i := range a.Infos {
		c.info(fmt.Sprintf("alert/info[%d]", i), &a.Infos[i])
	}
	if len(c.problems) > 0 {
		return &Error{c.problems}
	}
	return nil
}

// references: space-separated "sender,identifier,sent" triples.
func (c *checker) references(v string) {
	for i, ref := range strings.Fields(v) {
		parts := strings.Split(ref, ",")
		if len(parts) != 3 {
			c.add(fmt.Sprintf("alert/references[%d]", i), "%q is not sender,identifier,sent", ref)
			continue
		}
		c.dateTime(fmt.Sprintf("alert/references[%d]", i), parts[2])
	}
}

func (c *checker) info(path string, in *Info) {
	if len(in.Categories) == 0 {
		c.add(path+"/category", "required element missing (at least one)")
	}
	for i, cat := range in.Categories {
		c.enum(fmt.Sprintf("%s/category[%d]", path, i), cat, Categories)
	}
	c.required(path+"/event", in.Event)
	for i, rt := range in.ResponseType {
		c.enum(fmt.Sprintf("%s/responseType[%d]", path, i), rt, ResponseTypes)
	}
	if c.required(path+"/urgency", in.Urgency) {
		c.enum(path+"/urgency", in.Urgency, Urgencies)
	}
	if c.required(path+"/severity", in.Severity) {
		c.enum(path+"/severity", in.Severity, Severities)
	}
	if c.required(path+"/certainty", in.Certainty) {
		c.enum(path+"/certainty", in.Certainty, Certainties)
	}
	c.dateTime(path+"/effective", in.Effective)
	c.dateTime(path+"/onset", in.Onset)
	c.dateTime(path+"/expires", in.Expires)
	for i, nv := range in.EventCodes {
		c.namedValue(fmt.Sprintf("%s/eventCode[%d]", path, i), nv)
	}
	for i, nv := range in.Parameters {
		c.namedValue(fmt.Sprintf("%s/parameter[%d]", path, i), nv)
	}
	for i, r := range in.Resources {
		p := fmt.Sprintf("%s/resource[%d]", path, i)
		c.required(p+"/resourceDesc", r.ResourceDesc)
		c.required(p+"/mimeType", r.MimeType)
		if r.Size != "" {
			if _, err := strconv.ParseUint(r.Size, 10, 64); err != nil {
				c.add(p+"/size", "%q is not a whole number of bytes", r.Size)
			}
		}
		c.unknown(p, r.Unknown)
	}
	c.unknown(path, in.Unknown)
	for i := range in.Areas {
		c.area(fmt.Sprintf("%s/area[%d]", path, i), &in.Areas[i])
	}
}

func (c *checker) namedValue(path string, nv NamedValue) {
	c.required(path+"/valueName", nv.ValueName)
}

func (c *checker) area(path string, a *Area) {
	c.required(path+"/areaDesc", a.AreaDesc)
	for i, p := range a.Polygons {
		if _, err := ParsePolygon(p); err != nil {
			c.add(fmt.Sprintf("%s/polygon[%d]", path, i), "%v", err)
		}
	}
	for i, ci := range a.Circles {
		if _, err := ParseCircle(ci); err != nil {
			c.add(fmt.Sprintf("%s/circle[%d]", path, i), "%v", err)
		}
	}
	for i, nv := range a.Geocodes {
		c.namedValue(fmt.Sprintf("%s/geocode[%d]", path, i), nv)
	}
	for _, f := range []struct{ name, v string }{{"altitude", a.Altitude}, {"ceiling", a.Ceiling}} {
		if f.v != "" {
			if _, err := strconv.ParseFloat(f.v, 64); err != nil {
				c.add(path+"/"+f.name, "%q is not a number (feet above sea level)", f.v)
			}
		}
	}
	if a.Ceiling != "" && a.Altitude == "" {
		c.add(path+"/ceiling", "ceiling needs altitude")
	}
	c.unknown(path, a.Unknown)
}

// LatLon is a WGS 84 position as CAP writes it: latitude first.
type LatLon struct{ Lat, Lon float64 }

// ParsePolygon reads "lat,lon lat,lon ...": at least four pairs, the
// first equal to the last.
func ParsePolygon(s string) ([]LatLon, error) {
	fields := strings.Fields(s)
	if len(fields) < 4 {
		return nil, fmt.Errorf("a polygon needs at least 4 lat,lon pairs, found %d", len(fields))
	}
	pts := make([]LatLon, len(fields))
	for i, f := range fields {
		p, err := parseLatLon(f)
		if err != nil {
			return nil, fmt.Errorf("pair %d: %w", i, err)
		}
		pts[i] = p
	}
	if pts[0] != pts[len(pts)-1] {
		return nil, errors.New("a polygon must end at its first point")
	}
	return pts, nil
}

// Circle is a CAP circle: a centre and a radius in km.
type Circle struct {
	Centre   LatLon
	RadiusKm float64
}

// ParseCircle reads "lat,lon radius".
func ParseCircle(s string) (Circle, error) {
	fields := strings.Fields(s)
	if len(fields) != 2 {
		return Circle{}, fmt.Errorf("%q is not \"lat,lon radius\"", s)
	}
	p, err := parseLatLon(fields[0])
	if err != nil {
		return Circle{}, err
	}
	r, err := strconv.ParseFloat(fields[1], 64)
	if err != nil || r < 0 || math.IsInf(r, 0) || r > 20000 {
		return Circle{}, fmt.Errorf("radius %q is not a distance in km from 0 to 20000", fields[1])
	}
	return Circle{p, r}, nil
}

func parseLatLon(s string) (LatLon, error) {
	lat, lon, ok := strings.Cut(s, ",")
	if !ok {
		return LatLon{}, fmt.Errorf("%q is not lat,lon", s)
	}
	y, err1 := strconv.ParseFloat(lat, 64)
	x, err2 := strconv.ParseFloat(lon, 64)
	switch {
	case err1 != nil || err2 != nil || math.IsNaN(x) || math.IsNaN(y):
		return LatLon{}, fmt.Errorf("%q is not two numbers lat,lon", s)
	case y < -90 || y > 90:
		return LatLon{}, fmt.Errorf("latitude %s outside -90..90 (CAP writes latitude first)", lat)
	case x < -180 || x > 180:
		return LatLon{}, fmt.Errorf("longitude %s outside -180..180", lon)
	}
	return LatLon{y, x}, nil
}
