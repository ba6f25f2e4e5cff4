package main

// iocbench history: the history store's targets (issue 4), measured in
// process against a history store (ClickHouse with --clickhouse, else the
// embedded store under --embedded-dir):
//
//   - generate: the simulator (streams/sim) runs --span of city time at full
//     speed through a layers.Store (the live path's change records, without
//     the domain modules) and every change is appended as replay.RecordOf
//     builds it, in batches of --batch, with a keyframe every
//     --keyframe-interval of city time, as the writer asks for them;
//   - state: StateAt at random times over the whole city;
//   - series: 24 h of one entity's numeric property at 5-minute steps;
//   - replay: a 24 h replay.Session at --replay-speed, timing the gaps
//     between the frames it sends and how far historical time lags behind
//     the pacing.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/replay"
	"github.com/danang-ioc/ioc/replay/clickhouse"
	"github.com/danang-ioc/ioc/replay/embedded"
	"github.com/danang-ioc/ioc/streams/sim"
)

// histOptions are the history mode's command line.
type histOptions struct {
	clickhouse, db, embeddedDir string
	generate                    bool
	start                       time.Time
	span, keyframeEvery         time.Duration
	scale, batch                int
	seed                        uint64
	states, series              int
	replaySpan                  time.Duration
	replaySpeed                 float64
	json                        bool
	serverPID                   int
	cpuProfile                  string
	resumeAfter                 time.Time
}

func parseHistOptions(args []string, out io.Writer) (*histOptions, error) {
	o := &histOptions{}
	fs := flag.NewFlagSet("iocbench history", flag.ContinueOnError)
	fs.SetOutput(out)
	var start, resume string
	fs.StringVar(&o.clickhouse, "clickhouse", "", "ClickHouse native address (host:9000); empty: the embedded store under --embedded-dir")
	fs.StringVar(&o.db, "clickhouse-db", "ioc_bench", "ClickHouse database (created if missing)")
	fs.StringVar(&o.embeddedDir, "embedded-dir", "", "directory of the embedded store when --clickhouse is empty")
	fs.BoolVar(&o.generate, "generate", true, "generate --span of history first (false: measure what the store holds, from --start)")
	fs.StringVar(&start, "start", "2026-10-01T00:00:00Z", "city time the generated history starts at (RFC 3339)")
	fs.DurationVar(&o.span, "span", 30*24*time.Hour, "city time to generate")
	fs.DurationVar(&o.keyframeEvery, "keyframe-interval", 10*time.Minute, "keyframe every this much city time (iocd's --keyframe-interval default)")
	fs.IntVar(&o.scale, "scale", 1, "simulator scale (1: the city's real size)")
	fs.IntVar(&o.batch, "batch", 100000, "records per Append")
	fs.Uint64Var(&o.seed, "seed", 1, "simulator and query seed")
	fs.IntVar(&o.states, "states", 30, "StateAt queries at random times")
	fs.IntVar(&o.series, "series", 50, "series queries on random entities")
	fs.DurationVar(&o.replaySpan, "replay", 24*time.Hour, "history span to replay (0: skip)")
	fs.Float64Var(&o.replaySpeed, "replay-speed", 3600, "replay speed")
	fs.BoolVar(&o.json, "json", false, "print the results as JSON on stdout")
	fs.StringVar(&resume, "resume-after", "", "generate: replay the simulator up to this city time without storing, then store what follows (to extend a generation that was stopped; RFC 3339)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write this process's CPU profile of the whole run to this file")
	fs.IntVar(&o.serverPID, "server-pid", 0, "pid of the clickhouse-server, to report the CPU it used while generating")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	t, err := time.Parse(time.RFC3339, start)
	if err != nil {
		return nil, fmt.Errorf("--start: %w", err)
	}
	o.start = t.UTC()
	if resume != "" {
		if o.resumeAfter, err = time.Parse(time.RFC3339Nano, resume); err != nil {
			return nil, fmt.Errorf("--resume-after: %w", err)
		}
	}
	switch {
	case o.clickhouse == "" && o.embeddedDir == "":
		return nil, errors.New("name a store: --clickhouse host:port or --embedded-dir dir")
	case o.span < 2*time.Hour || o.replaySpan < 0 || o.replaySpan >= o.span:
		return nil, errors.New("--span must be at least 2h, and longer than --replay")
	case o.batch <= 0 || o.scale <= 0 || o.replaySpeed <= 0 || o.keyframeEvery <= 0:
		return nil, errors.New("--batch, --scale, --replay-speed and --keyframe-interval must be positive")
	}
	return o, nil
}

