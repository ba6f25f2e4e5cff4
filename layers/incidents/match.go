package incidents

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tidwall/rtree"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
)

// match is a rule that now holds for an entity: the evidence to file and
// the key under which the condition stays active until it clears.
type match struct {
	rule     *Rule
	lon, lat float64
	at       time.Time // observation time
	evidence []Evidence
	keys     []condKey // active conditions this match holds
	until    time.Time // for count rules: the condition clears by itself then
	group    string    // for count rules with groupBy: the group's value
}

// outcome is what one rule says about one change.
type outcome struct {
	m       *match
	clear   condKey // an active condition that no longer holds, when cleared
	cleared bool
}

// condKey names the condition of one rule on one entity. It is built
// for every rule a change is evaluated against, so it holds the strings
// of the feature rather than a concatenation: building it allocates
// nothing.
type condKey struct {
	rule      *Rule
	layer, id string
}

// entityKey names an entity; refs count, per entity, the state held for
// it, so that a change of an entity nothing is held for (nearly all of
// them) costs no per-rule map lookups.
type entityKey struct{ layer, id string }

func (k condKey) entity() entityKey { return entityKey{k.layer, k.id} }

type refs map[entityKey]int

func (r refs) add(k entityKey) { r[k]++ }

func (r refs) drop(k entityKey) {
	if r[k] <= 1 {
		delete(r, k)
		return
	}
	r[k]--
}

func key(r *Rule, layer, id string) condKey { return condKey{r, layer, id} }

func cleared(k condKey) outcome { return outcome{clear: k, cleared: true} }

// view is one change as the rules see it: the feature and its decoded
// properties, decoded at most once whatever the number of rules.
type view struct {
	watched bool // some rule state or active condition is held for the entity
	c       *layers.Change
	f       *layers.Feature
	props   map[string]any  // reused from change to change: it holds only this one's
	need    map[string]bool // the properties the layer's rules read
	err     error
	done    bool
}

func (v *view) properties() map[string]any {
	if !v.done {
		v.done = true
		if v.err = extract(v.f.Properties, v.need, v.props); v.err != nil || len(v.f.Properties) == 0 {
			v.props = nil
		}
	}
	return v.props
}

// center is the representative position of a feature: a point itself, else
// the centre of its bounds.
func center(f *layers.Feature) (float64, float64) {
	b := f.Bounds
	return (b.MinX + b.MaxX) / 2, (b.MinY + b.MaxY) / 2
}

// ruleState is what the rules remember between changes: when a sustained
// condition began, recent readings for rates, recent entities for counts.
// All of it is bounded by the entities that currently match or are being
// watched, and all of it is lost on restart (documented).
type ruleState struct {
	since  map[condKey]time.Time // threshold with For: condition began
	rates  map[condKey]*samples  // rate: recent readings
	refs   refs                  // entries of since per entity
	counts map[string]*counter   // count: rule name -> recent entities
}

func newRuleState() *ruleState {
	return &ruleState{since: map[condKey]time.Time{}, rates: map[condKey]*samples{}, counts: map[string]*counter{}, refs: refs{}}
}

// forget drops what is remembered about an entity that was deleted.
func (s *ruleState) forget(k condKey) {
	s.unsince(k)
	delete(s.rates, k)
}

func (s *ruleState) unsince(k condKey) {
	if _, ok := s.since[k]; ok {
		delete(s.since, k)
		s.refs.drop(k.entity())
	}
}

// eval applies rule r to the change v.
func (s *ruleState) eval(r *Rule, v *view) outcome {
	c := v.c
	k := key(r, c.Layer(), c.ID())
	if c.Kind == layers.KindDelete {
		s.forget(k)
		return cleared(k)
	}
	switch r.Kind {
	case KindThreshold:
		return s.threshold(r, v, k)
	case KindRate:
		return s.rate(r, v, k)
	case KindStale:
		return s.stale(r, v, k)
	case KindCount:
		return s.count(r, v)
	}
	return outcome{}
}

