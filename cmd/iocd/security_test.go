package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/gorilla/websocket"

	"github.com/danang-ioc/ioc/layers/access"
)

// startSecured runs iocd with security on (no --demo) over the auth store
// of dir, which the test filled with the admin commands first.
func startSecured(t *testing.T, dir string, args ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	args = append([]string{"--data-dir", dir, "--sim=false"}, args...)
	cfg, err := parseConfig(args, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, slog.New(slog.DiscardHandler), ln) }()
	base := "http://" + ln.Addr().String()
	waitUntil(t, "server ready", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("iocd stopped with %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("iocd did not stop within 20s")
		}
	})
	return base
}

// principals of the security tests: one token per role, plus scoped ones.
var testTokens = []struct {
	name string
	args []string
}{
	{"admin", []string{"--role", "admin"}},
	{"operator", []string{"--role", "operator"}},
	{"leader", []string{"--role", "leader"}},
	{"emergency", []string{"--role", "emergency"}},
	{"viewer", []string{"--role", "viewer"}},
	{"ingest", []string{"--role", "ingest", "--layers", "traffic.cameras"}},
	{"monitor", []string{"--role", "monitor"}},
	{"hc-viewer", []string{"--role", "viewer", "--districts", "492"}},
	{"hc-operator", []string{"--role", "operator", "--districts", "492"}},
}

// makeTokens creates the test tokens with the admin command and returns
// them by name.
func makeTokens(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, tok := range testTokens {
		code, stdout, stderr := admin(t, dir, "", append([]string{"tokens", "create", "--name", tok.name}, tok.args...)...)
		if code != 0 {
			t.Fatalf("tokens create %s: %d %s", tok.name, code, stderr)
		}
		out[tok.name] = strings.TrimSpace(stdout)
	}
	return out
}

type result struct {
	status int
	body   string
	header http.Header
}

func call(t *testing.T, method, url, token, body string) result {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, string(b), resp.Header}
}

// routeRule is a row of the role table (docs/SECURITY.md) for a route:
// the permission it needs (0 with public false: any authenticated
// principal), and a concrete path to call it on.
type routeRule struct {
	path   string
	perm   access.Permission
	public bool
}

