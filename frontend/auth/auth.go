package auth

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/danang-ioc/ioc/layers/access"
)

// Config configures authentication. Zero durations and sizes take the
// documented defaults.
type Config struct {
	Store *Store // required unless Demo
	// Demo lets every request in as the admin principal "demo". The caller
	// must say so loudly (log and page); New logs a warning too.
	Demo bool
	// Audit receives the audit records; default the Store.
	Audit Audit
	// SecureCookie marks the session cookie Secure: set it when serving TLS
	// (or behind a TLS-terminating proxy).
	SecureCookie bool
	SessionIdle  time.Duration // default 30m
	SessionMax   time.Duration // absolute session life, default 12h
	MaxSessions  int           // default 10000
	// PublicPaths are exact paths answered without credentials, e.g.
	// /healthz and /readyz. Login and logout are always public.
	PublicPaths []string
	// OIDC, when set, adds login through the city's OpenID Connect
	// provider (NewOIDC) next to the local users.
	OIDC       *OIDC
	Log        *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
}

func (c *Config) defaults() {
	if c.SessionIdle <= 0 {
		c.SessionIdle = 30 * time.Minute
	}
	if c.SessionMax <= 0 {
		c.SessionMax = 12 * time.Hour
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = 10000
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Audit == nil && c.Store != nil {
		c.Audit = &storeAudit{store: c.Store, log: c.Log}
	}
}

// Paths of the authentication endpoints.
const (
	LoginPath  = "/api/v1/auth/login"
	LogoutPath = "/api/v1/auth/logout"
	MePath     = "/api/v1/auth/me"
	AuditPath  = "/api/v1/audit"
)

// CookieName is the session cookie.
const CookieName = "ioc_session"

// WSProtocol is the WebSocket subprotocol of the IOC; WSTokenPrefix carries
// a token in Sec-WebSocket-Protocol for browsers, which cannot set an
// Authorization header on a WebSocket.
const (
	WSProtocol    = "ioc.v1"
	WSTokenPrefix = "ioc.bearer."
)

// Auth is the authentication of one server: middleware, routes, sessions.
type Auth struct {
	cfg      Config
	store    *Store
	audit    Audit
	sessions *sessions
	users    *limiter // login failures per user name
	remotes  *limiter // login failures per client address
	public   map[string]bool
	metrics  *metrics
	// auditBudget bounds auth_failed and access_denied records per client
	// address (60 a minute).
	auditBudget *auditThrottle
	demo        *access.Principal // the one principal of the open demo mode
}

// New builds the authentication of a server. Mount Middleware at the root
// of the router (every route), Routes inside /api/v1, and run Run for
// housekeeping.
func New(cfg Config) (*Auth, error) {
	if cfg.Store == nil && !cfg.Demo {
		return nil, errors.New("auth: no user store and not in demo mode")
	}
	cfg.defaults()
	a := &Auth{
		cfg: cfg, store: cfg.Store, audit: cfg.Audit,
		sessions:    newSessions(cfg.SessionIdle, cfg.SessionMax, cfg.MaxSessions, 20),
		users:       newLimiter(5, time.Second, 15*time.Minute, 100000),
		remotes:     newLimiter(20, time.Second, 15*time.Minute, 100000),
		public:      map[string]bool{LoginPath: true, LogoutPath: true},
		auditBudget: newAuditThrottle(60, 100000),
		demo:        access.Demo(),
	}
	for _, p := range cfg.PublicPaths {
		a.public[p] = true
	}
	if cfg.OIDC != nil {
		a.public[OIDCLoginPath], a.public[OIDCCallbackPath] = true, true
	}
	a.metrics = newMetrics(cfg.Registerer, a.sessions)
	if cfg.Demo {
		cfg.Log.Warn("OPEN DEMO MODE: authentication is off, every request acts as admin \"demo\"; never use it on a network")
	}
	return a, nil
}

// Run flushes token last-use times and drops expired sessions once a
// minute until ctx ends, then flushes once more.
func (a *Auth) Run(ctx context.Context) error {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return a.flush()
		case <-t.C:
			a.sessions.sweep(a.cfg.Now())
			if err := a.flush(); err != nil {
				a.cfg.Log.Error("writing token last-use times", "err", err)
			}
		}
	}
}

