package frontend

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"strings"
	"time"

	json "github.com/goccy/go-json"
)

// webStatic is the map application: its own scripts and styles, the vendor
// libraries copied by web/build.sh, and the base-map data. Everything the
// browser loads ships in the binary, so the map works without internet.
//
//go:embed all:web/static
var webStatic embed.FS

// WebConfig configures the map application.
type WebConfig struct {
	// Dir serves the application from this directory instead of the
	// embedded copy (development: edit and reload). Empty: embedded.
	Dir string
	// MapStyle is a MapLibre style URL for deployments with a tile server;
	// empty draws the built-in offline base map from the product's data.
	MapStyle string
}

// appRoutes are the paths that answer with the application's index page:
// the modes are also reachable as routes.
var appRoutes = map[string]bool{"/": true, "/index.html": true, "/wall": true, "/field": true}

// contentTypes fixes the types the browser relies on (module scripts must
// be JavaScript) instead of trusting the platform's MIME table.
var contentTypes = map[string]string{
	".html":    "text/html; charset=utf-8",
	".js":      "text/javascript; charset=utf-8",
	".mjs":     "text/javascript; charset=utf-8",
	".css":     "text/css; charset=utf-8",
	".json":    "application/json",
	".geojson": "application/geo+json",
	".svg":     "image/svg+xml",
	".png":     "image/png",
	".txt":     "text/plain; charset=utf-8",
	".md":      "text/markdown; charset=utf-8",
	".map":     "application/json",
}

// WebApp serves the map application at / (GET and HEAD only), its files,
// and /app-config.json with the run-time settings the page reads first.
func WebApp(cfg WebConfig) (http.Handler, error) {
	var files fs.FS
	if cfg.Dir != "" {
		st, err := os.Stat(cfg.Dir)
		if err != nil {
			return nil, fmt.Errorf("web app directory: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("web app directory %s: not a directory", cfg.Dir)
		}
		files = os.DirFS(cfg.Dir)
	} else {
		sub, err := fs.Sub(webStatic, "web/static")
		if err != nil {
			return nil, fmt.Errorf("embedded web app: %w", err)
		}
		files = sub
	}
	appConfig, err := json.Marshal(map[string]any{"mapStyle": cfg.MapStyle})
	if err != nil {
		return nil, fmt.Errorf("web app config: %w", err)
	}
	return &webApp{files: files, fromDisk: cfg.Dir != "", appConfig: appConfig}, nil
}

type webApp struct {
	files     fs.FS
	fromDisk  bool
	appConfig []byte
}

func (a *webApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" "+r.URL.Path+": the web app answers GET and HEAD")
		return
	}
	p := r.URL.Path
	if p == "/app-config.json" {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(a.appConfig)
		return
	}
	if appRoutes[p] {
		p = "/index.html"
	}
	name := strings.TrimPrefix(path.Clean(p), "/")
	data, err := fs.ReadFile(a.files, name)
	if err != nil || name == "" {
		writeError(w, http.StatusNotFound, "not_found", "no web app file "+p)
		return
	}
	a.serveFile(w, r, name, data)
}

// serveFile answers with the file, its type, a content hash as ETag (so a
// wall display revalidates cheaply) and a caching policy: vendor libraries
// are versioned by the build step and cached for a day; the application's
// own files are revalidated on every load so an upgrade shows at once.
func (a *webApp) serveFile(w http.ResponseWriter, r *http.Request, name string, data []byte) {
	h := w.Header()
	ct, ok := contentTypes[path.Ext(name)]
	if !ok {
		ct = mime.TypeByExtension(path.Ext(name))
	}
	if ct == "" {
		ct = http.DetectContentType(data)
	}
	h.Set("Content-Type", ct)
	h.Set("X-Content-Type-Options", "nosniff")
	switch {
	case a.fromDisk:
		h.Set("Cache-Control", "no-store")
	case strings.HasPrefix(name, "vendor/"):
		h.Set("Cache-Control", "public, max-age=86400")
	default:
		h.Set("Cache-Control", "no-cache")
	}
	sum := sha256.Sum256(data)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	h.Set("ETag", etag)
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}