// routeRules has a row for every route of the real router, keyed by
// "METHOD pattern", or "* pattern" for a route answering every method.
var routeRules = map[string]routeRule{
	"GET /healthz":                             {path: "/healthz", public: true},
	"GET /readyz":                              {path: "/readyz", public: true},
	"GET /*":                                   {path: "/", public: true},
	"HEAD /*":                                  {path: "/index.html", public: true},
	"* /metrics":                               {path: "/metrics", perm: access.ReadMetrics},
	"POST /api/v1/auth/login":                  {path: "/api/v1/auth/login", public: true},
	"POST /api/v1/auth/logout":                 {path: "/api/v1/auth/logout", public: true},
	"GET /api/v1/auth/me":                      {path: "/api/v1/auth/me"},
	"GET /api/v1/audit":                        {path: "/api/v1/audit", perm: access.ReadAudit},
	"GET /api/v1/auth/tokens":                  {path: "/api/v1/auth/tokens", perm: access.AdminUsers},
	"POST /api/v1/auth/tokens":                 {path: "/api/v1/auth/tokens", perm: access.AdminUsers},
	"DELETE /api/v1/auth/tokens/{id}":          {path: "/api/v1/auth/tokens/0000000000000000", perm: access.AdminUsers},
	"GET /api/v1/auth/users":                   {path: "/api/v1/auth/users", perm: access.AdminUsers},
	"POST /api/v1/auth/users":                  {path: "/api/v1/auth/users", perm: access.AdminUsers},
	"POST /api/v1/auth/users/{name}/disable":   {path: "/api/v1/auth/users/nobody/disable", perm: access.AdminUsers},
	"POST /api/v1/auth/users/{name}/enable":    {path: "/api/v1/auth/users/nobody/enable", perm: access.AdminUsers},
	"* /api/v1/events":                         {path: "/api/v1/events", perm: access.Ingest},
	"POST /api/v1/cap":                         {path: "/api/v1/cap", perm: access.Ingest},
	"GET /api/v1/areas/boundary":               {path: "/api/v1/areas/boundary", perm: access.ReadLive},
	"GET /api/v1/areas/districts":              {path: "/api/v1/areas/districts", perm: access.ReadLive},
	"GET /api/v1/areas/wards":                  {path: "/api/v1/areas/wards", perm: access.ReadLive},
	"GET /api/v1/districts":                    {path: "/api/v1/districts", perm: access.ReadLive},
	"GET /api/v1/layers":                       {path: "/api/v1/layers", perm: access.ReadLive},
	"GET /api/v1/layers/{layer}/features":      {path: "/api/v1/layers/traffic.cameras/features", perm: access.ReadLive},
	"GET /api/v1/layers/{layer}/features/{id}": {path: "/api/v1/layers/traffic.cameras/features/x", perm: access.ReadLive},
	"POST /api/v1/layers/{layer}/within":       {path: "/api/v1/layers/traffic.cameras/within", perm: access.ReadLive},
	"GET /api/v1/nearest":                      {path: "/api/v1/nearest?lon=108.2&lat=16.05", perm: access.ReadLive},
	"GET /api/v1/ws":                           {path: "/api/v1/ws", perm: access.ReadLive},
	"GET /api/v1/incidents/{id}/cap":           {path: "/api/v1/incidents/x/cap", perm: access.ReadLive},
	"GET /api/v1/zones/{id}/cap":               {path: "/api/v1/zones/x/cap", perm: access.ReadLive},
	"GET /api/v1/history/{layer}/{id}":         {path: "/api/v1/history/traffic.cameras/x", perm: access.ReadHistory},
	"GET /api/v1/history/{layer}/{id}/series":  {path: "/api/v1/history/traffic.cameras/x/series?property=p&step=5m", perm: access.ReadHistory},
	"GET /api/v1/state":                        {path: "/api/v1/state?at=2026-01-01T00:00:00Z", perm: access.ReadHistory},
	"GET /api/v1/incidents":                    {path: "/api/v1/incidents", perm: access.ReadLive},
	"GET /api/v1/incidents/{id}":               {path: "/api/v1/incidents/x", perm: access.ReadLive},
	"GET /api/v1/incidents/{id}/teams":         {path: "/api/v1/incidents/x/teams", perm: access.ReadLive},
	"POST /api/v1/incidents/{id}/actions":      {path: "/api/v1/incidents/x/actions", perm: access.ActIncidents},
	"GET /api/v1/sim":                          {path: "/api/v1/sim", perm: access.Configure},
	"POST /api/v1/sim/storm":                   {path: "/api/v1/sim/storm", perm: access.Configure},
	"GET /api/v1/zones":                        {path: "/api/v1/zones", perm: access.ReadLive},
	"GET /api/v1/zones/{id}":                   {path: "/api/v1/zones/x", perm: access.ReadLive},
	"GET /api/v1/zones/{id}/contents":          {path: "/api/v1/zones/x/contents", perm: access.ReadLive},
	"POST /api/v1/zones":                       {path: "/api/v1/zones", perm: access.ManageZones},
	"DELETE /api/v1/zones/{id}":                {path: "/api/v1/zones/x", perm: access.ManageZones},
	"POST /api/v1/zones/{id}/close":            {path: "/api/v1/zones/x/close", perm: access.ManageZones},
	"GET /open311/v2/requests.{format}":        {path: "/open311/v2/requests.json", perm: access.ReadLive},
	"POST /open311/v2/requests.{format}":       {path: "/open311/v2/requests.json", perm: access.Ingest},
	"GET /open311/v2/requests/{file}":          {path: "/open311/v2/requests/x.json", perm: access.ReadLive},
	"GET /open311/v2/services.{format}":        {path: "/open311/v2/services.json", perm: access.ReadLive},
	"GET /open311/v2/services/{file}":          {path: "/open311/v2/services/x.json", perm: access.ReadLive},
	"POST /ngsi-ld/v1/entities":                {path: "/ngsi-ld/v1/entities", perm: access.Ingest},
	"DELETE /ngsi-ld/v1/entities/{id}":         {path: "/ngsi-ld/v1/entities/x", perm: access.Ingest},
	"POST /ngsi-ld/v1/entities/{id}/attrs":     {path: "/ngsi-ld/v1/entities/x/attrs", perm: access.Ingest},
	"PATCH /ngsi-ld/v1/entities/{id}/attrs":    {path: "/ngsi-ld/v1/entities/x/attrs", perm: access.Ingest},
	"POST /ngsi-ld/v1/entityOperations/upsert": {path: "/ngsi-ld/v1/entityOperations/upsert", perm: access.Ingest},
	"POST /v2/entities":                        {path: "/v2/entities", perm: access.Ingest},
	"POST /v2/notify":                          {path: "/v2/notify", perm: access.Ingest},
	"POST /v2/op/update":                       {path: "/v2/op/update", perm: access.Ingest},
}

