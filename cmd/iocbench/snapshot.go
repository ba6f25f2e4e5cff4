package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"time"

	"github.com/gorilla/websocket"
)

// SnapshotResult is the outcome of the snapshot mode.
type SnapshotResult struct {
	Layer       string  `json:"layer"`
	Loaded      int     `json:"features_loaded"`
	LoadSeconds float64 `json:"load_seconds"`
	Features    int     `json:"snapshot_features"`
	Bytes       int     `json:"snapshot_bytes"`
	Repeats     int     `json:"repeats"`
	FirstByte   Spread  `json:"first_byte"`
	Received    Spread  `json:"received"`
	Parsed      Spread  `json:"parsed"`
	CPU         cpuUse  `json:"cpu"`
	// RunsMS is every run's first byte, received and parsed times.
	RunsMS [][3]float64 `json:"runs_ms"`
}

// snapshotMessage is the snapshot frame as a map client would decode it:
// every feature fully parsed, properties as a generic object.
type snapshotMessage struct {
	Type      string `json:"type"`
	Epoch     string `json:"epoch"`
	Seq       uint64 `json:"seq"`
	Truncated bool   `json:"truncated"`
	Features  []struct {
		Type     string `json:"type"`
		ID       string `json:"id"`
		Layer    string `json:"layer"`
		Time     string `json:"time"`
		Geometry struct {
			Type        string    `json:"type"`
			Coordinates []float64 `json:"coordinates"`
		} `json:"geometry"`
		Properties map[string]any `json:"properties"`
	} `json:"features"`
}

// runSnapshot loads o.features entities into one layer, then times fresh
// clients subscribing to all of Da Nang on that layer.
func runSnapshot(ctx context.Context, b *bench) (*SnapshotResult, error) {
	o := b.o
	srv, err := b.startServer(ctx)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	p := newPoster(srv.base, o.senders)
	defer p.close()
	layer := o.layers[0]
	pl := newPool(o.features, []string{layer}, o.seed)
	took, err := loadAll(ctx, p, pl, o.senders, o.batch)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	b.logf("snapshot: loaded %d features into %s in %v", o.features, layer, took.Round(time.Millisecond))
	r := &SnapshotResult{Layer: layer, Loaded: o.features, LoadSeconds: took.Seconds(), Repeats: o.repeat}
	var first, recv, parsed []time.Duration
	// The receive buffer is allocated and touched before timing: on this VM
	// growing a fresh buffer to 40 MB costs over a second of page faults,
	// which says nothing about the server.
	var buf bytes.Buffer
	buf.Write(make([]byte, o.features*600))
	meter := startCPUMeter(ctx, srv.base)
	for range o.repeat {
		runtime.GC() // a new client starts clean: no garbage of the previous run to collect meanwhile
		t, err := timeSnapshot(ctx, srv.base, layer, r, &buf)
		if err != nil {
			return nil, err
		}
		first, recv, parsed = append(first, t[0]), append(recv, t[1]), append(parsed, t[2])
		r.RunsMS = append(r.RunsMS, [3]float64{msOf(t[0]), msOf(t[1]), msOf(t[2])})
	}
	r.FirstByte, r.Received, r.Parsed = spreadOf(first), spreadOf(recv), spreadOf(parsed)
	r.CPU = meter.stop(ctx)
	return r, nil
}

// timeSnapshot connects, then measures from sending subscribe to the first
// byte of the snapshot, to its last byte, and to its full decoding.
func timeSnapshot(ctx context.Context, base, layer string, r *SnapshotResult, buf *bytes.Buffer) ([3]time.Duration, error) {
	var t [3]time.Duration
	conn, _, err := newDialer().DialContext(ctx, wsURL(base), authorize(http.Header{}))
	if err != nil {
		return t, fmt.Errorf("websocket dial: %w", err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	msg, err := json.Marshal(subscribeMessage([]string{layer}, daNang))
	if err != nil {
		return t, err
	}
	start := time.Now()
	if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
		return t, fmt.Errorf("send subscribe: %w", err)
	}
	_, rd, err := conn.NextReader()
	if err != nil {
		return t, fmt.Errorf("read snapshot: %w", err)
	}
	t[0] = time.Since(start)
	buf.Reset()
	if _, err := buf.ReadFrom(rd); err != nil {
		return t, fmt.Errorf("read snapshot: %w", err)
	}
	t[1] = time.Since(start)
	var snap snapshotMessage
	if err := json.Unmarshal(buf.Bytes(), &snap); err != nil {
		return t, fmt.Errorf("decode snapshot: %w", err)
	}
	t[2] = time.Since(start)
	if snap.Type != "snapshot" || snap.Truncated || len(snap.Features) < r.Loaded {
		return t, fmt.Errorf("got a %q message with %d features (truncated %v), want a snapshot of %d",
			snap.Type, len(snap.Features), snap.Truncated, r.Loaded)
	}
	r.Features, r.Bytes = len(snap.Features), buf.Len()
	return t, nil
}

func (r *SnapshotResult) print(w io.Writer) {
	fmt.Fprintf(w, "snapshot: %d features loaded into %s in %.1fs; %d runs\n", r.Loaded, r.Layer, r.LoadSeconds, r.Repeats)
	fmt.Fprintf(w, "  snapshot      %d features, %.1f MB\n", r.Features, float64(r.Bytes)/1e6)
	fmt.Fprintf(w, "  first byte    %s\n", r.FirstByte)
	fmt.Fprintf(w, "  received      %s\n", r.Received)
	fmt.Fprintf(w, "  parsed        %s   (subscribe sent → snapshot decoded with encoding/json)\n", r.Parsed)
	fmt.Fprintf(w, "  cpu           %s\n", r.CPU)
}
