// Package testutil holds helpers shared by the tests of several packages:
// where the repository and its test plugins are, and a safety-net wait. It
// imports only the standard library (package runtime's own tests use it too).
package testutil

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// RepoRoot returns the repository root: the closest directory above the
// working directory that holds go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Plugin returns the path of a committed test plugin under testdata/plugins.
func Plugin(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(RepoRoot(t), "testdata", "plugins", rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("test plugin %s missing (build with testdata/plugins/build.sh): %v", rel, err)
	}
	return p
}

// CacheDir is a compilation cache shared by the tests of a run, so that the
// large fixtures (the 12 MB JavaScript plugin) are compiled once.
func CacheDir() string {
	return filepath.Join(os.TempDir(), "chiphost-test-cache")
}

// Await receives one value from ch. It is a safety net, not a time limit: if
// nothing arrives before the test binary's own deadline (go test -timeout)
// is close, it fails the test naming what it waited for, instead of letting
// the whole binary die without saying which wait hung.
func Await[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	v, ok := Wait(t, ch)
	if !ok {
		t.Fatalf("still waiting for %s when the test's deadline came near", what)
	}
	return v
}

// Wait is Await that reports giving up (false) instead of failing the test,
// for callers that must clean up first (kill a hung process).
func Wait[T any](t testing.TB, ch <-chan T) (T, bool) {
	var giveUp <-chan time.Time
	if dt, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if d, ok := dt.Deadline(); ok {
			timer := time.NewTimer(time.Until(d) * 9 / 10)
			defer timer.Stop()
			giveUp = timer.C
		}
	}
	select {
	case v := <-ch:
		return v, true
	case <-giveUp:
		var zero T
		return zero, false
	}
}
