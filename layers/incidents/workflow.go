package incidents

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/danang-ioc/ioc/geo"
)

// Action is a body of POST /api/v1/incidents/{id}/actions.
type Action struct {
	Action   string   `json:"action"`
	Team     string   `json:"team,omitempty"`
	Text     string   `json:"text,omitempty"`
	Severity Severity `json:"severity,omitempty"`
	Status   string   `json:"status,omitempty"`
	By       string   `json:"by,omitempty"`
}

// The actions.
const (
	ActAcknowledge = "acknowledge"
	ActAssign      = "assign"
	ActComment     = "comment"
	ActSeverity    = "severity"
	ActResolve     = "resolve"
	ActReopen      = "reopen"
	ActTask        = "task"
)

// Limits on action bodies.
const (
	MaxActionBody = 16 << 10
	MaxText       = 4000
	MaxName       = 128
)

// FieldError is a bad action body; Field names the member.
type FieldError struct {
	Field, Msg string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// ConflictError is an action the incident's state does not allow.
type ConflictError struct{ Msg string }

func (e *ConflictError) Error() string { return e.Msg }

// ErrNotFound: no incident with that id.
var ErrNotFound = errors.New("no such incident")

// DecodeAction reads and checks an action body. Unknown members are
// refused so a misspelt member is not silently ignored.
func DecodeAction(r io.Reader) (Action, error) {
	dec := json.NewDecoder(io.LimitReader(r, MaxActionBody+1))
	dec.DisallowUnknownFields()
	var a Action
	if err := dec.Decode(&a); err != nil {
		return Action{}, bodyError(err)
	}
	if dec.More() {
		return Action{}, &FieldError{"body", "want one JSON object"}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Action{}, &FieldError{"body", "want one JSON object"}
	}
	return a, a.validate()
}

func bodyError(err error) error {
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te) && te.Field == "":
		return &FieldError{"body", fmt.Sprintf("want a JSON object, got %s", te.Value)}
	case errors.As(err, &te):
		return &FieldError{te.Field, fmt.Sprintf("want a %s, got %s", te.Type, te.Value)}
	case errors.Is(err, io.EOF):
		return &FieldError{"body", "empty; want a JSON object such as {\"action\":\"acknowledge\"}"}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		if unq, err := strconv.Unquote(name); err == nil && unq != "" {
			name = unq
		}
		return &FieldError{name, "unknown member: want action, team, text, severity, status or by"}
	}
	return &FieldError{"body", "invalid JSON: " + err.Error()}
}

func (a *Action) validate() error {
	if err := checkName("by", a.By, false); err != nil {
		return err
	}
	switch a.Action {
	case ActAcknowledge, ActResolve, ActReopen:
		return nil
	case ActAssign:
		return checkName("team", a.Team, true)
	case ActComment:
		if strings.TrimSpace(a.Text) == "" {
			return &FieldError{"text", "required: the comment"}
		}
		if utf8.RuneCountInString(a.Text) > MaxText {
			return &FieldError{"text", fmt.Sprintf("at most %d characters", MaxText)}
		}
		return nil
	case ActSeverity:
		if !a.Severity.valid() {
			return &FieldError{"severity", fmt.Sprintf("want info, minor, major or critical, got %q", a.Severity)}
		}
		return nil
	case ActTask:
		if err := checkName("team", a.Team, true); err != nil {
			return err
		}
		if taskOrder[a.Status] == 0 {
			return &FieldError{"status", fmt.Sprintf("want assigned, en_route, on_site or done, got %q", a.Status)}
		}
		return nil
	case "":
		return &FieldError{"action", "required: acknowledge, assign, comment, severity, resolve, reopen or task"}
	}
	return &FieldError{"action", fmt.Sprintf("unknown action %q: want acknowledge, assign, comment, severity, resolve, reopen or task", a.Action)}
}

func checkName(field, v string, required bool) error {
	switch {
	case v == "" && required:
		return &FieldError{field, "required"}
	case len(v) > MaxName:
		return &FieldError{field, fmt.Sprintf("at most %d bytes", MaxName)}
	case strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return &FieldError{field, "no control characters"}
	}
	return nil
}

// Act applies an action to an incident, writes it through the store and
// returns the incident as stored. by is who acts.
func (e *Engine) Act(id string, a Action, by string) (*Incident, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	inc, err := e.load(id)
	if err != nil {
		return nil, err
	}
	now := e.cfg.Now()
	if err := e.act(inc, a, by, now); err != nil {
		e.m.actions.WithLabelValues(a.Action, "refused").Inc()
		return nil, err
	}
	inc.Updated = now
	e.dirty[inc] = true
	e.flush(now)
	e.m.actions.WithLabelValues(a.Action, "done").Inc()
	return inc, nil
}

// load returns the open incident, or rebuilds a closed one from its
// feature (closed incidents are not held in memory).
func (e *Engine) load(id string) (*Incident, error) {
	if inc := e.open[id]; inc != nil {
		return inc, nil
	}
	l := e.store.Layer(Layer)
	if l == nil {
		return nil, ErrNotFound
	}
	f := l.Get(id)
	if f == nil {
		return nil, ErrNotFound
	}
	return fromFeature(f)
}

