package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"
)

// ReaderSource reads from an io.Reader (stdin, a pipe). A read blocks until
// data arrives; cancelling ctx does not interrupt a blocked read, so callers
// that need that close the reader.
type ReaderSource struct {
	R io.Reader
}

// Read implements Source.
func (s *ReaderSource) Read(ctx context.Context, buf []byte, max int) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return buf, err
	}
	buf = slices.Grow(buf, max)
	n, err := s.R.Read(buf[len(buf) : len(buf)+max])
	buf = buf[:len(buf)+n]
	if err != nil && !errors.Is(err, io.EOF) {
		return buf, err
	}
	if n == 0 && err == nil {
		// io.Reader may return 0, nil; try once more before calling it the end.
		n, err = s.R.Read(buf[len(buf) : len(buf)+max])
		buf = buf[:len(buf)+n]
		if n == 0 && err == nil {
			err = io.EOF
		}
	}
	return buf, err
}

// FileSource streams a file in bounded reads: memory stays bounded by the
// parser's chunk size whatever the file's size, and a read of a regular file
// asks for no more than what is left of it (plus readSlack), so a small file
// gets a small buffer. On Linux, a named pipe (FIFO) is opened without
// waiting for a writer; its reads wait for one, and return when ctx ends.
type FileSource struct {
	f    *os.File
	path string

	size     int64 // a regular file's size, refreshed when reads reach it; -1 otherwise
	off      int64 // bytes read so far
	fifo     bool  // a FIFO that has not had a writer yet
	pollable bool  // reads wait in Go's poller and can be interrupted
}

// readSlack is what a read of a regular file asks for beyond the file's
// size: enough to see the end of the input (or data appended since) without
// sizing buffers for the parser's largest window.
const readSlack = 64 << 10

// OpenFile opens path for a FileSource. It never waits for a FIFO's writer.
func OpenFile(path string) (*FileSource, error) {
	f, fifo, pollable, err := openForReading(path)
	if err != nil {
		return nil, fmt.Errorf("open source file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open source file: %w", err)
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("open source file %s: is a directory", path)
	}
	s := &FileSource{f: f, path: path, size: -1, fifo: fifo, pollable: pollable}
	if st.Mode().IsRegular() {
		s.size = st.Size()
	}
	return s, nil
}

// Read implements Source.
func (s *FileSource) Read(ctx context.Context, buf []byte, max int) ([]byte, error) {
	if s.fifo {
		if err := waitForWriter(ctx, s.f); err != nil {
			return buf, fmt.Errorf("read %s: waiting for a writer: %w", s.path, err)
		}
		s.fifo = false
	}
	if s.pollable {
		stop := interruptReads(ctx, s.f)
		defer stop()
	}
	before := len(buf)
	r := ReaderSource{R: s.f}
	buf, err := r.Read(ctx, buf, s.readSize(max))
	s.off += int64(len(buf) - before)
	if err != nil && !errors.Is(err, io.EOF) {
		if ctx.Err() != nil {
			return buf, ctx.Err()
		}
		err = fmt.Errorf("read %s: %w", s.path, err)
	}
	return buf, err
}

// readSize bounds a read of a regular file by what is left of it.
func (s *FileSource) readSize(limit int) int {
	if s.size < 0 {
		return limit
	}
	if s.off >= s.size { // at the size seen so far: the file may have grown
		if st, err := s.f.Stat(); err == nil {
			s.size = st.Size()
		}
	}
	return int(min(int64(limit), max(s.size-s.off, 0)+readSlack))
}

// interruptReads makes a read of f that is waiting in Go's poller return
// when ctx ends; stop undoes it.
func interruptReads(ctx context.Context, f *os.File) (stop func() bool) {
	return context.AfterFunc(ctx, func() { f.SetReadDeadline(time.Unix(1, 0)) })
}

// Close closes the file.
func (s *FileSource) Close() error { return s.f.Close() }

// StreamSource reads an already open stream, such as a pipe passed to the
// process as a file descriptor. Where the platform allows, the descriptor
// is switched to non-blocking mode first, so that reads wait in Go's poller
// and return when their context ends (a session on a silent pipe closes at
// once instead of leaving a read behind).
func StreamSource(fd uintptr, name string) *FileSource {
	f, pollable := openStream(fd, name)
	return &FileSource{f: f, path: name, size: -1, pollable: pollable}
}
