package sandboxfs

import (
	"io/fs"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// ReadOnly wraps fsys so that every change fails with EROFS: opens for
// writing and opens that would create, truncate or append (wazero's own
// read-only wrapper checks only the access mode, so O_RDONLY|O_CREAT and
// O_RDONLY|O_TRUNC get through it), and mkdir, chmod, rename, rmdir,
// unlink, link, symlink and utimens. Files it opens refuse writes too.
// Each refusal is reported to refused (which may be nil).
func ReadOnly(fsys experimentalsys.FS, refused RefusedFunc) experimentalsys.FS {
	if refused == nil {
		refused = func(string, string, string) {}
	}
	return &readOnlyFS{FS: fsys, refused: refused}
}

type readOnlyFS struct {
	experimentalsys.FS
	refused RefusedFunc
}

// writeFlags are the open flags that change the file system.
const writeFlags = experimentalsys.O_WRONLY | experimentalsys.O_RDWR | experimentalsys.O_CREAT |
	experimentalsys.O_TRUNC | experimentalsys.O_APPEND | experimentalsys.O_EXCL

func (r *readOnlyFS) deny(op, name string) experimentalsys.Errno {
	r.refused(op, name, "the directory is read-only")
	return experimentalsys.EROFS
}

// OpenFile implements sys.FS.
func (r *readOnlyFS) OpenFile(name string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	if flag&writeFlags != 0 {
		return nil, r.deny("open", name)
	}
	f, errno := r.FS.OpenFile(name, flag, perm)
	if errno != 0 {
		return nil, errno
	}
	return &readOnlyFile{File: f}, 0
}

// Mkdir implements sys.FS.
func (r *readOnlyFS) Mkdir(name string, _ fs.FileMode) experimentalsys.Errno {
	return r.deny("mkdir", name)
}

// Chmod implements sys.FS.
func (r *readOnlyFS) Chmod(name string, _ fs.FileMode) experimentalsys.Errno {
	return r.deny("chmod", name)
}

// Rename implements sys.FS.
func (r *readOnlyFS) Rename(from, _ string) experimentalsys.Errno { return r.deny("rename", from) }

// Rmdir implements sys.FS.
func (r *readOnlyFS) Rmdir(name string) experimentalsys.Errno { return r.deny("rmdir", name) }

// Unlink implements sys.FS.
func (r *readOnlyFS) Unlink(name string) experimentalsys.Errno { return r.deny("unlink", name) }

// Link implements sys.FS.
func (r *readOnlyFS) Link(_, newName string) experimentalsys.Errno { return r.deny("link", newName) }

// Symlink implements sys.FS.
func (r *readOnlyFS) Symlink(_, link string) experimentalsys.Errno { return r.deny("symlink", link) }

// Utimens implements sys.FS.
func (r *readOnlyFS) Utimens(name string, _, _ int64) experimentalsys.Errno {
	return r.deny("utimens", name)
}

// readOnlyFile is a file of a read-only tree.
type readOnlyFile struct {
	experimentalsys.File
}

// SetAppend implements sys.File.
func (f *readOnlyFile) SetAppend(bool) experimentalsys.Errno { return experimentalsys.EBADF }

// Write implements sys.File.
func (f *readOnlyFile) Write([]byte) (int, experimentalsys.Errno) { return 0, experimentalsys.EBADF }

// Pwrite implements sys.File.
func (f *readOnlyFile) Pwrite([]byte, int64) (int, experimentalsys.Errno) {
	return 0, experimentalsys.EBADF
}

// Truncate implements sys.File.
func (f *readOnlyFile) Truncate(int64) experimentalsys.Errno { return experimentalsys.EBADF }

// Utimens implements sys.File.
func (f *readOnlyFile) Utimens(int64, int64) experimentalsys.Errno { return experimentalsys.EBADF }
