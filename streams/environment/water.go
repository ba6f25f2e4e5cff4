package environment

import (
	"math"
	"strings"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams/internal/props"
)

// Limit bounds one water-quality parameter: a value below Min (when
// HasMin) or above Max (when HasMax) is an exceedance.
type Limit struct {
	Min, Max       float64
	HasMin, HasMax bool
}

// AtMost is an upper limit.
func AtMost(v float64) Limit { return Limit{Max: v, HasMax: true} }

// AtLeast is a lower limit (dissolved oxygen).
func AtLeast(v float64) Limit { return Limit{Min: v, HasMin: true} }

// Between is a range (pH).
func Between(lo, hi float64) Limit { return Limit{Min: lo, Max: hi, HasMin: true, HasMax: true} }

// Thresholds is a set of limits by parameter name, with the standard they
// come from, which the module shows next to the exceedances.
type Thresholds struct {
	Standard string
	Limits   map[string]Limit
}

// waterKinds are the kinds of water station.
var waterKinds = []string{"river", "sea", "waste_water"}

// DefaultWaterThresholds returns the default limits per station kind.
// They are defaults to be confirmed by the city's environment department,
// and are configuration (Config.Water, Config.StationWater):
//
//   - river: QCVN 08:2023/BTNMT (surface water). Table 2 classifies rivers
//     into levels A–D; we flag values worse than level B (pH 6.0–8.5, BOD5
//     ≤ 6, COD ≤ 15, DO ≥ 5.0, TSS ≤ 100 mg/L, total coliform ≤ 5000 per
//     100 mL). NH4+ (as N) 0.3 mg/L is the Table 1 limit for human health.
//     Read from secondary copies of the regulation; the TSS value for
//     level B in particular was inferred from level C (> 100) and should
//     be checked against the official text.
//   - sea: coastal water, QCVN 10:2023/BTNMT. UNCERTAIN: these are the
//     bathing-area values we recall from the earlier QCVN 10-MT:2015/BTNMT
//     (pH 6.5–8.5, DO ≥ 5, TSS ≤ 50, NH4+ ≤ 0.5 as N, coliform ≤ 1000)
//     and have not been checked against the 2023 text.
//   - waste_water: QCVN 40:2011/BTNMT (industrial waste water), column B
//     (discharge into water not used for drinking supply): pH 5.5–9,
//     BOD5 50, COD 150, TSS 100, NH4+ 10 mg/L, coliform 5000, 40 °C. The
//     2011 regulation has been superseded by QCVN 40:2025/BTNMT, whose
//     values we have not verified.
func DefaultWaterThresholds() map[string]Thresholds {
	return map[string]Thresholds{
		"river": {Standard: "QCVN 08:2023/BTNMT (level B; NH4+ Table 1)", Limits: map[string]Limit{
			"pH": Between(6.0, 8.5), "bod": AtMost(6), "cod": AtMost(15), "O2": AtLeast(5.0),
			"tss": AtMost(100), "coliform": AtMost(5000), "NH4": AtMost(0.3),
		}},
		"sea": {Standard: "QCVN 10:2023/BTNMT (bathing areas; unverified defaults)", Limits: map[string]Limit{
			"pH": Between(6.5, 8.5), "O2": AtLeast(5.0), "tss": AtMost(50), "NH4": AtMost(0.5),
			"coliform": AtMost(1000),
		}},
		"waste_water": {Standard: "QCVN 40:2011/BTNMT (column B)", Limits: map[string]Limit{
			"pH": Between(5.5, 9), "bod": AtMost(50), "cod": AtMost(150), "tss": AtMost(100),
			"NH4": AtMost(10), "coliform": AtMost(5000), "temperature": AtMost(40),
		}},
	}
}

// waterParam is a parameter the module reads: its canonical (Smart Data
// Models WaterQualityObserved where it has one) name, unit, the aliases it
// accepts, and the physically possible range.
type waterParam struct {
	name    string
	unit    string
	aliases []string
	lo, hi  float64
}