// runHistoryMain is `iocbench history`; it returns the exit code.
func runHistoryMain(args []string) int {
	o, err := parseHistOptions(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "iocbench history:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "iocbench history: --cpuprofile:", err)
			return 2
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	res, err := runHistory(ctx, o, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "iocbench history:", err)
		return 1
	}
	if o.json {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
	}
	return 0
}

// HistoryResult is the history mode's report.
type HistoryResult struct {
	Store    string          `json:"store"`
	CPUs     int             `json:"cpus"`
	Generate *GenerateResult `json:"generate,omitempty"`
	StateAt  *QueryResult    `json:"state_at,omitempty"`
	Series   *QueryResult    `json:"series,omitempty"`
	Replay   *ReplayResult   `json:"replay,omitempty"`
}

func openHistStore(ctx context.Context, o *histOptions) (replay.Store, string, error) {
	if o.clickhouse != "" {
		s, err := clickhouse.Open(ctx, clickhouse.Config{Addr: o.clickhouse, Database: o.db})
		return s, "clickhouse " + o.clickhouse + "/" + o.db, err
	}
	s, err := embedded.Open(o.embeddedDir)
	return s, "embedded " + o.embeddedDir, err
}

func runHistory(ctx context.Context, o *histOptions, log io.Writer) (*HistoryResult, error) {
	store, name, err := openHistStore(ctx, o)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	res := &HistoryResult{Store: name, CPUs: runtime.NumCPU()}
	fmt.Fprintf(log, "history store: %s\n", name)
	ents, err := histEntities(o)
	if err != nil {
		return nil, err
	}
	if o.generate {
		if res.Generate, err = generateHistory(ctx, o, store, log); err != nil {
			return nil, err
		}
	}
	rng := rand.New(rand.NewPCG(o.seed, 99))
	end := o.start.Add(o.span)
	if o.states > 0 {
		if res.StateAt, err = measureStateAt(ctx, store, rng, o.start.Add(time.Hour), end, o.states); err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "state at T:  %s\n", res.StateAt)
	}
	if o.series > 0 {
		// Windows end after a day of history where there is one.
		if res.Series, err = measureSeries(ctx, store, rng, ents, o.start.Add(min(24*time.Hour, o.span/2)), end, o.series); err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "series 24h/5m: %s\n", res.Series)
	}
	if o.replaySpan > 0 {
		from := o.start.Add(time.Duration(rng.Int64N(int64(o.span - o.replaySpan))))
		if res.Replay, err = measureReplay(ctx, store, from, o.replaySpan, o.replaySpeed); err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "replay:      %s\n", res.Replay)
	}
	return res, nil
}

// GenerateResult says what was generated and how fast the store took it.
type GenerateResult struct {
	Span          string         `json:"span"`
	Scale         int            `json:"scale"`
	Records       int64          `json:"records"`
	PerLayer      map[string]int `json:"records_per_layer"`
	Entities      int            `json:"entities"`
	Appends       int            `json:"appends"`
	AppendSeconds float64        `json:"append_seconds"`
	AppendRate    float64        `json:"append_records_per_s"` // records / time inside Append
	// CPU time per 100,000 records stored: the store's server (with
	// --server-pid) and this process (simulator, layers, records, driver).
	ServerCPUPer100k float64 `json:"server_cpu_s_per_100k,omitempty"`
	ToolCPUPer100k   float64 `json:"tool_cpu_s_per_100k"`
	MachineBusy      float64 `json:"machine_busy_cores"` // all processes, averaged over the run
	Keyframes        int     `json:"keyframes"`
	KeyframeMeanMS   float64 `json:"keyframe_mean_ms"`
	WallSeconds      float64 `json:"wall_seconds"`
	WallRate         float64 `json:"wall_records_per_s"` // simulator, layers, records and store together
}

// generator turns the simulator's events into stored records.
type generator struct {
	o        *histOptions
	store    replay.Store
	live     *layers.Store
	now      time.Time // the simulated clock the layers read
	pending  []replay.Record
	res      *GenerateResult
	ids      map[string]bool
	kfNext   time.Time
	kfTime   time.Duration
	appendAt time.Duration
}

