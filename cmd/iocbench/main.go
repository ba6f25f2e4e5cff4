// Command iocbench drives a real iocd over HTTP and WebSocket on this
// machine and reports throughput and latency percentiles.
//
//	iocbench ingest   [flags]   HTTP NDJSON ingest as fast as possible
//	iocbench fanout   [flags]   WebSocket clients with viewports under a fixed ingest rate
//	iocbench snapshot [flags]   time a new client's snapshot of many features
//	iocbench history  [flags]   history store: generate days of city history, time state at T, series, replay
//
// Without --target it builds cmd/iocd (or runs --iocd), starts it on a free
// loopback port for each run and kills it at the end.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "history" {
		os.Exit(runHistoryMain(os.Args[2:])) // in process, against a history store: see histbench.go
	}
	o, err := parseOptions(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "iocbench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b := &bench{o: o, log: os.Stderr}
	// A last resort if something hangs past the deadline: never leave a
	// spawned server behind.
	watchdog := time.AfterFunc(o.timeout+30*time.Second, func() {
		fmt.Fprintln(os.Stderr, "iocbench: still running 30s after --timeout; killing the server and exiting")
		b.stopAll()
		os.Exit(3)
	})
	defer watchdog.Stop()
	err = b.run(ctx, os.Stdout)
	b.stopAll()
	if err != nil {
		fmt.Fprintln(os.Stderr, "iocbench:", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	mode       string
	target     string
	iocd       string
	serverArgs []string
	duration   time.Duration
	timeout    time.Duration
	json       bool
	seed       uint64

	senders  int
	batch    int
	count    int64
	entities int
	layers   []string
	oneLayer bool

	clients        int
	stalled        float64
	compareStalled bool
	stalledView    string
	rate           float64
	tick           time.Duration
	warmup         time.Duration
	drain          time.Duration
	preload        bool

	features int
	repeat   int
}

var modes = []string{"ingest", "fanout", "snapshot"}

func parseOptions(args []string, out io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("iocbench", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() { usage(fs, out) }
	var layerList, serverArgs string
	fs.StringVar(&bearerToken, "token", os.Getenv("IOC_TOKEN"), "API token for a secured --target server (default $IOC_TOKEN); it needs the ingest, read and monitor roles. A spawned iocd runs with --demo")
	fs.StringVar(&o.target, "target", "", "drive an already running iocd at this loopback URL, e.g. http://127.0.0.1:8080 (default: spawn one)")
	fs.StringVar(&o.iocd, "iocd", "", "iocd binary to spawn (default: go build ./cmd/iocd into a temporary directory); it is started with --sim=false if it has a simulator")
	fs.StringVar(&serverArgs, "server-args", "", "extra flags for the spawned iocd, space separated, e.g. \"--push-interval 10ms\"")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long ingest runs (ingest and fanout)")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "overall limit; everything stops after it")
	fs.BoolVar(&o.json, "json", false, "print the results as JSON on stdout (the summary goes to stderr)")
	fs.Uint64Var(&o.seed, "seed", 1, "random seed for entities, values and viewports")
	fs.IntVar(&o.senders, "senders", 4, "concurrent HTTP senders")
	fs.IntVar(&o.batch, "batch", 1000, "events per request (ingest), most events per paced request (fanout)")
	fs.Int64Var(&o.count, "count", 0, "ingest: stop after this many events (0: run for --duration)")
	fs.IntVar(&o.entities, "entities", 100000, "entities events are drawn from, spread over Da Nang")
	fs.StringVar(&layerList, "layers", "traffic.cameras,environment.air,lighting.lamps", "layers, comma separated; entity i is in layer i mod n")
	fs.BoolVar(&o.oneLayer, "layer-per-batch", false, "each request holds events of one layer only (default: every request mixes all layers)")
	fs.IntVar(&o.clients, "clients", 1000, "fanout: WebSocket clients, each with its own 2–4 km viewport on one layer")
	fs.Float64Var(&o.stalled, "stalled", 0.1, "fanout: fraction of clients that never read after subscribing")
	fs.BoolVar(&o.compareStalled, "compare-stalled", false, "fanout: run twice, with no stalled clients then with --stalled, and compare")
	fs.StringVar(&o.stalledView, "stalled-view", "own", "fanout: what stalled clients watch: own (a 2–4 km viewport on one layer, like the others) or city (every layer over all of Da Nang, like a frozen wall display; backs up within seconds)")
	fs.Float64Var(&o.rate, "rate", 20000, "fanout: events per second to ingest")
	fs.DurationVar(&o.tick, "tick", 10*time.Millisecond, "fanout: ingest pacing interval")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "fanout: latencies of events observed in this first part of the run are not counted")
	fs.DurationVar(&o.drain, "drain", time.Second, "fanout: how long clients keep reading after ingest stops")
	fs.BoolVar(&o.preload, "preload", true, "fanout: post every entity once before clients connect, so their snapshots are not empty")
	fs.IntVar(&o.features, "features", 100000, "snapshot: features in the subscribed layer")
	fs.IntVar(&o.repeat, "repeat", 5, "snapshot: how many new clients to time")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("name a mode first: iocbench {%s} [flags]", strings.Join(modes, "|"))
	}
	o.mode = args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o.layers = splitList(layerList, ",")
	o.serverArgs = strings.Fields(serverArgs)
	return o, o.validate()
}

func usage(fs *flag.FlagSet, out io.Writer) {
	fmt.Fprintf(out, "usage: iocbench {%s} [flags]\n\n", strings.Join(modes, "|"))
	fmt.Fprintf(out, "Drives a real iocd on this machine over HTTP and WebSocket and reports\nthroughput and latency. Flags:\n")
	fs.PrintDefaults()
}

func (o *options) validate() error {
	switch {
	case !containsString(modes, o.mode):
		return fmt.Errorf("unknown mode %q: want one of %s", o.mode, strings.Join(modes, ", "))
	case o.duration <= 0 || o.timeout <= 0 || o.tick <= 0:
		return errors.New("--duration, --timeout and --tick must be positive")
	case o.senders <= 0 || o.batch <= 0 || o.entities <= 0 || o.clients <= 0 || o.features <= 0 || o.repeat <= 0:
		return errors.New("--senders, --batch, --entities, --clients, --features and --repeat must be positive")
	case o.stalled < 0 || o.stalled >= 1:
		return errors.New("--stalled must be in [0, 1)")
	case o.rate <= 0 || o.count < 0 || o.warmup < 0 || o.drain < 0:
		return errors.New("--rate must be positive; --count, --warmup and --drain not negative")
	case o.stalledView != "own" && o.stalledView != "city":
		return fmt.Errorf("--stalled-view %q: want own or city", o.stalledView)
	case len(o.layers) == 0:
		return errors.New("--layers must name at least one layer")
	}
	if o.target != "" {
		base, err := checkLoopback(o.target)
		if err != nil {
			return err
		}
		o.target = base
	}
	return nil
}

func splitList(s, sep string) []string {
	var out []string
	for _, p := range strings.Split(s, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// bench is one invocation: its options and the servers it has spawned.
type bench struct {
	o   *options
	log io.Writer
	bin string
	dir string

	mu      sync.Mutex
	spawned []*server
	cleanup func()
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, format+"\n", args...)
}

// run prepares the machine and the server binary, runs the mode and writes
// the report to stdout.
func (b *bench) run(ctx context.Context, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, b.o.timeout)
	defer cancel()
	if limit, err := raiseFileLimit(); err != nil {
		b.logf("warning: cannot raise the open-file limit: %v", err)
	} else if b.o.mode == "fanout" && limit < uint64(b.o.clients)*2+100 {
		b.logf("warning: open-file limit %d is low for %d clients and the server", limit, b.o.clients)
	}
	if err := b.prepare(ctx); err != nil {
		return err
	}
	result, err := b.runMode(ctx)
	if err != nil {
		return err
	}
	return b.report(stdout, result)
}

// prepare finds or builds the iocd binary unless a target is given.
func (b *bench) prepare(ctx context.Context) error {
	if b.o.target != "" {
		return nil
	}
	dir, cleanup, err := tempDir()
	if err != nil {
		return err
	}
	b.dir, b.cleanup = dir, cleanup
	if b.o.iocd != "" {
		b.bin = b.o.iocd
		return nil
	}
	b.logf("building cmd/iocd ...")
	b.bin, err = buildIOCD(ctx, dir)
	return err
}

// startServer returns the --target server, or spawns a fresh iocd.
func (b *bench) startServer(ctx context.Context) (*server, error) {
	if b.o.target != "" {
		return &server{base: b.o.target}, nil
	}
	b.mu.Lock()
	dataDir := filepath.Join(b.dir, "data-"+strconv.Itoa(len(b.spawned)))
	b.mu.Unlock()
	s, err := spawnIOCD(ctx, b.bin, dataDir, b.o.serverArgs)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.spawned = append(b.spawned, s)
	b.mu.Unlock()
	b.logf("spawned iocd pid %d: %s", s.pid(), strings.Join(s.cmd.Args, " "))
	return s, nil
}

// stopAll kills every spawned server still running and removes the
// temporary directory. Safe to call more than once.
func (b *bench) stopAll() {
	b.mu.Lock()
	spawned := b.spawned
	b.spawned = nil
	cleanup := b.cleanup
	b.cleanup = nil
	b.mu.Unlock()
	for _, s := range spawned {
		s.stop()
	}
	if cleanup != nil {
		cleanup()
	}
}

// printer is any mode's result.
type printer interface{ print(io.Writer) }

func (b *bench) runMode(ctx context.Context) (printer, error) {
	switch b.o.mode {
	case "ingest":
		return runIngest(ctx, b)
	case "snapshot":
		return runSnapshot(ctx, b)
	}
	if !b.o.compareStalled {
		return runFanout(ctx, b, b.o.stalled)
	}
	base, err := runFanout(ctx, b, 0)
	if err != nil {
		return nil, err
	}
	// The first server has been stopped; the second run spawns a fresh one.
	stalled, err := runFanout(ctx, b, b.o.stalled)
	if err != nil {
		return nil, err
	}
	return compare(base, stalled), nil
}

// Report is the --json output.
type Report struct {
	Mode    string    `json:"mode"`
	Machine machine   `json:"machine"`
	Args    []string  `json:"args"`
	Result  printer   `json:"result"`
	At      time.Time `json:"at"`
}

type machine struct {
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	Note      string `json:"note"`
}

func (b *bench) report(stdout io.Writer, result printer) error {
	human := stdout
	if b.o.json {
		human = b.log
	}
	result.print(human)
	fmt.Fprintf(human, "  note          iocbench and iocd share this machine's %d CPUs\n", runtime.NumCPU())
	if !b.o.json {
		return nil
	}
	rep := Report{
		Mode: b.o.mode, Args: os.Args[1:], Result: result, At: time.Now().UTC(),
		Machine: machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH,
			Note: "load generator and server run on the same machine and share its CPUs"},
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
