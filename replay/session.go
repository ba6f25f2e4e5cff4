package replay

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
)

// Pacing and reading parameters of a Session.
const (
	// Tick is the real time between two diff batches.
	Tick = 50 * time.Millisecond
	// RetryDelay is the real time a Session waits before offering a frame
	// again when send refused it (the client's queue is full).
	RetryDelay = 20 * time.Millisecond
	// MaxBatch bounds the entities of one diff; a larger catch-up is sent as
	// several diffs back to back.
	MaxBatch = 5000
	// chunkRecords bounds the records one Range call buffers; a chunk ends on
	// a millisecond boundary so that the next one starts exactly after it.
	chunkRecords = 10000
	// readAhead is how much real time of history a chunk covers beyond the
	// current target (at the current speed), at least one historical second.
	readAhead = 2 * time.Second
)

// Request is what a client asks to replay.
type Request struct {
	From, To time.Time
	Speed    float64  // historical seconds per real second; <= 0 means 1
	Layers   []string // nil (or "*"): every layer
	BBox     geo.Rect // zero: everywhere
}

// Session replays the history between Request.From and Request.To as live
// frames: a snapshot at the start and at every seek, then diffs paced at
// Speed times real time; see docs/HISTORY.md. Run drives it; Play, Pause,
// Seek and SetSpeed may be called from any goroutine.
type Session struct {
	store Store
	req   Request
	send  func([]byte) bool
	clock Clock
	bbox  geo.Rect

	// Controls and pacing, set when a control is called (not when Run
	// notices it), so that pacing does not depend on scheduling.
	mu         sync.Mutex
	playing    bool
	speed      float64
	seek       *time.Time // pending seek
	seekNow    time.Time  // real time of the pending seek
	ended      bool       // replay_end sent; only a Seek leaves this state
	anchorReal time.Time  // pacing: at anchorReal, historical time was anchorHist
	anchorHist time.Time  // (frozen there while paused)
	wake       chan struct{}

	// Owned by Run.
	pos     time.Time              // history applied up to here, inclusive
	view    map[entityKey]struct{} // entities the client holds
	buf     []Record
	bufAt   int
	fetched time.Time // Range has covered history up to here
	// span is how much history the next Range asks for at most: it shrinks
	// to what the last full chunk covered and grows back when chunks come
	// back small, so that a query reads about one chunk, not the whole
	// read-ahead (2 real seconds at 3600x are 2 hours of the city).
	span time.Duration
}

type entityKey struct{ layer, id string }

// NewSession prepares a replay; Run starts it, playing.
func NewSession(store Store, req Request, send func(frame []byte) bool, clock Clock) *Session {
	req.From, req.To = MS(req.From), MS(req.To)
	if req.To.Before(req.From) {
		req.To = req.From
	}
	if !validSpeed(req.Speed) {
		req.Speed = 1
	}
	if slices.Contains(req.Layers, "*") {
		req.Layers = nil
	}
	bbox := req.BBox
	if bbox == (geo.Rect{}) {
		bbox = geo.World
	}
	if clock == nil {
		clock = RealClock()
	}
	return &Session{store: store, req: req, send: send, clock: clock, bbox: bbox,
		playing: true, speed: req.Speed, wake: make(chan struct{}, 1)}
}

func validSpeed(x float64) bool { return x > 0 && !math.IsInf(x, 0) && !math.IsNaN(x) }

func (s *Session) notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Play resumes the replay; it does nothing once the end was reached (Seek
// first).
func (s *Session) Play() {
	s.mu.Lock()
	if !s.ended && !s.playing {
		s.playing, s.anchorReal = true, s.clock.Now()
	}
	s.mu.Unlock()
	s.notify()
}

// Pause stops sending until Play.
func (s *Session) Pause() {
	s.mu.Lock()
	if s.playing {
		s.reanchorLocked(s.clock.Now())
		s.playing = false
	}
	s.mu.Unlock()
	s.notify()
}

// SetSpeed changes the pacing from now on; a non-positive speed is ignored.
func (s *Session) SetSpeed(x float64) {
	if !validSpeed(x) {
		return
	}
	s.mu.Lock()
	s.reanchorLocked(s.clock.Now())
	s.speed = x
	s.mu.Unlock()
	s.notify()
}

// Seek jumps to t (clamped to [From, To]): the client gets a snapshot at t,
// then diffs from there if playing. The play state is kept; after the end,
// Seek leaves the replay paused at t.
func (s *Session) Seek(t time.Time) {
	t = MS(t)
	if t.Before(s.req.From) {
		t = s.req.From
	}
	if t.After(s.req.To) {
		t = s.req.To
	}
	s.mu.Lock()
	s.seek, s.seekNow, s.ended = &t, s.clock.Now(), false
	s.mu.Unlock()
	s.notify()
}

func (s *Session) seekPending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seek != nil
}

