package frontend

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/danang-ioc/ioc/layers/access"
)

// client is one WebSocket connection. Three goroutines serve it: read takes
// requests, work builds snapshots and registers with the hub, write drains
// the send queue. Only write writes data frames.
type client struct {
	srv  *Server
	conn *websocket.Conn
	// principal is who opened the connection (authenticated once, at the
	// upgrade); its scope filters every frame. nil only in benchmarks.
	principal *access.Principal
	queue     *sendQueue
	subs      chan *subscription // latest-wins mailbox from read to work
	resync    chan struct{}      // from the hub: send a fresh snapshot
	idle      chan struct{}      // from write: the queue is empty and no frame is in flight
	busy      atomic.Bool        // write is writing a frame
	gen       atomic.Uint64      // registration generation; older ones are ignored
	ctx       context.Context    // cancelled when the client goes away
	cancel    context.CancelFunc
	once      sync.Once

	replayMu   sync.Mutex
	replay     ReplaySession      // the running replay, nil when live
	replayStop context.CancelFunc // ends it
}

func newClient(s *Server, conn *websocket.Conn) *client {
	ctx, cancel := context.WithCancel(context.Background())
	return &client{
		ctx:    ctx,
		cancel: cancel,
		srv:    s,
		conn:   conn,
		queue:  newSendQueue(s.cfg.QueueMessages, s.cfg.QueueBytes, &s.metrics.queued),
		subs:   make(chan *subscription, 1),
		resync: make(chan struct{}, 1),
		idle:   make(chan struct{}, 1),
	}
}

func (c *client) serve() {
	go c.write()
	go c.work()
	c.read()
	c.close()
}

// close ends the connection once, whichever goroutine notices first.
func (c *client) close() {
	c.once.Do(func() {
		c.cancel()
		_ = c.conn.Close()
		c.queue.close()
		// The hub may be gone at shutdown; do not wait for it then.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = c.srv.hub.submit(ctx, hubOp{leave: c})
		c.srv.forget(c)
	})
}

// goAway tells the client the server is stopping, then closes.
func (c *client) goAway() {
	msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down")
	_ = c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	c.close()
}

func (c *client) read() {
	cfg := c.srv.cfg
	c.conn.SetReadLimit(cfg.MaxMessageBytes)
	extend := func(string) error { return c.conn.SetReadDeadline(time.Now().Add(cfg.PongTimeout)) }
	_ = extend("")
	c.conn.SetPongHandler(extend)
	limit := newMessageBudget(cfg.MaxMessagesPerSecond, time.Now())
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		_ = extend("")
		if !limit.take(time.Now()) {
			c.srv.metrics.rateLimited.Inc()
			c.reply(errorMessage("rate_limited", fmt.Sprintf("more than %d messages a second: message ignored", cfg.MaxMessagesPerSecond), ""))
			continue
		}
		c.handle(data)
	}
}

func (c *client) handle(data []byte) {
	var m clientMessage
	if err := json.Unmarshal(data, &m); err != nil {
		c.reply(errorMessage("bad_request", "message is not a JSON object: "+err.Error(), ""))
		return
	}
	switch m.Type {
	case "subscribe":
		sub, err := parseSubscription(&m, c.srv.cfg.Clusters)
		if err != nil {
			c.srv.metrics.badRequests.Inc()
			c.reply(errorMessage("bad_request", err.Error(), m.ID))
			return
		}
		if err := sub.limitTo(c.scope()); err != nil {
			c.srv.metrics.badRequests.Inc()
			c.reply(errorMessage("out_of_scope", err.Error(), m.ID))
			return
		}
		c.stopReplay()
		c.post(sub)
	case "unsubscribe":
		c.stopReplay()
		c.post(nil)
	case "replay":
		c.startReplay(&m)
	case "replay_control":
		c.controlReplay(&m)
	case "ping":
		c.reply(append(appendReqID([]byte(`{"type":"pong"`), m.ID), '}'))
	default:
		c.srv.metrics.badRequests.Inc()
		c.reply(errorMessage("bad_request", "unknown message type "+quote(m.Type)+" (want subscribe, unsubscribe, replay, replay_control or ping)", m.ID))
	}
}

