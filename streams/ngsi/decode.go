package ngsi

import (
	"slices"
	"strings"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
)

// decoder turns the entities of one request into layer events. It is not
// safe for concurrent use: each request has its own.
type decoder struct {
	cfg    *Config
	routes map[string]Route
	names  map[string]string // the known types, see parseOptions.names
	mem    *memory
	now    time.Time
	v2     bool         // NGSI v2 (geo:point strings, no null deletes)
	opt    parseOptions // how entities are read
	// partial lets a merge apply the good attributes of a fragment and
	// report the others (NGSI-LD PATCH); otherwise one bad attribute
	// refuses the entity.
	partial bool
	// decoded holds the states decoded earlier in the request, so that an
	// entity may be placed at a device sent in the same batch; batch
	// indexes them by id, built on the first lookup.
	decoded []*state
	batch   map[string]*state
	ent     entity         // reused for every entity of the request
	slab    []layers.Event // events are cut from it, to allocate fewer
	// lastTime caches the last timestamp parsed: the attributes of an
	// entity often share one observedAt.
	lastTimeRaw []byte
	lastTime    time.Time
}

// parse reads the entity at the start of b into the decoder's reusable
// entity, valid until the next call, and returns the offset after it.
func (d *decoder) parse(b []byte, opt parseOptions) (*entity, int, *streams.EventError) {
	opt.names = d.names
	n, err := parse(&d.ent, b, opt)
	return &d.ent, n, err
}

// result is what became of one entity of a request.
type result struct {
	id         string
	events     []layers.Event
	state      *state // remembered once the events are accepted
	forget     bool   // a delete: the entity is forgotten once accepted
	err        *streams.EventError
	updated    []string    // partial updates: attributes applied
	notUpdated []attrError // partial updates: attributes refused
}

func failed(id string, err *streams.EventError) result { return result{id: id, err: err} }

// lookup returns the last known state of an entity: decoded earlier in
// this request, or remembered.
func (d *decoder) lookup(id string) *state {
	if len(d.decoded) > 0 {
		if d.batch == nil {
			d.batch = make(map[string]*state, len(d.decoded))
		}
		for _, s := range d.decoded {
			d.batch[s.id] = s
		}
		d.decoded = d.decoded[:0]
	}
	if s := d.batch[id]; s != nil {
		return s
	}
	if d.mem == nil {
		return nil
	}
	return d.mem.get(id)
}

// place finds a location for an entity sent without one: its own last
// known location, else that of the first entity it refers to that is
// known.
func (d *decoder) place(id string, refs []string) geom.T {
	if s := d.lookup(id); s != nil {
		return s.geom
	}
	for _, ref := range refs {
		if s := d.lookup(ref); s != nil {
			return s.geom
		}
	}
	return nil
}

func (d *decoder) keep(s *state) {
	if d.batch != nil {
		d.batch[s.id] = s
		return
	}
	d.decoded = append(d.decoded, s)
}

// event returns a one-event slice cut from the decoder's slab.
func (d *decoder) event(ev layers.Event) []layers.Event {
	if len(d.slab) == cap(d.slab) {
		d.slab = make([]layers.Event, 0, 64)
	}
	d.slab = append(d.slab, ev)
	n := len(d.slab)
	return d.slab[n-1 : n : n]
}

// full decodes the whole entity at the start of b (create, upsert,
// replace, notification): its attributes replace whatever was known of
// it. It also returns the offset after the entity.
func (d *decoder) full(b []byte) (result, int) {
	e, n, err := d.parse(b, d.opt)
	if err != nil {
		return failed(e.id, err), n
	}
	return d.entity(e), n
}

func (d *decoder) entity(e *entity) result {
	var err *streams.EventError
	var g geom.T
	if e.hasLoc {
		if g, err = d.location(e); err != nil {
			return failed(e.id, err)
		}
	}
	t := d.obsTime(e)
	if len(e.errs) > 0 {
		return failed(e.id, e.errs[0].err)
	}
	typ, route, ok := lookupRoute(d.routes, e.typ)
	if !ok {
		return failed(e.id, unsupported(e.typ))
	}
	if g == nil {
		if g = d.place(e.id, e.refs()); g == nil {
			return failed(e.id, missingLocation(e.id, typ))
		}
	}
	return d.emit(e.id, typ, route.layer(g, e.has), g, t, e.attrs)
}

