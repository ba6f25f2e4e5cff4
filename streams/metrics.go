package streams

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	events        *prometheus.CounterVec // result: accepted, rejected, failed
	rejected      *prometheus.CounterVec // reason
	requests      *prometheus.CounterVec // code: HTTP status
	requestErrors *prometheus.CounterVec // code: whole-request error code
	batchSize     prometheus.Histogram
	decodeSeconds prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ioc", Subsystem: "ingest", Name: "events_total",
			Help: "Events received over HTTP, by result: accepted (published), rejected (invalid), failed (valid but publishing failed).",
		}, []string{"result"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ioc", Subsystem: "ingest", Name: "rejected_total",
			Help: "Events refused by validation, by reason.",
		}, []string{"reason"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ioc", Subsystem: "ingest", Name: "requests_total",
			Help: "Ingest requests, by HTTP status code.",
		}, []string{"code"}),
		requestErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ioc", Subsystem: "ingest", Name: "request_errors_total",
			Help: "Ingest requests refused as a whole, by error code (body_too_large, unsupported_media_type, ...).",
		}, []string{"code"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "ioc", Subsystem: "ingest", Name: "batch_size",
			Help:    "Events per decoded request body, valid or not.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 10), // 1 .. 262144
		}),
		decodeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "ioc", Subsystem: "ingest", Name: "decode_seconds",
			Help:    "Time to decode and validate one request body.",
			Buckets: prometheus.ExponentialBuckets(1e-5, 4, 10), // 10µs .. 2.6s
		}),
	}
	// Show every result and reason at zero, so that rate() and alerts work
	// before the first rejection.
	for _, r := range []string{"accepted", "rejected", "failed"} {
		m.events.WithLabelValues(r)
	}
	for _, r := range Reasons {
		m.rejected.WithLabelValues(string(r))
	}
	if reg != nil {
		reg.MustRegister(m.events, m.rejected, m.requests, m.requestErrors, m.batchSize, m.decodeSeconds)
	}
	return m
}

func (m *metrics) request(status int) {
	m.requests.WithLabelValues(strconv.Itoa(status)).Inc()
}

func (m *metrics) batch(b *Batch) {
	m.batchSize.Observe(float64(b.Len()))
	if len(b.Rejected) == 0 {
		return
	}
	m.events.WithLabelValues("rejected").Add(float64(len(b.Rejected)))
	// Count runs of one reason with one Add: a bad batch tends to repeat
	// one mistake.
	for i := 0; i < len(b.Rejected); {
		j := i + 1
		for j < len(b.Rejected) && b.Rejected[j].Reason == b.Rejected[i].Reason {
			j++
		}
		m.rejected.WithLabelValues(string(b.Rejected[i].Reason)).Add(float64(j - i))
		i = j
	}
}
