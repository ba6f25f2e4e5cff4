package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/danang-ioc/ioc/layers/access"
)

// maxLoginBody bounds the login request: a name and a password fit in far
// less.
const maxLoginBody = 4 << 10

// Routes mounts the authentication endpoints under /api/v1: POST
// /auth/login, POST /auth/logout, GET /auth/me, GET /audit (admins) and the
// user and token administration under /auth/users and /auth/tokens. The
// router must already run Middleware, which lets /auth/login through.
func (a *Auth) Routes(r chi.Router) {
	r.Post("/auth/login", a.login)
	r.Post("/auth/logout", a.logout)
	r.Get("/auth/me", a.me)
	r.With(a.Require(access.ReadAudit)).Get("/audit", a.queryAudit)
	a.adminRoutes(r)
	a.oidcRoutes(r)
}

type loginRequest struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// decodeLogin reads the login body; its errors never quote the body, which
// holds the password.
func decodeLogin(body io.Reader) (loginRequest, error) {
	data, err := io.ReadAll(io.LimitReader(body, maxLoginBody+1))
	switch {
	case err != nil:
		return loginRequest{}, errors.New("body could not be read")
	case len(data) > maxLoginBody:
		return loginRequest{}, fmt.Errorf("body over %d bytes", maxLoginBody)
	case !utf8.Valid(data):
		return loginRequest{}, errors.New("body is not valid UTF-8")
	}
	var req loginRequest
	if err := json.Unmarshal(data, &req); err != nil {
		return loginRequest{}, errors.New(`want a JSON object {"user": "...", "password": "..."}`)
	}
	req.User = strings.ToLower(strings.TrimSpace(req.User))
	if req.User == "" || req.Password == "" {
		return loginRequest{}, errors.New("user and password are required")
	}
	if len(req.User) > 64 || len(req.Password) > MaxPasswordLen {
		return loginRequest{}, ErrBadCredentials
	}
	return req, nil
}

func (a *Auth) login(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Demo {
		writeError(w, http.StatusNotFound, "demo_mode", "open demo mode: there is nothing to log in to")
		return
	}
	req, err := decodeLogin(r.Body)
	if err != nil {
		a.metrics.rejections.WithLabelValues(reasonBadLogin).Inc()
		writeError(w, http.StatusBadRequest, "bad_request", "login: "+err.Error())
		return
	}
	now := a.cfg.Now()
	userKey, remoteKey := "user:"+req.User, "remote:"+remoteHost(r)
	userWait, userFirst := a.users.wait(userKey, now)
	remoteWait, remoteFirst := a.remotes.wait(remoteKey, now)
	if wait := max(userWait, remoteWait); wait > 0 {
		a.throttled(w, r, req.User, wait, userFirst || remoteFirst)
		return
	}
	u, err := a.store.verify(req.User, req.Password)
	if err != nil {
		a.loginFailed(w, r, req.User, userKey, remoteKey, err)
		return
	}
	a.users.reset(userKey)
	p, err := a.store.userPrincipal(u)
	if err == nil {
		err = a.startSession(w, p, now)
	}
	if err != nil {
		a.cfg.Log.Error("login: session not started", "user", u.Name, "err", err)
		writeError(w, http.StatusServiceUnavailable, "unavailable", "login: "+err.Error())
		return
	}
	a.metrics.logins.WithLabelValues(OutcomeOK).Inc()
	a.record(r, Record{Actor: p.Actor(), Action: ActionLogin, Outcome: OutcomeOK})
	writeJSON(w, http.StatusOK, principalJSON(p))
}

func (a *Auth) startSession(w http.ResponseWriter, p *access.Principal, now time.Time) error {
	id, err := a.sessions.open(p, now)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: id, Path: "/", MaxAge: int(a.cfg.SessionMax.Seconds()),
		HttpOnly: true, Secure: a.cfg.SecureCookie, SameSite: http.SameSiteStrictMode,
	})
	return nil
}

