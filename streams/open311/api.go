// Package open311 serves Open311 GeoReport v2 for citizen feedback: the
// service list, creating a service request (a report on layer
// feedback.reports, handed to the same streams.Intake every source uses)
// and reading requests back from the live layer. JSON only; see
// docs/OPEN311.md for endpoints, field mapping and examples.
package open311

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
)

// BasePath is where Routes mounts the API.
const BasePath = "/open311/v2"

// Channel is the channel property of reports created through Open311.
const Channel = "open311"

// DefaultLayer is the layer reports are written to and read from.
const DefaultLayer = "feedback.reports"

// DefaultArea is the service area: the merged city of Da Nang (since July
// 2025, about [107.2, 14.95, 108.74, 16.23]) with a margin, without the
// Hoàng Sa islands.
var DefaultArea = geo.Rect{MinX: 107.0, MinY: 14.8, MaxX: 109.0, MaxY: 16.5}

var layerName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Reader is what the API reads reports from; *layers.Store satisfies it.
type Reader interface {
	Layer(name string) *layers.Layer
}

// Config configures the API. The zero value is usable; see the field
// comments for defaults.
type Config struct {
	// Services is the service list. Default DefaultServices().
	Services []Service
	// Layer is the layer of reports. Default DefaultLayer.
	Layer string
	// Area is the service area: a position outside it is refused, and one
	// that would be inside it with lat and long exchanged is refused as
	// swapped. Default DefaultArea; geo.World accepts any position.
	Area geo.Rect
	// MaxBody is the largest POST body, in bytes. Default 1 MiB.
	MaxBody int64
	// MaxResults is the most requests GET requests.json returns. Default 1000.
	MaxResults int
	// Window is the default and largest start_date..end_date span of GET
	// requests.json. Default 90 days.
	Window time.Duration
	// Zone is the time zone of the datetimes in answers and of the date in
	// new ids. Default UTC+07:00 (Vietnam).
	Zone *time.Location
	// KeepContact stores the submitter's email, names, phone, device_id and
	// account_id in the report's "contact" property. Off by default: the
	// layer is pushed to every wall display and tablet, and the IOC has no
	// access-controlled place for personal data yet.
	KeepContact bool
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// NewID returns a new service_request_id for a report made at now (in
	// Zone). Default RandomID. A generated id already in the layer is
	// drawn again.
	NewID func(now time.Time) string
}

func (c *Config) defaults() {
	if c.Services == nil {
		c.Services = DefaultServices()
	}
	if c.Layer == "" {
		c.Layer = DefaultLayer
	}
	if c.Area == (geo.Rect{}) {
		c.Area = DefaultArea
	}
	if c.MaxBody <= 0 {
		c.MaxBody = 1 << 20
	}
	if c.MaxResults <= 0 {
		c.MaxResults = 1000
	}
	if c.Window <= 0 {
		c.Window = 90 * 24 * time.Hour
	}
	if c.Zone == nil {
		c.Zone = time.FixedZone("ICT", 7*3600)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.NewID == nil {
		c.NewID = RandomID
	}
}

// Validate reports the first problem of the configuration, with defaults
// applied.
func (c Config) Validate() error {
	c.defaults()
	seen := map[string]bool{}
	for i, s := range c.Services {
		if err := s.validate(); err != nil {
			return fmt.Errorf("open311: services[%d]: %w", i, err)
		}
		if seen[s.Code] {
			return fmt.Errorf("open311: services[%d]: service_code %q is listed twice", i, s.Code)
		}
		seen[s.Code] = true
	}
	if !layerName.MatchString(c.Layer) {
		return fmt.Errorf("open311: layer %q is not a layer name (^[a-z0-9][a-z0-9._-]{0,63}$)", c.Layer)
	}
	if len(c.Services) == 0 {
		return fmt.Errorf("open311: the service list is empty")
	}
	if !geo.World.Contains(c.Area) || c.Area.MinX >= c.Area.MaxX || c.Area.MinY >= c.Area.MaxY {
		return fmt.Errorf("open311: area %v is not a rectangle inside [-180,-90,180,90]", c.Area)
	}
	return nil
}

// RandomID returns "DN-<yyyymmdd>-" and 8 random Crockford base-32
// characters (40 bits), e.g. DN-20261127-7F3K9Q2M: readable over the phone,
// and unique across restarts without any stored counter.
func RandomID(now time.Time) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	var b [8]byte
	_, _ = rand.Read(b[:])
	id := make([]byte, 0, 20)
	id = now.AppendFormat(append(id, "DN-"...), "20060102")
	id = append(id, '-')
	for _, c := range b {
		id = append(id, alphabet[c&31])
	}
	return string(id)
}

