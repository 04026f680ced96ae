package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
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
// parser's chunk size whatever the file's size.
type FileSource struct {
	f    *os.File
	path string
}

// OpenFile opens path for a FileSource.
func OpenFile(path string) (*FileSource, error) {
	f, err := os.Open(path)
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
	return &FileSource{f: f, path: path}, nil
}

// Read implements Source.
func (s *FileSource) Read(ctx context.Context, buf []byte, max int) ([]byte, error) {
	r := ReaderSource{R: s.f}
	buf, err := r.Read(ctx, buf, max)
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("read %s: %w", s.path, err)
	}
	return buf, err
}

// Close closes the file.
func (s *FileSource) Close() error { return s.f.Close() }
