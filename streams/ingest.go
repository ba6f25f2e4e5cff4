package streams

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
)

// EventsPath is where the ingest endpoint is mounted (POST only).
const EventsPath = "/api/v1/events"

// Bus carries validated events from streams to the layers. In-process by
// default; a later change may put NATS JetStream between nodes without
// changing ingest or layers.
type Bus interface {
	Publish(ctx context.Context, events []layers.Event) error
}

// LocalBus applies events synchronously in the publisher's goroutine, so
// that when Publish returns (and the ingest answers 202) the events are in
// the layers.
type LocalBus struct {
	apply func([]layers.Event)
}

// NewLocalBus returns a bus that calls apply, e.g. with store.Apply.
func NewLocalBus(apply func([]layers.Event)) *LocalBus {
	return &LocalBus{apply: apply}
}

// Publish applies events unless ctx is already done, in which case nothing
// is applied: a sender that gave up will resend.
func (b *LocalBus) Publish(ctx context.Context, events []layers.Event) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("local bus: %w", err)
	}
	b.apply(events)
	return nil
}

// IngestConfig configures the ingest endpoint. The zero value is usable;
// see the field comments for defaults.
type IngestConfig struct {
	// MaxBody is the largest body accepted, in bytes. Default 16 MiB.
	MaxBody int64
	// MaxBatch is the most events one request may carry. Default 100000.
	MaxBatch int
	// MaxRejected is how many rejections a response lists at most; the
	// rest are counted only. Default 1000.
	MaxRejected int
	// MaxFuture is how far ahead of the server clock an event time may be.
	// Default 5 minutes.
	MaxFuture time.Duration
	// Area is the service area for the swapped-coordinates check; the zero
	// Rect (the default) disables it. See DecoderConfig.Area.
	Area geo.Rect
	// Now is the server clock. Default time.Now.
	Now func() time.Time
	// Processor gives events their domain meaning (the modules); nil
	// passes them through.
	Processor Processor
}

func (c *IngestConfig) defaults() {
	if c.MaxBody <= 0 {
		c.MaxBody = 16 << 20
	}
	if c.MaxRejected <= 0 {
		c.MaxRejected = 1000
	}
	// MaxBatch, MaxFuture and Now get their defaults in DecoderConfig.
}

// Ingest is the HTTP handler of POST /api/v1/events.
type Ingest struct {
	cfg     IngestConfig
	dec     *Decoder
	intake  *Intake
	log     *slog.Logger
	metrics *metrics
}

// NewIngest returns the handler. Metrics are registered with reg when it
// is not nil; log may be nil.
func NewIngest(cfg IngestConfig, bus Bus, reg prometheus.Registerer, log *slog.Logger) *Ingest {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dec := NewDecoder(DecoderConfig{MaxFuture: cfg.MaxFuture, Area: cfg.Area, MaxBatch: cfg.MaxBatch, Now: cfg.Now})
	return &Ingest{cfg: cfg, dec: dec, intake: NewIntake(cfg.Processor, bus), log: log, metrics: newMetrics(reg)}
}

// Response is the body of 202 and of 400 when no event was valid.
// Rejected lists at most IngestConfig.MaxRejected entries, in body order;
// RejectedTotal counts them all and RejectedTruncated says some were left
// out.
type Response struct {
	Accepted          int         `json:"accepted"`
	Rejected          []Rejection `json:"rejected"`
	RejectedTotal     int         `json:"rejected_total"`
	RejectedTruncated bool        `json:"rejected_truncated"`
}

