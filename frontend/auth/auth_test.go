package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.etcd.io/bbolt"

	"github.com/danang-ioc/ioc/layers/access"
)

const alicePassword = "correct horse battery staple"

var testAreas = sync.OnceValues(func() (*access.Areas, error) { return access.DefaultAreas() })

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type fixture struct {
	store  *Store
	auth   *Auth
	srv    *httptest.Server
	clock  *clock
	reg    *prometheus.Registry
	logBuf *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// newFixture opens a store in a temporary directory and serves the auth
// routes plus probe routes on a loopback port: /api/v1/probe/live (read:live),
// /api/v1/probe/ingest/{layer} (ingest to that layer), /api/v1/probe/users
// (admin:users).
func newFixture(t testing.TB, opts ...func(*Config)) *fixture {
	t.Helper()
	areas, err := testAreas()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{clock: &clock{t: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)}, reg: prometheus.NewRegistry(), logBuf: &syncBuffer{}}
	f.store, err = Open(filepath.Join(t.TempDir(), FileName), StoreOptions{Areas: areas, BcryptCost: 4, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.store.Close() })
	log := slog.New(slog.NewTextHandler(f.logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := Config{Store: f.store, Log: log, Registerer: f.reg, Now: f.clock.Now, PublicPaths: []string{"/healthz"}}
	for _, o := range opts {
		o(&cfg)
	}
	f.auth, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	r.Use(f.auth.Middleware)
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) })
	r.Route("/api/v1", func(r chi.Router) {
		f.auth.Routes(r)
		r.With(f.auth.Require(access.ReadLive)).Get("/probe/live", probeOK)
		r.With(f.auth.Require(access.AdminUsers)).Get("/probe/users", probeOK)
		r.With(f.auth.Require(access.Ingest)).Post("/probe/ingest/{layer}", func(w http.ResponseWriter, r *http.Request) {
			p, _ := access.FromContext(r.Context())
			if layer := chi.URLParam(r, "layer"); !p.CanIngest(layer) {
				f.auth.DenyOutOfScope(w, r, "layer "+layer+" is not in this token's scope")
				return
			}
			probeOK(w, r)
		})
	})
	f.srv = httptest.NewServer(r)
	t.Cleanup(f.srv.Close)
	return f
}

func probeOK(w http.ResponseWriter, r *http.Request) {
	p, _ := access.FromContext(r.Context())
	w.Write([]byte(p.Actor()))
}