// Run replays until ctx ends or a store fails; it returns ctx.Err() or the
// store's error.
func (s *Session) Run(ctx context.Context) error {
	if err := s.seekTo(ctx, s.req.From, s.clock.Now()); err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// now is read with the controls, so that a Pause returning before the
		// clock moves is never paced past.
		s.mu.Lock()
		seek, seekNow, playing, ended := s.seek, s.seekNow, s.playing, s.ended
		s.seek = nil
		target := s.targetLocked(s.clock.Now())
		s.mu.Unlock()
		if seek != nil {
			if err := s.seekTo(ctx, *seek, seekNow); err != nil {
				return err
			}
			continue
		}
		if !playing || ended {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-s.wake:
			}
			continue
		}
		if target.Before(s.pos) {
			target = s.pos
		}
		capped, err := s.advance(ctx, target)
		if err != nil {
			return err
		}
		if capped {
			continue
		}
		if !target.Before(s.req.To) {
			// Paused before the frame goes out, so that a control reacting
			// to replay_end finds the session ended.
			s.mu.Lock()
			if s.seek == nil {
				s.reanchorLocked(s.clock.Now())
				s.playing, s.ended = false, true
			}
			s.mu.Unlock()
			if err := s.sendFrame(ctx, endFrame(s.req.To)); err != nil {
				return err
			}
			continue
		}
		t := s.clock.NewTimer(Tick)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-s.wake:
			t.Stop()
		case <-t.C():
		}
	}
}

// targetLocked is the historical time the pacing has reached at real time
// now: frozen while paused.
func (s *Session) targetLocked(now time.Time) time.Time {
	if !s.playing {
		return s.anchorHist
	}
	d := float64(now.Sub(s.anchorReal)) * s.speed
	if d > float64(s.req.To.Sub(s.anchorHist)) {
		return s.req.To
	}
	return s.anchorHist.Add(time.Duration(d)).Truncate(time.Millisecond)
}

// reanchorLocked restarts the pacing from where it has reached at now.
func (s *Session) reanchorLocked(now time.Time) {
	s.anchorHist, s.anchorReal = s.targetLocked(now), now
}

func (s *Session) anchor(hist, now time.Time) {
	s.mu.Lock()
	s.anchorHist, s.anchorReal = hist, now
	s.mu.Unlock()
}

// seekTo sends the snapshot at t and restarts reading after it.
func (s *Session) seekTo(ctx context.Context, t, now time.Time) error {
	recs, err := s.store.StateAt(ctx, t, s.req.Layers, s.bbox)
	if err != nil {
		return err
	}
	s.view = make(map[entityKey]struct{}, len(recs))
	for i := range recs {
		s.view[entityKey{recs[i].Layer, recs[i].ID}] = struct{}{}
	}
	s.pos, s.fetched, s.buf, s.bufAt = t, t, s.buf[:0], 0
	s.anchor(t, now)
	return s.sendFrame(ctx, snapshotFrame(t, recs))
}

// sendFrame offers frame until send takes it, waiting RetryDelay between
// tries: a replay slows down but never drops. A frame a pending seek makes
// moot (its snapshot replaces everything) is abandoned. After a wait, the
// pacing restarts from what was sent, so that history does not race ahead.
func (s *Session) sendFrame(ctx context.Context, frame []byte) error {
	waited := false
	for !s.send(frame) {
		if s.seekPending() {
			return nil
		}
		waited = true
		t := s.clock.NewTimer(RetryDelay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		}
	}
	if waited {
		s.anchor(s.pos, s.clock.Now())
	}
	return nil
}

// advance sends the records up to target as diffs, at most MaxBatch
// entities each; capped reports that it stopped early at the cap.
func (s *Session) advance(ctx context.Context, target time.Time) (capped bool, err error) {
	b := batch{latest: map[entityKey]*Record{}, was: map[entityKey]bool{}}
	for len(b.order) < MaxBatch {
		r, ok, err := s.next(ctx, target)
		if err != nil {
			return false, err
		}
		if !ok {
			s.pos = target
			return false, s.flush(ctx, &b)
		}
		s.apply(&b, r)
		s.pos = r.Time
	}
	return true, s.flush(ctx, &b)
}