// emit builds the event (and the state to remember) of an upsert.
func (d *decoder) emit(id, typ, layer string, g geom.T, t time.Time, attrs []attr) result {
	if t.IsZero() {
		t = d.now
	}
	props := buildProps(typ, attrs)
	s := &state{id: id, typ: typ, layer: layer, geom: g, props: props}
	d.keep(s)
	ev := layers.Event{Layer: layer, ID: id, Op: layers.OpUpsert, Time: t, Geometry: g, Properties: props}
	return result{id: id, events: d.event(ev), state: s}
}

func unsupported(typ string) *streams.EventError {
	return errorf(ReasonUnsupportedType, "type", "entity type %s is not mapped to an IOC layer "+
		"(see docs/NGSI.md for the supported types; others can be added with ngsi.Config.Routes)", streams.Quote(typ))
}

func missingLocation(id, typ string) *streams.EventError {
	return errorf(ReasonMissingLocation, "location", "%s %s has no location, and neither an earlier report of it nor "+
		"an entity it refers to (refDevice, refPointOfInterest, ...) is known to the IOC: add a \"location\" "+
		"(GeoJSON geometry), or send the referenced device with its location first", typ, streams.Quote(id))
}

// buildProps writes the properties of a layer feature: the entity type,
// then every attribute as its plain value, compacted into a new buffer.
func buildProps(typ string, attrs []attr) []byte {
	n := len(typ) + 12
	for i := range attrs {
		n += len(attrs[i].key) + len(attrs[i].value) + 2
	}
	b := make([]byte, 0, n)
	b = append(b, `{"type":`...)
	b = layers.AppendJSONString(b, typ)
	for i := range attrs {
		a := &attrs[i]
		if a.bad {
			continue
		}
		b = append(b, ',')
		b = append(b, a.key...)
		b = append(b, ':')
		b = appendCompact(b, a.value)
	}
	b = append(b, '}')
	if cap(b)-len(b) > len(b)/4 {
		// Pretty-printed input: do not keep the whitespace's worth of
		// capacity alive for as long as the feature lives.
		b = append(make([]byte, 0, len(b)), b...)
	}
	return b
}

// typeFromID reads the type out of an NGSI-LD URN "urn:ngsi-ld:<Type>:...".
func typeFromID(id string) string {
	const prefix = "urn:ngsi-ld:"
	if len(id) <= len(prefix) || !strings.EqualFold(id[:len(prefix)], prefix) {
		return ""
	}
	t, _, ok := strings.Cut(id[len(prefix):], ":")
	if !ok {
		return ""
	}
	return t
}

// storedAttrs reads the attributes back out of a state's properties.
func storedAttrs(s *state) []attr {
	var out []attr
	m := newMembers(s.props)
	for k, v, ok := m.next(); ok; k, v, ok = m.next() {
		if string(k) != `"type"` {
			out = append(out, attr{key: k, name: memberName(k), value: v})
		}
	}
	return out
}

// merge applies a fragment (NGSI-LD PATCH, upsert with options=update, v2
// append/update) to the last known state of the entity id.
func (d *decoder) merge(id string, frag *entity) result {
	base := d.lookup(id)
	typ := frag.typ
	if base != nil {
		typ = base.typ
	} else if typ == "" {
		typ = typeFromID(id)
	}
	if base == nil && typ == "" {
		return failed(id, errorf(ReasonUnknownEntity, "", "entity %s is not known to the IOC, and its type "+
			"cannot be told: send the whole entity (with type and location) first", streams.Quote(id)))
	}
	r := result{id: id}
	g, ok := d.fragmentLocation(frag, &r)
	t := d.obsTime(frag)
	if !ok || (!d.partial && len(frag.errs) > 0) {
		if r.err == nil {
			r.err = frag.errs[0].err
		}
		return r
	}
	rt, route, known := lookupRoute(d.routes, typ)
	if !known {
		return failed(id, unsupported(typ))
	}
	var attrs []attr
	if base != nil {
		attrs = storedAttrs(base)
		if g == nil {
			g = base.geom
		}
	}
	if g == nil {
		if g = d.place(id, frag.refs()); g == nil {
			return d.unplaceable(id, rt)
		}
	}
	attrs, applied := d.overlay(attrs, frag.attrs)
	r.updated = append(r.updated, applied...)
	if len(r.updated) == 0 && len(frag.errs) > 0 {
		return failed(id, frag.errs[0].err) // nothing of the update is usable
	}
	out := d.emit(id, rt, route.layer(g, func(n string) bool { return hasAttr(attrs, n) }), g, t, attrs)
	out.updated, out.notUpdated = r.updated, slices.Clone(frag.errs) // frag is reused
	return out
}

