package main

import (
	"context"
	"fmt"

	"github.com/go-chi/chi/v5"

	"github.com/danang-ioc/ioc/geo/areas"
	"github.com/danang-ioc/ioc/layers/incidents"
)

// incidentParts is the incident engine (docs/INCIDENTS.md): rules on the
// change log, incidents on layer ioc.incidents, the workflow API.
type incidentParts struct {
	engine *incidents.Engine
}

// openIncidents loads the rules (--rules, else the embedded defaults) and
// builds the engine over the store. It must run after openHistory: the
// engine rebuilds its open incidents from the ioc.incidents layer that the
// restore from history brought back, and starts reading the change log
// after the restored changes.
func (a *app) openIncidents(set *areas.Set) error {
	rules, err := incidents.LoadRules(a.cfg.Rules)
	if err != nil {
		return fmt.Errorf("incidents: %w", err)
	}
	e := incidents.New(incidents.Config{Rules: rules, Locator: set}, a.store, a.reg, a.log.With("component", "incidents"))
	n, err := e.Rebuild()
	if err != nil {
		// a stored incident that does not decode is skipped, not fatal
		a.log.Error("incidents: some stored incidents were not restored", "err", err)
	}
	if n > 0 {
		a.log.Info("open incidents restored", "open", n)
	}
	a.incidents = &incidentParts{engine: e}
	return nil
}

// incidentRoutes mounts /incidents under /api/v1.
func (a *app) incidentRoutes(r chi.Router) { incidents.Routes(r, a.incidents.engine) }

// startIncidents runs the engine's log reader.
func (a *app) startIncidents(ctx context.Context) {
	a.start(ctx, "incident engine", a.incidents.engine.Run)
}
