package driver_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/chiphost/chiphost/runtime/driver"
)

func mkfifo(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

type readResult struct {
	data []byte
	err  error
}

// readAsync starts one Read of src on its own goroutine.
func readAsync(ctx context.Context, src *driver.FileSource) <-chan readResult {
	ch := make(chan readResult, 1)
	go func() {
		b, err := src.Read(ctx, nil, 1<<20)
		ch <- readResult{b, err}
	}()
	return ch
}

// TestFIFOWithoutWriter opens a named pipe nobody writes to: OpenFile must
// return at once (open(2) would wait for a writer, uncancellably), and a
// read must wait, neither failing nor reporting the end of the input,
// until its context is cancelled. Without the fix the test hangs in
// OpenFile (go test's timeout is the safety net).
func TestFIFOWithoutWriter(t *testing.T) {
	src, err := driver.OpenFile(mkfifo(t))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithCancel(context.Background())
	res := readAsync(ctx, src)
	cancel()
	r := <-res
	if !errors.Is(r.err, context.Canceled) || len(r.data) != 0 {
		t.Fatalf("read of a writer-less FIFO after cancel: %q, %v; want no data and context.Canceled", r.data, r.err)
	}
}

// TestFIFOWriterLater: a writer that connects after the open is read to the
// end; a read waiting for more data from a connected writer is cancellable.
func TestFIFOWriterLater(t *testing.T) {
	path := mkfifo(t)
	src, err := driver.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	first := readAsync(context.Background(), src)
	w, err := os.OpenFile(path, os.O_WRONLY, 0) // a reader is there: does not wait
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteString("hello\n"); err != nil {
		t.Fatal(err)
	}
	if r := <-first; r.err != nil || string(r.data) != "hello\n" {
		t.Fatalf("first read: %q, %v; want \"hello\\n\"", r.data, r.err)
	}

	// The writer stays connected and silent: the read waits; cancel it.
	ctx, cancel := context.WithCancel(context.Background())
	waiting := readAsync(ctx, src)
	cancel()
	if r := <-waiting; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("read waiting on a silent writer after cancel: %q, %v; want context.Canceled", r.data, r.err)
	}
	w.Close()
}

// TestFIFOWriterLeaves: the writer writes and goes; the data is read, then
// the end of the input.
func TestFIFOWriterLeaves(t *testing.T) {
	path := mkfifo(t)
	src, err := driver.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	w, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString("a\nb\n")
	w.Close()
	var got []byte
	for {
		got, err = src.Read(context.Background(), got, 1<<20)
		if err != nil {
			break
		}
	}
	if !errors.Is(err, io.EOF) || string(got) != "a\nb\n" {
		t.Fatalf("got %q, %v; want \"a\\nb\\n\" then io.EOF", got, err)
	}
}

// TestReadSizedToFile: reading a 6-byte file with a 10 MiB limit allocates
// a buffer sized to the file, not to the limit; a file whose stat size is
// 0 but which has content (procfs) is still read whole.
func TestReadSizedToFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "small.log")
	os.WriteFile(path, []byte("hello\n"), 0o644)
	src, err := driver.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	buf, err := src.Read(context.Background(), nil, 10<<20)
	if err != nil || string(buf) != "hello\n" {
		t.Fatalf("read: %q, %v", buf, err)
	}
	if cap(buf) >= 1<<20 {
		t.Errorf("a 6-byte file got a %d-byte buffer; want it sized to the file", cap(buf))
	}

	proc, err := driver.OpenFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer proc.Close()
	var all []byte
	for {
		all, err = proc.Read(context.Background(), all, 10<<20)
		if err != nil {
			break
		}
	}
	if !errors.Is(err, io.EOF) || len(all) == 0 {
		t.Fatalf("/proc/self/status: %d bytes, %v; want its content then io.EOF", len(all), err)
	}
}

// TestFollowPathReplacedByNonRegular: the followed path is renamed away and
// a named pipe or a directory takes its name. Following goes on with the
// open file, with a warning, and a regular file that appears at the path
// later is read. Following used to end with an error ("only regular files
// can be followed") at the first look at the path.
func TestFollowPathReplacedByNonRegular(t *testing.T) {
	for name, make := range map[string]func(string) error{
		"fifo": func(p string) error { return syscall.Mkfifo(p, 0o600) },
		"dir":  func(p string) error { return os.Mkdir(p, 0o700) },
	} {
		t.Run(name, func(t *testing.T) {
			modes(t, func(t *testing.T, o driver.FollowOptions) {
				path := filepath.Join(t.TempDir(), "app.log")
				appendFile(t, path, "one\n")
				logs := newLogLines()
				f := newFollower()
				o.Stop, o.Log = f.stop, logs.logger()
				f.start(t, follow(t, path, o), &driver.TextParser{})
				f.expect(t, "one")
				if err := os.Rename(path, path+".1"); err != nil {
					t.Fatal(err)
				}
				if err := make(path); err != nil {
					t.Fatal(err)
				}
				logs.await(t, "something other than a regular file")
				appendFile(t, path+".1", "two (the open file)\n")
				f.expect(t, "two (the open file)")
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
				appendFile(t, path, "three (a regular file again)\n")
				f.expect(t, "three (a regular file again)")
				if res := f.finish(t); res.err != nil {
					t.Fatal(res.err)
				}
			})
		})
	}
}
