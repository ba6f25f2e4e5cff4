package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"

	"github.com/danang-ioc/ioc/geo/areas"
	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/layers/zones"
	"github.com/danang-ioc/ioc/streams/cap"
)

// zoneParts are the emergency-response parts wired here: the zone engine,
// CAP alerts in (POST /api/v1/cap) and out (GET .../cap). The teams'
// module (response.teams) is in newModules.
type zoneParts struct {
	engine *zones.Engine
	capIn  *cap.Ingest
	capOut *cap.Exporter
}

// openZones builds the zone engine over the store (after the restore from
// history, so the declared zones come back) and the CAP endpoints.
func (a *app) openZones(set *areas.Set) error {
	bounds, err := zoneBoundaries(a.cfg.areaFiles())
	if err != nil {
		return fmt.Errorf("zones: %w", err)
	}
	a.zones = &zoneParts{
		engine: zones.New(zones.Config{SummaryEvery: a.cfg.ZoneSummaryInterval, EventTTL: a.cfg.ZoneEventTTL,
			Areas: set, Boundaries: bounds}, a.store, a.reg, a.log.With("component", "zones")),
		capIn:  cap.NewIngest(a.intake, a.store, a.reg, a.log.With("component", "cap")),
		capOut: cap.NewExporter(cap.ExportConfig{Sender: a.cfg.CAPSender}, a.store),
	}
	return nil
}

// zoneBoundaries reads the district and ward polygons from the embedded
// area data and the --areas files, in the order package areas loads them.
func zoneBoundaries(files []string) (*zones.Boundaries, error) {
	b := zones.NewBoundaries()
	data, err := fs.ReadFile(areas.Files(), "districts.geojson")
	if err != nil {
		return nil, fmt.Errorf("embedded districts: %w", err)
	}
	if err := b.Add("districts.geojson", data); err != nil {
		return nil, err
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("area file: %w", err)
		}
		if err := b.Add(f, data); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// startZones runs the zone engine's log reader.
func (a *app) startZones(ctx context.Context) {
	a.start(ctx, "zone engine", a.zones.engine.Run)
}

// neverStale exempts layers the server writes itself from --default-ttl:
// a zone's feature is rewritten only when its contents change, and a quiet
// zone is not a silent sensor.
func neverStale(lc map[string]layers.LayerConfig, names ...string) {
	for _, n := range names {
		lc[n] = layers.LayerConfig{}
	}
}