func (f *fixture) addUser(t *testing.T, name string, roles []access.Role, scope access.ScopeSpec) {
	t.Helper()
	if _, err := f.store.AddUser(NewUser{Name: name, Password: alicePassword, Roles: roles, Scope: scope}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) token(t testing.TB, name string, roles []access.Role, scope access.ScopeSpec, ttl time.Duration) (string, Token) {
	t.Helper()
	secret, tok, err := f.store.CreateToken(NewToken{Name: name, Roles: roles, Scope: scope, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	return secret, tok
}

type req struct {
	method, path, body string
	header             map[string]string
	cookie             *http.Cookie
}

func (f *fixture) do(t *testing.T, q req) (*http.Response, string) {
	t.Helper()
	if q.method == "" {
		q.method = http.MethodGet
	}
	r, err := http.NewRequest(q.method, f.srv.URL+q.path, strings.NewReader(q.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	if q.cookie != nil {
		r.AddCookie(q.cookie)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp, b.String()
}

func (f *fixture) login(t *testing.T, user, pw string) (*http.Response, *http.Cookie) {
	t.Helper()
	body, _ := json.Marshal(loginRequest{User: user, Password: pw})
	resp, _ := f.do(t, req{method: http.MethodPost, path: LoginPath, body: string(body)})
	for _, c := range resp.Cookies() {
		if c.Name == CookieName {
			return resp, c
		}
	}
	return resp, nil
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func errorCode(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	return e.Error.Code
}

func TestMiddlewareDecisions(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "alice", []access.Role{access.RoleOperator}, access.ScopeSpec{Areas: []string{"492"}})
	_, aliceCookie := f.login(t, "alice", alicePassword)
	if aliceCookie == nil {
		t.Fatal("login set no session cookie")
	}
	feed, _ := f.token(t, "traffic-feed", []access.Role{access.RoleIngest}, access.ScopeSpec{Layers: []string{"traffic.segments"}}, 0)
	expiring, _ := f.token(t, "short", []access.Role{access.RoleViewer}, access.ScopeSpec{}, time.Hour)
	revoked, revokedTok := f.token(t, "gone", []access.Role{access.RoleViewer}, access.ScopeSpec{}, 0)
	if _, err := f.store.RevokeToken(revokedTok.ID); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Hour) // expires "short"; alice's session idles out later
	_, aliceCookie = f.login(t, "alice", alicePassword)

	for _, tc := range []struct {
		name       string
		q          req
		status     int
		code, body string
	}{
		{"public path", req{path: "/healthz"}, 200, "", "ok"},
		{"encoded slash is not the public login path", req{path: "/api/v1/auth%2Flogin"}, 401, "unauthenticated", ""},
		{"no credentials", req{path: "/api/v1/probe/live"}, 401, "unauthenticated", ""},
		{"basic auth is not a bearer token", req{path: "/api/v1/probe/live", header: map[string]string{"Authorization": "Basic YWxpY2U6eA=="}}, 401, "unauthenticated", ""},
		{"garbage token", req{path: "/api/v1/probe/live", header: bearer("ioc_nothing")}, 401, "unauthenticated", ""},
		{"expired token", req{path: "/api/v1/probe/live", header: bearer(expiring)}, 401, "unauthenticated", ""},
		{"revoked token", req{path: "/api/v1/probe/live", header: bearer(revoked)}, 401, "unauthenticated", ""},
		{"unknown session", req{path: "/api/v1/probe/live", cookie: &http.Cookie{Name: CookieName, Value: strings.Repeat("A", sessionIDLen)}}, 401, "unauthenticated", ""},
		{"cookie session", req{path: "/api/v1/probe/live", cookie: aliceCookie}, 200, "", "user:alice"},
		{"operator is not admin", req{path: "/api/v1/probe/users", cookie: aliceCookie}, 403, "forbidden", ""},
		{"ingest token cannot read", req{path: "/api/v1/probe/live", header: bearer(feed)}, 403, "forbidden", ""},
		{"ingest token writes its layer", req{method: "POST", path: "/api/v1/probe/ingest/traffic.segments", header: bearer(feed)}, 200, "", ""},
		{"token replayed on another layer", req{method: "POST", path: "/api/v1/probe/ingest/feedback.reports", header: bearer(feed)}, 403, "out_of_scope", ""},
		{"cookie from another site", req{method: "POST", path: "/api/v1/probe/ingest/x", cookie: aliceCookie, header: map[string]string{"Origin": "https://evil.example"}}, 403, "cross_origin", ""},
		{"websocket token in subprotocol", req{path: "/api/v1/probe/live", header: map[string]string{"Upgrade": "websocket", "Sec-WebSocket-Protocol": WSProtocol + ", " + WSTokenPrefix + expiring}}, 401, "unauthenticated", ""},
	} {
		resp, body := f.do(t, tc.q)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, resp.StatusCode, tc.status, body)
			continue
		}
		if tc.code != "" && errorCode(t, body) != tc.code {
			t.Errorf("%s: code %s, want %s", tc.name, errorCode(t, body), tc.code)
		}
		if tc.status == 401 && resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", tc.name)
		}
		if tc.body != "" && body != tc.body {
			t.Errorf("%s: body %q, want %q", tc.name, body, tc.body)
		}
	}
	for reason, want := range map[string]float64{reasonNoCredentials: 2, reasonExpiredToken: 2, reasonRevokedToken: 1, reasonBadToken: 1,
		reasonBadHeader: 1, reasonBadSession: 1, reasonForbidden: 2, reasonOutOfScope: 1, reasonCrossOrigin: 1} {
		if got := testutil.ToFloat64(f.auth.metrics.rejections.WithLabelValues(reason)); got != want {
			t.Errorf("ioc_auth_rejections_total{reason=%q} = %v, want %v", reason, got, want)
		}
	}
}

func TestWebSocketTokenInSubprotocol(t *testing.T) {
	f := newFixture(t)
	viewer, _ := f.token(t, "wall", []access.Role{access.RoleViewer}, access.ScopeSpec{}, 0)
	h := map[string]string{"Upgrade": "websocket", "Sec-WebSocket-Protocol": WSProtocol + ", " + WSTokenPrefix + viewer}
	if resp, body := f.do(t, req{path: "/api/v1/probe/live", header: h}); resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	// Outside an upgrade the subprotocol header is not a credential.
	delete(h, "Upgrade")
	if resp, _ := f.do(t, req{path: "/api/v1/probe/live", header: h}); resp.StatusCode != 401 {
		t.Fatalf("status %d without Upgrade, want 401", resp.StatusCode)
	}
}

func TestSessionExpiry(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "bob", []access.Role{access.RoleViewer}, access.ScopeSpec{})
	_, c := f.login(t, "bob", alicePassword)
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || len(c.Value) != sessionIDLen {
		t.Fatalf("cookie = %+v", c)
	}
	live := req{path: "/api/v1/probe/live", cookie: c}
	for range 3 { // used within the idle time, the session lives on
		f.clock.Advance(20 * time.Minute)
		if resp, _ := f.do(t, live); resp.StatusCode != 200 {
			t.Fatalf("active session refused: %d", resp.StatusCode)
		}
	}
	f.clock.Advance(31 * time.Minute)
	if resp, _ := f.do(t, live); resp.StatusCode != 401 {
		t.Fatalf("idle session: status %d, want 401", resp.StatusCode)
	}
	_, c = f.login(t, "bob", alicePassword)
	live.cookie = c
	for range 37 { // busy all day: the absolute limit still ends it
		f.clock.Advance(20 * time.Minute)
		f.do(t, live)
	}
	if resp, _ := f.do(t, live); resp.StatusCode != 401 {
		t.Fatalf("session past its absolute life: status %d, want 401", resp.StatusCode)
	}
	// Logout ends a session at once.
	_, c = f.login(t, "bob", alicePassword)
	if resp, _ := f.do(t, req{method: "POST", path: LogoutPath, cookie: c}); resp.StatusCode != 204 {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if resp, _ := f.do(t, req{path: "/api/v1/probe/live", cookie: c}); resp.StatusCode != 401 {
		t.Fatalf("after logout: %d, want 401", resp.StatusCode)
	}
}

func TestLoginRateLimit(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "carol", []access.Role{access.RoleViewer}, access.ScopeSpec{})
	for i := range 5 { // free failures
		if resp, _ := f.login(t, "carol", "wrong password!"); resp.StatusCode != 401 {
			t.Fatalf("failure %d: status %d, want 401", i+1, resp.StatusCode)
		}
	}
	f.login(t, "carol", "wrong password!") // the first counted failure: wait 1 s
	resp, c := f.login(t, "carol", alicePassword)
	if resp.StatusCode != 429 || c != nil || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("right password while throttled: status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	f.clock.Advance(time.Second)
	f.login(t, "carol", "wrong password!") // the second: wait 2 s
	f.clock.Advance(time.Second)
	if resp, _ := f.login(t, "carol", alicePassword); resp.StatusCode != 429 {
		t.Fatalf("backoff did not double: status %d", resp.StatusCode)
	}
	f.clock.Advance(time.Second)
	if resp, c := f.login(t, "carol", alicePassword); resp.StatusCode != 200 || c == nil {
		t.Fatalf("after the wait: status %d", resp.StatusCode)
	}
	// Success clears the user's counter.
	if resp, _ := f.login(t, "carol", "wrong password!"); resp.StatusCode != 401 {
		t.Fatalf("after success: status %d, want 401", resp.StatusCode)
	}
	if n, _ := f.store.QueryAudit(AuditQuery{Action: ActionLoginBlocked, To: f.clock.Now().Add(time.Second)}); len(n) != 2 {
		t.Errorf("audit has %d login_blocked records, want 2", len(n))
	}
}

func TestLoginUnknownUserAndDisabled(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "dave", []access.Role{access.RoleViewer}, access.ScopeSpec{})
	if err := f.store.SetDisabled("dave", true); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"nobody", "dave"} {
		resp, c := f.login(t, user, alicePassword)
		if resp.StatusCode != 401 || c != nil {
			t.Errorf("%s: status %d, cookie %v", user, resp.StatusCode, c)
		}
	}
	for _, body := range []string{"", "{", `{"user":"dave"}`, `["dave"]`, "{\"user\":\"\xff\",\"password\":\"x\"}", strings.Repeat(" ", maxLoginBody+1)} {
		resp, out := f.do(t, req{method: "POST", path: LoginPath, body: body})
		if resp.StatusCode != 400 || errorCode(t, out) != "bad_request" {
			t.Errorf("login body %.20q: status %d %s", body, resp.StatusCode, out)
		}
	}
}