func (e *Engine) act(inc *Incident, a Action, by string, now time.Time) error {
	final := !inc.open()
	if final && a.Action != ActReopen && a.Action != ActComment {
		return &ConflictError{fmt.Sprintf("incident %s is %s: reopen it first", inc.ID, inc.Status)}
	}
	switch a.Action {
	case ActAcknowledge:
		if inc.Status != StatusOpen {
			return &ConflictError{fmt.Sprintf("incident %s is already %s", inc.ID, inc.Status)}
		}
		inc.Status = StatusAcknowledged
		inc.record(now, by, a.Action, "")
	case ActAssign:
		return e.assign(inc, a.Team, by, ActAssign, now)
	case ActComment:
		inc.record(now, by, a.Action, a.Text)
	case ActSeverity:
		if a.Severity == inc.Severity {
			return &ConflictError{fmt.Sprintf("incident %s is already %s", inc.ID, inc.Severity)}
		}
		inc.record(now, by, a.Action, fmt.Sprintf("%s → %s", inc.Severity, a.Severity))
		inc.Severity = a.Severity
	case ActResolve:
		inc.Status = StatusResolved
		t := now
		inc.Resolved = &t
		inc.record(now, by, a.Action, "")
		e.retire(inc)
		e.m.closed.WithLabelValues("resolved").Inc()
	case ActReopen:
		return e.reopen(inc, by, now)
	case ActTask:
		return e.task(inc, a.Team, a.Status, by, now)
	}
	return nil
}

func (e *Engine) assign(inc *Incident, team, by, action string, now time.Time) error {
	for _, t := range inc.Tasks {
		if t.Team == team && t.Status != "done" {
			return &ConflictError{fmt.Sprintf("team %s already has a task on incident %s (%s)", team, inc.ID, t.Status)}
		}
	}
	inc.Tasks = append(inc.Tasks, Task{Team: team, Status: "assigned", Since: now})
	inc.Status = StatusAssigned
	inc.record(now, by, action, team)
	return nil
}

// task moves a team's task forward (assigned → en_route → on_site → done,
// steps may be skipped); "assigned" for a team without a task assigns it.
func (e *Engine) task(inc *Incident, team, status, by string, now time.Time) error {
	i := len(inc.Tasks) - 1
	for i >= 0 && inc.Tasks[i].Team != team {
		i--
	}
	if i < 0 || inc.Tasks[i].Status == "done" {
		if status == "assigned" {
			return e.assign(inc, team, by, ActTask, now)
		}
		return &ConflictError{fmt.Sprintf("team %s has no open task on incident %s: assign it first", team, inc.ID)}
	}
	t := &inc.Tasks[i]
	if taskOrder[status] <= taskOrder[t.Status] {
		return &ConflictError{fmt.Sprintf("task of team %s on incident %s is %s: a task moves only forward (assigned → en_route → on_site → done)", team, inc.ID, t.Status)}
	}
	inc.record(now, by, ActTask, fmt.Sprintf("%s: %s → %s", team, t.Status, status))
	t.Status, t.Since = status, now
	return nil
}

// reopen makes a resolved or closed incident open again and takes it back
// into the open indexes. A person reopened it, so a person resolves it: it
// no longer closes by itself.
func (e *Engine) reopen(inc *Incident, by string, now time.Time) error {
	if inc.open() {
		return &ConflictError{fmt.Sprintf("incident %s is %s, not resolved or closed", inc.ID, inc.Status)}
	}
	inc.Status = StatusOpen
	inc.Resolved, inc.ClearSince, inc.AutoClose = nil, nil, 0
	inc.record(now, by, ActReopen, "")
	e.admit(inc)
	return nil
}

// admit puts an open incident into the open indexes.
func (e *Engine) admit(inc *Incident) {
	e.open[inc.ID] = inc
	e.tree.Insert(inc.box.Min(), inc.box.Max(), inc)
	for _, ev := range inc.Evidence {
		e.entity[ev.Layer+"\x00"+ev.ID] = inc
	}
	if e.keysOf[inc] == nil {
		e.keysOf[inc] = map[condKey]bool{}
	}
}

// Rebuild loads the incidents of the ioc.incidents layer (restored from
// history at startup) into the engine and starts reading the change log
// after what is already there, so the restored state is not evaluated
// again. Open incidents take their evidence's conditions as still holding:
// an auto-closing incident starts its clear time when they next clear.
// What the rules remember between changes (sustained-since times, rate
// readings, recent reports for counts) starts empty.
func (e *Engine) Rebuild() (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cursor.Store(e.store.Log().Last())
	l := e.store.Layer(Layer)
	if l == nil {
		return 0, nil
	}
	var errs []error
	n := 0
	for _, f := range l.InRect(nil, geo.World, 0) {
		if id := idNumber(f.ID); id >= e.nextID {
			e.nextID = id + 1
		}
		inc, err := fromFeature(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !inc.open() {
			continue
		}
		e.admit(inc)
		e.reactivate(inc)
		n++
	}
	e.openCount.Store(int64(len(e.open)))
	return n, errors.Join(errs...)
}

func (e *Engine) reactivate(inc *Incident) {
	for _, ev := range inc.Evidence {
		r := e.byName[ev.Rule]
		if r == nil {
			continue
		}
		var until time.Time
		if r.Kind == KindCount {
			until = ev.Time.Add(r.Window.D())
		}
		e.activate(key(r, ev.Layer, ev.ID), inc, until)
	}
}

// Get returns the stored feature of an incident as JSON, or nil.
func (e *Engine) Get(id string) []byte {
	if l := e.store.Layer(Layer); l != nil {
		if f := l.Get(id); f != nil {
			return f.JSON()
		}
	}
	return nil
}
