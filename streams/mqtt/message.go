package mqtt

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
)

// Reasons of this package, beside streams.Reasons and the streams
// BatchError codes.
const (
	// ReasonTopicMismatch: the payload's layer or id disagrees with the
	// topic's.
	ReasonTopicMismatch streams.Reason = "topic_mismatch"
	// ReasonUnsupportedPayload: an NGSI-LD entity, and no EntityDecoder.
	ReasonUnsupportedPayload streams.Reason = "unsupported_payload"
	// ReasonInvalidEntity: the EntityDecoder refused the payload without
	// an *streams.EventError to give a reason.
	ReasonInvalidEntity streams.Reason = "invalid_entity"
)

// reasons lists every reason a message can be refused for, so that the
// metrics show them at zero.
func reasons() []streams.Reason {
	out := append([]streams.Reason(nil), streams.Reasons...)
	for _, code := range []string{streams.ErrEmptyBody, streams.ErrEmptyBatch, streams.ErrInvalidJSON, streams.ErrTooManyEvents} {
		if r := streams.Reason(code); !contains(out, r) {
			out = append(out, r)
		}
	}
	return append(out, ReasonTopicMismatch, ReasonUnsupportedPayload, ReasonInvalidEntity)
}

func contains(rs []streams.Reason, r streams.Reason) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// EntityDecoder turns an NGSI-LD entity payload (one entity, or a JSON
// array of them) into events. An error refuses the whole payload; make it
// an *streams.EventError to choose the reason (otherwise invalid_entity).
type EntityDecoder interface {
	DecodeEntity(payload []byte) ([]layers.Event, error)
}

// topicKeys is what a topic says of its events: the layer and id of
// <prefix><layer>/<id>, each empty when the topic does not give it.
type topicKeys struct {
	topic, layer, id string
}

// parseTopic reads <prefix><layer>[/<id>]. The id is everything after the
// layer's level, so it may hold '/'. Topics outside prefix give nothing.
func parseTopic(prefix, topic string) topicKeys {
	k := topicKeys{topic: topic}
	rest, ok := strings.CutPrefix(topic, prefix)
	if !ok {
		return k
	}
	k.layer, k.id, _ = strings.Cut(rest, "/")
	return k
}

// check refuses an event whose layer or id disagrees with the topic's.
func (k topicKeys) check(ev layers.Event) *streams.EventError {
	if k.layer != "" && ev.Layer != k.layer {
		return &streams.EventError{Reason: ReasonTopicMismatch, Path: "layer",
			Msg: fmt.Sprintf("layer %s disagrees with %s in the topic %s", streams.Quote(ev.Layer), streams.Quote(k.layer), streams.Quote(k.topic))}
	}
	if k.id != "" && ev.ID != k.id {
		return &streams.EventError{Reason: ReasonTopicMismatch, Path: "id",
			Msg: fmt.Sprintf("id %s disagrees with %s in the topic %s", streams.Quote(ev.ID), streams.Quote(k.id), streams.Quote(k.topic))}
	}
	return nil
}

// parser turns messages into batches. It is safe for concurrent use.
type parser struct {
	dec      *streams.Decoder
	prefix   string
	entities EntityDecoder
}

// message decodes one MQTT message into a batch for the intake: its valid
// events and, in Rejected, every refusal, including those of the message
// as a whole (at index 0). It never fails otherwise.
func (p *parser) message(topic string, payload []byte) *streams.Batch {
	body := bytes.TrimLeft(bytes.TrimPrefix(payload, []byte("\xef\xbb\xbf")), " \t\r\n")
	if isEntity(body) {
		return p.entity(body)
	}
	if len(body) == 0 {
		return whole(streams.Reason(streams.ErrEmptyBody), "the payload is empty: send one event object, a JSON array of events, or NDJSON")
	}
	k := parseTopic(p.prefix, topic)
	fm := form(body)
	if fm == formObject {
		ev, err := p.dec.DecodeEvent(body)
		ev, ee := p.fill(k, body, ev, err)
		return single(ev, ee)
	}
	f := streams.FormatJSON
	if fm == formNDJSON {
		f = streams.FormatNDJSON
	}
	b, err := p.dec.DecodeBatch(payload, f)
	if err != nil {
		var be *streams.BatchError
		if !errors.As(err, &be) {
			be = &streams.BatchError{Code: streams.ErrInvalidJSON, Msg: err.Error()}
		}
		return whole(streams.Reason(be.Code), be.Msg)
	}
	return p.fixBatch(k, payload, f, b)
}

func single(ev layers.Event, err *streams.EventError) *streams.Batch {
	if err != nil {
		return whole(err.Reason, err.Error())
	}
	return &streams.Batch{Events: []layers.Event{ev}, Indexes: []int{0}}
}

func whole(reason streams.Reason, msg string) *streams.Batch {
	return &streams.Batch{Rejected: []streams.Rejection{{Reason: reason, Error: msg}}}
}

