package sandboxfs

import (
	"os"
	"path/filepath"
	"testing"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// TestLimitOpenFiles: files opened through two file systems sharing one
// instance count (Max 3) and one total (Max 4) are refused with
// ErrTooManyOpenFiles past either limit, with the reason reported; a
// failed open takes no count, and closing (twice) gives exactly one back.
func TestLimitOpenFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	total := &OpenFiles{Max: 4}
	a, b := &OpenFiles{Max: 3, Total: total}, &OpenFiles{Max: 3, Total: total}
	var reasons []string
	refused := func(_, _, reason string) { reasons = append(reasons, reason) }
	fa, fb := LimitOpenFiles(s, a, refused), LimitOpenFiles(ReadOnly(s, nil), b, refused)
	open := func(fsys experimentalsys.FS, name string) (experimentalsys.File, experimentalsys.Errno) {
		return fsys.OpenFile(name, experimentalsys.O_RDONLY, 0)
	}
	var files []experimentalsys.File
	for range 3 {
		f, errno := open(fa, "f")
		if errno != 0 {
			t.Fatal(errno)
		}
		files = append(files, f)
	}
	if _, errno := open(fa, "f"); errno != ErrTooManyOpenFiles {
		t.Errorf("4th open of a: %v, want ErrTooManyOpenFiles", errno)
	}
	if _, errno := open(fb, "missing"); errno != experimentalsys.ENOENT {
		t.Errorf("open of a missing file: %v", errno)
	}
	f, errno := open(fb, "f")
	if errno != 0 {
		t.Fatalf("b's first open: %v", errno)
	}
	if _, errno := open(fb, "f"); errno != ErrTooManyOpenFiles {
		t.Errorf("5th open in total: %v, want ErrTooManyOpenFiles", errno)
	}
	if a.Open() != 3 || b.Open() != 1 || total.Open() != 4 {
		t.Errorf("counts a %d, b %d, total %d; want 3, 1, 4", a.Open(), b.Open(), total.Open())
	}
	f.Close()
	f.Close()
	for _, f := range files {
		f.Close()
	}
	if a.Open() != 0 || b.Open() != 0 || total.Open() != 0 {
		t.Errorf("after closing: a %d, b %d, total %d", a.Open(), b.Open(), total.Open())
	}
	want := []string{"the plugin instance already has 3 files open, its limit", "the plugin instances together already have 4 files open, the limit for all of them"}
	if len(reasons) != 2 || reasons[0] != want[0] || reasons[1] != want[1] {
		t.Errorf("reported %q, want %q", reasons, want)
	}
}
