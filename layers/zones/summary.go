package zones

import (
	"cmp"
	"slices"
	"time"

	"github.com/goccy/go-json"
)

// Scale orders the values of one property from best to worst, so a zone
// can say the worst state of a layer's entities inside it (the worst air
// band, the highest river warning band).
type Scale struct {
	Property string
	Values   []string // best first
}

// DefaultScales are the worst-state scales of the city layers
// (docs/MODULES.md) and of the incident and CAP layers.
var DefaultScales = map[string]Scale{
	"environment.air":   {"aqiBand", []string{"good", "moderate", "poor", "bad", "very_bad", "hazardous"}},
	"flooding.rivers":   {"levelBand", []string{"unknown", "below_bd1", "bd1", "bd2", "bd3"}},
	"flooding.streets":  {"depthClass", []string{"dry", "shallow", "moderate", "deep", "very_deep"}},
	"traffic.segments":  {"congestion", []string{"free", "light", "moderate", "heavy", "jammed"}},
	"traffic.signals":   {"status", []string{"normal", "flashing", "fault", "offline"}},
	"lighting.lamps":    {"state", []string{"on", "dimmed", "off", "fault", "no_power"}},
	"lighting.cabinets": {"state", []string{"unknown", "on", "dimmed", "off", "fault", "no_power"}},
	"ioc.incidents":     {"severity", []string{"info", "minor", "major", "critical"}},
	"alerts.cap":        {"severity", []string{"Unknown", "Minor", "Moderate", "Severe", "Extreme"}},
	"response.teams":    {"status", []string{"available", "busy", "offline"}},
}

// The layers whose entities the summary counts in its own terms.
const (
	layerReports   = "feedback.reports"
	layerLamps     = "lighting.lamps"
	layerSegments  = "traffic.segments"
	layerStreets   = "flooding.streets"
	layerIncidents = "ioc.incidents"
	layerTeams     = "response.teams"
)

// blockedDepth is the street flood depth (cm) from which a road counts as
// blocked: the "deep" class, impassable for motorbikes and small cars.
const blockedDepth = 30

// entityProps are the properties the summary reads; the rest of an
// entity's properties are ignored.
type entityProps struct {
	DistrictCode    string  `json:"districtCode"`
	WardCode        string  `json:"wardCode"`
	Category        string  `json:"category"`
	Open            *bool   `json:"open"`
	Dark            bool    `json:"dark"`
	CongestionLevel int     `json:"congestionLevel"`
	Depth           float64 `json:"depth"`
	Name            string  `json:"name"`
	Kind            string  `json:"kind"`
	Status          string  `json:"status"`
	Severity        string  `json:"severity"`
	Title           string  `json:"title"`
	raw             []byte  // for the scale property
}

func parseProps(raw json.RawMessage) *entityProps {
	p := &entityProps{raw: raw}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, p) // a field of an unexpected type stays empty
	}
	return p
}

// member is what a zone keeps of one entity inside it: only what the
// summary needs, not the feature.
type member struct {
	state    string // value on the layer's scale, or ""
	stale    bool
	flags    uint8
	category string // open reports
	name     string // teams, incidents (title)
	kind     string
	status   string
	severity string
}

// What an entity counts as in a summary.
const (
	flagOpenReport = 1 << iota
	flagLampOut
	flagRoadBlocked
	flagActiveIncident
	flagTeam
)

// classify reduces an entity to the member a zone keeps.
func classify(layer string, stale bool, p *entityProps, scales map[string]Scale) member {
	m := member{stale: stale}
	if sc, ok := scales[layer]; ok {
		m.state = scaleValue(p.raw, sc.Property)
	}
	switch layer {
	case layerReports:
		if p.Open == nil || *p.Open {
			m.flags |= flagOpenReport
			m.category = p.Category
		}
	case layerLamps:
		if p.Dark {
			m.flags |= flagLampOut
		}
	case layerSegments:
		if p.CongestionLevel >= 4 {
			m.flags |= flagRoadBlocked
		}
	case layerStreets:
		if p.Depth >= blockedDepth {
			m.flags |= flagRoadBlocked
		}
	case layerIncidents:
		if p.Status != "resolved" && p.Status != "closed" {
			m.flags |= flagActiveIncident
			m.name, m.status, m.severity, m.category = p.Title, p.Status, p.Severity, p.Category
		}
	case layerTeams:
		m.flags |= flagTeam
		m.name, m.kind, m.status = p.Name, p.Kind, p.Status
	}
	return m
}

// scaleValue reads one top-level string property of a compact JSON
// object without decoding the rest: it runs for every change inside a
// zone. A value with escapes is decoded properly; a value of another type
// reads as "".
func scaleValue(raw []byte, name string) string {
	depth, i := 0, 0
	for i < len(raw) {
		switch c := raw[i]; c {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case '"':
			end := stringEnd(raw, i)
			if end < 0 {
				return ""
			}
			if depth == 1 && end+1 < len(raw) && raw[end+1] == ':' && string(raw[i+1:end]) == name {
				return stringAt(raw, end+2)
			}
			i = end
		}
		i++
	}
	return ""
}

