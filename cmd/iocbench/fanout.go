package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// FanoutResult is the outcome of one fan-out run.
type FanoutResult struct {
	Clients        int     `json:"clients"`
	Reading        int     `json:"reading_clients"`
	Stalled        int     `json:"stalled_clients"`
	StalledView    string  `json:"stalled_view"`
	ConnectSeconds float64 `json:"connect_seconds"`
	SnapshotAvg    float64 `json:"initial_snapshot_features_avg"`

	TargetRate   float64  `json:"target_rate"`
	AchievedRate float64  `json:"achieved_rate"`
	Seconds      float64  `json:"seconds"`
	Accepted     int64    `json:"events_accepted"`
	IngestErrors int64    `json:"ingest_errors"`
	FirstErrors  []string `json:"first_errors,omitempty"`
	PostLatency  Latency  `json:"post_latency"`

	Messages       int64       `json:"messages_received"`
	Diffs          int64       `json:"diffs_received"`
	Upserts        int64       `json:"features_received"`
	PerClientRate  float64     `json:"features_per_client_per_second"`
	ReaderResyncs  int64       `json:"reader_resync_snapshots"`
	Latency        Latency     `json:"latency"`
	WarmupSeconds  float64     `json:"warmup_seconds"`
	ServerSnapshot serverState `json:"server"`
	CPU            cpuUse      `json:"cpu"`
}

// serverState is what iocd's /metrics said after the run.
type serverState struct {
	Drops             map[string]float64 `json:"ws_drops_total"`
	Resyncs           map[string]float64 `json:"ws_resyncs_total"`
	Snapshots         float64            `json:"ws_snapshots_total"`
	ClientsAtEnd      float64            `json:"ws_clients_at_end"`
	FramesSent        float64            `json:"ws_frames_sent"`
	MBSent            float64            `json:"ws_mb_sent"`
	QueuedFramesAtEnd float64            `json:"ws_queued_frames_at_end"`
	LateEvents        float64            `json:"late_events"`
	GoroutinesIdle    float64            `json:"goroutines_before_clients"`
	GoroutinesLoaded  float64            `json:"goroutines_with_clients"`
	GoroutinesAfter   float64            `json:"goroutines_after_clients_left"`
	RSSMB             float64            `json:"rss_mb"`
	TickP50           bucketQuantile     `json:"hub_tick_p50"`
	TickP99           bucketQuantile     `json:"hub_tick_p99"`
	PushP50           bucketQuantile     `json:"push_latency_p50"`
	PushP99           bucketQuantile     `json:"push_latency_p99"`
}

// runFanout connects o.clients viewers, a fraction stalled of which never
// read, then ingests at o.rate for o.duration and measures how long each
// update takes from its observation time to a reading client.
func runFanout(ctx context.Context, b *bench, stalled float64) (*FanoutResult, error) {
	o := b.o
	srv, err := b.startServer(ctx)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	p := newPoster(srv.base, o.senders)
	defer p.close()
	pl := newPool(o.entities, o.layers, o.seed)
	if o.preload {
		if _, err := loadAll(ctx, p, pl, o.senders, o.batch); err != nil {
			return nil, fmt.Errorf("preload: %w", err)
		}
	}
	idle, _ := scrape(ctx, srv.base)
	since := &atomic.Int64{}
	since.Store(math.MaxInt64)
	t0 := time.Now()
	clients, err := connectClients(ctx, srv.base, pl.layers, o, stalled, since)
	defer closeClients(clients)
	if err != nil {
		return nil, err
	}
	connectTook := time.Since(t0)
	b.logf("fanout: %d clients connected and holding their snapshots in %v", len(clients), connectTook.Round(time.Millisecond))

	before, _ := scrape(ctx, srv.base)
	meter := startCPUMeter(ctx, srv.base)
	since.Store(time.Now().Add(o.warmup).UnixNano())
	sent, elapsed := paceIngest(ctx, p, pl, o)
	sleepCtx(ctx, o.drain)
	cpu := meter.stop(ctx)
	loaded, err := scrape(ctx, srv.base)
	if err != nil {
		return nil, err
	}
	closeClients(clients)
	after := waitGoroutines(ctx, srv.base, idle.sum("go_goroutines"))

	r := fanoutResult(o, clients, &sent, elapsed, cpu)
	r.ConnectSeconds = connectTook.Seconds()
	r.ServerSnapshot = serverStateOf(before, loaded, idle, after)
	return r, nil
}

