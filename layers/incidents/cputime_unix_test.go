//go:build unix

package incidents

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process has used (user + system, every
// thread, GC included). Benchmarks report it besides wall time because it
// is far less disturbed by other load on a shared machine.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
