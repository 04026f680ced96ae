//go:build unix

package rpc

import "syscall"

// processAlive reports whether pid exists (signal 0).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
