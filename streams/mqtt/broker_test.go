package mqtt

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
)

// The integration tests run the Mosquitto that Debian packages, each on
// its own loopback port with its own configuration and persistence.
const mosquittoBin = "/usr/sbin/mosquitto"

// needMosquitto skips the test when Mosquitto is not installed, unless
// IOC_REQUIRE_INTEGRATION=1 (as in CI), where that is a failure.
func needMosquitto(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(mosquittoBin); err != nil {
		msg := fmt.Sprintf("%s is not installed (apt-get install mosquitto mosquitto-clients): %v", mosquittoBin, err)
		if os.Getenv("IOC_REQUIRE_INTEGRATION") == "1" {
			t.Fatal(msg + "; IOC_REQUIRE_INTEGRATION=1 requires it")
		}
		t.Skip(msg + "; skipping the MQTT integration test")
	}
}

// broker is one Mosquitto process, which can be stopped and started again
// on the same port with the same persistence.
type broker struct {
	t    *testing.T
	dir  string
	addr string
	cmd  *exec.Cmd
	done chan struct{}
}

func startBroker(t *testing.T) *broker {
	t.Helper()
	needMosquitto(t)
	b := &broker{t: t, dir: t.TempDir(), addr: freeAddr(t)}
	_, port, _ := net.SplitHostPort(b.addr)
	conf := fmt.Sprintf("listener %s 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location %s/\n"+
		"log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\n"+
		"max_queued_messages 10000\n", port, b.dir)
	if os.Geteuid() == 0 {
		conf += "user root\n" // else Mosquitto becomes "mosquitto", who cannot write the tempdir
	}
	if err := os.WriteFile(filepath.Join(b.dir, "mosquitto.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.cleanup)
	b.start()
	return b
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func (b *broker) url() string { return "tcp://" + b.addr }

// start runs Mosquitto and waits until it accepts connections.
func (b *broker) start() {
	b.t.Helper()
	logf, err := os.OpenFile(filepath.Join(b.dir, "mosquitto.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		b.t.Fatal(err)
	}
	b.cmd = exec.Command(mosquittoBin, "-c", filepath.Join(b.dir, "mosquitto.conf"))
	b.cmd.Stdout, b.cmd.Stderr = logf, logf
	if err := b.cmd.Start(); err != nil {
		logf.Close()
		b.t.Fatal(err)
	}
	done, cmd := make(chan struct{}), b.cmd
	b.done = done
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", b.addr, time.Second); err == nil {
			c.Close()
			return
		}
		select {
		case <-done:
			b.t.Fatalf("mosquitto exited at start:\n%s", b.log())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("mosquitto not listening on %s after 10 s:\n%s", b.addr, b.log())
		}
	}
}

// stop ends Mosquitto with SIGTERM, which saves its persistence.
func (b *broker) stop() {
	b.t.Helper()
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.done
		b.t.Fatalf("mosquitto did not stop on SIGTERM")
	}
}

func (b *broker) cleanup() {
	select {
	case <-b.done:
	default:
		_ = b.cmd.Process.Kill()
		<-b.done
	}
	if b.t.Failed() {
		b.t.Logf("mosquitto log:\n%s", b.log())
	}
}

func (b *broker) log() string {
	out, _ := os.ReadFile(filepath.Join(b.dir, "mosquitto.log"))
	return string(out)
}

// publisher is a plain paho client that publishes with QoS 1 and waits for
// the broker's PUBACK.
type publisher struct {
	t   *testing.T
	cli *paho.Client
}

func newPublisher(t *testing.T, b *broker) *publisher {
	t.Helper()
	conn, err := net.DialTimeout("tcp", b.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("test-pub-%d", time.Now().UnixNano())
	cli := paho.NewClient(paho.ClientConfig{Conn: conn, ClientID: id})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := cli.Connect(ctx, &paho.Connect{ClientID: id, CleanStart: true, KeepAlive: 30}); err != nil {
		t.Fatal(err)
	}
	p := &publisher{t: t, cli: cli}
	t.Cleanup(p.close)
	return p
}

func (p *publisher) publish(topic, payload string, qos byte) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := p.cli.Publish(ctx, &paho.Publish{Topic: topic, QoS: qos, Payload: []byte(payload)}); err != nil {
		p.t.Fatalf("publish %s: %v", topic, err)
	}
}

func (p *publisher) close() {
	_ = p.cli.Disconnect(&paho.Disconnect{})
}

// recorder is the bus's apply function: it keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []layers.Event
	delay  time.Duration // how long each call takes, for a slow bus
}

func (r *recorder) apply(events []layers.Event) {
	time.Sleep(r.delay)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, events...)
}

// keys lists the recorded events as layer/id, in arrival order.
func (r *recorder) keys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.events))
	for i, ev := range r.events {
		out[i] = ev.Layer + "/" + ev.ID
	}
	return out
}

func (r *recorder) has(keys ...string) bool {
	got := map[string]bool{}
	for _, k := range r.keys() {
		got[k] = true
	}
	for _, k := range keys {
		if !got[k] {
			return false
		}
	}
	return true
}

// runningSource is a Source running against a recorder.
type runningSource struct {
	t    *testing.T
	src  *Source
	rec  *recorder
	reg  *prometheus.Registry
	logs *syncBuffer
	stop func()
}

// startSource runs a source and waits until it is subscribed.
func startSource(t *testing.T, cfg Config, rec *recorder) *runningSource {
	t.Helper()
	rs := &runningSource{t: t, rec: rec, reg: prometheus.NewRegistry(), logs: &syncBuffer{}}
	log := slog.New(slog.NewTextHandler(rs.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	intake := streams.NewIntake(nil, streams.NewLocalBus(rec.apply))
	rs.src = New(cfg, nil, intake, rs.reg, log)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- rs.src.Run(ctx) }()
	rs.stop = sync.OnceFunc(func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("Run returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return 10 s after its context ended")
		}
		if t.Failed() {
			t.Logf("source log:\n%s", rs.logs.String())
		}
	})
	t.Cleanup(rs.stop)
	rs.waitMetric("ioc_mqtt_subscribed", 1)
	return rs
}

// metric reads a metric's value; labels are name, value pairs.
func (rs *runningSource) metric(name string, labels ...string) float64 {
	rs.t.Helper()
	mfs, err := rs.reg.Gather()
	if err != nil {
		rs.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					found = found || (lp.GetName() == labels[i] && lp.GetValue() == labels[i+1])
				}
				if !found {
					continue metrics
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	rs.t.Fatalf("no metric %s%v", name, labels)
	return 0
}

func (rs *runningSource) waitMetric(name string, want float64, labels ...string) {
	rs.t.Helper()
	eventually(rs.t, func() bool { return rs.metric(name, labels...) == want },
		"%s%v = %v, want %v", name, labels, func() any { return rs.metric(name, labels...) }, want)
}

// eventually polls cond every 10 ms for up to 15 s. Arguments of msg that
// are func() any are called when it fails.
func eventually(t *testing.T, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			for i, a := range args {
				if f, ok := a.(func() any); ok {
					args[i] = f()
				}
			}
			t.Fatalf("after 15 s: "+msg, args...)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// syncBuffer collects the source's logs, shown when a test fails.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) contains(s string) bool { return strings.Contains(b.String(), s) }
