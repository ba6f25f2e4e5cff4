package clickhouse

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/replay"
	"github.com/danang-ioc/ioc/replay/replaytest"
)

// The integration tests run their own clickhouse-server (Debian's 18.16 or
// a current release) on free loopback ports with everything in a temporary
// directory, one server per test binary.

var (
	serverOnce sync.Once
	serverAddr string
	serverErr  error
	serverSkip string
	serverCmd  *exec.Cmd
	serverDir  string
	dbCounter  atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	if serverCmd != nil {
		_ = serverCmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = serverCmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = serverCmd.Process.Kill()
			<-done
		}
	}
	if serverDir != "" {
		_ = os.RemoveAll(serverDir)
	}
	os.Exit(code)
}

// serverCommand finds clickhouse-server, or the single clickhouse binary.
func serverCommand() ([]string, error) {
	for _, p := range []string{"/usr/bin/clickhouse-server", "/usr/sbin/clickhouse-server"} {
		if _, err := os.Stat(p); err == nil {
			return []string{p}, nil
		}
	}
	if p, err := exec.LookPath("clickhouse-server"); err == nil {
		return []string{p}, nil
	}
	if p, err := exec.LookPath("clickhouse"); err == nil {
		return []string{p, "server"}, nil
	}
	return nil, fmt.Errorf("clickhouse-server is not installed (apt-get install clickhouse-server clickhouse-client)")
}

