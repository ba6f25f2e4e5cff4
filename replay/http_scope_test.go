package replay_test

import (
	"strings"
	"testing"

	"github.com/danang-ioc/ioc/layers/access"
)

func scopedPrincipal(t *testing.T, spec access.ScopeSpec) *access.Principal {
	t.Helper()
	areas, err := access.DefaultAreas()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := spec.Resolve(areas)
	if err != nil {
		t.Fatal(err)
	}
	return access.NewPrincipal(access.KindUser, "u", "u", []access.Role{access.RoleOperator}, sc)
}

// The test records (newServerAs): st-1 in Hải Châu (492), st-2 far outside
// the city until its deletion at 01:02.
func TestHTTPHistoryScope(t *testing.T) {
	haiChau := newServerAs(t, scopedPrincipal(t, access.ScopeSpec{Areas: []string{"492"}}))
	trafficOnly := newServerAs(t, scopedPrincipal(t, access.ScopeSpec{Layers: []string{"traffic.segments"}}))
	unlimited := newServer(t)
	nobody := newServerAs(t, nil)
	const window = "from=2026-11-27T01:00:00Z&to=2026-11-27T02:00:00Z"
	series := "/series?property=pm25&from=2026-11-27T01:00:00Z&to=2026-11-27T01:10:00Z&step=5m"
	cases := []struct {
		name   string
		path   string
		status int
		want   string
		not    string
	}{
		{"history in scope", "/api/v1/history/env.air/st-1?" + window, 200, `"id":"st-1"`, ""},
		{"history out of scope is not disclosed", "/api/v1/history/env.air/st-2?" + window, 404, "not_found", "109"},
		{"history of no entity answers the same", "/api/v1/history/env.air/none?" + window, 404, "not_found", ""},
		{"series in scope", "/api/v1/history/env.air/st-1" + series, 200, `"count":2`, ""},
		{"series out of scope", "/api/v1/history/env.air/st-2" + series, 404, "not_found", ""},
		{"state filtered", "/api/v1/state?at=2026-11-27T01:01:30Z", 200, `"st-1"`, "st-2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, haiChau, tc.path)
			if code != tc.status || !strings.Contains(body, tc.want) || tc.not != "" && strings.Contains(body, tc.not) {
				t.Errorf("%s: %d %s; want %d with %q and without %q", tc.path, code, body, tc.status, tc.want, tc.not)
			}
		})
	}
	if _, body := get(t, unlimited, "/api/v1/state?at=2026-11-27T01:01:30Z"); !strings.Contains(body, "st-2") {
		t.Errorf("an unlimited caller lost st-2: %s", body)
	}
	for _, path := range []string{"/api/v1/history/env.air/st-1", "/api/v1/history/env.air/st-1" + series, "/api/v1/state?at=2026-11-27T01:01:30Z&layers=env.air"} {
		if code, body := get(t, trafficOnly, path); code != 403 || !strings.Contains(body, "out_of_scope") {
			t.Errorf("traffic-only %s: %d %s, want 403 out_of_scope", path, code, body)
		}
		if code, _ := get(t, nobody, path); code != 401 {
			t.Errorf("no principal %s: %d, want 401", path, code)
		}
	}
	if _, body := get(t, trafficOnly, "/api/v1/state?at=2026-11-27T01:01:30Z"); strings.Contains(body, "env.air") {
		t.Errorf("traffic-only state holds env.air: %s", body)
	}
}
