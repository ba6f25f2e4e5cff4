package cap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
)

// LayerAlerts is the layer of received CAP alerts: one feature per area of
// each info. Its name is public API.
const LayerAlerts = "alerts.cap"

// circleSides is how many sides the polygon standing in for a CAP circle
// has: 32 keeps the outline within 0.5 % of the radius.
const circleSides = 32

// Reader is what ingest reads of the live layers: the features of earlier
// alerts an Update or Cancel replaces. *layers.Store satisfies it.
type Reader interface {
	Layer(name string) *layers.Layer
}

// Ingest takes CAP alerts over HTTP and submits their areas as events.
type Ingest struct {
	intake *streams.Intake
	store  Reader
	log    *slog.Logger
	m      *prometheus.CounterVec
}

// NewIngest returns the CAP ingest endpoint; reg may be nil.
func NewIngest(intake *streams.Intake, store Reader, reg prometheus.Registerer, log *slog.Logger) *Ingest {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ioc_cap_alerts_total",
		Help: "CAP alerts received on POST /api/v1/cap, by outcome (accepted, invalid, unsupported_media_type, failed)."}, []string{"outcome"})
	if reg != nil {
		reg.MustRegister(m)
	}
	return &Ingest{intake: intake, store: store, log: log, m: m}
}

// Routes mounts POST /cap (under /api/v1 in iocd).
func (in *Ingest) Routes(r chi.Router) {
	r.Post("/cap", in.ServeHTTP)
}

// IngestResponse is the body of a 202.
type IngestResponse struct {
	Identifier string              `json:"identifier"`
	Accepted   int                 `json:"accepted"`
	Features   []string            `json:"features"`
	Deleted    []string            `json:"deleted"`
	Rejected   []streams.Rejection `json:"rejected"`
	Note       string              `json:"note,omitempty"`
}

// ServeHTTP handles POST /api/v1/cap.
func (in *Ingest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/cap+xml" && mt != "application/xml" && mt != "text/xml" {
		in.m.WithLabelValues("unsupported_media_type").Inc()
		streams.WriteError(w, http.StatusUnsupportedMediaType, "unsupported_media_type",
			fmt.Sprintf("Content-Type %q: send a CAP 1.2 document as application/cap+xml or application/xml", mt))
		return
	}
	a, err := Decode(http.MaxBytesReader(w, r.Body, MaxSize))
	if err != nil {
		in.m.WithLabelValues("invalid").Inc()
		writeInvalid(w, err)
		return
	}
	resp, err := in.Submit(r.Context(), a)
	if err != nil {
		in.m.WithLabelValues("failed").Inc()
		in.log.Error("cap alert not applied", "identifier", a.Identifier, "err", err)
		streams.WriteError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	}
	in.m.WithLabelValues("accepted").Inc()
	writeJSON(w, http.StatusAccepted, resp)
}

// invalidBody is the 400 of an alert that is not valid CAP 1.2.
type invalidBody struct {
	Error struct {
		Code     string    `json:"code"`
		Message  string    `json:"message"`
		Problems []Problem `json:"problems,omitempty"`
	} `json:"error"`
}

