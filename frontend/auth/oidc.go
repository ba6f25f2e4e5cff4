package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-chi/chi/v5"
	"golang.org/x/oauth2"

	"github.com/danang-ioc/ioc/layers/access"
)

// OIDC paths, public: the browser arrives at both without a session.
const (
	OIDCLoginPath    = "/api/v1/auth/oidc/login"
	OIDCCallbackPath = "/api/v1/auth/oidc/callback"
	oidcStateCookie  = "ioc_oidc_state"
	oidcPendingTTL   = 10 * time.Minute
	oidcMaxPending   = 10000
)

// OIDCConfig connects the IOC to a city's OpenID Connect provider.
type OIDCConfig struct {
	Issuer       string // e.g. https://sso.danang.gov.vn/realms/ioc
	ClientID     string
	ClientSecret string
	RedirectURL  string // https://ioc.example/api/v1/auth/oidc/callback
	// RolesClaim names the ID-token claim (a string or a list of strings)
	// mapped to roles; default "groups".
	RolesClaim string
	// RoleMap maps claim values to roles; values not in it are ignored.
	// Nil: the claim values are role names.
	RoleMap map[string]access.Role
	// AreasClaim, when set, names a claim listing the area codes the user
	// is limited to; absent or empty means the whole city.
	AreasClaim string
	// NameClaim is the user's name; default "preferred_username", then sub.
	NameClaim string
	// Areas resolves area codes; required with AreasClaim.
	Areas access.AreaSource
	// HTTPClient talks to the provider; default http.DefaultClient.
	HTTPClient *http.Client
}

// OIDC is a connected provider: built once at start by NewOIDC, given to
// New in Config.OIDC.
type OIDC struct {
	cfg      OIDCConfig
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier

	mu      sync.Mutex
	pending map[string]oidcPending // by state
}

type oidcPending struct {
	nonce, verifier string
	created         time.Time
}

// NewOIDC discovers the provider (its /.well-known/openid-configuration).
func NewOIDC(ctx context.Context, cfg OIDCConfig) (*OIDC, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" {
		return nil, errors.New("oidc: issuer, client id and redirect URL are required")
	}
	if cfg.RolesClaim == "" {
		cfg.RolesClaim = "groups"
	}
	if cfg.NameClaim == "" {
		cfg.NameClaim = "preferred_username"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, cfg.HTTPClient), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc: discovering %s: %w", cfg.Issuer, err)
	}
	return &OIDC{
		cfg: cfg,
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL,
			Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile"}},
		verifier: provider.Verifier(&oidc.Config{ClientID: cfg.ClientID}),
		pending:  map[string]oidcPending{},
	}, nil
}

func randomString() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// begin remembers a new login attempt and returns its state.
func (o *OIDC) begin(now time.Time) (state string, p oidcPending, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for s, old := range o.pending {
		if now.Sub(old.created) > oidcPendingTTL {
			delete(o.pending, s)
		}
	}
	if len(o.pending) >= oidcMaxPending {
		return "", p, errors.New("too many logins in progress")
	}
	state = randomString()
	p = oidcPending{nonce: randomString(), verifier: oauth2.GenerateVerifier(), created: now}
	o.pending[state] = p
	return state, p, nil
}

// finish takes back the attempt of state, once.
func (o *OIDC) finish(state string, now time.Time) (oidcPending, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, ok := o.pending[state]
	delete(o.pending, state)
	return p, ok && now.Sub(p.created) <= oidcPendingTTL
}

// oidcRoutes mounts the login redirect and the callback.
func (a *Auth) oidcRoutes(r chi.Router) {
	if a.cfg.OIDC == nil {
		return
	}
	r.Get("/auth/oidc/login", a.oidcLogin)
	r.Get("/auth/oidc/callback", a.oidcCallback)
}

// oidcLogin sends the browser to the provider with state, nonce and a PKCE
// challenge; the state also goes in a cookie, so that the callback is
// accepted only in the browser that started it.
func (a *Auth) oidcLogin(w http.ResponseWriter, r *http.Request) {
	o := a.cfg.OIDC
	state, p, err := o.begin(a.cfg.Now())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "oidc: "+err.Error())
		return
	}
	// Lax, not Strict: the callback is a top-level navigation from the
	// provider's site, on which a Strict cookie is not sent.
	http.SetCookie(w, &http.Cookie{Name: oidcStateCookie, Value: state, Path: OIDCCallbackPath,
		MaxAge: int(oidcPendingTTL.Seconds()), HttpOnly: true, Secure: a.cfg.SecureCookie, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, o.oauth.AuthCodeURL(state, oidc.Nonce(p.nonce), oauth2.S256ChallengeOption(p.verifier)), http.StatusFound)
}

