package sim

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"
)

// data holds the simulator's geodata with its README (sources and
// licences). The OSM roads are ODbL 1.0, © OpenStreetMap contributors.
//
//go:embed data
var data embed.FS

// Files returns the embedded data directory (sites.geojson,
// roads_osm_haichau_sample.geojson, README.md). Whoever serves a file
// from it must keep its licence notice with it.
func Files() fs.FS {
	sub, err := fs.Sub(data, "data")
	if err != nil {
		panic(err) // "data" is a valid path
	}
	return sub
}

// site is a named place of sites.geojson.
type site struct {
	kind, name string
	lon, lat   float64
}

// osmWay is one OSM highway way of the Hải Châu sample.
type osmWay struct {
	id       int64
	name     string // without the "Đường " prefix
	highway  string
	maxSpeed float64
	lanes    int
	flat     []float64
}

type geodata struct {
	sites []site
	ways  []osmWay
}

// loadData parses the embedded files once; the result is shared and never
// modified.
var loadData = sync.OnceValues(func() (*geodata, error) {
	g := &geodata{}
	var err error
	if g.sites, err = readSites(); err != nil {
		return nil, err
	}
	if g.ways, err = readWays(); err != nil {
		return nil, err
	}
	return g, nil
})

func readSites() ([]site, error) {
	var fc struct {
		Features []struct {
			Properties struct{ Kind, Name string } `json:"properties"`
			Geometry   struct{ Coordinates []float64 }
		} `json:"features"`
	}
	if err := readJSON("data/sites.geojson", &fc); err != nil {
		return nil, err
	}
	out := make([]site, 0, len(fc.Features))
	for i, f := range fc.Features {
		c := f.Geometry.Coordinates
		if len(c) < 2 || f.Properties.Kind == "" {
			return nil, fmt.Errorf("sim: sites.geojson feature %d: need a Point, a kind and a name", i)
		}
		out = append(out, site{kind: f.Properties.Kind, name: f.Properties.Name, lon: c[0], lat: c[1]})
	}
	return out, nil
}

func readWays() ([]osmWay, error) {
	var fc struct {
		Features []struct {
			Properties struct {
				OSMID    int64  `json:"osm_id"`
				Name     string `json:"name"`
				Highway  string `json:"highway"`
				Lanes    string `json:"lanes"`
				MaxSpeed string `json:"maxspeed"`
			} `json:"properties"`
			Geometry struct{ Coordinates [][]float64 }
		} `json:"features"`
	}
	if err := readJSON("data/roads_osm_haichau_sample.geojson", &fc); err != nil {
		return nil, err
	}
	out := make([]osmWay, 0, len(fc.Features))
	for _, f := range fc.Features {
		p := f.Properties
		w := osmWay{id: p.OSMID, name: strings.TrimPrefix(p.Name, "Đường "), highway: p.Highway}
		w.maxSpeed, _ = strconv.ParseFloat(p.MaxSpeed, 64)
		w.lanes, _ = strconv.Atoi(p.Lanes)
		for _, c := range f.Geometry.Coordinates {
			if len(c) >= 2 {
				w.flat = append(w.flat, c[0], c[1])
			}
		}
		if len(w.flat) >= 4 {
			out = append(out, w)
		}
	}
	return out, nil
}

func readJSON(name string, v any) error {
	b, err := data.ReadFile(name)
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("sim: %s: %w", name, err)
	}
	return nil
}
