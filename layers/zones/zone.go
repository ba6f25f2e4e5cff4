// Package zones keeps emergency zones and geofences live: an operator
// declares a zone (a drawn polygon, or a district or ward by reference),
// and the engine follows the change log to know at every moment what lies
// inside each zone (sensors and their worst states, open citizen reports,
// dark lamps, blocked roads, incidents, response teams). It writes each
// zone's summary into the zone's feature on layer ioc.zones, throttled, and
// emits enter and leave events for moving things (teams) on layer
// ioc.zone_events. docs/ZONES.md is the reference.
//
// The engine reads the change log with its own cursor, like the history
// writer, so ingest never waits for it; it writes its layers back through
// the store's normal apply path and ignores its own layers' changes.
package zones

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
)

// The layers the engine writes. Their names are public API.
const (
	LayerZones  = "ioc.zones"
	LayerEvents = "ioc.zone_events"
)

// The kinds of zone.
const (
	KindEmergency = "emergency"
	KindGeofence  = "geofence"
)

// The statuses of a zone.
const (
	StatusActive = "active"
	StatusClosed = "closed"
)

var (
	kinds      = []string{KindEmergency, KindGeofence}
	severities = []string{"info", "minor", "major", "critical"}
)

// AreaRef names the administrative area a zone was declared over, when it
// was declared by reference rather than drawn.
type AreaRef struct {
	Level string `json:"level"` // district or ward
	Code  string `json:"code"`
	Name  string `json:"name"`
	// Approx is set when the zone's geometry is a stand-in (a ward known
	// only by its point gets the polygons of its districts): membership is
	// still exact with respect to the ward the area tagger gives each
	// entity, but the drawn outline is larger than the ward.
	Approx bool `json:"approx,omitempty"`
}

// Zone is the declared, durable part of a zone: what its feature on
// ioc.zones holds besides the live summary.
type Zone struct {
	ID          string    `json:"-"`
	Name        string    `json:"name"`
	Kind        string    `json:"kind"`
	Severity    string    `json:"severity"`
	Description string    `json:"description,omitempty"`
	Status      string    `json:"status"`
	Declared    time.Time `json:"declared"`
	By          string    `json:"by"`
	Closed      time.Time `json:"closed,omitzero"`
	ClosedBy    string    `json:"closedBy,omitempty"`
	Area        *AreaRef  `json:"area,omitempty"`
	// District, DistrictCode, Ward, WardCode name where the zone lies (as
	// the area tagger names an entity), for titles and CAP areaDesc.
	District     string `json:"district,omitempty"`
	DistrictCode string `json:"districtCode,omitempty"`
	Ward         string `json:"ward,omitempty"`
	WardCode     string `json:"wardCode,omitempty"`

	Geometry geom.T `json:"-"`
}

// props is the JSON of a zone feature's properties.
type props struct {
	Zone
	Summary *Summary `json:"summary,omitempty"`
}

// encodeProps returns the properties of z's feature.
func encodeProps(z *Zone, s *Summary) json.RawMessage {
	b, err := json.Marshal(props{Zone: *z, Summary: s})
	if err != nil { // cannot happen: plain strings, times and numbers
		panic(fmt.Sprintf("zones: encoding zone %s: %v", z.ID, err))
	}
	return b
}

// decodeZone rebuilds a zone from its feature (after a restart).
func decodeZone(id string, g geom.T, raw json.RawMessage) (*Zone, error) {
	var p props
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("zone %s: properties: %w", id, err)
	}
	z := p.Zone
	z.ID, z.Geometry = id, g
	if err := z.check(); err != nil {
		return nil, fmt.Errorf("zone %s: %w", id, err)
	}
	return &z, nil
}

// check validates the declared fields; the path in each message is the
// member of the declaration body.
func (z *Zone) check() error {
	switch {
	case z.Name == "":
		return fmt.Errorf("name: a zone needs a name")
	case len(z.Name) > 200:
		return fmt.Errorf("name: at most 200 bytes, got %d", len(z.Name))
	case !slices.Contains(kinds, z.Kind):
		return fmt.Errorf("kind: %q is not one of emergency, geofence", z.Kind)
	case !slices.Contains(severities, z.Severity):
		return fmt.Errorf("severity: %q is not one of info, minor, major, critical", z.Severity)
	case len(z.Description) > 4000:
		return fmt.Errorf("description: at most 4000 bytes, got %d", len(z.Description))
	}
	if geo.NewArea(z.Geometry) == nil {
		return fmt.Errorf("geometry: a zone is a Polygon or MultiPolygon")
	}
	return nil
}

// zone is the engine's live state of one active zone.
type zone struct {
	Zone
	area    *geo.Area
	bounds  geo.Rect
	members map[key]*member
	dirty   bool      // the summary changed since it was last written
	written time.Time // when the summary was last written
}

// key names an entity across layers.
type key struct{ layer, id string }

func newZone(z *Zone) *zone {
	a := geo.NewArea(z.Geometry)
	return &zone{Zone: *z, area: a, bounds: a.Bounds, members: map[key]*member{}, dirty: true}
}

// contains decides whether an entity lies in the zone. A zone declared
// over a district or ward holds exactly the point entities the area tagger
// put in that area (the same answer the map's district filter gives), and
// the lines and polygons (road segments, alert areas) its outline
// intersects; a drawn zone holds what its polygon intersects.
func (z *zone) contains(g geom.T, p *entityProps) bool {
	if g == nil {
		return false
	}
	if _, point := g.(*geom.Point); point && z.Area != nil {
		if z.Area.Level == "ward" {
			return p.WardCode == z.Area.Code
		}
		return p.DistrictCode == z.Area.Code
	}
	return z.area.Intersects(g)
}