// fragmentLocation decodes the location of a fragment. A bad location
// refuses the fragment, unless partial updates apply, where it is only
// reported.
func (d *decoder) fragmentLocation(frag *entity, r *result) (geom.T, bool) {
	if !frag.hasLoc {
		return nil, true
	}
	g, err := d.location(frag)
	if err == nil {
		r.updated = append(r.updated, "location")
		return g, true
	}
	if !d.partial {
		r.err = err
		return nil, false
	}
	frag.fail("location", err)
	return nil, true
}

func (d *decoder) unplaceable(id, typ string) result {
	if d.partial {
		return failed(id, errorf(ReasonUnknownEntity, "", "entity %s is not known to the IOC (it remembers the "+
			"last %d updated entities) and the update carries no location: send the whole entity with its location",
			streams.Quote(id), d.cfg.MaxEntities))
	}
	return failed(id, missingLocation(id, typ))
}

// overlay merges the fragment's attributes into attrs: a fragment
// attribute replaces the one of the same name or is added. In NGSI-LD a
// null value, or "urn:ngsi-ld:null", deletes the attribute.
func (d *decoder) overlay(attrs, frag []attr) ([]attr, []string) {
	var updated []string
	for _, a := range frag {
		if a.bad {
			continue
		}
		n := string(a.name)
		updated = append(updated, n)
		i := indexAttr(attrs, n)
		del := !d.v2 && (string(a.value) == "null" || string(a.value) == `"urn:ngsi-ld:null"`)
		switch {
		case del && i >= 0:
			attrs = append(attrs[:i], attrs[i+1:]...)
		case del:
		case i >= 0:
			attrs[i] = a
		default:
			attrs = append(attrs, a)
		}
	}
	return attrs, updated
}

func indexAttr(attrs []attr, n string) int {
	for i := range attrs {
		if string(attrs[i].name) == n {
			return i
		}
	}
	return -1
}

func hasAttr(attrs []attr, n string) bool { return indexAttr(attrs, n) >= 0 }

// removeAttrs deletes the named attributes from the last known state
// (NGSI v2 op/update "delete" with attributes).
func (d *decoder) removeAttrs(id string, names []string) result {
	base := d.lookup(id)
	if base == nil {
		return failed(id, errorf(ReasonUnknownEntity, "", "entity %s is not known to the IOC: its attributes cannot be deleted", streams.Quote(id)))
	}
	attrs := storedAttrs(base)
	for _, n := range names {
		if i := indexAttr(attrs, n); i >= 0 {
			attrs = append(attrs[:i], attrs[i+1:]...)
		}
	}
	route := d.routes[base.typ]
	layer := base.layer
	if route.Layer != "" {
		layer = route.layer(base.geom, func(n string) bool { return hasAttr(attrs, n) })
	}
	return d.emit(id, base.typ, layer, base.geom, time.Time{}, attrs)
}

// remove deletes an entity from its layer: the one it was last seen in,
// or, when it is not remembered, every layer its type may go to.
func (d *decoder) remove(id, typ string) result {
	var layerNames []string
	if s := d.lookup(id); s != nil {
		layerNames = []string{s.layer}
	} else {
		if typ == "" {
			typ = typeFromID(id)
		}
		_, route, ok := lookupRoute(d.routes, typ)
		if !ok {
			return failed(id, errorf(ReasonUnknownEntity, "", "entity %s is not known to the IOC and its type %s has no layer: nothing to delete",
				streams.Quote(id), streams.Quote(typ)))
		}
		layerNames = route.layers()
	}
	r := result{id: id, forget: true}
	for _, l := range layerNames {
		r.events = append(r.events, layers.Event{Layer: l, ID: id, Op: layers.OpDelete, Time: d.now})
	}
	d.lookup("") // index what was decoded before, then drop the entity
	delete(d.batch, id)
	return r
}
