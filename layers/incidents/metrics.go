package incidents

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	processed, lost, matches, joined, writes, undecodable prometheus.Counter
	lag                                                   prometheus.Gauge
	step                                                  prometheus.Histogram
	opened, closed                                        *prometheus.CounterVec
	actions                                               *prometheus.CounterVec
}

func newMetrics(e *Engine, reg prometheus.Registerer) *metrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "ioc", Subsystem: "incidents", Name: name, Help: help})
	}
	m := &metrics{
		processed:   counter("changes_processed_total", "Change records the incident engine has read from the change log."),
		lost:        counter("changes_lost_total", "Change records the log overwrote before the incident engine read them; should stay 0."),
		matches:     counter("matches_total", "Rule matches (a rule holding for an entity), whether they opened an incident or joined one."),
		joined:      counter("joined_total", "Matches that joined an open incident instead of opening a new one (dedup and fusion)."),
		writes:      counter("writes_total", "Incident features written to the store."),
		undecodable: counter("undecodable_changes_total", "Changes whose properties were not a JSON object; rules skipped them."),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "ioc", Subsystem: "incidents", Name: "lag_changes",
			Help: "Change records logged but not yet evaluated by the incident engine."}),
		step: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "ioc", Subsystem: "incidents", Name: "step_seconds",
			Help: "Time to evaluate one batch of change records and write the incidents it changed.", Buckets: prometheus.ExponentialBuckets(1e-5, 4, 10)}),
		opened: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "ioc", Subsystem: "incidents", Name: "opened_total",
			Help: "Incidents opened, by category."}, []string{"category"}),
		closed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "ioc", Subsystem: "incidents", Name: "closed_total",
			Help: "Incidents resolved by a person (how=resolved) or closed by their rule (how=auto)."}, []string{"how"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "ioc", Subsystem: "incidents", Name: "actions_total",
			Help: "Workflow actions, by action and result (done, refused)."}, []string{"action", "result"}),
	}
	if reg != nil {
		open := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "ioc", Subsystem: "incidents", Name: "open",
			Help: "Incidents open (not resolved or closed)."}, func() float64 { return float64(e.openCount.Load()) })
		reg.MustRegister(m.processed, m.lost, m.matches, m.joined, m.writes, m.undecodable, m.lag, m.step,
			m.opened, m.closed, m.actions, open)
	}
	return m
}
