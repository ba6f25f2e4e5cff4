package response

import (
	"fmt"
	"testing"

	"github.com/danang-ioc/ioc/streams/internal/props/moduletest"
)

// TestGolden runs testdata/*.ndjson through the module and compares the
// output with testdata/*.golden; go test -run Golden -update rewrites them.
func TestGolden(t *testing.T) {
	moduletest.Golden(t, New, Config{})
}

func team(id, at, props string) string {
	return fmt.Sprintf(`{"layer":"response.teams","id":%q,"time":%q,"geometry":{"type":"Point","coordinates":[108.2208,16.0678]},"properties":%s}`,
		id, at, props)
}

func TestStatus(t *testing.T) {
	cases := []struct {
		props  string
		status string
	}{
		{`{"name":"A","kind":"rescue"}`, "available"},
		{`{"name":"A","kind":"rescue","status":"busy"}`, "busy"},
		{`{"name":"A","kind":"rescue","status":"OFFLINE"}`, "offline"},
		{`{"name":"A","kind":"medical","activity":"en_route"}`, "busy"},
		{`{"name":"A","kind":"medical","activity":"on-scene"}`, "busy"},
		{`{"name":"A","kind":"fire","activity":"returning"}`, "available"},
		{`{"name":"A","kind":"police","activity":"off_duty"}`, "offline"},
		{`{"name":"A","kind":"police","activity":"on_scene","status":"available"}`, "available"},
	}
	for _, c := range cases {
		_, p, err := moduletest.ProcessOne(t, New(Config{}), team("t", "2025-10-27T19:00:00+07:00", c.props))
		if err != nil {
			t.Fatalf("%s: %v", c.props, err)
		}
		if p["status"] != c.status || p["available"] != (c.status == "available") {
			t.Errorf("%s: status %v available %v, want %s", c.props, p["status"], p["available"], c.status)
		}
	}
}

func TestRefused(t *testing.T) {
	cases := []struct {
		line, path, msg string
	}{
		{team("t", "2025-10-27T19:00:00+07:00", `{"kind":"rescue"}`), "properties.name", "name is required"},
		{team("t", "2025-10-27T19:00:00+07:00", `{"name":"A"}`), "properties.kind", "kind is required"},
		{team("t", "2025-10-27T19:00:00+07:00", `{"name":"A","kind":"astronaut"}`), "properties.kind", `unknown kind "astronaut"`},
		{team("t", "2025-10-27T19:00:00+07:00", `{"name":"A","kind":"rescue","status":"asleep"}`), "properties.status", `unknown status "asleep"`},
		{team("t", "2025-10-27T19:00:00+07:00", `{"name":"A","kind":"rescue","activity":"dancing"}`), "properties.activity", `unknown activity "dancing"`},
		{team("t", "2025-10-27T19:00:00+07:00", `{"name":"A","kind":"rescue","members":-2}`), "properties.members", "whole number"},
		{`{"layer":"response.teams","id":"t","time":"2025-10-27T19:00:00+07:00","geometry":{"type":"LineString","coordinates":[[108.2,16.0],[108.3,16.1]]},"properties":{"name":"A","kind":"rescue"}}`, "geometry.type", "takes Point"},
	}
	for _, c := range cases {
		moduletest.ExpectError(t, New(Config{}), c.line, c.path, c.msg)
	}
}

// TestRemembers: a position-only update keeps the name, kind and status,
// and statusSince moves only when the status changes.
func TestRemembers(t *testing.T) {
	m := New(Config{})
	moduletest.MustProcess(t, m, team("t", "2025-10-27T19:00:00+07:00", `{"name":"A","kind":"rescue","status":"busy"}`))
	_, p, err := moduletest.ProcessOne(t, m, team("t", "2025-10-27T19:05:00+07:00", `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if p["name"] != "A" || p["kind"] != "rescue" || p["status"] != "busy" || p["statusSince"] != "2025-10-27T12:00:00Z" {
		t.Errorf("position-only update: %v", p)
	}
	_, p, _ = moduletest.ProcessOne(t, m, team("t", "2025-10-27T19:10:00+07:00", `{"status":"available"}`))
	if p["statusSince"] != "2025-10-27T12:10:00Z" {
		t.Errorf("statusSince after a change: %v", p["statusSince"])
	}
}

func TestConcurrent(t *testing.T) {
	moduletest.Concurrent(t, New(Config{}), 50, func(g, i int) []string {
		return []string{team(fmt.Sprintf("t%d", g), fmt.Sprintf("2025-10-27T19:%02d:00+07:00", i%60), `{"name":"A","kind":"rescue","activity":"en_route"}`)}
	})
}
