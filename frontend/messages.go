package frontend

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/layers/access"
)

// clientMessage is any message a client sends; Type selects the meaning.
type clientMessage struct {
	Type   string    `json:"type"`
	Layers []string  `json:"layers"`
	BBox   []float64 `json:"bbox"`
	Since  *uint64   `json:"since"`
	Epoch  string    `json:"epoch"`
	ID     string    `json:"id"` // echoed in the reply so a client can match it
	// Zoom and Properties shape what a subscription receives: clusters
	// below a layer's cluster zoom, and only the properties named.
	Zoom       *float64            `json:"zoom"`
	Properties map[string][]string `json:"properties"`
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

	// clustered lists (sorted) the layers sent as clusters of the grid at
	// gridZoom, over the cells in cells; empty when none is.
	clustered []string
	gridZoom  int
	cells     cellRange
	props     *propSelection // nil: every property

	// scope limits what the subscriber may see (nil: unlimited); scopeKey
	// keeps clients of different scopes out of one shared frame.
	scope    *access.Scope
	scopeKey string
}

// key identifies subscriptions that see exactly the same diffs, so that
// clients sharing one get the same encoded frame.
func (s *subscription) key() string {
	gz := -1
	if len(s.clustered) > 0 {
		gz = s.gridZoom
	}
	pk := ""
	if s.props != nil {
		pk = s.props.key
	}
	return fmt.Sprintf("%v|%v|%d|%s|%s", s.layers, s.bbox, gz, pk, s.scopeKey)
}

// clusters reports whether the subscription gets layer as clusters.
func (s *subscription) clusters(layer string) bool {
	if len(s.clustered) == 0 {
		return false
	}
	_, ok := slices.BinarySearch(s.clustered, layer)
	return ok
}

func (s *subscription) wants(layer string) bool {
	if s.all {
		return true
	}
	_, ok := slices.BinarySearch(s.layers, layer)
	return ok
}

// sees reports whether the subscription gets f as a raw feature: of a
// layer it wants and does not cluster, inside its view and its scope.
func (s *subscription) sees(f *layers.Feature) bool {
	if f == nil || !s.wants(f.Layer) || s.clusters(f.Layer) {
		return false
	}
	if f.Bounds.MinX == f.Bounds.MaxX && f.Bounds.MinY == f.Bounds.MaxY {
		if !s.bbox.ContainsPoint(f.Bounds.MinX, f.Bounds.MinY) {
			return false
		}
	} else if !geo.IntersectsRect(f.Geometry, s.bbox) {
		return false
	}
	return s.scope == nil || s.scope.SeesFeature(f)
}

const maxSubscribedLayers = 64

func parseSubscription(m *clientMessage, specs map[string]ClusterSpec) (*subscription, error) {
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
	var err error
	if s.props, err = parsePropSelection(m.Properties); err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	if m.Zoom != nil {
		if err := s.setZoom(*m.Zoom, specs); err != nil {
			return nil, fmt.Errorf("subscribe: %w", err)
		}
	}
	return s, nil
}

// setZoom picks the layers clustered at the map's zoom and checks that
// the viewport spans a bounded number of cells.
func (s *subscription) setZoom(zoom float64, specs map[string]ClusterSpec) error {
	if zoom < 0 || zoom > maxMapZoom {
		return fmt.Errorf("zoom %g: want a map zoom level in [0, %d]", zoom, maxMapZoom)
	}
	for name, spec := range specs {
		if spec.Zoom > 0 && zoom < float64(spec.Zoom) && s.wants(name) {
			s.clustered = append(s.clustered, name)
		}
	}
	if len(s.clustered) == 0 {
		return nil
	}
	slices.Sort(s.clustered)
	s.gridZoom = gridZoomFor(zoom)
	s.cells = rangeOf(s.bbox, s.gridZoom)
	if n := s.cells.count(); n > maxClusterCells {
		return fmt.Errorf("bbox %v: at zoom %g it spans %d cluster cells, at most %d (send the map's viewport)", s.bbox, zoom, n, maxClusterCells)
	}
	return nil
}

