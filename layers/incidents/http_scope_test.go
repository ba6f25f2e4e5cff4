package incidents

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/danang-ioc/ioc/layers/access"
)

// polygonScope is a principal limited to a square of half-side d degrees
// around (lon, lat).
func polygonScope(t *testing.T, lon, lat, d float64) *access.Principal {
	t.Helper()
	poly := fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]}`,
		lon-d, lat-d, lon+d, lat-d, lon+d, lat+d, lon-d, lat+d, lon-d, lat-d)
	sc, err := access.ScopeSpec{Polygons: []json.RawMessage{json.RawMessage(poly)}}.Resolve(nil)
	if err != nil {
		t.Fatal(err)
	}
	return access.NewPrincipal(access.KindUser, "u", "u", []access.Role{access.RoleOperator}, sc)
}

// An incident outside a principal's scope does not exist for it: not
// listed, 404 on get, teams and actions; inside, everything works.
func TestHTTPIncidentsScope(t *testing.T) {
	s := withIncident(t)
	f := s.store.Layer(Layer).Get("inc-1")
	lon, lat := center(f)
	for _, tc := range []struct {
		name   string
		p      *access.Principal
		listed bool
		status int
	}{
		{"in scope", polygonScope(t, lon, lat, 0.01), true, 200},
		{"out of scope", polygonScope(t, lon+0.5, lat, 0.01), false, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := chi.NewRouter()
			r.Use(func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
					next.ServeHTTP(w, req.WithContext(access.WithPrincipal(req.Context(), tc.p)))
				})
			})
			r.Route("/api/v1", func(r chi.Router) { Routes(r, s.engine) })
			srv := httptest.NewServer(r)
			defer srv.Close()
			if got := call(t, "GET", srv.URL+"/api/v1/incidents", ""); strings.Contains(got.body, "inc-1") != tc.listed {
				t.Errorf("list: %s (want listed %v)", got.body, tc.listed)
			}
			for _, path := range []string{"/api/v1/incidents/inc-1", "/api/v1/incidents/inc-1/teams"} {
				if got := call(t, "GET", srv.URL+path, ""); got.status != tc.status {
					t.Errorf("GET %s: %d %s, want %d", path, got.status, got.body, tc.status)
				}
			}
			if tc.status == 404 {
				if got := call(t, "POST", srv.URL+"/api/v1/incidents/inc-1/actions", `{"action":"acknowledge"}`); got.status != 404 {
					t.Errorf("action out of scope: %d %s, want 404", got.status, got.body)
				}
			}
		})
	}
}
