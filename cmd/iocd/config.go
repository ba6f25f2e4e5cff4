package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers/incidents"
	"github.com/danang-ioc/ioc/streams"
	"github.com/danang-ioc/ioc/streams/mqtt"
)

// Config is every setting of iocd. Each field is a flag, and each flag has
// an environment-variable twin named IOC_ + the flag in upper case with
// dashes as underscores (--data-dir / IOC_DATA_DIR). A flag on the command
// line wins over the environment, which wins over the default.
type Config struct {
	Addr            string
	DataDir         string
	LogLevel        string
	LogFormat       string
	ShutdownTimeout time.Duration

	MaxBody   int64
	MaxBatch  int
	MaxFuture time.Duration
	Area      string

	ChangeLog  int
	LayerTTL   string
	DefaultTTL time.Duration

	PushInterval     time.Duration
	WSQueueFrames    int
	WSQueueBytes     int
	WSWriteTimeout   time.Duration
	WSMaxSnapshot    int
	ClusterZoom      string
	AllowedOrigins   string
	ReadHeaderTimout time.Duration
	ReadTimeout      time.Duration

	Sim      bool
	SimSeed  int64
	SimScale float64
	SimSpeed float64
	Storm    time.Duration

	ClickHouse         string
	ClickHouseDB       string
	ClickHouseUser     string
	ClickHousePassword string
	KeyframeInterval   time.Duration
	HistoryWriter      bool

	Areas        string
	MQTT         string
	MQTTTopics   string
	MQTTClientID string

	WebDir   string
	MapStyle string

	ZoneSummaryInterval time.Duration
	ZoneEventTTL        time.Duration
	CAPSender           string

	Rules string

	// Security (security.go, docs/SECURITY.md).
	Demo             bool
	SecureCookies    bool
	TLSCert          string
	TLSKey           string
	OIDCIssuer       string
	OIDCClientID     string
	OIDCClientSecret string
	OIDCRedirectURL  string
	OIDCRolesClaim   string
	OIDCRoleMap      string
	OIDCAreasClaim   string
	IngestRate       float64
	IngestBurst      int
}

