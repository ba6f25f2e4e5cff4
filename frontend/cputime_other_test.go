//go:build !unix

package frontend

import "time"

// processCPU is not measured on this platform.
func processCPU() time.Duration { return 0 }
