package replay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/danang-ioc/ioc/layers"
)

// WriterConfig configures a Writer. Zero fields take the defaults noted.
type WriterConfig struct {
	// DataDir holds the spool, in DataDir/spool. Required.
	DataDir string
	// Interval is how often the change log is read. Default 200ms.
	Interval time.Duration
	// BatchSize bounds the records in one Append and in memory. Default 10000.
	BatchSize int
	// RetryMin and RetryMax bound the backoff after a failed Append.
	// Defaults 200ms and 30s.
	RetryMin, RetryMax time.Duration
	// AppendTimeout bounds one Append. Default 10s.
	AppendTimeout time.Duration
	// SpoolMaxBytes and SpoolMaxFiles bound the spool. Defaults 1 GiB and
	// 100000 batches.
	SpoolMaxBytes int64
	SpoolMaxFiles int
	// KeyframeEvery is how often a keyframe is asked for; 0 means 10m,
	// negative disables. KeyframeLag is how far behind the clock it is
	// taken, so that records still in flight do not invalidate it. Default 1m.
	KeyframeEvery, KeyframeLag time.Duration
	// StartAfter is the last change sequence not to write: the changes a
	// Restore made from history itself.
	StartAfter uint64
	// FlushTimeout bounds the final flush when Run's context ends. Default 5s.
	FlushTimeout time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

func (c *WriterConfig) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.Interval, 200*time.Millisecond)
	def(&c.RetryMin, 200*time.Millisecond)
	def(&c.RetryMax, 30*time.Second)
	def(&c.AppendTimeout, 10*time.Second)
	def(&c.KeyframeEvery, 10*time.Minute)
	def(&c.KeyframeLag, time.Minute)
	def(&c.FlushTimeout, 5*time.Second)
	if c.BatchSize <= 0 {
		c.BatchSize = 10000
	}
	if c.SpoolMaxBytes <= 0 {
		c.SpoolMaxBytes = 1 << 30
	}
	if c.SpoolMaxFiles <= 0 {
		c.SpoolMaxFiles = 100000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Source is what the writer reads: *layers.Store satisfies it.
type Source interface {
	Epoch() string
	Log() *layers.Log
}

// Writer copies the change log into a Store. It reads the log with its own
// cursor, like the push hub, so ingest never waits for it. When the store
// fails, batches go to the on-disk spool instead of piling up in memory, and
// the spool drains in order, before any newer batch, once the store is back.
// Records are lost only if the log overwrites changes before the writer reads
// them (the spool full for long, or the process starved): they are counted
// in ioc_history_records_dropped_total and logged as errors.
type Writer struct {
	cfg     WriterConfig
	src     Source
	store   Store
	spool   *spool
	log     *slog.Logger
	m       *writerMetrics
	cursor  uint64 // last sequence read
	buf     []layers.Change
	pending []Record // read, not yet stored nor spooled; at most BatchSize
	backoff time.Duration
	retryAt time.Time // no Append before this after a failure
	kfAt    time.Time // when the next keyframe is due
}

// NewWriter returns a writer of src's changes into store, registering its
// metrics with reg when not nil. Changes already in the log are written too.
func NewWriter(cfg WriterConfig, src Source, store Store, reg prometheus.Registerer, log *slog.Logger) (*Writer, error) {
	cfg.defaults()
	if cfg.DataDir == "" {
		return nil, errors.New("history writer: no data directory")
	}
	sp, err := openSpool(filepath.Join(cfg.DataDir, "spool"), cfg.SpoolMaxBytes, cfg.SpoolMaxFiles)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Writer{cfg: cfg, src: src, store: store, spool: sp, log: log, m: newWriterMetrics(reg), cursor: cfg.StartAfter}
	w.kfAt = cfg.Now().Add(cfg.KeyframeEvery)
	w.m.spoolBytes.Set(float64(sp.bytes))
	if sp.len() > 0 {
		log.Info("history spool holds batches from an earlier run; draining them first", "batches", sp.len(), "bytes", sp.bytes)
	}
	return w, nil
}

// Run writes until ctx ends, then flushes what it holds (within
// FlushTimeout; what the store does not take then stays in the spool for the
// next run) and returns.
func (w *Writer) Run(ctx context.Context) error {
	t := time.NewTicker(w.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return w.flush()
		case <-t.C:
			w.tick(ctx)
		}
	}
}

// tick reads the log in chunks of BatchSize and delivers each, until it has
// caught up or can hold no more.
func (w *Writer) tick(ctx context.Context) {
	for w.read() {
		if !w.deliver(ctx) {
			break
		}
	}
	w.deliver(ctx) // drains the spool when the log had nothing new
	w.keyframe(ctx)
	w.m.lag.Set(float64(w.src.Log().Last() - w.cursor + uint64(len(w.pending))))
}