func (a *Auth) flush() error {
	if a.store == nil {
		return nil
	}
	return a.store.FlushLastUsed()
}

// Middleware authenticates every request and puts its principal in the
// request context; a request without valid credentials gets 401.
func (a *Auth) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.cfg.Demo {
			next.ServeHTTP(w, r.WithContext(access.WithPrincipal(r.Context(), a.demo)))
			return
		}
		// The escaped path, as the router sees it: a decoded one would let
		// "/api/v1/auth%2Flogin" pass as public and reach a route with a
		// {parameter} in that place.
		if a.public[r.URL.EscapedPath()] {
			next.ServeHTTP(w, r)
			return
		}
		p, reason, err := a.authenticate(r)
		if err != nil {
			a.unauthenticated(w, r, reason, err)
			return
		}
		if reason := a.crossOrigin(r); reason != "" {
			a.Deny(w, r.WithContext(access.WithPrincipal(r.Context(), p)), reason, "the request comes from another site")
			return
		}
		next.ServeHTTP(w, r.WithContext(access.WithPrincipal(r.Context(), p)))
	})
}

// Rejection reasons: the label of ioc_auth_rejections_total.
const (
	reasonNoCredentials  = "no_credentials"
	reasonBadHeader      = "bad_authorization_header"
	reasonBadToken       = "bad_token"
	reasonExpiredToken   = "expired_token"
	reasonRevokedToken   = "revoked_token"
	reasonBadSession     = "bad_session"
	reasonExpiredSession = "expired_session"
	reasonForbidden      = "forbidden"
	reasonOutOfScope     = "out_of_scope"
	reasonCrossOrigin    = "cross_origin"
	reasonLoginThrottled = "login_throttled"
	reasonBadLogin       = "bad_login"
)

// authenticate finds the request's credentials: an Authorization: Bearer
// token, else (on a WebSocket upgrade) a token in Sec-WebSocket-Protocol,
// else the session cookie. Tokens never come in the URL, which ends up in
// logs.
func (a *Auth) authenticate(r *http.Request) (*access.Principal, string, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return nil, reasonBadHeader, errors.New("Authorization header: want \"Bearer <token>\"")
		}
		return a.token(strings.TrimSpace(tok))
	}
	if tok, ok := wsToken(r); ok {
		return a.token(tok)
	}
	if c, err := r.Cookie(CookieName); err == nil {
		p, err := a.sessions.check(c.Value, a.cfg.Now())
		switch {
		case errors.Is(err, errSessionExpired):
			return nil, reasonExpiredSession, errors.New("session expired: log in again")
		case err != nil:
			return nil, reasonBadSession, errors.New("unknown session: log in again")
		}
		return p, "", nil
	}
	return nil, reasonNoCredentials, errors.New("no credentials: log in, or send Authorization: Bearer <token>")
}

func (a *Auth) token(tok string) (*access.Principal, string, error) {
	p, err := a.store.authenticateToken(tok)
	switch {
	case err == nil:
		return p, "", nil
	case errors.Is(err, errTokenExpired):
		return nil, reasonExpiredToken, errors.New("token expired")
	case errors.Is(err, errTokenRevoked):
		return nil, reasonRevokedToken, errors.New("token revoked")
	}
	return nil, reasonBadToken, errors.New("token not recognised")
}

// wsToken returns a token offered as the subprotocol "ioc.bearer.<token>"
// on a WebSocket upgrade.
func wsToken(r *http.Request) (string, bool) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return "", false
	}
	for _, h := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(h, ",") {
			if tok, ok := strings.CutPrefix(strings.TrimSpace(p), WSTokenPrefix); ok {
				return tok, true
			}
		}
	}
	return "", false
}

// crossOrigin refuses a request carried by the session cookie that
// changes something, or opens a WebSocket, from a page of another site:
// SameSite=Strict already keeps the cookie off such requests in current
// browsers; this is the second lock. Token requests are not browser
// requests and pass.
func (a *Auth) crossOrigin(r *http.Request) string {
	if r.Header.Get("Authorization") != "" {
		return ""
	}
	if _, ok := wsToken(r); ok {
		return ""
	}
	unsafe := r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions
	upgrade := strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
	origin := r.Header.Get("Origin")
	if (!unsafe && !upgrade) || origin == "" {
		return ""
	}
	if u, err := url.Parse(origin); err == nil && strings.EqualFold(u.Host, r.Host) {
		return ""
	}
	return reasonCrossOrigin
}

