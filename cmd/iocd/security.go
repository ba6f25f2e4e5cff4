package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/danang-ioc/ioc/frontend/auth"
	"github.com/danang-ioc/ioc/layers/access"
)

// defineSecurity registers the authentication, TLS and abuse-limit flags.
func (c *Config) defineSecurity(fs *flag.FlagSet) {
	fs.BoolVar(&c.Demo, "demo", false, "OPEN DEMO MODE: no login, every request acts as admin (logged loudly, bannered on the page); never on a network. Off: users and tokens from <data-dir>/auth.db (create the first admin with `iocd users add`)")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", false, "mark the session cookie Secure (always on with --tls-cert; set it behind a TLS-terminating proxy)")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "PEM certificate file: serve HTTPS (with --tls-key)")
	fs.StringVar(&c.TLSKey, "tls-key", "", "PEM private key file of --tls-cert")
	fs.StringVar(&c.OIDCIssuer, "oidc-issuer", "", "OpenID Connect issuer URL for login through the city's identity provider (empty: local users only)")
	fs.StringVar(&c.OIDCClientID, "oidc-client-id", "", "OpenID Connect client id of the IOC")
	fs.StringVar(&c.OIDCClientSecret, "oidc-client-secret", "", "OpenID Connect client secret (prefer the environment variable to the flag)")
	fs.StringVar(&c.OIDCRedirectURL, "oidc-redirect-url", "", "the IOC's callback URL registered with the provider, https://<host>/api/v1/auth/oidc/callback")
	fs.StringVar(&c.OIDCRolesClaim, "oidc-roles-claim", "groups", "ID-token claim (string or list) mapped to IOC roles")
	fs.StringVar(&c.OIDCRoleMap, "oidc-role-map", "", "claim value to IOC role, e.g. ioc-operators=operator,ioc-leaders=leader (empty: claim values are role names)")
	fs.StringVar(&c.OIDCAreasClaim, "oidc-areas-claim", "", "ID-token claim listing the area codes a user is limited to (empty: no area limit from the provider)")
	fs.Float64Var(&c.IngestRate, "ingest-rate", 100, "ingest requests per second each token may send (events, NGSI, Open311 POST, CAP) before 429; 0: unlimited. Not applied in --demo")
	fs.IntVar(&c.IngestBurst, "ingest-burst", 200, "ingest requests a token may send at once above --ingest-rate")
}

// validateSecurity checks the security flags, including that the TLS
// files load, so that checkconfig finds a bad certificate before a start.
func (c *Config) validateSecurity() error {
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together: give both or neither")
	}
	if c.TLSCert != "" {
		if _, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey); err != nil {
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
	}
	if c.OIDCIssuer != "" {
		if c.OIDCClientID == "" || c.OIDCRedirectURL == "" {
			return errors.New("--oidc-issuer needs --oidc-client-id and --oidc-redirect-url")
		}
		if _, err := c.oidcRoleMap(); err != nil {
			return fmt.Errorf("--oidc-role-map: %w", err)
		}
	}
	if c.IngestRate < 0 || math.IsInf(c.IngestRate, 0) || math.IsNaN(c.IngestRate) || c.IngestBurst < 1 {
		return errors.New("--ingest-rate must be >= 0 and --ingest-burst at least 1")
	}
	return nil
}

// oidcRoleMap parses "claim-value=role,...".
func (c *Config) oidcRoleMap() (map[string]access.Role, error) {
	parts := splitList(c.OIDCRoleMap)
	if len(parts) == 0 {
		return nil, nil
	}
	out := make(map[string]access.Role, len(parts))
	for _, part := range parts {
		v, role, ok := strings.Cut(part, "=")
		if !ok || v == "" {
			return nil, fmt.Errorf("%q: want claim-value=role", part)
		}
		r, err := access.ParseRole(role)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", part, err)
		}
		out[v] = r
	}
	return out, nil
}

// openAuth opens the user store under the data directory and builds the
// authentication, or the open demo mode, which it announces loudly.
func (a *app) openAuth() error {
	cfg := a.cfg
	ac := auth.Config{Demo: cfg.Demo, SecureCookie: cfg.SecureCookies || cfg.TLSCert != "",
		PublicPaths: []string{"/healthz", "/readyz"}, Log: a.log.With("component", "auth"), Registerer: a.reg}
	if cfg.Demo {
		a.log.Warn("*** OPEN DEMO MODE (--demo): NO AUTHENTICATION. Every request acts as admin; anyone who reaches this port sees and controls everything. Never run it on a network. ***")
		var err error
		a.auth, err = auth.New(ac)
		return err
	}
	areas, err := access.DefaultAreas(cfg.areaFiles()...)
	if err != nil {
		return fmt.Errorf("auth: areas: %w", err)
	}
	if ac.Store, err = auth.Open(filepath.Join(cfg.DataDir, auth.FileName), auth.StoreOptions{Areas: areas}); err != nil {
		return fmt.Errorf("auth store: %w", err)
	}
	a.authStore = ac.Store
	if cfg.OIDCIssuer != "" {
		roleMap, _ := cfg.oidcRoleMap() // validated
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ac.OIDC, err = auth.NewOIDC(ctx, auth.OIDCConfig{Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID,
			ClientSecret: cfg.OIDCClientSecret, RedirectURL: cfg.OIDCRedirectURL, RolesClaim: cfg.OIDCRolesClaim,
			RoleMap: roleMap, AreasClaim: cfg.OIDCAreasClaim, Areas: areas})
		if err != nil {
			_ = ac.Store.Close()
			return fmt.Errorf("oidc: %w", err)
		}
	}
	if a.auth, err = auth.New(ac); err != nil {
		_ = ac.Store.Close()
		return err
	}
	return nil
}

