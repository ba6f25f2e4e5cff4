package incidents

import (
	"slices"

	"github.com/danang-ioc/ioc/layers"
)

// layerIndex holds the rules of one layer so that a change of an entity
// nothing is held for (no active condition, no sustained-since time: nearly
// every change) costs only the rules that can hold for its values. A
// threshold rule with a single condition "p >= x" or "p > x" is in a list
// per property sorted by x, so the rules a value satisfies are a prefix of
// it; one with a single "p == v" is found by the value. The other rules are
// evaluated on every change. A change of an entity that something is held
// for evaluates every rule, so that conditions clear.
type layerIndex struct {
	all     []*Rule                    // every rule, in file order
	other   []*Rule                    // rules in neither index
	fresh   []*Rule                    // other, less stale rules: what a fresh upsert of an unwatched entity can match
	above   map[string][]*Rule         // property -> single >=/> rules, by threshold
	equal   map[string]map[any][]*Rule // property -> value -> single == rules
	need    map[string]bool            // the properties the rules read
	scratch []*Rule
}

func newLayerIndex(rules []*Rule) *layerIndex {
	ix := &layerIndex{all: rules, above: map[string][]*Rule{}, equal: map[string]map[any][]*Rule{}, need: needs(rules)}
	for _, r := range rules {
		c := r.single()
		switch {
		case c != nil && c.kind == 'n' && (c.op == ">=" || c.op == ">"):
			ix.above[c.prop] = append(ix.above[c.prop], r)
		case c != nil && c.op == "==":
			if ix.equal[c.prop] == nil {
				ix.equal[c.prop] = map[any][]*Rule{}
			}
			ix.equal[c.prop][c.value()] = append(ix.equal[c.prop][c.value()], r)
		default:
			ix.other = append(ix.other, r)
			if r.Kind != KindStale {
				ix.fresh = append(ix.fresh, r)
			}
		}
	}
	for _, rs := range ix.above {
		slices.SortStableFunc(rs, func(a, b *Rule) int {
			ca, cb := &a.conds[0], &b.conds[0]
			if ca.num != cb.num {
				if ca.num < cb.num {
					return -1
				}
				return 1
			}
			if ca.op == cb.op {
				return 0
			}
			if ca.op == ">=" { // at the same x, >= holds for more values
				return -1
			}
			return 1
		})
	}
	return ix
}

// single returns the only condition of a plain threshold rule, or nil.
func (r *Rule) single() *cond {
	if r.Kind != KindThreshold || len(r.conds) != 1 || r.For != 0 {
		return nil
	}
	return &r.conds[0]
}

// value is the comparison value of an == condition, as decoded properties
// hold it.
func (c *cond) value() any {
	switch c.kind {
	case 'n':
		return c.num
	case 's':
		return c.str
	case 'b':
		return *c.bool
	}
	return nil
}

// candidates returns the rules to evaluate for v, in file order.
func (ix *layerIndex) candidates(v *view) []*Rule {
	if v.watched || v.c.Kind != layers.KindUpsert || (len(ix.above) == 0 && len(ix.equal) == 0) {
		return ix.all
	}
	out := ix.scratch[:0]
	if v.f.Stale {
		out = append(out, ix.other...)
	} else {
		out = append(out, ix.fresh...) // a stale rule only clears on a fresh upsert, and nothing is held
	}
	if props := v.properties(); props != nil {
		for prop, rs := range ix.above {
			if _, ok := props[prop].(float64); !ok {
				continue
			}
			for _, r := range rs {
				if h, _ := r.conds[0].holds(props); !h {
					break // sorted: no later rule holds either
				}
				out = append(out, r)
			}
		}
		for prop, byValue := range ix.equal {
			if val, ok := props[prop]; ok {
				out = append(out, byValue[val]...)
			}
		}
	}
	slices.SortFunc(out, func(a, b *Rule) int { return a.index - b.index })
	ix.scratch = out
	return out
}
