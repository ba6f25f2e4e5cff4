package feedback

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
	"github.com/danang-ioc/ioc/streams/internal/props"
)

// Statuses is the workflow: received → assigned → in_progress → resolved,
// or rejected. A report moves forward only, and may skip steps (a hotline
// operator can resolve a call at once); rejected is reachable from every
// open status; resolved and rejected are final. Reassigning a report keeps
// its status and changes its agencyResponsible; a report that comes back after it
// was resolved is a new report.
var Statuses = []string{"received", "assigned", "in_progress", "resolved", "rejected"}

var rank = map[string]int{"received": 0, "assigned": 1, "in_progress": 2, "resolved": 3, "rejected": 3}

func isOpen(status string) bool { return status != "resolved" && status != "rejected" }

// allowed says whether a report may go from one status to the next.
func allowed(from, to string) bool {
	switch {
	case from == to:
		return true
	case !isOpen(from):
		return false
	case to == "rejected":
		return true
	}
	return rank[to] > rank[from]
}

// next lists the statuses allowed after from, for error messages.
func next(from string) string {
	var out []string
	for _, s := range Statuses {
		if s != from && allowed(from, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return "none: " + from + " is final, a new problem is a new report"
	}
	return strings.Join(out, ", ")
}

// derived are computed by the module; a report's own values are dropped.
var derived = []string{"statusHistory", "statusSince", "reportedAt", "open", "priority", "possibleDuplicateOf"}

// maxDescription is Open311's limit on a description, in characters.
const maxDescription = 4000

// incoming is a validated report event.
type incoming struct {
	p props.Props
	// status is a workflow status, or statusOpen / statusClosed (resolved
	// against the report); statusOriginal is the value sent when it was
	// not the status itself, statusField the property it came from.
	status, statusOriginal, statusField string
	hasStatus                           bool
	// category is the category sent, mapped (categoryOriginal: the value
	// sent when it was not the category itself).
	category, categoryOriginal string
	hasCat                     bool
}

func readReport(ev layers.Event) (incoming, error) {
	p, err := props.FromEvent(ev, "Point")
	if err != nil {
		return incoming{}, err
	}
	p.Alias("mediaURL", "media_url")
	p.Alias("agencyResponsible", "agency_responsible", "assignee")
	p.Alias("statusNotes", "status_notes")
	in := incoming{p: p}
	if in.category, in.categoryOriginal, in.hasCat, err = readCategory(p); err != nil {
		return in, err
	}
	if in.status, in.statusOriginal, in.statusField, in.hasStatus, err = readStatus(p); err != nil {
		return in, err
	}
	if _, _, err = p.EnumFold("channel", Channels); err != nil {
		return in, err
	}
	if _, _, err = p.Str("agencyResponsible"); err != nil {
		return in, err
	}
	if d, _, err := p.Str("description"); err != nil {
		return in, err
	} else if n := utf8.RuneCountInString(d); n > maxDescription {
		return in, props.Invalid(props.Path("description"), "description is %d characters long, at most %d are allowed", n, maxDescription)
	}
	if err := checkURL(p); err != nil {
		return in, err
	}
	for _, k := range derived {
		delete(p, k)
	}
	if in.categoryOriginal != "" {
		p.SetStr("categoryOriginal", in.categoryOriginal)
	}
	if in.statusOriginal != "" {
		p.SetStr("statusOriginal", in.statusOriginal)
	}
	return in, nil
}

func checkURL(p props.Props) error {
	s, ok, err := p.Str("mediaURL")
	if err != nil || !ok {
		return err
	}
	u, perr := url.Parse(s)
	if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return props.Invalid(props.Path("mediaURL"), "mediaURL must be an http or https URL, got %q", s)
	}
	return nil
}

// apply merges an event into its report and renders the report. A late
// event (older than the report's newest) still records its status in the
// history, in its place, but does not overwrite newer properties; the
// report is then rendered as of its newest event.
func (m *Module) apply(ev layers.Event, in incoming) (layers.Event, error) {
	r := m.reports[ev.ID]
	if r == nil {
		return m.create(ev, in)
	}
	late := ev.Time.Before(r.time)
	if in.hasCat && in.category != r.category && !late {
		r.category = in.category
	}
	current := r.statusAt(ev.Time)
	status := current
	if in.hasStatus {
		status = resolveStatus(in.status, current)
	}
	history, err := withTransition(r.history, transition{status, ev.Time})
	if err != nil {
		return ev, sentAs(err, in)
	}
	r.history = history
	if late {
		return m.render(ev.ID, r), nil
	}
	// A category or status sent as itself makes the original of an
	// earlier, mapped one wrong.
	if _, sent := in.p["categoryOriginal"]; in.hasCat && !sent {
		delete(r.props, "categoryOriginal")
	}
	if _, sent := in.p["statusOriginal"]; in.hasStatus && !sent {
		delete(r.props, "statusOriginal")
	}
	for k, v := range in.p {
		r.props[k] = v
	}
	r.time, r.geometry = ev.Time, ev.Geometry
	r.lon, r.lat = lonLat(ev.Geometry)
	return m.render(ev.ID, r), nil
}

// sentAs adds to a refusal of a status that was sent in another
// vocabulary the value as it was sent.
func sentAs(err error, in incoming) error {
	var ee *streams.EventError
	if in.statusOriginal == "" || !errors.As(err, &ee) {
		return err
	}
	c := *ee
	c.Msg += fmt.Sprintf(" (sent as %s %q)", in.statusField, in.statusOriginal)
	return &c
}

