// Command iocd is the Da Nang Intelligent Operation Center server: it takes
// events from the city's feeds, keeps them as live geo-indexed layers and
// pushes every change over WebSocket to the wall, the leaders' laptops and
// the field tablets.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/danang-ioc/ioc/frontend"
	"github.com/danang-ioc/ioc/frontend/auth"
	"github.com/danang-ioc/ioc/geo/areas"
	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/layers/access"
	"github.com/danang-ioc/ioc/layers/zones"
	"github.com/danang-ioc/ioc/replay"
	"github.com/danang-ioc/ioc/replay/clickhouse"
	"github.com/danang-ioc/ioc/replay/embedded"
	"github.com/danang-ioc/ioc/streams"
	"github.com/danang-ioc/ioc/streams/environment"
	"github.com/danang-ioc/ioc/streams/feedback"
	"github.com/danang-ioc/ioc/streams/flooding"
	"github.com/danang-ioc/ioc/streams/lighting"
	"github.com/danang-ioc/ioc/streams/mqtt"
	"github.com/danang-ioc/ioc/streams/ngsi"
	"github.com/danang-ioc/ioc/streams/open311"
	"github.com/danang-ioc/ioc/streams/response"
	"github.com/danang-ioc/ioc/streams/sim"
	"github.com/danang-ioc/ioc/streams/traffic"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "checkconfig" {
		os.Exit(checkConfig(os.Args[2:], os.Getenv, os.Stdout))
	}
	if len(os.Args) > 1 && (os.Args[1] == "users" || os.Args[1] == "tokens") {
		os.Exit(runAdmin(os.Args[1:], defaultAdminIO()))
	}
	cfg, err := parseConfig(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "iocd:", err)
		os.Exit(2)
	}
	log := cfg.logger(os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log, nil); err != nil {
		log.Error("iocd stopped with an error", "err", err)
		os.Exit(1)
	}
}

// app is the wired server: every component and the order they start and
// stop in.
type app struct {
	cfg     *Config
	log     *slog.Logger
	reg     *prometheus.Registry
	store   *layers.Store
	push    *frontend.Server
	ingest  *streams.Ingest
	intake  *streams.Intake
	decoder *streams.Decoder
	open311 *open311.API
	ngsi    *ngsi.Adapter
	sim     *sim.Sim

	history       replay.Store
	historyWriter *replay.Writer
	mqtt          *mqtt.Source
	zones         *zoneParts       // zones, CAP in and out (zones.go)
	incidents     *incidentParts   // incident rules and workflow (incidents.go)
	web           http.Handler     // the map application at /
	areaRoutes    func(chi.Router) // GET /api/v1/areas/...
	http          *http.Server
	auth          *auth.Auth     // authentication and audit (security.go)
	authStore     *auth.Store    // users and tokens; nil in the demo mode
	limiter       *ingestLimiter // per-token ingest rate
	ready         atomic.Bool
	workers       sync.WaitGroup
}

