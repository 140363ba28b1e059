//go:build !linux

package tensor

import "time"

func threadCPU() (time.Duration, bool) { return 0, false }
