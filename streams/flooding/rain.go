package flooding

import (
	"time"

	"github.com/danang-ioc/ioc/layers"
	"github.com/danang-ioc/ioc/streams/internal/props"
)

// rainDerived are the properties computed from a gauge's history; a
// report's own values for them are dropped.
var rainDerived = []string{"rain1h", "rain3h", "rain24h", "heavy"}

// maxRatePeriod bounds the period over which an intensity-only report is
// taken to have rained: after a gap of hours the rate of the last
// interval says nothing about the hours before.
const maxRatePeriod = time.Hour

// rain reads a gauge report and adds its totals. A report carries the
// rain that fell since the gauge's previous report (precipitation, mm),
// the mean rate over that period (intensity, mm/h), or both; the missing
// one is derived with the period, the time since the previous report (the
// nominal interval for a gauge's first report). Each report's amount is
// kept in a 24-hour history; the total over a window is the sum of the
// amounts of the reports inside it.
//
// Out-of-order reports: a late report joins the history in its place
// (one with the same time replaces the one held, as a resend), and the
// module returns it (totals as of its own time; the layer keeps it as a
// late observation) followed by the gauge's newest report again, with
// totals that now include the late rain, so the map is right at once.
func (m *Module) rain(ev layers.Event, p props.Props) ([]layers.Event, error) {
	p.Alias("precipitation", "rainfall")
	amount, hasAmount, err := p.NonNeg("precipitation", "mm")
	if err != nil {
		return nil, err
	}
	rate, hasRate, err := p.NonNeg("intensity", "mm/h")
	if err != nil {
		return nil, err
	}
	if !hasAmount && !hasRate {
		return nil, props.Invalid("properties", "a rain report needs precipitation (mm since the previous report) or intensity (mm/h)")
	}
	for _, k := range rainDerived {
		delete(p, k)
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	g := m.gauges[ev.ID]
	if g == nil {
		g = &series{}
		m.gauges[ev.ID] = g
	}
	r := rainReport{amount: amount, rate: rate, hasAmount: hasAmount, hasRate: hasRate}
	late := g.late(ev.Time)
	m.derive(g, ev.Time, &r, p)
	if !late {
		g.newest = report{time: ev.Time, geometry: ev.Geometry, props: p.Clone(), rain: r}
	}
	g.prune(24*time.Hour, m.cfg.MaxRainSamples)

	out := []layers.Event{props.With(ev, m.rainTotals(g, ev.Time, p))}
	if late {
		// The late report shortened the newest report's period: derive
		// its missing value again before its totals.
		n := g.newest
		np := n.props.Clone()
		m.derive(g, n.time, &n.rain, np)
		again := layers.Event{Layer: ev.Layer, ID: ev.ID, Op: layers.OpUpsert, Time: n.time, Geometry: n.geometry}
		out = append(out, props.With(again, m.rainTotals(g, n.time, np)))
	}
	return out, nil
}

// rainReport is what a report gave: the amount, the rate, or both.
type rainReport struct {
	amount, rate       float64
	hasAmount, hasRate bool
}

// derive completes a report with the value it lacks, using the period
// since the gauge's previous report, writes it to p and records the amount
// in the history. Only the newest report is derived again after a late
// one; older derived amounts keep the period they had when they arrived.
func (m *Module) derive(g *series, t time.Time, r *rainReport, p props.Props) {
	period := g.periodBefore(t, m.cfg.RainInterval)
	switch {
	case !r.hasAmount:
		r.amount = r.rate * min(period, maxRatePeriod).Hours()
		p.SetNum("precipitation", props.Round(r.amount, 2))
	case !r.hasRate:
		r.rate = r.amount / period.Hours()
		p.SetNum("intensity", props.Round(r.rate, 1))
	}
	g.insert(t, r.amount)
}

// periodBefore is the time since the sample before t, or def when there is
// none.
func (s *series) periodBefore(t time.Time, def time.Duration) time.Duration {
	for i := len(s.samples) - 1; i >= 0; i-- {
		if s.samples[i].t.Before(t) {
			return t.Sub(s.samples[i].t)
		}
	}
	return def
}

// rainTotals sets the totals as of time t on p and returns p.
func (m *Module) rainTotals(g *series, t time.Time, p props.Props) props.Props {
	h3 := g.sum(t, 3*time.Hour)
	p.SetNum("rain1h", props.Round(g.sum(t, time.Hour), 2))
	p.SetNum("rain3h", props.Round(h3, 2))
	p.SetNum("rain24h", props.Round(g.sum(t, 24*time.Hour), 2))
	p.SetBool("heavy", props.Round(h3, 2) > m.cfg.HeavyRain3h)
	return p
}

// sum adds the amounts of the samples in (t-window, t].
func (s *series) sum(t time.Time, window time.Duration) float64 {
	from := t.Add(-window)
	total := 0.0
	for i := len(s.samples) - 1; i >= 0; i-- {
		st := s.samples[i].t
		if st.After(t) {
			continue
		}
		if !st.After(from) {
			break
		}
		total += s.samples[i].v
	}
	return total
}