// post hands a subscription to the worker, replacing one it has not taken
// yet: only the latest viewport matters.
func (c *client) post(sub *subscription) {
	if sub == nil {
		sub = &subscription{} // unsubscribe: an empty subscription
	}
	for {
		select {
		case c.subs <- sub:
			return
		default:
			select {
			case <-c.subs:
			default:
			}
		}
	}
}

func (c *client) reply(data []byte) {
	c.queue.push(outMsg{data: data, size: len(data)})
}

// work builds snapshots off the hub goroutine and registers them.
func (c *client) work() {
	var current *subscription
	for {
		select {
		case <-c.ctx.Done():
			return
		case sub := <-c.subs:
			current = sub
			c.subscribe(sub)
		case <-c.resync:
			if current != nil && len(current.layers) > 0 && c.awaitIdle() {
				fresh := *current
				fresh.resume, fresh.reqID = false, ""
				c.subscribe(&fresh)
			}
		}
	}
}

// awaitIdle waits until the writer has written everything it held, so that
// a client that stopped reading gets no snapshot until it reads again (or
// its write times out and it is closed). It reports false if the client
// went away meanwhile.
func (c *client) awaitIdle() bool {
	for c.busy.Load() || !c.queue.empty() {
		select {
		case <-c.idle:
		case <-c.ctx.Done():
			return false
		}
	}
	return true
}

func (c *client) subscribe(sub *subscription) {
	gen := c.gen.Add(1)
	if len(sub.layers) == 0 { // unsubscribe
		_ = c.srv.hub.submit(c.ctx, hubOp{leave: c})
		return
	}
	if sub.resume && len(sub.clustered) > 0 {
		// Cells have no per-entity history to replay: a clustered
		// subscription always starts from a fresh snapshot.
		c.srv.metrics.resyncs.WithLabelValues("resume_clustered").Inc()
	} else if sub.resume && c.srv.resumable(sub) {
		c.register(&registration{c: c, sub: sub, from: sub.since, gen: gen})
		return
	}
	sub.resume = false
	frame, grids := c.srv.snapshot(sub)
	data := frame.encode()
	c.srv.metrics.snapshots.Inc()
	c.register(&registration{c: c, sub: sub, from: frame.seq, snapshot: data, gen: gen, grids: grids})
}

func (c *client) register(r *registration) {
	_ = c.srv.hub.submit(c.ctx, hubOp{reg: r})
}

func (c *client) write() {
	cfg := c.srv.cfg
	ping := time.NewTicker(cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-ping.C:
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(cfg.WriteTimeout)); err != nil {
				c.close()
				return
			}
		case <-c.queue.ready:
			if err := c.drain(); err != nil {
				c.srv.metrics.drops.WithLabelValues("write_failed").Inc()
				c.close()
				return
			}
		}
	}
}

func (c *client) drain() error {
	for {
		m, ok := c.queue.pop()
		if !ok {
			return nil
		}
		err := c.writeFrame(m)
		m.release()
		if err != nil {
			return err
		}
	}
}

func (c *client) writeFrame(m outMsg) error {
	c.busy.Store(true)
	defer func() {
		c.busy.Store(false)
		if c.queue.empty() {
			signal(c.idle)
		}
	}()
	_ = c.conn.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
	var err error
	if m.prepared != nil {
		err = c.conn.WritePreparedMessage(m.prepared)
	} else {
		err = c.conn.WriteMessage(websocket.TextMessage, m.data)
	}
	if err == nil {
		c.srv.metrics.sent(m)
	}
	return err
}

// messageBudget is a token bucket of client messages: rate a second, up
// to twice that at once. Only the reading goroutine uses it.
type messageBudget struct {
	rate, tokens float64
	at           time.Time
}

func newMessageBudget(rate int, now time.Time) *messageBudget {
	return &messageBudget{rate: float64(rate), tokens: 2 * float64(rate), at: now}
}

func (b *messageBudget) take(now time.Time) bool {
	b.tokens = min(2*b.rate, b.tokens+now.Sub(b.at).Seconds()*b.rate)
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// scope is the client's scope; nil (unlimited) only for a client built
// without a principal, which ServeWS never does.
func (c *client) scope() *access.Scope {
	if c.principal == nil {
		return nil
	}
	return c.principal.Scope()
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