func (s *Session) flush(ctx context.Context, b *batch) error {
	frame := b.encode()
	if frame == nil {
		return nil
	}
	return s.sendFrame(ctx, frame)
}

// apply updates the client's view with r and records the change in b.
func (s *Session) apply(b *batch, r *Record) {
	var inside bool
	switch {
	case r.Deleted():
	case r.Observed():
		inside = r.Rect().Intersects(s.bbox)
	default:
		return // a late delete changes no state (see Record.Deleted)
	}
	k := entityKey{r.Layer, r.ID}
	if _, seen := b.latest[k]; !seen {
		_, b.was[k] = s.view[k]
		b.order = append(b.order, k)
	}
	b.time = r.Time
	if inside {
		b.latest[k] = r
		s.view[k] = struct{}{}
	} else {
		b.latest[k] = nil
		delete(s.view, k)
	}
}

// next returns the next record with Time <= target, reading a chunk from
// the store when the buffer is empty.
func (s *Session) next(ctx context.Context, target time.Time) (*Record, bool, error) {
	for {
		if s.bufAt < len(s.buf) {
			r := &s.buf[s.bufAt]
			if r.Time.After(target) {
				return nil, false, nil
			}
			s.bufAt++
			return r, true, nil
		}
		if !s.fetched.Before(target) {
			return nil, false, nil
		}
		if err := s.fill(ctx, target); err != nil {
			return nil, false, err
		}
	}
}

var errChunkFull = errors.New("replay: chunk full")

// fill reads the next chunk after s.fetched, up to target plus read-ahead.
func (s *Session) fill(ctx context.Context, target time.Time) error {
	s.mu.Lock()
	speed := s.speed
	s.mu.Unlock()
	ahead := max(time.Duration(float64(readAhead)*speed), time.Second)
	if s.span <= 0 || s.span > ahead {
		s.span = ahead
	}
	to := s.fetched.Add(s.span)
	if to.After(s.req.To) {
		to = s.req.To
	}
	buf := make([]Record, 0, 256)
	err := s.store.Range(ctx, s.fetched, to, s.req.Layers, s.bbox, func(r Record) error {
		if n := len(buf); n >= chunkRecords && !r.Time.Equal(buf[n-1].Time) {
			return errChunkFull
		}
		buf = append(buf, r)
		return nil
	})
	switch {
	case errors.Is(err, errChunkFull):
		to = buf[len(buf)-1].Time
		s.span = max(to.Sub(s.fetched), time.Millisecond)
	case err != nil:
		return err
	case len(buf) < chunkRecords/4:
		s.span *= 2
	}
	s.buf, s.bufAt, s.fetched = buf, 0, to
	return nil
}

// batch is one diff being built: per entity its latest state (nil: gone
// from the client's view) and whether the client held it before.
type batch struct {
	order  []entityKey
	latest map[entityKey]*Record
	was    map[entityKey]bool
	time   time.Time
}

// encode returns the diff frame, or nil when the client's view did not
// change.
func (b *batch) encode() []byte {
	var ups, dels []entityKey
	for _, k := range b.order {
		switch {
		case b.latest[k] != nil:
			ups = append(ups, k)
		case b.was[k]:
			dels = append(dels, k)
		}
	}
	if len(ups) == 0 && len(dels) == 0 {
		return nil
	}
	out := appendHeader(nil, "diff", b.time)
	out = append(out, `,"upserts":[`...)
	for i, k := range ups {
		if i > 0 {
			out = append(out, ',')
		}
		out = AppendFeature(out, b.latest[k])
	}
	out = append(out, `],"deletes":[`...)
	for i, k := range dels {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"layer":`...)
		out = layers.AppendJSONString(out, k.layer)
		out = append(out, `,"id":`...)
		out = layers.AppendJSONString(out, k.id)
		out = append(out, '}')
	}
	return append(out, "]}"...)
}

func appendHeader(b []byte, typ string, t time.Time) []byte {
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","replay":true,"time":"`...)
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

func snapshotFrame(t time.Time, recs []Record) []byte {
	b := appendHeader(nil, "snapshot", t)
	b = append(b, `,"features":[`...)
	for i := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendFeature(b, &recs[i])
	}
	return append(b, "]}"...)
}

func endFrame(t time.Time) []byte {
	return append(appendHeader(nil, "replay_end", t), '}')
}
