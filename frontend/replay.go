package frontend

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers/access"
)

// checkReplayLayers confines a replay to a layer-limited scope as a
// subscription is: a named layer outside it is refused, no layer means the
// scope's layers.
func checkReplayLayers(req *ReplayRequest, sc *access.Scope) error {
	allowed := sc.Layers()
	if allowed == nil {
		return nil
	}
	if len(req.Layers) == 0 || slices.Contains(req.Layers, "*") {
		req.Layers = allowed
		return nil
	}
	for _, l := range req.Layers {
		if !sc.SeesLayer(l) {
			return fmt.Errorf("replay: layer %q is outside your scope", l)
		}
	}
	return nil
}

// ReplayRequest is a client's request to replay history over its socket.
type ReplayRequest struct {
	From, To time.Time
	Speed    float64
	Layers   []string
	BBox     geo.Rect
}

// ReplaySession is a running replay; its controls may be called from any
// goroutine while Run sends frames.
type ReplaySession interface {
	Run(ctx context.Context) error
	Play()
	Pause()
	Seek(t time.Time)
	SetSpeed(x float64)
}

// Replayer starts a replay that sends its frames (the live protocol's
// snapshot and diff, marked "replay": true, with the historical time)
// through send, which reports false while the client's queue is full. The
// frontend defines what it needs; cmd wires the history's implementation.
type Replayer func(req ReplayRequest, send func(frame []byte) bool) ReplaySession

// replayMessage is the part of a client message replay requests use.
type replayMessage struct {
	From   string  `json:"from"`
	To     string  `json:"to"`
	Speed  float64 `json:"speed"`
	Action string  `json:"action"` // replay_control: play, pause, seek, speed
	Time   string  `json:"time"`   // seek target
}

func parseReplay(m *clientMessage) (ReplayRequest, error) {
	from, err := time.Parse(time.RFC3339Nano, m.From)
	if err != nil {
		return ReplayRequest{}, fmt.Errorf("replay: from %q is not an RFC 3339 time", m.From)
	}
	to, err := time.Parse(time.RFC3339Nano, m.To)
	if err != nil || !to.After(from) {
		return ReplayRequest{}, fmt.Errorf("replay: to %q must be an RFC 3339 time after from", m.To)
	}
	if m.Speed < 0 || m.Speed > 100000 {
		return ReplayRequest{}, fmt.Errorf("replay: speed %g must be in (0, 100000] (absent: 1)", m.Speed)
	}
	req := ReplayRequest{From: from, To: to, Speed: m.Speed, Layers: m.Layers}
	if m.BBox != nil {
		if req.BBox, err = geo.RectFromSlice(m.BBox); err != nil {
			return ReplayRequest{}, fmt.Errorf("replay: %w", err)
		}
	}
	return req, nil
}

// startReplay leaves the live push and runs a replay session until the
// client subscribes again, starts another replay, or goes away.
func (c *client) startReplay(m *clientMessage) {
	if c.srv.cfg.Replayer == nil {
		c.reply(errorMessage("unavailable", "replay is not available on this server", m.ID))
		return
	}
	if c.principal != nil && !c.principal.Can(access.ReadHistory) {
		c.reply(errorMessage("forbidden", "replay needs the permission read:history", m.ID))
		return
	}
	req, err := parseReplay(m)
	if err != nil {
		c.srv.metrics.badRequests.Inc()
		c.reply(errorMessage("bad_request", err.Error(), m.ID))
		return
	}
	sel, err := parsePropSelection(m.Properties)
	if err != nil {
		c.srv.metrics.badRequests.Inc()
		c.reply(errorMessage("bad_request", "replay: "+err.Error(), m.ID))
		return
	}
	sc := c.scope()
	if sc != nil {
		if err := checkReplayLayers(&req, sc); err != nil {
			c.reply(errorMessage("out_of_scope", err.Error(), m.ID))
			return
		}
		if r, ok := sc.Rect(); ok {
			// The history store searches less; the filter below is exact.
			if req.BBox == (geo.Rect{}) {
				req.BBox = r
			} else if req.BBox, ok = sc.Clip(req.BBox); !ok {
				req.BBox = r
			}
		}
	}
	filter := newReplayFilter(access.Unlimited())
	if sc != nil {
		filter = newReplayFilter(sc)
	}
	c.leaveLive()
	c.stopReplay()
	send := func(frame []byte) bool {
		if frame = filter.frame(frame); frame == nil {
			return true // not a frame the filter could read: dropped
		}
		if sel != nil {
			frame = selectInFrame(frame, sel)
		}
		return c.queue.push(outMsg{data: frame, size: len(frame)})
	}
	s := c.srv.cfg.Replayer(req, send)
	ctx, cancel := context.WithCancel(c.ctx)
	c.replayMu.Lock()
	c.replay, c.replayStop = s, cancel
	c.replayMu.Unlock()
	go func() {
		if err := s.Run(ctx); err != nil && ctx.Err() == nil {
			c.reply(errorMessage("replay_failed", "replay stopped: "+err.Error(), m.ID))
		}
	}()
}

// controlReplay applies play, pause, seek or speed to the running replay.
func (c *client) controlReplay(m *clientMessage) {
	c.replayMu.Lock()
	s := c.replay
	c.replayMu.Unlock()
	if s == nil {
		c.reply(errorMessage("bad_request", "replay_control: no replay is running", m.ID))
		return
	}
	switch m.Action {
	case "play":
		s.Play()
	case "pause":
		s.Pause()
	case "speed":
		if m.Speed <= 0 || m.Speed > 100000 {
			c.reply(errorMessage("bad_request", fmt.Sprintf("replay_control: speed %g must be in (0, 100000]", m.Speed), m.ID))
			return
		}
		s.SetSpeed(m.Speed)
	case "seek":
		t, err := time.Parse(time.RFC3339Nano, m.Time)
		if err != nil {
			c.reply(errorMessage("bad_request", fmt.Sprintf("replay_control: time %q is not an RFC 3339 time", m.Time), m.ID))
			return
		}
		s.Seek(t)
	default:
		c.reply(errorMessage("bad_request", "replay_control: action "+quote(m.Action)+" (want play, pause, seek or speed)", m.ID))
	}
}

// stopReplay ends the running replay, if any.
func (c *client) stopReplay() {
	c.replayMu.Lock()
	stop := c.replayStop
	c.replay, c.replayStop = nil, nil
	c.replayMu.Unlock()
	if stop != nil {
		stop()
	}
}

// leaveLive takes the client out of the live push and waits until the hub
// has done so, so that no live diff lands behind the replay's snapshot.
func (c *client) leaveLive() {
	c.post(nil)  // the worker forgets the subscription, so no resync revives it
	c.gen.Add(1) // registrations still on their way are void
	ack := make(chan struct{})
	if c.srv.hub.submit(c.ctx, hubOp{leave: c, ack: ack}) != nil {
		return
	}
	select {
	case <-ack:
	case <-c.ctx.Done():
	}
}
