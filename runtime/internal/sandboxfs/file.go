package sandboxfs

import (
	"errors"
	"io"
	"io/fs"
	"os"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/sys"
)

// file is an open file or directory of an FS, on an *os.File that os.Root
// opened. Operations that need to open the file again (rewinding a
// directory, changing the append mode) go through the same root.
type file struct {
	seeker[int64]
	fs   *FS
	name string // relative to the root
	flag experimentalsys.Oflag
	perm fs.FileMode
	f    *os.File

	reopenDir bool // list the directory afresh on the next Readdir
	closed    bool
	dev       uint64
	ino       sys.Inode
	isDir     bool
	statted   bool
}

func newFile(s *FS, name string, flag experimentalsys.Oflag, perm fs.FileMode, f *os.File) *file {
	fl := &file{fs: s, name: name, flag: flag, perm: perm, f: f}
	fl.seeker.f = fl
	return fl
}

// seeker provides Seek. It is generic only so that vet's check of standard
// method signatures, which expects io.Seeker's error result, leaves it
// alone: wazero's sys.File returns an errno instead.
type seeker[Off ~int64] struct{ f *file }

// Seek implements sys.File.
func (s seeker[Off]) Seek(offset Off, whence int) (Off, experimentalsys.Errno) {
	n, errno := s.f.seek(int64(offset), whence)
	return Off(n), errno
}

// Stat implements sys.File.
func (f *file) Stat() (sys.Stat_t, experimentalsys.Errno) {
	if f.closed {
		return sys.Stat_t{}, experimentalsys.EBADF
	}
	fi, err := f.f.Stat()
	if err != nil {
		return sys.Stat_t{}, experimentalsys.UnwrapOSError(err)
	}
	st := sys.NewStat_t(fi)
	f.dev, f.ino, f.isDir, f.statted = st.Dev, st.Ino, fi.IsDir(), true
	return st, 0
}

func (f *file) ensureStat() experimentalsys.Errno {
	if f.statted {
		return 0
	}
	_, errno := f.Stat()
	return errno
}

// Dev implements sys.File.
func (f *file) Dev() (uint64, experimentalsys.Errno) {
	errno := f.ensureStat()
	return f.dev, errno
}

// Ino implements sys.File.
func (f *file) Ino() (sys.Inode, experimentalsys.Errno) {
	errno := f.ensureStat()
	return f.ino, errno
}

// IsDir implements sys.File.
func (f *file) IsDir() (bool, experimentalsys.Errno) {
	errno := f.ensureStat()
	return f.isDir, errno
}

// IsAppend implements sys.File.
func (f *file) IsAppend() bool { return f.flag&experimentalsys.O_APPEND != 0 }

// SetAppend implements sys.File. The host's append mode is fixed at open,
// so the file is opened again at the same offset.
func (f *file) SetAppend(enable bool) experimentalsys.Errno {
	if f.closed {
		return experimentalsys.EBADF
	}
	if enable {
		f.flag |= experimentalsys.O_APPEND
	} else {
		f.flag &^= experimentalsys.O_APPEND
	}
	return f.reopen()
}

// reopen replaces the host file by a new open of the same name, checking
// that it is still the same file, and keeps the offset of regular files.
func (f *file) reopen() experimentalsys.Errno {
	isDir, errno := f.IsDir()
	if errno != 0 {
		return errno
	}
	var offset int64
	if !isDir {
		var err error
		if offset, err = f.f.Seek(0, io.SeekCurrent); err != nil {
			return experimentalsys.UnwrapOSError(err)
		}
	}
	nf, errno := f.fs.reopen(f.name, f.flag, f.perm)
	if errno != 0 {
		return errno
	}
	if errno := sameFile(f.f, nf); errno != 0 {
		nf.Close()
		return errno
	}
	if !isDir {
		if _, err := nf.Seek(offset, io.SeekStart); err != nil {
			nf.Close()
			return experimentalsys.UnwrapOSError(err)
		}
	}
	f.f.Close()
	f.f = nf
	return 0
}

func sameFile(a, b *os.File) experimentalsys.Errno {
	fa, err := a.Stat()
	if err != nil {
		return experimentalsys.UnwrapOSError(err)
	}
	fb, err := b.Stat()
	if err != nil {
		return experimentalsys.UnwrapOSError(err)
	}
	if !os.SameFile(fa, fb) {
		return experimentalsys.ENOENT // replaced since it was opened
	}
	return 0
}

