package areas

import (
	"errors"
	"io/fs"
	"sync"
)

// DefaultFiles are the embedded files Default loads, in order: the
// pre-July-2025 district polygons, the old-ward table that ties old ward
// codes to those districts, and the 94 commune-level units of July 2025
// (points only).
var DefaultFiles = []string{
	"districts.geojson",
	"danang_osm_relation_ids.csv",
	"wards_2025_points.geojson",
}

// ErrNoEmbeddedData is returned by Default and DefaultWith in a binary built
// with the tag areas_noembed.
var ErrNoEmbeddedData = errors.New("areas: built with areas_noembed, no embedded area data: load area files with Load")

var loadDefault = sync.OnceValues(func() (*Set, error) {
	if !embedded {
		return nil, ErrNoEmbeddedData
	}
	return LoadFS(Files(), DefaultFiles...)
})

// Default returns the Set of the embedded Da Nang data (DefaultFiles). It
// is parsed once and shared, which is safe as a Set is immutable.
func Default() (*Set, error) { return loadDefault() }

// DefaultWith returns the embedded data extended or corrected by the
// given files, loaded after it (a feature with a code already loaded
// replaces it).
func DefaultWith(paths ...string) (*Set, error) {
	if !embedded {
		return nil, ErrNoEmbeddedData
	}
	b := newBuilder()
	if err := b.addFS(Files(), DefaultFiles...); err != nil {
		return nil, err
	}
	if err := b.addPaths(paths...); err != nil {
		return nil, err
	}
	return b.build()
}

// Files returns the embedded data directory: the area files, the city
// boundary (for maps), README.md with sources and licences, and LICENSES/.
// Whoever serves a file from it must keep its licence notice with it.
func Files() fs.FS {
	sub, err := fs.Sub(data, "data")
	if err != nil {
		panic(err) // "data" is a valid path
	}
	return sub
}
