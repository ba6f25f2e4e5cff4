// Package environment gives the environmental monitoring feeds their
// domain meaning: the Vietnamese air quality index VN_AQI for air
// stations, and exceedances of national water-quality limits for river,
// sea and waste-water stations. docs/MODULES.md is the property reference.
package environment

import (
	"strconv"
	"sync"
	"time"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams"
	"github.com/danang-ioc/ioc/streams/internal/props"
)

// The layers of the environment module. Their names are public API.
const (
	LayerAir   = "environment.air"
	LayerWater = "environment.water"
)

// Config tunes the module; the zero value is usable.
type Config struct {
	// COInMilligrams says the feed sends co in mg/m³. By default every
	// pollutant, CO included, is in µg/m³, the unit of the VN_AQI table.
	COInMilligrams bool
	// DisableNowCast uses reported PM2.5 and PM10 values as they are, for
	// feeds that already send NowCast values. By default the module
	// computes the NowCast from the hourly means it has seen.
	DisableNowCast bool
	// Water replaces the default thresholds of a station kind (river, sea,
	// waste_water); see DefaultWaterThresholds.
	Water map[string]Thresholds
	// StationWater replaces the thresholds for one station, by id.
	StationWater map[string]Thresholds
	// StationKinds gives a water station's kind by id, for feeds that do
	// not send it.
	StationKinds map[string]string
	// Intervals overrides the expected reporting interval of a layer, by
	// layer name; StaleAfter follows as three intervals.
	Intervals map[string]time.Duration
}

// Module is the environment module. It is safe for concurrent use.
type Module struct {
	cfg   Config
	water map[string]Thresholds

	mu sync.Mutex
	// pm holds the hourly PM means of each air station for the NowCast.
	pm map[string]*[2]hourly // station id -> pm25, pm10
	// kinds remembers the kind each water station reported.
	kinds map[string]string
}

// New returns an environment module.
func New(cfg Config) *Module {
	water := DefaultWaterThresholds()
	for k, t := range cfg.Water {
		water[k] = t
	}
	return &Module{cfg: cfg, water: water, pm: map[string]*[2]hourly{}, kinds: map[string]string{}}
}

// Name implements streams.Module.
func (m *Module) Name() string { return "environment" }

// Specs lists the module's layers with their default intervals.
func Specs() []streams.LayerSpec { return layerSpecs(nil) }

// Layers implements streams.Module.
func (m *Module) Layers() []streams.LayerSpec { return layerSpecs(m.cfg.Intervals) }

// The brief gives 5 to 60 minutes for air stations; the default is the
// slow end, so hourly stations do not flap stale. Configure a shorter one
// where stations report every few minutes.
func layerSpecs(over map[string]time.Duration) []streams.LayerSpec {
	// A handful of stations: never clustered (ClusterZoom 0).
	air := props.Spec(LayerAir, "air-quality stations: pollutants and the hourly VN_AQI (Decision 1459/QĐ-TCMT)", time.Hour, over)
	air.Severity = streams.Severity{Property: "aqiBand", Levels: []string{"good", "moderate", "poor", "bad", "very_bad", "hazardous"}}
	water := props.Spec(LayerWater, "water-quality stations (river, sea, waste water): parameters and exceedances", time.Hour, over)
	water.Severity = streams.Severity{Property: "exceeded", Levels: []string{"ok", "exceeded"},
		Values: map[string]string{"false": "ok", "true": "exceeded"}}
	return []streams.LayerSpec{air, water}
}

// Process implements streams.Module.
func (m *Module) Process(ev layers.Event) ([]layers.Event, error) {
	if ev.Layer != LayerAir && ev.Layer != LayerWater {
		return nil, props.UnknownLayer(m.Name(), ev)
	}
	if ev.Op == layers.OpDelete {
		m.mu.Lock()
		if ev.Layer == LayerAir {
			delete(m.pm, ev.ID)
		} else {
			delete(m.kinds, ev.ID)
		}
		m.mu.Unlock()
		return []layers.Event{ev}, nil
	}
	p, err := props.FromEvent(ev, "Point")
	if err != nil {
		return nil, err
	}
	if ev.Layer == LayerAir {
		err = m.air(ev, p)
	} else {
		err = m.waterQuality(ev, p)
	}
	if err != nil {
		return nil, err
	}
	return []layers.Event{props.With(ev, p)}, nil
}