// ErrorBody is the body of a response that refuses a request as a whole:
// {"error":{"code":"...","message":"..."}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the content of ErrorBody.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// WriteError writes an ErrorBody with the given status.
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, ErrorBody{Error: ErrorDetail{Code: code, Message: msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // cannot happen for the types above
		b = []byte(`{"error":{"code":"internal","message":"response encoding failed"}}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// requestError refuses a request as a whole.
type requestError struct {
	status int
	code   string
	msg    string
}

func (i *Ingest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status := i.serve(w, r)
	i.metrics.request(status)
}

// serve handles one request and returns the status it answered.
func (i *Ingest) serve(w http.ResponseWriter, r *http.Request) int {
	body, f, rerr := i.read(w, r)
	if rerr != nil {
		return i.refuse(w, r, rerr)
	}
	start := time.Now()
	b, err := i.dec.DecodeBatch(body, f)
	i.metrics.decodeSeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		var be *BatchError
		if !errors.As(err, &be) {
			be = &BatchError{Code: ErrInvalidJSON, Msg: err.Error()}
		}
		status := http.StatusBadRequest
		if be.Code == ErrTooManyEvents {
			status = http.StatusRequestEntityTooLarge
		}
		return i.refuse(w, r, &requestError{status, be.Code, be.Msg})
	}
	err = i.intake.Submit(r.Context(), b)
	i.metrics.batch(b)
	if len(b.Events) == 0 {
		i.logRejected(r, http.StatusBadRequest, b)
		return i.respond(w, http.StatusBadRequest, b)
	}
	if err != nil {
		i.metrics.events.WithLabelValues("failed").Add(float64(b.Accepted()))
		level := slog.LevelWarn
		if r.Context().Err() != nil {
			level = slog.LevelDebug // the sender hung up; it will resend
		}
		i.log.Log(r.Context(), level, "ingest: publish failed, nothing applied", "events", len(b.Events), "err", err)
		w.Header().Set("Retry-After", "1")
		return i.refuse(w, r, &requestError{http.StatusServiceUnavailable, "publish_failed",
			"the events could not be delivered to the layers and none was applied: retry later"})
	}
	i.metrics.events.WithLabelValues("accepted").Add(float64(b.Accepted()))
	if len(b.Rejected) > 0 {
		i.logRejected(r, http.StatusAccepted, b)
	}
	return i.respond(w, http.StatusAccepted, b)
}

func (i *Ingest) respond(w http.ResponseWriter, status int, b *Batch) int {
	resp := Response{Accepted: b.Accepted(), Rejected: b.Rejected, RejectedTotal: len(b.Rejected)}
	if len(resp.Rejected) > i.cfg.MaxRejected {
		resp.Rejected, resp.RejectedTruncated = resp.Rejected[:i.cfg.MaxRejected], true
	}
	if resp.Rejected == nil {
		resp.Rejected = []Rejection{}
	}
	writeJSON(w, status, resp)
	return status
}

func (i *Ingest) refuse(w http.ResponseWriter, r *http.Request, e *requestError) int {
	i.metrics.requestErrors.WithLabelValues(e.code).Inc()
	i.log.Debug("ingest: request refused", "status", e.status, "code", e.code, "msg", e.msg,
		"remote", r.RemoteAddr, "content_type", r.Header.Get("Content-Type"), "content_length", r.ContentLength)
	WriteError(w, e.status, e.code, e.msg)
	return e.status
}

// logRejected logs counts and the first error, never the body.
func (i *Ingest) logRejected(r *http.Request, status int, b *Batch) {
	i.log.Debug("ingest: events rejected", "status", status, "accepted", len(b.Events), "rejected", len(b.Rejected),
		"first_index", b.Rejected[0].Index, "first_error", b.Rejected[0].Error, "remote", r.RemoteAddr)
}

// read checks method and headers, then reads the body within MaxBody.
func (i *Ingest) read(w http.ResponseWriter, r *http.Request) ([]byte, Format, *requestError) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, 0, &requestError{http.StatusMethodNotAllowed, "method_not_allowed", "use POST to send events"}
	}
	f, rerr := formatOf(r.Header.Get("Content-Type"))
	if rerr != nil {
		return nil, 0, rerr
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return nil, 0, &requestError{http.StatusUnsupportedMediaType, "unsupported_content_encoding",
			fmt.Sprintf("Content-Encoding %s is not supported: send the body uncompressed", Quote(ce))}
	}
	tooLarge := &requestError{http.StatusRequestEntityTooLarge, "body_too_large",
		fmt.Sprintf("the body is larger than %d bytes: split it into smaller batches", i.cfg.MaxBody)}
	if r.ContentLength > i.cfg.MaxBody {
		return nil, 0, tooLarge
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + bytes.MinRead) // ReadFrom wants MinRead spare
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, i.cfg.MaxBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, 0, tooLarge
	case err != nil && !errors.Is(err, io.EOF):
		return nil, 0, &requestError{http.StatusBadRequest, "body_read_error", "reading the body failed: " + err.Error()}
	}
	return buf.Bytes(), f, nil
}

const acceptedTypes = "application/json, application/geo+json or application/x-ndjson"

// formatOf maps the Content-Type to a body format. Parameters other than
// charset are ignored; charset must be UTF-8 if given.
func formatOf(ct string) (Format, *requestError) {
	if ct == "" {
		return 0, unsupported("the Content-Type header is missing: send " + acceptedTypes)
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return 0, unsupported(fmt.Sprintf("Content-Type %s cannot be parsed: send %s", Quote(ct), acceptedTypes))
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return 0, unsupported(fmt.Sprintf("charset %s is not supported: events must be UTF-8", Quote(cs)))
	}
	switch mt {
	case "application/json", "application/geo+json":
		return FormatJSON, nil
	case "application/x-ndjson", "application/ndjson":
		return FormatNDJSON, nil
	}
	return 0, unsupported(fmt.Sprintf("Content-Type %s is not supported: send %s", Quote(mt), acceptedTypes))
}

func unsupported(msg string) *requestError {
	return &requestError{http.StatusUnsupportedMediaType, "unsupported_media_type", msg}
}
