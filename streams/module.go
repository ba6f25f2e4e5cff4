package streams

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/layers/access"
)

// LayerSpec declares a layer a module owns: its public name, how often its
// entities are expected to report, and when silence makes one stale.
type LayerSpec struct {
	Name        string
	Description string
	// Interval is how often an entity is expected to report.
	Interval time.Duration
	// StaleAfter is how long an entity may stay silent before it is marked
	// stale; zero means never (short-lived events such as violations).
	StaleAfter time.Duration
	// Severity ranks the layer's features for the map's cluster summaries
	// and legends; the zero value ranks nothing.
	Severity Severity
	// ClusterZoom is the map zoom level below which a wall map receives the
	// layer as clusters computed by the server instead of raw features
	// (Web Mercator zoom, as MapLibre counts it); 0 never clusters.
	ClusterZoom int
}

// Severity says how one feature of a layer ranks: a property read into
// ordered levels, level 0 the normal state and the last level the worst.
// A string (or true/false) property names its level by label, directly or
// through Values; a numeric property is ranked by Bands. A feature whose
// property is absent or names no level is unranked.
type Severity struct {
	// Property is the property read, e.g. "state" or "congestionLevel".
	Property string
	// Levels are the level labels, best first.
	Levels []string
	// Values maps property values that are not labels themselves to a label
	// (a lamp's "fault" and "no_power" are both "dark"); true and false are
	// looked up as "true" and "false".
	Values map[string]string
	// Bands ranks a numeric property: Bands[i] is the lowest value of level
	// i+1, ascending, one fewer than Levels. Nil for string properties.
	Bands []float64
}

// Validate checks that the declaration is usable.
func (s Severity) Validate() error {
	if s.Property == "" {
		if len(s.Levels) > 0 || len(s.Values) > 0 || len(s.Bands) > 0 {
			return errors.New("severity: levels without a property")
		}
		return nil
	}
	if len(s.Levels) < 2 {
		return fmt.Errorf("severity of %s: want at least 2 levels, got %d", s.Property, len(s.Levels))
	}
	for i, l := range s.Levels {
		if l == "" || slices.Index(s.Levels, l) != i {
			return fmt.Errorf("severity of %s: level labels must be non-empty and unique, got %q", s.Property, s.Levels)
		}
	}
	for v, l := range s.Values {
		if !slices.Contains(s.Levels, l) {
			return fmt.Errorf("severity of %s: value %q maps to %q, which is not a level", s.Property, v, l)
		}
	}
	if s.Bands != nil {
		if len(s.Bands) != len(s.Levels)-1 {
			return fmt.Errorf("severity of %s: %d levels need %d bands, got %d", s.Property, len(s.Levels), len(s.Levels)-1, len(s.Bands))
		}
		if !slices.IsSorted(s.Bands) || len(slices.Compact(slices.Clone(s.Bands))) != len(s.Bands) {
			return fmt.Errorf("severity of %s: bands must increase strictly, got %v", s.Property, s.Bands)
		}
	}
	return nil
}

// Module gives one feed its domain meaning: it owns some layers and turns
// each valid event for them into the events to apply, computing domain
// properties on the way in (an AQI band, a river's warning level and
// trend). It may return more than one event (a cabinet losing power also
// darkens its lamps) or none. Process is called concurrently; a module
// guards its own state. An error refuses the event; make it an *EventError
// to choose the reason, otherwise the reason is invalid_properties.
type Module interface {
	Name() string
	Layers() []LayerSpec
	Process(ev layers.Event) ([]layers.Event, error)
}

// Modules routes events to the module owning their layer. Events for
// layers no module owns pass through unchanged, so new feeds work before
// they have a module.
type Modules struct {
	mods    []Module
	byLayer map[string]Module
	tagger  Tagger
}

// Tagger adds derived, module-independent properties to an event, such as
// the administrative area it lies in. It runs after the module.
type Tagger interface {
	Tag(ev *layers.Event)
}

// NewModules checks that no two modules claim one layer.
func NewModules(tagger Tagger, mods ...Module) (*Modules, error) {
	m := &Modules{mods: mods, byLayer: map[string]Module{}, tagger: tagger}
	for _, mod := range mods {
		for _, spec := range mod.Layers() {
			if err := spec.Severity.Validate(); err != nil {
				return nil, fmt.Errorf("layer %s of module %s: %w", spec.Name, mod.Name(), err)
			}
			if spec.ClusterZoom < 0 || spec.ClusterZoom > 24 {
				return nil, fmt.Errorf("layer %s of module %s: cluster zoom %d outside [0, 24]", spec.Name, mod.Name(), spec.ClusterZoom)
			}
			if other := m.byLayer[spec.Name]; other != nil {
				return nil, fmt.Errorf("layer %s claimed by modules %s and %s", spec.Name, other.Name(), mod.Name())
			}
			m.byLayer[spec.Name] = mod
		}
	}
	return m, nil
}