func (s *ruleState) threshold(r *Rule, v *view, k condKey) outcome {
	if v.c.Kind != layers.KindUpsert || v.properties() == nil {
		return outcome{}
	}
	holds, known := allHold(r.conds, v.props)
	if !known {
		return outcome{}
	}
	if !holds {
		if !v.watched {
			return outcome{} // nothing held for the entity: nothing to clear
		}
		s.unsince(k)
		return cleared(k)
	}
	summary := condSummary(r.conds, v.props)
	if r.For > 0 {
		began, ok := s.since[k]
		if !ok {
			s.refs.add(k.entity())
		}
		if !ok || v.f.Time.Before(began) {
			began = v.f.Time
			s.since[k] = began
		}
		if held := v.f.Time.Sub(began); held < r.For.D() {
			return outcome{}
		}
		summary += fmt.Sprintf(" for %v since %s", r.For.D(), began.UTC().Format(time.RFC3339))
	}
	return outcome{m: single(r, v, k, summary)}
}

func (s *ruleState) stale(r *Rule, v *view, k condKey) outcome {
	switch v.c.Kind {
	case layers.KindStale:
		if len(r.conds) > 0 {
			if holds, _ := allHold(r.conds, v.properties()); !holds {
				return outcome{}
			}
		}
		last := v.f.Time.UTC().Format(time.RFC3339)
		return outcome{m: single(r, v, k, "no report since "+last)}
	case layers.KindUpsert:
		if !v.f.Stale && v.watched {
			return cleared(k)
		}
	}
	return outcome{}
}

func single(r *Rule, v *view, k condKey, summary string) *match {
	lon, lat := center(v.f)
	return &match{
		rule: r, lon: lon, lat: lat, at: v.f.Time, keys: []condKey{k},
		evidence: []Evidence{{Layer: v.f.Layer, ID: v.f.ID, Time: v.f.Time, Rule: r.Name, Summary: summary,
			Lon: roundCoord(lon), Lat: roundCoord(lat)}},
	}
}

// condSummary shows the values that made the conditions hold, e.g.
// "warningLevel 2 (>= 2)".
func condSummary(conds []cond, props map[string]any) string {
	parts := make([]string, 0, len(conds))
	for i := range conds {
		c := &conds[i]
		parts = append(parts, fmt.Sprintf("%s %v (%s)", c.prop, props[c.prop], strings.TrimPrefix(c.String(), c.prop+" ")))
	}
	return strings.Join(parts, ", ")
}

// samples are one entity's recent readings of a rate rule's property.
type samples struct {
	t []time.Time
	v []float64
}

// maxSamples bounds the readings a rate rule keeps per entity.
const maxSamples = 256

func (s *ruleState) rate(r *Rule, v *view, k condKey) outcome {
	if v.c.Kind != layers.KindUpsert || v.properties() == nil {
		return outcome{}
	}
	if holds, known := allHold(r.conds, v.props); len(r.conds) > 0 && (!holds || !known) {
		return outcome{}
	}
	val, ok := v.props[r.Property].(float64)
	if !ok {
		return outcome{}
	}
	sm := s.rates[k]
	if sm == nil {
		sm = &samples{}
		s.rates[k] = sm
	}
	sm.add(v.f.Time, val, r.Window.D())
	perHour, ok := sm.perHour(r.Window.D())
	if !ok {
		return outcome{}
	}
	if (r.PerHour > 0 && perHour < r.PerHour) || (r.PerHour < 0 && perHour > r.PerHour) {
		return cleared(k)
	}
	summary := fmt.Sprintf("%s %+.1f/h over %v (threshold %+g/h)", r.Property, perHour, sm.span(), r.PerHour)
	return outcome{m: single(r, v, k, summary)}
}

// add keeps readings in time order within window of the newest. A reading
// older than the newest is placed where it belongs.
func (sm *samples) add(t time.Time, v float64, window time.Duration) {
	i := len(sm.t)
	for i > 0 && sm.t[i-1].After(t) {
		i--
	}
	if i > 0 && sm.t[i-1].Equal(t) {
		sm.v[i-1] = v // a resend replaces
	} else {
		sm.t = append(sm.t[:i], append([]time.Time{t}, sm.t[i:]...)...)
		sm.v = append(sm.v[:i], append([]float64{v}, sm.v[i:]...)...)
	}
	newest := sm.t[len(sm.t)-1]
	drop := 0
	for drop < len(sm.t)-1 && (newest.Sub(sm.t[drop]) > window || len(sm.t)-drop > maxSamples) {
		drop++
	}
	sm.t, sm.v = sm.t[drop:], sm.v[drop:]
}

func (sm *samples) span() time.Duration { return sm.t[len(sm.t)-1].Sub(sm.t[0]) }

