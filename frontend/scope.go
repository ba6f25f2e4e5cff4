package frontend

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/layers/access"
)

// principalOf returns the caller the auth middleware put in the request's
// context, or answers 401: a request without one is unauthenticated and is
// never treated as unlimited (docs/SECURITY.md).
func principalOf(w http.ResponseWriter, r *http.Request) (*access.Principal, bool) {
	p, ok := access.FromContext(r.Context())
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ioc"`)
		writeError(w, http.StatusUnauthorized, "unauthenticated", "this endpoint needs a session or an API token")
		return nil, false
	}
	return p, true
}

// scopeOf is principalOf's scope.
func scopeOf(w http.ResponseWriter, r *http.Request) (*access.Scope, bool) {
	p, ok := principalOf(w, r)
	if !ok {
		return nil, false
	}
	return p.Scope(), true
}

// errOutOfScope is a subscription naming a layer the scope does not hold.
type errOutOfScope struct{ layer string }

func (e errOutOfScope) Error() string {
	return fmt.Sprintf("subscribe: layer %q is outside your scope", e.layer)
}

// limitTo confines the subscription to a scope. A layer-limited scope
// refuses a subscription naming a layer outside it (the client asked for
// something it may not have, and should know), and narrows "*" to the
// scope's layers. An area-limited scope clips the viewport to the scope's
// bounds and turns clusters off: a cluster cell's totals are shared by
// every subscriber and count features outside the scope, so a scoped
// client gets the raw features of its area instead.
func (s *subscription) limitTo(sc *access.Scope) error {
	if sc == nil || sc.IsUnlimited() {
		return nil
	}
	if layersOf := sc.Layers(); layersOf != nil {
		if s.all {
			s.all, s.layers = false, layersOf
		} else {
			for _, l := range s.layers {
				if !sc.SeesLayer(l) {
					return errOutOfScope{l}
				}
			}
		}
	}
	if sc.AreaLimited() {
		s.clustered, s.gridZoom, s.cells = nil, 0, cellRange{}
		if clipped, ok := sc.Clip(s.bbox); ok {
			s.bbox = clipped
		}
	}
	s.scope = sc
	spec, _ := json.Marshal(sc.Spec()) // a spec is plain data: Marshal cannot fail
	s.scopeKey = string(spec)
	return nil
}

// filterScope keeps the features the scope sees, in place.
func filterScope(fs []*layers.Feature, sc *access.Scope) []*layers.Feature {
	if sc.IsUnlimited() {
		return fs
	}
	kept := fs[:0]
	for _, f := range fs {
		if sc.SeesFeature(f) {
			kept = append(kept, f)
		}
	}
	return kept
}

// filterHits keeps the hits the scope sees, in place.
func filterHits(hits []layers.Hit, sc *access.Scope) []layers.Hit {
	if sc.IsUnlimited() {
		return hits
	}
	return slices.DeleteFunc(hits, func(h layers.Hit) bool { return !sc.SeesFeature(h.Feature) })
}

// encodedFeature is what scopeFrame reads of a feature in a frame.
type encodedFeature struct {
	ID       string          `json:"id"`
	Layer    string          `json:"layer"`
	Geometry json.RawMessage `json:"geometry"`
}

// seesEncoded reports whether the scope sees an encoded feature, and its
// layer and id (for the delete that replaces it when not).
func seesEncoded(sc *access.Scope, raw []byte) (ef encodedFeature, seen bool) {
	if err := json.Unmarshal(raw, &ef); err != nil || !sc.SeesLayer(ef.Layer) {
		return ef, false
	}
	if !sc.AreaLimited() {
		return ef, true
	}
	g, err := geo.Decode(ef.Geometry)
	if err != nil {
		return ef, false
	}
	return ef, sc.Sees(geo.BoundsOf(g), g)
}

// replayFilter filters the frames of one replay session (produced outside
// the hub) to what a scope sees. It remembers which entities the client
// was sent, so that, as in the live push, an entity leaving the scope
// becomes a delete and a delete reaches the client only for an entity it
// holds: the ids of entities outside the scope are never disclosed.
type replayFilter struct {
	sc   *access.Scope
	mu   sync.Mutex
	sent map[entityKey]bool
}

func newReplayFilter(sc *access.Scope) *replayFilter {
	return &replayFilter{sc: sc, sent: make(map[entityKey]bool)}
}

// frame filters one snapshot or diff frame. A frame that is not a JSON
// object is dropped whole (fail closed: nil).
func (rf *replayFilter) frame(frame []byte) []byte {
	if rf.sc.IsUnlimited() {
		return frame
	}
	rf.mu.Lock()
	defer rf.mu.Unlock()
	var deletes [][]byte
	out := make([]byte, 0, len(frame))
	out = append(out, '{')
	first := true
	eachMember(frame, func(key, val []byte) bool {
		k := unquote(key)
		if k == "deletes" {
			deletes = append(deletes, rf.deletes(val)...)
			return true // written last, with the upserts that left the scope
		}
		if k == "type" && unquote(val) == "snapshot" {
			clear(rf.sent) // a snapshot replaces what the client holds
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, key...)
		out = append(out, ':')
		if k != "features" && k != "upserts" {
			out = append(out, val...)
			return true
		}
		out = append(out, '[')
		n := 0
		eachElement(val, func(f []byte) {
			ef, seen := seesEncoded(rf.sc, f)
			key := entityKey{ef.Layer, ef.ID}
			if !seen {
				if rf.sent[key] {
					delete(rf.sent, key)
					deletes = append(deletes, deleteJSON(ef.Layer, ef.ID))
				}
				return
			}
			rf.sent[key] = true
			if n > 0 {
				out = append(out, ',')
			}
			n++
			out = append(out, f...)
		})
		out = append(out, ']')
		return true
	})
	if first {
		return nil
	}
	if len(deletes) > 0 || bytes.Contains(frame, []byte(`"deletes"`)) {
		out = append(out, `,"deletes":[`...)
		out = append(out, bytes.Join(deletes, []byte{','})...)
		out = append(out, ']')
	}
	return append(out, '}')
}

// deletes keeps the deletes of entities the client was sent.
func (rf *replayFilter) deletes(arr []byte) [][]byte {
	var kept [][]byte
	eachElement(arr, func(d []byte) {
		var ef encodedFeature
		if json.Unmarshal(d, &ef) != nil {
			return
		}
		if key := (entityKey{ef.Layer, ef.ID}); rf.sent[key] {
			delete(rf.sent, key)
			kept = append(kept, d)
		}
	})
	return kept
}

func deleteJSON(layer, id string) []byte {
	b := []byte(`{"layer":`)
	b = layers.AppendJSONString(b, layer)
	b = append(b, `,"id":`...)
	b = layers.AppendJSONString(b, id)
	return append(b, '}')
}
