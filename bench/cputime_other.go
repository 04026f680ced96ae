//go:build !unix

package bench

import "time"

// selfCPU is 0 where getrusage is missing: CPU figures are then not reported.
func selfCPU() time.Duration { return 0 }

func childrenCPU() time.Duration { return 0 }