func (m *Module) create(ev layers.Event, in incoming) (layers.Event, error) {
	category := in.category
	if !in.hasCat {
		cat, original, ok := serviceCategory(in.p)
		if !ok {
			return ev, props.Invalid(props.Path("category"), "category is required for a new report: one of %s "+
				"(or an Open311 service_code or service_name)", strings.Join(Categories, ", "))
		}
		category = cat
		if original != "" {
			in.p.SetStr("categoryOriginal", original)
		}
	}
	status := "received"
	if in.hasStatus {
		status = resolveStatus(in.status, "")
	}
	r := &report{props: in.p, history: []transition{{status, ev.Time}}, time: ev.Time, geometry: ev.Geometry, category: category}
	r.lon, r.lat = lonLat(ev.Geometry)
	if dup := m.duplicateOf(ev.Time, r); dup != "" {
		r.props.SetStr("possibleDuplicateOf", dup)
	}
	m.reports[ev.ID] = r
	m.recent = append(m.recent, created{ev.ID, ev.Time})
	return m.render(ev.ID, r), nil
}

// withTransition returns the history with a status at time t, checking
// that the whole history stays a legal path. Histories stay short (a
// handful of entries), so it simply inserts, collapses repeats and walks.
func withTransition(h []transition, tr transition) ([]transition, error) {
	i := len(h)
	for i > 0 && h[i-1].Time.After(tr.Time) {
		i--
	}
	hist := slices.Insert(slices.Clone(h), i, tr)
	// A repeat of the status in effect keeps the earlier time; a status
	// recorded later than it is now known to have begun moves earlier.
	hist = slices.CompactFunc(hist, func(a, b transition) bool { return a.Status == b.Status })
	for j := 1; j < len(hist); j++ {
		if !allowed(hist[j-1].Status, hist[j].Status) {
			return h, illegal(h, tr, hist[j-1].Status, hist[j].Status)
		}
	}
	return hist, nil
}

func illegal(h []transition, tr transition, from, to string) error {
	if !h[len(h)-1].Time.After(tr.Time) {
		return props.Invalid(props.Path("status"), "illegal status transition %s → %s (allowed from %s: %s)", from, to, from, next(from))
	}
	var steps []string
	for _, t := range h {
		steps = append(steps, t.Status+" at "+t.Time.UTC().Format(time.RFC3339))
	}
	return props.Invalid(props.Path("status"), "status %s at %s does not fit the report's history (%s): it would make %s → %s",
		tr.Status, tr.Time.UTC().Format(time.RFC3339), strings.Join(steps, ", "), from, to)
}

func (r *report) status() string { return r.history[len(r.history)-1].Status }

// statusAt is the status in effect at t.
func (r *report) statusAt(t time.Time) string {
	s := r.history[0].Status
	for _, tr := range r.history {
		if tr.Time.After(t) {
			break
		}
		s = tr.Status
	}
	return s
}

// render builds the report's event as of its newest state.
func (m *Module) render(id string, r *report) layers.Event {
	p := r.props.Clone()
	last := r.history[len(r.history)-1]
	hist := make([]byte, 0, 16+48*len(r.history))
	for i, tr := range r.history {
		if i > 0 {
			hist = append(hist, ',')
		}
		hist = append(append(hist, `{"status":"`...), tr.Status...)
		hist = tr.Time.UTC().AppendFormat(append(hist, `","time":"`...), time.RFC3339Nano)
		hist = append(hist, `"}`...)
	}
	p.SetStr("category", r.category)
	p.SetStr("status", last.Status)
	p["statusHistory"] = append(append([]byte{'['}, hist...), ']')
	p.SetTime("statusSince", last.Time)
	p.SetTime("reportedAt", r.history[0].Time)
	p.SetBool("open", isOpen(last.Status))
	prio, ok := priorities[r.category]
	if !ok {
		prio = "normal"
	}
	p.SetStr("priority", prio)
	ev := layers.Event{Layer: LayerReports, ID: id, Op: layers.OpUpsert, Time: r.time, Geometry: r.geometry}
	return props.With(ev, p)
}

// duplicateOf finds an open report of the same category made within the
// duplicate window and radius of a new one; it names the original, so a
// chain of duplicates points at the first report. Reports created long
// before (the recent list is pruned) are not considered.
func (m *Module) duplicateOf(t time.Time, r *report) string {
	cut := 0
	for cut < len(m.recent) && t.Sub(m.recent[cut].at) > m.cfg.DuplicateWindow {
		cut++
	}
	m.recent = m.recent[cut:]
	best, bestAt := "", time.Time{}
	for _, c := range m.recent {
		o := m.reports[c.id]
		if o == nil || o.category != r.category || !isOpen(o.status()) || c.at.Sub(t).Abs() > m.cfg.DuplicateWindow {
			continue
		}
		if distance(o.lon, o.lat, r.lon, r.lat) > m.cfg.DuplicateRadius {
			continue
		}
		if best == "" || c.at.Before(bestAt) {
			best, bestAt = c.id, c.at
		}
	}
	if o := m.reports[best]; o != nil {
		if orig, ok, _ := o.props.Str("possibleDuplicateOf"); ok && m.reports[orig] != nil {
			return orig
		}
	}
	return best
}

func lonLat(g geom.T) (float64, float64) {
	if pt, ok := g.(*geom.Point); ok {
		return pt.X(), pt.Y()
	}
	return math.NaN(), math.NaN()
}

// distance in metres between two nearby points (equirectangular; exact
// enough within a city).
func distance(lon1, lat1, lon2, lat2 float64) float64 {
	const r = 6371008.8
	x := (lon2 - lon1) * math.Pi / 180 * math.Cos((lat1+lat2)/2*math.Pi/180)
	y := (lat2 - lat1) * math.Pi / 180
	return r * math.Hypot(x, y)
}
