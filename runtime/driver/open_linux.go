//go:build linux

package driver

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// openForReading opens path for reading without ever blocking in open(2):
// a named pipe (FIFO) that has no writer yet is opened at once (O_NONBLOCK)
// instead of waiting, uncancellably, for one. It reports whether reads can
// wait in Go's poller (and so be cancelled); a device that cannot is put
// back into blocking mode.
func openForReading(path string) (f *os.File, fifo, pollable bool, err error) {
	f, err = os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, false, false, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, false, false, err
	}
	mode := st.Mode()
	if mode.IsRegular() || mode.IsDir() {
		return f, false, false, nil // O_NONBLOCK changes nothing for these
	}
	if f.SetReadDeadline(time.Time{}) != nil { // not in the poller
		if err := syscall.SetNonblock(int(f.Fd()), false); err != nil {
			f.Close()
			return nil, false, false, err
		}
		return f, false, false, nil
	}
	return f, mode&os.ModeNamedPipe != 0, true, nil
}

// waitForWriter blocks until the FIFO f has had a writer (it holds data, or
// a writer came and went) or ctx ends. A FIFO opened with O_NONBLOCK reads
// as empty (EOF) until a writer connects, so reading at once would end the
// input before it starts; Linux reports no readiness on it, not even a
// hang-up, until a writer has come.
func waitForWriter(ctx context.Context, f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	stop := interruptReads(ctx, f)
	defer stop()
	var pollErr error
	err = rc.Read(func(fd uintptr) bool {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			n, err := unix.Poll(fds, 0)
			switch {
			case errors.Is(err, unix.EINTR):
				continue
			case err != nil:
				pollErr = err
				return true
			}
			return n > 0
		}
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err == nil {
		err = pollErr
	}
	return err
}

// openStream makes fd non-blocking, when it is not a regular file, so that
// os.NewFile puts it in Go's poller, and reports whether it is there.
func openStream(fd uintptr, name string) (*os.File, bool) {
	var st syscall.Stat_t
	if syscall.Fstat(int(fd), &st) == nil && st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.SetNonblock(int(fd), true)
	}
	f := os.NewFile(fd, name)
	return f, f.SetReadDeadline(time.Time{}) == nil
}