// air reads the pollutants and adds the VN_AQI properties.
func (m *Module) air(ev layers.Event, p props.Props) error {
	p.Alias("pm25", "pm2_5")
	delete(p, "pm25NowCast") // ours only, even when this report cannot have one
	delete(p, "pm10NowCast")
	var conc [len(pollutants)]float64
	var has [len(pollutants)]bool
	some := false
	for i, pol := range pollutants {
		v, ok, err := p.NonNeg(pol.name, "µg/m³")
		if err != nil {
			return err
		}
		if pol.name == "co" && m.cfg.COInMilligrams {
			v *= 1000
		}
		conc[i], has[i] = v, ok
		some = some || ok
	}
	if !some {
		return props.Invalid("properties", "an air report needs at least one of pm25, pm10, o3, no2, so2, co (µg/m³)")
	}
	provisional := m.applyNowCast(ev, p, &conc, has)
	setAQI(p, conc, has, provisional)
	return nil
}

// applyNowCast records the PM values and replaces them, in conc, by their
// NowCast. provisional is true when a PM value had to be used as it is
// because fewer than two of the last three hours are known (just after a
// start, or a station back from an outage).
func (m *Module) applyNowCast(ev layers.Event, p props.Props, conc *[len(pollutants)]float64, has [len(pollutants)]bool) bool {
	if m.cfg.DisableNowCast || (!has[0] && !has[1]) {
		return false
	}
	hour := ev.Time.Unix() / 3600
	if ev.Time.Unix() < 0 && ev.Time.Unix()%3600 != 0 {
		hour-- // floor, not truncation, before 1970
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.pm[ev.ID]
	if h == nil {
		h = new([2]hourly)
		m.pm[ev.ID] = h
	}
	provisional := false
	for i := range 2 { // pm25, pm10: the first two pollutants
		if !has[i] {
			continue
		}
		h[i].add(hour, conc[i])
		if nc, ok := h[i].nowCastAt(hour); ok {
			conc[i] = nc
			p.SetNum(pollutants[i].name+"NowCast", props.Round(nc, 1))
		} else {
			provisional = true
		}
	}
	return provisional
}

// setAQI writes the sub-indices and, when a PM sub-index exists, the
// index, its band and colour, and the dominant pollutant.
func setAQI(p props.Props, conc [len(pollutants)]float64, has [len(pollutants)]bool, provisional bool) {
	sub := make([]byte, 0, 64) // {"pm25":36,...}, built by hand: this is the hot path
	best, dominant := -1, ""
	for i, pol := range pollutants {
		if !has[i] {
			continue
		}
		v := aqiValue(subIndex(pol.bp, conc[i]))
		sub = append(append(append(append(sub, ',', '"'), pol.name...), '"', ':'), strconv.Itoa(v)...)
		if v > best { // strictly greater: ties go to the earlier pollutant
			best, dominant = v, pol.name
		}
	}
	sub[0] = '{'
	p["aqiSubIndex"] = append(sub, '}')
	for _, k := range []string{"aqi", "aqiBand", "aqiColor", "aqiColorHex", "aqiMajorPollutant", "aqiProvisional"} {
		delete(p, k) // never pass a source's own values off as ours
	}
	if !has[0] && !has[1] {
		return // no VN_AQI without particles
	}
	b := bandOf(best)
	p.SetInt("aqi", best)
	p.SetStr("aqiBand", b.name)
	p.SetStr("aqiColor", b.colour)
	p.SetStr("aqiColorHex", b.rgb)
	p.SetStr("aqiMajorPollutant", dominant)
	if provisional {
		p.SetBool("aqiProvisional", true)
	}
}