// perHour is the change from the oldest to the newest reading per hour,
// once the readings span at least a third of the window: two readings a
// minute apart say nothing about an hourly rate.
func (sm *samples) perHour(window time.Duration) (float64, bool) {
	span := sm.span()
	if len(sm.t) < 2 || span < window/3 || span <= 0 {
		return 0, false
	}
	return (sm.v[len(sm.v)-1] - sm.v[0]) / span.Hours(), true
}

// counter holds the recent entities of a count rule, in an R-tree for the
// radius search and in arrival order for expiry.
type counter struct {
	tree  rtree.RTreeG[*item]
	byID  map[string]*item
	queue []*item
}

type item struct {
	id, group string
	lon, lat  float64
	at        time.Time
}

// maxCounted bounds the entities one count rule holds; beyond it the
// oldest are dropped first.
const maxCounted = 100000

func (s *ruleState) count(r *Rule, v *view) outcome {
	if v.c.Kind != layers.KindUpsert || v.properties() == nil {
		return outcome{}
	}
	if holds, _ := allHold(r.conds, v.props); !holds {
		return outcome{}
	}
	group := ""
	if r.GroupBy != "" {
		g, ok := v.props[r.GroupBy].(string)
		if !ok {
			return outcome{}
		}
		group = g
	}
	ct := s.counts[r.Name]
	if ct == nil {
		ct = &counter{byID: map[string]*item{}}
		s.counts[r.Name] = ct
	}
	if _, seen := ct.byID[v.f.ID]; seen {
		return outcome{} // an update of an entity already counted
	}
	lon, lat := center(v.f)
	it := &item{id: v.f.ID, group: group, lon: lon, lat: lat, at: v.f.Time}
	ct.expire(it.at.Add(-r.Window.D()))
	ct.insert(it)
	near := ct.near(it, r)
	if len(near) < r.Count {
		return outcome{}
	}
	return outcome{m: clusterMatch(r, v.f.Layer, it, near)}
}

func (ct *counter) insert(it *item) {
	ct.byID[it.id] = it
	ct.queue = append(ct.queue, it)
	ct.tree.Insert([2]float64{it.lon, it.lat}, [2]float64{it.lon, it.lat}, it)
	if len(ct.queue) > maxCounted {
		ct.drop(1)
	}
}

// expire drops entities that arrived before cutoff. The queue is in
// arrival order; observation times are nearly so, and an entity that
// arrives late is judged by its own time in near anyway.
func (ct *counter) expire(cutoff time.Time) {
	n := 0
	for n < len(ct.queue) && ct.queue[n].at.Before(cutoff) {
		n++
	}
	ct.drop(n)
}

func (ct *counter) drop(n int) {
	for _, it := range ct.queue[:n] {
		ct.tree.Delete([2]float64{it.lon, it.lat}, [2]float64{it.lon, it.lat}, it)
		delete(ct.byID, it.id)
	}
	ct.queue = append(ct.queue[:0], ct.queue[n:]...)
}

// near returns the entities of it's group within the rule's radius and
// window of it, it included, oldest first.
func (ct *counter) near(it *item, r *Rule) []*item {
	p := geo.NewProjection(it.lon, it.lat)
	b := geo.CircleBounds(it.lon, it.lat, r.Radius)
	var out []*item
	ct.tree.Search(b.Min(), b.Max(), func(_, _ [2]float64, o *item) bool {
		dt := it.at.Sub(o.at)
		if o.group == it.group && dt.Abs() <= r.Window.D() && p.RectDistance(pointRect(o.lon, o.lat)) <= r.Radius {
			out = append(out, o)
		}
		return true
	})
	sortItems(out)
	return out
}

func clusterMatch(r *Rule, layer string, newest *item, near []*item) *match {
	m := &match{rule: r, lon: newest.lon, lat: newest.lat, at: newest.at, group: newest.group}
	summary := fmt.Sprintf("%d reports within %gm and %v", len(near), r.Radius, r.Window.D())
	if newest.group != "" {
		summary = fmt.Sprintf("%d %s reports within %gm and %v", len(near), newest.group, r.Radius, r.Window.D())
	}
	for _, o := range near {
		m.evidence = append(m.evidence, Evidence{Layer: layer, ID: o.id, Time: o.at, Rule: r.Name, Summary: summary,
			Lon: roundCoord(o.lon), Lat: roundCoord(o.lat)})
		m.keys = append(m.keys, key(r, layer, o.id))
		if t := o.at.Add(r.Window.D()); t.After(m.until) {
			m.until = t
		}
	}
	return m
}

func sortItems(items []*item) {
	slices.SortFunc(items, func(a, b *item) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
}
