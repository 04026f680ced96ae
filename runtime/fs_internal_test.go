package runtime

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/chiphost/chiphost/schema"
)

// TestFileSubset: a plugin configured with one file sees that file in its
// directory, and nothing else there.
func TestFileSubset(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.log", "secret.txt"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fsys := newFileSubset(dir, []string{"a.log"})
	if b, err := fs.ReadFile(fsys, "a.log"); err != nil || string(b) != "a.log" {
		t.Fatalf("configured file: %q %v", b, err)
	}
	if _, err := fs.ReadFile(fsys, "secret.txt"); err == nil {
		t.Fatal("a sibling of the configured file is readable")
	}
	if _, err := fs.ReadFile(fsys, "../"+filepath.Base(dir)+"/secret.txt"); err == nil {
		t.Fatal("path traversal reached a sibling")
	}
	des, err := fs.ReadDir(fsys, ".")
	if err != nil || len(des) != 1 || des[0].Name() != "a.log" {
		t.Fatalf("listing: %v %v", des, err)
	}
}

// TestGrantedMounts: exact access by default; parent directories in the
// Chipmunk-compatible mode.
func TestGrantedMounts(t *testing.T) {
	cfg := []schema.Setting{
		{ID: "f", Value: schema.Value{Type: schema.Files, Paths: []string{"/data/logs/a.log", "/data/logs/b.log"}}},
		{ID: "d", Value: schema.Value{Type: schema.Directories, Paths: []string{"/srv/fibex"}}},
	}
	exact := &Plugin{host: &Host{}}
	_, m, err := exact.prepareInit(&InitOptions{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.dirs) != 1 || m.dirs[0] != "/srv/fibex" || len(m.files["/data/logs"]) != 2 {
		t.Fatalf("exact mounts: %+v", m)
	}
	compat := &Plugin{host: &Host{opts: Options{ParentDirAccess: true}}}
	_, m, err = compat.prepareInit(&InitOptions{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.files) != 0 || len(m.dirs) != 3 || m.dirs[0] != "/data/logs" || m.dirs[2] != "/srv" {
		t.Fatalf("compat mounts: %+v", m)
	}
}
