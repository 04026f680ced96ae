//go:build unix

package runtime

import "syscall"

// defaultMaxTotalOpenFiles is Options.MaxTotalOpenFiles' default: half the
// process's open-file limit (the other half stays for the host), at most
// maxTotalOpenFiles.
func defaultMaxTotalOpenFiles() int {
	var r syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r) != nil || r.Cur == 0 {
		return maxTotalOpenFiles
	}
	return int(min(r.Cur/2, maxTotalOpenFiles))
}
