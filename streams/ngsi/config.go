package ngsi

import (
	"slices"
	"strings"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/streams"
)

// Route says which layer the entities of one NGSI type go to. Most types
// have one layer; a few are split by the shape of their geometry or by
// the attributes they carry, checked in this order:
//
//  1. ExtentLayer, when set, takes entities whose geometry is a line or a
//     polygon (a road segment, a flooded street);
//  2. AttrLayer, when set, takes entities carrying any attribute named in
//     Attrs (a gauge with warning levels is a river station);
//  3. Layer takes the rest.
type Route struct {
	Layer       string
	ExtentLayer string
	AttrLayer   string
	Attrs       []string
}

// DefaultRoutes is the type → layer table: Smart Data Models entity types
// (and the Open311 aliases of IssueTracking) and the IOC layer each goes
// to. Types not listed are refused with reason unsupported_type (among
// them RainFallRadarObserved: a radar grid over an area is not a rain
// gauge, and flooding.rain takes gauges). Config.Routes adds to and
// overrides it.
var DefaultRoutes = map[string]Route{
	"TrafficFlowObserved":       {Layer: "traffic.cameras", ExtentLayer: "traffic.segments"},
	"TrafficViolation":          {Layer: "traffic.violations"},
	"OffStreetParking":          {Layer: "traffic.parking"},
	"OnStreetParking":           {Layer: "traffic.parking"},
	"ParkingSpot":               {Layer: "traffic.parking"},
	"AirQualityObserved":        {Layer: "environment.air"},
	"WaterQualityObserved":      {Layer: "environment.water"},
	"Streetlight":               {Layer: "lighting.lamps"},
	"StreetlightControlCabinet": {Layer: "lighting.cabinets"},
	"WeatherObserved":           {Layer: "flooding.rain"},
	"WaterObserved":             {Layer: "flooding.rivers"},
	"FloodMonitoring": {Layer: "flooding.streets",
		AttrLayer: "flooding.rivers", Attrs: []string{"alertLevel", "dangerLevel", "floodLevelStatus"}},
	"IssueReporting":         {Layer: "feedback.reports"},
	"service_requests":       {Layer: "feedback.reports"},
	"Open311ServiceRequest":  {Layer: "feedback.reports"},
	"Open311:ServiceRequest": {Layer: "feedback.reports"},
	"Device":                 {Layer: "devices"},
	"DeviceMeasurement":      {Layer: "devices.measurements"},
}

// layer picks the route's layer for an entity with geometry g; has says
// whether the entity carries an attribute.
func (r Route) layer(g geom.T, has func(string) bool) string {
	if r.ExtentLayer != "" {
		switch g.(type) {
		case *geom.LineString, *geom.MultiLineString, *geom.Polygon, *geom.MultiPolygon:
			return r.ExtentLayer
		}
	}
	if r.AttrLayer != "" && slices.ContainsFunc(r.Attrs, has) {
		return r.AttrLayer
	}
	return r.Layer
}

// layers lists every layer the route may choose, for deletes of entities
// whose last state is not known.
func (r Route) layers() []string {
	out := []string{r.Layer}
	for _, l := range []string{r.ExtentLayer, r.AttrLayer} {
		if l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// Config configures the adapter. The zero value is usable.
type Config struct {
	// Area is the service area. A position outside it that would be inside
	// with longitude and latitude exchanged is refused as swapped (reason
	// coordinates_swapped), as in streams.DecoderConfig. The zero Rect
	// disables the check.
	Area geo.Rect
	// RejectOutsideArea refuses every position outside Area (reason
	// outside_area) instead of accepting it.
	RejectOutsideArea bool
	// Routes adds types to DefaultRoutes or replaces their entry; a Route
	// with an empty Layer removes the type.
	Routes map[string]Route
	// MaxBody is the largest request body, in bytes. Default 16 MiB.
	MaxBody int64
	// MaxBatch is the most entities one request may carry. Default 100000.
	MaxBatch int
	// MaxEntities is how many entities the adapter remembers (last type,
	// layer, location and attributes) for partial updates and for placing
	// entities that come without a location; the least recently used are
	// forgotten first. Default 100000.
	MaxEntities int
	// MaxFuture is how far ahead of the server clock an observation time
	// may be. Default 5 minutes.
	MaxFuture time.Duration
	// LocalZone is the zone of timestamps sent without an offset
	// ("2016-03-15T11:00:00"). Default UTC.
	LocalZone *time.Location
	// Now is the server clock. Default time.Now.
	Now func() time.Time
}

func (c *Config) defaults() {
	if c.MaxBody <= 0 {
		c.MaxBody = 16 << 20
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 100000
	}
	if c.MaxEntities <= 0 {
		c.MaxEntities = 100000
	}
	if c.MaxFuture <= 0 {
		c.MaxFuture = 5 * time.Minute
	}
	if c.LocalZone == nil {
		c.LocalZone = time.UTC
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// routes merges DefaultRoutes with the configured ones.
func (c *Config) routes() map[string]Route {
	out := make(map[string]Route, len(DefaultRoutes)+len(c.Routes))
	for t, r := range DefaultRoutes {
		out[t] = r
	}
	for t, r := range c.Routes {
		if r.Layer == "" {
			delete(out, t)
			continue
		}
		out[t] = r
	}
	return out
}

// lookupRoute finds the route of a type. A type sent expanded to a full
// IRI (no @context applied) is matched by its last path segment or
// fragment, e.g. "https://smartdatamodels.org/dataModel.Environment/
// AirQualityObserved".
func lookupRoute(routes map[string]Route, typ string) (string, Route, bool) {
	if r, ok := routes[typ]; ok {
		return typ, r, true
	}
	if strings.Contains(typ, "://") {
		short := typ[strings.LastIndexAny(typ, "/#")+1:]
		if r, ok := routes[short]; ok {
			return short, r, true
		}
	}
	return typ, Route{}, false
}

// The reasons this package adds to those of streams. Each is a label value
// of ioc_ngsi_rejected_total.
const (
	ReasonInvalidEntity   streams.Reason = "invalid_entity"
	ReasonMissingType     streams.Reason = "missing_type"
	ReasonInvalidType     streams.Reason = "invalid_type"
	ReasonUnsupportedType streams.Reason = "unsupported_type"
	ReasonMissingLocation streams.Reason = "missing_location"
	ReasonOutsideArea     streams.Reason = "outside_area"
	ReasonUnknownEntity   streams.Reason = "unknown_entity"
)

// Reasons lists every reason the adapter itself gives (modules may add
// their own), so that metrics show them at zero.
var Reasons = []streams.Reason{
	streams.ReasonInvalidJSON, streams.ReasonInvalidUTF8, ReasonInvalidEntity,
	streams.ReasonMissingID, streams.ReasonInvalidID, ReasonMissingType, ReasonInvalidType,
	ReasonUnsupportedType, ReasonMissingLocation, ReasonUnknownEntity,
	streams.ReasonInvalidGeometry, streams.ReasonUnsupportedGeom, streams.ReasonOutOfRange,
	streams.ReasonSwapped, ReasonOutsideArea, streams.ReasonInvalidTime, streams.ReasonFutureTime,
	streams.ReasonInvalidProperties,
}
