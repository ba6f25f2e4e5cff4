package open311

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
)

// maxIDs is the most ids one service_request_id filter may list.
const maxIDs = 1000

// query is a parsed GET requests.json.
type query struct {
	ids        []string // when set, every other filter is ignored
	codes      map[string]bool
	start, end time.Time // requested_datetime window, both inclusive
	open       bool
	closed     bool
}

// listRequests answers GET requests.json.
func (a *API) listRequests(w http.ResponseWriter, r *http.Request) int {
	if code, ok := checkFormat(w, chi.URLParam(r, "format")); !ok {
		return code
	}
	q, errs := a.parseQuery(r.URL.Query())
	if errs != nil {
		return writeJSON(w, http.StatusBadRequest, errs)
	}
	en := english(r)
	out := []requestJSON{}
	l := a.layer()
	if l == nil {
		return writeJSON(w, http.StatusOK, out)
	}
	if q.ids != nil {
		for _, id := range q.ids {
			if f := l.Get(id); f != nil && streams.SeenBy(r.Context(), f) {
				out = append(out, a.request(readReport(f), en))
			}
		}
		return writeJSON(w, http.StatusOK, out)
	}
	matched := slices.DeleteFunc(a.match(l, &q), func(rp *report) bool { return !streams.SeenBy(r.Context(), rp.f) })
	if len(matched) > a.cfg.MaxResults {
		matched = matched[:a.cfg.MaxResults]
		w.Header().Set("X-Open311-Truncated", "true")
	}
	for _, rp := range matched {
		out = append(out, a.request(rp, en))
	}
	return writeJSON(w, http.StatusOK, out)
}

// match returns the layer's reports that pass q, newest first.
func (a *API) match(l *layers.Layer, q *query) []*report {
	var out []*report
	for _, f := range l.InRect(nil, geo.World, 0) {
		rp := readReport(f)
		if rp.requested.Before(q.start) || rp.requested.After(q.end) {
			continue
		}
		if q.codes != nil && !q.codes[a.serviceCode(rp)] {
			continue
		}
		if q.open != q.closed && q.closed != isClosed(rp.status) {
			continue
		}
		out = append(out, rp)
	}
	slices.SortFunc(out, func(x, y *report) int {
		if c := y.requested.Compare(x.requested); c != 0 {
			return c
		}
		return cmp.Compare(x.f.ID, y.f.ID)
	})
	return out
}

// getRequest answers GET requests/{service_request_id}.json with a
// one-element array, or 404.
func (a *API) getRequest(w http.ResponseWriter, r *http.Request) int {
	id, format, ok := splitFile(r)
	if !ok {
		return writeErrors(w, http.StatusBadRequest, "add the format to the id: requests/{service_request_id}.json")
	}
	if code, ok := checkFormat(w, format); !ok {
		return code
	}
	var f *layers.Feature
	if l := a.layer(); l != nil {
		f = l.Get(id)
	}
	if f == nil || !streams.SeenBy(r.Context(), f) { // outside the caller's scope: not disclosed
		return writeErrors(w, http.StatusNotFound, fmt.Sprintf("service_request_id %s is not known", quote(id)))
	}
	return writeJSON(w, http.StatusOK, []requestJSON{a.request(readReport(f), english(r))})
}

// parseQuery reads the filters of GET requests.json.
func (a *API) parseQuery(v url.Values) (query, []SpecError) {
	p := &parser{v: v}
	var q query
	if s, ok := p.get("service_request_id"); ok && s != "" {
		q.ids = splitList(s)
		if len(q.ids) > maxIDs {
			p.fail(http.StatusBadRequest, "service_request_id", "lists %d ids, at most %d are allowed", len(q.ids), maxIDs)
		}
		return q, p.errs // overrides every other filter
	}
	if s, ok := p.get("service_code"); ok && s != "" {
		q.codes = map[string]bool{}
		for _, c := range splitList(s) {
			q.codes[c] = true
		}
	}
	if s, ok := p.get("status"); ok && s != "" {
		for _, st := range splitList(s) {
			switch strings.ToLower(st) {
			case "open":
				q.open = true
			case "closed":
				q.closed = true
			default:
				p.fail(http.StatusBadRequest, "status", "%s is not a status: use open, closed or open,closed", quote(st))
			}
		}
	}
	a.parseWindow(p, &q)
	return q, p.errs
}

// parseWindow sets the requested_datetime window: start_date and
// end_date, at most Window apart; the window defaults to the Window
// before end_date (or now), or after start_date when only it is given.
func (a *API) parseWindow(p *parser, q *query) {
	start, okS := a.date(p, "start_date", false)
	end, okE := a.date(p, "end_date", true)
	if !okS || !okE {
		return
	}
	switch {
	case start.IsZero() && end.IsZero():
		end = a.cfg.Now()
		start = end.Add(-a.cfg.Window)
	case start.IsZero():
		start = end.Add(-a.cfg.Window)
	case end.IsZero():
		end = start.Add(a.cfg.Window)
	case end.Before(start):
		p.fail(http.StatusBadRequest, "end_date", "%s is before start_date %s", p.v.Get("end_date"), p.v.Get("start_date"))
	case end.Sub(start) > a.cfg.Window:
		p.fail(http.StatusBadRequest, "end_date", "the window from start_date to end_date is %s, at most %s is allowed: "+
			"ask for several windows", days(end.Sub(start)), days(a.cfg.Window))
	}
	q.start, q.end = start, end
}

func days(d time.Duration) string {
	return fmt.Sprintf("%.4g days", d.Hours()/24)
}

// date reads a W3C datetime (RFC 3339 with a zone, seconds optional), or a
// date alone, which means the start of that day in Zone or, for an end,
// its end. Zero when absent.
func (a *API) date(p *parser, field string, end bool) (time.Time, bool) {
	s, ok := p.get(field)
	if !ok || s == "" {
		return time.Time{}, ok
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, strings.ToUpper(s)); err == nil {
			return t, true
		}
	}
	if t, err := time.ParseInLocation("2006-01-02", s, a.cfg.Zone); err == nil {
		if end {
			t = t.AddDate(0, 0, 1).Add(-time.Nanosecond)
		}
		return t, true
	}
	hint := ` (e.g. "2026-11-27T08:30:00+07:00", "2026-11-27T01:30:00Z" or "2026-11-27")`
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if _, err := time.Parse(layout, s); err == nil {
			hint = `: it has no time zone, add one (e.g. "2026-11-27T08:30:00+07:00")`
		}
	}
	p.fail(http.StatusBadRequest, field, "%s is not a W3C datetime%s", quote(s), hint)
	return time.Time{}, false
}

// splitList splits a comma list, dropping blanks and repeats.
func splitList(s string) []string {
	out := []string{}
	seen := map[string]bool{}
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" && !seen[part] {
			seen[part] = true
			out = append(out, part)
		}
	}
	return out
}
