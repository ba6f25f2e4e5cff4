package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// server is the iocd under test: one we spawned, or one given by --target.
type server struct {
	base string // http://127.0.0.1:port
	cmd  *exec.Cmd
	logs *tailBuffer
	done chan struct{} // closed when a spawned process has exited
}

// checkLoopback refuses targets that are not on this machine: the tool
// measures latency with one clock and must not load anyone else's server.
func checkLoopback(target string) (string, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return "", fmt.Errorf("--target %q: want http://127.0.0.1:PORT", target)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("--target %q: only loopback servers may be driven", target)
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host, "/"), nil
}

// buildIOCD compiles cmd/iocd into dir and returns the binary's path. It
// must run inside the module, as `go build` resolves the package there.
func buildIOCD(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "iocd")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/danang-ioc/ioc/cmd/iocd")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build cmd/iocd (run inside the module, or pass --iocd): %v\n%s", err, out)
	}
	return bin, nil
}

// freePort asks the kernel for a free loopback port. Another process could
// take it before iocd does; the readiness wait then fails with iocd's log.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// builtInSources are flags that switch off data sources iocd runs by
// default (the simulator), so that the load is only the benchmark's. Each
// is passed only if the binary knows it and --server-args does not set it.
var builtInSources = []string{"sim"}

// quietArgs returns the flags that switch off bin's own data sources.
func quietArgs(ctx context.Context, bin string, extra []string) []string {
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	help, _ := exec.CommandContext(hctx, bin, "-help").CombinedOutput()
	var out []string
	for _, name := range builtInSources {
		given := slices.ContainsFunc(extra, func(a string) bool { return strings.HasPrefix(strings.TrimLeft(a, "-"), name) })
		if !given && bytes.Contains(help, []byte("--"+name+"  (")) {
			out = append(out, "--"+name+"=false")
		}
	}
	// The spawned server runs in the open demo mode (no tokens to hand
	// out): the benchmark measures the data path, not authentication.
	given := slices.ContainsFunc(extra, func(a string) bool { return strings.HasPrefix(strings.TrimLeft(a, "-"), "demo") })
	if !given && bytes.Contains(help, []byte("--demo  (")) {
		out = append(out, "--demo")
	}
	return out
}

// spawnIOCD starts bin on a free loopback port with a fresh data dir and
// waits until /readyz answers 200.
func spawnIOCD(ctx context.Context, bin, dataDir string, extra []string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := []string{"--addr", addr, "--data-dir", dataDir, "--log-level", "warn", "--shutdown-timeout", "3s"}
	args = append(append(args, quietArgs(ctx, bin, extra)...), extra...)
	s := &server{base: "http://" + addr, logs: &tailBuffer{max: 8 << 10}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	if err := s.waitReady(ctx, 20*time.Second); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w\niocd log:\n%s", err, s.logs.String())
	}
	return s, nil
}

func (s *server) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		if s.ready(ctx) {
			return nil
		}
		select {
		case <-s.done:
			return errors.New("iocd exited before becoming ready")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("iocd at %s not ready within %v", s.base, limit)
		}
	}
}

func (s *server) ready(ctx context.Context) bool {
	rctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(rctx, http.MethodGet, s.base+"/readyz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// stop ends a spawned server: SIGTERM, then SIGKILL after 5 seconds. It is
// a no-op for a --target server.
func (s *server) stop() {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// pid is the spawned server's process id, 0 for a --target server.
func (s *server) pid() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// metrics is one scrape of /metrics: series (name plus labels) to value.
type metrics map[string]float64

func scrape(ctx context.Context, base string) (metrics, error) {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(rctx, http.MethodGet, base+"/metrics", nil)
	authorize(req.Header)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape /metrics: %w", err)
	}
	defer resp.Body.Close()
	m := metrics{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			m[line[:i]] = v
		}
	}
	return m, sc.Err()
}

// sum adds every series of the named metric, whatever its labels.
func (m metrics) sum(name string) float64 {
	var total float64
	for k, v := range m {
		if k == name || strings.HasPrefix(k, name+"{") {
			total += v
		}
	}
	return total
}

// byLabel returns the named metric's series keyed by their label set.
func (m metrics) byLabel(name string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if rest, ok := strings.CutPrefix(k, name+"{"); ok {
			out[strings.TrimSuffix(rest, "}")] = v
		}
	}
	return out
}

// tailBuffer keeps the last max bytes written to it, for iocd's log.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if extra := t.buf.Len() - t.max; extra > 0 {
		t.buf.Next(extra)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

// processCPU returns this process's user+system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// raiseFileLimit lifts the soft open-file limit to the hard limit, so that
// a thousand WebSocket clients (and a spawned iocd, which inherits it) fit.
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, err
		}
	}
	return lim.Cur, nil
}

// tempDir makes a scratch directory for the iocd binary and data dirs.
func tempDir() (string, func(), error) {
	dir, err := os.MkdirTemp("", "iocbench-")
	if err != nil {
		return "", nil, err
	}
	return dir, func() { _ = os.RemoveAll(dir) }, nil
}

// bucketQuantile is a quantile read from a Prometheus histogram. When it
// falls in the +Inf bucket only a lower bound is known: the largest finite
// bucket bound.
type bucketQuantile struct {
	MS         float64 `json:"ms"`
	LowerBound bool    `json:"lower_bound,omitempty"`
}

func (b bucketQuantile) String() string {
	if b.LowerBound {
		return fmt.Sprintf("> %.0f ms", b.MS)
	}
	return fmt.Sprintf("%.1f ms", b.MS)
}

// histQuantile estimates the q-quantile of a Prometheus histogram from the
// difference of two scrapes, interpolating linearly inside a bucket, like
// histogram_quantile. It is zero without observations.
func histQuantile(before, after metrics, name string, q float64) bucketQuantile {
	s, over := histQuantileSeconds(before, after, name, q)
	return bucketQuantile{MS: s * 1000, LowerBound: over}
}

func histQuantileSeconds(before, after metrics, name string, q float64) (float64, bool) {
	type bucket struct{ le, count float64 }
	var bs []bucket
	for labels, v := range after.byLabel(name + "_bucket") {
		le, ok := strings.CutPrefix(labels, `le="`)
		if !ok {
			continue
		}
		bound, err := strconv.ParseFloat(strings.TrimSuffix(le, `"`), 64)
		if err != nil {
			continue
		}
		bs = append(bs, bucket{bound, v - before[name+"_bucket{"+labels+"}"]})
	}
	slices.SortFunc(bs, func(a, b bucket) int { return cmp.Compare(a.le, b.le) })
	if len(bs) == 0 || bs[len(bs)-1].count == 0 {
		return 0, false
	}
	rank := q * bs[len(bs)-1].count
	lower, prev := 0.0, 0.0
	for _, b := range bs {
		if b.count >= rank {
			if math.IsInf(b.le, 1) {
				return lower, true // above the last finite bound
			}
			return lower + (b.le-lower)*(rank-prev)/max(b.count-prev, 1), false
		}
		lower, prev = b.le, b.count
	}
	return lower, true
}
