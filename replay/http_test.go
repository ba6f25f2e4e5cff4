package replay_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/danang-ioc/ioc/layers/access"
	"github.com/danang-ioc/ioc/replay"
	"github.com/danang-ioc/ioc/replay/embedded"
	"github.com/danang-ioc/ioc/replay/replaytest"
)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	return newServerAs(t, access.Demo())
}

// newServerAs serves the history routes to requests made as p (nil: no
// principal), standing in for the auth middleware.
func newServerAs(t *testing.T, p *access.Principal) *httptest.Server {
	t.Helper()
	s, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	recs := []replay.Record{
		replaytest.Rec("env.air", "st-1", 0, 1, 108.2, 16.05, `{"pm25":10,"districtCode":"490"}`),
		replaytest.Rec("env.air", "st-1", time.Minute, 2, 108.2, 16.05, `{"pm25":20}`),
		replaytest.Rec("env.air", "st-2", 0, 3, 109, 17, `{"pm25":5}`),
		replaytest.Del("env.air", "st-2", 2*time.Minute, 4),
	}
	recs[0].Area = "490"
	if err := s.Append(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if p != nil {
				req = req.WithContext(access.WithPrincipal(req.Context(), p))
			}
			next.ServeHTTP(w, req)
		})
	})
	r.Route("/api/v1", func(r chi.Router) { replay.Routes(r, s) })
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, srv *httptest.Server, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHTTPHistory(t *testing.T) {
	srv := newServer(t)
	code, body := get(t, srv, "/api/v1/history/env.air/st-1?from=2026-11-27T01:00:00Z&to=2026-11-27T02:00:00Z")
	var recs []map[string]any
	if code != 200 || json.Unmarshal([]byte(body), &recs) != nil || len(recs) != 2 {
		t.Fatalf("history: %d %s", code, body)
	}
	if props := recs[0]["properties"].(map[string]any); props["pm25"] != 10.0 || recs[0]["area"] != "490" {
		t.Errorf("first record: %v", recs[0])
	}
	if code, body := get(t, srv, "/api/v1/history/env.air/none"); code != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("unknown entity: %d %s, want an empty array", code, body)
	}
}

func TestHTTPSeries(t *testing.T) {
	srv := newServer(t)
	code, body := get(t, srv, "/api/v1/history/env.air/st-1/series?property=pm25&from=2026-11-27T01:00:00Z&to=2026-11-27T01:10:00Z&step=5m")
	var b []replay.Bucket
	if code != 200 || json.Unmarshal([]byte(body), &b) != nil || len(b) != 1 || b[0].Count != 2 || b[0].Avg != 15 || b[0].Last != 20 {
		t.Fatalf("series: %d %s", code, body)
	}
}

func TestHTTPState(t *testing.T) {
	srv := newServer(t)
	code, body := get(t, srv, "/api/v1/state?at=2026-11-27T01:01:30Z&layers=env.air&bbox=108,16,108.5,16.5")
	want := `{"type":"FeatureCollection","at":"2026-11-27T01:01:30Z","features":[{"type":"Feature","id":"st-1","layer":"env.air",` +
		`"time":"2026-11-27T01:01:00Z","geometry":{"type":"Point","coordinates":[108.2,16.05]},"properties":{"pm25":20}}]}`
	if code != 200 || body != want {
		t.Fatalf("state: %d\n got %s\nwant %s", code, body, want)
	}
	_, body = get(t, srv, "/api/v1/state?at=2026-11-27T01:03:00Z")
	if strings.Contains(body, "st-2") {
		t.Errorf("deleted entity in state: %s", body)
	}
}

func TestHTTPErrors(t *testing.T) {
	srv := newServer(t)
	for _, path := range []string{
		"/api/v1/history/env.air/st-1?from=yesterday",
		"/api/v1/history/env.air/st-1?limit=0",
		"/api/v1/history/env.air/st-1/series?step=5m",
		"/api/v1/history/env.air/st-1/series?property=pm25&step=-1m",
		"/api/v1/history/env.air/st-1/series?property=pm25&step=1ms",
		"/api/v1/history/env.air/st-1/series?property=pm25&step=1m&from=2026-11-27T02:00:00Z&to=2026-11-27T01:00:00Z",
		"/api/v1/state",
		"/api/v1/state?at=2026-11-27T01:00:00Z&bbox=1,2,3",
	} {
		code, body := get(t, srv, path)
		var e struct {
			Error struct{ Code, Message string }
		}
		if code != 400 || json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != "bad_request" || e.Error.Message == "" {
			t.Errorf("%s: %d %s, want a 400 with a message", path, code, body)
		}
	}
}
