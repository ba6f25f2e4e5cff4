package zones

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	processed   prometheus.Counter
	resyncs     prometheus.Counter
	writes      prometheus.Counter
	declared    prometheus.Counter
	closed      prometheus.Counter
	events      *prometheus.CounterVec
	lag         prometheus.Gauge
	liveEvents  prometheus.Gauge
	evalSeconds prometheus.Histogram
}

func newMetrics(e *Engine, reg prometheus.Registerer) *metrics {
	m := &metrics{
		processed: prometheus.NewCounter(prometheus.CounterOpts{Name: "ioc_zones_changes_processed_total",
			Help: "Change records the zone engine has read from the change log."}),
		resyncs: prometheus.NewCounter(prometheus.CounterOpts{Name: "ioc_zones_resyncs_total",
			Help: "Times the zone engine fell behind the change log and recomputed zone contents from the live layers."}),
		writes: prometheus.NewCounter(prometheus.CounterOpts{Name: "ioc_zones_summary_writes_total",
			Help: "Zone features written with a new summary (throttled per zone)."}),
		declared: prometheus.NewCounter(prometheus.CounterOpts{Name: "ioc_zones_declared_total", Help: "Zones declared."}),
		closed:   prometheus.NewCounter(prometheus.CounterOpts{Name: "ioc_zones_closed_total", Help: "Zones closed."}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ioc_zones_events_total",
			Help: "Enter and leave events emitted on layer ioc.zone_events."}, []string{"event"}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ioc_zones_lag_changes",
			Help: "Change records in the log the zone engine has not processed yet."}),
		liveEvents: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ioc_zones_live_events",
			Help: "Enter and leave event features on their layer, waiting for their expiry."}),
		evalSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ioc_zones_batch_seconds",
			Help: "Time to evaluate one batch of change records against the zones.", Buckets: prometheus.ExponentialBuckets(1e-5, 4, 10)}),
	}
	if reg != nil {
		active := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ioc_zones_active", Help: "Active zones."},
			func() float64 { return float64(e.Active()) })
		reg.MustRegister(m.processed, m.resyncs, m.writes, m.declared, m.closed, m.events, m.lag, m.liveEvents, m.evalSeconds, active)
	}
	return m
}
