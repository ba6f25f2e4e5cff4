package incidents

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/twpayne/go-geom"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
)

// Layer is the layer incidents are written to.
const Layer = "ioc.incidents"

// Statuses of an incident.
const (
	StatusOpen         = "open"
	StatusAcknowledged = "acknowledged"
	StatusAssigned     = "assigned"
	StatusResolved     = "resolved"
	StatusClosed       = "closed" // closed by its rule's clearAfter
)

// Task statuses, in the only order a task moves.
var taskOrder = map[string]int{"assigned": 1, "en_route": 2, "on_site": 3, "done": 4}

// Bounds on what one incident keeps, so that a storm cannot grow a feature
// without limit: the newest entries are kept, with the total count.
const (
	MaxEvidence = 50
	MaxTrail    = 50
)

// Evidence is one entity and event that raised or joined an incident.
type Evidence struct {
	Layer   string    `json:"layer"`
	ID      string    `json:"id"`
	Time    time.Time `json:"time"`
	Rule    string    `json:"rule"`
	Summary string    `json:"summary"`
	Lon     float64   `json:"lon"`
	Lat     float64   `json:"lat"`
}

// Task links a team to the incident.
type Task struct {
	Team   string    `json:"team"`
	Status string    `json:"status"`
	Since  time.Time `json:"since"`
}

// TrailEntry is one line of the audit trail: who did what, when.
type TrailEntry struct {
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	Action string    `json:"action"`
	Detail string    `json:"detail,omitempty"`
}

// Incident is the state of one incident; its properties are the feature's.
type Incident struct {
	ID            string       `json:"-"`
	Category      string       `json:"category"`
	Severity      Severity     `json:"severity"`
	Status        string       `json:"status"`
	Title         string       `json:"title"`
	Place         string       `json:"place,omitempty"`
	District      string       `json:"district,omitempty"`
	DistrictCode  string       `json:"districtCode,omitempty"`
	Ward          string       `json:"ward,omitempty"`
	WardCode      string       `json:"wardCode,omitempty"`
	Opened        time.Time    `json:"opened"`
	Updated       time.Time    `json:"updated"`
	Resolved      *time.Time   `json:"resolved,omitempty"`
	Evidence      []Evidence   `json:"evidence"`
	EvidenceCount int          `json:"evidenceCount"`
	Layers        []string     `json:"layers"`
	Rules         []string     `json:"rules"`
	AutoClose     Duration     `json:"-"`
	AutoCloseText string       `json:"autoClose,omitempty"`
	ClearSince    *time.Time   `json:"clearSince,omitempty"`
	Tasks         []Task       `json:"tasks"`
	Trail         []TrailEntry `json:"trail"`
	TrailCount    int          `json:"trailCount"`

	seen     map[string]bool // every evidence key ever added, so EvidenceCount counts each once
	lon, lat float64         // published position: the first evidence
	box      geo.Rect        // bounds of the evidence positions, for fusion
	time     time.Time
}

// open reports whether the incident still takes evidence.
func (in *Incident) open() bool {
	return in.Status != StatusResolved && in.Status != StatusClosed
}

// addEvidence adds or refreshes e (one entry per layer, id and rule) and
// keeps the newest MaxEvidence. An entry that was dropped from the list is
// not added again: a growing cluster re-sends all its reports with every
// new one, and the old ones must neither be counted twice nor push the
// newest out.
func (in *Incident) addEvidence(e Evidence) (added bool) {
	for i := range in.Evidence {
		old := &in.Evidence[i]
		if old.Layer == e.Layer && old.ID == e.ID && old.Rule == e.Rule {
			copy(in.Evidence[i:], in.Evidence[i+1:])
			in.Evidence[len(in.Evidence)-1] = e // newest last
			in.grow(e.Lon, e.Lat)
			return false
		}
	}
	k := e.Layer + "\x00" + e.ID + "\x00" + e.Rule
	if in.seen[k] {
		return false
	}
	if in.seen == nil {
		in.seen = map[string]bool{}
	}
	in.seen[k] = true
	in.Evidence = append(in.Evidence, e)
	if len(in.Evidence) > MaxEvidence {
		in.Evidence = append(in.Evidence[:0], in.Evidence[len(in.Evidence)-MaxEvidence:]...)
	}
	in.EvidenceCount++
	in.grow(e.Lon, e.Lat)
	addSorted(&in.Layers, e.Layer)
	addSorted(&in.Rules, e.Rule)
	return true
}

