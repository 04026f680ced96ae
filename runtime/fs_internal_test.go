package runtime

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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

// TestLazyCompile: with the metadata cached, loading does not compile; the
// first instance does, and a binary changed on disk since is refused.
func TestLazyCompile(t *testing.T) {
	ctx := context.Background()
	cache := t.TempDir()
	dir := t.TempDir()
	path := filepath.Join(dir, "string_parser.wasm")
	bin, err := os.ReadFile(fixture(t, "parsers/string_parser/string_parser.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, bin, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := newTestHost(t, &Options{CacheDir: cache}).Load(ctx, path); err != nil {
		t.Fatal(err)
	}
	h := newTestHost(t, &Options{CacheDir: cache})
	p, err := h.Load(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if p.cp != nil || len(p.ConfigSchemas) != 7 || p.Kind != Parser {
		t.Fatalf("warm load compiled (%v) or lost metadata (%d schemas, kind %s)", p.cp != nil, len(p.ConfigSchemas), p.Kind)
	}
	settings, err := schema.Complete(p.ConfigSchemas, nil)
	if err != nil {
		t.Fatal(err)
	}
	pi, err := p.NewParser(ctx, &InitOptions{Config: settings})
	if err != nil {
		t.Fatal(err)
	}
	pi.Close()
	p2, err := h.Load(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(bin, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = p2.NewParser(ctx, &InitOptions{Config: settings})
	if KindOf(err) != KindIO || !strings.Contains(err.Error(), "changed on disk") {
		t.Fatalf("got %v, want an io error saying the file changed", err)
	}
}