// Read implements sys.File.
func (f *file) Read(buf []byte) (int, experimentalsys.Errno) {
	if len(buf) == 0 {
		return 0, f.check(0)
	}
	n, err := f.f.Read(buf)
	return n, f.ioErr(err)
}

// Pread implements sys.File.
func (f *file) Pread(buf []byte, off int64) (int, experimentalsys.Errno) {
	if len(buf) == 0 {
		return 0, f.check(0)
	}
	n, err := f.f.ReadAt(buf, off)
	return n, f.ioErr(err)
}

// seek moves the offset. Seeking a directory to 0 rewinds its listing.
func (f *file) seek(offset int64, whence int) (int64, experimentalsys.Errno) {
	if f.closed {
		return 0, experimentalsys.EBADF
	}
	if isDir, _ := f.IsDir(); isDir {
		if offset == 0 && whence == io.SeekStart {
			f.reopenDir = true
			return 0, 0
		}
		return 0, experimentalsys.EISDIR
	}
	if whence < io.SeekStart || whence > io.SeekEnd {
		return 0, experimentalsys.EINVAL
	}
	n, err := f.f.Seek(offset, whence)
	return n, f.ioErr(err)
}

// Readdir implements sys.File.
func (f *file) Readdir(n int) ([]experimentalsys.Dirent, experimentalsys.Errno) {
	if f.closed {
		return nil, experimentalsys.EBADF
	}
	if isDir, errno := f.IsDir(); errno != 0 {
		return nil, errno
	} else if !isDir {
		return nil, experimentalsys.EBADF
	}
	if f.reopenDir {
		f.reopenDir = false
		if errno := f.reopen(); errno != 0 {
			return nil, errno
		}
	}
	infos, err := f.f.Readdir(n)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, experimentalsys.UnwrapOSError(err)
	}
	out := make([]experimentalsys.Dirent, 0, len(infos))
	for _, fi := range infos {
		out = append(out, experimentalsys.Dirent{Name: fi.Name(), Ino: sys.NewStat_t(fi).Ino, Type: fi.Mode().Type()})
	}
	return out, 0
}

// Write implements sys.File.
func (f *file) Write(buf []byte) (int, experimentalsys.Errno) {
	if len(buf) == 0 {
		return 0, f.check(0)
	}
	n, err := f.f.Write(buf)
	return n, f.ioErr(err)
}

// Pwrite implements sys.File.
func (f *file) Pwrite(buf []byte, off int64) (int, experimentalsys.Errno) {
	if len(buf) == 0 {
		return 0, f.check(0)
	}
	n, err := f.f.WriteAt(buf, off)
	return n, f.ioErr(err)
}

// Truncate implements sys.File.
func (f *file) Truncate(size int64) experimentalsys.Errno {
	if size < 0 {
		return experimentalsys.EINVAL
	}
	return f.ioErr(f.f.Truncate(size))
}

// Sync implements sys.File.
func (f *file) Sync() experimentalsys.Errno { return f.ioErr(f.f.Sync()) }

// Datasync implements sys.File.
func (f *file) Datasync() experimentalsys.Errno { return f.ioErr(f.f.Sync()) }

// Utimens implements sys.File.
func (f *file) Utimens(atim, mtim int64) experimentalsys.Errno {
	if f.closed {
		return experimentalsys.EBADF
	}
	return f.fs.errno("utimens", f.name, f.fs.root.Chtimes(f.name, toTime(atim), toTime(mtim)))
}

// Close implements sys.File.
func (f *file) Close() experimentalsys.Errno {
	if f.closed {
		return 0
	}
	f.closed = true
	return experimentalsys.UnwrapOSError(f.f.Close())
}

// check reports EBADF on a closed file and EISDIR for data operations on a
// directory; errno is returned otherwise.
func (f *file) check(errno experimentalsys.Errno) experimentalsys.Errno {
	if f.closed {
		return experimentalsys.EBADF
	}
	if isDir, _ := f.IsDir(); isDir {
		return experimentalsys.EISDIR
	}
	return errno
}

// ioErr converts the error of a data operation; io.EOF is not an error.
func (f *file) ioErr(err error) experimentalsys.Errno {
	if err == nil || errors.Is(err, io.EOF) {
		return 0
	}
	return f.check(experimentalsys.UnwrapOSError(err))
}
