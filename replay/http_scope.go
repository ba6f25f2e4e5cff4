package replay

import (
	"fmt"
	"net/http"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers/access"
)

// The history routes answer only within the caller's scope (docs/SECURITY.md):
// a layer outside a layer-limited scope is refused with 403 (layer names are
// public); an entity with no record the scope sees answers 404, the same
// answer a scoped caller gets for an entity that never existed, so its
// existence is not disclosed.

// scopeOf returns the scope of the caller the auth middleware put in the
// request's context, or answers 401: no principal is never "unlimited".
func scopeOf(w http.ResponseWriter, r *http.Request) (*access.Scope, bool) {
	p, ok := access.FromContext(r.Context())
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ioc"`)
		writeError(w, http.StatusUnauthorized, "unauthenticated", "this endpoint needs a session or an API token")
		return nil, false
	}
	return p.Scope(), true
}

// layerInScope answers 403 when the scope does not hold layer.
func layerInScope(w http.ResponseWriter, sc *access.Scope, layer string) bool {
	if sc.SeesLayer(layer) {
		return true
	}
	writeError(w, http.StatusForbidden, "out_of_scope", fmt.Sprintf("layer %q is outside your scope", layer))
	return false
}

// recordSeen reports whether the scope sees an observed record: its layer,
// then its exact geometry (the bounding box only prefilters).
func recordSeen(sc *access.Scope, rec *Record) bool {
	if !sc.SeesLayer(rec.Layer) {
		return false
	}
	if !sc.AreaLimited() {
		return true
	}
	b := rec.Rect()
	if !sc.SeesRect(b) {
		return false
	}
	g, err := geo.Decode(rec.Geometry)
	return err == nil && sc.Sees(b, g)
}

// filterHistory keeps one entity's records the scope sees, in time order. A
// deletion has no geometry: it is kept when the state before it was, so a
// scoped caller learns of a deletion only of what it saw.
func filterHistory(recs []Record, sc *access.Scope) []Record {
	if sc.IsUnlimited() {
		return recs
	}
	kept, prevSeen := recs[:0], false
	for i := range recs {
		seen := prevSeen
		if recs[i].Observed() {
			seen = recordSeen(sc, &recs[i])
			prevSeen = seen
		} else {
			prevSeen = false
		}
		if seen {
			kept = append(kept, recs[i])
		}
	}
	return kept
}

// filterState keeps the states the scope sees.
func filterState(recs []Record, sc *access.Scope) []Record {
	if sc.IsUnlimited() {
		return recs
	}
	kept := recs[:0]
	for i := range recs {
		if recordSeen(sc, &recs[i]) {
			kept = append(kept, recs[i])
		}
	}
	return kept
}

// stateLayers confines a state query's layers to the scope: a named layer
// outside it is refused, none named means the scope's layers (nil: all).
func stateLayers(w http.ResponseWriter, sc *access.Scope, names []string) ([]string, bool) {
	if len(names) == 0 {
		return sc.Layers(), true
	}
	for _, l := range names {
		if !layerInScope(w, sc, l) {
			return nil, false
		}
	}
	return names, true
}

func notInScope(w http.ResponseWriter, layer, id string) {
	writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no history of entity %q in layer %q within your scope", id, layer))
}
