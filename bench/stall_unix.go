//go:build unix

package bench

import (
	"syscall"
	"time"
)

// canStall says whether stall works here.
const canStall = true

// stall stops process pid for d (SIGSTOP, then SIGCONT).
func stall(pid int, d time.Duration) error {
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		return err
	}
	time.Sleep(d)
	return syscall.Kill(pid, syscall.SIGCONT)
}