func newApp(cfg *Config, log *slog.Logger) (*app, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	a := &app{cfg: cfg, log: log, reg: prometheus.NewRegistry()}
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := a.openAuth(); err != nil {
		return nil, err
	}
	a.limiter = newIngestLimiter(cfg.IngestRate, cfg.IngestBurst, a.reg)
	set, err := areas.DefaultWith(cfg.areaFiles()...)
	if err != nil {
		return nil, fmt.Errorf("areas: %w", err)
	}
	mods, err := newModules(set)
	if err != nil {
		return nil, err
	}
	a.store = layers.NewStore(layerConfig(cfg, mods.Specs()), a.reg)
	if err := a.openHistory(); err != nil {
		return nil, err
	}
	bus := streams.NewLocalBus(func(events []layers.Event) { a.store.Apply(events) })
	a.intake = streams.NewIntake(mods, bus)
	if err := a.openZones(set); err != nil {
		return nil, err
	}
	if err := a.openIncidents(set); err != nil {
		return nil, err
	}
	a.decoder = streams.NewDecoder(cfg.decoderConfig())
	dc := cfg.decoderConfig()
	a.ingest = streams.NewIngest(streams.IngestConfig{
		MaxBody: cfg.MaxBody, MaxBatch: dc.MaxBatch, MaxFuture: dc.MaxFuture, Area: dc.Area, Processor: mods,
	}, bus, a.reg, log.With("component", "ingest"))
	a.ngsi = ngsi.New(ngsi.Config{Area: dc.Area, MaxBody: cfg.MaxBody, MaxBatch: dc.MaxBatch, MaxFuture: dc.MaxFuture},
		a.intake, a.reg, log.With("component", "ngsi"))
	a.open311 = open311.New(open311.Config{}, a.intake, a.store, a.reg, log.With("component", "open311"))
	if cfg.MQTT != "" {
		mc := cfg.mqttConfig()
		mc.Entities = a.ngsi // NGSI-LD entities on MQTT share the adapter's memory of places
		a.mqtt = mqtt.New(mc, a.decoder, a.intake, a.reg, log.With("component", "mqtt"))
	}
	if cfg.Sim {
		if a.sim, err = sim.New(sim.Config{Seed: cfg.SimSeed, Scale: cfg.SimScale, Speed: cfg.SimSpeed}, a.intake, log.With("component", "sim")); err != nil {
			return nil, fmt.Errorf("simulator: %w", err)
		}
	}
	a.push = frontend.NewServer(frontend.Config{
		Tick: cfg.PushInterval, QueueMessages: cfg.WSQueueFrames, QueueBytes: cfg.WSQueueBytes,
		WriteTimeout: cfg.WSWriteTimeout, MaxSnapshotFeatures: cfg.WSMaxSnapshot, AllowedOrigins: cfg.origins(),
		Districts: districts(set), Replayer: a.replayer, Clusters: clusterSpecs(cfg, mods.Specs()),
	}, a.store, a.reg, log.With("component", "push"))
	if err := a.openWeb(); err != nil {
		return nil, err
	}
	a.http = &http.Server{
		Handler:           a.routes(),
		ReadHeaderTimeout: cfg.ReadHeaderTimout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      2 * time.Minute, // a WebSocket clears it on upgrade
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return a, nil
}

// openWeb prepares the map application (embedded, or from --web-dir) and
// the area files it draws the base map from.
func (a *app) openWeb() error {
	var err error
	if a.web, err = frontend.WebApp(frontend.WebConfig{Dir: a.cfg.WebDir, MapStyle: a.cfg.MapStyle}); err != nil {
		return fmt.Errorf("web app: %w", err)
	}
	a.areaRoutes, err = frontend.AreaRoutes(frontend.AreaFiles{FS: areas.Files(),
		Districts: "districts.geojson", Wards: "wards_2025_points.geojson", Boundary: "city_boundary.geojson"})
	if err != nil {
		return fmt.Errorf("web app: %w", err)
	}
	return nil
}

// openHistory opens the history store (ClickHouse when --clickhouse is
// set, else the embedded one under the data directory), rebuilds the live
// layers from it so a restart does not blank the wall, and opens the writer
// that feeds it from the change log. The writer's spool stays on local disk in
// both cases: it is what keeps accepted events through a database outage.
func (a *app) openHistory() error {
	dir := filepath.Join(a.cfg.DataDir, "history")
	var err error
	if a.cfg.ClickHouse != "" {
		octx, ocancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer ocancel()
		a.history, err = clickhouse.Open(octx, clickhouse.Config{Addr: a.cfg.ClickHouse,
			Database: a.cfg.ClickHouseDB, Username: a.cfg.ClickHouseUser, Password: a.cfg.ClickHousePassword})
	} else {
		a.history, err = embedded.Open(dir)
	}
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, after, err := replay.Restore(ctx, a.history, a.store, time.Now())
	if err != nil {
		_ = a.history.Close()
		return fmt.Errorf("history: %w", err)
	}
	if n > 0 {
		a.log.Info("live layers restored from history", "entities", n)
	}
	wcfg := replay.WriterConfig{DataDir: dir, StartAfter: after, KeyframeEvery: a.cfg.KeyframeInterval}
	if a.cfg.ClickHouse != "" {
		wcfg = clickhouse.TuneWriter(wcfg)
	}
	a.historyWriter, err = replay.NewWriter(wcfg, a.store, a.history, a.reg, a.log.With("component", "history"))
	if err != nil {
		_ = a.history.Close()
		return fmt.Errorf("history writer: %w", err)
	}
	return nil
}

// replayer starts a history replay for a WebSocket client.
func (a *app) replayer(req frontend.ReplayRequest, send func([]byte) bool) frontend.ReplaySession {
	return replay.NewSession(a.history, replay.Request{From: req.From, To: req.To, Speed: req.Speed, Layers: req.Layers, BBox: req.BBox},
		send, replay.RealClock())
}

// newModules builds the five city modules and the response teams' module
// with the area tagger.
func newModules(set *areas.Set) (*streams.Modules, error) {
	return streams.NewModules(areas.NewTagger(set),
		traffic.New(traffic.Config{}),
		environment.New(environment.Config{}),
		lighting.New(lighting.Config{}),
		flooding.New(flooding.Config{}),
		feedback.New(feedback.Config{}),
		response.New(response.Config{}),
	)
}

func districts(set *areas.Set) []frontend.District {
	var out []frontend.District
	for _, d := range set.Districts() {
		out = append(out, frontend.District{Code: d.Code, Name: d.Name, Short: d.ShortName, Bounds: d.Bounds})
	}
	return out
}

// clusterSpecs gives the push each module layer's cluster zoom and
// severity ranking; --cluster-zoom overrides the zoom per layer.
func clusterSpecs(cfg *Config, specs []streams.LayerSpec) map[string]frontend.ClusterSpec {
	out := make(map[string]frontend.ClusterSpec, len(specs))
	for _, s := range specs {
		sev := s.Severity
		out[s.Name] = frontend.ClusterSpec{Zoom: s.ClusterZoom, Property: sev.Property, Levels: sev.Levels, Values: sev.Values, Bands: sev.Bands}
	}
	zooms, _ := cfg.clusterZooms()
	for name, z := range zooms {
		spec := out[name]
		spec.Zoom = z
		out[name] = spec
	}
	return out
}

// layerConfig gives each module layer its staleness from the module's
// declared reporting interval; --layer-ttl overrides per layer.
func layerConfig(cfg *Config, specs []streams.LayerSpec) layers.Config {
	lc := layers.Config{LogSize: cfg.ChangeLog, Layers: map[string]layers.LayerConfig{}, DefaultLayer: layers.LayerConfig{TTL: cfg.DefaultTTL}}
	for _, s := range specs {
		lc.Layers[s.Name] = layers.LayerConfig{TTL: s.StaleAfter}
	}
	neverStale(lc.Layers, zones.LayerZones, zones.LayerEvents) // written by the zone engine (zones.go)
	ttls, _ := cfg.layerTTLs()
	for name, ttl := range ttls {
		lc.Layers[name] = layers.LayerConfig{TTL: ttl}
	}
	return lc
}

// routes is the router: /healthz, /readyz and the web app's static files
// (which hold no data) are public; every other route is behind the auth
// middleware and needs the permission of the role table in
// docs/SECURITY.md (tested route by route in security_test.go).
func (a *app) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer, securityHeaders(a.cfg.MapStyle, a.cfg.TLSCert != ""))
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	r.Get("/readyz", a.readyz)
	r.Get("/*", a.web.ServeHTTP)
	r.Head("/*", a.web.ServeHTTP)
	r.Group(func(r chi.Router) {
		r.Use(a.auth.Middleware)
		r.With(a.auth.Require(access.ReadMetrics)).Handle("/metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{Registry: a.reg}))
		r.Route("/api/v1", a.apiRoutes)
		a.ingestGroup(r, access.ReadLive, a.open311.Routes)
		a.ingestGroup(r, access.Ingest, a.ngsi.Routes)
	})
	return r
}