// define registers every flag with its default and help text; the help
// text is also the configuration reference (iocd -help).
func (c *Config) define(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", ":8080", "HTTP listen address (API, WebSocket, metrics)")
	fs.StringVar(&c.DataDir, "data-dir", "./data", "directory for local state (created if missing)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 15*time.Second, "how long a graceful shutdown may take before connections are cut")

	fs.Int64Var(&c.MaxBody, "max-body", 16<<20, "largest ingest request body in bytes (413 above)")
	fs.IntVar(&c.MaxBatch, "max-batch", 100000, "most events in one ingest request")
	fs.DurationVar(&c.MaxFuture, "max-future", 5*time.Minute, "how far ahead of the server clock an event time may lie")
	fs.StringVar(&c.Area, "area", "107.2,14.9,112.8,17.1", "service area w,s,e,n: positions outside it that fit inside with lon/lat exchanged are refused as swapped; empty disables")

	fs.IntVar(&c.ChangeLog, "change-log", 1<<18, "changes kept in memory for consumers and for clients resuming with since; each holds the old and new feature alive, so size it as update rate × the resume window wanted")
	fs.StringVar(&c.LayerTTL, "layer-ttl", "", "per-layer staleness TTL, e.g. traffic.signals=30s,environment.air=2h")
	fs.DurationVar(&c.DefaultTTL, "default-ttl", 0, "staleness TTL for layers not named in --layer-ttl (0: never stale)")

	fs.DurationVar(&c.PushInterval, "push-interval", 25*time.Millisecond, "how often changes are batched into WebSocket diffs")
	fs.IntVar(&c.WSQueueFrames, "ws-queue-frames", 256, "frames a WebSocket client may have queued before it is resynchronised")
	fs.IntVar(&c.WSQueueBytes, "ws-queue-bytes", 16<<20, "bytes a WebSocket client may have queued before it is resynchronised")
	fs.DurationVar(&c.WSWriteTimeout, "ws-write-timeout", 10*time.Second, "longest a WebSocket frame write may take before the client is dropped")
	fs.IntVar(&c.WSMaxSnapshot, "ws-max-snapshot", 500000, "most features in one WebSocket snapshot (the rest is marked truncated)")
	fs.StringVar(&c.ClusterZoom, "cluster-zoom", "", "per-layer cluster zoom overriding the modules' defaults, e.g. lighting.lamps=14,traffic.signals=0: below that map zoom a WebSocket subscription with a zoom gets the layer as server-computed clusters; 0 never clusters")
	fs.StringVar(&c.AllowedOrigins, "allowed-origins", "", "comma-separated browser origins allowed on the WebSocket besides the server's own; * allows any")
	fs.DurationVar(&c.ReadHeaderTimout, "read-header-timeout", 10*time.Second, "time a client has to send request headers")
	fs.DurationVar(&c.ReadTimeout, "read-timeout", time.Minute, "time a client has to send a whole request, body included (a slow sender is cut off)")

	fs.BoolVar(&c.Sim, "sim", true, "run the Da Nang simulator as a data source (turn off with --sim=false when real feeds are connected)")
	fs.Int64Var(&c.SimSeed, "sim-seed", 1, "simulator seed: the same seed gives the same city and the same events")
	fs.Float64Var(&c.SimScale, "sim-scale", 1, "simulator scale: 1 is the city's real inventory, 10 ten times as many sensors (load tests)")
	fs.Float64Var(&c.SimSpeed, "sim-speed", 1, "simulated seconds per real second")
	fs.DurationVar(&c.Storm, "storm", 0, "start the storm scenario at startup, its eight hours compressed into this simulated duration (at least 1m; 0: no storm)")
	fs.StringVar(&c.ClickHouse, "clickhouse", "", "ClickHouse native-protocol address (host:9000) for history; empty keeps history in the embedded store under --data-dir")
	fs.StringVar(&c.ClickHouseDB, "clickhouse-db", "ioc", "ClickHouse database for history (created with its schema if missing)")
	fs.StringVar(&c.ClickHouseUser, "clickhouse-user", "default", "ClickHouse user")
	fs.StringVar(&c.ClickHousePassword, "clickhouse-password", "", "ClickHouse password (prefer the environment variable to the flag)")
	fs.DurationVar(&c.KeyframeInterval, "keyframe-interval", 10*time.Minute, "how often history writes a keyframe (full state) so that seeking and restart read only from the nearest one")
	fs.BoolVar(&c.HistoryWriter, "history-writer", true, "write the live changes to history; false keeps history read-only (restore, queries and replay still work): for measuring the writer's cost, or a replica reading another's history")
	fs.StringVar(&c.Areas, "areas", "", "comma-separated GeoJSON files of administrative areas loaded over the embedded districts and wards (a feature with the same code replaces the embedded one)")
	fs.StringVar(&c.MQTT, "mqtt", "", "MQTT 5 broker to take events from, e.g. tcp://127.0.0.1:1883 (empty: no MQTT)")
	fs.StringVar(&c.MQTTTopics, "mqtt-topics", "ioc/#", "comma-separated MQTT topic filters; topics follow ioc/<layer>/<id>")
	fs.StringVar(&c.WebDir, "web-dir", "", "serve the map application from this directory instead of the embedded copy (development; e.g. frontend/web/static)")
	fs.StringVar(&c.MapStyle, "map-style", "", "MapLibre style URL for the map's base layer when a tile server is available; empty draws the built-in offline base map")
	fs.DurationVar(&c.ZoneSummaryInterval, "zone-summary-interval", time.Second, "least time between two writes of one zone's live summary to its ioc.zones feature (a storm inside a zone does not flood the push)")
	fs.DurationVar(&c.ZoneEventTTL, "zone-event-ttl", 15*time.Minute, "how long an enter or leave event stays on layer ioc.zone_events")
	fs.StringVar(&c.Rules, "rules", "", "YAML file of incident rules replacing the embedded defaults (docs/INCIDENTS.md; start from layers/incidents/rules.default.yaml)")
	fs.StringVar(&c.CAPSender, "cap-sender", "ioc@danang.gov.vn", "sender of the CAP alerts exported for incidents and zones (GET /api/v1/incidents/{id}/cap, /zones/{id}/cap)")
	fs.StringVar(&c.MQTTClientID, "mqtt-client-id", "", "MQTT client id, stable across restarts so the broker keeps the session (default iocd-<hostname>)")
	c.defineSecurity(fs)
}

// envName is the environment twin of a flag.
func envName(flagName string) string {
	return "IOC_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseConfig reads flags, then fills every flag not given on the command
// line from its environment twin, then validates.
func parseConfig(args []string, getenv func(string) string, out io.Writer) (*Config, error) {
	c := &Config{}
	fs := flag.NewFlagSet("iocd", flag.ContinueOnError)
	fs.SetOutput(out)
	c.define(fs)
	fs.Usage = func() { usage(fs, out) }
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(envName(f.Name)); v != "" && !set[f.Name] && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("%s=%q: %w", envName(f.Name), v, err)
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	return c, c.validate()
}

func usage(fs *flag.FlagSet, out io.Writer) {
	fmt.Fprintf(out, "iocd: the Da Nang Intelligent Operation Center server\n\n")
	fmt.Fprintf(out, "Usage:\n  iocd [flags]              run the server\n  iocd checkconfig [flags]  validate the configuration (flags and IOC_ environment) without starting\n\n")
	fmt.Fprintf(out, "Flags (each also read from its environment variable):\n")
	fs.VisitAll(func(f *flag.Flag) {
		fmt.Fprintf(out, "  --%s  (%s, default %q)\n      %s\n", f.Name, envName(f.Name), f.DefValue, f.Usage)
	})
}

func (c *Config) validate() error {
	if _, err := c.area(); err != nil {
		return fmt.Errorf("--area: %w", err)
	}
	if _, err := c.layerTTLs(); err != nil {
		return fmt.Errorf("--layer-ttl: %w", err)
	}
	if _, err := c.clusterZooms(); err != nil {
		return fmt.Errorf("--cluster-zoom: %w", err)
	}
	if c.CAPSender == "" || strings.ContainsAny(c.CAPSender, " \t,<&") {
		return fmt.Errorf("--cap-sender %q: CAP senders are non-empty, without spaces, commas, < or &", c.CAPSender)
	}
	if c.Rules != "" {
		if _, err := incidents.LoadRules(c.Rules); err != nil {
			return fmt.Errorf("--rules: %w", err)
		}
	}
	if _, err := c.logLevel(); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("--log-format: want text or json, got %q", c.LogFormat)
	}
	if c.SimScale <= 0 || c.SimScale > 100 || c.SimSpeed <= 0 {
		return fmt.Errorf("--sim-scale must be in (0, 100] and --sim-speed positive")
	}
	if c.Storm != 0 && c.Storm < time.Minute {
		return fmt.Errorf("--storm: want at least 1m, got %v", c.Storm)
	}
	if c.MQTT != "" {
		if err := c.mqttConfig().Validate(); err != nil {
			return fmt.Errorf("--mqtt: %w", err)
		}
	}
	if err := c.validateSecurity(); err != nil {
		return err
	}
	if c.MaxBody <= 0 || c.MaxBatch <= 0 || c.ChangeLog <= 0 || c.PushInterval <= 0 {
		return fmt.Errorf("--max-body, --max-batch, --change-log and --push-interval must be positive")
	}
	return nil
}

// area returns the service area, or the zero Rect when disabled.
func (c *Config) area() (geo.Rect, error) {
	if strings.TrimSpace(c.Area) == "" {
		return geo.Rect{}, nil
	}
	return geo.ParseRect(c.Area)
}

// layerTTLs parses "layer=duration,..." into a map.
func (c *Config) layerTTLs() (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	for _, part := range strings.Split(c.LayerTTL, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, dur, ok := strings.Cut(part, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("%q: want layer=duration", part)
		}
		d, err := time.ParseDuration(dur)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%q: want a positive duration such as 90s or 15m", part)
		}
		out[name] = d
	}
	return out, nil
}

