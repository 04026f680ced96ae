package runtime

import (
	"context"
	"testing"
	"time"

	"github.com/chiphost/chiphost/internal/testutil"
)

func repoRoot(t testing.TB) string { return testutil.RepoRoot(t) }

func fixture(t testing.TB, rel string) string { return testutil.Plugin(t, rel) }

// newTestHost creates a Host with a shared compilation cache, a private temp
// root and a 20 s call deadline unless opts says otherwise.
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
	ctx := context.Background()
	h, err := NewHost(ctx, &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(ctx) })
	return h
}
