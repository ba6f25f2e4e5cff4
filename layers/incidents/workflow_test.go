package incidents

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/geo"
	"github.com/danang-ioc/ioc/layers"
)

const riverBD2 = `{"layer":"flooding.rivers","id":"wl-1","geometry":{"type":"Point","coordinates":[108.2150,16.0100]},"properties":{"currentLevel":3.0,"bd1":1.9,"bd2":2.9,"bd3":3.5}}`

// withIncident returns a scenario holding one open incident, inc-1.
func withIncident(t *testing.T) *scenario {
	t.Helper()
	s := newScenario(t, nil)
	if err := s.event(riverBD2); err != nil {
		t.Fatal(err)
	}
	if ids := s.engine.openIDs(); len(ids) != 1 || ids[0] != "inc-1" {
		t.Fatalf("want inc-1 open, got %v", ids)
	}
	return s
}

// stored reads an incident back from the layer: what was written, not what
// the engine holds.
func (s *scenario) stored(t *testing.T, id string) *Incident {
	t.Helper()
	f := s.store.Layer(Layer).Get(id)
	if f == nil {
		t.Fatalf("%s not in the layer", id)
	}
	inc, err := fromFeature(f)
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

// Every action, from the state it is legal in, and the audit record it
// leaves: who, when, what.
func TestEveryActionIsAudited(t *testing.T) {
	tests := []struct {
		name   string
		before []Action // run first
		act    Action
		status string
		detail string
		check  func(t *testing.T, inc *Incident)
	}{
		{"acknowledge", nil, Action{Action: ActAcknowledge}, StatusAcknowledged, "", nil},
		{"assign", nil, Action{Action: ActAssign, Team: "rescue-1"}, StatusAssigned, "rescue-1", func(t *testing.T, inc *Incident) {
			if len(inc.Tasks) != 1 || inc.Tasks[0] != (Task{Team: "rescue-1", Status: "assigned", Since: inc.Updated}) {
				t.Errorf("tasks: %+v", inc.Tasks)
			}
		}},
		{"comment", nil, Action{Action: ActComment, Text: "đang kiểm tra"}, StatusOpen, "đang kiểm tra", nil},
		{"severity", nil, Action{Action: ActSeverity, Severity: SevCritical}, StatusOpen, "major → critical", func(t *testing.T, inc *Incident) {
			if inc.Severity != SevCritical {
				t.Errorf("severity %s", inc.Severity)
			}
		}},
		{"resolve", nil, Action{Action: ActResolve}, StatusResolved, "", func(t *testing.T, inc *Incident) {
			if inc.Resolved == nil || !inc.Resolved.Equal(inc.Updated) {
				t.Errorf("resolved time %v", inc.Resolved)
			}
		}},
		{"reopen", []Action{{Action: ActResolve}}, Action{Action: ActReopen}, StatusOpen, "", func(t *testing.T, inc *Incident) {
			if inc.Resolved != nil || inc.AutoClose != 0 {
				t.Errorf("a reopened incident has no resolved time and waits for a person: %v %v", inc.Resolved, inc.AutoClose)
			}
		}},
		{"task forward", []Action{{Action: ActAssign, Team: "rescue-1"}}, Action{Action: ActTask, Team: "rescue-1", Status: "on_site"},
			StatusAssigned, "rescue-1: assigned → on_site", func(t *testing.T, inc *Incident) {
				if inc.Tasks[0].Status != "on_site" {
					t.Errorf("tasks: %+v", inc.Tasks)
				}
			}},
		{"task assigns", nil, Action{Action: ActTask, Team: "medic-2", Status: "assigned"}, StatusAssigned, "medic-2", nil},
		{"comment on resolved", []Action{{Action: ActResolve}}, Action{Action: ActComment, Text: "after-action note"}, StatusResolved, "after-action note", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := withIncident(t)
			for _, a := range tt.before {
				if _, err := s.engine.Act("inc-1", a, "setup"); err != nil {
					t.Fatal(err)
				}
			}
			s.clock.t = s.clock.t.Add(7 * time.Minute)
			if _, err := s.engine.Act("inc-1", tt.act, "lan"); err != nil {
				t.Fatal(err)
			}
			inc := s.stored(t, "inc-1")
			last := inc.Trail[len(inc.Trail)-1]
			want := TrailEntry{At: s.clock.t, By: "lan", Action: tt.act.Action, Detail: tt.detail}
			if !last.At.Equal(want.At) || last.By != want.By || last.Action != want.Action || last.Detail != want.Detail {
				t.Errorf("trail: got %+v, want %+v", last, want)
			}
			if inc.Status != tt.status || !inc.Updated.Equal(s.clock.t) {
				t.Errorf("status %s updated %v, want %s at %v", inc.Status, inc.Updated, tt.status, s.clock.t)
			}
			if tt.check != nil {
				tt.check(t, inc)
			}
		})
	}
}