func addSorted(list *[]string, s string) {
	for i, v := range *list {
		if v == s {
			return
		}
		if v > s {
			*list = append((*list)[:i], append([]string{s}, (*list)[i:]...)...)
			return
		}
	}
	*list = append(*list, s)
}

func (in *Incident) record(at time.Time, by, action, detail string) {
	in.Trail = append(in.Trail, TrailEntry{At: at, By: by, Action: action, Detail: detail})
	if len(in.Trail) > MaxTrail {
		in.Trail = append(in.Trail[:0], in.Trail[len(in.Trail)-MaxTrail:]...)
	}
	in.TrailCount++
}

// grow extends the evidence bounds to (lon, lat); the first evidence sets
// them and the incident's position.
func (in *Incident) grow(lon, lat float64) {
	if in.EvidenceCount <= 1 && len(in.Evidence) <= 1 && in.box == (geo.Rect{}) {
		in.box, in.lon, in.lat = pointRect(lon, lat), lon, lat
		return
	}
	in.box = in.box.Union(pointRect(lon, lat))
}

func pointRect(lon, lat float64) geo.Rect {
	return geo.Rect{MinX: lon, MinY: lat, MaxX: lon, MaxY: lat}
}

// event turns the incident into the layer event that stores it. Its time
// is the incident's own clock (one tick past the previous write when the
// clock has not moved), so every write is newer than the last one and is
// never taken for a late event.
func (in *Incident) event(now time.Time) (layers.Event, error) {
	if !now.After(in.time) {
		now = in.time.Add(time.Millisecond)
	}
	in.time = now
	in.AutoCloseText = ""
	if in.AutoClose > 0 {
		in.AutoCloseText = in.AutoClose.D().String()
	}
	props, err := json.Marshal(in)
	if err != nil {
		return layers.Event{}, fmt.Errorf("incident %s: %w", in.ID, err)
	}
	pt := geom.NewPointFlat(geom.XY, []float64{in.lon, in.lat})
	return layers.Event{Layer: Layer, ID: in.ID, Time: now, Geometry: pt, Properties: props}, nil
}

// fromFeature rebuilds an incident from its stored feature.
func fromFeature(f *layers.Feature) (*Incident, error) {
	in := &Incident{}
	if err := json.Unmarshal(f.Properties, in); err != nil {
		return nil, fmt.Errorf("incident %s: properties: %w", f.ID, err)
	}
	in.ID, in.time = f.ID, f.Time
	if d, err := time.ParseDuration(in.AutoCloseText); err == nil {
		in.AutoClose = Duration(d)
	}
	in.lon, in.lat = f.Bounds.MinX, f.Bounds.MinY
	in.box = pointRect(in.lon, in.lat)
	in.seen = map[string]bool{}
	for _, e := range in.Evidence {
		in.box = in.box.Union(pointRect(e.Lon, e.Lat))
		in.seen[e.Layer+"\x00"+e.ID+"\x00"+e.Rule] = true
	}
	return in, nil
}

// idNumber returns n of "inc-<n>", or 0.
func idNumber(id string) uint64 {
	n, err := strconv.ParseUint(strings.TrimPrefix(id, "inc-"), 10, 64)
	if err != nil || !strings.HasPrefix(id, "inc-") {
		return 0
	}
	return n
}

// roundCoord keeps positions to ~1 cm so stored evidence stays short.
func roundCoord(v float64) float64 { return math.Round(v*1e7) / 1e7 }
