package layers

import (
	"math"
	"slices"

	"github.com/danang-ioc/ioc/geo"
)

// Get returns the entity's current feature, or nil.
func (l *Layer) Get(id string) *Feature {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if e := l.byID[id]; e != nil {
		return e.f
	}
	return nil
}

// Len returns the number of entities in the layer.
func (l *Layer) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.byID)
}

// InRect appends to dst the features that intersect r, at most limit of
// them when limit > 0. The R-tree prefilters; an exact test follows for
// everything whose box is not inside r (never for points, whose box is the
// point itself).
func (l *Layer) InRect(dst []*Feature, r geo.Rect, limit int) []*Feature {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.inRect(dst, r, limit)
}

func (l *Layer) inRect(dst []*Feature, r geo.Rect, limit int) []*Feature {
	l.index.Search(r.Min(), r.Max(), func(min, max [2]float64, f *Feature) bool {
		// Decided from the box the R-tree holds when possible, so that
		// the feature itself is not loaded from memory.
		if r.Contains(box(min, max)) || geo.IntersectsRect(f.Geometry, r) {
			dst = append(dst, f)
		}
		return limit <= 0 || len(dst) < limit
	})
	return dst
}

func box(min, max [2]float64) geo.Rect {
	return geo.Rect{MinX: min[0], MinY: min[1], MaxX: max[0], MaxY: max[1]}
}

// distance is the exact distance from p's centre to an R-tree item. A
// geometry whose box is a single point (a Point, or anything collapsed onto
// one position) lies at that point, and its distance comes from the box
// without loading the feature.
func distance(p geo.Projection, min, max [2]float64, f *Feature) float64 {
	if min == max {
		return p.RectDistance(box(min, max))
	}
	return p.Distance(f.Geometry)
}

// InArea appends the features that intersect a polygonal area.
func (l *Layer) InArea(dst []*Feature, a *geo.Area, limit int) []*Feature {
	l.mu.RLock()
	defer l.mu.RUnlock()
	l.index.Search(a.Bounds.Min(), a.Bounds.Max(), func(_, _ [2]float64, f *Feature) bool {
		if a.Intersects(f.Geometry) {
			dst = append(dst, f)
		}
		return limit <= 0 || len(dst) < limit
	})
	return dst
}

// Hit is a feature with its distance in metres from a query point.
type Hit struct {
	Feature  *Feature
	Distance float64
}

// Within returns the features within radius metres of (lon, lat), nearest
// first.
func (l *Layer) Within(lon, lat, radius float64, limit int) []Hit {
	p := geo.NewProjection(lon, lat)
	r := geo.CircleBounds(lon, lat, radius)
	var hits []Hit
	l.mu.RLock()
	l.index.Search(r.Min(), r.Max(), func(min, max [2]float64, f *Feature) bool {
		if d := distance(p, min, max, f); d <= radius {
			hits = append(hits, Hit{f, d})
		}
		return true
	})
	l.mu.RUnlock()
	sortHits(hits)
	if limit > 0 && len(hits) > limit {
		hits = hits[:limit]
	}
	return hits
}

// Nearest returns the k features nearest to (lon, lat), nearest first, no
// further than maxDist metres when maxDist > 0. Boxes order the R-tree walk;
// leaves are ranked by exact distance, so lines and polygons rank correctly.
func (l *Layer) Nearest(lon, lat float64, k int, maxDist float64) []Hit {
	if k <= 0 {
		return nil
	}
	if maxDist <= 0 {
		maxDist = math.Inf(1)
	}
	p := geo.NewProjection(lon, lat)
	hits := make([]Hit, 0, k)
	l.mu.RLock()
	defer l.mu.RUnlock()
	l.index.Nearby(func(min, max [2]float64, f *Feature, item bool) float64 {
		if item {
			return distance(p, min, max, f)
		}
		return p.RectDistance(box(min, max))
	}, func(_, _ [2]float64, f *Feature, d float64) bool {
		if d > maxDist {
			return false
		}
		hits = append(hits, Hit{f, d})
		return len(hits) < k
	})
	return hits
}

// Nearest merges the k nearest features of several layers.
func (s *Store) Nearest(names []string, lon, lat float64, k int, maxDist float64) []Hit {
	var all []Hit
	for i, name := range names {
		if slices.Contains(names[:i], name) {
			continue // a repeated name would repeat its hits
		}
		if l := s.Layer(name); l != nil {
			all = append(all, l.Nearest(lon, lat, k, maxDist)...)
		}
	}
	sortHits(all)
	if len(all) > k {
		all = all[:k]
	}
	return all
}

func sortHits(h []Hit) {
	slices.SortStableFunc(h, func(a, b Hit) int {
		switch {
		case a.Distance < b.Distance:
			return -1
		case a.Distance > b.Distance:
			return 1
		}
		return 0
	})
}

// Snapshot is the state of some layers at one point of the change stream:
// every change up to Seq to these layers is reflected, none after it.
type Snapshot struct {
	Epoch    string
	Seq      uint64
	Features []*Feature
}

// Snapshot collects the features of the named layers that intersect r. It
// holds the layers' read locks together, in name order, so that Seq is an
// exact cut of the change stream for them. Duplicate names are allowed.
func (s *Store) Snapshot(names []string, r geo.Rect) Snapshot {
	// Holding s.mu keeps new layers from appearing between the lookup and
	// the cut: a layer created later only has changes after Seq.
	s.mu.RLock()
	defer s.mu.RUnlock()
	// Each layer is read-locked once: a second RLock of the same layer
	// would wait behind a writer queued on the first and deadlock.
	var ls []*Layer
	for _, name := range slices.Compact(slices.Sorted(slices.Values(names))) {
		if l := s.layers[name]; l != nil {
			ls = append(ls, l)
		}
	}
	for _, l := range ls {
		l.mu.RLock()
	}
	snap := Snapshot{Epoch: s.epoch, Seq: s.log.Last()}
	// Size the result up front for the layers r covers whole (a client
	// without a viewport), instead of growing and copying it many times.
	n := 0
	for _, l := range ls {
		if min, max := l.index.Bounds(); r.Contains(box(min, max)) {
			n += l.index.Len()
		}
	}
	if n > 0 {
		snap.Features = make([]*Feature, 0, n)
	}
	for _, l := range ls {
		snap.Features = l.inRect(snap.Features, r, 0)
	}
	for _, l := range ls {
		l.mu.RUnlock()
	}
	return snap
}