var waterParams = []waterParam{
	{"pH", "", []string{"ph"}, 0, 14},
	{"O2", "mg/L dissolved oxygen", []string{"do", "DO", "dissolvedOxygen"}, 0, 100},
	{"bod", "mg/L BOD5", []string{"bod5", "BOD5", "BOD"}, 0, math.MaxFloat64},
	{"cod", "mg/L", []string{"COD"}, 0, math.MaxFloat64},
	{"tss", "mg/L", []string{"TSS"}, 0, math.MaxFloat64},
	{"NH4", "mg/L as N", []string{"nh4", "NH4+", "ammonium"}, 0, math.MaxFloat64},
	{"coliform", "MPN or CFU per 100 mL", []string{"totalColiform", "totalColiforms"}, 0, math.MaxFloat64},
	{"temperature", "°C", nil, -5, 100},
	{"turbidity", "NTU", nil, 0, math.MaxFloat64},
	{"salinity", "‰", nil, 0, 400},
	{"conductivity", "µS/cm", nil, 0, math.MaxFloat64},
}

// exceedance is one parameter outside its limit, as shown to operators.
type exceedance struct {
	Parameter string   `json:"parameter"`
	Value     float64  `json:"value"`
	Min       *float64 `json:"min,omitempty"`
	Max       *float64 `json:"max,omitempty"`
}

// waterQuality validates the parameters and flags exceedances against the
// thresholds of the station (or of its kind). A station whose kind is not
// known is still taken: its parameters are validated, but without limits
// to hold them to, it gets no standard, exceedances or exceeded.
func (m *Module) waterQuality(ev layers.Event, p props.Props) error {
	kind, err := m.kindOf(ev.ID, p)
	if err != nil {
		return err
	}
	th, ok := m.cfg.StationWater[ev.ID]
	if !ok {
		th, ok = m.water[kind]
	}
	exceeded := []exceedance{}
	seen := 0
	for _, wp := range waterParams {
		p.Alias(wp.name, wp.aliases...)
		v, ok, err := p.Within(wp.name, wp.lo, wp.hi)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		seen++
		if lim, has := th.Limits[wp.name]; has {
			if e, bad := check(wp.name, v, lim); bad {
				exceeded = append(exceeded, e)
			}
		}
	}
	if seen == 0 {
		names := make([]string, len(waterParams))
		for i, wp := range waterParams {
			names[i] = wp.name
		}
		return props.Invalid("properties", "a water-quality report needs at least one of %s", strings.Join(names, ", "))
	}
	p.SetStr("kind", kind)
	for _, k := range []string{"standard", "exceedances", "exceeded"} {
		delete(p, k) // never pass a source's own verdict off as ours
	}
	if !ok {
		return nil
	}
	p.SetStr("standard", th.Standard)
	p.SetJSON("exceedances", exceeded)
	p.SetBool("exceeded", len(exceeded) > 0)
	return nil
}

func check(name string, v float64, lim Limit) (exceedance, bool) {
	e := exceedance{Parameter: name, Value: v}
	if lim.HasMin {
		e.Min = &lim.Min
	}
	if lim.HasMax {
		e.Max = &lim.Max
	}
	return e, (lim.HasMin && v < lim.Min) || (lim.HasMax && v > lim.Max)
}

// KindUnknown is the kind of a water station that neither its reports nor
// the configuration name.
const KindUnknown = "unknown"

// kindAliases are other spellings of the kinds, by their folded form
// (props.Fold): "River", "waste-water" and "Waste Water" need no entry.
var kindAliases = map[string]string{"seawater": "sea", "riverwater": "river"}

// readKind reads a report's kind, accepting any case and separators
// ("Waste Water", "waste-water") and a few synonyms ("seawater"). ok is
// false when the report gives none, or gives "unknown".
func readKind(p props.Props) (string, bool, error) {
	raw, ok, err := p.Str("kind")
	if err != nil || !ok || strings.TrimSpace(raw) == "" {
		return "", false, err
	}
	f := props.Fold(raw)
	if f == KindUnknown {
		return "", false, nil
	}
	for _, k := range waterKinds {
		if f == props.Fold(k) {
			return k, true, nil
		}
	}
	if k, ok := kindAliases[f]; ok {
		return k, true, nil
	}
	return "", false, props.Invalid(props.Path("kind"), "unknown kind %q: valid values are %s (or leave it out: %s)",
		raw, strings.Join(waterKinds, ", "), KindUnknown)
}

// kindOf resolves a station's kind: its report, what it reported before,
// the configuration, else unknown (SDM WaterQualityObserved has no kind).
func (m *Module) kindOf(id string, p props.Props) (string, error) {
	kind, ok, err := readKind(p)
	if err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if ok {
		m.kinds[id] = kind
		return kind, nil
	}
	if kind, ok := m.kinds[id]; ok {
		return kind, nil
	}
	if kind, ok := m.cfg.StationKinds[id]; ok {
		return kind, nil
	}
	return KindUnknown, nil
}
