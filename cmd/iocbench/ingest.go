package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// poster sends NDJSON bodies to POST /api/v1/events over kept-alive
// loopback connections.
type poster struct {
	client *http.Client
	url    string
}

func newPoster(base string, conns int) *poster {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        conns + 4,
		MaxIdleConnsPerHost: conns + 4,
		DisableCompression:  true,
		IdleConnTimeout:     time.Minute,
	}
	return &poster{client: &http.Client{Transport: tr, Timeout: 30 * time.Second}, url: base + "/api/v1/events"}
}

func (p *poster) close() { p.client.CloseIdleConnections() }

// post sends one body of want events and returns how many the server
// accepted. Anything but 202 with accepted == want is an error.
func (p *poster) post(ctx context.Context, body []byte, want int) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	authorize(req.Header)
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, fmt.Errorf("reading the reply: %w", err)
	}
	var ack struct {
		Accepted      int `json:"accepted"`
		RejectedTotal int `json:"rejected_total"`
	}
	if resp.StatusCode != http.StatusAccepted {
		return 0, fmt.Errorf("status %d: %.200s", resp.StatusCode, reply)
	}
	if err := json.Unmarshal(reply, &ack); err != nil {
		return 0, fmt.Errorf("202 with an unreadable body: %w", err)
	}
	if ack.Accepted != want {
		return ack.Accepted, fmt.Errorf("202 accepted %d of %d events (%d rejected): %.200s", ack.Accepted, want, ack.RejectedTotal, reply)
	}
	return ack.Accepted, nil
}

// sendStats is what one sender observed; merged at the end.
type sendStats struct {
	requests, events, errors int64
	firstErrors              []string
	latency                  histogram
}

func (s *sendStats) observe(accepted int, err error, took time.Duration) {
	s.requests++
	s.events += int64(accepted)
	s.latency.record(took)
	if err != nil {
		s.errors++
		if len(s.firstErrors) < 3 {
			s.firstErrors = append(s.firstErrors, err.Error())
		}
	}
}

func (s *sendStats) merge(o *sendStats) {
	s.requests += o.requests
	s.events += o.events
	s.errors += o.errors
	for _, e := range o.firstErrors {
		if len(s.firstErrors) < 5 {
			s.firstErrors = append(s.firstErrors, e)
		}
	}
	s.latency.merge(&o.latency)
}

// IngestResult is the outcome of the ingest mode.
type IngestResult struct {
	Senders         int      `json:"senders"`
	Batch           int      `json:"batch"`
	EventBytes      float64  `json:"mean_event_bytes"`
	Seconds         float64  `json:"seconds"`
	Requests        int64    `json:"requests"`
	Accepted        int64    `json:"events_accepted"`
	ServerAccepted  float64  `json:"server_events_accepted"`
	EventsPerSecond float64  `json:"events_per_second"`
	MBPerSecond     float64  `json:"body_mb_per_second"`
	Errors          int64    `json:"errors"`
	FirstErrors     []string `json:"first_errors,omitempty"`
	RequestLatency  Latency  `json:"request_latency"`
	CPU             cpuUse   `json:"cpu"`
}

// runIngest posts batches as fast as the senders can for o.duration (or
// until o.count events have been accepted) and reports the rate.
func runIngest(ctx context.Context, b *bench) (*IngestResult, error) {
	o := b.o
	srv, err := b.startServer(ctx)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	p := newPoster(srv.base, o.senders)
	defer p.close()
	pl := newPool(o.entities, o.layers, o.seed)
	meter := startCPUMeter(ctx, srv.base)
	before, _ := scrape(ctx, srv.base)

	var left atomic.Int64
	left.Store(o.count)
	stopAt := time.Now().Add(o.duration)
	start := time.Now()
	stats := make([]sendStats, o.senders)
	var wg sync.WaitGroup
	for i := range stats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sendUntil(ctx, p, newBatchBuilder(pl, o.seed+uint64(i)+10, o.oneLayer), o, &left, stopAt, &stats[i])
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	after, err := scrape(ctx, srv.base)
	if err != nil {
		return nil, err
	}
	return ingestResult(o, stats, elapsed, meter.stop(ctx), after.sum(acceptedSeries)-before.sum(acceptedSeries)), nil
}

const acceptedSeries = `ioc_ingest_events_total{result="accepted"}`

// sendUntil is one sender's loop: build a batch stamped now, post it,
// repeat until stopAt, until the count is used up, or until ctx ends.
func sendUntil(ctx context.Context, p *poster, bb *batchBuilder, o *options, left *atomic.Int64, stopAt time.Time, st *sendStats) {
	for ctx.Err() == nil && time.Now().Before(stopAt) {
		n := o.batch
		if o.count > 0 {
			got := left.Add(-int64(n))
			if got+int64(n) <= 0 {
				return
			}
			n = int(min(int64(n), got+int64(n)))
		}
		body := bb.random(n, time.Now())
		t0 := time.Now()
		accepted, err := p.post(ctx, body, n)
		st.observe(accepted, err, time.Since(t0))
	}
}

func ingestResult(o *options, stats []sendStats, elapsed time.Duration, cpu cpuUse, serverAccepted float64) *IngestResult {
	var all sendStats
	for i := range stats {
		all.merge(&stats[i])
	}
	secs := elapsed.Seconds()
	r := &IngestResult{
		Senders: o.senders, Batch: o.batch, Seconds: secs,
		Requests: all.requests, Accepted: all.events, ServerAccepted: serverAccepted,
		EventsPerSecond: float64(all.events) / secs,
		Errors:          all.errors, FirstErrors: all.firstErrors,
		RequestLatency: all.latency.summary(), CPU: cpu,
		EventBytes: meanEventBytes(o),
	}
	r.MBPerSecond = r.EventsPerSecond * r.EventBytes / 1e6
	return r
}

// meanEventBytes measures the generator's event size on a sample.
func meanEventBytes(o *options) float64 {
	pl := newPool(1000, o.layers, o.seed)
	body := newBatchBuilder(pl, o.seed, false).random(1000, time.Now())
	return float64(len(body)) / 1000
}

func (r *IngestResult) print(w io.Writer) {
	fmt.Fprintf(w, "ingest: %d senders, batches of %d events (~%.0f bytes each), %.1fs\n", r.Senders, r.Batch, r.EventBytes, r.Seconds)
	fmt.Fprintf(w, "  accepted      %d events in %d requests (server counted %.0f)\n", r.Accepted, r.Requests, r.ServerAccepted)
	fmt.Fprintf(w, "  throughput    %.0f events/s  (%.1f MB/s of NDJSON)\n", r.EventsPerSecond, r.MBPerSecond)
	fmt.Fprintf(w, "  request time  %s\n", r.RequestLatency)
	fmt.Fprintf(w, "  errors        %d\n", r.Errors)
	for _, e := range r.FirstErrors {
		fmt.Fprintf(w, "    %s\n", e)
	}
	fmt.Fprintf(w, "  cpu           %s\n", r.CPU)
}
