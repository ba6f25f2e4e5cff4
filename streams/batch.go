package streams

import (
	"bytes"
	"fmt"

	"github.com/danang-ioc/ioc/layers"
)

// Format is how a body holds its events.
type Format uint8

// The body formats.
const (
	// FormatJSON is one event object, or a JSON array of event objects.
	FormatJSON Format = iota
	// FormatNDJSON is one event object per line; blank lines are skipped.
	FormatNDJSON
)

// Rejection is one refused event of a batch.
//
// Index is the 0-based position of the event in the body: its position in
// the JSON array (0 for a single object), or, in NDJSON, its position among
// the non-blank lines, so that the indexes of a body count its events
// whatever its format. For NDJSON, Line is also given: the 1-based line
// number in the body, counting blank lines, for finding it in a file.
type Rejection struct {
	Index  int    `json:"index"`
	Line   int    `json:"line,omitempty"`
	Reason Reason `json:"reason"`
	Error  string `json:"error"`
}

// Batch is a decoded body: the valid events in body order, and every
// refused one.
type Batch struct {
	Events   []layers.Event
	Indexes  []int // Indexes[i] is the body index of Events[i]
	Rejected []Rejection
	lines    []int // NDJSON line of each event, for rejections found later
}

// Len is the number of events the body held, valid or not.
func (b *Batch) Len() int { return b.Accepted() + len(b.Rejected) }

// BatchError refuses a body as a whole: it is empty, holds too many events,
// or (for a JSON array) is not valid JSON, which leaves no way to tell
// where one event ends and the next begins.
type BatchError struct {
	Code string // ErrEmptyBody, ErrEmptyBatch, ErrInvalidJSON or ErrTooManyEvents
	Msg  string
}

func (e *BatchError) Error() string { return e.Msg }

// BatchError codes, also used as the "code" of the HTTP error body.
const (
	ErrEmptyBody     = "empty_body"
	ErrEmptyBatch    = "empty_batch"
	ErrInvalidJSON   = "invalid_json"
	ErrTooManyEvents = "too_many_events"
)

func batchErrorf(code, format string, args ...any) *BatchError {
	return &BatchError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// DecodeBatch decodes and validates every event of body. The error, when
// not nil, is a *BatchError; events refused one by one are in
// Batch.Rejected instead. Events and the strings they hold do not alias
// body, which the caller may reuse.
func (d *Decoder) DecodeBatch(body []byte, f Format) (*Batch, error) {
	st := decodeState{d: d, now: d.cfg.Now()}
	var (
		b   *Batch
		err *BatchError
	)
	if f == FormatNDJSON {
		b, err = st.ndjson(body)
	} else {
		b, err = st.json(body)
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

// skipBOM steps over a UTF-8 byte order mark, which some Windows tools
// write and which is no JSON whitespace.
func skipBOM(body []byte) int {
	if bytes.HasPrefix(body, []byte("\xef\xbb\xbf")) {
		return 3
	}
	return 0
}

// newBatch sizes the event slice from the body, assuming events of a few
// hundred bytes, so that large batches do not grow it many times.
func (st *decodeState) newBatch(body []byte) *Batch {
	n := min(len(body)/256+1, st.d.cfg.MaxBatch)
	return &Batch{Events: make([]layers.Event, 0, n), Indexes: make([]int, 0, n), lines: make([]int, 0, n)}
}

func (b *Batch) add(ev layers.Event, err *EventError, index, line int) {
	if err != nil {
		b.Rejected = append(b.Rejected, Rejection{Index: index, Line: line, Reason: err.Reason, Error: err.Error()})
		return
	}
	b.Events = append(b.Events, ev)
	b.Indexes = append(b.Indexes, index)
	b.lines = append(b.lines, line)
}

func (st *decodeState) json(body []byte) (*Batch, *BatchError) {
	s := newScanner(body, skipBOM(body))
	s.skipSpace()
	switch {
	case s.pos == len(body):
		return nil, batchErrorf(ErrEmptyBody, "the body is empty: send one event object, a JSON array of events, or NDJSON")
	case s.peek() == '[':
		return st.array(&s)
	case s.peek() == '{':
		b := &Batch{}
		ev, err := st.one(&s)
		b.add(ev, err, 0, 0)
		return b, nil
	default:
		return nil, batchErrorf(ErrInvalidJSON, "invalid JSON at byte offset %d: %s", s.pos,
			s.unexpected("one event object or an array of events").msg)
	}
}

// array decodes a JSON array of events. Any syntax error refuses the body.
func (st *decodeState) array(s *scanner) (*Batch, *BatchError) {
	b := st.newBatch(s.buf)
	_ = s.enter() // depth 1 cannot fail
	for s.peek() != ']' {
		if b.Len() == st.d.cfg.MaxBatch {
			return nil, tooMany(st.d.cfg.MaxBatch)
		}
		ev, evErr, synErr := st.element(s)
		if synErr != nil {
			return nil, invalidBody(synErr)
		}
		b.add(ev, evErr, b.Len(), 0)
		s.skipSpace()
		switch s.peek() {
		case ',':
			s.pos++
			s.skipSpace()
			if s.peek() == ']' {
				return nil, invalidBody(s.errorf("trailing comma before ']'"))
			}
		case ']':
		default:
			return nil, invalidBody(s.unexpected("',' or ']' after an event"))
		}
	}
	s.pos++
	s.skipSpace()
	if s.pos < len(s.buf) {
		return nil, invalidBody(s.errorf("unexpected data after the array"))
	}
	if b.Len() == 0 {
		return nil, batchErrorf(ErrEmptyBatch, "the array holds no events")
	}
	return b, nil
}

func invalidBody(err *syntaxError) *BatchError {
	return batchErrorf(ErrInvalidJSON, "the body is not valid JSON, so no event was taken: at byte offset %d: %s", err.off, err.msg)
}

func tooMany(limit int) *BatchError {
	return batchErrorf(ErrTooManyEvents, "the body holds more than %d events: split it into smaller batches", limit)
}

// ndjson decodes one event per line. A line that is not valid JSON refuses
// only that line. Offsets in messages are still offsets in the body.
func (st *decodeState) ndjson(body []byte) (*Batch, *BatchError) {
	b := st.newBatch(body)
	line := 0
	for start := skipBOM(body); start < len(body); {
		end := bytes.IndexByte(body[start:], '\n')
		if end < 0 {
			end = len(body)
		} else {
			end += start
		}
		line++
		s := newScanner(body[:end], start)
		start = end + 1
		if s.skipSpace(); s.pos == end {
			continue
		}
		if b.Len() == st.d.cfg.MaxBatch {
			return nil, tooMany(st.d.cfg.MaxBatch)
		}
		ev, err := st.one(&s)
		b.add(ev, err, b.Len(), line)
	}
	if b.Len() == 0 {
		return nil, batchErrorf(ErrEmptyBody, "the body holds no events, only blank lines or nothing")
	}
	return b, nil
}
