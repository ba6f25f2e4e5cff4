// Package cap reads and writes CAP 1.2, the OASIS Common Alerting Protocol
// (the XML standard of public warnings): a Go model of alert, info,
// resource and area, a strict parser that checks the schema's required
// elements and enumerations and says what is wrong and where (by element
// path), and an encoder that writes only valid CAP 1.2. On top of the
// format it ingests alerts as features on layer alerts.cap (POST
// /api/v1/cap) and exports incidents and zones as CAP alerts.
// docs/CAP.md is the reference.
package cap

import "encoding/xml"

// Namespace is the XML namespace of CAP 1.2.
const Namespace = "urn:oasis:names:tc:emergency:cap:1.2"

// Alert is a CAP <alert>. Times are kept as the text sent (CAP dateTime,
// such as 2026-11-27T14:00:00+07:00) so that an alert round-trips byte for
// byte; Times parses them.
type Alert struct {
	XMLName     xml.Name  `xml:"alert"`
	Identifier  string    `xml:"identifier"`
	Sender      string    `xml:"sender"`
	Sent        string    `xml:"sent"`
	Status      string    `xml:"status"`
	MsgType     string    `xml:"msgType"`
	Source      string    `xml:"source,omitempty"`
	Scope       string    `xml:"scope"`
	Restriction string    `xml:"restriction,omitempty"`
	Addresses   string    `xml:"addresses,omitempty"`
	Codes       []string  `xml:"code,omitempty"`
	Note        string    `xml:"note,omitempty"`
	References  string    `xml:"references,omitempty"`
	Incidents   string    `xml:"incidents,omitempty"`
	Infos       []Info    `xml:"info,omitempty"`
	Unknown     []Element `xml:",any"`
}

// Info is a CAP <info> block: one event in one language.
type Info struct {
	Language     string       `xml:"language,omitempty"`
	Categories   []string     `xml:"category"`
	Event        string       `xml:"event"`
	ResponseType []string     `xml:"responseType,omitempty"`
	Urgency      string       `xml:"urgency"`
	Severity     string       `xml:"severity"`
	Certainty    string       `xml:"certainty"`
	Audience     string       `xml:"audience,omitempty"`
	EventCodes   []NamedValue `xml:"eventCode,omitempty"`
	Effective    string       `xml:"effective,omitempty"`
	Onset        string       `xml:"onset,omitempty"`
	Expires      string       `xml:"expires,omitempty"`
	SenderName   string       `xml:"senderName,omitempty"`
	Headline     string       `xml:"headline,omitempty"`
	Description  string       `xml:"description,omitempty"`
	Instruction  string       `xml:"instruction,omitempty"`
	Web          string       `xml:"web,omitempty"`
	Contact      string       `xml:"contact,omitempty"`
	Parameters   []NamedValue `xml:"parameter,omitempty"`
	Resources    []Resource   `xml:"resource,omitempty"`
	Areas        []Area       `xml:"area,omitempty"`
	Unknown      []Element    `xml:",any"`
}

// Element is an element CAP 1.2 does not define where it was found; the
// parser refuses it (a misspelt element would otherwise vanish silently).
type Element struct {
	XMLName xml.Name
}

// NamedValue is an eventCode, parameter or geocode.
type NamedValue struct {
	ValueName string `xml:"valueName"`
	Value     string `xml:"value"`
}

// Resource is a CAP <resource>: a file that goes with the info.
type Resource struct {
	ResourceDesc string    `xml:"resourceDesc"`
	MimeType     string    `xml:"mimeType"`
	Size         string    `xml:"size,omitempty"`
	URI          string    `xml:"uri,omitempty"`
	DerefURI     string    `xml:"derefUri,omitempty"`
	Digest       string    `xml:"digest,omitempty"`
	Unknown      []Element `xml:",any"`
}

// Area is a CAP <area>. Polygon is "lat,lon lat,lon ..." (first = last, at
// least four pairs); Circle is "lat,lon radius" with the radius in km.
type Area struct {
	AreaDesc string       `xml:"areaDesc"`
	Polygons []string     `xml:"polygon,omitempty"`
	Circles  []string     `xml:"circle,omitempty"`
	Geocodes []NamedValue `xml:"geocode,omitempty"`
	Altitude string       `xml:"altitude,omitempty"`
	Ceiling  string       `xml:"ceiling,omitempty"`
	Unknown  []Element    `xml:",any"`
}

// The enumerations of CAP 1.2.
var (
	Statuses      = []string{"Actual", "Exercise", "System", "Test", "Draft"}
	MsgTypes      = []string{"Alert", "Update", "Cancel", "Ack", "Error"}
	Scopes        = []string{"Public", "Restricted", "Private"}
	Categories    = []string{"Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra", "CBRNE", "Other"}
	ResponseTypes = []string{"Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess", "AllClear", "None"}
	Urgencies     = []string{"Immediate", "Expected", "Future", "Past", "Unknown"}
	Severities    = []string{"Extreme", "Severe", "Moderate", "Minor", "Unknown"}
	Certainties   = []string{"Observed", "Likely", "Possible", "Unlikely", "Unknown"}
)