func TestIllegalActions(t *testing.T) {
	tests := []struct {
		name   string
		before []Action
		act    Action
		want   string
	}{
		{"acknowledge twice", []Action{{Action: ActAcknowledge}}, Action{Action: ActAcknowledge}, "incident inc-1 is already acknowledged"},
		{"acknowledge assigned", []Action{{Action: ActAssign, Team: "t"}}, Action{Action: ActAcknowledge}, "is already assigned"},
		{"assign twice", []Action{{Action: ActAssign, Team: "t"}}, Action{Action: ActAssign, Team: "t"}, "team t already has a task on incident inc-1 (assigned)"},
		{"same severity", nil, Action{Action: ActSeverity, Severity: SevMajor}, "incident inc-1 is already major"},
		{"resolve twice", []Action{{Action: ActResolve}}, Action{Action: ActResolve}, "incident inc-1 is resolved: reopen it first"},
		{"assign resolved", []Action{{Action: ActResolve}}, Action{Action: ActAssign, Team: "t"}, "reopen it first"},
		{"reopen open", nil, Action{Action: ActReopen}, "incident inc-1 is open, not resolved or closed"},
		{"task unknown team", nil, Action{Action: ActTask, Team: "t", Status: "en_route"}, "team t has no open task on incident inc-1: assign it first"},
		{"task backwards", []Action{{Action: ActAssign, Team: "t"}, {Action: ActTask, Team: "t", Status: "on_site"}},
			Action{Action: ActTask, Team: "t", Status: "en_route"}, "task of team t on incident inc-1 is on_site: a task moves only forward"},
		{"task done twice", []Action{{Action: ActAssign, Team: "t"}, {Action: ActTask, Team: "t", Status: "done"}},
			Action{Action: ActTask, Team: "t", Status: "done"}, "team t has no open task"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := withIncident(t)
			for _, a := range tt.before {
				if _, err := s.engine.Act("inc-1", a, "setup"); err != nil {
					t.Fatal(err)
				}
			}
			before := s.stored(t, "inc-1").TrailCount
			_, err := s.engine.Act("inc-1", tt.act, "lan")
			var ce *ConflictError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want a conflict containing %q", err, tt.want)
			}
			if after := s.stored(t, "inc-1").TrailCount; after != before {
				t.Errorf("a refused action must leave no record: trail %d -> %d", before, after)
			}
		})
	}
	s := withIncident(t)
	if _, err := s.engine.Act("inc-404", Action{Action: ActAcknowledge}, "lan"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown incident: %v", err)
	}
}

