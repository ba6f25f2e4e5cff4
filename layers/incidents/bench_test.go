package incidents

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/danang-ioc/ioc/layers"
)

// benchLayers is the mix of the city's busiest layers, with the share of
// events each gets and the properties it reports (already derived, as the
// modules leave them); one event in benchMatchEvery matches a rule.
var benchLayers = []struct {
	name     string
	entities int
	share    int
	props    string
	matching string
}{
	{"lighting.lamps", 20000, 50, `{"dark":false,"level":100,"state":"on"}`, `{"dark":true,"level":0,"state":"no_power"}`},
	{"traffic.signals", 500, 25, `{"degraded":false,"status":"normal"}`, `{"degraded":true,"status":"fault"}`},
	{"traffic.segments", 2000, 10, `{"congestion":"light","congestionLevel":1,"speedRatio":0.6}`, `{"congestion":"jammed","congestionLevel":4,"speedRatio":0.2}`},
	{"environment.air", 50, 5, `{"aqi":60,"aqiBand":"moderate","pm25":20}`, `{"aqi":160,"aqiBand":"bad","pm25":80}`},
	{"flooding.rivers", 20, 5, `{"levelRate":1,"trend":"steady","warningLevel":0}`, `{"levelRate":30,"trend":"rising","warningLevel":2}`},
	{"feedback.reports", 100000, 5, `{"category":"pothole","open":true,"priority":"normal"}`, `{"category":"fallen_tree","open":true,"priority":"high"}`},
}

const benchMatchEvery = 500

// benchEvents builds n events over the layers, in batches of 1000 as the
// ingest endpoint applies them, one observation second apart per batch.
func benchEvents(n int, start time.Time) [][]layers.Event {
	var batches [][]layers.Event
	seq := 0
	for len(batches)*1000 < n {
		batch := make([]layers.Event, 0, 1000)
		at := start.Add(time.Duration(len(batches)) * time.Second)
		for len(batch) < 1000 {
			seq++
			l := benchLayers[pickLayer(seq)]
			id := seq % l.entities
			props := l.props
			if seq%benchMatchEvery == 0 {
				props = l.matching
			}
			lon, lat := 108.0+float64(id%300)*0.002, 15.95+float64(id/300%200)*0.001
			batch = append(batch, point(l.name, fmt.Sprint(l.name[:3], "-", id), at, lon, lat, props))
		}
		batches = append(batches, batch)
	}
	return batches
}

func pickLayer(seq int) int {
	r := seq * 7919 % 100
	for i, l := range benchLayers {
		if r < l.share {
			return i
		}
		r -= l.share
	}
	return 0
}

// benchRules builds n rules spread over the layers: thresholds on the
// properties the layers carry (most never hold, as in a real rule set),
// sustained thresholds, staleness and counts.
func benchRules(tb testing.TB, n int) *RuleSet {
	var b strings.Builder
	b.WriteString("version: 1\nrules:\n")
	conds := map[string][]string{
		"lighting.lamps":   {"level > %d", "state == no_power"},
		"traffic.signals":  {"status == fault", "degraded == true"},
		"traffic.segments": {"congestionLevel >= 4", "speedRatio < 0.%d"},
		"environment.air":  {"aqi >= %d", "pm25 > %d"},
		"flooding.rivers":  {"warningLevel >= 2", "levelRate >= %d"},
		"feedback.reports": {"category == fallen_tree", "priority == critical"},
	}
	for i := range n {
		l := benchLayers[i%len(benchLayers)].name
		c := conds[l][i/len(benchLayers)%2]
		if strings.Contains(c, "%d") {
			c = fmt.Sprintf(c, 100+i)
		}
		switch i % 10 {
		case 7:
			fmt.Fprintf(&b, "  - {name: r%d, layer: %s, kind: stale, category: sensor_offline, severity: info}\n", i, l)
		case 8:
			fmt.Fprintf(&b, "  - {name: r%d, layer: %s, kind: count, when: [%q], count: 3, radius: 300, window: 30m, category: c%d, severity: minor}\n", i, l, c, i%5)
		case 9:
			fmt.Fprintf(&b, "  - {name: r%d, layer: %s, kind: threshold, when: [%q], for: 10m, category: c%d, severity: major, clearAfter: 30m}\n", i, l, c, i%5)
		default:
			fmt.Fprintf(&b, "  - {name: r%d, layer: %s, kind: threshold, when: [%q], category: c%d, severity: minor, clearAfter: 30m}\n", i, l, c, i%5)
		}
	}
	rs, err := ParseRules("bench.yaml", []byte(b.String()))
	if err != nil {
		tb.Fatal(err)
	}
	return rs
}