// realRoutes lists every METHOD and pattern of the router iocd serves.
func realRoutes(t *testing.T) [][2]string {
	t.Helper()
	cfg, err := parseConfig([]string{"--data-dir", t.TempDir(), "--sim=false"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = errors.Join(a.history.Close(), a.closeAuth()) }()
	var out [][2]string
	err = chi.Walk(a.routes().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		out = append(out, [2]string{method, route})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRoleEndpointTable calls every route of the real router as every
// role (and with no credentials) and checks each answer against the role
// table: allowed means neither 401 nor 403, denied means 403, and without
// credentials every non-public route answers 401.
func TestRoleEndpointTable(t *testing.T) {
	dir := t.TempDir()
	tokens := makeTokens(t, dir)
	base := startSecured(t, dir)
	roles := []access.Role{access.RoleAdmin, access.RoleOperator, access.RoleLeader, access.RoleEmergency,
		access.RoleViewer, access.RoleIngest, access.RoleMonitor}
	tested := 0
	for _, rt := range realRoutes(t) {
		method, pattern := rt[0], rt[1]
		if method == "CONNECT" || method == "TRACE" || method == "QUERY" || method == "OPTIONS" {
			continue // answered like the other methods of a catch-all route
		}
		rule, ok := routeRules[method+" "+pattern]
		if !ok {
			if rule, ok = routeRules["* "+pattern]; !ok {
				t.Errorf("route %s %s has no row in routeRules: add it with the permission the role table gives it", method, pattern)
				continue
			}
		}
		tested++
		url := base + rule.path
		if got := call(t, method, url, "", ""); rule.public != (got.status != 401) {
			t.Errorf("%s %s without credentials: %d %.120s (public: %v)", method, rule.path, got.status, got.body, rule.public)
		}
		for _, role := range roles {
			allowed := rule.public || access.PermissionsOf(role)&rule.perm == rule.perm
			got := call(t, method, url, tokens[string(role)], "")
			denied := got.status == 401 || got.status == 403
			if allowed == denied || !allowed && got.status != 403 {
				t.Errorf("%s %s as %s: %d %.160s; want allowed=%v", method, rule.path, role, got.status, got.body, allowed)
			}
		}
	}
	if tested < 60 {
		t.Errorf("only %d routes tested; the walk of the router found too few", tested)
	}
}

// Every attempt to use a token beyond its scope is refused: a Hải Châu
// token cannot read a feature, its history or a WebSocket frame outside
// Hải Châu; a camera feed's token cannot write lamps.
func TestTokenReplayAcrossScopes(t *testing.T) {
	dir := t.TempDir()
	tokens := makeTokens(t, dir)
	base := startSecured(t, dir)
	now := time.Now().UTC().Format(time.RFC3339)
	batch := fmt.Sprintf(`[
{"layer":"traffic.cameras","id":"cam-in","time":%q,"geometry":{"type":"Point","coordinates":[108.2208,16.0678]},"properties":{"intensity":10}},
{"layer":"traffic.cameras","id":"cam-out","time":%q,"geometry":{"type":"Point","coordinates":[108.19,16.065]},"properties":{"intensity":10}},
{"layer":"lighting.lamps","id":"lamp","time":%q,"geometry":{"type":"Point","coordinates":[108.2208,16.0678]}}]`, now, now, now)
	got := call(t, "POST", base+"/api/v1/events", tokens["ingest"], batch)
	if got.status != 202 || !strings.Contains(got.body, `"accepted":2`) || !strings.Contains(got.body, `"index":2,"reason":"out_of_scope"`) {
		t.Fatalf("camera feed posting a lamp: %d %s; want 2 accepted and the lamp refused out_of_scope", got.status, got.body)
	}
	hc := tokens["hc-viewer"]
	for _, c := range []struct {
		path   string
		status int
	}{
		{"/api/v1/layers/traffic.cameras/features/cam-in", 200},
		{"/api/v1/layers/traffic.cameras/features/cam-out", 404},
		{"/api/v1/state?at=" + now, 403},
	} {
		if r := call(t, "GET", base+c.path, hc, ""); r.status != c.status {
			t.Errorf("Hải Châu viewer %s: %d %s, want %d", c.path, r.status, r.body, c.status)
		}
	}
	if r := call(t, "GET", base+"/api/v1/layers/traffic.cameras/features", hc, ""); strings.Contains(r.body, "cam-out") || !strings.Contains(r.body, "cam-in") {
		t.Errorf("Hải Châu viewer's bbox query: %s", r.body)
	}
	waitUntil(t, "history written", func() bool {
		return call(t, "GET", base+"/api/v1/history/traffic.cameras/cam-out", tokens["operator"], "").body != "[]\n"
	})
	if r := call(t, "GET", base+"/api/v1/history/traffic.cameras/cam-out", tokens["hc-operator"], ""); r.status != 404 {
		t.Errorf("Hải Châu operator reading history outside: %d %s, want 404", r.status, r.body)
	}

	// Open311 reads: the report outside Hải Châu does not exist for it.
	reports := fmt.Sprintf(`[
{"layer":"feedback.reports","id":"rep-in","time":%q,"geometry":{"type":"Point","coordinates":[108.2208,16.0678]},"properties":{"category":"flooded_road","channel":"app","status":"received"}},
{"layer":"feedback.reports","id":"rep-out","time":%q,"geometry":{"type":"Point","coordinates":[108.19,16.065]},"properties":{"category":"flooded_road","channel":"app","status":"received"}}]`, now, now)
	if r := call(t, "POST", base+"/api/v1/events", tokens["admin"], reports); r.status != 202 || !strings.Contains(r.body, `"accepted":2`) {
		t.Fatalf("posting reports: %d %s", r.status, r.body)
	}
	if r := call(t, "GET", base+"/open311/v2/requests.json", hc, ""); !strings.Contains(r.body, "rep-in") || strings.Contains(r.body, "rep-out") {
		t.Errorf("Hải Châu viewer's Open311 list: %d %s", r.status, r.body)
	}
	if r := call(t, "GET", base+"/open311/v2/requests/rep-out.json", hc, ""); r.status != 404 {
		t.Errorf("Hải Châu viewer's Open311 request outside: %d %s, want 404", r.status, r.body)
	}

	// The WebSocket, with the token as a subprotocol as a browser sends it.
	d := websocket.Dialer{Subprotocols: []string{"ioc.v1", "ioc.bearer." + hc}}
	conn, resp, err := d.Dial("ws"+strings.TrimPrefix(base, "http")+"/api/v1/ws", nil)
	if err != nil {
		t.Fatalf("dial with a token subprotocol: %v", err)
	}
	defer conn.Close()
	if p := resp.Header.Get("Sec-WebSocket-Protocol"); p != "ioc.v1" {
		t.Errorf("server answered subprotocol %q, want ioc.v1 (never the token)", p)
	}
	_ = conn.WriteJSON(map[string]any{"type": "subscribe", "layers": []string{"*"}})
	var snap struct {
		Type     string `json:"type"`
		Features []struct {
			ID string `json:"id"`
		} `json:"features"`
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var ids []string
	err = conn.ReadJSON(&snap)
	for _, f := range snap.Features {
		ids = append(ids, f.ID)
	}
	if slices.Sort(ids); err != nil || snap.Type != "snapshot" || strings.Join(ids, ",") != "cam-in,rep-in" {
		t.Errorf("Hải Châu snapshot %s %v (%v); want cam-in and rep-in alone", snap.Type, ids, err)
	}
	if _, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/api/v1/ws", nil); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Errorf("WebSocket without credentials: %v %v, want 401", err, resp)
	}
}

// Incident actions and zone changes are recorded in the audit log under
// the authenticated principal, which the handlers also use as the actor.
func TestAuditRecordsIncidentAndZoneActions(t *testing.T) {
	dir := t.TempDir()
	tokens := makeTokens(t, dir)
	base := startSecured(t, dir)
	z := call(t, "POST", base+"/api/v1/zones", tokens["operator"],
		`{"name":"Ứng phó ngập Hải Châu","area":{"level":"district","ref":"Hải Châu"},"severity":"critical","by":"someone else"}`)
	if z.status != 201 {
		t.Fatalf("declare zone: %d %s", z.status, z.body)
	}
	if strings.Contains(z.body, "someone else") || !strings.Contains(z.body, "token:") {
		t.Errorf("zone actor is not the authenticated principal: %s", z.body)
	}
	_ = call(t, "POST", base+"/api/v1/incidents/nope/actions", tokens["emergency"], `{"action":"acknowledge"}`)
	audit := call(t, "GET", base+"/api/v1/audit?action=zone_change", tokens["admin"], "")
	if audit.status != 200 || !strings.Contains(audit.body, `"outcome":"ok"`) || !strings.Contains(audit.body, "POST /api/v1/zones") {
		t.Errorf("audit of the zone: %d %s", audit.status, audit.body)
	}
	audit = call(t, "GET", base+"/api/v1/audit?action=incident_action", tokens["admin"], "")
	if audit.status != 200 || !strings.Contains(audit.body, "/api/v1/incidents/nope/actions") || !strings.Contains(audit.body, `"outcome":"failed"`) {
		t.Errorf("audit of the incident action: %d %s", audit.status, audit.body)
	}
	if r := call(t, "GET", base+"/api/v1/audit", tokens["operator"], ""); r.status != 403 {
		t.Errorf("an operator read the audit log: %d", r.status)
	}
}

// The web app's files are public and carry the security headers; the
// demo mode answers without credentials.
func TestSecurityHeadersAndDemoMode(t *testing.T) {
	dir := t.TempDir()
	base := startSecured(t, dir)
	r := call(t, "GET", base+"/", "", "")
	if r.status != 200 {
		t.Fatalf("GET / without credentials: %d", r.status)
	}
	for h, want := range map[string]string{
		"Content-Security-Policy": "frame-ancestors 'none'", "X-Content-Type-Options": "nosniff",
		"Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
	} {
		if !strings.Contains(r.header.Get(h), want) {
			t.Errorf("%s: %q, want it to hold %q", h, r.header.Get(h), want)
		}
	}
	if r := call(t, "GET", base+"/api/v1/layers", "", ""); r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
		t.Errorf("API without credentials: %d %v", r.status, r.header)
	}
	demo, _ := startServer(t) // --demo
	if r := call(t, "GET", demo+"/api/v1/layers", "", ""); r.status != 200 {
		t.Errorf("demo mode API: %d %s", r.status, r.body)
	}
}

// A district operator declares, lists, reads and closes zones of its
// district only; a zone elsewhere does not exist for it. (Liên Chiểu, not
// a neighbour: a neighbouring district's polygon shares a border with
// Hải Châu, so it intersects the scope and is seen, by design.)
func TestZonesWithinScope(t *testing.T) {
	dir := t.TempDir()
	tokens := makeTokens(t, dir)
	base := startSecured(t, dir)
	hc := tokens["hc-operator"]
	if r := call(t, "POST", base+"/api/v1/zones", hc, `{"name":"Liên Chiểu","area":{"level":"district","ref":"Liên Chiểu"}}`); r.status != 403 || !strings.Contains(r.body, "out_of_scope") {
		t.Errorf("Hải Châu operator declaring a Liên Chiểu zone: %d %s, want 403 out_of_scope", r.status, r.body)
	}
	if r := call(t, "POST", base+"/api/v1/zones", hc, `{"name":"Hải Châu","area":{"level":"district","ref":"Hải Châu"}}`); r.status != 201 {
		t.Errorf("Hải Châu operator declaring a Hải Châu zone: %d %s", r.status, r.body)
	}
	r := call(t, "POST", base+"/api/v1/zones", tokens["operator"], `{"name":"Liên Chiểu","area":{"level":"district","ref":"Liên Chiểu"}}`)
	id := between(r.body, `"id":"`, `"`)
	if r.status != 201 || id == "" {
		t.Fatalf("city operator declaring a Liên Chiểu zone: %d %s", r.status, r.body)
	}
	if r := call(t, "GET", base+"/api/v1/zones", hc, ""); strings.Contains(r.body, id) || !strings.Contains(r.body, "Hải Châu") {
		t.Errorf("Hải Châu operator's zone list: %s", r.body)
	}
	for _, c := range [][2]string{{"GET", "/api/v1/zones/" + id}, {"GET", "/api/v1/zones/" + id + "/contents"}, {"POST", "/api/v1/zones/" + id + "/close"}} {
		if r := call(t, c[0], base+c[1], hc, ""); r.status != 404 {
			t.Errorf("Hải Châu operator %s %s: %d %s, want 404", c[0], c[1], r.status, r.body)
		}
	}
	if r := call(t, "GET", base+"/api/v1/zones/"+id, tokens["operator"], ""); r.status != 200 {
		t.Errorf("the city operator lost the zone: %d", r.status)
	}
}

func between(s, from, to string) string {
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, to)
	return v
}

// A browser's session cookie opens the WebSocket from the server's own
// page, never from another site's (the Origin check, twice: the auth
// middleware's cross-site lock and the upgrader's origin list).
func TestCookieWebSocketOrigin(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := admin(t, dir, "a long enough password\n", "users", "add", "--name", "alice", "--role", "viewer"); code != 0 {
		t.Fatalf("users add: %s", stderr)
	}
	base := startSecured(t, dir)
	resp, err := http.Post(base+"/api/v1/auth/login", "application/json", strings.NewReader(`{"user":"alice","password":"a long enough password"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "ioc_session" {
			cookie = c
		}
	}
	if resp.StatusCode != 200 || cookie == nil || !cookie.HttpOnly {
		t.Fatalf("login: %d, cookie %v", resp.StatusCode, cookie)
	}
	ws := "ws" + strings.TrimPrefix(base, "http") + "/api/v1/ws"
	for _, c := range []struct {
		origin string
		status int
	}{{base, 101}, {"http://evil.example", 403}} {
		h := http.Header{"Cookie": {cookie.Name + "=" + cookie.Value}, "Origin": {c.origin}}
		conn, resp, _ := websocket.DefaultDialer.Dial(ws, h)
		if conn != nil {
			conn.Close()
		}
		if resp == nil || resp.StatusCode != c.status {
			t.Errorf("cookie upgrade from %s: %v, want %d", c.origin, resp, c.status)
		}
	}
}
