package ngsi

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	entities   *prometheus.CounterVec // api, result: accepted, rejected, failed
	rejected   *prometheus.CounterVec // reason
	requests   *prometheus.CounterVec // endpoint, code
	remembered prometheus.Gauge
	evictions  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		entities: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ioc", Subsystem: "ngsi", Name: "entities_total",
			Help: "NGSI entities received, by API (ld, v2) and result: accepted (published), rejected (invalid, or refused by a module), failed (valid but publishing failed).",
		}, []string{"api", "result"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ioc", Subsystem: "ngsi", Name: "rejected_total",
			Help: "NGSI entities refused, by reason.",
		}, []string{"reason"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ioc", Subsystem: "ngsi", Name: "requests_total",
			Help: "NGSI requests, by endpoint and HTTP status code.",
		}, []string{"endpoint", "code"}),
		remembered: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "ioc", Subsystem: "ngsi", Name: "remembered_entities",
			Help: "Entities whose last state the NGSI adapter keeps for partial updates and placement.",
		}),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "ioc", Subsystem: "ngsi", Name: "forgotten_entities_total",
			Help: "Entities forgotten by the NGSI adapter because more than its capacity (MaxEntities) were updated since.",
		}),
	}
	for _, api := range []string{"ld", "v2"} {
		for _, r := range []string{"accepted", "rejected", "failed"} {
			m.entities.WithLabelValues(api, r)
		}
	}
	for _, r := range Reasons {
		m.rejected.WithLabelValues(string(r))
	}
	if reg != nil {
		reg.MustRegister(m.entities, m.rejected, m.requests, m.remembered, m.evictions)
	}
	return m
}

func (m *metrics) request(endpoint string, status int) {
	m.requests.WithLabelValues(endpoint, strconv.Itoa(status)).Inc()
}
