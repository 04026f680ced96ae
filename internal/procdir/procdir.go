// Package procdir gives a process a private directory for its temporary
// files under a shared parent such as $TMPDIR/chiphost-UID, and removes what
// processes that died without cleaning up (SIGKILL, a crash) left there.
//
// The parent must be a directory of the current user that nobody else can
// write; Open refuses any other. Each Open makes <parent>/<pid>-<random>
// and holds an exclusive lock (flock) on it for as long as it is open. A
// later Open, in any process, removes the siblings whose lock is free and
// whose pid is not a running process. Close removes the directory, and the
// parent too once it is empty.
//
// On systems without flock (Windows) directories are neither locked nor
// cleaned up on start, and ownership is not checked.
package procdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rs/zerolog"
)

// Parent returns the shared parent that Open expects under base (for
// example os.TempDir()): base/chiphost-UID, one per user, so that users of
// one machine never share it.
func Parent(base string) string {
	name := "chiphost"
	if uid := os.Geteuid(); uid >= 0 {
		name += "-" + strconv.Itoa(uid)
	}
	return filepath.Join(base, name)
}

// Dir is a process's private directory, open until Close.
type Dir struct {
	// Path is the directory, <parent>/<pid>-<random>, mode 0700.
	Path string
	// Removed lists the directories of dead processes that Open removed.
	Removed []string
	// CleanupErrors lists the directories of dead processes that Open
	// could not remove, with why.
	CleanupErrors []error

	parent string
	lock   *os.File
}

// Open creates a private directory for this process under parent, creating
// parent (mode 0700) if needed. It fails, naming the directory and the
// problem, when parent is a symbolic link, not a directory, owned by
// another user or writable by group or others. It removes the stale
// directories of dead processes first.
func Open(parent string) (*Dir, error) {
	for attempt := 0; ; attempt++ {
		if err := EnsurePrivate(parent); err != nil {
			return nil, err
		}
		d := &Dir{parent: parent}
		d.removeStale()
		path, err := os.MkdirTemp(parent, strconv.Itoa(os.Getpid())+"-")
		if errors.Is(err, fs.ErrNotExist) && attempt < 5 {
			continue // another process removed the empty parent just now
		}
		if err != nil {
			return nil, fmt.Errorf("creating a private directory in %s: %w", parent, err)
		}
		d.Path = path
		if d.lock, err = lockDir(path); err != nil {
			os.RemoveAll(path)
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		return d, nil
	}
}

// LogCleanup logs what Open removed of the directories of dead
// processes, and what it could not remove.
func (d *Dir) LogCleanup(log *zerolog.Logger) {
	for _, p := range d.Removed {
		log.Info().Str("dir", p).Msg("removed the temporary directory of a process that is gone")
	}
	for _, err := range d.CleanupErrors {
		log.Warn().Err(err).Msg("stale temporary directory")
	}
}

// Close removes the directory and everything in it, releases the lock, and
// removes the parent if no other process uses it.
func (d *Dir) Close() error {
	err := os.RemoveAll(d.Path)
	if d.lock != nil {
		d.lock.Close()
	}
	os.Remove(d.parent) // fails, as it should, while other directories are in it
	return err
}

// EnsurePrivate creates dir (mode 0700, with any missing parents) if it does
// not exist, then checks that it is a directory, not a symbolic link, owned
// by the current user and not writable by group or others. The error names
// the directory and what is wrong with it.
func EnsurePrivate(dir string) error {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("creating %s: %w", dir, err)
		}
		fi, err = os.Lstat(dir)
	}
	if err != nil {
		return err
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("refusing %s: it is a symbolic link, want a directory of this user", dir)
	case !fi.IsDir():
		return fmt.Errorf("refusing %s: it is not a directory", dir)
	}
	if uid, ok := owner(fi); ok && uid != os.Geteuid() {
		return fmt.Errorf("refusing %s: it is owned by uid %d, not by this user (uid %d); remove it or use another directory", dir, uid, os.Geteuid())
	}
	if perm := fi.Mode().Perm(); checksOwner && perm&0o022 != 0 {
		return fmt.Errorf("refusing %s: it is writable by others (mode %04o); make it private (chmod go-w) or use another directory", dir, perm)
	}
	return nil
}

// removeStale removes the siblings left by dead processes: directories
// named <pid>-…, whose pid is not a running process and whose lock is
// free. A directory being created by a live process is never removed (its
// pid runs), nor one locked by a process of another pid namespace.
func (d *Dir) removeStale() {
	if !canLock {
		return
	}
	entries, err := os.ReadDir(d.parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, ok := pidOf(e.Name())
		if !ok || !e.IsDir() || pid == os.Getpid() || running(pid) {
			continue
		}
		path := filepath.Join(d.parent, e.Name())
		f, err := tryLockDir(path)
		if err != nil || f == nil {
			continue // locked: in use
		}
		if err := os.RemoveAll(path); err != nil {
			d.CleanupErrors = append(d.CleanupErrors, fmt.Errorf("removing %s, left by process %d: %w", path, pid, err))
		} else {
			d.Removed = append(d.Removed, path)
		}
		f.Close()
	}
}

// pidOf parses the pid of a directory name made by Open.
func pidOf(name string) (int, bool) {
	head, tail, ok := strings.Cut(name, "-")
	if !ok || tail == "" {
		return 0, false
	}
	pid, err := strconv.Atoi(head)
	return pid, err == nil && pid > 0
}
