// Package sandboxfs gives a plugin a host directory that it cannot leave.
//
// wazero's own host file system resolves guest paths with ordinary host
// calls, which follow symbolic links wherever they point: a plugin that
// creates a relative link such as `up -> ../../..` in its temporary
// directory, or finds one in a configured directory, reads and writes
// anything the host process can. This package implements wazero's
// experimental sys.FS on an [os.Root] instead. Every path operation (open,
// stat, mkdir, rename, link, symlink, readlink, unlink, rmdir, chmod,
// utimens) resolves its path inside the root: symbolic links are followed
// only while they stay inside, `..` never climbs above the root, and
// absolute link targets are refused. A refused operation returns EPERM to
// the guest and is reported to the caller's Refused callback, so the host
// log says what the plugin tried.
//
// The guest still sees the directory under its host path (the preopen
// name); only resolution changes.
package sandboxfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/sys"
)

// RefusedFunc is told about every operation refused because its path (or
// a link on the way) would leave the root. op is the operation ("open",
// "symlink", …), name the guest's path relative to the root, reason a
// short explanation.
type RefusedFunc func(op, name, reason string)

// FS is a directory tree confined to its root. It implements wazero's
// experimental sys.FS. Close releases the root; files opened before stay
// usable until they are closed.
type FS struct {
	experimentalsys.UnimplementedFS
	root    *os.Root
	refused RefusedFunc
}

// Open opens dir as a confined file system. refused may be nil.
func Open(dir string, refused RefusedFunc) (*FS, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	if refused == nil {
		refused = func(string, string, string) {}
	}
	return &FS{root: r, refused: refused}, nil
}

// Close releases the directory handle of the root.
func (s *FS) Close() error { return s.root.Close() }

// String names the root, for wazero's diagnostics.
func (s *FS) String() string { return s.root.Name() }

// rel turns a guest path (relative to the preopen, cleaned by wazero's
// WASI layer, possibly with a trailing slash) into a name for os.Root.
func rel(name string) string {
	switch name {
	case "", "/":
		return "."
	}
	return strings.TrimPrefix(name, "/")
}

// errno converts an error of os.Root into the guest's error number. An
// error that carries no system error number is os.Root refusing a path
// that escapes: it becomes EPERM and is reported.
func (s *FS) errno(op, name string, err error) experimentalsys.Errno {
	if err == nil {
		return 0
	}
	var en syscall.Errno
	if errors.As(err, &en) || isPlainFSError(err) {
		return experimentalsys.UnwrapOSError(err)
	}
	s.refused(op, name, "the path leaves the sandbox directory")
	return experimentalsys.EPERM
}

// isPlainFSError reports the io/fs sentinel errors, which map to their own
// error numbers.
func isPlainFSError(err error) bool {
	for _, e := range []error{fs.ErrNotExist, fs.ErrExist, fs.ErrPermission, fs.ErrInvalid, fs.ErrClosed} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// OpenFile implements sys.FS.
func (s *FS) OpenFile(name string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	n := rel(name)
	if flag&experimentalsys.O_DIRECTORY != 0 && flag&(experimentalsys.O_WRONLY|experimentalsys.O_RDWR) != 0 {
		return nil, experimentalsys.EISDIR
	}
	if flag&experimentalsys.O_NOFOLLOW != 0 {
		// os.Root follows a final link even with O_NOFOLLOW.
		if st, err := s.root.Lstat(n); err == nil && st.Mode()&fs.ModeSymlink != 0 {
			return nil, experimentalsys.ELOOP
		}
	}
	f, err := s.root.OpenFile(n, osFlag(flag)|nonBlocking, perm)
	if errno := s.errno("open", name, err); errno != 0 {
		return nil, errno
	}
	if err := checkKind(f); err != nil {
		f.Close()
		s.refused("open", name, err.Error())
		return nil, experimentalsys.EACCES
	}
	return newFile(s, n, flag, perm, f), 0
}

// checkKind refuses what is neither a regular file nor a directory. Named
// pipes, sockets and devices can block the host in open or read (a FIFO
// without a writer blocks forever, beyond any call deadline), so the
// sandbox opens every file without blocking and then keeps only the two
// kinds of file a parser needs.
func checkKind(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if m := st.Mode(); !m.IsRegular() && !m.IsDir() {
		return fmt.Errorf("%s is not a regular file or directory (named pipes, sockets and devices are not opened in the sandbox)", m.Type())
	}
	return nil
}

// OpenRegular opens a host file for reading the way the sandbox opens
// files: without blocking, and only if it is a regular file or directory.
func OpenRegular(name string) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|nonBlocking, 0)
	if err != nil {
		return nil, err
	}
	if err := checkKind(f); err != nil {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return f, nil
}

// reopen opens name again (after a rewind of a directory or a change of
// the append mode), without creating or truncating.
func (s *FS) reopen(name string, flag experimentalsys.Oflag, perm fs.FileMode) (*os.File, experimentalsys.Errno) {
	flag &^= experimentalsys.O_CREAT | experimentalsys.O_TRUNC | experimentalsys.O_EXCL
	f, err := s.root.OpenFile(name, osFlag(flag), perm)
	return f, s.errno("open", name, err)
}

