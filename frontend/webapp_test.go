package frontend

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/go-chi/chi/v5"
	json "github.com/goccy/go-json"
)

func TestWebAppServesEmbeddedFiles(t *testing.T) {
	h, err := WebApp(WebConfig{MapStyle: "https://tiles.example.vn/style.json"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path string
		status       int
		ctype        string
		cache        string
		body         string // a substring the answer must hold
	}{
		{"GET", "/", 200, "text/html; charset=utf-8", "no-cache", `<div id="map">`},
		{"GET", "/wall", 200, "text/html; charset=utf-8", "no-cache", `<div id="map">`},
		{"GET", "/field", 200, "text/html; charset=utf-8", "no-cache", `app/main.js`},
		{"HEAD", "/", 200, "text/html; charset=utf-8", "no-cache", ""},
		{"GET", "/app/main.js", 200, "text/javascript; charset=utf-8", "no-cache", "window.iocStatus"},
		{"GET", "/app/app.css", 200, "text/css; charset=utf-8", "no-cache", "#map"},
		{"GET", "/vendor/maplibre-gl/maplibre-gl.js", 200, "text/javascript; charset=utf-8", "public, max-age=86400", "maplibre"},
		{"GET", "/vendor/maplibre-gl/LICENSE.txt", 200, "text/plain; charset=utf-8", "public, max-age=86400", "Copyright"},
		{"GET", "/vendor/uplot/uPlot.iife.min.js", 200, "text/javascript; charset=utf-8", "public, max-age=86400", "uPlot"},
		{"GET", "/data/roads_osm_haichau_sample.geojson", 200, "application/geo+json", "no-cache", "OpenStreetMap"},
		{"GET", "/favicon.svg", 200, "image/svg+xml", "no-cache", "<svg"},
		{"GET", "/app-config.json", 200, "application/json", "no-cache", `"mapStyle":"https://tiles.example.vn/style.json"`},
		{"GET", "/nope.js", 404, "application/json", "", "not_found"},
		{"GET", "/../go.mod", 404, "application/json", "", "not_found"},
		{"POST", "/", 405, "application/json", "", "method_not_allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body.String())
			}
			if got := rec.Header().Get("Content-Type"); got != tc.ctype {
				t.Errorf("Content-Type %q, want %q", got, tc.ctype)
			}
			if got := rec.Header().Get("Cache-Control"); got != tc.cache {
				t.Errorf("Cache-Control %q, want %q", got, tc.cache)
			}
			if !strings.Contains(rec.Body.String(), tc.body) {
				t.Errorf("body does not hold %q", tc.body)
			}
		})
	}
}

func TestWebAppRevalidatesWithETag(t *testing.T) {
	h, err := WebApp(WebConfig{})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/app/main.js", nil))
	etag := rec.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	req := httptest.NewRequest("GET", "/app/main.js", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Fatalf("status %d with a matching If-None-Match, want 304", rec.Code)
	}
}

func TestWebAppFromDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("<p>dev copy</p>"), 0o600); err != nil {
		t.Fatal(err)
	}
	h, err := WebApp(WebConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 200 || rec.Body.String() != "<p>dev copy</p>" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("from disk: %d %q cache %q", rec.Code, rec.Body.String(), rec.Header().Get("Cache-Control"))
	}
	if _, err := WebApp(WebConfig{Dir: filepath.Join(dir, "missing")}); err == nil || !strings.Contains(err.Error(), "web app directory") {
		t.Fatalf("missing directory: err %v, want a web app directory error", err)
	}
	if _, err := WebApp(WebConfig{Dir: filepath.Join(dir, "index.html")}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("file as directory: err %v, want not a directory", err)
	}
}

func TestAreaRoutes(t *testing.T) {
	files := fstest.MapFS{
		"d.geojson": {Data: []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"district_code":"492"},"geometry":null}]}`)},
		"w.geojson": {Data: []byte(`{"type":"FeatureCollection","features":[]}`)},
		"b.geojson": {Data: []byte(`{"type":"FeatureCollection","features":[]}`)},
	}
	mount, err := AreaRoutes(AreaFiles{FS: files, Districts: "d.geojson", Wards: "w.geojson", Boundary: "b.geojson"})
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	mount(r)
	for _, route := range []string{"/areas/districts", "/areas/wards", "/areas/boundary"} {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest("GET", route, nil))
		var fc struct {
			Type string `json:"type"`
		}
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/geo+json" || json.Unmarshal(rec.Body.Bytes(), &fc) != nil || fc.Type != "FeatureCollection" {
			t.Errorf("%s: %d %s %q", route, rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
		}
	}
	if _, err := AreaRoutes(AreaFiles{FS: files, Districts: "d.geojson", Wards: "missing.geojson", Boundary: "b.geojson"}); err == nil || !strings.Contains(err.Error(), "/areas/wards") {
		t.Fatalf("missing file: err %v, want one naming /areas/wards", err)
	}
}
