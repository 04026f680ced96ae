//go:build unix

package procdir

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

const (
	canLock     = true
	checksOwner = true
)

// lockDir opens dir and takes an exclusive lock on it, held until the file
// is closed.
func lockDir(dir string) (*os.File, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// tryLockDir is lockDir that returns nil, nil when another process holds
// the lock.
func tryLockDir(dir string) (*os.File, error) {
	f, err := lockDir(dir)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return nil, nil
	}
	return f, err
}

// running reports whether pid is a process (of any user) in this pid
// namespace.
func running(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// owner returns the uid that owns a file.
func owner(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
