package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/danang-ioc/ioc/layers/access"
)

// fakeProvider is a minimal OpenID Connect provider: discovery, keys, and
// a token endpoint that checks the PKCE verifier of the code it issued.
type fakeProvider struct {
	srv    *httptest.Server
	key    *rsa.PrivateKey
	mu     sync.Mutex
	codes  map[string]fakeGrant
	claims map[string]any // added to every ID token
}

type fakeGrant struct{ nonce, challenge string }

func newFakeProvider(t *testing.T) *fakeProvider {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &fakeProvider{key: key, codes: map[string]fakeGrant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": p.srv.URL, "authorization_endpoint": p.srv.URL + "/auth",
			"token_endpoint": p.srv.URL + "/token", "jwks_uri": p.srv.URL + "/keys", "id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("/token", p.token)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// authorize is what the provider does when the browser arrives from the
// login redirect: it issues a code bound to the nonce and PKCE challenge.
func (p *fakeProvider) authorize(t *testing.T, location string) (code, state string) {
	u, err := url.Parse(location)
	if err != nil || !strings.HasPrefix(location, p.srv.URL+"/auth?") {
		t.Fatalf("login redirect to %q", location)
	}
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" || q.Get("client_id") != "ioc" {
		t.Fatalf("authorization request lacks PKCE, nonce or client: %s", u.RawQuery)
	}
	code = randomString()
	p.mu.Lock()
	p.codes[code] = fakeGrant{nonce: q.Get("nonce"), challenge: q.Get("code_challenge")}
	p.mu.Unlock()
	return code, q.Get("state")
}

func (p *fakeProvider) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	p.mu.Lock()
	g, ok := p.codes[r.PostForm.Get("code")]
	delete(p.codes, r.PostForm.Get("code"))
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
		return
	}
	claims := map[string]any{"iss": p.srv.URL, "aud": "ioc", "sub": "u-123", "nonce": g.nonce,
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
	for k, v := range p.claims {
		claims[k] = v
	}
	payload, _ := json.Marshal(claims)
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: p.key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	jws, _ := signer.Sign(payload)
	idToken, _ := jws.CompactSerialize()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "id_token": idToken})
}

func newOIDCFixture(t *testing.T) (*fixture, *fakeProvider) {
	prov := newFakeProvider(t)
	areas, _ := testAreas()
	o, err := NewOIDC(context.Background(), OIDCConfig{Issuer: prov.srv.URL, ClientID: "ioc", ClientSecret: "s",
		RedirectURL: "https://ioc.example" + OIDCCallbackPath, RoleMap: map[string]access.Role{"ioc-operators": access.RoleOperator},
		AreasClaim: "ioc_areas", Areas: areas})
	if err != nil {
		t.Fatal(err)
	}
	return newFixture(t, func(c *Config) { c.OIDC = o }), prov
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// startLogin follows the browser to the provider and back, and returns the
// callback request (not yet sent) with the state cookie.
func startLogin(t *testing.T, f *fixture, prov *fakeProvider) *http.Request {
	resp, err := noRedirect.Get(f.srv.URL + OIDCLoginPath)
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("oidc login: %v %v", resp, err)
	}
	resp.Body.Close()
	code, state := prov.authorize(t, resp.Header.Get("Location"))
	cb, _ := http.NewRequest("GET", f.srv.URL+OIDCCallbackPath+"?code="+url.QueryEscape(code)+"&state="+url.QueryEscape(state), nil)
	for _, c := range resp.Cookies() {
		cb.AddCookie(c)
	}
	return cb
}

func sessionCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == CookieName && c.Value != "" {
			return c
		}
	}
	return nil
}

func TestOIDCLogin(t *testing.T) {
	f, prov := newOIDCFixture(t)
	prov.claims = map[string]any{"preferred_username": "lan", "groups": []string{"staff", "ioc-operators"}, "ioc_areas": []string{"492"}}
	resp, err := noRedirect.Do(startLogin(t, f, prov))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c := sessionCookie(resp)
	if resp.StatusCode != http.StatusSeeOther || c == nil {
		t.Fatalf("callback: %d, cookie %v", resp.StatusCode, c)
	}
	_, body := f.do(t, req{path: MePath, cookie: c})
	var me meJSON
	json.Unmarshal([]byte(body), &me)
	if me.ID != "oidc:lan" || len(me.Roles) != 1 || me.Roles[0] != access.RoleOperator || strings.Join(me.Scope.Areas, ",") != "492" {
		t.Errorf("me = %s", body)
	}
}

func TestOIDCRefusals(t *testing.T) {
	f, prov := newOIDCFixture(t)
	prov.claims = map[string]any{"preferred_username": "lan", "groups": "ioc-operators"}
	for _, tc := range []struct {
		name  string
		spoil func(r *http.Request) *http.Request
		setup func()
	}{
		{"state cookie of another browser", func(r *http.Request) *http.Request {
			r.Header.Del("Cookie")
			r.AddCookie(&http.Cookie{Name: oidcStateCookie, Value: randomString()})
			return r
		}, nil},
		{"no state cookie", func(r *http.Request) *http.Request { r.Header.Del("Cookie"); return r }, nil},
		{"code from another login", func(r *http.Request) *http.Request {
			q := r.URL.Query()
			q.Set("code", "forged")
			r.URL.RawQuery = q.Encode()
			return r
		}, nil},
		{"ID token with a foreign nonce", nil, func() { prov.claims["nonce"] = "someone else's" }},
		{"no IOC role", nil, func() { delete(prov.claims, "nonce"); prov.claims["groups"] = "staff" }},
		{"provider error", func(r *http.Request) *http.Request {
			r.URL.RawQuery = "error=access_denied&state=" + r.URL.Query().Get("state")
			return r
		}, func() { prov.claims["groups"] = "ioc-operators" }},
	} {
		if tc.setup != nil {
			tc.setup()
		}
		r := startLogin(t, f, prov)
		if tc.spoil != nil {
			r = tc.spoil(r)
		}
		resp, err := noRedirect.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || sessionCookie(resp) != nil {
			t.Errorf("%s: status %d, want 401 without a session", tc.name, resp.StatusCode)
		}
	}
	// A callback replayed after it succeeded is refused: the state is spent.
	r := startLogin(t, f, prov)
	replay := r.Clone(context.Background())
	if resp, _ := noRedirect.Do(r); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("good callback: %d", resp.StatusCode)
	}
	if resp, _ := noRedirect.Do(replay); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("replayed callback: %d, want 401", resp.StatusCode)
	}
	recs, _ := f.store.QueryAudit(AuditQuery{Action: ActionLoginFailed, To: f.clock.Now().Add(time.Second)})
	if len(recs) != 7 {
		t.Errorf("%d login_failed records, want 7", len(recs))
	}
}