// read moves up to BatchSize-len(pending) changes from the log into pending
// and reports whether it read any.
func (w *Writer) read() bool {
	room := w.cfg.BatchSize - len(w.pending)
	if room <= 0 {
		return false
	}
	log := w.src.Log()
	var err error
	w.buf, err = log.Read(w.buf[:0], w.cursor+1, room)
	if errors.Is(err, layers.ErrTruncated) {
		oldest := log.Oldest()
		lost := oldest - (w.cursor + 1)
		w.m.dropped.Add(float64(lost))
		w.log.Error("history writer fell behind the change log: changes lost from history",
			"lost", lost, "cursor", w.cursor, "oldest", oldest)
		w.cursor = oldest - 1
		w.buf, err = log.Read(w.buf[:0], w.cursor+1, room)
	}
	if err != nil || len(w.buf) == 0 {
		return false // truncated again at once: the next tick catches up
	}
	epoch := w.src.Epoch()
	for i := range w.buf {
		w.pending = append(w.pending, RecordOf(epoch, w.buf[i]))
		w.buf[i] = layers.Change{} // the buffer must not keep features alive
	}
	w.cursor = w.pending[len(w.pending)-1].Seq
	return true
}

// deliver drains the spool and then pending into the store; while the store
// fails (or its backoff runs) pending goes to the spool. It reports whether
// pending is empty afterwards.
func (w *Writer) deliver(ctx context.Context) bool {
	if w.behind() {
		return w.spoolPending() // keep pace with the log; the spool drains later
	}
	if w.cfg.Now().After(w.retryAt) && w.drainSpool(ctx) && len(w.pending) > 0 {
		if err := w.append(ctx, w.pending); err == nil {
			w.pending = w.pending[:0]
			return true
		}
	}
	return w.spoolPending()
}

// behind reports whether more than half the change log is unread: the
// store takes records slower than ingest makes them. Batches then go to the
// disk spool, which costs far less per record than a store, so the writer
// keeps pace with the log instead of being lapped by it; the spool drains,
// in order, once the writer has caught up.
func (w *Writer) behind() bool {
	log := w.src.Log()
	return log.Last()-w.cursor > uint64(log.Capacity()/2)
}

// drainSpool appends spooled batches oldest first and reports whether the
// spool is empty.
func (w *Writer) drainSpool(ctx context.Context) bool {
	for w.spool.len() > 0 {
		if w.behind() {
			return false // reading the log comes first, or it overwrites what we have not read
		}
		recs, err := w.spool.peek()
		if err != nil {
			w.log.Error("history spool batch unreadable; moved aside as .bad", "err", err)
			w.spool.quarantine()
			w.m.spoolBytes.Set(float64(w.spool.bytes))
			continue
		}
		if w.append(ctx, recs) != nil {
			return false
		}
		if err := w.spool.pop(); err != nil {
			// Appending it again later is harmless: stores overwrite by key.
			w.log.Error("history spool: cannot remove a stored batch", "err", err)
			return false
		}
		w.m.spoolBytes.Set(float64(w.spool.bytes))
	}
	return true
}

// append stores one batch, managing the backoff.
func (w *Writer) append(ctx context.Context, recs []Record) error {
	actx, cancel := context.WithTimeout(ctx, w.cfg.AppendTimeout)
	err := w.store.Append(actx, recs)
	cancel()
	if err != nil {
		w.backoff = min(max(2*w.backoff, w.cfg.RetryMin), w.cfg.RetryMax)
		w.retryAt = w.cfg.Now().Add(w.backoff)
		w.m.retries.Inc()
		w.log.Warn("history store append failed; spooling and retrying", "err", err, "records", len(recs), "retry_in", w.backoff)
		return err
	}
	w.backoff = 0
	w.m.written.Add(float64(len(recs)))
	return nil
}

// spoolPending moves pending to the spool unless the spool is full, and
// reports whether pending is empty.
func (w *Writer) spoolPending() bool {
	if len(w.pending) == 0 {
		return true
	}
	if w.spool.full() {
		return false // stop reading: the log, not memory, absorbs the backlog
	}
	if err := w.spool.push(w.pending); err != nil {
		w.log.Error("history spool write failed", "err", err)
		return false
	}
	w.m.spooled.Add(float64(len(w.pending)))
	w.m.spoolBytes.Set(float64(w.spool.bytes))
	w.pending = w.pending[:0]
	return true
}

// keyframe asks the store for a keyframe when one is due and the store is
// caught up: a keyframe over missing records would be dropped anyway.
func (w *Writer) keyframe(ctx context.Context) {
	now := w.cfg.Now()
	if w.cfg.KeyframeEvery < 0 || now.Before(w.kfAt) || w.spool.len() > 0 || len(w.pending) > 0 {
		return
	}
	w.kfAt = now.Add(w.cfg.KeyframeEvery)
	kctx, cancel := context.WithTimeout(ctx, w.cfg.AppendTimeout)
	defer cancel()
	if err := w.store.Keyframe(kctx, now.Add(-w.cfg.KeyframeLag)); err != nil {
		w.log.Warn("history keyframe failed", "err", err)
	}
}

// flush reads what is left in the log and stores or spools it.
func (w *Writer) flush() error {
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.FlushTimeout)
	defer cancel()
	w.retryAt = time.Time{} // one last attempt whatever the backoff
	for w.read() {
		if !w.deliver(ctx) {
			break
		}
	}
	if !w.deliver(ctx) {
		return fmt.Errorf("history writer: %d records neither stored nor spooled at shutdown", len(w.pending))
	}
	return nil
}
