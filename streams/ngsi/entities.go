package ngsi

import (
	"fmt"
	"strings"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
)

// DecodeEntity decodes an NGSI-LD payload that came by another transport
// than the adapter's HTTP endpoints, such as an MQTT message: one entity,
// a JSON array of entities, or an NGSI-LD notification ({"type":
// "Notification", "data": [...]}). It satisfies the MQTT source's
// EntityDecoder (streams/mqtt), so ngsi.Adapter can be its Config.Entities.
//
// Each entity is read as POST /ngsi-ld/v1/entities reads it: normalized,
// concise or keyValues, told apart per attribute (there is no
// options=keyValues to say it), or a GeoJSON Feature; it replaces what was
// known of the entity. Entities without a location are placed from the
// adapter's memory (their own last location, or a device they refer to,
// sent earlier over HTTP or MQTT, or earlier in the same payload), and the
// decoded entities are remembered for later placements and partial
// updates. Unlike over HTTP they are remembered when decoded, before the
// modules see them: the caller submits the events to the intake itself,
// so the adapter does not learn whether a module refused one.
//
// A payload is taken whole or refused whole: the interface has no way to
// refuse one entity of several, so one bad entity refuses the payload,
// with an *streams.EventError whose reason is that entity's and whose
// message says which entity it was and what is wrong. Send one entity per
// message to have them refused one by one. The ioc_ngsi_* metrics do not
// count these entities; the caller's do.
func (a *Adapter) DecodeEntity(payload []byte) ([]layers.Event, error) {
	if serr := validate(payload); serr != nil {
		reason := streams.ReasonInvalidJSON
		if strings.Contains(serr.msg, "UTF-8") {
			reason = streams.ReasonInvalidUTF8
		}
		return nil, &streams.EventError{Reason: reason, Msg: "the payload is not valid JSON: " + serr.Error()}
	}
	body := payload[skipWS(payload, skipBOM(payload)):]
	d := a.newDecoder(false, parseOptions{feature: true})
	var res []result
	list, what := body, "the payload"
	if body[0] == '{' {
		if data := ldNotificationData(body); data != nil {
			list, what = data, "the notification data"
		}
	}
	if list[0] != '[' {
		one, _ := d.full(list) // an object, or refused as not one
		res = []result{one}
	} else if rerr := a.each(list, what, func(b []byte) int {
		one, n := d.full(b)
		res = append(res, one)
		return n
	}); rerr != nil {
		return nil, &streams.EventError{Reason: ReasonInvalidEntity, Msg: rerr.msg}
	}
	var events []layers.Event
	var keep []*state
	for i := range res {
		if err := res[i].err; err != nil {
			return nil, refusedEntity(res, i)
		}
		events = append(events, res[i].events...)
		keep = append(keep, res[i].state)
	}
	a.mem.put(keep...)
	return events, nil
}

// refusedEntity is the error that refuses a payload for its entity i.
func refusedEntity(res []result, i int) *streams.EventError {
	err := res[i].err
	if len(res) == 1 {
		return err
	}
	bad := 0
	for j := range res {
		if res[j].err != nil {
			bad++
		}
	}
	where := fmt.Sprintf("entity %d of %d", i+1, len(res))
	if res[i].id != "" {
		where += " (" + streams.Quote(res[i].id) + ")"
	}
	msg := fmt.Sprintf("%s: %s; %d of the %d entities were refused, so none was taken", where, err.Error(), bad, len(res))
	return &streams.EventError{Reason: err.Reason, Path: fmt.Sprintf("[%d]", i), Msg: msg}
}

// ldNotificationData returns the data array of an NGSI-LD notification,
// {"type": "Notification", "data": [...]}, or nil for anything else (an
// entity may well have an attribute named data).
func ldNotificationData(body []byte) []byte {
	var typ, data []byte
	m := newMembers(body)
	for k, v, ok := m.next(); ok; k, v, ok = m.next() {
		switch string(k) {
		case `"type"`:
			typ = v
		case `"data"`:
			data = v
		}
	}
	if !is(typ, "Notification") || len(data) == 0 || data[0] != '[' {
		return nil
	}
	return data
}