// Specs lists every declared layer, sorted by name.
func (m *Modules) Specs() []LayerSpec {
	var out []LayerSpec
	for _, mod := range m.mods {
		out = append(out, mod.Layers()...)
	}
	slices.SortFunc(out, func(a, b LayerSpec) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}

// Process runs one event through its module and the tagger.
func (m *Modules) Process(ev layers.Event) ([]layers.Event, error) {
	out := []layers.Event{ev}
	if mod := m.byLayer[ev.Layer]; mod != nil {
		var err error
		if out, err = mod.Process(ev); err != nil {
			return nil, asEventError(err)
		}
	}
	if m.tagger != nil {
		for i := range out {
			if out[i].Op == layers.OpUpsert {
				m.tagger.Tag(&out[i])
			}
		}
	}
	return out, nil
}

func asEventError(err error) *EventError {
	var ee *EventError
	if errors.As(err, &ee) {
		return ee
	}
	return &EventError{Reason: ReasonInvalidProperties, Path: "properties", Msg: err.Error()}
}

// Processor is what Intake needs of the modules.
type Processor interface {
	Process(ev layers.Event) ([]layers.Event, error)
}

// Intake is the one path every source takes (HTTP ingest, NGSI, Open311,
// MQTT, the simulator): decoded events go through the modules, then all the
// events of a submission go to the bus in one call, so nothing
// half-applies.
type Intake struct {
	proc Processor
	bus  Bus
}

// NewIntake builds the intake; proc may be nil (no modules).
func NewIntake(proc Processor, bus Bus) *Intake {
	return &Intake{proc: proc, bus: bus}
}

// Submit processes a decoded batch and publishes what remains. Refused
// events join b.Rejected; on a bus error nothing was applied.
//
// When ctx carries a principal (every HTTP source, behind the auth
// middleware), each event is first checked against it (authorize); a
// context without one is an internal source: MQTT, whose feeds the
// broker's ACL authorises, and the simulator.
func (in *Intake) Submit(ctx context.Context, b *Batch) error {
	if p, ok := access.FromContext(ctx); ok {
		authorizeBatch(p, b)
	}
	in.process(b)
	if len(b.Events) == 0 {
		return nil
	}
	return in.bus.Publish(ctx, b.Events)
}

// SubmitEvents is Submit for sources that decode events one by one.
func (in *Intake) SubmitEvents(ctx context.Context, events []layers.Event) (*Batch, error) {
	b := &Batch{Events: events, Indexes: make([]int, len(events))}
	for i := range b.Indexes {
		b.Indexes[i] = i
	}
	return b, in.Submit(ctx, b)
}

// authorizeBatch moves the events p may not write to the batch's
// rejections, each with its own reason: one refused event does not refuse
// the batch.
func authorizeBatch(p *access.Principal, b *Batch) {
	if p.Scope().IsUnlimited() && p.Can(access.Ingest) {
		return
	}
	kept := 0
	for i, ev := range b.Events {
		if err := authorize(p, ev); err != nil {
			b.Rejected = append(b.Rejected, Rejection{Index: b.Indexes[i], Line: b.line(i), Reason: err.Reason, Error: err.Error()})
			continue
		}
		b.Events[kept], b.Indexes[kept] = ev, b.Indexes[i]
		if i < len(b.lines) {
			b.lines[kept] = b.lines[i]
		}
		kept++
	}
	clear(b.Events[kept:])
	b.Events, b.Indexes = b.Events[:kept], b.Indexes[:kept]
	if kept < len(b.lines) {
		b.lines = b.lines[:kept]
	}
	slices.SortStableFunc(b.Rejected, func(x, y Rejection) int { return x.Index - y.Index })
}

// authorize checks one event against the sender: the ingest permission,
// the layer, and with an area-limited scope the geometry. A delete carries
// no geometry to check, so an area-limited sender may not delete: it would
// otherwise remove entities anywhere in the layer.
func authorize(p *access.Principal, ev layers.Event) *EventError {
	switch {
	case !p.Can(access.Ingest):
		return eventErrorf(ReasonOutOfScope, "", "%s may not send events (needs the permission ingest)", p.Actor())
	case !p.CanIngest(ev.Layer):
		return eventErrorf(ReasonOutOfScope, "layer", "layer %s is outside the ingest scope of %s", Quote(ev.Layer), p.Actor())
	case !p.Scope().AreaLimited():
		return nil
	case ev.Op == layers.OpDelete || ev.Geometry == nil:
		return eventErrorf(ReasonOutOfScope, "op", "%s is limited to areas and may not delete entities", p.Actor())
	case !p.Scope().Sees(geo.BoundsOf(ev.Geometry), ev.Geometry):
		return eventErrorf(ReasonOutOfScope, "geometry", "the geometry is outside the area scope of %s", p.Actor())
	}
	return nil
}

// process runs the batch's events through the modules, moving refused ones
// to the batch's rejections.
func (in *Intake) process(b *Batch) {
	if in.proc == nil {
		return
	}
	events := make([]layers.Event, 0, len(b.Events))
	indexes := make([]int, 0, len(b.Events))
	for i, ev := range b.Events {
		out, err := in.proc.Process(ev)
		if err != nil {
			ee := asEventError(err)
			b.Rejected = append(b.Rejected, Rejection{Index: b.Indexes[i], Line: b.line(i), Reason: ee.Reason, Error: ee.Error()})
			continue
		}
		for range out {
			indexes = append(indexes, b.Indexes[i])
		}
		events = append(events, out...)
	}
	slices.SortStableFunc(b.Rejected, func(x, y Rejection) int { return x.Index - y.Index })
	b.Events, b.Indexes, b.lines = events, indexes, nil
}

// Accepted counts the body's events that were accepted; one event may have
// become several (Indexes repeats its index).
func (b *Batch) Accepted() int {
	n := 0
	for i, idx := range b.Indexes {
		if i == 0 || idx != b.Indexes[i-1] {
			n++
		}
	}
	return n
}

func (b *Batch) line(i int) int {
	if i < len(b.lines) {
		return b.lines[i]
	}
	return 0
}