// connectClients dials every client, 32 at a time, and waits until each
// reading client holds its first snapshot.
func connectClients(ctx context.Context, base string, layerNames []string, o *options, stalled float64, since *atomic.Int64) ([]*wsClient, error) {
	rng := rand.New(rand.NewPCG(o.seed, 3))
	clients := make([]*wsClient, o.clients)
	views := make([]box, o.clients)
	for i := range views {
		views[i] = randomViewport(rng)
	}
	d := newDialer()
	sem := make(chan struct{}, 32)
	errs := make([]error, o.clients)
	var wg sync.WaitGroup
	for i := range clients {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			layers, view := layerNames[i%len(layerNames):i%len(layerNames)+1], views[i]
			if isStalled(i, stalled) && o.stalledView == "city" {
				layers, view = layerNames, daNang
			}
			conn, err := dialAndSubscribe(ctx, d, base, layers, view)
			if err != nil {
				errs[i] = fmt.Errorf("client %d: %w", i, err)
				return
			}
			c := &wsClient{conn: conn, stalled: isStalled(i, stalled), since: since, ready: make(chan struct{}), done: make(chan struct{})}
			clients[i] = c
			if !c.stalled {
				go c.readLoop()
			}
		}()
	}
	wg.Wait()
	clients = slices.DeleteFunc(clients, func(c *wsClient) bool { return c == nil })
	if err := errors.Join(errs...); err != nil {
		return clients, err
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for i, c := range clients {
		if c.stalled {
			continue
		}
		if err := c.waitReady(wctx); err != nil {
			return clients, fmt.Errorf("client %d: %w", i, err)
		}
	}
	return clients, nil
}

// isStalled spreads the stalled clients evenly: client i stalls when the
// running count of stalled clients steps up at i.
func isStalled(i int, fraction float64) bool {
	return int(float64(i+1)*fraction) > int(float64(i)*fraction)
}

func closeClients(clients []*wsClient) {
	for _, c := range clients {
		if c != nil {
			_ = c.conn.Close()
		}
	}
	for _, c := range clients {
		if c != nil {
			c.close()
		}
	}
}

// waitGoroutines gives the server up to 3 seconds to let the departed
// clients' goroutines end, and returns its final metrics.
func waitGoroutines(ctx context.Context, base string, idle float64) metrics {
	var m metrics
	deadline := time.Now().Add(3 * time.Second)
	for {
		m, _ = scrape(ctx, base)
		if m.sum("go_goroutines") <= idle+5 || time.Now().After(deadline) || ctx.Err() != nil {
			return m
		}
		sleepCtx(ctx, 100*time.Millisecond)
	}
}

type job struct {
	body []byte
	n    int
}

// paceIngest posts o.rate events per second for o.duration: every o.tick
// it builds the events due since the start (all stamped with the build
// time) and hands them to o.senders posting goroutines. A late tick makes
// the next batch bigger (up to o.batch), so the rate does not drift.
func paceIngest(ctx context.Context, p *poster, pl *pool, o *options) (sendStats, time.Duration) {
	jobs := make(chan job, o.senders*2)
	stats := make([]sendStats, o.senders)
	var wg sync.WaitGroup
	for i := range stats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				t0 := time.Now()
				accepted, err := p.post(ctx, j.body, j.n)
				stats[i].observe(accepted, err, time.Since(t0))
			}
		}()
	}
	start := time.Now()
	produce(ctx, jobs, newBatchBuilder(pl, o.seed+99, o.oneLayer), o, start)
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	var all sendStats
	for i := range stats {
		all.merge(&stats[i])
	}
	return all, elapsed
}

func produce(ctx context.Context, jobs chan<- job, bb *batchBuilder, o *options, start time.Time) {
	t := time.NewTicker(o.tick)
	defer t.Stop()
	sent := 0
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			elapsed := now.Sub(start)
			if elapsed > o.duration {
				return
			}
			n := min(int(o.rate*elapsed.Seconds())-sent, o.batch)
			if n <= 0 {
				continue
			}
			body := slices.Clone(bb.random(n, time.Now()))
			select {
			case jobs <- job{body: body, n: n}:
				sent += n
			case <-ctx.Done():
				return
			}
		}
	}
}