func TestDecodeAction(t *testing.T) {
	tests := []struct {
		body, field string
	}{
		{``, "body"},
		{`[]`, "body"},
		{`{"action":"acknowledge"} {}`, "body"},
		{`{"action":"fly"}`, "action"},
		{`{}`, "action"},
		{`{"action":"assign"}`, "team"},
		{`{"action":"assign","team":"a\u0001"}`, "team"},
		{`{"action":"comment","text":"  "}`, "text"},
		{`{"action":"comment","text":"` + strings.Repeat("x", MaxText+1) + `"}`, "text"},
		{`{"action":"severity","severity":"high"}`, "severity"},
		{`{"action":"task","team":"t","status":"lost"}`, "status"},
		{`{"action":"task","status":"done"}`, "team"},
		{`{"action":"acknowledge","colour":"red"}`, "colour"},
		{`{"action":3}`, "action"},
		{`{"action":"acknowledge","by":"` + strings.Repeat("x", MaxName+1) + `"}`, "by"},
	}
	for _, tt := range tests {
		_, err := DecodeAction(strings.NewReader(tt.body))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tt.field {
			t.Errorf("%.60s: got %v, want an error naming %q", tt.body, err, tt.field)
		}
	}
	a, err := DecodeAction(strings.NewReader(`{"action":"task","team":"rescue-1","status":"en_route","by":"tablet-7"}`))
	if err != nil || a != (Action{Action: ActTask, Team: "rescue-1", Status: "en_route", By: "tablet-7"}) {
		t.Errorf("got %+v %v", a, err)
	}
}

// The engine's state survives a restart: the incidents come back from the
// layer (as replay.Restore rebuilds it from history), a new match of the same
// entity joins the restored incident instead of opening a duplicate, and new
// incidents continue the numbering.
func TestRebuildAfterRestart(t *testing.T) {
	s := withIncident(t)
	if _, err := s.engine.Act("inc-1", Action{Action: ActAssign, Team: "rescue-1"}, "lan"); err != nil {
		t.Fatal(err)
	}
	// a second incident, resolved: it stays resolved after the restart
	aqi := `{"layer":"environment.air","id":"aq-1","geometry":{"type":"Point","coordinates":[108.15,16.07]},"properties":{"pm25":120}}`
	if err := s.event(aqi); err != nil {
		t.Fatal(err)
	}
	if _, err := s.engine.Act("inc-2", Action{Action: ActResolve}, "lan"); err != nil {
		t.Fatal(err)
	}

	restarted := newScenario(t, nil)
	restarted.clock.t = s.clock.t.Add(time.Minute)
	restored := restoreLayer(t, s.store, restarted.store)
	n, err := restarted.engine.Rebuild()
	if err != nil || n != 1 || restored != 2 {
		t.Fatalf("rebuild: %d open of %d restored, %v", n, restored, err)
	}
	if restarted.engine.Lag() != 0 {
		t.Errorf("the restored changes must not be evaluated again: lag %d", restarted.engine.Lag())
	}
	restarted.clock.t = restarted.clock.t.Add(10 * time.Minute)
	bd3 := strings.Replace(riverBD2, `"currentLevel":3.0`, `"currentLevel":3.6`, 1)
	if err := restarted.event(bd3); err != nil {
		t.Fatal(err)
	}
	inc := restarted.stored(t, "inc-1")
	if inc.Severity != SevCritical || inc.Status != StatusAssigned || len(inc.Tasks) != 1 {
		t.Errorf("restored incident after BĐ3: %s %s %+v", inc.Severity, inc.Status, inc.Tasks)
	}
	if err := restarted.event(strings.Replace(aqi, "aq-1", "aq-2", 1)); err != nil {
		t.Fatal(err)
	}
	if ids := restarted.engine.openIDs(); len(ids) != 2 || ids[1] != "inc-3" {
		t.Errorf("want inc-1 and a new inc-3 open, got %v", ids)
	}
	if got := restarted.stored(t, "inc-2").Status; got != StatusResolved {
		t.Errorf("inc-2: %s", got)
	}
}

// restoreLayer copies the incidents layer as replay.Restore does: one
// upsert per stored feature.
func restoreLayer(t *testing.T, from, to *layers.Store) int {
	var evs []layers.Event
	for _, f := range from.Layer(Layer).InRect(nil, geo.World, 0) {
		g, err := geo.Decode(geo.AppendGeoJSON(nil, f.Geometry))
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, layers.Event{Layer: f.Layer, ID: f.ID, Time: f.Time, Geometry: g, Properties: f.Properties})
	}
	to.Apply(evs)
	return len(evs)
}