func (a *Auth) throttled(w http.ResponseWriter, r *http.Request, user string, wait time.Duration, audit bool) {
	a.metrics.rejections.WithLabelValues(reasonLoginThrottled).Inc()
	a.metrics.logins.WithLabelValues("throttled").Inc()
	if audit {
		a.record(r, Record{Actor: "user:" + user, Action: ActionLoginBlocked, Outcome: OutcomeDenied,
			Detail: "too many failed attempts; wait " + wait.Round(time.Second).String()})
	}
	secs := int(wait.Seconds() + 0.999)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, "too_many_attempts",
		fmt.Sprintf("too many failed logins: try again in %d s", secs))
}

func (a *Auth) loginFailed(w http.ResponseWriter, r *http.Request, user, userKey, remoteKey string, err error) {
	now := a.cfg.Now()
	a.users.fail(userKey, now)
	a.remotes.fail(remoteKey, now)
	a.metrics.rejections.WithLabelValues(reasonBadLogin).Inc()
	a.metrics.logins.WithLabelValues(OutcomeFailed).Inc()
	a.record(r, Record{Actor: "user:" + user, Action: ActionLoginFailed, Outcome: OutcomeFailed})
	if !errors.Is(err, ErrBadCredentials) {
		a.cfg.Log.Error("login: user store", "user", user, "err", err)
		writeError(w, http.StatusServiceUnavailable, "unavailable", "login: the user store failed")
		return
	}
	writeError(w, http.StatusUnauthorized, "invalid_credentials", ErrBadCredentials.Error())
}

// logout is public, so that a browser with an expired session still gets
// its cookie cleared.
func (a *Auth) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil {
		if p, err := a.sessions.check(c.Value, a.cfg.Now()); err == nil && a.sessions.close(c.Value) {
			a.record(r, Record{Actor: p.Actor(), Action: ActionLogout, Outcome: OutcomeOK})
		}
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: a.cfg.SecureCookie, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}

func (a *Auth) me(w http.ResponseWriter, r *http.Request) {
	p, ok := access.FromContext(r.Context())
	if !ok {
		a.unauthenticated(w, r, reasonNoCredentials, errors.New("no credentials"))
		return
	}
	writeJSON(w, http.StatusOK, principalJSON(p))
}

type meJSON struct {
	Kind        string           `json:"kind"`
	ID          string           `json:"id"`
	Name        string           `json:"name"`
	Roles       []access.Role    `json:"roles"`
	Permissions []string         `json:"permissions"`
	Scope       access.ScopeSpec `json:"scope"`
	Demo        bool             `json:"demo,omitempty"`
}

func principalJSON(p *access.Principal) meJSON {
	out := meJSON{Kind: string(p.Kind), ID: p.ID, Name: p.Name, Roles: p.Roles, Scope: p.Scope().Spec(),
		Permissions: []string{}, Demo: p.Kind == access.KindDemo}
	for _, perm := range access.Permissions {
		if p.Can(perm) {
			out.Permissions = append(out.Permissions, perm.String())
		}
	}
	return out
}

// queryAudit answers GET /api/v1/audit?from=&to=&actor=&action=&limit=.
func (a *Auth) queryAudit(w http.ResponseWriter, r *http.Request) {
	if a.store == nil {
		writeError(w, http.StatusNotFound, "demo_mode", "open demo mode keeps no audit log")
		return
	}
	q, err := parseAuditQuery(r, a.cfg.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	recs, err := a.store.QueryAudit(q)
	if err != nil {
		a.cfg.Log.Error("audit query", "err", err)
		writeError(w, http.StatusServiceUnavailable, "unavailable", "audit store failed")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"records": recs})
}

func parseAuditQuery(r *http.Request, now time.Time) (AuditQuery, error) {
	v := r.URL.Query()
	q := AuditQuery{To: now, Actor: v.Get("actor"), Action: v.Get("action")}
	q.From = now.Add(-24 * time.Hour)
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if s := v.Get(f.name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return q, fmt.Errorf("%s: want an RFC 3339 time like 2026-11-27T08:00:00Z", f.name)
			}
			*f.dst = t
		}
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxAuditLimit {
			return q, fmt.Errorf("limit: want an integer in [1, %d]", MaxAuditLimit)
		}
		q.Limit = n
	}
	if !q.From.Before(q.To) {
		return q, errors.New("from: must be before to")
	}
	return q, nil
}
