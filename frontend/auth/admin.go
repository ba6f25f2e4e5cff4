package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/danang-ioc/ioc/layers/access"
)

// maxAdminBody bounds an admin request: a scope's polygons fit well within.
const maxAdminBody = 256 << 10

// adminRoutes mounts the user and token administration of a running
// server (the iocd users/tokens commands need it stopped). Only an admin
// with an unlimited scope may use them: a district admin could otherwise
// hand out a scope wider than its own.
func (a *Auth) adminRoutes(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(a.Require(access.AdminUsers), a.requireUnlimited)
		r.Get("/auth/users", a.listUsers)
		r.Post("/auth/users", a.addUser)
		r.Post("/auth/users/{name}/disable", a.setDisabled(true))
		r.Post("/auth/users/{name}/enable", a.setDisabled(false))
		r.Get("/auth/tokens", a.listTokens)
		r.Post("/auth/tokens", a.createToken)
		r.Delete("/auth/tokens/{id}", a.revokeToken)
	})
}

func (a *Auth) requireUnlimited(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, _ := access.FromContext(r.Context()); !p.Scope().IsUnlimited() {
			a.DenyOutOfScope(w, r, "administering users and tokens needs an admin without a scope limit")
			return
		}
		if a.store == nil {
			writeError(w, http.StatusNotFound, "demo_mode", "open demo mode has no user store")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// decodeAdmin reads a JSON body into v, refusing unknown fields; errors
// name the problem and never quote the body (it may hold a password).
func decodeAdmin(r *http.Request, v any) error {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxAdminBody+1))
	switch {
	case err != nil:
		return errors.New("body could not be read")
	case len(data) > maxAdminBody:
		return fmt.Errorf("body over %d bytes", maxAdminBody)
	case !utf8.Valid(data):
		return errors.New("body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return fmt.Errorf("%s: wrong type", typeErr.Field)
		}
		return errors.New("want a JSON object of the documented fields")
	}
	return nil
}

type addUserRequest struct {
	Name        string           `json:"name"`
	DisplayName string           `json:"displayName"`
	Password    string           `json:"password"`
	Roles       []access.Role    `json:"roles"`
	Scope       access.ScopeSpec `json:"scope"`
}

func (a *Auth) addUser(w http.ResponseWriter, r *http.Request) {
	var req addUserRequest
	if err := decodeAdmin(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "user: "+err.Error())
		return
	}
	if err := checkRoles(req.Roles); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "user: "+err.Error())
		return
	}
	u, err := a.store.AddUser(NewUser{Name: req.Name, DisplayName: req.DisplayName, Password: req.Password, Roles: req.Roles, Scope: req.Scope})
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, ErrUserExists) {
			status = http.StatusConflict
		}
		writeError(w, status, "bad_request", err.Error())
		return
	}
	a.Record(r, ActionUserCreated, "user:"+u.Name, "roles "+rolesText(u.Roles)+"; scope "+u.Scope.String(), OutcomeOK)
	u.Hash = nil
	writeJSON(w, http.StatusCreated, u)
}

func checkRoles(roles []access.Role) error {
	if len(roles) == 0 {
		return errors.New("roles: at least one is required")
	}
	for _, role := range roles {
		if _, err := access.ParseRole(string(role)); err != nil {
			return fmt.Errorf("roles: %w", err)
		}
	}
	return nil
}

func rolesText(roles []access.Role) string {
	b, _ := json.Marshal(roles)
	return string(b)
}

func (a *Auth) setDisabled(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := chi.URLParam(r, "name")
		if err := a.store.SetDisabled(name, disabled); err != nil {
			writeError(w, http.StatusNotFound, "not_found", err.Error())
			return
		}
		if disabled {
			a.sessions.closeUser(name)
		}
		a.Record(r, ActionUserChanged, "user:"+name, fmt.Sprintf("disabled=%v", disabled), OutcomeOK)
		w.WriteHeader(http.StatusNoContent)
	}
}

func (a *Auth) listUsers(w http.ResponseWriter, _ *http.Request) {
	users, err := a.store.Users()
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "user store failed")
		return
	}
	if users == nil {
		users = []User{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": users})
}

type createTokenRequest struct {
	Name       string           `json:"name"`
	Roles      []access.Role    `json:"roles"`
	Scope      access.ScopeSpec `json:"scope"`
	TTLSeconds int64            `json:"ttl_seconds"`
}

func (a *Auth) createToken(w http.ResponseWriter, r *http.Request) {
	var req createTokenRequest
	if err := decodeAdmin(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "token: "+err.Error())
		return
	}
	if err := checkRoles(req.Roles); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "token: "+err.Error())
		return
	}
	if req.TTLSeconds < 0 || req.TTLSeconds > 10*365*24*3600 {
		writeError(w, http.StatusBadRequest, "bad_request", "token: ttl_seconds: want 0 (no expiry) up to ten years")
		return
	}
	secret, tok, err := a.store.CreateToken(NewToken{Name: req.Name, Roles: req.Roles, Scope: req.Scope, TTL: time.Duration(req.TTLSeconds) * time.Second})
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	a.Record(r, ActionTokenCreated, "token:"+tok.ID, tok.Name+": roles "+rolesText(tok.Roles)+"; scope "+tok.Scope.String(), OutcomeOK)
	tok.Hash = nil
	writeJSON(w, http.StatusCreated, struct {
		Secret string `json:"token"` // shown once, never again
		Token
	}{secret, tok})
}

func (a *Auth) revokeToken(w http.ResponseWriter, r *http.Request) {
	tok, err := a.store.RevokeToken(chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, http.StatusNotFound, "not_found", err.Error())
		return
	}
	a.Record(r, ActionTokenRevoked, "token:"+tok.ID, tok.Name, OutcomeOK)
	tok.Hash = nil
	writeJSON(w, http.StatusOK, tok)
}

func (a *Auth) listTokens(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"tokens": a.store.Tokens()})
}