// ingestPhase applies the batches to a fresh store, with an engine of the
// given rules running in its goroutine when rules is not nil, and returns
// the ingest time, the time the engine then needed to catch up and the
// largest lag seen between batches.
func ingestPhase(tb testing.TB, batches [][]layers.Event, rules *RuleSet) (ingest, catchUp, cpu time.Duration, maxLag uint64) {
	store := layers.NewStore(layers.Config{LogSize: 1 << 20}, nil)
	var e *Engine
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	if rules != nil {
		e = New(Config{Rules: rules, Interval: 5 * time.Millisecond}, store, nil, nil)
		go func() { _ = e.Run(ctx); close(done) }()
	}
	cpu0 := processCPU()
	start := time.Now()
	for i, batch := range batches {
		store.Apply(batch)
		if e != nil && i%50 == 0 {
			maxLag = max(maxLag, e.Lag())
		}
	}
	ingest = time.Since(start)
	if e == nil {
		return ingest, 0, processCPU() - cpu0, 0
	}
	for e.Lag() > 0 { // its own writes are read back too
		time.Sleep(100 * time.Microsecond)
	}
	catchUp = time.Since(start) - ingest
	cpu = processCPU() - cpu0
	if lost := counterValue(tb, e.m.lost); lost > 0 {
		tb.Fatalf("the engine lost %v changes", lost)
	}
	cancel()
	<-done
	return ingest, catchUp, cpu, maxLag
}

// BenchmarkIngestRules measures ingest (Store.Apply in batches of 1000, as
// the ingest endpoint does) without an engine and with an engine of 500
// rules running beside it, in one run: each iteration runs both phases on
// fresh stores, in alternating order, and the medians over the iterations
// are reported (a shared machine's noise moves single phases a lot). It
// also reports how long the engine needed after ingest ended to catch up
// and the largest lag seen during ingest.
func BenchmarkIngestRules(b *testing.B) {
	const events = 200000
	batches := benchEvents(events, time.Now().Add(-time.Hour))
	rules := benchRules(b, 500)
	var base, with, ratio, catch, cpuRatio []float64
	var lag uint64
	for i := 0; b.Loop(); i++ {
		var d0, d1, c, cpu0, cpu1 time.Duration
		var l uint64
		if i%2 == 0 {
			d0, _, cpu0, _ = ingestPhase(b, batches, nil)
			d1, c, cpu1, l = ingestPhase(b, batches, rules)
		} else {
			d1, c, cpu1, l = ingestPhase(b, batches, rules)
			d0, _, cpu0, _ = ingestPhase(b, batches, nil)
		}
		if cpu0 > 0 {
			cpuRatio = append(cpuRatio, cpu1.Seconds()/cpu0.Seconds())
		}
		base = append(base, events/d0.Seconds())
		with = append(with, events/d1.Seconds())
		ratio = append(ratio, d1.Seconds()/d0.Seconds())
		catch = append(catch, float64(c.Microseconds())/1000)
		lag = max(lag, l)
	}
	b.ReportMetric(median(base), "events/s-no-rules")
	b.ReportMetric(median(with), "events/s-500-rules")
	b.ReportMetric(median(ratio), "time-ratio")
	b.ReportMetric(median(catch), "catch-up-ms")
	if len(cpuRatio) > 0 {
		// CPU of ingest plus the engine's evaluation, against ingest alone
		b.ReportMetric(median(cpuRatio), "cpu-ratio")
	}
	b.ReportMetric(float64(lag), "max-lag-changes")
	b.ReportMetric(0, "ns/op")
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkEvaluate measures the engine alone: changes evaluated per second
// against 500 rules, synchronously.
func BenchmarkEvaluate(b *testing.B) {
	batches := benchEvents(100000, time.Now().Add(-time.Hour))
	rules := benchRules(b, 500)
	changes := 0
	for b.Loop() {
		b.StopTimer()
		store := layers.NewStore(layers.Config{LogSize: 1 << 20}, nil)
		e := New(Config{Rules: rules}, store, nil, nil)
		for _, batch := range batches {
			store.Apply(batch)
		}
		b.StartTimer()
		for e.Step() > 0 {
		}
		changes += int(store.Log().Last())
	}
	b.ReportMetric(float64(changes)/b.Elapsed().Seconds(), "changes/s")
}
