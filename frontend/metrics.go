package frontend

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// hubMetrics are the push path's counters; every drop has a reason label.
type hubMetrics struct {
	queued           queueGauges
	groups           prometheus.Gauge
	diffs            prometheus.Counter
	snapshots        prometheus.Counter
	frames           prometheus.Counter
	bytes            prometheus.Counter
	drops            *prometheus.CounterVec
	resyncs          *prometheus.CounterVec
	badRequests      prometheus.Counter
	rateLimited      prometheus.Counter
	rejectedUpgrades prometheus.Counter
	tick             prometheus.Histogram
	latency          prometheus.Histogram
	clusterGrids     prometheus.Gauge
	clusterCells     prometheus.Gauge
}

func newHubMetrics(reg prometheus.Registerer, s *Server) *hubMetrics {
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: "ioc", Subsystem: "ws", Name: name, Help: help}
	}
	m := &hubMetrics{
		groups:           prometheus.NewGauge(prometheus.GaugeOpts(opts("subscription_groups", "Distinct subscriptions; clients in one group share encoded frames."))),
		diffs:            prometheus.NewCounter(prometheus.CounterOpts(opts("diffs_encoded_total", "Diff frames encoded (once per group per tick)."))),
		snapshots:        prometheus.NewCounter(prometheus.CounterOpts(opts("snapshots_total", "Snapshots built for subscribing or resynchronising clients."))),
		frames:           prometheus.NewCounter(prometheus.CounterOpts(opts("frames_sent_total", "Frames written to clients."))),
		bytes:            prometheus.NewCounter(prometheus.CounterOpts(opts("bytes_sent_total", "Payload bytes written to clients."))),
		badRequests:      prometheus.NewCounter(prometheus.CounterOpts(opts("bad_requests_total", "Client messages refused as malformed."))),
		rateLimited:      prometheus.NewCounter(prometheus.CounterOpts(opts("rate_limited_total", "Client messages refused because the client sent more than MaxMessagesPerSecond."))),
		rejectedUpgrades: prometheus.NewCounter(prometheus.CounterOpts(opts("rejected_upgrades_total", "WebSocket upgrades refused (bad handshake or origin)."))),
		drops: prometheus.NewCounterVec(prometheus.CounterOpts(opts("drops_total",
			"Frames dropped, by reason: slow_client (queue full; the client gets a fresh snapshot), write_failed.")), []string{"reason"}),
		resyncs: prometheus.NewCounterVec(prometheus.CounterOpts(opts("resyncs_total",
			"Fresh snapshots forced, by reason: slow_client, hub_behind, resume_expired, epoch_changed, resume_clustered, cluster_grid.")), []string{"reason"}),
		tick: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "ioc", Subsystem: "ws", Name: "tick_seconds",
			Help: "Time the hub spends per tick routing and encoding diffs.", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 14)}),
		clusterGrids: prometheus.NewGauge(prometheus.GaugeOpts(opts("cluster_grids", "Cluster grids kept current, one per (layer, grid zoom) some subscription clusters at."))),
		clusterCells: prometheus.NewGauge(prometheus.GaugeOpts(opts("cluster_cells", "Non-empty cells held by the cluster grids that subscriptions watch."))),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "ioc", Name: "push_latency_seconds",
			Help: "From a change being applied to the diff holding it being written to a client.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(m.clusterGrids, m.clusterCells, m.groups, m.diffs, m.snapshots, m.frames, m.bytes, m.drops, m.resyncs, m.badRequests, m.rateLimited, m.rejectedUpgrades, m.tick, m.latency,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts("clients", "Connected WebSocket clients.")), func() float64 { return float64(s.clientCount()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts("queued_frames", "Frames waiting in all client send queues.")), func() float64 { return float64(m.queued.msgs.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts("queued_bytes", "Bytes waiting in all client send queues.")), func() float64 { return float64(m.queued.bytes.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts("hub_lag_changes", "Logged changes the hub has not pushed yet.")), func() float64 { return s.hub.lag() }),
	)
	return m
}

func (m *hubMetrics) sent(msg outMsg) {
	m.frames.Inc()
	m.bytes.Add(float64(msg.size))
	if !msg.oldest.IsZero() {
		m.latency.Observe(time.Since(msg.oldest).Seconds())
	}
}
