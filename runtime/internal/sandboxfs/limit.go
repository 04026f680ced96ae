package sandboxfs

import (
	"fmt"
	"io/fs"
	"sync/atomic"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// ErrTooManyOpenFiles is the error number a file system wrapped by
// [LimitOpenFiles] returns when a limit is reached. wazero's WASI preview 1
// has no EMFILE and gives the guest EIO for it; the WASI 0.2 host maps it
// to an error code of its own.
const ErrTooManyOpenFiles experimentalsys.Errno = 0x100

// OpenFiles counts host files open at once against Max, and against the
// count Total (shared by every instance of a host) when not nil. It is
// safe for concurrent use.
type OpenFiles struct {
	Max   int64
	Total *OpenFiles

	n atomic.Int64
}

// Open returns the number of files open now.
func (o *OpenFiles) Open() int64 { return o.n.Load() }

// acquire counts one more open file, or says which limit refuses it.
func (o *OpenFiles) acquire() error {
	if n := o.n.Add(1); o.Max > 0 && n > o.Max {
		o.n.Add(-1)
		return fmt.Errorf("the plugin instance already has %d files open, its limit", o.Max)
	}
	if t := o.Total; t != nil {
		if n := t.n.Add(1); t.Max > 0 && n > t.Max {
			t.n.Add(-1)
			o.n.Add(-1)
			return fmt.Errorf("the plugin instances together already have %d files open, the limit for all of them", t.Max)
		}
	}
	return nil
}

// release counts one file closed.
func (o *OpenFiles) release() {
	o.n.Add(-1)
	if o.Total != nil {
		o.Total.n.Add(-1)
	}
}

// LimitOpenFiles wraps fsys so that every file it opens counts against
// open until it is closed: a plugin that keeps opening files without
// closing them gets ErrTooManyOpenFiles (reported to refused, which may be
// nil) instead of using up the process's descriptors. The file systems of
// one instance share one OpenFiles.
func LimitOpenFiles(fsys experimentalsys.FS, open *OpenFiles, refused RefusedFunc) experimentalsys.FS {
	if refused == nil {
		refused = func(string, string, string) {}
	}
	return &limitedFS{FS: fsys, open: open, refused: refused}
}

type limitedFS struct {
	experimentalsys.FS
	open    *OpenFiles
	refused RefusedFunc
}

// OpenFile implements sys.FS.
func (l *limitedFS) OpenFile(name string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	if err := l.open.acquire(); err != nil {
		l.refused("open", name, err.Error())
		return nil, ErrTooManyOpenFiles
	}
	f, errno := l.FS.OpenFile(name, flag, perm)
	if errno != 0 {
		l.open.release()
		return nil, errno
	}
	return &countedFile{File: f, open: l.open}, 0
}

// countedFile gives its count back when closed (once).
type countedFile struct {
	experimentalsys.File
	open   *OpenFiles
	closed bool
}

// Close implements sys.File.
func (f *countedFile) Close() experimentalsys.Errno {
	if f.closed {
		return 0
	}
	f.closed = true
	f.open.release()
	return f.File.Close()
}
