package zones

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/layers"
)

// TestGoldenTeamPath moves a team along a path across a zone and records,
// after every event, the enter/leave events and the zone's summary.
func TestGoldenTeamPath(t *testing.T) {
	c := &clock{t: t0}
	s := newStore(c)
	s.Apply([]layers.Event{
		feature("response.teams", "team-2", t0, point(108.225, 16.005), `{"name":"Y tế 2","kind":"medical","status":"busy"}`),
		feature("lighting.lamps", "L-1", t0, point(108.230, 16.015), `{"state":"on","dark":false}`),
	})
	e := New(Config{NewID: seqIDs()}, s, nil, nil)
	z, err := e.Declare(&Zone{Name: "Ngập Hòa Xuân", Kind: KindEmergency, Severity: "major", By: "operator-1",
		Geometry: rect(108.215, 16.000, 108.235, 16.020)})
	if err != nil {
		t.Fatal(err)
	}
	_, seq := zoneEvents(t, s, 0)
	var out bytes.Buffer
	for _, ev := range readEvents(t, "testdata/team_path.ndjson") {
		c.Set(ev.Time.Add(time.Second))
		s.Apply([]layers.Event{ev})
		e.Step()
		var evs []map[string]any
		evs, seq = zoneEvents(t, s, seq)
		sum := summaryOf(t, s, z.ID)
		line, _ := json.Marshal(map[string]any{"after": ev.ID + "@" + ev.Time.UTC().Format("15:04"), "events": evs,
			"teams": sum.TeamList, "reportsOpen": sum.ReportsOpen, "lampsOut": sum.LampsOut, "roadsBlocked": sum.RoadsBlocked,
			"entities": sum.Entities})
		out.Write(append(line, '\n'))
	}
	compareGolden(t, "testdata/team_path.golden", out.Bytes())
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := range max(len(gl), len(wl)) {
		var g, w []byte
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if !bytes.Equal(g, w) {
			t.Errorf("%s line %d:\n got %s\nwant %s", path, i+1, g, w)
		}
	}
}
