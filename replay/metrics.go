package replay

import "github.com/prometheus/client_golang/prometheus"

type writerMetrics struct {
	written, spooled, retries, dropped prometheus.Counter
	spoolBytes, lag                    prometheus.Gauge
}

func newWriterMetrics(reg prometheus.Registerer) *writerMetrics {
	m := &writerMetrics{
		written: prometheus.NewCounter(prometheus.CounterOpts{Name: "ioc_history_records_written_total",
			Help: "Change records stored in the history store."}),
		spooled: prometheus.NewCounter(prometheus.CounterOpts{Name: "ioc_history_records_spooled_total",
			Help: "Change records written to the local spool because the history store failed."}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{Name: "ioc_history_retries_total",
			Help: "Failed history store appends (each is retried with backoff)."}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "ioc_history_records_dropped_total",
			Help: "Changes the change log overwrote before the history writer read them; should stay 0."}),
		spoolBytes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ioc_history_spool_bytes",
			Help: "Bytes of batches waiting in the local spool."}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ioc_history_lag_changes",
			Help: "Changes logged but not yet stored or spooled."}),
	}
	if reg != nil {
		reg.MustRegister(m.written, m.spooled, m.retries, m.dropped, m.spoolBytes, m.lag)
	}
	return m
}
