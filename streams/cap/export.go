package cap

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
)

// The layers exported as CAP (see the contract in docs/INCIDENTS.md and
// docs/ZONES.md).
const (
	LayerIncidents = "ioc.incidents"
	LayerZones     = "ioc.zones"
)

// ExportConfig configures the export. Zero fields take the defaults noted.
type ExportConfig struct {
	// Sender is the alerts' sender: default "ioc@danang.gov.vn".
	Sender string
	// SenderName is the human name of the sender.
	SenderName string
	// Language of the info block: default "vi-VN".
	Language string
	// PointRadiusKm is the radius of the circle drawn around an incident
	// given as a point: default 0.5 km.
	PointRadiusKm float64
	// Zone is the time zone CAP times are written in: default UTC+7.
	Zone *time.Location
}

func (c *ExportConfig) defaults() {
	if c.Sender == "" {
		c.Sender = "ioc@danang.gov.vn"
	}
	if c.SenderName == "" {
		c.SenderName = "Trung tâm Giám sát, điều hành đô thị thông minh Đà Nẵng (IOC)"
	}
	if c.Language == "" {
		c.Language = "vi-VN"
	}
	if c.PointRadiusKm <= 0 {
		c.PointRadiusKm = 0.5
	}
	if c.Zone == nil {
		c.Zone = time.FixedZone("ICT", 7*3600)
	}
}

// Exporter maps incidents and zones to CAP alerts.
type Exporter struct {
	cfg   ExportConfig
	store Reader
}

// NewExporter returns an exporter reading the live layers of store.
func NewExporter(cfg ExportConfig, store Reader) *Exporter {
	cfg.defaults()
	return &Exporter{cfg: cfg, store: store}
}

// Routes mounts GET /incidents/{id}/cap and GET /zones/{id}/cap.
func (x *Exporter) Routes(r chi.Router) {
	r.Get("/incidents/{id}/cap", x.handler(LayerIncidents))
	r.Get("/zones/{id}/cap", x.handler(LayerZones))
}

