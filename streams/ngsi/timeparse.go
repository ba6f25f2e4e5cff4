package ngsi

import (
	"bytes"
	"strings"
	"time"

	"github.com/danang-ioc/ioc/streams"
)

// timeAttrs are the Smart Data Models attributes that date an entity's
// observation, most specific first. The first one an entity carries is
// used when no attribute has an observedAt.
var timeAttrs = []string{
	"dateObserved", "observationDateTime", "TimeInstant", "dateObservedTo",
	"dateModified", "dateIssued", "updated_datetime", "requested_datetime",
}

// zoneless are the layouts tried, in the configured local zone, for
// timestamps without an offset; withOffset are ISO 8601 forms Go's RFC 3339
// parser refuses.
var (
	zoneless   = []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"}
	withOffset = []string{"2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999Z07"}
)

// parseTime reads an ISO 8601 timestamp. Merely sloppy forms are
// normalised: no offset (taken in zone), lower-case 't'/'z', a space for
// the 'T', "+0700" offsets. An interval "start/end" is dated by its end.
func parseTime(s string, zone *time.Location) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if _, end, ok := strings.Cut(s, "/"); ok {
		s = end
	}
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	for _, layout := range withOffset {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	for _, layout := range zoneless {
		if t, err := time.ParseInLocation(layout, s, zone); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// checkTime parses the quoted timestamp v, found in the attribute a (at
// its observedAt when sub is set).
func (d *decoder) checkTime(v []byte, a *attr, sub bool) (time.Time, *streams.EventError) {
	path := func() string {
		if sub {
			return string(a.name) + ".observedAt"
		}
		return a.path()
	}
	if len(v) == 0 || v[0] != '"' {
		return time.Time{}, errorf(streams.ReasonInvalidTime, path(),
			`want an ISO 8601 timestamp string such as "2025-07-01T08:30:00+07:00", found %s`, kindOf(v))
	}
	if bytes.Equal(v, d.lastTimeRaw) {
		return d.lastTime, nil
	}
	s := unquote(v)
	t, ok := parseTime(s, d.cfg.LocalZone)
	if !ok {
		return time.Time{}, errorf(streams.ReasonInvalidTime, path(),
			`%s is not an ISO 8601 timestamp (e.g. "2025-07-01T08:30:00+07:00" or "2025-07-01T01:30:00Z")`, streams.Quote(s))
	}
	if ahead := t.Sub(d.now); ahead > d.cfg.MaxFuture {
		return time.Time{}, errorf(streams.ReasonFutureTime, path(),
			"%s is %v ahead of the server clock (at most %v is allowed): check the sender's clock and time zone offset",
			streams.Quote(s), ahead.Round(time.Second), d.cfg.MaxFuture)
	}
	d.lastTimeRaw, d.lastTime = v, t.UTC()
	return d.lastTime, nil
}

// obsTime dates the entity: the latest observedAt of its attributes, else
// the first of timeAttrs it carries, else zero (the caller uses the server
// clock). An unreadable time marks its attribute as failed.
func (d *decoder) obsTime(e *entity) time.Time {
	var latest time.Time
	for i := range e.attrs {
		a := &e.attrs[i]
		if a.observedAt == nil || a.bad {
			continue
		}
		t, err := d.checkTime(a.observedAt, a, true)
		if err != nil {
			a.bad = true
			e.fail(string(a.name), err)
			continue
		}
		if t.After(latest) {
			latest = t
		}
	}
	if !latest.IsZero() {
		return latest
	}
	for _, n := range timeAttrs {
		for i := range e.attrs {
			a := &e.attrs[i]
			if string(a.name) != n || a.bad {
				continue
			}
			t, err := d.checkTime(a.value, a, false)
			if err != nil {
				a.bad = true
				e.fail(n, err)
				return time.Time{}
			}
			return t
		}
	}
	return time.Time{}
}