// clusterZooms parses "layer=zoom,..." into a map; zoom is an integer in
// [0, 24], 0 meaning never cluster.
func (c *Config) clusterZooms() (map[string]int, error) {
	out := map[string]int{}
	for _, part := range splitList(c.ClusterZoom) {
		name, z, ok := strings.Cut(part, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("%q: want layer=zoom", part)
		}
		n, err := strconv.Atoi(z)
		if err != nil || n < 0 || n > 24 {
			return nil, fmt.Errorf("%q: want an integer map zoom in [0, 24] (0: never cluster)", part)
		}
		out[name] = n
	}
	return out, nil
}

func (c *Config) logLevel() (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(c.LogLevel))
	return l, err
}

func (c *Config) logger(w io.Writer) *slog.Logger {
	level, _ := c.logLevel()
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func (c *Config) decoderConfig() streams.DecoderConfig {
	area, _ := c.area()
	return streams.DecoderConfig{MaxFuture: c.MaxFuture, Area: area, MaxBatch: c.MaxBatch}
}

func (c *Config) mqttConfig() mqtt.Config {
	return mqtt.Config{URL: c.MQTT, Topics: splitList(c.MQTTTopics), ClientID: c.MQTTClientID}
}

func (c *Config) areaFiles() []string { return splitList(c.Areas) }

func (c *Config) origins() []string { return splitList(c.AllowedOrigins) }

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// configReference renders every flag as the Markdown table of
// docs/CONFIGURATION.md, so that the document is generated from the code.
func configReference() string {
	fs := flag.NewFlagSet("iocd", flag.ContinueOnError)
	(&Config{}).define(fs)
	var b strings.Builder
	b.WriteString("# iocd configuration reference\n\n")
	b.WriteString("Generated from the code by `go test ./cmd/iocd -run TestConfigReferenceIsCurrent -update`; do not edit by hand.\n\n")
	b.WriteString("Every flag has an environment-variable twin: `IOC_` + the flag in upper case, dashes as underscores.\n")
	b.WriteString("A flag given on the command line wins over the environment, which wins over the default.\n")
	b.WriteString("Durations use Go syntax (`90s`, `15m`, `2h`). `iocd -help` prints the same list.\n\n")
	b.WriteString("| flag | environment | default | meaning |\n|---|---|---|---|\n")
	fs.VisitAll(func(f *flag.Flag) {
		def := f.DefValue
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(&b, "| `--%s` | `%s` | `%s` | %s |\n", f.Name, envName(f.Name), def, f.Usage)
	})
	return b.String()
}