func (a *Auth) oidcCallback(w http.ResponseWriter, r *http.Request) {
	p, claims, err := a.oidcVerify(r)
	if err != nil {
		a.metrics.rejections.WithLabelValues(reasonBadLogin).Inc()
		a.metrics.logins.WithLabelValues(OutcomeFailed).Inc()
		a.record(r, Record{Actor: "anonymous", Action: ActionLoginFailed, Detail: "oidc: " + err.Error(), Outcome: OutcomeFailed})
		writeError(w, http.StatusUnauthorized, "invalid_credentials", "oidc login: "+err.Error())
		return
	}
	if err := a.startSession(w, p, a.cfg.Now()); err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "login: "+err.Error())
		return
	}
	http.SetCookie(w, &http.Cookie{Name: oidcStateCookie, Path: OIDCCallbackPath, MaxAge: -1, HttpOnly: true})
	a.metrics.logins.WithLabelValues(OutcomeOK).Inc()
	a.record(r, Record{Actor: p.Actor(), Action: ActionLogin, Detail: "oidc " + claims.issuer, Outcome: OutcomeOK})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

type oidcClaims struct{ issuer string }

// oidcVerify checks the callback (state against the cookie, then the code
// exchanged with the PKCE verifier, then the ID token's signature, issuer,
// audience, expiry and nonce) and maps its claims to a principal. Errors
// never quote the code or the tokens.
func (a *Auth) oidcVerify(r *http.Request) (*access.Principal, oidcClaims, error) {
	o := a.cfg.OIDC
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return nil, oidcClaims{}, fmt.Errorf("the provider refused: %.64s", e)
	}
	c, err := r.Cookie(oidcStateCookie)
	state := q.Get("state")
	if err != nil || state == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(state)) != 1 {
		return nil, oidcClaims{}, errors.New("state does not match this browser's login")
	}
	pending, ok := o.finish(state, a.cfg.Now())
	if !ok {
		return nil, oidcClaims{}, errors.New("login attempt unknown or older than 10 minutes")
	}
	ctx := oidc.ClientContext(r.Context(), o.cfg.HTTPClient)
	tok, err := o.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(pending.verifier))
	if err != nil {
		return nil, oidcClaims{}, errors.New("the provider did not accept the code")
	}
	raw, _ := tok.Extra("id_token").(string)
	idTok, err := o.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, oidcClaims{}, fmt.Errorf("ID token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idTok.Nonce), []byte(pending.nonce)) != 1 {
		return nil, oidcClaims{}, errors.New("ID token: nonce does not match")
	}
	var claims map[string]any
	if err := idTok.Claims(&claims); err != nil {
		return nil, oidcClaims{}, fmt.Errorf("ID token claims: %w", err)
	}
	p, err := o.principal(idTok.Subject, claims)
	return p, oidcClaims{issuer: idTok.Issuer}, err
}

// principal maps ID-token claims to a principal named "oidc:<name>", so
// that it never collides with a local user.
func (o *OIDC) principal(sub string, claims map[string]any) (*access.Principal, error) {
	name, _ := claims[o.cfg.NameClaim].(string)
	if name == "" {
		name = sub
	}
	var roles []access.Role
	for _, v := range claimStrings(claims[o.cfg.RolesClaim]) {
		role := access.Role(v)
		if o.cfg.RoleMap != nil {
			role = o.cfg.RoleMap[v]
		}
		if access.PermissionsOf(role) != 0 && !slices.Contains(roles, role) {
			roles = append(roles, role)
		}
	}
	if len(roles) == 0 {
		return nil, fmt.Errorf("user %s has no IOC role in claim %q", name, o.cfg.RolesClaim)
	}
	spec := access.ScopeSpec{}
	if o.cfg.AreasClaim != "" {
		spec.Areas = claimStrings(claims[o.cfg.AreasClaim])
	}
	sc := access.Unlimited()
	if !spec.IsZero() {
		var err error
		if sc, err = spec.Resolve(o.cfg.Areas); err != nil {
			return nil, fmt.Errorf("user %s: %w", name, err)
		}
	}
	return access.NewPrincipal(access.KindUser, "oidc:"+name, name, roles, sc), nil
}

// claimStrings reads a claim given as a string or a list of strings.
func claimStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