func generateHistory(ctx context.Context, o *histOptions, store replay.Store, log io.Writer) (*GenerateResult, error) {
	s, err := sim.New(sim.Config{Seed: int64(o.seed), Scale: float64(o.scale), Start: o.start}, nil, nil)
	if err != nil {
		return nil, err
	}
	g := &generator{o: o, store: store, now: o.start, ids: map[string]bool{},
		res:    &GenerateResult{Span: o.span.String(), Scale: o.scale, PerLayer: map[string]int{}},
		kfNext: o.start.Add(o.keyframeEvery)}
	for !g.kfNext.After(o.resumeAfter) {
		g.kfNext = g.kfNext.Add(o.keyframeEvery) // those before were written by the run resumed
	}
	g.live = layers.NewStore(layers.Config{LogSize: 1 << 16, Now: func() time.Time { return g.now }}, nil)
	began, toolCPU, serverCPU, machine := time.Now(), processCPU(), pidCPU(o.serverPID), readMachineCPU()
	lastLog := began
	for g.now.Before(o.start.Add(o.span)) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		evs := s.Step(time.Minute)
		g.now = s.Now()
		if err := g.add(ctx, g.live.Apply(evs)); err != nil {
			return nil, err
		}
		if time.Since(lastLog) > 10*time.Second {
			lastLog = time.Now()
			fmt.Fprintf(log, "  generated to %s: %d records, store %.0f records/s\n",
				g.now.Format(time.RFC3339), g.res.Records, float64(g.res.Records)/g.appendAt.Seconds())
		}
	}
	if err := g.flush(ctx); err != nil {
		return nil, err
	}
	r := g.res
	r.Entities = len(g.ids)
	r.AppendSeconds = g.appendAt.Seconds()
	r.AppendRate = float64(r.Records) / r.AppendSeconds
	r.WallSeconds = time.Since(began).Seconds()
	r.WallRate = float64(r.Records) / r.WallSeconds
	per100k := 100000 / float64(r.Records)
	r.ToolCPUPer100k = (processCPU() - toolCPU).Seconds() * per100k
	if o.serverPID > 0 {
		r.ServerCPUPer100k = (pidCPU(o.serverPID) - serverCPU).Seconds() * per100k
	}
	r.MachineBusy = readMachineCPU().busyCores(machine)
	if r.Keyframes > 0 {
		r.KeyframeMeanMS = float64(g.kfTime.Milliseconds()) / float64(r.Keyframes)
	}
	fmt.Fprintf(log, "generated:   %d records (%d entities) in %.0f s; store took %.0f records/s in %d appends; %d keyframes, mean %.0f ms\n",
		r.Records, r.Entities, r.WallSeconds, r.AppendRate, r.Appends, r.Keyframes, r.KeyframeMeanMS)
	fmt.Fprintf(log, "             CPU per 100,000 records: server %.2f s, this tool %.2f s; machine busy %.2f cores on average\n",
		r.ServerCPUPer100k, r.ToolCPUPer100k, r.MachineBusy)
	return r, nil
}

