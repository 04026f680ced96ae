package runtime_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/chiphost/chiphost/runtime"
)

// repoRoot is the repository root, two levels up from this package.
func repoRootExt(t testing.TB) string {
	t.Helper()
	abs, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// fixture returns the path of a committed test plugin.
func fixture(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(repoRootExt(t), "testdata", "plugins", rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("fixture %s missing (build with testdata/plugins/build.sh): %v", rel, err)
	}
	return p
}

// testCacheDir is shared by the tests of a run so that the large fixtures
// (the 12 MB JavaScript plugin) are compiled once.
func testCacheDir() string {
	return filepath.Join(os.TempDir(), "chiphost-test-cache")
}

// newTestHost creates a Host with a short deadline and a private temp root.
func newTestHost(t testing.TB, opts *Options) *Host {
	t.Helper()
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.CacheDir == "" && !o.NoCache {
		o.CacheDir = testCacheDir()
	}
	if o.TempRoot == "" {
		o.TempRoot = t.TempDir()
	}
	if o.CallTimeout == 0 {
		o.CallTimeout = 20 * time.Second
	}
	ctx := context.Background()
	h, err := NewHost(ctx, &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(ctx) })
	return h
}
