package frontend

import (
	"fmt"
	"io/fs"
	"net/http"

	"github.com/go-chi/chi/v5"
)

// AreaFiles names the GeoJSON files of administrative areas the map draws:
// the district polygons, the 2025 ward points and the city outline. They
// are served as they are, with their _meta member (source and licence), so
// their licence notice travels with them.
type AreaFiles struct {
	FS        fs.FS
	Districts string
	Wards     string
	Boundary  string
}

// AreaRoutes reads the area files once and returns what mounts
// GET /areas/districts, /areas/wards and /areas/boundary (under /api/v1).
// A missing or unreadable file is an error at start, not at a request.
func AreaRoutes(files AreaFiles) (func(chi.Router), error) {
	served := map[string][]byte{}
	for route, name := range map[string]string{"districts": files.Districts, "wards": files.Wards, "boundary": files.Boundary} {
		data, err := fs.ReadFile(files.FS, name)
		if err != nil {
			return nil, fmt.Errorf("areas endpoint /areas/%s: %w", route, err)
		}
		served[route] = data
	}
	return func(r chi.Router) {
		for route, data := range served {
			r.Get("/areas/"+route, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/geo+json")
				w.Header().Set("Cache-Control", "public, max-age=3600")
				_, _ = w.Write(data)
			})
		}
	}, nil
}