// closeAuth closes the user store (nil in the demo mode).
func (a *app) closeAuth() error {
	if a.authStore == nil {
		return nil
	}
	return a.authStore.Close()
}

// byMethod requires read for GET and HEAD and write for every other
// method: for route groups whose package mounts reads and writes together.
func (a *app) byMethod(read, write access.Permission) func(http.Handler) http.Handler {
	readMW, writeMW := a.auth.Require(read), a.auth.Require(write)
	return func(next http.Handler) http.Handler {
		r, w := readMW(next), writeMW(next)
		return http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
			if req.Method == http.MethodGet || req.Method == http.MethodHead {
				r.ServeHTTP(rw, req)
				return
			}
			w.ServeHTTP(rw, req)
		})
	}
}

// audited records every request that changes something (not GET or HEAD)
// in the audit log as action, with its path and outcome, after the handler
// answered: incident actions and zone changes (docs/SECURITY.md).
func (a *app) audited(action string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				next.ServeHTTP(w, r)
				return
			}
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			outcome := auth.OutcomeOK
			if ww.Status() >= 400 {
				outcome = auth.OutcomeFailed
			}
			a.auth.Record(r, action, r.Method+" "+r.URL.Path, "status "+strconv.Itoa(ww.Status()), outcome)
		})
	}
}

// securityHeaders sets the headers that keep the web app and the API out
// of frames, sniffing and other sites' referrers. The CSP allows only this
// origin, plus blob: workers and data:/blob: images that MapLibre uses,
// plus the origin of --map-style when one is set.
func securityHeaders(mapStyle string, tls bool) func(http.Handler) http.Handler {
	extra := ""
	if u, err := url.Parse(mapStyle); err == nil && u.Scheme != "" && u.Host != "" {
		extra = " " + u.Scheme + "://" + u.Host
	}
	csp := "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:" + extra +
		"; connect-src 'self'" + extra + "; worker-src 'self' blob:; child-src 'self' blob:; font-src 'self'" + extra +
		"; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Security-Policy", csp)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("X-Frame-Options", "DENY")
			if tls {
				h.Set("Strict-Transport-Security", "max-age=31536000")
			}
			next.ServeHTTP(w, r)
		})
	}
}

// ingestLimiter is a token bucket per principal for the ingest endpoints:
// a runaway or stolen feed token cannot flood the layers. Buckets idle for
// a minute are dropped, so the map stays as small as the active feeds.
type ingestLimiter struct {
	rate    float64 // requests per second
	burst   float64
	now     func() time.Time
	limited prometheus.Counter

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newIngestLimiter(rate float64, burst int, reg prometheus.Registerer) *ingestLimiter {
	l := &ingestLimiter{rate: rate, burst: float64(burst), now: time.Now, buckets: map[string]*bucket{},
		limited: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "ioc", Subsystem: "ingest", Name: "rate_limited_total",
			Help: "Ingest requests refused with 429 because their token exceeded --ingest-rate."})}
	if reg != nil {
		reg.MustRegister(l.limited)
	}
	return l
}

// take spends one token of key's bucket, or says how long until one is
// there.
func (l *ingestLimiter) take(key string) (ok bool, wait time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.at) > time.Minute {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// middleware limits requests that change something (ingest is POST, PUT,
// PATCH or DELETE) per principal; reads pass.
func (l *ingestLimiter) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := access.FromContext(r.Context())
		if l == nil || l.rate == 0 || !ok || p.Kind == access.KindDemo || r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		if ok, wait := l.take(p.Actor()); !ok {
			l.limited.Inc()
			secs := max(1, int(math.Ceil(wait.Seconds())))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = fmt.Fprintf(w, `{"error":{"code":"rate_limited","message":"this token sends more than %g ingest requests a second: retry after %d s"}}`+"\n", l.rate, secs)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ingestGroup mounts routes that write events: writes need the ingest
// permission (per event, the streams' intake checks layer and area) and
// pass the per-token rate limit; reads (Open311's GET) need reads.
func (a *app) ingestGroup(r chi.Router, reads access.Permission, mount func(chi.Router)) {
	r.Group(func(r chi.Router) {
		r.Use(a.byMethod(reads, access.Ingest), a.limiter.middleware)
		mount(r)
	})
}

// serve serves HTTPS when a certificate is configured, else HTTP.
func (a *app) serve(ln net.Listener) error {
	if a.cfg.TLSCert != "" {
		a.http.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		return a.http.ServeTLS(ln, a.cfg.TLSCert, a.cfg.TLSKey)
	}
	return a.http.Serve(ln)
}
