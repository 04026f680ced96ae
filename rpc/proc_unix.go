//go:build unix

package rpc

import "syscall"

// processAlive reports whether pid exists (signal 0).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}

// descriptorLimit returns the process's limit on open files (RLIMIT_NOFILE),
// or 0 if unknown.
func descriptorLimit() uint64 {
	var r syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r) != nil {
		return 0
	}
	return r.Cur
}