func (x *Exporter) handler(layer string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := chi.URLParam(r, "id")
		var f *layers.Feature
		if l := x.store.Layer(layer); l != nil {
			f = l.Get(id)
		}
		if f == nil || !streams.SeenBy(r.Context(), f) { // outside the caller's scope: not disclosed
			streams.WriteError(w, http.StatusNotFound, "not_found", fmt.Sprintf("%s has no feature %q", layer, id))
			return
		}
		a, err := x.Alert(f)
		var doc []byte
		if err == nil {
			doc, err = Marshal(a)
		}
		if err != nil {
			streams.WriteError(w, http.StatusUnprocessableEntity, "not_exportable", err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/cap+xml; charset=utf-8")
		_, _ = w.Write(doc)
	}
}

// source is what the export reads of an incident's or a zone's properties.
type source struct {
	Category     string    `json:"category"`
	Severity     string    `json:"severity"`
	Status       string    `json:"status"`
	Title        string    `json:"title"`
	Name         string    `json:"name"`
	Kind         string    `json:"kind"`
	Description  string    `json:"description"`
	District     string    `json:"district"`
	DistrictCode string    `json:"districtCode"`
	Ward         string    `json:"ward"`
	WardCode     string    `json:"wardCode"`
	Opened       time.Time `json:"opened"`
	Declared     time.Time `json:"declared"`
	Resolved     time.Time `json:"resolved"`
	Closed       time.Time `json:"closed"`
	Updated      time.Time `json:"updated"`
	Evidence     []any     `json:"evidence"`      // the newest items
	EvidenceN    int       `json:"evidenceCount"` // all of them
	Radius       float64   `json:"radius"`        // metres, when an incident gives one
}

// SeverityOf maps the IOC severity to CAP's.
var SeverityOf = map[string]string{"critical": "Extreme", "major": "Severe", "minor": "Moderate", "info": "Minor"}

// urgencyOf: what the IOC has observed is happening now or about to.
var urgencyOf = map[string]string{"critical": "Immediate", "major": "Immediate", "minor": "Expected", "info": "Future"}

// CategoryOf maps incident categories to CAP categories; others are Other.
var CategoryOf = map[string]string{
	"flooding": "Met", "storm": "Met", "rain": "Met", "landslide": "Geo", "air_quality": "Env", "water_quality": "Env",
	"traffic": "Transport", "lighting": "Infra", "power": "Infra", "sensor_offline": "Infra", "fire": "Fire",
	"health": "Health", "rescue": "Rescue", "trapped_people": "Rescue", "security": "Security", "report_cluster": "Safety",
}

// Alert maps an incident or zone feature to a CAP alert. The alert's
// identifier and sent time derive from when the incident opened (the zone
// was declared), so exporting it again gives the same alert; once it is
// resolved (closed) the export is a Cancel of that alert, sent when it
// was resolved, with references naming it.
func (x *Exporter) Alert(f *layers.Feature) (*Alert, error) {
	var s source
	if err := json.Unmarshal(f.Properties, &s); err != nil {
		return nil, fmt.Errorf("%s %s: properties: %w", f.Layer, f.ID, err)
	}
	zone := f.Layer == LayerZones
	start, end, event, category := s.Opened, s.Resolved, s.Title, CategoryOf[s.Category]
	if zone {
		start, end, event, category = s.Declared, s.Closed, s.Name, "Safety"
	}
	if category == "" {
		category = "Other"
	}
	if start.IsZero() {
		start = f.Time
	}
	if event == "" {
		event = strings.ReplaceAll(s.Category, "_", " ")
	}
	severity, ok := SeverityOf[s.Severity]
	if !ok {
		return nil, fmt.Errorf("%s %s: severity %q is not one of critical, major, minor, info", f.Layer, f.ID, s.Severity)
	}
	ident := x.identifier(f, start)
	a := &Alert{Identifier: ident, Sender: x.cfg.Sender, Sent: x.format(start), Status: "Actual", MsgType: "Alert", Scope: "Public"}
	if over := s.Status == "resolved" || s.Status == "closed"; over {
		if end.IsZero() {
			end = f.Time
		}
		a.Identifier, a.Sent, a.MsgType = ident+".cancel", x.format(end), "Cancel"
		a.References = x.cfg.Sender + "," + ident + "," + x.format(start)
		a.Note = fmt.Sprintf("%s %s at %s", f.ID, s.Status, x.format(end))
	}
	info := Info{Language: x.cfg.Language, Categories: []string{category}, Event: event, Urgency: urgencyOf[s.Severity],
		Severity: severity, Certainty: "Observed", SenderName: x.cfg.SenderName, Headline: event,
		Description: x.description(f, &s, zone)}
	if a.MsgType == "Cancel" {
		info.ResponseType, info.Urgency = []string{"AllClear"}, "Past"
	}
	info.Areas = []Area{x.area(f, &s)}
	a.Infos = []Info{info}
	return a, nil
}

// identifier: sender domain, layer, id and opening time, with the
// characters CAP forbids replaced.
func (x *Exporter) identifier(f *layers.Feature, start time.Time) string {
	domain := x.cfg.Sender[strings.LastIndexByte(x.cfg.Sender, '@')+1:]
	id := strings.Map(func(r rune) rune {
		if r == ' ' || r == ',' || r == '<' || r == '&' || r < 0x20 {
			return '_'
		}
		return r
	}, f.ID)
	return fmt.Sprintf("%s.%s.%s.%s", domain, f.Layer, id, start.UTC().Format("20060102T150405Z"))
}

func (x *Exporter) format(t time.Time) string { return t.In(x.cfg.Zone).Format(TimeLayout) }

func (x *Exporter) description(f *layers.Feature, s *source, zone bool) string {
	if zone {
		d := s.Description
		if d == "" {
			d = fmt.Sprintf("Vùng %s (%s)", s.Name, s.Kind)
		}
		return d
	}
	return fmt.Sprintf("%s: %s, mức %s, trạng thái %s; %d bằng chứng.", f.ID, s.Category, s.Severity, s.Status, max(len(s.Evidence), s.EvidenceN))
}

// area: a polygon for an area incident or a zone, a circle around a point
// incident; areaDesc names the ward and district.
func (x *Exporter) area(f *layers.Feature, s *source) Area {
	var names []string
	for _, n := range []string{s.Ward, s.District} {
		if n != "" {
			names = append(names, n)
		}
	}
	names = append(names, "Thành phố Đà Nẵng")
	ar := Area{AreaDesc: strings.Join(names, ", ")}
	switch g := f.Geometry.(type) {
	case *geom.Point:
		r := x.cfg.PointRadiusKm
		if s.Radius > 0 {
			r = s.Radius / 1000
		}
		ar.Circles = []string{fmt.Sprintf("%s,%s %s", num(g.Y()), num(g.X()), num(r))}
	case *geom.Polygon:
		ar.Polygons = []string{polygonText(g.LinearRing(0).FlatCoords())}
	case *geom.MultiPolygon:
		for i := range g.NumPolygons() {
			ar.Polygons = append(ar.Polygons, polygonText(g.Polygon(i).LinearRing(0).FlatCoords()))
		}
	default:
		b := f.Bounds
		ar.Polygons = []string{polygonText([]float64{b.MinX, b.MinY, b.MaxX, b.MinY, b.MaxX, b.MaxY, b.MinX, b.MaxY, b.MinX, b.MinY})}
	}
	if s.DistrictCode != "" {
		ar.Geocodes = append(ar.Geocodes, NamedValue{"VN-GSO-district", s.DistrictCode})
	}
	if s.WardCode != "" {
		ar.Geocodes = append(ar.Geocodes, NamedValue{"VN-GSO-ward", s.WardCode})
	}
	return ar
}

// polygonText writes a ring as CAP's "lat,lon ..." (latitude first).
func polygonText(flat []float64) string {
	parts := make([]string, 0, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		parts = append(parts, num(flat[i+1])+","+num(flat[i]))
	}
	return strings.Join(parts, " ")
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
