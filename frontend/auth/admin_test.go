package auth

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/danang-ioc/ioc/layers/access"
)

// TestEndpointsByRole is the role × endpoint table of the endpoints this
// package serves: every role's user, logged in, against every endpoint.
func TestEndpointsByRole(t *testing.T) {
	f := newFixture(t)
	cookies := map[access.Role]*http.Cookie{}
	for _, role := range access.Roles {
		name := "u-" + string(role)
		f.addUser(t, name, []access.Role{role}, access.ScopeSpec{})
		_, c := f.login(t, name, alicePassword)
		if c == nil {
			t.Fatalf("%s: login failed", role)
		}
		cookies[role] = c
	}
	admin := []access.Role{access.RoleAdmin}
	everyone := access.Roles
	endpoints := []struct {
		method, path, body string
		allowed            []access.Role
		okStatus           int
	}{
		{"GET", MePath, "", everyone, 200},
		{"GET", AuditPath, "", admin, 200},
		{"GET", "/api/v1/auth/users", "", admin, 200},
		{"GET", "/api/v1/auth/tokens", "", admin, 200},
		{"POST", "/api/v1/auth/tokens", `{"name":"t","roles":["viewer"]}`, admin, 201},
		{"DELETE", "/api/v1/auth/tokens/0000000000000000", "", admin, 404}, // allowed: it gets as far as not finding it
		{"POST", "/api/v1/auth/users/nobody/disable", "", admin, 404},
	}
	for _, e := range endpoints {
		for _, role := range access.Roles {
			resp, body := f.do(t, req{method: e.method, path: e.path, body: e.body, cookie: cookies[role]})
			want := http.StatusForbidden
			for _, r := range e.allowed {
				if r == role {
					want = e.okStatus
				}
			}
			if resp.StatusCode != want {
				t.Errorf("%s %s as %s: status %d, want %d (%s)", e.method, e.path, role, resp.StatusCode, want, body)
			}
		}
	}
}

func TestAdminAPI(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "root", []access.Role{access.RoleAdmin}, access.ScopeSpec{})
	f.addUser(t, "district-admin", []access.Role{access.RoleAdmin}, access.ScopeSpec{Areas: []string{"492"}})
	_, root := f.login(t, "root", alicePassword)
	_, local := f.login(t, "district-admin", alicePassword)

	// A district admin cannot mint a city-wide token.
	resp, body := f.do(t, req{method: "POST", path: "/api/v1/auth/tokens", body: `{"name":"wide","roles":["viewer"]}`, cookie: local})
	if resp.StatusCode != 403 || errorCode(t, body) != "out_of_scope" {
		t.Fatalf("district admin creates a token: %d %s", resp.StatusCode, body)
	}

	resp, body = f.do(t, req{method: "POST", path: "/api/v1/auth/tokens", cookie: root,
		body: `{"name":"flood-feed","roles":["ingest"],"scope":{"layers":["flooding.river"]},"ttl_seconds":3600}`})
	var created struct {
		Token string `json:"token"`
		ID    string `json:"id"`
		Hash  []byte `json:"hash"`
	}
	if resp.StatusCode != 201 || json.Unmarshal([]byte(body), &created) != nil || created.Hash != nil {
		t.Fatalf("create token: %d %s", resp.StatusCode, body)
	}
	ingest := req{method: "POST", path: "/api/v1/probe/ingest/flooding.river", header: bearer(created.Token)}
	if resp, _ := f.do(t, ingest); resp.StatusCode != 200 {
		t.Fatalf("new token refused: %d", resp.StatusCode)
	}
	if resp, _ := f.do(t, req{method: "DELETE", path: "/api/v1/auth/tokens/" + created.ID, cookie: root}); resp.StatusCode != 200 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if resp, _ := f.do(t, ingest); resp.StatusCode != 401 {
		t.Fatalf("revoked token still works: %d", resp.StatusCode)
	}

	// A user made over the API logs in; disabling them ends their session.
	resp, body = f.do(t, req{method: "POST", path: "/api/v1/auth/users", cookie: root,
		body: `{"name":"ivan","password":"` + alicePassword + `","roles":["emergency"],"scope":{"areas":["493"]}}`})
	if resp.StatusCode != 201 || strings.Contains(body, "hash") || strings.Contains(body, alicePassword) {
		t.Fatalf("add user: %d %s", resp.StatusCode, body)
	}
	_, ivan := f.login(t, "ivan", alicePassword)
	if resp, _ := f.do(t, req{path: "/api/v1/probe/live", cookie: ivan}); resp.StatusCode != 200 {
		t.Fatalf("ivan: %d", resp.StatusCode)
	}
	f.do(t, req{method: "POST", path: "/api/v1/auth/users/ivan/disable", cookie: root})
	if resp, _ := f.do(t, req{path: "/api/v1/probe/live", cookie: ivan}); resp.StatusCode != 401 {
		t.Fatalf("disabled user's session lives on: %d", resp.StatusCode)
	}
	if resp, _ := f.login(t, "ivan", alicePassword); resp.StatusCode != 401 {
		t.Fatalf("disabled user logs in: %d", resp.StatusCode)
	}

	for _, tc := range []struct{ path, body, want string }{
		{"/api/v1/auth/users", `{"name":"ivan","password":"` + alicePassword + `","roles":["viewer"]}`, "already exists"},
		{"/api/v1/auth/users", `{"name":"x","password":"short","roles":["viewer"]}`, "password too short"},
		{"/api/v1/auth/users", `{"name":"x","password":"` + alicePassword + `","roles":["god"]}`, `unknown role "god"`},
		{"/api/v1/auth/users", `{"name":"x","pasword":"typo"}`, "documented fields"},
		{"/api/v1/auth/tokens", `{"name":"x","roles":["ingest"]}`, "must name the layers"},
		{"/api/v1/auth/tokens", `{"name":"x","roles":["viewer"],"scope":{"areas":["999"]}}`, `scope area "999"`},
		{"/api/v1/auth/tokens", `{"name":"x","roles":"viewer"}`, "roles: wrong type"},
		{"/api/v1/auth/tokens", "{\"name\":\"\xff\"}", "not valid UTF-8"},
		{"/api/v1/auth/tokens", `{"name":"x","roles":["viewer"],"ttl_seconds":-1}`, "ttl_seconds"},
	} {
		resp, body := f.do(t, req{method: "POST", path: tc.path, body: tc.body, cookie: root})
		var e struct{ Error struct{ Message string } }
		_ = json.Unmarshal([]byte(body), &e)
		if resp.StatusCode/100 != 4 || !strings.Contains(e.Error.Message, tc.want) {
			t.Errorf("POST %s %s: %d %s; want 4xx with %q", tc.path, tc.body, resp.StatusCode, body, tc.want)
		}
	}
}
