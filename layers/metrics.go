package layers

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	changes    *prometheus.CounterVec
	late       prometheus.Counter
	duplicates prometheus.Counter
	byKind     [KindLate + 1]prometheus.Counter
}

func newMetrics(s *Store, reg prometheus.Registerer) *metrics {
	m := &metrics{
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ioc", Subsystem: "layers", Name: "changes_total",
			Help: "Change records written to the change log, by kind (upsert, delete, stale, late).",
		}, []string{"kind"}),
		late: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "ioc", Subsystem: "layers", Name: "late_events_total",
			Help: "Accepted events older than the entity's state or deletion; kept for history, not applied.",
		}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "ioc", Subsystem: "layers", Name: "duplicate_events_total",
			Help: "Accepted events identical to the state already held; no change record.",
		}),
	}
	for k := KindUpsert; k <= KindLate; k++ {
		m.byKind[k] = m.changes.WithLabelValues(k.String())
	}
	if reg != nil {
		reg.MustRegister(m.changes, m.late, m.duplicates, &storeCollector{s})
	}
	return m
}

func (m *metrics) count(changes []Change) {
	for i := range changes {
		m.byKind[changes[i].Kind].Inc()
	}
}

var (
	featuresDesc = prometheus.NewDesc("ioc_layer_features", "Entities held per layer.", []string{"layer"}, nil)
	staleDesc    = prometheus.NewDesc("ioc_layer_stale_features", "Entities per layer whose last report is older than the layer's TTL.", []string{"layer"}, nil)
	logSeqDesc   = prometheus.NewDesc("ioc_layers_change_seq", "Sequence number of the newest change record.", nil, nil)
	logCapDesc   = prometheus.NewDesc("ioc_layers_change_log_capacity", "Change records the log holds for consumers and resuming clients.", nil, nil)
)

// storeCollector reads layer sizes at scrape time instead of keeping gauges
// up to date on every event.
type storeCollector struct{ s *Store }

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- featuresDesc
	ch <- staleDesc
	ch <- logSeqDesc
	ch <- logCapDesc
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	for _, l := range c.s.Layers() {
		n, stale := l.counts()
		ch <- prometheus.MustNewConstMetric(featuresDesc, prometheus.GaugeValue, float64(n), l.name)
		ch <- prometheus.MustNewConstMetric(staleDesc, prometheus.GaugeValue, float64(stale), l.name)
	}
	ch <- prometheus.MustNewConstMetric(logSeqDesc, prometheus.CounterValue, float64(c.s.log.Last()))
	ch <- prometheus.MustNewConstMetric(logCapDesc, prometheus.GaugeValue, float64(c.s.log.Capacity()))
}