// osFlag converts wazero's open flags to the host's.
func osFlag(flag experimentalsys.Oflag) int {
	var f int
	switch flag & (experimentalsys.O_RDONLY | experimentalsys.O_RDWR | experimentalsys.O_WRONLY) {
	case experimentalsys.O_RDWR:
		f = os.O_RDWR
	case experimentalsys.O_WRONLY:
		f = os.O_WRONLY
	default:
		f = os.O_RDONLY
	}
	for _, m := range []struct {
		from experimentalsys.Oflag
		to   int
	}{
		{experimentalsys.O_APPEND, os.O_APPEND},
		{experimentalsys.O_CREAT, os.O_CREATE},
		{experimentalsys.O_EXCL, os.O_EXCL},
		{experimentalsys.O_SYNC, os.O_SYNC},
		{experimentalsys.O_TRUNC, os.O_TRUNC},
	} {
		if flag&m.from != 0 {
			f |= m.to
		}
	}
	return f | platformFlags(flag)
}

// Lstat implements sys.FS.
func (s *FS) Lstat(name string) (sys.Stat_t, experimentalsys.Errno) {
	st, err := s.root.Lstat(rel(name))
	if errno := s.errno("lstat", name, err); errno != 0 {
		return sys.Stat_t{}, errno
	}
	return sys.NewStat_t(st), 0
}

// Stat implements sys.FS.
func (s *FS) Stat(name string) (sys.Stat_t, experimentalsys.Errno) {
	st, err := s.root.Stat(rel(name))
	if errno := s.errno("stat", name, err); errno != 0 {
		return sys.Stat_t{}, errno
	}
	return sys.NewStat_t(st), 0
}

// Mkdir implements sys.FS.
func (s *FS) Mkdir(name string, perm fs.FileMode) experimentalsys.Errno {
	errno := s.errno("mkdir", name, s.root.Mkdir(rel(name), perm))
	if errno == experimentalsys.ENOTDIR {
		errno = experimentalsys.ENOENT
	}
	return errno
}

// Chmod implements sys.FS.
func (s *FS) Chmod(name string, perm fs.FileMode) experimentalsys.Errno {
	return s.errno("chmod", name, s.root.Chmod(rel(name), perm))
}

// Rename implements sys.FS. Both names resolve inside the root; wazero
// refuses renames between different preopens before they get here.
func (s *FS) Rename(from, to string) experimentalsys.Errno {
	return s.errno("rename", from+" -> "+to, s.root.Rename(rel(from), rel(to)))
}

// Rmdir implements sys.FS.
func (s *FS) Rmdir(name string) experimentalsys.Errno {
	n := rel(name)
	st, err := s.root.Lstat(n)
	if errno := s.errno("rmdir", name, err); errno != 0 {
		return errno
	}
	if !st.IsDir() {
		return experimentalsys.ENOTDIR
	}
	return s.errno("rmdir", name, s.root.Remove(n))
}

// Unlink implements sys.FS.
func (s *FS) Unlink(name string) experimentalsys.Errno {
	n := rel(name)
	st, err := s.root.Lstat(n)
	if errno := s.errno("unlink", name, err); errno != 0 {
		return errno
	}
	if st.IsDir() {
		return experimentalsys.EISDIR
	}
	return s.errno("unlink", name, s.root.Remove(n))
}

// Link implements sys.FS: a hard link between two names inside the root.
func (s *FS) Link(oldName, newName string) experimentalsys.Errno {
	return s.errno("link", oldName+" -> "+newName, s.root.Link(rel(oldName), rel(newName)))
}

// Symlink implements sys.FS. Following a link is always confined by the
// root; in addition the target is checked as text when the link is made:
// absolute targets, and relative ones that would climb above the root from
// the link's directory, are refused at once (a clear refusal in the log
// rather than a link that fails later).
func (s *FS) Symlink(target, link string) experimentalsys.Errno {
	if path.IsAbs(target) {
		s.refused("symlink", link, "absolute link target "+quote(target))
		return experimentalsys.EPERM
	}
	if leavesRoot(path.Dir(rel(link)), target) {
		s.refused("symlink", link, "link target "+quote(target)+" leaves the sandbox directory")
		return experimentalsys.EPERM
	}
	return s.errno("symlink", link, s.root.Symlink(target, rel(link)))
}

// leavesRoot reports whether target, read from directory dir (relative to
// the root), climbs above the root at any step.
func leavesRoot(dir, target string) bool {
	depth := 0
	if dir != "." {
		depth = strings.Count(dir, "/") + 1
	}
	for _, part := range strings.Split(target, "/") {
		switch part {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}

// Readlink implements sys.FS.
func (s *FS) Readlink(name string) (string, experimentalsys.Errno) {
	t, err := s.root.Readlink(rel(name))
	if errno := s.errno("readlink", name, err); errno != 0 {
		return "", errno
	}
	return t, 0
}

// Utimens implements sys.FS.
func (s *FS) Utimens(name string, atim, mtim int64) experimentalsys.Errno {
	return s.errno("utimens", name, s.root.Chtimes(rel(name), toTime(atim), toTime(mtim)))
}

// toTime converts a WASI timestamp; UTIME_OMIT becomes the zero time,
// which os.Chtimes leaves unchanged.
func toTime(ns int64) time.Time {
	if ns == experimentalsys.UTIME_OMIT {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// quote bounds a guest-supplied string for a log line and escapes what a
// terminal would interpret (control characters, invalid UTF-8).
func quote(s string) string {
	return strconv.Quote(Printable(s))
}

// Printable cuts a guest-supplied string to 256 bytes (marking the cut
// with an ellipsis) and replaces control characters and invalid UTF-8, so
// that it can go into a log line read on a terminal.
func Printable(s string) string {
	const max = 256
	cut := len(s) > max
	if cut {
		s = s[:max]
	}
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return '\uFFFD'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	if cut {
		s += "…"
	}
	return s
}

var _ experimentalsys.File = (*file)(nil)