// apiRoutes mounts /api/v1, each group with its permissions.
func (a *app) apiRoutes(r chi.Router) {
	a.auth.Routes(r)
	a.ingestGroup(r, access.Ingest, func(r chi.Router) { r.Handle("/events", a.ingest) })
	a.ingestGroup(r, access.Ingest, a.zones.capIn.Routes)
	r.Group(func(r chi.Router) {
		r.Use(a.auth.Require(access.ReadLive))
		a.push.Routes(r)
		a.areaRoutes(r)
		a.zones.capOut.Routes(r)
	})
	r.Group(func(r chi.Router) {
		r.Use(a.auth.Require(access.Configure), a.audited("sim_control"))
		a.simRoutes(r)
	})
	r.Group(func(r chi.Router) {
		r.Use(a.byMethod(access.ReadLive, access.ManageZones), a.audited("zone_change"))
		a.zones.engine.Routes(r)
	})
	r.Group(func(r chi.Router) {
		r.Use(a.byMethod(access.ReadLive, access.ActIncidents), a.audited("incident_action"))
		a.incidentRoutes(r)
	})
	r.Group(func(r chi.Router) {
		r.Use(a.auth.Require(access.ReadHistory))
		replay.Routes(r, a.history)
	})
}

func (a *app) readyz(w http.ResponseWriter, _ *http.Request) {
	if !a.ready.Load() {
		http.Error(w, "not ready\n", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// run starts iocd and blocks until ctx ends, then shuts down in order:
// refuse readiness, stop taking requests and let ingest finish, give the
// hub a tick to push the last changes, close WebSocket clients with
// "going away", then stop the background workers. ln, when not nil, is
// used instead of listening on cfg.Addr (tests pass a random port).
func run(ctx context.Context, cfg *Config, log *slog.Logger, ln net.Listener) error {
	a, err := newApp(cfg, log)
	if err != nil {
		return err
	}
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return fmt.Errorf("listen: %w", err)
		}
	}
	bg, stopBG := context.WithCancel(context.Background())
	defer stopBG()
	a.start(bg, "push hub", a.push.Run)
	a.start(bg, "auth housekeeping", a.auth.Run)
	a.start(bg, "staleness sweeper", a.store.Run)
	a.startZones(bg)
	a.startIncidents(bg)
	if a.cfg.HistoryWriter {
		a.start(bg, "history writer", a.historyWriter.Run)
	}
	if a.mqtt != nil {
		a.start(bg, "mqtt source", a.mqtt.Run)
	}
	if a.sim != nil {
		a.start(bg, "simulator", a.sim.Run)
		if cfg.Storm > 0 {
			if err := a.sim.Storm(cfg.Storm); err != nil {
				log.Warn("storm scenario not started", "err", err)
			}
		}
	}
	served := make(chan error, 1)
	go func() { served <- a.serve(ln) }()
	a.ready.Store(true)
	log.Info("iocd ready", "addr", ln.Addr().String(), "tls", cfg.TLSCert != "", "demo", cfg.Demo, "epoch", a.store.Epoch(), "data_dir", cfg.DataDir)

	select {
	case <-ctx.Done():
	case err := <-served:
		stopBG()
		a.workers.Wait()
		_ = a.history.Close()
		_ = a.closeAuth()
		return fmt.Errorf("http server: %w", err)
	}
	return a.shutdown(stopBG)
}

func (a *app) start(ctx context.Context, name string, fn func(context.Context) error) {
	a.workers.Add(1)
	go func() {
		defer a.workers.Done()
		if err := fn(ctx); err != nil {
			a.log.Error("worker stopped", "worker", name, "err", err)
		}
	}()
}

func (a *app) shutdown(stopBG context.CancelFunc) error {
	a.log.Info("shutting down", "timeout", a.cfg.ShutdownTimeout)
	a.ready.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	var errs []error
	if err := a.http.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err))
	}
	if err := a.push.Flush(ctx); err != nil {
		errs = append(errs, fmt.Errorf("push flush: %w", err))
	}
	if err := a.push.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("websocket shutdown: %w", err))
	}
	stopBG()
	a.workers.Wait() // the history writer stores or spools what it holds first
	if err := a.history.Close(); err != nil {
		errs = append(errs, fmt.Errorf("history close: %w", err))
	}
	if err := a.closeAuth(); err != nil {
		errs = append(errs, fmt.Errorf("auth store close: %w", err))
	}
	a.log.Info("stopped")
	return errors.Join(errs...)
}
