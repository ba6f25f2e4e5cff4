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
	"github.com/danang-ioc/ioc/geo/areas"
	"github.com/danang-ioc/ioc/layers"
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
	"github.com/danang-ioc/ioc/streams/sim"
	"github.com/danang-ioc/ioc/streams/traffic"
)

func main() {
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
	http          *http.Server
	ready         atomic.Bool
	workers       sync.WaitGroup
}

func newApp(cfg *Config, log *slog.Logger) (*app, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	a := &app{cfg: cfg, log: log, reg: prometheus.NewRegistry()}
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
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
		Districts: districts(set), Replayer: a.replayer,
	}, a.store, a.reg, log.With("component", "push"))
	a.http = &http.Server{
		Handler:           a.routes(),
		ReadHeaderTimeout: cfg.ReadHeaderTimout,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return a, nil
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
	a.historyWriter, err = replay.NewWriter(replay.WriterConfig{DataDir: dir, StartAfter: after, KeyframeEvery: a.cfg.KeyframeInterval},
		a.store, a.history, a.reg, a.log.With("component", "history"))
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

// newModules builds the five city modules with the area tagger.
func newModules(set *areas.Set) (*streams.Modules, error) {
	return streams.NewModules(areas.NewTagger(set),
		traffic.New(traffic.Config{}),
		environment.New(environment.Config{}),
		lighting.New(lighting.Config{}),
		flooding.New(flooding.Config{}),
		feedback.New(feedback.Config{}),
	)
}

func districts(set *areas.Set) []frontend.District {
	var out []frontend.District
	for _, d := range set.Districts() {
		out = append(out, frontend.District{Code: d.Code, Name: d.Name, Short: d.ShortName, Bounds: d.Bounds})
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
	ttls, _ := cfg.layerTTLs()
	for name, ttl := range ttls {
		lc.Layers[name] = layers.LayerConfig{TTL: ttl}
	}
	return lc
}

func (a *app) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	r.Get("/readyz", a.readyz)
	r.Handle("/metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{Registry: a.reg}))
	r.Route("/api/v1", func(r chi.Router) {
		r.Handle("/events", a.ingest)
		a.push.Routes(r)
		a.simRoutes(r)
		replay.Routes(r, a.history)
	})
	a.open311.Routes(r)
	a.ngsi.Routes(r)
	return r
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
	a.start(bg, "staleness sweeper", a.store.Run)
	a.start(bg, "history writer", a.historyWriter.Run)
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
	go func() { served <- a.http.Serve(ln) }()
	a.ready.Store(true)
	log.Info("iocd ready", "addr", ln.Addr().String(), "epoch", a.store.Epoch(), "data_dir", cfg.DataDir)

	select {
	case <-ctx.Done():
	case err := <-served:
		stopBG()
		a.workers.Wait()
		_ = a.history.Close()
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
	a.log.Info("stopped")
	return errors.Join(errs...)
}