// snapshotLayers lists the layers a snapshot must read.
func (s *subscription) snapshotLayers(all func() []string) []string {
	if s.all {
		return all()
	}
	return s.layers
}

// snapshotFrame is what a snapshot carries: raw features (their
// properties selected by sel) and encoded cluster features.
type snapshotFrame struct {
	epoch     string
	seq       uint64
	reqID     string
	truncated bool
	features  []*layers.Feature
	clusters  [][]byte
	sel       *propSelection
}

// encode builds the snapshot frame from the features' cached JSON.
func (s *snapshotFrame) encode() []byte {
	size := 96
	for _, f := range s.features {
		size += len(f.JSON()) + 1
	}
	for _, c := range s.clusters {
		size += len(c) + 1
	}
	b := make([]byte, 0, size)
	b = append(b, `{"type":"snapshot","epoch":"`...)
	b = append(b, s.epoch...)
	b = append(b, `","seq":`...)
	b = strconv.AppendUint(b, s.seq, 10)
	b = appendReqID(b, s.reqID)
	if s.truncated {
		b = append(b, `,"truncated":true`...)
	}
	b = append(b, `,"features":[`...)
	for i, f := range s.features {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendSelected(b, f, s.sel)
	}
	for i, c := range s.clusters {
		if i > 0 || len(s.features) > 0 {
			b = append(b, ',')
		}
		b = append(b, c...)
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
// latest state per entity.
type pendingDiff struct {
	states map[entityKey]diffEntry
	oldest int64 // unix nanos of the oldest change inside, 0 when empty
}

// diffEntry is an entity's latest state: a raw feature, an encoded cluster
// feature, or (both nil) a delete.
type diffEntry struct {
	f       *layers.Feature
	cluster []byte
}

func (e diffEntry) deleted() bool { return e.f == nil && e.cluster == nil }

func (p *pendingDiff) add(c *layers.Change, f *layers.Feature) {
	p.set(entityKey{c.Layer(), c.ID()}, diffEntry{f: f}, c.At.UnixNano())
}

// addCluster adds a cell's cluster feature, or its delete when encoded is
// nil.
func (p *pendingDiff) addCluster(layer, id string, encoded []byte, at int64) {
	p.set(entityKey{layer, id}, diffEntry{cluster: encoded}, at)
}

func (p *pendingDiff) set(k entityKey, e diffEntry, at int64) {
	if p.states == nil {
		p.states = make(map[entityKey]diffEntry)
	}
	p.states[k] = e
	if p.oldest == 0 || at < p.oldest {
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
func (p *pendingDiff) encode(epoch string, seq uint64, reqID string, sel *propSelection) []byte {
	return p.appendTo(make([]byte, 0, p.size()), epoch, seq, reqID, sel)
}

// size is the encoded length, give or take a few bytes.
func (p *pendingDiff) size() int {
	size := 128
	for k, e := range p.states {
		switch {
		case e.f != nil:
			size += len(e.f.JSON()) + 1
		case e.cluster != nil:
			size += len(e.cluster) + 1
		default:
			size += len(k.layer) + len(k.id) + 32
		}
	}
	return size
}

// appendTo appends the diff frame to b.
func (p *pendingDiff) appendTo(b []byte, epoch string, seq uint64, reqID string, sel *propSelection) []byte {
	b = append(b, `{"type":"diff","epoch":"`...)
	b = append(b, epoch...)
	b = append(b, `","seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	b = appendReqID(b, reqID)
	b = append(b, `,"upserts":[`...)
	first := true
	for _, e := range p.states {
		if e.deleted() {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		if e.cluster != nil {
			b = append(b, e.cluster...)
		} else {
			b = appendSelected(b, e.f, sel)
		}
	}
	b = append(b, `],"deletes":[`...)
	first = true
	for k, e := range p.states {
		if !e.deleted() {
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