// stringEnd returns the index of the quote closing the string that opens
// at raw[start], or -1.
func stringEnd(raw []byte, start int) int {
	for j := start + 1; j < len(raw); j++ {
		switch raw[j] {
		case '\\':
			j++
		case '"':
			return j
		}
	}
	return -1
}

// stringAt reads the JSON string value starting at raw[i], or "".
func stringAt(raw []byte, i int) string {
	if i >= len(raw) || raw[i] != '"' {
		return ""
	}
	end := stringEnd(raw, i)
	if end < 0 {
		return ""
	}
	v := raw[i+1 : end]
	for _, c := range v {
		if c == '\\' {
			var s string
			if json.Unmarshal(raw[i:end+1], &s) != nil {
				return ""
			}
			return s
		}
	}
	return string(v)
}

// Summary is what a zone holds now; it is the summary property of the
// zone's feature.
type Summary struct {
	Updated time.Time `json:"updated"`
	// Entities counts everything inside, over all layers.
	Entities int `json:"entities"`
	// Layers has, per layer, the count of entities inside, how many are
	// stale, and for layers with a scale the count per state and the
	// worst state present.
	Layers       map[string]*LayerSummary `json:"layers"`
	ReportsOpen  int                      `json:"reportsOpen"`
	ReportsBy    map[string]int           `json:"reportsByCategory,omitempty"`
	LampsOut     int                      `json:"lampsOut"`
	RoadsBlocked int                      `json:"roadsBlocked"`
	Incidents    int                      `json:"incidents"`
	IncidentList []Ref                    `json:"incidentList,omitempty"`
	Teams        int                      `json:"teams"`
	TeamList     []Ref                    `json:"teamList,omitempty"`
}

// LayerSummary is one layer's part of a Summary.
type LayerSummary struct {
	Count  int            `json:"count"`
	Stale  int            `json:"stale,omitempty"`
	Worst  string         `json:"worst,omitempty"`
	States map[string]int `json:"states,omitempty"`
}

// Ref names an incident or a team inside a zone.
type Ref struct {
	ID       string `json:"id"`
	Name     string `json:"name,omitempty"`
	Kind     string `json:"kind,omitempty"`
	Category string `json:"category,omitempty"`
	Status   string `json:"status,omitempty"`
	Severity string `json:"severity,omitempty"`
}

// maxRefs bounds the incident and team lists of a summary, so a storm
// cannot grow a zone's feature without limit; the counts stay exact.
const maxRefs = 50

// summarize computes the zone's summary from its members.
func (z *zone) summarize(now time.Time, scales map[string]Scale) *Summary {
	s := &Summary{Updated: now, Entities: len(z.members), Layers: map[string]*LayerSummary{}}
	for k, m := range z.members {
		ls := s.Layers[k.layer]
		if ls == nil {
			ls = &LayerSummary{}
			s.Layers[k.layer] = ls
		}
		ls.add(m, scales[k.layer])
		s.count(k, m)
	}
	sortRefs(s.IncidentList, severities)
	sortRefs(s.TeamList, nil)
	s.IncidentList = s.IncidentList[:min(len(s.IncidentList), maxRefs)]
	s.TeamList = s.TeamList[:min(len(s.TeamList), maxRefs)]
	return s
}

func (ls *LayerSummary) add(m *member, sc Scale) {
	ls.Count++
	if m.stale {
		ls.Stale++
	}
	if m.state == "" {
		return
	}
	if ls.States == nil {
		ls.States = map[string]int{}
	}
	ls.States[m.state]++
	if slices.Index(sc.Values, m.state) > slices.Index(sc.Values, ls.Worst) {
		ls.Worst = m.state
	}
}

func (s *Summary) count(k key, m *member) {
	if m.flags&flagOpenReport != 0 {
		s.ReportsOpen++
		if m.category != "" {
			if s.ReportsBy == nil {
				s.ReportsBy = map[string]int{}
			}
			s.ReportsBy[m.category]++
		}
	}
	if m.flags&flagLampOut != 0 {
		s.LampsOut++
	}
	if m.flags&flagRoadBlocked != 0 {
		s.RoadsBlocked++
	}
	if m.flags&flagActiveIncident != 0 {
		s.Incidents++
		s.IncidentList = append(s.IncidentList, Ref{ID: k.id, Name: m.name, Category: m.category, Status: m.status, Severity: m.severity})
	}
	if m.flags&flagTeam != 0 {
		s.Teams++
		s.TeamList = append(s.TeamList, Ref{ID: k.id, Name: m.name, Kind: m.kind, Status: m.status})
	}
}

// sortRefs puts the most severe first (when order is given), then by id,
// so the lists are deterministic.
func sortRefs(refs []Ref, order []string) {
	slices.SortFunc(refs, func(a, b Ref) int {
		if c := cmp.Compare(slices.Index(order, b.Severity), slices.Index(order, a.Severity)); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}