// loadAll posts every entity of the pool once and returns how long it took.
func loadAll(ctx context.Context, p *poster, pl *pool, senders, batch int) (time.Duration, error) {
	start := time.Now()
	spans := make(chan [2]int)
	errs := make([]error, senders)
	var wg sync.WaitGroup
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bb := newBatchBuilder(pl, uint64(i)+1000, false)
			for s := range spans {
				if _, err := p.post(ctx, bb.span(s[0], s[1], time.Now()), s[1]-s[0]); err != nil && errs[i] == nil {
					errs[i] = err
				}
			}
		}()
	}
	for from := 0; from < len(pl.entities) && ctx.Err() == nil; from += batch {
		spans <- [2]int{from, min(from+batch, len(pl.entities))}
	}
	close(spans)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	return time.Since(start), ctx.Err()
}

func fanoutResult(o *options, clients []*wsClient, sent *sendStats, elapsed time.Duration, cpu cpuUse) *FanoutResult {
	var all clientStats
	r := &FanoutResult{Clients: len(clients), StalledView: o.stalledView, TargetRate: o.rate, Seconds: elapsed.Seconds(), WarmupSeconds: o.warmup.Seconds(), CPU: cpu}
	for _, c := range clients {
		if c.stalled {
			r.Stalled++
			continue
		}
		r.Reading++
		all.merge(&c.stats)
	}
	r.Accepted, r.IngestErrors, r.FirstErrors = sent.events, sent.errors, sent.firstErrors
	r.AchievedRate = float64(sent.events) / elapsed.Seconds()
	r.PostLatency = sent.latency.summary()
	r.Messages, r.Diffs, r.Upserts = all.messages, all.diffs, all.upserts
	r.ReaderResyncs = all.snapshots - int64(r.Reading)
	r.Latency = all.latency.summary()
	if r.Reading > 0 {
		r.SnapshotAvg = float64(all.initialFeatures) / float64(r.Reading)
		r.PerClientRate = float64(all.upserts) / float64(r.Reading) / elapsed.Seconds()
	}
	return r
}

func serverStateOf(before, loaded, idle, after metrics) serverState {
	delta := func(name string) float64 { return loaded.sum(name) - before.sum(name) }
	return serverState{
		Drops:             loaded.byLabel("ioc_ws_drops_total"),
		Resyncs:           loaded.byLabel("ioc_ws_resyncs_total"),
		Snapshots:         loaded.sum("ioc_ws_snapshots_total"),
		ClientsAtEnd:      loaded.sum("ioc_ws_clients"),
		FramesSent:        delta("ioc_ws_frames_sent_total"),
		MBSent:            delta("ioc_ws_bytes_sent_total") / 1e6,
		QueuedFramesAtEnd: loaded.sum("ioc_ws_queued_frames"),
		LateEvents:        delta("ioc_layers_late_events_total"),
		GoroutinesIdle:    idle.sum("go_goroutines"),
		GoroutinesLoaded:  loaded.sum("go_goroutines"),
		GoroutinesAfter:   after.sum("go_goroutines"),
		RSSMB:             loaded.sum("process_resident_memory_bytes") / 1e6,
		TickP50:           histQuantile(before, loaded, "ioc_ws_tick_seconds", 0.5),
		TickP99:           histQuantile(before, loaded, "ioc_ws_tick_seconds", 0.99),
		PushP50:           histQuantile(before, loaded, "ioc_push_latency_seconds", 0.5),
		PushP99:           histQuantile(before, loaded, "ioc_push_latency_seconds", 0.99),
	}
}

// labelList formats {reason="x"} counts as (x 3, y 1), zero ones left out.
func labelList(m map[string]float64) string {
	var parts []string
	for k, v := range m {
		if v != 0 {
			parts = append(parts, fmt.Sprintf("%s %.0f", strings.Trim(strings.TrimPrefix(k, "reason="), `"`), v))
		}
	}
	slices.Sort(parts)
	return "(" + strings.Join(parts, ", ") + ")"
}

