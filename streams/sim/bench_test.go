package sim

import (
	"testing"
	"time"
)

// BenchmarkStepScale10 measures how fast the simulator generates events
// at ten times the city's scale, without an intake: events/s is per second
// of real time (what it could feed), sim-events/s per simulated second
// (what iocd must ingest at Speed 1).
func BenchmarkStepScale10(b *testing.B) {
	s := benchSim(b, false)
	n, simSec := 0, 0.0
	for b.Loop() {
		n += len(s.Step(10 * time.Second))
		simSec += 10
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(n)/simSec, "sim-events/s")
}

// BenchmarkStepScale10Storm is the same inside a storm compressed to an
// hour (the report spike, rising rivers, power cuts, teams), from scenario
// hour 2 to 8; a new city takes over when a storm is through.
func BenchmarkStepScale10Storm(b *testing.B) {
	s := benchSim(b, true)
	n, simSec := 0, 0.0
	for b.Loop() {
		if s.Stats().StormHour > 8 {
			b.StopTimer()
			s = benchSim(b, true)
			b.StartTimer()
		}
		n += len(s.Step(time.Second))
		simSec++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(n)/simSec, "sim-events/s")
}

func benchSim(b *testing.B, storm bool) *Sim {
	s, err := New(Config{Scale: 10, Start: testStart}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	s.Step(time.Hour) // past the start-up burst
	if storm {
		if err := s.Storm(time.Hour); err != nil {
			b.Fatal(err)
		}
		s.Step(15 * time.Minute) // scenario hour 2
	}
	return s
}

// BenchmarkThroughModules runs the city at scale 1 through the five real
// modules and a store, for comparison: events/s of real time.
func BenchmarkThroughModules(b *testing.B) {
	c := newCity(b, Config{})
	c.sim.Step(time.Hour)
	n := 0
	for b.Loop() {
		n += len(c.sim.Step(10 * time.Second))
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
