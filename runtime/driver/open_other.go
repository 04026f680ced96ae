//go:build !linux

package driver

import (
	"context"
	"os"
)

// openForReading opens path for reading. Outside Linux a FIFO without a
// writer makes the open wait for one, as open(2) does.
func openForReading(path string) (f *os.File, fifo, pollable bool, err error) {
	f, err = os.Open(path)
	return f, false, false, err
}

// waitForWriter is never needed outside Linux (openForReading waited).
func waitForWriter(context.Context, *os.File) error { return nil }

// openStream wraps fd; its reads cannot be interrupted here.
func openStream(fd uintptr, name string) (*os.File, bool) {
	return os.NewFile(fd, name), false
}