func writeInvalid(w http.ResponseWriter, err error) {
	var b invalidBody
	b.Error.Code, b.Error.Message = "invalid_cap", err.Error()
	var ce *Error
	if errors.As(err, &ce) {
		b.Error.Problems = ce.Problems
	}
	writeJSON(w, http.StatusBadRequest, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// Submit turns a valid alert into events and submits them through the
// intake: its areas become features, and an Update or Cancel first deletes
// the features of the alerts it references. A Draft is not actionable
// (CAP 1.2) and changes nothing.
func (in *Ingest) Submit(ctx context.Context, a *Alert) (*IngestResponse, error) {
	resp := &IngestResponse{Identifier: a.Identifier, Features: []string{}, Deleted: []string{}, Rejected: []streams.Rejection{}}
	if a.Status == "Draft" {
		resp.Note = "status Draft: a draft is not actionable and is not mapped"
		return resp, nil
	}
	sent, _ := time.Parse(TimeLayout, a.Sent) // Validate checked it
	var events []layers.Event
	if a.MsgType == "Update" || a.MsgType == "Cancel" {
		for _, id := range in.referenced(a.References) {
			events = append(events, layers.Event{Layer: LayerAlerts, ID: id, Op: layers.OpDelete, Time: sent})
			resp.Deleted = append(resp.Deleted, id)
		}
	}
	if a.MsgType != "Cancel" {
		evs, rejected := Features(a)
		events = append(events, evs...)
		resp.Rejected = append(resp.Rejected, rejected...)
		for _, ev := range evs {
			resp.Features = append(resp.Features, ev.ID)
		}
	}
	if len(events) == 0 {
		return resp, nil
	}
	b, err := in.intake.SubmitEvents(ctx, events)
	if err != nil {
		return nil, err
	}
	// No module owns alerts.cap today, so the intake refuses nothing; a
	// module added later may, and its refusals are reported as they are
	// (indexes count the deletions first, then the areas).
	resp.Accepted = len(resp.Features)
	for _, rj := range b.Rejected {
		resp.Rejected = append(resp.Rejected, rj)
		if rj.Index >= len(resp.Deleted) {
			resp.Accepted--
		}
	}
	return resp, nil
}

// referenced lists the features of the alerts named in references.
func (in *Ingest) referenced(refs string) []string {
	l := in.store.Layer(LayerAlerts)
	if l == nil {
		return nil
	}
	var ids []string
	all := l.InRect(nil, geo.World, 0)
	for _, ref := range strings.Fields(refs) {
		parts := strings.Split(ref, ",")
		if len(parts) != 3 {
			continue
		}
		prefix := featurePrefix(parts[0], parts[1])
		for _, f := range all {
			if strings.HasPrefix(f.ID, prefix) {
				ids = append(ids, f.ID)
			}
		}
	}
	return ids
}

// featurePrefix: alert identifiers are unique per sender, so features are
// named by both.
func featurePrefix(sender, identifier string) string { return sender + "/" + identifier + "/" }

// alertProps are the properties of an alerts.cap feature.
type alertProps struct {
	Identifier   string            `json:"identifier"`
	Sender       string            `json:"sender"`
	Sent         time.Time         `json:"sent"`
	Status       string            `json:"status"`
	MsgType      string            `json:"msgType"`
	Scope        string            `json:"scope"`
	Language     string            `json:"language,omitempty"`
	Category     []string          `json:"category"`
	Event        string            `json:"event"`
	ResponseType []string          `json:"responseType,omitempty"`
	Urgency      string            `json:"urgency"`
	Severity     string            `json:"severity"`
	Certainty    string            `json:"certainty"`
	Effective    *time.Time        `json:"effective,omitempty"`
	Onset        *time.Time        `json:"onset,omitempty"`
	Expires      *time.Time        `json:"expires,omitempty"`
	SenderName   string            `json:"senderName,omitempty"`
	Headline     string            `json:"headline,omitempty"`
	Description  string            `json:"description,omitempty"`
	Instruction  string            `json:"instruction,omitempty"`
	Web          string            `json:"web,omitempty"`
	AreaDesc     string            `json:"areaDesc"`
	Geocode      map[string]string `json:"geocode,omitempty"`
	Circles      []circleProp      `json:"circles,omitempty"`
}

type circleProp struct {
	Lat      float64 `json:"lat"`
	Lon      float64 `json:"lon"`
	RadiusKm float64 `json:"radiusKm"`
}

// Features maps each info/area of a valid alert to an event on
// alerts.cap, id sender/identifier/info/area. An area without a polygon or
// circle (geocodes only) cannot be drawn: it is rejected, with its index
// counted over all areas of the alert in order.
func Features(a *Alert) ([]layers.Event, []streams.Rejection) {
	sent, _ := time.Parse(TimeLayout, a.Sent)
	var events []layers.Event
	var rejected []streams.Rejection
	n := 0
	for i := range a.Infos {
		in := &a.Infos[i]
		for j := range in.Areas {
			ar := &in.Areas[j]
			g, circles := areaGeometry(ar)
			if g == nil {
				rejected = append(rejected, streams.Rejection{Index: n, Reason: streams.ReasonUnsupportedGeom,
					Error: fmt.Sprintf("alert/info[%d]/area[%d]: no polygon or circle; an area given only by geocodes is not mapped", i, j)})
				n++
				continue
			}
			n++
			p := infoProps(a, in, sent)
			p.AreaDesc, p.Circles, p.Geocode = ar.AreaDesc, circles, geocodes(ar.Geocodes)
			raw, _ := json.Marshal(p)
			events = append(events, layers.Event{Layer: LayerAlerts, ID: fmt.Sprintf("%s%d/%d", featurePrefix(a.Sender, a.Identifier), i, j),
				Time: sent, Geometry: g, Properties: raw})
		}
	}
	return events, rejected
}

func infoProps(a *Alert, in *Info, sent time.Time) alertProps {
	return alertProps{Identifier: a.Identifier, Sender: a.Sender, Sent: sent, Status: a.Status, MsgType: a.MsgType, Scope: a.Scope,
		Language: in.Language, Category: in.Categories, Event: in.Event, ResponseType: in.ResponseType, Urgency: in.Urgency,
		Severity: in.Severity, Certainty: in.Certainty, Effective: optTime(in.Effective), Onset: optTime(in.Onset),
		Expires: optTime(in.Expires), SenderName: in.SenderName, Headline: in.Headline, Description: in.Description,
		Instruction: in.Instruction, Web: in.Web}
}

func optTime(s string) *time.Time {
	if s == "" {
		return nil
	}
	t, err := time.Parse(TimeLayout, s)
	if err != nil {
		return nil
	}
	t = t.UTC()
	return &t
}

func geocodes(nvs []NamedValue) map[string]string {
	if len(nvs) == 0 {
		return nil
	}
	m := make(map[string]string, len(nvs))
	for _, nv := range nvs {
		m[nv.ValueName] = nv.Value
	}
	return m
}

// areaGeometry: one polygon is a Polygon; several, or any circle (drawn as
// a 32-sided polygon), make a MultiPolygon. nil when the area has neither.
func areaGeometry(ar *Area) (geom.T, []circleProp) {
	var rings [][]float64
	for _, s := range ar.Polygons {
		pts, err := ParsePolygon(s)
		if err != nil {
			continue // Validate refused it already
		}
		ring := make([]float64, 0, 2*len(pts))
		for _, p := range pts {
			ring = append(ring, p.Lon, p.Lat)
		}
		rings = append(rings, ring)
	}
	var circles []circleProp
	for _, s := range ar.Circles {
		c, err := ParseCircle(s)
		if err != nil {
			continue
		}
		circles = append(circles, circleProp{c.Centre.Lat, c.Centre.Lon, c.RadiusKm})
		rings = append(rings, circleRing(c))
	}
	switch len(rings) {
	case 0:
		return nil, nil
	case 1:
		if len(circles) == 0 {
			return geom.NewPolygonFlat(geom.XY, rings[0], []int{len(rings[0])}), nil
		}
	}
	var flat []float64
	var endss [][]int
	for _, r := range rings {
		flat = append(flat, r...)
		endss = append(endss, []int{len(flat)})
	}
	return geom.NewMultiPolygonFlat(geom.XY, flat, endss), circles
}

// circleRing approximates a circle by a closed ring of circleSides sides,
// on the local equirectangular plane (exact enough at city scale).
func circleRing(c Circle) []float64 {
	const earthKm = 6371.0088
	r := math.Max(c.RadiusKm, 0.001) // a zero radius still draws a dot
	dLat := r / earthKm * 180 / math.Pi
	dLon := dLat / math.Cos(c.Centre.Lat*math.Pi/180)
	ring := make([]float64, 0, 2*(circleSides+1))
	for i := range circleSides {
		a := 2 * math.Pi * float64(i) / circleSides
		ring = append(ring, clampLon(c.Centre.Lon+dLon*math.Cos(a)), clampLat(c.Centre.Lat+dLat*math.Sin(a)))
	}
	return append(ring, ring[0], ring[1])
}

func clampLat(v float64) float64 { return math.Max(-90, math.Min(90, v)) }
func clampLon(v float64) float64 { return math.Max(-180, math.Min(180, v)) }
