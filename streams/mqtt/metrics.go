package mqtt

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/danang-ioc/ioc/streams"
)

// Message results, the values of ioc_mqtt_messages_total's label.
const (
	resultAccepted = "accepted" // every event of the message was published
	resultPartial  = "partial"  // some events published, some refused
	resultRejected = "rejected" // no event published: the message or all its events refused
	resultFailed   = "failed"   // valid, but the bus refused the events
	resultDropped  = "dropped"  // QoS 0, shed because the queue was full
)

type metrics struct {
	messages      *prometheus.CounterVec // result
	rejected      *prometheus.CounterVec // reason
	connected     prometheus.Gauge
	subscribed    prometheus.Gauge
	reconnects    prometheus.Counter
	connectErrors prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, queue chan item) *metrics {
	m := &metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ioc", Subsystem: "mqtt", Name: "messages_total",
			Help: "MQTT messages processed, by result: accepted, partial (some events refused), rejected, " +
				"failed (the bus refused them), dropped (QoS 0 while the queue was full).",
		}, []string{"result"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ioc", Subsystem: "mqtt", Name: "rejected_total",
			Help: "Events (or whole messages) from MQTT refused, by reason.",
		}, []string{"reason"}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "ioc", Subsystem: "mqtt", Name: "connected",
			Help: "1 while connected to the MQTT broker, else 0.",
		}),
		subscribed: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "ioc", Subsystem: "mqtt", Name: "subscribed",
			Help: "1 while connected and the broker granted every subscription, else 0.",
		}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "ioc", Subsystem: "mqtt", Name: "reconnects_total",
			Help: "Connections to the MQTT broker made after the first one.",
		}),
		connectErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "ioc", Subsystem: "mqtt", Name: "connect_errors_total",
			Help: "Failed attempts to connect to the MQTT broker.",
		}),
	}
	for _, r := range []string{resultAccepted, resultPartial, resultRejected, resultFailed, resultDropped} {
		m.messages.WithLabelValues(r)
	}
	for _, r := range reasons() {
		m.rejected.WithLabelValues(string(r))
	}
	if reg != nil {
		queueLen := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "ioc", Subsystem: "mqtt", Name: "queue_length",
			Help: "MQTT messages received and waiting to be processed.",
		}, func() float64 { return float64(len(queue)) })
		queueCap := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "ioc", Subsystem: "mqtt", Name: "queue_capacity",
			Help: "Capacity of the MQTT message queue; QoS 0 messages are dropped beyond half of it.",
		}, func() float64 { return float64(cap(queue)) })
		reg.MustRegister(m.messages, m.rejected, m.connected, m.subscribed, m.reconnects, m.connectErrors, queueLen, queueCap)
	}
	return m
}

// batch counts one processed message.
func (m *metrics) batch(b *streams.Batch, busErr error) string {
	result := resultAccepted
	switch {
	case busErr != nil:
		result = resultFailed
	case len(b.Rejected) == 0:
	case b.Accepted() == 0:
		result = resultRejected
	default:
		result = resultPartial
	}
	m.messages.WithLabelValues(result).Inc()
	for _, r := range b.Rejected {
		m.rejected.WithLabelValues(string(r.Reason)).Inc()
	}
	return result
}
