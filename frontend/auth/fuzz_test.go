package auth

import (
	"net/http/httptest"
	"slices"

	"strings"
	"testing"
	"unicode/utf8"

	"github.com/danang-ioc/ioc/layers/access"
)

// loginErrors are every error decodeLogin may give: fixed texts, so none
// can quote the body, which holds the password.
var loginErrors = []string{
	"body could not be read", "body over 4096 bytes", "body is not valid UTF-8",
	`want a JSON object {"user": "...", "password": "..."}`, "user and password are required",
	ErrBadCredentials.Error(),
}

// FuzzDecodeLogin: any body gives a request or one of the fixed errors,
// never a panic.
func FuzzDecodeLogin(f *testing.F) {
	for _, s := range []string{`{"user":"alice","password":"correct horse battery staple"}`, `{`, `[]`, `{"user":1}`,
		"{\"user\":\"\xff\"}", `{"user":"a","password":"` + strings.Repeat("x", 100) + `"}`, strings.Repeat("[", 5000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req, err := decodeLogin(strings.NewReader(body))
		if err != nil {
			if !slices.Contains(loginErrors, err.Error()) {
				t.Fatalf("error %q is not one of the fixed login errors", err)
			}
			return
		}
		if req.User == "" || req.Password == "" || len(req.Password) > MaxPasswordLen || !utf8.ValidString(req.User) {
			t.Fatalf("accepted %+v", req)
		}
	})
}

// FuzzCredentials: any Authorization or Sec-WebSocket-Protocol header is
// refused or accepted without a panic, and only the one real token passes.
func FuzzCredentials(f *testing.F) {
	fx := newFixture(f)
	secret, _ := fx.token(f, "wall", []access.Role{access.RoleViewer}, access.ScopeSpec{}, 0)
	for _, s := range []string{"Bearer " + secret, "bearer " + secret, "Bearer " + secret[:len(secret)-1] + "A", "Bearer ", "Basic x", "Bearer ioc_" + strings.Repeat("0", 16) + "_", "\xff"} {
		f.Add(s, "")
		f.Add("", WSProtocol+", "+WSTokenPrefix+strings.TrimPrefix(s, "Bearer "))
	}
	f.Fuzz(func(t *testing.T, authz, proto string) {
		r := httptest.NewRequest("GET", "/api/v1/layers", nil)
		r.Header.Set("Authorization", authz)
		r.Header.Set("Upgrade", "websocket")
		r.Header.Set("Sec-WebSocket-Protocol", proto)
		p, reason, err := fx.auth.authenticate(r)
		if err == nil {
			offered := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(authz, "Bearer "), "bearer "))
			if p == nil || !strings.Contains(authz+proto, secret) || (authz != "" && offered != secret) {
				t.Fatalf("accepted %q / %q as %v", authz, proto, p)
			}
			return
		}
		if reason == "" || strings.Contains(err.Error(), secret) {
			t.Fatalf("refusal without a reason, or quoting the token: %q %v", reason, err)
		}
	})
}
