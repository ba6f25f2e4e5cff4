package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

func (l Latency) String() string {
	return fmt.Sprintf("p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, max %.1f ms (mean %.1f ms, n=%d)",
		l.P50MS, l.P90MS, l.P99MS, l.P999MS, l.MaxMS, l.MeanMS, l.Count)
}

func (s Spread) String() string {
	return fmt.Sprintf("min %.0f ms, median %.0f ms, max %.0f ms", s.MinMS, s.MedianMS, s.MaxMS)
}

// cpuUse is how many CPU cores the server and this tool used on average
// over a measured interval.
// OtherCores is what the rest of the machine used meanwhile: a measurement
// with other work running is not a clean one.
type cpuUse struct {
	Seconds     float64 `json:"seconds"`
	ServerCores float64 `json:"server_cores"`
	ClientCores float64 `json:"iocbench_cores"`
	OtherCores  float64 `json:"other_processes_cores"`
	MachineCPUs int     `json:"machine_cpus"`
}

func (c cpuUse) String() string {
	s := fmt.Sprintf("iocd %.2f cores, iocbench %.2f cores, other processes %.2f cores, of %d CPUs",
		c.ServerCores, c.ClientCores, c.OtherCores, c.MachineCPUs)
	if c.OtherCores > 0.2 {
		s += "  (WARNING: the machine was not quiet)"
	}
	return s
}

// cpuMeter reads the server's process_cpu_seconds_total and this process's
// rusage at the start and the end of an interval.
type cpuMeter struct {
	base    string
	start   time.Time
	server  float64
	client  time.Duration
	machine machineCPU
}

func startCPUMeter(ctx context.Context, base string) *cpuMeter {
	m := &cpuMeter{base: base, start: time.Now(), client: processCPU(), machine: readMachineCPU()}
	if s, err := scrape(ctx, base); err == nil {
		m.server = s.sum("process_cpu_seconds_total")
	}
	return m
}

func (m *cpuMeter) stop(ctx context.Context) cpuUse {
	wall := time.Since(m.start).Seconds()
	u := cpuUse{Seconds: wall, MachineCPUs: runtime.NumCPU()}
	u.ClientCores = (processCPU() - m.client).Seconds() / wall
	if s, err := scrape(ctx, m.base); err == nil {
		u.ServerCores = (s.sum("process_cpu_seconds_total") - m.server) / wall
	}
	if busy := readMachineCPU().busyCores(m.machine); busy > 0 {
		u.OtherCores = max(busy-u.ServerCores-u.ClientCores, 0)
	}
	return u
}

// machineCPU is the first line of /proc/stat: busy and total jiffies.
type machineCPU struct{ busy, total float64 }

func readMachineCPU() machineCPU {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineCPU{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return machineCPU{}
	}
	var m machineCPU
	for i, f := range fields[1:] {
		v, _ := strconv.ParseFloat(f, 64)
		if i < 8 { // user nice system idle iowait irq softirq steal; guest is inside user
			m.total += v
		}
		if i != 3 && i != 4 && i < 8 {
			m.busy += v
		}
	}
	return m
}

// busyCores is how many CPUs were busy on average since start.
func (m machineCPU) busyCores(start machineCPU) float64 {
	if m.total <= start.total {
		return 0
	}
	return (m.busy - start.busy) / (m.total - start.total) * float64(runtime.NumCPU())
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
