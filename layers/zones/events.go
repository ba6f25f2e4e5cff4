package zones

import (
	"strconv"
	"time"

	"github.com/goccy/go-json"
	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/layers"
)

// The events of layer ioc.zone_events.
const (
	EventEnter = "enter"
	EventLeave = "leave"
)

// eventProps are the properties of an enter or leave event feature.
type eventProps struct {
	Zone     string    `json:"zone"`
	ZoneName string    `json:"zoneName"`
	Layer    string    `json:"layer"`
	Entity   string    `json:"entity"`
	Event    string    `json:"event"`
	Name     string    `json:"name,omitempty"`
	At       time.Time `json:"at"`
	Expires  time.Time `json:"expires"`
}

// emit queues the enter or leave event of the change's entity: at its new
// position, or for a deleted entity at its last one.
func (e *Engine) emit(z *zone, c *layers.Change, enter bool, name string) {
	f, ev := c.New, EventEnter
	if !enter {
		ev = EventLeave
	}
	if f == nil {
		f = c.Old
	}
	at := f.Time
	if c.New == nil {
		at = c.At // a delete has no observation time of its own
	}
	e.seq++
	id, expires := e.run+"-"+strconv.FormatUint(e.seq, 10), at.Add(e.cfg.EventTTL)
	props, _ := json.Marshal(eventProps{Zone: z.ID, ZoneName: z.Name, Layer: f.Layer, Entity: f.ID, Event: ev, Name: name,
		At: at, Expires: expires})
	e.pending = append(e.pending, layers.Event{Layer: LayerEvents, ID: id, Time: at, Geometry: pointOf(f.Geometry), Properties: props})
	e.live = append(e.live, liveEvent{id: id, expires: expires})
	e.m.events.WithLabelValues(ev).Inc()
}

// pointOf is where an event is drawn: the entity's point, or the first
// position of another geometry.
func pointOf(g geom.T) geom.T {
	if p, ok := g.(*geom.Point); ok {
		return p
	}
	flat := g.FlatCoords()
	return geom.NewPointFlat(geom.XY, []float64{flat[0], flat[1]})
}

// flushEvents applies the queued events and deletes the expired ones (and
// the oldest beyond MaxEvents).
func (e *Engine) flushEvents() {
	now := e.store.Now()
	evs := e.pending
	e.pending = nil
	n := 0
	for n < len(e.live) && (!e.live[n].expires.After(now) || len(e.live)-n > e.cfg.MaxEvents) {
		evs = append(evs, layers.Event{Layer: LayerEvents, ID: e.live[n].id, Op: layers.OpDelete, Time: later(now, e.live[n].expires)})
		n++
	}
	e.live = append(e.live[:0], e.live[n:]...)
	if len(evs) > 0 {
		e.store.Apply(evs)
	}
	e.m.liveEvents.Set(float64(len(e.live)))
}

// later: a delete must not be older than the event it removes, or the
// layer would keep the event as newer.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