func (g *generator) add(ctx context.Context, changes []layers.Change) error {
	epoch := g.live.Epoch()
	for _, c := range changes {
		r := replay.RecordOf(epoch, c)
		if !r.Time.After(g.o.resumeAfter) {
			continue // stored by the run resumed: the simulator repeats itself for a seed
		}
		g.ids[r.Layer+"\x00"+r.ID] = true
		g.res.PerLayer[r.Layer]++
		g.pending = append(g.pending, r)
		if len(g.pending) >= g.o.batch {
			if err := g.flush(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush appends pending, then writes the keyframes it completed: a
// keyframe at t needs every record with time <= t stored first.
func (g *generator) flush(ctx context.Context) error {
	if len(g.pending) == 0 {
		return nil
	}
	t0 := time.Now()
	if err := g.store.Append(ctx, g.pending); err != nil {
		return err
	}
	g.appendAt += time.Since(t0)
	g.res.Appends++
	g.res.Records += int64(len(g.pending))
	last := g.pending[len(g.pending)-1].Time
	g.pending = g.pending[:0]
	for !g.kfNext.After(last) {
		t0 = time.Now()
		if err := g.store.Keyframe(ctx, g.kfNext); err != nil {
			return err
		}
		g.kfTime += time.Since(t0)
		g.res.Keyframes++
		g.kfNext = g.kfNext.Add(g.o.keyframeEvery)
	}
	return nil
}

// QueryResult is the latency of repeated queries.
type QueryResult struct {
	Queries  int     `json:"queries"`
	P50MS    float64 `json:"p50_ms"`
	P95MS    float64 `json:"p95_ms"`
	MaxMS    float64 `json:"max_ms"`
	MeanRows float64 `json:"mean_rows"`
}

func (q *QueryResult) String() string {
	return fmt.Sprintf("p50 %.1f ms, p95 %.1f ms, max %.1f ms over %d queries (mean %.0f rows)",
		q.P50MS, q.P95MS, q.MaxMS, q.Queries, q.MeanRows)
}

func queryResult(ds []time.Duration, rows int) *QueryResult {
	slices.Sort(ds)
	at := func(q float64) float64 { return msOf(ds[min(len(ds)-1, int(q*float64(len(ds))))]) }
	return &QueryResult{Queries: len(ds), P50MS: at(0.5), P95MS: at(0.95), MaxMS: msOf(ds[len(ds)-1]),
		MeanRows: float64(rows) / float64(len(ds))}
}

func randomTime(rng *rand.Rand, from, to time.Time) time.Time {
	return from.Add(time.Duration(rng.Int64N(int64(to.Sub(from))))).Truncate(time.Millisecond)
}

func measureStateAt(ctx context.Context, store replay.Store, rng *rand.Rand, from, to time.Time, n int) (*QueryResult, error) {
	var ds []time.Duration
	rows := 0
	for range n {
		at := randomTime(rng, from, to)
		t0 := time.Now()
		recs, err := store.StateAt(ctx, at, nil, geo.World)
		if err != nil {
			return nil, fmt.Errorf("state at %s: %w", at.Format(time.RFC3339), err)
		}
		ds = append(ds, time.Since(t0))
		rows += len(recs)
	}
	return queryResult(ds, rows), nil
}

// seriesEntity is an entity with a numeric property to chart.
type seriesEntity struct{ layer, id, property string }

// seriesProperties are the charted properties of the simulated layers.
var seriesProperties = map[string]string{
	sim.LayerCameras: "intensity", sim.LayerLamps: "powerConsumption", sim.LayerRivers: "currentLevel",
	sim.LayerAir: "pm25", sim.LayerRain: "intensity", sim.LayerStreets: "depth", sim.LayerSegments: "averageVehicleSpeed",
}

// histEntities lists the simulated city's entities with a charted property,
// from the simulator's first reports (ids are stable for a seed and scale).
func histEntities(o *histOptions) ([]seriesEntity, error) {
	s, err := sim.New(sim.Config{Seed: int64(o.seed), Scale: float64(o.scale), Start: o.start}, nil, nil)
	if err != nil {
		return nil, err
	}
	seen := map[seriesEntity]bool{}
	var out []seriesEntity
	for _, ev := range s.Step(2 * time.Hour) {
		p, ok := seriesProperties[ev.Layer]
		e := seriesEntity{ev.Layer, ev.ID, p}
		if ok && !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].layer+out[i].id < out[j].layer+out[j].id })
	return out, nil
}

func measureSeries(ctx context.Context, store replay.Store, rng *rand.Rand, ents []seriesEntity, from, to time.Time, n int) (*QueryResult, error) {
	if len(ents) == 0 {
		return nil, errors.New("series: no entity with a numeric property")
	}
	var ds []time.Duration
	rows := 0
	for range n {
		e := ents[rng.IntN(len(ents))]
		end := randomTime(rng, from, to)
		t0 := time.Now()
		b, err := store.Series(ctx, e.layer, e.id, e.property, end.Add(-24*time.Hour), end, 5*time.Minute)
		if err != nil {
			return nil, fmt.Errorf("series %s/%s: %w", e.layer, e.id, err)
		}
		ds = append(ds, time.Since(t0))
		rows += len(b)
	}
	return queryResult(ds, rows), nil
}

// ReplayResult times a paced replay.
type ReplayResult struct {
	From          time.Time `json:"from"`
	Span          string    `json:"span"`
	Speed         float64   `json:"speed"`
	Frames        int       `json:"frames"`
	Features      int       `json:"snapshot_features"`
	Upserts       int64     `json:"diff_upserts"`
	RealSeconds   float64   `json:"real_seconds"`
	IdealSeconds  float64   `json:"ideal_seconds"`
	HistPerSecond float64   `json:"historical_seconds_per_real_second"`
	FirstFrameMS  float64   `json:"first_frame_ms"`
	GapP50MS      float64   `json:"gap_p50_ms"`
	GapP99MS      float64   `json:"gap_p99_ms"`
	GapMaxMS      float64   `json:"gap_max_ms"`
	MaxLagS       float64   `json:"max_lag_historical_s"` // how far the frames' time fell behind the pacing
}

func (r *ReplayResult) String() string {
	return fmt.Sprintf("%s at %.0fx from %s: %d frames in %.1f s (ideal %.1f s, %.0f historical s per s); snapshot %d features in %.0f ms; gaps p50 %.0f ms, p99 %.0f ms, max %.0f ms; max lag %.0f historical s",
		r.Span, r.Speed, r.From.Format(time.RFC3339), r.Frames, r.RealSeconds, r.IdealSeconds, r.HistPerSecond,
		r.Features, r.FirstFrameMS, r.GapP50MS, r.GapP99MS, r.GapMaxMS, r.MaxLagS)
}

// frameHeader reads a replay frame's type and historical time from its
// fixed prefix ({"type":"…","replay":true,"time":"…"), and counts its
// features, without decoding the rest: the measurement must not compete
// with the session for the CPU it measures.
func frameHeader(f []byte) (typ string, at time.Time, features int, err error) {
	const typeKey, timeKey = `{"type":"`, `"time":"`
	rest, ok := bytes.CutPrefix(f, []byte(typeKey))
	i := bytes.IndexByte(rest, '"')
	j := bytes.Index(f, []byte(timeKey))
	if !ok || i < 0 || j < 0 {
		return "", at, 0, fmt.Errorf("replay frame without type and time: %.80s", f)
	}
	ts := f[j+len(timeKey):]
	k := bytes.IndexByte(ts, '"')
	if k < 0 {
		return "", at, 0, fmt.Errorf("replay frame time unterminated: %.80s", f)
	}
	if at, err = time.Parse(time.RFC3339Nano, string(ts[:k])); err != nil {
		return "", at, 0, fmt.Errorf("replay frame time: %w", err)
	}
	return string(rest[:i]), at, bytes.Count(f, []byte(`"type":"Feature"`)), nil
}

func measureReplay(ctx context.Context, store replay.Store, from time.Time, span time.Duration, speed float64) (*ReplayResult, error) {
	res := &ReplayResult{From: from, Span: span.String(), Speed: speed, IdealSeconds: span.Seconds() / speed}
	frames := make(chan []byte, 1024)
	ctx, cancel := context.WithTimeout(ctx, time.Duration(3*res.IdealSeconds+60)*time.Second)
	defer cancel()
	sess := replay.NewSession(store, replay.Request{From: from, To: from.Add(span), Speed: speed}, func(f []byte) bool {
		select {
		case frames <- f:
			return true
		default:
			return false
		}
	}, replay.RealClock())
	errc := make(chan error, 1)
	start := time.Now()
	go func() { errc <- sess.Run(ctx) }()
	var gaps []time.Duration
	var last, playStart time.Time
	for {
		select {
		case err := <-errc:
			return nil, fmt.Errorf("replay ended before replay_end: %w", err)
		case f := <-frames:
			now := time.Now()
			typ, at, n, err := frameHeader(f)
			if err != nil {
				return nil, err
			}
			res.Frames++
			switch typ {
			case "snapshot":
				res.Features, res.FirstFrameMS, playStart = n, msOf(now.Sub(start)), now
			default:
				gaps = append(gaps, now.Sub(last))
				res.Upserts += int64(n)
				paced := time.Duration(float64(now.Sub(playStart)) * speed)
				res.MaxLagS = max(res.MaxLagS, (paced - at.Sub(from)).Seconds())
			}
			last = now
			if typ == "replay_end" {
				cancel()
				<-errc
				res.RealSeconds = now.Sub(playStart).Seconds()
				res.HistPerSecond = span.Seconds() / res.RealSeconds
				if len(gaps) > 0 {
					g := queryResult(gaps, 0)
					res.GapP50MS, res.GapP99MS, res.GapMaxMS = g.P50MS, percentile(gaps, 0.99), g.MaxMS
				}
				return res, nil
			}
		}
	}
}

// percentile of sorted durations, in ms.
func percentile(sorted []time.Duration, q float64) float64 {
	return msOf(sorted[min(len(sorted)-1, int(q*float64(len(sorted))))])
}

// pidCPU is the CPU time a process has used, from /proc; 0 without one.
func pidCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces: fields count from after its ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}