func (p *parser) entity(body []byte) *streams.Batch {
	if p.entities == nil {
		return whole(ReasonUnsupportedPayload,
			"the payload is an NGSI-LD entity, and this IOC has no NGSI-LD decoder for MQTT: send native events")
	}
	events, err := p.entities.DecodeEntity(body)
	if err != nil {
		var ee *streams.EventError
		if errors.As(err, &ee) {
			return whole(ee.Reason, ee.Error())
		}
		return whole(ReasonInvalidEntity, err.Error())
	}
	b := &streams.Batch{Events: events, Indexes: make([]int, len(events))}
	for i := range b.Indexes {
		b.Indexes[i] = i
	}
	return b
}

type payloadForm uint8

const (
	formObject payloadForm = iota // one event object, or anything not an array or NDJSON
	formArray                     // a JSON array of events
	formNDJSON                    // one event object per line
)

// form tells how body holds its events: an array starts with '['; NDJSON
// has more than one line, the first of them a whole JSON value (so a
// pretty-printed object, whose first line is "{", is one object).
func form(body []byte) payloadForm {
	if len(body) > 0 && body[0] == '[' {
		return formArray
	}
	first, rest, ok := bytes.Cut(bytes.TrimRight(body, " \t\r\n"), []byte("\n"))
	if ok && len(bytes.TrimSpace(rest)) > 0 && stdjson.Valid(first) {
		return formNDJSON
	}
	return formObject
}

// isEntity tells an NGSI-LD entity (or an array of them, judged by its
// first element) from a native event: it has "@context", or a "type" that
// is not "Feature" and an "id" that is a URN.
func isEntity(body []byte) bool {
	if !bytes.Contains(body, []byte(`"@context"`)) && !hasURN(body) {
		return false // the common case, without decoding anything
	}
	var obj map[string]stdjson.RawMessage
	if len(body) > 0 && body[0] == '[' {
		var arr []stdjson.RawMessage
		if stdjson.Unmarshal(body, &arr) != nil || len(arr) == 0 || stdjson.Unmarshal(arr[0], &obj) != nil {
			return false
		}
	} else if stdjson.Unmarshal(body, &obj) != nil {
		return false
	}
	if _, ok := obj["@context"]; ok {
		return true
	}
	var typ, id string
	if stdjson.Unmarshal(obj["type"], &typ) != nil || stdjson.Unmarshal(obj["id"], &id) != nil {
		return false
	}
	return typ != "" && typ != "Feature" && len(id) > 4 && strings.EqualFold(id[:4], "urn:")
}

// hasURN tells whether some string in b may start with "urn:", in any case.
func hasURN(b []byte) bool {
	for i := bytes.IndexByte(b, '"'); i >= 0 && i+5 <= len(b); {
		if bytes.EqualFold(b[i+1:i+5], []byte("urn:")) {
			return true
		}
		j := bytes.IndexByte(b[i+1:], '"')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// fill completes an event from the topic. An event refused only because it
// lacks its layer or id gets the topic's, added as members at the end of
// the object (where they win over a null or empty value) and decoded
// again; a complete event is checked against the topic.
func (p *parser) fill(k topicKeys, raw []byte, ev layers.Event, err error) (layers.Event, *streams.EventError) {
	var added string
	for range 3 { // at most the layer, then the id
		if err == nil {
			return ev, k.check(ev)
		}
		ee := asEventError(err)
		var name, val string
		switch {
		case ee.Reason == streams.ReasonMissingLayer && k.layer != "" && added != "layer":
			name, val = "layer", k.layer
		case ee.Reason == streams.ReasonMissingID && k.id != "" && added != "id":
			name, val = "id", k.id
		default:
			if added != "" && ee.Path == added {
				ee.Msg += " (taken from the topic " + streams.Quote(k.topic) + ")"
			}
			return ev, ee
		}
		raw, added = addMember(raw, name, val), name
		ev, err = p.dec.DecodeEvent(raw)
	}
	if err == nil {
		return ev, k.check(ev)
	}
	return ev, asEventError(err)
}

func asEventError(err error) *streams.EventError {
	var ee *streams.EventError
	if errors.As(err, &ee) {
		c := *ee
		return &c
	}
	return &streams.EventError{Reason: streams.ReasonInvalidJSON, Msg: err.Error()}
}

// addMember returns a copy of the object obj with "name": val added last.
func addMember(obj []byte, name, val string) []byte {
	obj = bytes.TrimRight(obj, " \t\r\n")
	if len(obj) < 2 || obj[len(obj)-1] != '}' {
		return obj
	}
	inner := bytes.TrimRight(obj[:len(obj)-1], " \t\r\n")
	q, _ := stdjson.Marshal(val)
	out := make([]byte, 0, len(obj)+len(name)+len(q)+5)
	out = append(out, inner...)
	if inner[len(inner)-1] != '{' {
		out = append(out, ',')
	}
	out = append(out, '"')
	out = append(out, name...)
	out = append(out, `":`...)
	out = append(out, q...)
	return append(out, '}')
}
