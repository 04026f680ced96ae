package runtime_test

import (
	"context"
	"testing"
	"time"

	"github.com/chiphost/chiphost/internal/testutil"
	. "github.com/chiphost/chiphost/runtime"
)

func repoRootExt(t testing.TB) string { return testutil.RepoRoot(t) }

func fixture(t testing.TB, rel string) string { return testutil.Plugin(t, rel) }

// newTestHost is the external tests' twin of the package tests' helper: a
// shared compilation cache, a private temp root, a 20 s call deadline.
func newTestHost(t testing.TB, opts *Options) *Host {
	t.Helper()
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.CacheDir == "" && !o.NoCache {
		o.CacheDir = testutil.CacheDir()
	}
	if o.TempRoot == "" {
		o.TempRoot = t.TempDir()
	}
	if o.CallTimeout == 0 {
		o.CallTimeout = 20 * time.Second
	}
	h, err := NewHost(context.Background(), &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}
