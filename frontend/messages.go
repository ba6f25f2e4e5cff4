package frontend

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
)

// clientMessage is any message a client sends; Type selects the meaning.
type clientMessage struct {
	Type   string    `json:"type"`
	Layers []string  `json:"layers"`
	BBox   []float64 `json:"bbox"`
	Since  *uint64   `json:"since"`
	Epoch  string    `json:"epoch"`
	ID     string    `json:"id"` // echoed in the reply so a client can match it
	replayMessage
}

// subscription is a validated subscribe request.
type subscription struct {
	layers []string // sorted, unique; "*" means every layer
	all    bool
	bbox   geo.Rect
	since  uint64 // resume after this sequence when resume is set
	resume bool
	epoch  string
	reqID  string
}

// key identifies subscriptions that see exactly the same diffs, so that
// clients sharing one get the same encoded frame.
func (s *subscription) key() string {
	return fmt.Sprintf("%v|%v", s.layers, s.bbox)
}

func (s *subscription) wants(layer string) bool {
	if s.all {
		return true
	}
	_, ok := slices.BinarySearch(s.layers, layer)
	return ok
}

// sees reports whether f is inside the subscription's view.
func (s *subscription) sees(f *layers.Feature) bool {
	if f == nil || !s.wants(f.Layer) {
		return false
	}
	if f.Bounds.MinX == f.Bounds.MaxX && f.Bounds.MinY == f.Bounds.MaxY {
		return s.bbox.ContainsPoint(f.Bounds.MinX, f.Bounds.MinY)
	}
	return geo.IntersectsRect(f.Geometry, s.bbox)
}

const maxSubscribedLayers = 64

func parseSubscription(m *clientMessage) (*subscription, error) {
	if len(m.Layers) == 0 {
		return nil, fmt.Errorf("subscribe: layers must name at least one layer (or \"*\" for all)")
	}
	if len(m.Layers) > maxSubscribedLayers {
		return nil, fmt.Errorf("subscribe: at most %d layers per subscription, got %d", maxSubscribedLayers, len(m.Layers))
	}
	s := &subscription{bbox: geo.World, epoch: m.Epoch, reqID: m.ID}
	for _, l := range m.Layers {
		if l == "*" {
			s.all = true
		}
	}
	if s.all {
		s.layers = []string{"*"}
	} else {
		s.layers = slices.Compact(slices.Sorted(slices.Values(m.Layers)))
	}
	if m.BBox != nil {
		r, err := geo.RectFromSlice(m.BBox)
		if err != nil {
			return nil, fmt.Errorf("subscribe: %w", err)
		}
		s.bbox = r
	}
	if m.Since != nil {
		s.since, s.resume = *m.Since, true
	}
	return s, nil
}

// snapshotLayers lists the layers a snapshot must read.
func (s *subscription) snapshotLayers(all func() []string) []string {
	if s.all {
		return all()
	}
	return s.layers
}

// encodeSnapshot builds a snapshot frame from the features' cached JSON.
func encodeSnapshot(snap layers.Snapshot, reqID string, truncated bool) []byte {
	size := 96
	for _, f := range snap.Features {
		size += len(f.JSON()) + 1
	}
	b := make([]byte, 0, size)
	b = append(b, `{"type":"snapshot","epoch":"`...)
	b = append(b, snap.Epoch...)
	b = append(b, `","seq":`...)
	b = strconv.AppendUint(b, snap.Seq, 10)
	b = appendReqID(b, reqID)
	if truncated {
		b = append(b, `,"truncated":true`...)
	}
	b = append(b, `,"features":[`...)
	for i, f := range snap.Features {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, f.JSON()...)
	}
	return append(b, "]}"...)
}

func appendReqID(b []byte, reqID string) []byte {
	if reqID == "" {
		return b
	}
	b = append(b, `,"id":`...)
	return layers.AppendJSONString(b, reqID)
}

// entityKey names one entity across layers without allocating.
type entityKey struct{ layer, id string }

// pendingDiff accumulates what one subscription must learn in one tick,
// latest state per entity. A nil feature is a delete.
type pendingDiff struct {
	states map[entityKey]*layers.Feature
	oldest int64 // unix nanos of the oldest change inside, 0 when empty
}

func (p *pendingDiff) add(c *layers.Change, f *layers.Feature) {
	if p.states == nil {
		p.states = make(map[entityKey]*layers.Feature)
	}
	p.states[entityKey{c.Layer(), c.ID()}] = f
	if at := c.At.UnixNano(); p.oldest == 0 || at < p.oldest {
		p.oldest = at
	}
}

func (p *pendingDiff) empty() bool { return len(p.states) == 0 }

func (p *pendingDiff) reset() {
	clear(p.states)
	p.oldest = 0
}

// encode writes the diff frame: upserts carry whole features, deletes only
// layer and id.
func (p *pendingDiff) encode(epoch string, seq uint64, reqID string) []byte {
	return p.appendTo(make([]byte, 0, p.size()), epoch, seq, reqID)
}

// size is the encoded length, give or take a few bytes.
func (p *pendingDiff) size() int {
	size := 128
	for k, f := range p.states {
		if f != nil {
			size += len(f.JSON()) + 1
		} else {
			size += len(k.layer) + len(k.id) + 32
		}
	}
	return size
}

// appendTo appends the diff frame to b.
func (p *pendingDiff) appendTo(b []byte, epoch string, seq uint64, reqID string) []byte {
	b = append(b, `{"type":"diff","epoch":"`...)
	b = append(b, epoch...)
	b = append(b, `","seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	b = appendReqID(b, reqID)
	b = append(b, `,"upserts":[`...)
	first := true
	for _, f := range p.states {
		if f == nil {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, f.JSON()...)
	}
	b = append(b, `],"deletes":[`...)
	first = true
	for k, f := range p.states {
		if f != nil {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, `{"layer":`...)
		b = layers.AppendJSONString(b, k.layer)
		b = append(b, `,"id":`...)
		b = layers.AppendJSONString(b, k.id)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// errorMessage is the non-fatal error a client gets for a bad request.
func errorMessage(code, msg, reqID string) []byte {
	b, _ := json.Marshal(struct {
		Type    string `json:"type"`
		Code    string `json:"code"`
		Message string `json:"message"`
		ID      string `json:"id,omitempty"`
	}{"error", code, msg, reqID})
	return b
}
