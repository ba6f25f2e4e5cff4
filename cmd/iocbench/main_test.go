package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

// iocdBin is cmd/iocd built once for the tests that drive a real server;
// empty under -short.
var iocdBin string

func TestMain(m *testing.M) {
	flag.Parse()
	code := func() int {
		if testing.Short() {
			return m.Run()
		}
		dir, cleanup, err := tempDir()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer cleanup()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if iocdBin, err = buildIOCD(ctx, dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

// runTool runs iocbench with args against spawned servers and decodes its
// JSON report's result into out.
func runTool(t *testing.T, out any, args ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("drives a spawned iocd")
	}
	args = append(args, "--iocd", iocdBin, "--json", "--timeout", "40s")
	o, err := parseOptions(args, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	var log, stdout bytes.Buffer
	b := &bench{o: o, log: &log}
	defer b.stopAll()
	if err := b.run(context.Background(), &stdout); err != nil {
		t.Fatalf("iocbench %v: %v\n%s", args, err, log.String())
	}
	t.Logf("iocbench %s:\n%s", strings.Join(args, " "), log.String())
	var rep struct {
		Mode   string          `json:"mode"`
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("JSON report: %v\n%s", err, stdout.String())
	}
	if err := json.Unmarshal(rep.Result, out); err != nil {
		t.Fatalf("JSON result: %v\n%s", err, rep.Result)
	}
}

func TestIngestModeCountsWhatTheServerAccepted(t *testing.T) {
	var r IngestResult
	runTool(t, &r, "ingest", "--duration", "1s", "--count", "5000", "--batch", "500", "--senders", "2", "--entities", "2000")
	if r.Errors != 0 || r.Accepted != 5000 || r.ServerAccepted != 5000 || r.Requests != 10 {
		t.Errorf("accepted %d (server %v) in %d requests with %d errors %v; want 5000 in 10 without errors",
			r.Accepted, r.ServerAccepted, r.Requests, r.Errors, r.FirstErrors)
	}
	if r.EventsPerSecond <= 0 || r.RequestLatency.Count != 10 || r.RequestLatency.P99MS <= 0 {
		t.Errorf("rate %v, request latency %+v", r.EventsPerSecond, r.RequestLatency)
	}
}

func TestFanoutModeMeasuresLatencyWithAndWithoutStalledClients(t *testing.T) {
	var c CompareResult
	runTool(t, &c, "fanout", "--compare-stalled", "--clients", "5", "--stalled", "0.2", "--rate", "2000",
		"--duration", "1s", "--warmup", "200ms", "--drain", "300ms", "--entities", "2000", "--senders", "2")
	for _, r := range []*FanoutResult{c.Baseline, c.WithStalled} {
		if r == nil {
			t.Fatal("a run is missing from the comparison")
		}
		if r.IngestErrors != 0 || r.Accepted < 1000 {
			t.Errorf("ingest: %d accepted, %d errors %v", r.Accepted, r.IngestErrors, r.FirstErrors)
		}
		if r.Latency.Count == 0 || r.Latency.P99MS <= 0 || r.Upserts == 0 {
			t.Errorf("no latency measured: %d features, %+v", r.Upserts, r.Latency)
		}
		if r.Clients != 5 || r.ServerSnapshot.Snapshots < 5 {
			t.Errorf("%d clients, server built %v snapshots", r.Clients, r.ServerSnapshot.Snapshots)
		}
	}
	if c.Baseline.Stalled != 0 || c.WithStalled.Stalled != 1 || c.WithStalled.Reading != 4 {
		t.Errorf("stalled clients: %d then %d (reading %d), want 0 then 1 (4)", c.Baseline.Stalled, c.WithStalled.Stalled, c.WithStalled.Reading)
	}
	if c.P99Ratio <= 0 || c.RateRatio <= 0 {
		t.Errorf("ratios p99 %v rate %v", c.P99Ratio, c.RateRatio)
	}
}

func TestSnapshotModeReceivesEveryFeature(t *testing.T) {
	var r SnapshotResult
	runTool(t, &r, "snapshot", "--features", "2000", "--repeat", "2", "--senders", "2")
	if r.Features != 2000 || r.Bytes < 2000*200 {
		t.Errorf("snapshot of %d features, %d bytes; want 2000 features", r.Features, r.Bytes)
	}
	if r.Parsed.MinMS <= 0 || r.Parsed.MaxMS < r.Received.MaxMS || r.Received.MinMS < r.FirstByte.MinMS {
		t.Errorf("timings first byte %+v, received %+v, parsed %+v", r.FirstByte, r.Received, r.Parsed)
	}
}

func TestHistogramQuantilesWithinTwoPercent(t *testing.T) {
	var h histogram
	for i := 1; i <= 100000; i++ {
		h.record(time.Duration(i) * time.Microsecond) // 1µs .. 100ms, uniform
	}
	for q, want := range map[float64]float64{0.5: 50, 0.9: 90, 0.99: 99} {
		if got := h.quantile(q); math.Abs(got-want)/want > 0.02 {
			t.Errorf("q%v = %v ms, want %v ± 2%%", q, got, want)
		}
	}
	var other histogram
	other.record(2 * time.Second)
	h.merge(&other)
	if s := h.summary(); s.MaxMS != 2000 || s.Count != 100001 {
		t.Errorf("after merge: %+v", s)
	}
}

func TestPrometheusHistogramQuantile(t *testing.T) {
	before := metrics{`x_bucket{le="0.1"}`: 5, `x_bucket{le="0.2"}`: 5, `x_bucket{le="+Inf"}`: 5}
	after := metrics{`x_bucket{le="0.1"}`: 55, `x_bucket{le="0.2"}`: 105, `x_bucket{le="+Inf"}`: 105}
	if got := histQuantile(before, after, "x", 0.5); math.Abs(got.MS-100) > 1e-6 || got.LowerBound {
		t.Errorf("median = %v, want 100 ms", got)
	}
	if got := histQuantile(before, after, "x", 0.75); math.Abs(got.MS-150) > 1e-6 {
		t.Errorf("q0.75 = %v, want 150 ms", got)
	}
	if got := histQuantile(after, after, "x", 0.5); got.MS != 0 {
		t.Errorf("no observations: %v, want 0", got)
	}
	after[`x_bucket{le="+Inf"}`] = 1005
	if got := histQuantile(before, after, "x", 0.99); got.MS != 200 || !got.LowerBound || got.String() != "> 200 ms" {
		t.Errorf("q0.99 in +Inf = %v, want > 200 ms", got)
	}
}

func TestStalledClientsAreSpreadEvenly(t *testing.T) {
	n := 0
	for i := range 1000 {
		if isStalled(i, 0.1) {
			n++
		}
	}
	if n != 100 || isStalled(0, 0) {
		t.Errorf("%d of 1000 stalled at 0.1, want 100", n)
	}
}

func TestGeneratedEventsAndViewportsLookLikeDaNang(t *testing.T) {
	for _, layer := range []string{"traffic.cameras", "environment.air", "lighting.lamps", "other.layer"} {
		p := newPool(3000, []string{"a.b", layer, "c.d"}, 7)
		bb := newBatchBuilder(p, 7, true)
		bb.next = 1 // the single layer of the first batch is layer
		body := bb.random(300, time.Now())
		lines := strings.Split(strings.TrimSpace(string(body)), "\n")
		if mean := float64(len(body)) / 300; len(lines) != 300 || mean < 220 || mean > 300 {
			t.Errorf("%s: %d lines of %.0f bytes, want 300 of about 260", layer, len(lines), mean)
		}
		for _, l := range lines {
			var ev struct {
				Layer      string         `json:"layer"`
				Properties map[string]any `json:"properties"`
			}
			if err := json.Unmarshal([]byte(l), &ev); err != nil || ev.Layer != layer || len(ev.Properties) != 5 {
				t.Fatalf("event %s: %v (want 5 properties, only layer %s in a single-layer batch)", l, err, layer)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for range 1000 {
		v := randomViewport(rng)
		w := (v[2] - v[0]) * metresPerDegLon
		if v[0] < daNang[0] || v[1] < daNang[1] || v[2] > daNang[2] || v[3] > daNang[3] || w < 1999 || w > 4001 {
			t.Fatalf("viewport %v (%.0f m wide) not a 2–4 km box inside Da Nang", v, w)
		}
	}
}

func TestOnlyLoopbackTargets(t *testing.T) {
	for target, ok := range map[string]bool{
		"http://127.0.0.1:8080": true, "http://localhost:9/": true, "http://[::1]:80": true,
		"http://10.0.0.1:8080": false, "https://127.0.0.1": false, "example.com": false,
	} {
		if _, err := checkLoopback(target); (err == nil) != ok {
			t.Errorf("%s: err %v, want allowed=%v", target, err, ok)
		}
	}
}
