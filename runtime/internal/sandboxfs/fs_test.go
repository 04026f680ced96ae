package sandboxfs

import (
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

func TestLeavesRoot(t *testing.T) {
	for _, c := range []struct {
		dir, target string
		want        bool
	}{
		{".", "a", false},
		{".", "..", true},
		{".", "a/../..", true},
		{".", "a/../b", false},
		{"d", "..", false},
		{"d", "../..", true},
		{"d/e", "../../x", false},
		{"d/e", "../../../x", true},
		{".", "./././", false},
	} {
		if got := leavesRoot(c.dir, c.target); got != c.want {
			t.Errorf("leavesRoot(%q, %q) = %v", c.dir, c.target, got)
		}
	}
}

// TestOperations drives the FS the way wazero's WASI layer does, on a real
// directory with a way out planted in it.
func TestOperations(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	if err := os.MkdirAll(filepath.Join(root, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "secret"), []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..", filepath.Join(root, "out")); err != nil {
		t.Fatal(err)
	}
	var refusals []string
	s, err := Open(root, func(op, name, _ string) { refusals = append(refusals, op+" "+name) })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	f, errno := s.OpenFile("d/f", experimentalsys.O_RDWR|experimentalsys.O_CREAT, 0o644)
	if errno != 0 {
		t.Fatal(errno)
	}
	if n, errno := f.Write([]byte("hello")); n != 5 || errno != 0 {
		t.Fatal(n, errno)
	}
	if off, errno := f.Seek(0, io.SeekStart); off != 0 || errno != 0 {
		t.Fatal(off, errno)
	}
	buf := make([]byte, 8)
	if n, errno := f.Read(buf); string(buf[:n]) != "hello" || errno != 0 {
		t.Fatalf("%q %v", buf[:n], errno)
	}
	if errno := f.SetAppend(true); errno != 0 || !f.IsAppend() {
		t.Fatal("append", errno)
	}
	f.Write([]byte("!"))
	if st, errno := f.Stat(); st.Size != 6 || errno != 0 {
		t.Fatal(st.Size, errno)
	}
	f.Close()

	cases := []struct {
		name string
		got  experimentalsys.Errno
		want experimentalsys.Errno
	}{
		{"open through link", openErr(s, "out/secret", 0), experimentalsys.EPERM},
		{"open nofollow", openErr(s, "out", experimentalsys.O_NOFOLLOW), experimentalsys.ELOOP},
		{"rename out", s.Rename("d/f", "out/stolen"), experimentalsys.EPERM},
		{"link out", s.Link("d/f", "out/hard"), experimentalsys.EPERM},
		{"mkdir out", s.Mkdir("out/x", 0o755), experimentalsys.EPERM},
		{"unlink out", s.Unlink("out/secret"), experimentalsys.EPERM},
		{"symlink out", s.Symlink("../..", "d/up"), experimentalsys.EPERM},
		{"symlink abs", s.Symlink("/etc", "abs"), experimentalsys.EPERM},
		{"utimens out", s.Utimens("out/secret", 0, 0), experimentalsys.EPERM},
		{"chmod out", s.Chmod("out/secret", 0o777), experimentalsys.EPERM},
		{"rmdir file", s.Rmdir("d/f"), experimentalsys.ENOTDIR},
		{"unlink dir", s.Unlink("d"), experimentalsys.EISDIR},
		{"symlink in", s.Symlink("../d/f", "d/in"), 0},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
	if _, errno := s.Stat("out/secret"); errno != experimentalsys.EPERM {
		t.Errorf("stat through link: %v", errno)
	}
	if st, errno := s.Lstat("out"); errno != 0 || st.Mode&os.ModeSymlink == 0 {
		t.Errorf("lstat of the link itself: %v", errno)
	}
	if len(refusals) < 10 {
		t.Errorf("refusals not reported: %q", refusals)
	}
	if b, err := os.ReadFile(filepath.Join(base, "secret")); err != nil || string(b) != "s" {
		t.Errorf("secret changed: %q %v", b, err)
	}

	// A directory listing, rewound and listed again after a change.
	d, errno := s.OpenFile("d", experimentalsys.O_DIRECTORY, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	defer d.Close()
	if got := names(t, d); len(got) != 2 || got[0] != "f" || got[1] != "in" {
		t.Fatalf("listing: %q", got)
	}
	s.Mkdir("d/new", 0o755)
	if _, errno := d.Seek(0, io.SeekStart); errno != 0 {
		t.Fatal(errno)
	}
	if got := names(t, d); len(got) != 3 {
		t.Fatalf("listing after rewind: %q", got)
	}
}

func openErr(s *FS, name string, flag experimentalsys.Oflag) experimentalsys.Errno {
	f, errno := s.OpenFile(name, flag, 0)
	if f != nil {
		f.Close()
	}
	return errno
}

func names(t *testing.T, d experimentalsys.File) []string {
	t.Helper()
	des, errno := d.Readdir(-1)
	if errno != 0 {
		t.Fatal(errno)
	}
	var out []string
	for _, de := range des {
		out = append(out, de.Name)
	}
	sort.Strings(out)
	return out
}

func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ro := ReadOnly(s, nil)
	for _, flag := range []experimentalsys.Oflag{experimentalsys.O_WRONLY, experimentalsys.O_RDWR, experimentalsys.O_CREAT, experimentalsys.O_TRUNC, experimentalsys.O_APPEND} {
		if _, errno := ro.OpenFile("f", flag, 0o644); errno != experimentalsys.EROFS {
			t.Errorf("open with %v: %v", flag, errno)
		}
	}
	f, errno := ro.OpenFile("f", experimentalsys.O_RDONLY, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	defer f.Close()
	if _, errno := f.Write([]byte("x")); errno == 0 {
		t.Error("write through a read-only file")
	}
	if errno := f.Truncate(0); errno == 0 {
		t.Error("truncate through a read-only file")
	}
	if errno := ro.Mkdir("d", 0o755); errno != experimentalsys.EROFS {
		t.Errorf("mkdir: %v", errno)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "f")); string(b) != "data" {
		t.Errorf("file changed: %q", b)
	}
}

// TestSpecialFilesRefused: a named pipe without a writer is refused at
// once instead of blocking open(2).
func TestSpecialFilesRefused(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "p"), 0o644); err != nil {
		t.Fatal(err)
	}
	var refused []string
	s, err := Open(dir, func(op, name, reason string) { refused = append(refused, reason) })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if errno := openErr(s, "p", experimentalsys.O_RDONLY); errno != experimentalsys.EACCES {
		t.Errorf("open of a FIFO: %v", errno)
	}
	if len(refused) != 1 || !strings.Contains(refused[0], "not a regular file or directory") {
		t.Errorf("refusal: %q", refused)
	}
	if _, err := OpenRegular(filepath.Join(dir, "p")); err == nil {
		t.Error("OpenRegular opened a FIFO")
	}
}

func TestPrintable(t *testing.T) {
	if got := Printable("a\x1b[2J\x07b\xffc"); got != "a\uFFFD[2J\uFFFDb\uFFFDc" {
		t.Errorf("%q", got)
	}
	if got := Printable(strings.Repeat("x", 300)); len(got) != 256+len("…") {
		t.Errorf("not cut: %d bytes", len(got))
	}
}
