package open311

import (
	"bytes"
	"strings"
	"time"

	json "github.com/goccy/go-json"
	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/layers"
)

// requestJSON is one service request of a GET answer. Fields without a
// value are null.
type requestJSON struct {
	ServiceRequestID  string  `json:"service_request_id"`
	Status            string  `json:"status"`
	StatusNotes       *string `json:"status_notes"`
	ServiceName       *string `json:"service_name"`
	ServiceCode       string  `json:"service_code"`
	Description       *string `json:"description"`
	AgencyResponsible *string `json:"agency_responsible"`
	ServiceNotice     *string `json:"service_notice"`
	RequestedDatetime string  `json:"requested_datetime"`
	UpdatedDatetime   string  `json:"updated_datetime"`
	ExpectedDatetime  *string `json:"expected_datetime"`
	Address           *string `json:"address"`
	AddressID         *string `json:"address_id"`
	Zipcode           *string `json:"zipcode"`
	Lat               float64 `json:"lat"`
	Long              float64 `json:"long"`
	MediaURL          *string `json:"media_url"`
}

// report is what a GET answer takes from a feature of feedback.reports.
type report struct {
	f                   *layers.Feature
	requested, expected time.Time
	status, category    string
	serviceCode, descr  string
	mediaURL, address   string
	addressID, zipcode  string
	statusNotes, agency string
	notice              string
}

// rawReport holds the report properties the API reads. Any other JSON
// type than the one expected reads as absent: reports come from every
// channel, not only from this API.
type rawReport struct {
	Category          json.RawMessage `json:"category"`
	ServiceCode       json.RawMessage `json:"serviceCode"`
	Status            json.RawMessage `json:"status"`
	Description       json.RawMessage `json:"description"`
	MediaURL          json.RawMessage `json:"mediaURL"`
	Address           json.RawMessage `json:"address"`
	AddressID         json.RawMessage `json:"addressId"`
	StatusNotes       json.RawMessage `json:"statusNotes"`
	AgencyResponsible json.RawMessage `json:"agencyResponsible"`
	ServiceNotice     json.RawMessage `json:"serviceNotice"`
	DateCreated       json.RawMessage `json:"dateCreated"`
	DateExpected      json.RawMessage `json:"dateExpected"`
}

func readReport(f *layers.Feature) *report {
	var raw rawReport
	if len(f.Properties) > 0 {
		_ = json.Unmarshal(f.Properties, &raw) // a valid object: RawMessage members always decode
	}
	rp := &report{
		f: f, status: str(raw.Status), category: str(raw.Category), serviceCode: str(raw.ServiceCode),
		descr: str(raw.Description), mediaURL: str(raw.MediaURL), addressID: str(raw.AddressID),
		statusNotes: str(raw.StatusNotes), agency: str(raw.AgencyResponsible), notice: str(raw.ServiceNotice),
		requested: f.Time, expected: parseTime(str(raw.DateExpected)),
	}
	if t := parseTime(str(raw.DateCreated)); !t.IsZero() {
		rp.requested = t
	}
	rp.address, rp.zipcode = readAddress(raw.Address)
	return rp
}

// str returns a JSON string's value, "" for anything else.
func str(raw json.RawMessage) string {
	if len(raw) < 2 || raw[0] != '"' {
		return ""
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]) // nothing to unescape
	}
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// readAddress takes a text address, or a Smart Data Models PostalAddress
// object, whose postalCode becomes the zipcode.
func readAddress(raw json.RawMessage) (address, zipcode string) {
	if len(raw) == 0 || raw[0] != '{' {
		return str(raw), ""
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return "", ""
	}
	street := strings.TrimSpace(str(m["streetNr"]) + " " + str(m["streetAddress"]))
	var parts []string
	for _, p := range []string{street, str(m["district"]), str(m["addressLocality"]), str(m["addressRegion"])} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", "), str(m["postalCode"])
}

// isClosed maps IOC statuses to Open311's: resolved and rejected are
// closed; received, assigned, in_progress and anything else are open.
func isClosed(status string) bool {
	switch strings.ToLower(status) {
	case StatusResolved, StatusRejected, "closed":
		return true
	}
	return false
}

// serviceCode is the report's service_code: the one it was created with,
// else the service writing its category, else the category itself.
func (a *API) serviceCode(rp *report) string {
	switch {
	case rp.serviceCode != "":
		return rp.serviceCode
	case a.byCategory[rp.category] != nil:
		return a.byCategory[rp.category].Code
	case rp.category != "":
		return rp.category
	}
	return "other"
}

// request renders a report as an Open311 service request.
func (a *API) request(rp *report, en bool) requestJSON {
	out := requestJSON{
		ServiceRequestID:  rp.f.ID,
		Status:            "open",
		StatusNotes:       opt(rp.statusNotes),
		ServiceCode:       a.serviceCode(rp),
		Description:       opt(rp.descr),
		AgencyResponsible: opt(rp.agency),
		ServiceNotice:     opt(rp.notice),
		RequestedDatetime: a.formatTime(rp.requested),
		UpdatedDatetime:   a.formatTime(rp.f.Time),
		Address:           opt(rp.address),
		AddressID:         opt(rp.addressID),
		Zipcode:           opt(rp.zipcode),
		MediaURL:          opt(rp.mediaURL),
	}
	if isClosed(rp.status) {
		out.Status = "closed"
	}
	if !rp.expected.IsZero() {
		out.ExpectedDatetime = opt(a.formatTime(rp.expected))
	}
	if s := a.byCode[out.ServiceCode]; s != nil {
		out.ServiceName = opt(s.name(en))
		if out.ServiceNotice == nil {
			out.ServiceNotice = opt(s.notice(en))
		}
	}
	out.Lat, out.Long = position(rp.f)
	return out
}

func (a *API) formatTime(t time.Time) string {
	return t.In(a.cfg.Zone).Format(time.RFC3339)
}

// position is a Point's position, or the centre of another geometry's
// bounds, as lat, long.
func position(f *layers.Feature) (lat, long float64) {
	if p, ok := f.Geometry.(*geom.Point); ok && len(p.FlatCoords()) >= 2 {
		return p.Y(), p.X()
	}
	b := f.Bounds
	return (b.MinY + b.MaxY) / 2, (b.MinX + b.MaxX) / 2
}

func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
