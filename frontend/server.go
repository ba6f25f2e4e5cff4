// Package frontend is what users see: the WebSocket push of live layers and
// the HTTP query API over them (and, later, the map application).
package frontend

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/danang-ioc/ioc/layers"
)

// Config configures the push hub and its WebSocket clients. Zero fields
// take the defaults documented on each.
type Config struct {
	// Tick is how often changes are batched into diffs. Default 25ms.
	Tick time.Duration
	// MaxChangesPerTick bounds the work of one tick. Default 65536.
	MaxChangesPerTick int
	// QueueMessages and QueueBytes bound each client's send queue; a client
	// over either is resynchronised with a fresh snapshot. Defaults 256
	// frames and 16 MiB.
	QueueMessages int
	QueueBytes    int
	// WriteTimeout bounds every frame write; a client that cannot take a
	// frame in that time is disconnected. Default 10s.
	WriteTimeout time.Duration
	// PingInterval is how often the server pings; PongTimeout is how long
	// it waits for any frame from the client. Defaults 20s and 60s.
	PingInterval time.Duration
	PongTimeout  time.Duration
	// MaxMessageBytes bounds a client's message. Default 64 KiB.
	MaxMessageBytes int64
	// MaxMessagesPerSecond bounds how fast a client may send messages (a
	// subscribe costs a snapshot); a burst of twice as many is allowed,
	// messages over it get the error rate_limited. Default 20.
	MaxMessagesPerSecond int
	// MaxSnapshotFeatures caps one snapshot; beyond it the snapshot is
	// marked truncated. Default 500000.
	MaxSnapshotFeatures int
	// AllowedOrigins lists the Origin values a browser may connect from, in
	// addition to the server's own host; "*" allows any.
	AllowedOrigins []string
	// Replayer serves {"type":"replay"} requests; nil answers that replay
	// is unavailable.
	Replayer Replayer
	// Districts are the administrative areas /api/v1/districts counts by
	// and the features query filters by (?district=code).
	Districts []District
	// Clusters declares, per layer, below which map zoom a subscription
	// gets the layer as server-computed clusters, and how its features
	// rank; /api/v1/layers reports it. Layers not named never cluster.
	Clusters map[string]ClusterSpec
}

// HubConfig is the part of Config the hub reads.
type HubConfig = Config

func (c *Config) defaults() {
	setDefault(&c.Tick, 25*time.Millisecond)
	setDefault(&c.MaxChangesPerTick, 65536)
	setDefault(&c.QueueMessages, 256)
	setDefault(&c.QueueBytes, 16<<20)
	setDefault(&c.WriteTimeout, 10*time.Second)
	setDefault(&c.PingInterval, 20*time.Second)
	setDefault(&c.PongTimeout, 60*time.Second)
	setDefault(&c.MaxMessageBytes, 64<<10)
	setDefault(&c.MaxMessagesPerSecond, 20)
	setDefault(&c.MaxSnapshotFeatures, 500000)
}

func setDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Subprotocol is the WebSocket subprotocol of the push protocol. A client
// may offer it with "ioc.bearer.<token>" to authenticate; the server
// answers with it alone.
const Subprotocol = "ioc.v1"

// Server accepts WebSocket clients and owns the hub that feeds them.
type Server struct {
	cfg      Config
	store    *layers.Store
	hub      *Hub
	metrics  *hubMetrics
	log      *slog.Logger
	upgrader websocket.Upgrader
	specs    map[string]*ClusterSpec

	mu      sync.Mutex
	clients map[*client]struct{}
	closing bool
}

// NewServer builds the push server; call Run to start the hub.
func NewServer(cfg Config, store *layers.Store, reg prometheus.Registerer, log *slog.Logger) *Server {
	cfg.defaults()
	s := &Server{cfg: cfg, store: store, log: log, clients: make(map[*client]struct{}), specs: make(map[string]*ClusterSpec)}
	for name, spec := range cfg.Clusters {
		s.specs[name] = &spec
	}
	s.metrics = newHubMetrics(reg, s)
	s.hub = NewHub(cfg, store, s.metrics, log)
	s.upgrader = websocket.Upgrader{
		ReadBufferSize:  4096,
		WriteBufferSize: 16384,
		CheckOrigin:     s.checkOrigin,
		// Answer the protocol name a browser offers next to its token
		// subprotocol (docs/SECURITY.md): never echo the token one.
		Subprotocols: []string{Subprotocol},
	}
	return s
}

// Run runs the hub until ctx ends.
func (s *Server) Run(ctx context.Context) error { return s.hub.Run(ctx) }

// ServeWS upgrades GET /api/v1/ws.
func (s *Server) ServeWS(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	p, ok := principalOf(w, r)
	if !ok {
		s.metrics.rejectedUpgrades.Inc()
		return
	}
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.metrics.rejectedUpgrades.Inc()
		return // the upgrader has answered
	}
	c := newClient(s, conn)
	c.principal = p
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		c.goAway()
		return
	}
	s.clients[c] = struct{}{}
	s.mu.Unlock()
	go c.serve()
}

func (s *Server) forget(c *client) {
	s.mu.Lock()
	delete(s.clients, c)
	s.mu.Unlock()
}

func (s *Server) clientCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// Shutdown refuses new clients and closes every connection with the
// going-away code, waiting until they are gone or ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	all := make([]*client, 0, len(s.clients))
	for c := range s.clients {
		all = append(all, c)
	}
	s.mu.Unlock()
	for _, c := range all {
		c.goAway()
	}
	for s.clientCount() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

func (s *Server) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || slices.Contains(s.cfg.AllowedOrigins, "*") || slices.Contains(s.cfg.AllowedOrigins, origin) {
		return true
	}
	host := origin
	if i := strings.Index(host, "://"); i >= 0 {
		host = host[i+3:]
	}
	return strings.EqualFold(host, r.Host)
}

// resumable reports whether the change log still holds everything after
// sub.since in sub's epoch.
func (s *Server) resumable(sub *subscription) bool {
	if sub.epoch != "" && sub.epoch != s.store.Epoch() {
		s.metrics.resyncs.WithLabelValues("epoch_changed").Inc()
		return false
	}
	log := s.store.Log()
	if sub.since > log.Last() || sub.since+1 < log.Oldest() {
		s.metrics.resyncs.WithLabelValues("resume_expired").Inc()
		return false
	}
	return true
}

func (s *Server) layerNames() []string {
	all := s.store.Layers()
	names := make([]string, len(all))
	for i, l := range all {
		names[i] = l.Name()
	}
	return names
}

// Flush waits until the hub has routed every change logged so far, so that
// a shutdown does not lose the last diffs.
func (s *Server) Flush(ctx context.Context) error {
	target := s.store.Log().Last()
	t := time.NewTicker(s.cfg.Tick / 2)
	defer t.Stop()
	for s.hub.pushed.Load() < target {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}
