package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/danang-ioc/ioc/streams"
	"github.com/danang-ioc/ioc/streams/sim"
)

// simRoutes mounts the simulator's controls under /api/v1/sim.
func (a *app) simRoutes(r chi.Router) {
	r.Get("/sim", a.simStatus)
	r.Post("/sim/storm", a.startStorm)
}

type simStatusJSON struct {
	Enabled     bool           `json:"enabled"`
	SimTime     *time.Time     `json:"sim_time,omitempty"`
	Events      uint64         `json:"events"`
	Rejected    uint64         `json:"rejected"`
	StormActive bool           `json:"storm_active"`
	StormHour   float64        `json:"storm_hour,omitempty"`
	Inventory   map[string]int `json:"inventory,omitempty"`
}

func (a *app) simStatus(w http.ResponseWriter, _ *http.Request) {
	if a.sim == nil {
		writeJSON(w, http.StatusOK, simStatusJSON{})
		return
	}
	st := a.sim.Stats()
	t := st.SimTime.UTC()
	writeJSON(w, http.StatusOK, simStatusJSON{Enabled: true, SimTime: &t, Events: st.Events, Rejected: st.Rejected,
		StormActive: st.StormActive, StormHour: st.StormHour, Inventory: a.sim.Inventory()})
}

// startStorm plays the storm scenario; ?compress= is the simulated
// duration of its eight hours (default 10m).
func (a *app) startStorm(w http.ResponseWriter, r *http.Request) {
	if a.sim == nil {
		streams.WriteError(w, http.StatusNotFound, "sim_disabled", "the simulator is off (--sim=false)")
		return
	}
	compress := 10 * time.Minute
	if v := r.URL.Query().Get("compress"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			streams.WriteError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("compress %q: want a duration of at least 1m, such as 10m", v))
			return
		}
		compress = d
	}
	if err := a.sim.Storm(compress); err != nil {
		status, code := http.StatusBadRequest, "bad_request"
		if errors.Is(err, sim.ErrStormActive) {
			status, code = http.StatusConflict, "storm_active"
		}
		streams.WriteError(w, status, code, err.Error())
		return
	}
	a.log.Info("storm scenario started", "compress", compress)
	writeJSON(w, http.StatusAccepted, map[string]any{"started": true, "compress": compress.String()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
