package procdir

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// A test binary started with PROCDIR_HOLD=<parent> opens a Dir there,
// prints its path and waits for its stdin to close: a real process that
// holds a directory, to be killed or left running by the tests.
func TestMain(m *testing.M) {
	if parent := os.Getenv("PROCDIR_HOLD"); parent != "" {
		d, err := Open(parent)
		if err != nil {
			os.Stdout.WriteString("error: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString(d.Path + "\n")
		bufio.NewReader(os.Stdin).ReadString('\n') // until stdin closes
		d.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// holder is a subprocess holding a Dir.
type holder struct {
	cmd   *exec.Cmd
	stdin interface{ Close() error }
	path  string
}

func hold(t *testing.T, parent string) *holder {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PROCDIR_HOLD="+parent)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &holder{cmd: cmd, stdin: stdin}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n') // the signal that the directory is held
	if err != nil || strings.HasPrefix(line, "error: ") {
		t.Fatalf("holder: %q %v", line, err)
	}
	h.path = strings.TrimSpace(line)
	return h
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// TestStaleDirectoriesRemoved: the directory of a process killed with
// SIGKILL stays behind (with its files); the next Open removes it, and
// leaves alone the directory of a process that still runs.
func TestStaleDirectoriesRemoved(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "chiphost-test")
	killed := hold(t, parent)
	if err := os.WriteFile(filepath.Join(killed.path, "rows.dat"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	live := hold(t, parent)
	if err := killed.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed.cmd.Wait()
	if !exists(filepath.Join(killed.path, "rows.dat")) {
		t.Fatal("the killed process's files are gone before any cleanup: the test proves nothing")
	}

	d, err := Open(parent)
	if err != nil {
		t.Fatal(err)
	}
	if exists(killed.path) {
		t.Errorf("%s, left by a killed process, was not removed", killed.path)
	}
	if len(d.Removed) != 1 || d.Removed[0] != killed.path || len(d.CleanupErrors) != 0 {
		t.Errorf("Removed %v, CleanupErrors %v; want exactly %s", d.Removed, d.CleanupErrors, killed.path)
	}
	if !exists(live.path) {
		t.Errorf("%s, held by a running process, was removed", live.path)
	}
	if want := strconv.Itoa(os.Getpid()) + "-"; !strings.HasPrefix(filepath.Base(d.Path), want) {
		t.Errorf("directory %s is not named after the pid (%s…)", d.Path, want)
	}

	// Close keeps the parent while the live process uses it; the last one
	// out removes it.
	if err := d.Close(); err != nil || exists(d.Path) || !exists(parent) {
		t.Fatalf("Close: %v; dir exists %v, parent exists %v (want false, true)", err, exists(d.Path), exists(parent))
	}
	live.stdin.Close()
	if err := live.cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if exists(parent) {
		t.Errorf("the empty parent %s was left after the last process exited", parent)
	}
}

// TestRefusesUnsafeParents: a parent that others can write, that is a
// symbolic link, that is not a directory, or (as root) that belongs to
// another user is refused with an error naming it and the problem, and
// nothing is created in it.
func TestRefusesUnsafeParents(t *testing.T) {
	base := t.TempDir()
	private := filepath.Join(base, "private")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		setup func(path string) error
		want  string
	}{
		{"world-writable", func(p string) error { return mkdirMode(p, 0o777) }, "writable by others (mode 0777)"},
		{"group-writable", func(p string) error { return mkdirMode(p, 0o770) }, "writable by others (mode 0770)"},
		{"sticky and world-writable", func(p string) error { return mkdirMode(p, 0o777|os.ModeSticky) }, "writable by others (mode 0777)"},
		{"symbolic link", func(p string) error { return os.Symlink(private, p) }, "is a symbolic link"},
		{"regular file", func(p string) error { return os.WriteFile(p, nil, 0o600) }, "is not a directory"},
	}
	if os.Geteuid() == 0 {
		cases = append(cases, struct {
			name  string
			setup func(path string) error
			want  string
		}{"owned by another user", func(p string) error {
			if err := mkdirMode(p, 0o700); err != nil {
				return err
			}
			return os.Chown(p, 65534, 65534)
		}, "owned by uid 65534, not by this user (uid 0)"})
	} else {
		t.Log("not root: the case of a parent owned by another user needs chown and is not run")
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parent := filepath.Join(base, strings.ReplaceAll(tc.name, " ", "-"))
			if err := tc.setup(parent); err != nil {
				t.Fatal(err)
			}
			d, err := Open(parent)
			if err == nil {
				d.Close()
				t.Fatalf("Open(%s) succeeded", parent)
			}
			if !strings.Contains(err.Error(), parent) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to name %s and say %q", err, parent, tc.want)
			}
			if entries, _ := os.ReadDir(private); len(entries) != 0 {
				t.Errorf("something was created through the refused parent: %v", entries)
			}
			if fi, err := os.Lstat(parent); err == nil && fi.IsDir() {
				if entries, _ := os.ReadDir(parent); len(entries) != 0 {
					t.Errorf("something was created in the refused parent: %v", entries)
				}
			}
		})
	}
}

// mkdirMode makes a directory with exactly the given mode (the umask
// would otherwise clear bits).
func mkdirMode(path string, mode os.FileMode) error {
	if err := os.Mkdir(path, 0o700); err != nil {
		return err
	}
	return os.Chmod(path, mode)
}

// TestParentPerUser: the shared parent is named after the user, so users
// of one machine never share it.
func TestParentPerUser(t *testing.T) {
	if got, want := Parent("/tmp"), "/tmp/chiphost-"+strconv.Itoa(os.Geteuid()); got != want {
		t.Errorf("Parent = %s, want %s", got, want)
	}
}
