package clickhouse

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/replay"
)

// stopServer stops the shared test server (SIGTERM, then SIGKILL after 20 s)
// and waits until its port is closed.
func stopServer(t *testing.T) {
	t.Helper()
	cmd := serverCmd
	if cmd == nil {
		t.Fatal("no test server to stop")
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
	serverCmd = nil
	waitFor(t, 10*time.Second, "the server port to close", func() bool {
		c, err := net.DialTimeout("tcp", serverAddr, 200*time.Millisecond)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
}

// restartServer starts the shared test server again with the same
// configuration: same ports, same data directory.
func restartServer(t *testing.T) {
	t.Helper()
	argv, err := serverCommand()
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(filepath.Join(serverDir, "stdout.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close() // the child keeps its own descriptor
	cmd := exec.Command(argv[0], append(argv[1:], "--config-file="+filepath.Join(serverDir, "config.xml"))...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = serverDir, out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("restart %s: %v", argv[0], err)
	}
	serverCmd = cmd
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := ping(ctx, serverAddr)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("clickhouse-server not answering on %s after restart: %v\n%s", serverAddr, err, serverLog(serverDir))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitFor polls cond every 20 ms until it holds, failing after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// metric reads one writer metric from reg.
func metric(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		m := mf.GetMetric()[0]
		if m.Counter != nil {
			return m.Counter.GetValue()
		}
		return m.Gauge.GetValue()
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

// TestWriterSurvivesServerRestart (issue 4): stop ClickHouse in the middle
// of a run, keep ingesting, start it again, and find every accepted event in
// the table exactly once.
func TestWriterSurvivesServerRestart(t *testing.T) {
	s := freshStore(t)
	defer s.Close()
	ctx := context.Background()

	ls := layers.NewStore(layers.Config{}, nil)
	reg := prometheus.NewRegistry()
	dataDir := t.TempDir()
	w, err := replay.NewWriter(replay.WriterConfig{
		DataDir:       dataDir,
		Interval:      20 * time.Millisecond,
		BatchSize:     200,
		RetryMin:      20 * time.Millisecond,
		RetryMax:      200 * time.Millisecond,
		AppendTimeout: 3 * time.Second,
		FlushTimeout:  10 * time.Second,
		KeyframeEvery: -1,
	}, ls, s, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	runErr := make(chan error, 1)
	go func() { runErr <- w.Run(wctx) }()
	defer func() {
		cancel()
		<-runErr
	}()

	const entities, perPhase, chunk = 300, 1000, 50
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	seqs := map[uint64]bool{}
	next := 0
	ingest := func(n int) int {
		made := 0
		for done := 0; done < n; done += chunk {
			evs := make([]layers.Event, chunk)
			for i := range evs {
				k := next + i
				evs[i] = layers.Event{Layer: "test.outage", ID: fmt.Sprintf("e%03d", k%entities),
					Time:       base.Add(time.Duration(k) * time.Millisecond),
					Geometry:   geom.NewPointFlat(geom.XY, []float64{108.2 + float64(k%entities)*1e-4, 16.05}),
					Properties: []byte(fmt.Sprintf(`{"k":%d}`, k))}
			}
			next += chunk
			for _, c := range ls.Apply(evs) {
				if seqs[c.Seq] {
					t.Fatalf("Apply returned seq %d twice", c.Seq)
				}
				seqs[c.Seq] = true
				made++
			}
		}
		return made
	}
	spoolFiles := func() int {
		ents, err := os.ReadDir(filepath.Join(dataDir, "spool"))
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	written := func() float64 { return metric(t, reg, "ioc_history_records_written_total") }
	spooled := func() float64 { return metric(t, reg, "ioc_history_records_spooled_total") }

	// Phase 1: the server is up; everything reaches it.
	n1 := ingest(perPhase)
	waitFor(t, 20*time.Second, "phase 1 written", func() bool { return written() >= float64(n1) })
	if sp := spooled(); sp != 0 {
		t.Fatalf("%v records spooled with the server up", sp)
	}

	// Phase 2: the server is down; ingest goes on and batches are spooled.
	stopServer(t)
	stopped := true
	defer func() {
		if stopped { // leave a server for the other tests
			restartServer(t)
		}
	}()
	n2 := ingest(perPhase)
	waitFor(t, 20*time.Second, "phase 2 spooled", func() bool { return spooled() >= float64(n2) })
	if files := spoolFiles(); files == 0 {
		t.Fatal("spool directory empty while the server is down")
	}
	if r := metric(t, reg, "ioc_history_retries_total"); r == 0 {
		t.Fatal("no failed append counted while the server is down")
	}
	if wr := written(); wr != float64(n1) {
		t.Fatalf("written = %v with the server down, want %d", wr, n1)
	}

	// Phase 3: the server is back on the same port and data; the spool
	// drains and newer changes follow.
	restartServer(t)
	stopped = false
	n3 := ingest(perPhase)
	total := n1 + n2 + n3
	waitFor(t, 30*time.Second, "everything written and the spool drained", func() bool {
		return written() >= float64(total) && spoolFiles() == 0 &&
			metric(t, reg, "ioc_history_spool_bytes") == 0 && metric(t, reg, "ioc_history_lag_changes") == 0
	})
	cancel()
	if err := <-runErr; err != nil {
		t.Fatalf("Run: %v", err)
	}
	runErr <- nil // for the deferred receive
	if d := metric(t, reg, "ioc_history_records_dropped_total"); d != 0 {
		t.Fatalf("%v changes dropped", d)
	}

	// Every change exactly once, in the table read with FINAL.
	var count, uniq uint64
	err = s.conn.QueryRow(ctx, "SELECT count(), uniqExact(seq) FROM "+s.t("records")+" FINAL WHERE epoch = ?", ls.Epoch()).Scan(&count, &uniq)
	if err != nil {
		t.Fatal(err)
	}
	if count != uint64(total) || uniq != uint64(total) {
		t.Fatalf("records FINAL: count %d, distinct seq %d; want %d changes exactly once", count, uniq, total)
	}
	rows, err := s.conn.Query(ctx, "SELECT seq, count() FROM "+s.t("records")+" FINAL WHERE epoch = ? GROUP BY seq", ls.Epoch())
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	found := 0
	for rows.Next() {
		var seq, n uint64
		if err := rows.Scan(&seq, &n); err != nil {
			t.Fatal(err)
		}
		if !seqs[seq] || n != 1 {
			t.Fatalf("seq %d stored %d times (applied: %v)", seq, n, seqs[seq])
		}
		found++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if found != len(seqs) {
		t.Fatalf("%d distinct seqs stored, %d changes applied", found, len(seqs))
	}
	t.Logf("%d changes (%d while ClickHouse was down) stored exactly once", total, n2)
}
