package frontend

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// outMsg is one WebSocket frame waiting to be written. Shared frames carry a
// PreparedMessage so that the frame is encoded once for all its clients.
type outMsg struct {
	prepared *websocket.PreparedMessage
	data     []byte
	size     int
	oldest   time.Time // server time of the oldest change inside, for push latency
	snapshot bool      // a snapshot does not count against the byte bound of the diffs behind it
	pooled   *[]byte   // data's buffer, returned to framePool once written or dropped
}

// framePool recycles the buffers of frames that go to one client, the
// common case of clients with their own viewports. Without it the hub
// allocates every frame it encodes, and its allocations make it pay GC
// mark assists: its ticks then stretch over a whole mark phase. Shared
// frames (PreparedMessage keeps its data) are not pooled.
var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// maxPooledFrame keeps a rare huge frame from pinning its memory in the pool.
const maxPooledFrame = 1 << 20

// release returns the frame's buffer to the pool; m must not be used after.
func (m *outMsg) release() {
	if m.pooled != nil && cap(*m.pooled) <= maxPooledFrame {
		*m.pooled = m.data[:0]
		framePool.Put(m.pooled)
	}
	m.pooled = nil
}

// sendQueue is a client's bounded outbox. The hub pushes without ever
// waiting; the client's writer pops. It is bounded in frames and in bytes
// of diffs: an empty queue always takes one frame, and a snapshot's bytes
// do not count against the diffs queued behind it, so a snapshot larger
// than the bound is delivered instead of being dropped and rebuilt.
type sendQueue struct {
	mu        sync.Mutex
	items     []outMsg
	bytes     int // all queued bytes, for the gauges
	diffBytes int // bytes of non-snapshot frames, for the bound
	maxBytes  int
	maxMsgs   int
	ready     chan struct{} // signalled when items arrive
	closed    bool
	gauges    *queueGauges
}

// queueGauges are the totals over every client's queue.
type queueGauges struct {
	msgs, bytes atomic.Int64
}

func newSendQueue(maxMsgs, maxBytes int, g *queueGauges) *sendQueue {
	return &sendQueue{
		maxBytes: maxBytes,
		maxMsgs:  maxMsgs,
		ready:    make(chan struct{}, 1),
		gauges:   g,
	}
}

// push appends m unless the queue is full or closed; it never blocks.
func (q *sendQueue) push(m outMsg) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	if len(q.items) > 0 && (len(q.items) >= q.maxMsgs || q.diffBytes+m.size > q.maxBytes) {
		return false
	}
	q.items = append(q.items, m)
	q.bytes += m.size
	if !m.snapshot {
		q.diffBytes += m.size
	}
	q.gauges.msgs.Add(1)
	q.gauges.bytes.Add(int64(m.size))
	signal(q.ready)
	return true
}

// pop removes the oldest frame; ok is false when the queue is empty.
func (q *sendQueue) pop() (m outMsg, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return outMsg{}, false
	}
	m = q.items[0]
	q.items[0] = outMsg{}
	q.items = q.items[1:]
	q.bytes -= m.size
	if !m.snapshot {
		q.diffBytes -= m.size
	}
	q.gauges.msgs.Add(-1)
	q.gauges.bytes.Add(-int64(m.size))
	if len(q.items) == 0 {
		q.items = nil
	}
	return m, true
}

// reset drops every queued frame and returns how many were dropped.
func (q *sendQueue) reset() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.items)
	for i := range q.items {
		q.items[i].release()
	}
	q.gauges.msgs.Add(-int64(n))
	q.gauges.bytes.Add(-int64(q.bytes))
	q.items, q.bytes, q.diffBytes = nil, 0, 0
	return n
}

// empty reports whether nothing is waiting.
func (q *sendQueue) empty() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) == 0
}

// close refuses further frames and releases the queued ones.
func (q *sendQueue) close() {
	q.reset()
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