func sumValues(m map[string]float64) float64 {
	var t float64
	for _, v := range m {
		t += v
	}
	return t
}

func (r *FanoutResult) print(w io.Writer) {
	s := &r.ServerSnapshot
	fmt.Fprintf(w, "fanout: %d clients (%d reading, %d stalled watching %s), connected in %.1fs, %.0f features per initial snapshot\n",
		r.Clients, r.Reading, r.Stalled, r.StalledView, r.ConnectSeconds, r.SnapshotAvg)
	fmt.Fprintf(w, "  ingest        %.0f events/s achieved of %.0f target over %.1fs (%d accepted, %d errors)\n",
		r.AchievedRate, r.TargetRate, r.Seconds, r.Accepted, r.IngestErrors)
	for _, e := range r.FirstErrors {
		fmt.Fprintf(w, "    %s\n", e)
	}
	fmt.Fprintf(w, "  post time     %s\n", r.PostLatency)
	fmt.Fprintf(w, "  received      %d messages, %d diffs, %d features (%.1f features/s per reading client), %d resync snapshots\n",
		r.Messages, r.Diffs, r.Upserts, r.PerClientRate, r.ReaderResyncs)
	fmt.Fprintf(w, "  ingest→client %s (after %.1fs warm-up)\n", r.Latency, r.WarmupSeconds)
	fmt.Fprintf(w, "  server        drops %.0f %s, resyncs %.0f %s, snapshots %.0f, clients at end %.0f, queued frames %.0f\n",
		sumValues(s.Drops), labelList(s.Drops), sumValues(s.Resyncs), labelList(s.Resyncs), s.Snapshots, s.ClientsAtEnd, s.QueuedFramesAtEnd)
	fmt.Fprintf(w, "                %.0f frames / %.1f MB pushed during the run, %.0f late events, RSS %.0f MB\n",
		s.FramesSent, s.MBSent, s.LateEvents, s.RSSMB)
	fmt.Fprintf(w, "                hub tick p50 %s, p99 %s; server push latency (change applied → frame written) p50 %s, p99 %s\n",
		s.TickP50, s.TickP99, s.PushP50, s.PushP99)
	fmt.Fprintf(w, "                goroutines %.0f idle, %.0f with clients, %.0f after they left\n",
		s.GoroutinesIdle, s.GoroutinesLoaded, s.GoroutinesAfter)
	fmt.Fprintf(w, "  cpu           %s\n", r.CPU)
}

// CompareResult is --compare-stalled: the same scenario without and with
// stalled clients.
type CompareResult struct {
	Baseline    *FanoutResult `json:"baseline"`
	WithStalled *FanoutResult `json:"with_stalled"`
	P99Ratio    float64       `json:"p99_ratio"`
	RateRatio   float64       `json:"rate_ratio"`
	Within10Pct bool          `json:"within_10_percent"`
	Clean       bool          `json:"machine_quiet"` // no other process used 0.2 cores or more in either run
}

func compare(base, stalled *FanoutResult) *CompareResult {
	c := &CompareResult{Baseline: base, WithStalled: stalled}
	if base.Latency.P99MS > 0 {
		c.P99Ratio = stalled.Latency.P99MS / base.Latency.P99MS
	}
	if base.AchievedRate > 0 {
		c.RateRatio = stalled.AchievedRate / base.AchievedRate
	}
	c.Within10Pct = math.Abs(c.P99Ratio-1) <= 0.10 && math.Abs(c.RateRatio-1) <= 0.10
	c.Clean = base.CPU.OtherCores < 0.2 && stalled.CPU.OtherCores < 0.2
	return c
}

func (c *CompareResult) print(w io.Writer) {
	fmt.Fprintln(w, "--- run 1: no stalled clients")
	c.Baseline.print(w)
	fmt.Fprintln(w, "--- run 2: with stalled clients")
	c.WithStalled.print(w)
	fmt.Fprintf(w, "--- stalled / baseline: p99 ×%.2f, ingest rate ×%.3f → both within ±10%%: %v", c.P99Ratio, c.RateRatio, c.Within10Pct)
	if !c.Clean {
		fmt.Fprint(w, " (the machine was not quiet: do not trust this comparison)")
	}
	fmt.Fprintln(w)
}
