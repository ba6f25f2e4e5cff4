package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestConfigFlagsEnvAndDefaults(t *testing.T) {
	env := map[string]string{
		"IOC_ADDR":      ":9999",
		"IOC_DATA_DIR":  "/var/lib/ioc",
		"IOC_LAYER_TTL": "traffic.signals=30s,environment.air=2h",
	}
	c, err := parseConfig([]string{"--addr", "127.0.0.1:7000"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:7000" {
		t.Errorf("flag must win over env: addr = %q", c.Addr)
	}
	if c.DataDir != "/var/lib/ioc" {
		t.Errorf("env must fill unset flags: data-dir = %q", c.DataDir)
	}
	if c.PushInterval != 25*time.Millisecond || c.ShutdownTimeout != 15*time.Second {
		t.Errorf("defaults: push-interval %v, shutdown-timeout %v", c.PushInterval, c.ShutdownTimeout)
	}
	ttls, _ := c.layerTTLs()
	if ttls["traffic.signals"] != 30*time.Second || ttls["environment.air"] != 2*time.Hour {
		t.Errorf("layer TTLs = %v", ttls)
	}
}

func TestClusterZoomOverridesTheModules(t *testing.T) {
	c, err := parseConfig([]string{"--cluster-zoom", "lighting.lamps=14,traffic.signals=0,environment.air=9"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	mods, err := newModules(nil)
	if err != nil {
		t.Fatal(err)
	}
	specs := clusterSpecs(c, mods.Specs())
	for layer, want := range map[string]int{"lighting.lamps": 14, "traffic.signals": 0, "environment.air": 9, "feedback.reports": 13} {
		if got := specs[layer].Zoom; got != want {
			t.Errorf("%s: cluster zoom %d, want %d", layer, got, want)
		}
	}
	if lamps := specs["lighting.lamps"]; lamps.Property != "state" || len(lamps.Levels) != 4 {
		t.Errorf("lamps severity not carried over: %+v", lamps)
	}
}

func TestConfigErrorsNameTheSetting(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{args: []string{"--layer-ttl", "traffic.signals"}, want: "--layer-ttl"},
		{args: []string{"--layer-ttl", "a=-1s"}, want: "--layer-ttl"},
		{args: []string{"--area", "1,2,3"}, want: "--area"},
		{args: []string{"--cluster-zoom", "lighting.lamps=25"}, want: "--cluster-zoom"},
		{env: map[string]string{"IOC_CLUSTER_ZOOM": "lighting.lamps"}, want: "--cluster-zoom"},
		{args: []string{"--log-level", "loud"}, want: "--log-level"},
		{args: []string{"--log-format", "xml"}, want: "--log-format"},
		{env: map[string]string{"IOC_PUSH_INTERVAL": "soon"}, want: "IOC_PUSH_INTERVAL"},
		{args: []string{"--no-such-flag"}, want: "no-such-flag"},
	} {
		_, err := parseConfig(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("args %v env %v: error %v, want one naming %s", tc.args, tc.env, err, tc.want)
		}
	}
}

func TestEveryFlagHasAnEnvTwinInTheUsage(t *testing.T) {
	var out bytes.Buffer
	_, err := parseConfig([]string{"-help"}, func(string) string { return "" }, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-help: %v", err)
	}
	for _, want := range []string{"--addr", "IOC_ADDR", "--data-dir", "IOC_DATA_DIR", `default "./data"`, `default ":8080"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, out.String())
		}
	}
}

// startServer runs iocd on a random loopback port and waits for /readyz.
func startServer(t *testing.T, args ...string) (base string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The open demo mode: these tests are not about security
	// (security_test.go starts secured servers with startSecured).
	args = append([]string{"--data-dir", t.TempDir(), "--sim=false", "--demo"}, args...)
	cfg, err := parseConfig(args, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), ln) }()
	base = "http://" + ln.Addr().String()
	waitUntil(t, "server ready", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			return errors.New("server did not stop within 20s")
		}
	}
	t.Cleanup(func() { _ = stop() })
	return base, stop
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wsReader collects the feature ids a subscribed client receives.
type wsReader struct {
	conn *websocket.Conn
	msgs chan map[string]any
	err  error // why reading stopped; set before msgs is closed
}

func subscribe(t *testing.T, base string, bbox []float64) *wsReader {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/api/v1/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	r := &wsReader{conn: conn, msgs: make(chan map[string]any, 100)}
	go func() {
		defer close(r.msgs)
		for {
			var m map[string]any
			if err := conn.ReadJSON(&m); err != nil {
				r.err = err
				return
			}
			r.msgs <- m
		}
	}()
	if err := conn.WriteJSON(map[string]any{"type": "subscribe", "layers": []string{"feedback.reports"}, "bbox": bbox}); err != nil {
		t.Fatal(err)
	}
	if m := r.next(t); m["type"] != "snapshot" {
		t.Fatalf("first message %v, want snapshot", m)
	}
	return r
}

func (r *wsReader) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case m, ok := <-r.msgs:
		if !ok {
			t.Fatal("connection closed")
		}
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5s")
	}
	return nil
}

// The done-criterion of the core: an event posted over HTTP appears on a
// client watching its area and not on one watching elsewhere; shutdown
// closes clients with "going away".
func TestPostedEventReachesTheRightClient(t *testing.T) {
	base, stop := startServer(t)
	near := subscribe(t, base, []float64{108.20, 16.05, 108.23, 16.08})
	far := subscribe(t, base, []float64{108.24, 16.09, 108.26, 16.11})

	post(t, base, `{"layer":"feedback.reports","id":"r-1","geometry":{"type":"Point","coordinates":[108.2208,16.0678]},"properties":{"category":"flooded_road","channel":"app"}}`)
	sent := time.Now()
	expectOnly(t, near, "r-1")
	t.Logf("diff arrived %v after the POST returned", time.Since(sent))
	// The far client's first diff must be its own event, not r-1.
	post(t, base, `{"layer":"feedback.reports","id":"r-2","geometry":{"type":"Point","coordinates":[108.25,16.10]},"properties":{"category":"fallen_tree"}}`)
	expectOnly(t, far, "r-2")

	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	for range near.msgs { // drain until the server closes the connection
	}
	if !websocket.IsCloseError(near.err, websocket.CloseGoingAway) {
		t.Errorf("after shutdown the client read %v, want close 1001 going away", near.err)
	}
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	base, _ := startServer(t)
	for path, want := range map[string]string{
		"/healthz": "ok",
		"/readyz":  "ready",
		"/metrics": "ioc_ingest_events_total",
	} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s: %d, body lacks %q", path, resp.StatusCode, want)
		}
	}
}

func post(t *testing.T, base, body string) {
	t.Helper()
	resp, err := http.Post(base+"/api/v1/events", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var ack struct{ Accepted int }
	_ = json.NewDecoder(resp.Body).Decode(&ack)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || ack.Accepted != 1 {
		t.Fatalf("POST: %d accepted=%d", resp.StatusCode, ack.Accepted)
	}
}

func expectOnly(t *testing.T, r *wsReader, id string) {
	t.Helper()
	m := r.next(t)
	ups, _ := m["upserts"].([]any)
	if m["type"] != "diff" || len(ups) != 1 || ups[0].(map[string]any)["id"] != id {
		t.Fatalf("got %v, want a diff with only %s", m, id)
	}
}

var update = flag.Bool("update", false, "rewrite docs/CONFIGURATION.md from the flags")

func TestConfigReferenceIsCurrent(t *testing.T) {
	const path = "../../docs/CONFIGURATION.md"
	want := configReference()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s is out of date with the flags: run go test ./cmd/iocd -run TestConfigReferenceIsCurrent -update", path)
	}
}

// The default server is a living Da Nang: the simulator fills every
// module's layer, and the storm can be started over HTTP exactly once.
func TestSimulatedCityFillsEveryLayer(t *testing.T) {
	base, _ := startServer(t, "--sim=true")
	want := []string{"traffic.signals", "traffic.cameras", "traffic.segments", "environment.air", "environment.water",
		"lighting.lamps", "lighting.cabinets", "flooding.rain", "flooding.rivers", "flooding.streets"}
	waitUntil(t, "every simulated layer populated", func() bool {
		var out struct {
			Layers []struct {
				Name     string
				Features int
			}
		}
		resp, err := http.Get(base + "/api/v1/layers")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		_ = json.NewDecoder(resp.Body).Decode(&out)
		filled := map[string]bool{}
		for _, l := range out.Layers {
			filled[l.Name] = l.Features > 0
		}
		for _, name := range want {
			if !filled[name] {
				return false
			}
		}
		return true
	})
	for i, wantStatus := range []int{http.StatusAccepted, http.StatusConflict} {
		resp, err := http.Post(base+"/api/v1/sim/storm?compress=5m", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != wantStatus {
			t.Errorf("storm request %d: status %d, want %d", i+1, resp.StatusCode, wantStatus)
		}
	}
}

// Every accepted event reaches the history store, readable over HTTP; a
// restart on the same data directory keeps the history and rebuilds the
// live layers from it, without writing the restored state twice.
func TestEventsAreKeptInHistory(t *testing.T) {
	dir := t.TempDir()
	base, stop := startServer(t, "--data-dir", dir)
	post(t, base, `{"layer":"flooding.rivers","id":"cu-de","time":"2026-11-27T01:00:00Z","geometry":{"type":"Point","coordinates":[108.127,16.12]},"properties":{"currentLevel":1.2,"bd1":1.5,"bd2":2.5,"bd3":3.5}}`)
	post(t, base, `{"layer":"flooding.rivers","id":"cu-de","time":"2026-11-27T02:00:00Z","geometry":{"type":"Point","coordinates":[108.127,16.12]},"properties":{"currentLevel":2.6,"bd1":1.5,"bd2":2.5,"bd3":3.5}}`)
	historyLen := func(base string) int {
		resp, err := http.Get(base + "/api/v1/history/flooding.rivers/cu-de?from=2026-11-27T00:00:00Z")
		if err != nil {
			return -1
		}
		defer resp.Body.Close()
		var recs []map[string]any
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&recs) != nil {
			return -1
		}
		return len(recs)
	}
	waitUntil(t, "both readings in history", func() bool { return historyLen(base) == 2 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	base, _ = startServer(t, "--data-dir", dir)
	resp, err := http.Get(base + "/api/v1/layers/flooding.rivers/features/cu-de")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"currentLevel":2.6`) {
		t.Errorf("after a restart the live layer holds %d %s, want the latest reading restored from history", resp.StatusCode, b)
	}
	// The restore itself must not be written to history again.
	post(t, base, `{"layer":"flooding.rivers","id":"cu-de","time":"2026-11-27T03:00:00Z","geometry":{"type":"Point","coordinates":[108.127,16.12]},"properties":{"currentLevel":2.9,"bd1":1.5,"bd2":2.5,"bd3":3.5}}`)
	waitUntil(t, "the new reading in history", func() bool { return historyLen(base) >= 3 })
	if n := historyLen(base); n != 3 {
		t.Errorf("after a restart and one more reading the history holds %d records, want 3", n)
	}
}

// Replay over the live protocol: a client asks for a past hour and gets a
// snapshot at its start, then the changes as diffs carrying historical
// times, then replay_end; a subscribe takes it back to live.
func TestReplayOverWebSocket(t *testing.T) {
	base, _ := startServer(t)
	for i, level := range []float64{1.2, 1.9, 2.7} {
		post(t, base, fmt.Sprintf(`{"layer":"flooding.rivers","id":"cu-de","time":"2026-11-27T0%d:00:00Z","geometry":{"type":"Point","coordinates":[108.127,16.12]},"properties":{"currentLevel":%g,"bd1":1.5,"bd2":2.5,"bd3":3.5}}`, i+1, level))
	}
	waitUntil(t, "history holds the readings", func() bool {
		resp, err := http.Get(base + "/api/v1/history/flooding.rivers/cu-de")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var recs []map[string]any
		return json.NewDecoder(resp.Body).Decode(&recs) == nil && len(recs) == 3
	})
	r := subscribe(t, base, nil)
	if err := r.conn.WriteJSON(map[string]any{"type": "replay", "from": "2026-11-27T01:30:00Z", "to": "2026-11-27T03:30:00Z",
		"speed": 36000, "layers": []string{"flooding.rivers"}}); err != nil {
		t.Fatal(err)
	}
	var levels []float64
	for {
		m := r.next(t)
		if m["replay"] != true {
			continue // a live frame sent before the replay began
		}
		switch m["type"] {
		case "snapshot":
			levels = append(levels, riverLevels(m["features"])...)
		case "diff":
			levels = append(levels, riverLevels(m["upserts"])...)
		}
		if m["type"] == "replay_end" {
			break
		}
	}
	if fmt.Sprint(levels) != "[1.2 1.9 2.7]" {
		t.Errorf("replayed levels %v, want the snapshot at 01:30 (1.2) then 1.9 and 2.7", levels)
	}
}

func riverLevels(v any) []float64 {
	var out []float64
	fs, _ := v.([]any)
	for _, f := range fs {
		props, _ := f.(map[string]any)["properties"].(map[string]any)
		if l, ok := props["currentLevel"].(float64); ok {
			out = append(out, l)
		}
	}
	return out
}