// TestSecretsNeverLogged captures everything the package logs and audits
// during logins, token use and failures, and looks for the secrets.
func TestSecretsNeverLogged(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "erin", []access.Role{access.RoleAdmin}, access.ScopeSpec{})
	wrongPassword := "erin's wrong password 123"
	f.login(t, "erin", wrongPassword)
	_, c := f.login(t, "erin", alicePassword)
	secret, _ := f.token(t, "feed", []access.Role{access.RoleIngest}, access.ScopeSpec{Layers: []string{"a.b"}}, 0)
	f.do(t, req{path: "/api/v1/probe/live", header: bearer(secret)})
	f.do(t, req{path: "/api/v1/probe/live", header: bearer(secret + "x")})
	f.do(t, req{method: "POST", path: "/api/v1/probe/ingest/c.d", header: bearer(secret)})
	f.do(t, req{method: "POST", path: LogoutPath, cookie: c})
	recs, err := f.store.QueryAudit(AuditQuery{To: f.clock.Now().Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	audit, _ := json.Marshal(recs)
	text := f.logBuf.String() + string(audit)
	if !strings.Contains(text, "login_failed") || !strings.Contains(text, "access_denied") {
		t.Fatalf("the capture missed the events it should hold:\n%s", text)
	}
	for name, s := range map[string]string{"password": alicePassword, "wrong password": wrongPassword, "token": secret,
		"token secret part": secret[len(tokenPrefix)+tokenIDLen+1:], "session id": c.Value} {
		if strings.Contains(text, s) {
			t.Errorf("the %s appears in logs or audit", name)
		}
	}
}

func TestAuditRecordsEachAction(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "frank", []access.Role{access.RoleAdmin}, access.ScopeSpec{})
	f.addUser(t, "gina", []access.Role{access.RoleViewer}, access.ScopeSpec{})
	f.login(t, "frank", "not frank's password")
	_, admin := f.login(t, "frank", alicePassword)
	_, viewer := f.login(t, "gina", alicePassword)
	f.do(t, req{path: "/api/v1/probe/users", cookie: viewer})
	f.do(t, req{method: "POST", path: LogoutPath, cookie: viewer})
	f.do(t, req{path: "/api/v1/probe/live", header: bearer("ioc_0000000000000000_" + strings.Repeat("A", tokenSecretLen))})
	f.clock.Advance(time.Second)

	resp, body := f.do(t, req{path: AuditPath + "?from=2026-11-27T00:00:00Z", cookie: admin})
	if resp.StatusCode != 200 {
		t.Fatalf("audit query: %d %s", resp.StatusCode, body)
	}
	var out struct{ Records []Record }
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range out.Records {
		got = append(got, r.Action+" "+r.Actor+" "+r.Outcome)
		if r.Remote != "127.0.0.1" || r.At.IsZero() {
			t.Errorf("record %+v: remote or time missing", r)
		}
	}
	want := []string{
		"login_failed user:frank failed", "login user:frank ok", "login user:gina ok",
		"access_denied user:gina denied", "logout user:gina ok", "auth_failed anonymous failed",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Filters, and the permission on the endpoint itself.
	_, body = f.do(t, req{path: AuditPath + "?from=2026-11-27T00:00:00Z&actor=user:gina&action=logout", cookie: admin})
	if strings.Count(body, `"action"`) != 1 {
		t.Errorf("filtered audit: %s", body)
	}
	_, viewer = f.login(t, "gina", alicePassword)
	if resp, _ := f.do(t, req{path: AuditPath, cookie: viewer}); resp.StatusCode != 403 {
		t.Errorf("a viewer reads the audit log: %d", resp.StatusCode)
	}
	for _, bad := range []string{"?from=yesterday", "?limit=0", "?from=2026-11-28T00:00:00Z&to=2026-11-27T00:00:00Z"} {
		if resp, _ := f.do(t, req{path: AuditPath + bad, cookie: admin}); resp.StatusCode != 400 {
			t.Errorf("audit %s: status %d, want 400", bad, resp.StatusCode)
		}
	}
}

func TestMeAndDemo(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "hana", []access.Role{access.RoleLeader}, access.ScopeSpec{Areas: []string{"492"}})
	_, c := f.login(t, "hana", alicePassword)
	_, body := f.do(t, req{path: MePath, cookie: c})
	var me meJSON
	if err := json.Unmarshal([]byte(body), &me); err != nil {
		t.Fatal(err)
	}
	if me.ID != "hana" || strings.Join(me.Permissions, ",") != "read:live,read:history" || strings.Join(me.Scope.Areas, ",") != "492" {
		t.Errorf("me = %+v", me)
	}

	demo, err := New(Config{Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	var seen *access.Principal
	h := demo.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen, _ = access.FromContext(r.Context()) }))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/layers", nil))
	if seen == nil || seen.Actor() != "demo:demo" || !seen.Can(access.AdminUsers) {
		t.Errorf("demo principal = %+v", seen)
	}
	if _, err := New(Config{}); err == nil {
		t.Error("New without a store and without demo succeeded")
	}
}

func TestRunFlushesTokenUse(t *testing.T) {
	f := newFixture(t)
	secret, tok := f.token(t, "wall", []access.Role{access.RoleViewer}, access.ScopeSpec{}, 0)
	f.do(t, req{path: "/api/v1/probe/live", header: bearer(secret)})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.auth.Run(ctx); err != nil {
		t.Fatal(err)
	}
	var stored Token
	if err := f.store.db.View(func(tx *bbolt.Tx) error { return getJSON(tx.Bucket(bucketTokens), tok.ID, &stored, ErrNoToken) }); err != nil {
		t.Fatal(err)
	}
	if !stored.LastUsed.Equal(f.clock.Now()) {
		t.Errorf("stored last use %v, want %v", stored.LastUsed, f.clock.Now())
	}
}