// Require lets a request through only when its principal holds perm.
func (a *Auth) Require(perm access.Permission) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := access.FromContext(r.Context())
			if !ok {
				a.unauthenticated(w, r, reasonNoCredentials, errors.New("no credentials"))
				return
			}
			if !p.Can(perm) {
				a.Deny(w, r, reasonForbidden, "this needs the permission "+perm.String())
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// DenyOutOfScope answers 403 for a request whose principal asked for
// something outside its scope (a layer it may not write, an area it may
// not see). Handlers call it after their own scope checks.
func (a *Auth) DenyOutOfScope(w http.ResponseWriter, r *http.Request, what string) {
	a.Deny(w, r, reasonOutOfScope, what)
}

// Deny answers 403 with the reason counted and the attempt audited.
func (a *Auth) Deny(w http.ResponseWriter, r *http.Request, reason, msg string) {
	a.metrics.rejections.WithLabelValues(reason).Inc()
	a.recordThrottled(r, Record{Action: ActionDenied, Target: r.Method + " " + r.URL.Path, Detail: reason + ": " + msg, Outcome: OutcomeDenied})
	writeError(w, http.StatusForbidden, reasonCode(reason), msg)
}

func reasonCode(reason string) string {
	if reason == reasonForbidden {
		return "forbidden"
	}
	return reason
}

// unauthenticated answers 401. Presented credentials that failed are
// audited; a request with none is only counted (a scanner is not news).
func (a *Auth) unauthenticated(w http.ResponseWriter, r *http.Request, reason string, err error) {
	a.metrics.rejections.WithLabelValues(reason).Inc()
	if reason != reasonNoCredentials {
		a.recordThrottled(r, Record{Action: ActionAuthFailed, Target: r.Method + " " + r.URL.Path, Detail: reason, Outcome: OutcomeFailed})
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="ioc"`)
	writeError(w, http.StatusUnauthorized, "unauthenticated", err.Error())
}

// record fills actor and remote from the request and writes the record.
func (a *Auth) record(r *http.Request, rec Record) {
	if a.audit == nil {
		return
	}
	rec.Remote = remoteHost(r)
	if rec.Actor == "" {
		rec.Actor = "anonymous"
		if p, ok := access.FromContext(r.Context()); ok {
			rec.Actor = p.Actor()
		}
	}
	if rec.At.IsZero() {
		rec.At = a.cfg.Now().UTC()
	}
	a.audit.Record(r.Context(), rec)
}

// recordThrottled records what a client can cause at will (bad
// credentials, denied requests) within the per-address audit budget.
func (a *Auth) recordThrottled(r *http.Request, rec Record) {
	if !a.auditBudget.allow(remoteHost(r), a.cfg.Now()) {
		a.metrics.auditSuppressed.Inc()
		return
	}
	a.record(r, rec)
}

// Record writes an audit record for the request's principal: for incident,
// zone and configuration handlers.
func (a *Auth) Record(r *http.Request, action, target, detail, outcome string) {
	a.record(r, Record{Action: action, Target: target, Detail: detail, Outcome: outcome})
}

// remoteHost is the client address without its port. X-Forwarded-For is
// not read: behind a proxy, the proxy's address is what is recorded and
// limited (see docs/SECURITY.md).
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// storeAudit writes audit records to the store and to the log.
type storeAudit struct {
	store *Store
	log   *slog.Logger
}

func (s *storeAudit) Record(_ context.Context, r Record) {
	s.log.Info("audit", "action", r.Action, "actor", r.Actor, "target", r.Target, "outcome", r.Outcome, "remote", r.Remote, "detail", r.Detail)
	if err := s.store.AppendAudit(r); err != nil {
		auditFailures.Inc()
		s.log.Error("audit record not written", "action", r.Action, "err", err)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes the API's error body {"error":{"code","message"}}.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
