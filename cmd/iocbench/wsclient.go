package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// wsURL turns the server's http base into its WebSocket endpoint.
func wsURL(base string) string {
	return "ws" + strings.TrimPrefix(base, "http") + "/api/v1/ws"
}

func newDialer() *websocket.Dialer {
	return &websocket.Dialer{
		Proxy:            nil,
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   16 << 10,
		WriteBufferSize:  4 << 10,
	}
}

// bearerToken authenticates every request to a secured --target server.
var bearerToken string

// authorize adds the --token credentials to h and returns it.
func authorize(h http.Header) http.Header {
	if bearerToken != "" {
		h.Set("Authorization", "Bearer "+bearerToken)
	}
	return h
}

// subscribeMessage is the client's subscribe request.
func subscribeMessage(layers []string, b box) map[string]any {
	return map[string]any{"type": "subscribe", "layers": layers, "bbox": b[:]}
}

// dialAndSubscribe opens a WebSocket and sends one subscribe request.
func dialAndSubscribe(ctx context.Context, d *websocket.Dialer, base string, layers []string, b box) (*websocket.Conn, error) {
	conn, resp, err := d.DialContext(ctx, wsURL(base), authorize(http.Header{}))
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("websocket dial: %w (HTTP %d)", err, resp.StatusCode)
		}
		return nil, fmt.Errorf("websocket dial: %w", err)
	}
	_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := conn.WriteJSON(subscribeMessage(layers, b)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("send subscribe: %w", err)
	}
	return conn, nil
}

// clientStats is what one reading client saw. Owned by its read loop until
// the loop ends.
type clientStats struct {
	messages, bytes   int64
	diffs, snapshots  int64
	upserts, measured int64
	others            int64
	initialFeatures   int64
	latency           histogram
}

func (s *clientStats) merge(o *clientStats) {
	s.messages += o.messages
	s.bytes += o.bytes
	s.diffs += o.diffs
	s.snapshots += o.snapshots
	s.upserts += o.upserts
	s.measured += o.measured
	s.others += o.others
	s.initialFeatures += o.initialFeatures
	s.latency.merge(&o.latency)
}

// wsClient is one simulated map viewer. A stalled one subscribes and then
// never reads, like a frozen browser tab.
type wsClient struct {
	conn     *websocket.Conn
	stalled  bool
	stats    clientStats
	since    *atomic.Int64 // record latency only of features observed at or after this (unix ns)
	ready    chan struct{} // closed when the first snapshot has arrived or the read failed
	readyErr error         // set before ready is closed: why no snapshot came
	done     chan struct{} // closed when the read loop has ended
}

// readLoop reads every frame, timestamps it on arrival and measures the
// latency of each upsert: arrival time minus the feature's observation
// time, which the load generator set to the moment it built the event.
func (c *wsClient) readLoop() {
	defer close(c.done)
	var buf bytes.Buffer
	first := true
	for {
		_, r, err := c.conn.NextReader()
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		if err != nil {
			if first {
				c.readyErr = fmt.Errorf("connection ended before the snapshot: %w", err)
				close(c.ready)
			}
			return
		}
		c.handle(buf.Bytes(), time.Now())
		if first && c.stats.snapshots > 0 {
			first = false
			close(c.ready)
		}
	}
}

var (
	diffPrefix     = []byte(`{"type":"diff"`)
	snapshotPrefix = []byte(`{"type":"snapshot"`)
	deletesMarker  = []byte(`],"deletes":[`)
	// timeMember is how the server writes a feature's observation time. The
	// generated properties hold no member called time, so every match in a
	// frame is a feature's own.
	timeMember = []byte(`,"time":"`)
)

func (c *wsClient) handle(msg []byte, arrived time.Time) {
	c.stats.messages++
	c.stats.bytes += int64(len(msg))
	switch {
	case bytes.HasPrefix(msg, diffPrefix):
		c.stats.diffs++
		if i := bytes.Index(msg, deletesMarker); i >= 0 {
			msg = msg[:i] // upserts only
		}
		c.measure(msg, arrived)
	case bytes.HasPrefix(msg, snapshotPrefix):
		if c.stats.snapshots == 0 {
			c.stats.initialFeatures = int64(bytes.Count(msg, timeMember))
		}
		c.stats.snapshots++
	default:
		c.stats.others++
	}
}

// measure records arrived minus the time of every feature in upserts.
func (c *wsClient) measure(upserts []byte, arrived time.Time) {
	since := c.since.Load()
	for {
		i := bytes.Index(upserts, timeMember)
		if i < 0 {
			return
		}
		upserts = upserts[i+len(timeMember):]
		end := bytes.IndexByte(upserts, '"')
		if end < 0 {
			return
		}
		c.stats.upserts++
		obs, err := time.Parse(time.RFC3339Nano, string(upserts[:end]))
		if err == nil && obs.UnixNano() >= since {
			c.stats.latency.record(arrived.Sub(obs))
			c.stats.measured++
		}
		upserts = upserts[end:]
	}
}

// waitReady waits for the first snapshot, or for ctx.
func (c *wsClient) waitReady(ctx context.Context) error {
	select {
	case <-c.ready:
		return c.readyErr
	case <-ctx.Done():
		return errors.New("no snapshot before the deadline")
	}
}

// close ends the connection and waits for the read loop, after which the
// stats may be read.
func (c *wsClient) close() {
	_ = c.conn.Close()
	if !c.stalled {
		<-c.done
	}
}