// testServer returns the address of the shared test server, starting it on
// first use; it skips (or fails with IOC_REQUIRE_INTEGRATION=1) without the
// binary.
func testServer(t testing.TB) string {
	t.Helper()
	serverOnce.Do(startServer)
	if serverSkip != "" {
		if os.Getenv("IOC_REQUIRE_INTEGRATION") == "1" {
			t.Fatal(serverSkip + "; IOC_REQUIRE_INTEGRATION=1 requires it")
		}
		t.Skip(serverSkip + "; skipping the ClickHouse integration test")
	}
	if serverErr != nil {
		t.Fatal(serverErr)
	}
	return serverAddr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

const configXML = `<?xml version="1.0"?>
<yandex>
  <logger><level>information</level><log>%[1]s/server.log</log><errorlog>%[1]s/server.err.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>%[2]d</tcp_port>
  <http_port>%[3]d</http_port>
  <interserver_http_port>%[4]d</interserver_http_port>
  <path>%[1]s/data/</path>
  <tmp_path>%[1]s/tmp/</tmp_path>
  <user_files_path>%[1]s/user_files/</user_files_path>
  <format_schema_path>%[1]s/format_schemas/</format_schema_path>
  <users_config>%[1]s/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
</yandex>
`

const usersXML = `<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
`

func startServer() {
	argv, err := serverCommand()
	if err != nil {
		serverSkip = err.Error()
		return
	}
	dir, err := os.MkdirTemp("", "ioc-clickhouse-")
	if err != nil {
		serverErr = err
		return
	}
	serverDir = dir
	var ports [3]int
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			serverErr = err
			return
		}
	}
	conf := filepath.Join(dir, "config.xml")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(configXML, dir, ports[0], ports[1], ports[2])), 0o600); err != nil {
		serverErr = err
		return
	}
	if err := os.WriteFile(filepath.Join(dir, "users.xml"), []byte(usersXML), 0o600); err != nil {
		serverErr = err
		return
	}
	out, err := os.Create(filepath.Join(dir, "stdout.log"))
	if err != nil {
		serverErr = err
		return
	}
	cmd := exec.Command(argv[0], append(argv[1:], "--config-file="+conf)...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		serverErr = fmt.Errorf("start %s: %w", argv[0], err)
		return
	}
	serverCmd = cmd
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err = ping(ctx, addr)
			cancel()
			if err == nil {
				serverAddr = addr
				return
			}
		}
		if cmd.ProcessState != nil || cmd.Process.Signal(syscall.Signal(0)) != nil || time.Now().After(deadline) {
			serverErr = fmt.Errorf("clickhouse-server not answering on %s:\n%s", addr, serverLog(dir))
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ping opens a store (which applies the schema) and runs SELECT 1.
func ping(ctx context.Context, addr string) error {
	s, err := Open(ctx, Config{Addr: addr, Database: "ioc_ping"})
	if err != nil {
		return err
	}
	defer s.Close()
	var one uint8
	return s.conn.QueryRow(ctx, "SELECT 1").Scan(&one)
}

func serverLog(dir string) string {
	var b strings.Builder
	for _, f := range []string{"stdout.log", "server.err.log"} {
		data, _ := os.ReadFile(filepath.Join(dir, f))
		if len(data) > 4000 {
			data = data[len(data)-4000:]
		}
		fmt.Fprintf(&b, "--- %s\n%s\n", f, data)
	}
	return b.String()
}

// freshStore opens a store on a new database.
func freshStore(t testing.TB) *Store {
	t.Helper()
	addr := testServer(t)
	db := fmt.Sprintf("ioc_test_%d_%d", os.Getpid(), dbCounter.Add(1))
	s, err := Open(context.Background(), Config{Addr: addr, Database: db})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	testServer(t)
	replaytest.RunConformance(t, func(t *testing.T) replay.Store { return freshStore(t) })
}

// TestAppendOverwrites: appending the same records again (a retried batch)
// does not duplicate them; the latest append wins; StateAt agrees.
func TestAppendOverwrites(t *testing.T) {
	s := freshStore(t)
	defer s.Close()
	ctx := context.Background()
	a := replaytest.Rec("l", "a", 0, 1, 1, 1, `{"v":1}`)
	b := replaytest.Rec("l", "a", time.Second, 2, 1, 1, `{"v":2}`)
	for range 3 {
		if err := s.Append(ctx, []replay.Record{a, b}); err != nil {
			t.Fatal(err)
		}
	}
	b2 := b
	b2.Properties = []byte(`{"v":3}`)
	if err := s.Append(ctx, []replay.Record{b2}); err != nil {
		t.Fatal(err)
	}
	got, err := s.History(ctx, "l", "a", time.Time{}, time.Time{}, 0)
	if err != nil || len(got) != 2 || string(got[1].Properties) != `{"v":3}` {
		t.Fatalf("History after re-appends = %+v, %v; want 2 records, the last {\"v\":3}", got, err)
	}
	st, err := s.StateAt(ctx, replaytest.T0.Add(time.Minute), nil, geo.World)
	if err != nil || len(st) != 1 || string(st[0].Properties) != `{"v":3}` {
		t.Fatalf("StateAt after re-appends = %+v, %v", st, err)
	}
}

// TestSchemaIdempotent: opening an existing database again keeps its data
// and one schema_version row.
func TestSchemaIdempotent(t *testing.T) {
	s := freshStore(t)
	ctx := context.Background()
	if err := s.Append(ctx, []replay.Record{replaytest.Rec("l", "a", 0, 1, 1, 1, "")}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(ctx, Config{Addr: testServer(t), Database: s.db})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	var n uint64
	if err := s2.conn.QueryRow(ctx, "SELECT count() FROM "+s2.t("schema_version")).Scan(&n); err != nil || n != 1 {
		t.Errorf("schema_version rows = %d, %v; want 1", n, err)
	}
	if got, err := s2.History(ctx, "l", "a", time.Time{}, time.Time{}, 0); err != nil || len(got) != 1 {
		t.Errorf("after reopen: %d records, %v", len(got), err)
	}
}

// TestKeyframeVoidedByLateAppend: a keyframe, then a late record before it:
// StateAt must reflect the record, as the keyframe is void.
func TestKeyframeVoidedByLateAppend(t *testing.T) {
	s := freshStore(t)
	defer s.Close()
	ctx := context.Background()
	recs := replaytest.RandomRecords(rand.New(rand.NewPCG(1, 1)), 500, time.Hour, 0)
	if err := s.Append(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := s.Keyframe(ctx, replaytest.T0.Add(50*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, err := s.keyframeAt(ctx, ms(replaytest.T0.Add(55*time.Minute))); err != nil || !ok {
		t.Fatalf("keyframe not found: %v", err)
	}
	late := replaytest.Rec("k.a", "late", 10*time.Minute, 10000, 108.1, 16.1, "")
	if err := s.Append(ctx, []replay.Record{late}); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, err := s.keyframeAt(ctx, ms(replaytest.T0.Add(55*time.Minute))); err != nil || ok {
		t.Fatalf("keyframe still used after a late append (ok=%v, %v)", ok, err)
	}
	at := replaytest.T0.Add(55 * time.Minute)
	want := replaytest.ReferenceState(append(recs, late), at, nil, geo.World)
	got, err := s.StateAt(ctx, at, nil, geo.World)
	if err != nil || len(got) != len(want) {
		t.Fatalf("StateAt = %d entities, %v; want %d", len(got), err, len(want))
	}
}

// BenchmarkAppend appends batches of 10,000 and of 100,000 records (the
// writer's ClickHouse batch, TuneWriter); reports records/s.
func BenchmarkAppend(b *testing.B) {
	for _, batch := range []int{10000, 100000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) { benchmarkAppend(b, batch) })
	}
}

func benchmarkAppend(b *testing.B, batch int) {
	s := freshStore(b)
	defer s.Close()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 7))
	batches := make([][]replay.Record, 4)
	for i := range batches {
		batches[i] = replaytest.RandomRecords(rng, batch, 24*time.Hour, uint64(i*batch))
		for j := range batches[i] {
			batches[i][j].Properties = []byte(fmt.Sprintf(`{"speed_kmh":%d,"districtCode":"490","name":"camera %d"}`, j%120, j))
			batches[i][j].Area = "490"
		}
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := s.Append(ctx, batches[i%len(batches)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/time.Since(start).Seconds(), "records/s")
}