// API is the Open311 GeoReport v2 endpoint.
type API struct {
	cfg      Config
	intake   *streams.Intake
	store    Reader
	log      *slog.Logger
	requests *prometheus.CounterVec
	byCode   map[string]*Service
	// byCategory maps a report category to the first service writing it.
	byCategory map[string]*Service
}

// New returns the API. Metrics are registered with reg when it is not nil;
// log may be nil. New panics on an invalid configuration (a startup
// error): call cfg.Validate first to get it as an error.
func New(cfg Config, intake *streams.Intake, store Reader, reg prometheus.Registerer, log *slog.Logger) *API {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.Services = slices.Clone(cfg.Services) // defaults are filled in below
	a := &API{cfg: cfg, intake: intake, store: store, log: log,
		byCode: map[string]*Service{}, byCategory: map[string]*Service{}}
	for i := range a.cfg.Services {
		s := &a.cfg.Services[i]
		s.defaults()
		a.byCode[s.Code] = s
		if a.byCategory[s.Category] == nil {
			a.byCategory[s.Category] = s
		}
	}
	a.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "ioc", Subsystem: "open311", Name: "requests_total",
		Help: "Open311 GeoReport v2 requests, by endpoint and HTTP status code.",
	}, []string{"endpoint", "code"})
	if reg != nil {
		reg.MustRegister(a.requests)
	}
	return a
}

// Routes mounts the API under BasePath.
func (a *API) Routes(r chi.Router) {
	r.Route(BasePath, func(r chi.Router) {
		r.Get("/services.{format}", a.handle("services", a.serviceList))
		r.Get("/services/{file}", a.handle("service_definition", a.serviceDefinition))
		r.Get("/requests.{format}", a.handle("get_requests", a.listRequests))
		r.Post("/requests.{format}", a.handle("post_request", a.postRequest))
		r.Get("/requests/{file}", a.handle("get_request", a.getRequest))
		r.NotFound(a.handle("other", func(w http.ResponseWriter, r *http.Request) int {
			return writeErrors(w, http.StatusNotFound, "no such Open311 resource: the endpoints are services.json, "+
				"services/{service_code}.json, requests.json and requests/{service_request_id}.json under "+BasePath)
		}))
		r.MethodNotAllowed(a.handle("other", func(w http.ResponseWriter, r *http.Request) int {
			return writeErrors(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed here: "+
				"requests.json takes GET and POST, the other resources GET only", r.Method))
		}))
	})
}

// handle counts and logs each answer of an endpoint.
func (a *API) handle(endpoint string, fn func(http.ResponseWriter, *http.Request) int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		code := fn(w, r)
		a.requests.WithLabelValues(endpoint, strconv.Itoa(code)).Inc()
		level := slog.LevelDebug
		if code >= 500 {
			level = slog.LevelWarn
		}
		a.log.Log(r.Context(), level, "open311: request", "endpoint", endpoint, "method", r.Method,
			"path", r.URL.Path, "status", code, "remote", r.RemoteAddr)
	}
}

// SpecError is one element of the Open311 error body, a JSON array:
// [{"code":400,"description":"..."}].
type SpecError struct {
	Code        int    `json:"code"`
	Description string `json:"description"`
}

// writeErrors answers status with one error per description.
func writeErrors(w http.ResponseWriter, status int, descriptions ...string) int {
	errs := make([]SpecError, len(descriptions))
	for i, d := range descriptions {
		errs[i] = SpecError{Code: status, Description: d}
	}
	return writeJSON(w, status, errs)
}

func writeJSON(w http.ResponseWriter, status int, v any) int {
	b, err := json.Marshal(v)
	if err != nil { // cannot happen for the types of this package
		b, status = []byte(`[{"code":500,"description":"response encoding failed"}]`), http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
	return status
}

// checkFormat answers 400 unless the resource was asked for as .json, and
// reports whether it did.
func checkFormat(w http.ResponseWriter, format string) (int, bool) {
	switch format {
	case "json":
		return 0, true
	case "xml":
		return writeErrors(w, http.StatusBadRequest, "format xml is not supported: this server answers JSON only, "+
			"ask for the same resource with the .json extension"), false
	}
	return writeErrors(w, http.StatusBadRequest, fmt.Sprintf("format %s is not supported: use the .json extension",
		quote(format))), false
}

// layer returns the report layer, or nil before its first event.
func (a *API) layer() *layers.Layer {
	if a.store == nil {
		return nil
	}
	return a.store.Layer(a.cfg.Layer)
}
