package mqtt

import (
	"bytes"
	stdjson "encoding/json"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
)

// fixBatch applies the topic to a decoded array or NDJSON body: events
// that disagree with it are refused, and events refused only for lacking
// their layer or id are completed from it and decoded again.
func (p *parser) fixBatch(k topicKeys, body []byte, f streams.Format, b *streams.Batch) *streams.Batch {
	if k.layer == "" && k.id == "" {
		return b
	}
	el := elements{body: body, format: f, expect: b.Len()}
	out := &streams.Batch{Events: make([]layers.Event, 0, len(b.Events)), Indexes: make([]int, 0, len(b.Events))}
	ei, ri := 0, 0
	for idx := range b.Len() {
		if ei < len(b.Events) && b.Indexes[ei] == idx {
			ev := b.Events[ei]
			ei++
			if ee := k.check(ev); ee != nil {
				_, line := el.get(idx)
				out.Rejected = append(out.Rejected, rejection(idx, line, ee))
			} else {
				out.Events, out.Indexes = append(out.Events, ev), append(out.Indexes, idx)
			}
			continue
		}
		if ri >= len(b.Rejected) || b.Rejected[ri].Index != idx {
			return b // not the layout DecodeBatch makes; leave it as it is
		}
		r := b.Rejected[ri]
		ri++
		raw, line := el.get(idx)
		if raw == nil || !fixable(k, r.Reason) {
			out.Rejected = append(out.Rejected, r)
			continue
		}
		ev, err := p.dec.DecodeEvent(raw)
		if ev, ee := p.fill(k, raw, ev, err); ee != nil {
			out.Rejected = append(out.Rejected, rejection(idx, max(line, r.Line), ee))
		} else {
			out.Events, out.Indexes = append(out.Events, ev), append(out.Indexes, idx)
		}
	}
	return out
}

func fixable(k topicKeys, r streams.Reason) bool {
	return (r == streams.ReasonMissingLayer && k.layer != "") || (r == streams.ReasonMissingID && k.id != "")
}

func rejection(idx, line int, ee *streams.EventError) streams.Rejection {
	return streams.Rejection{Index: idx, Line: line, Reason: ee.Reason, Error: ee.Error()}
}

// elements splits a body into its events' raw JSON the way DecodeBatch
// counts them, on first use. A body it cannot split yields nothing.
type elements struct {
	body   []byte
	format streams.Format
	expect int // how many events DecodeBatch found
	done   bool
	raws   [][]byte
	lines  []int
}

// get returns the raw JSON of event idx and, for NDJSON, its line.
func (e *elements) get(idx int) ([]byte, int) {
	if !e.done {
		e.done = true
		e.split()
		if len(e.raws) != e.expect {
			e.raws, e.lines = nil, nil
		}
	}
	if idx >= len(e.raws) {
		return nil, 0
	}
	return e.raws[idx], e.lines[idx]
}

func (e *elements) split() {
	body := bytes.TrimPrefix(e.body, []byte("\xef\xbb\xbf"))
	if e.format == streams.FormatJSON {
		var arr []stdjson.RawMessage
		if stdjson.Unmarshal(body, &arr) != nil {
			return
		}
		for _, r := range arr {
			e.raws, e.lines = append(e.raws, r), append(e.lines, 0)
		}
		return
	}
	for i, line := range bytes.Split(body, []byte("\n")) {
		if len(bytes.TrimLeft(line, " \t\r")) == 0 {
			continue
		}
		e.raws, e.lines = append(e.raws, line), append(e.lines, i+1)
	}
}
