package runtime

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// pluginRoot lays out a root with Chipmunk's layout: string_parser and
// file_source copied from the fixtures, and a parser "trap" whose .wasm is
// a named pipe. Opening the trap for reading wakes a goroutine waiting to
// open it for writing, which reports it on touched (before it writes and
// closes, so whoever opened it gets to the end). Loading the trap therefore
// cannot go unnoticed: it is sent on touched before the load returns.
func pluginRoot(t *testing.T) (root string, touched <-chan struct{}) {
	t.Helper()
	root = t.TempDir()
	copyPlugin := func(kindDir, name, from string) {
		dir := filepath.Join(root, kindDir, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(fixture(t, from))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".wasm"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyPlugin("parsers", "string_parser", "parsers/string_parser/string_parser.wasm")
	copyPlugin("bytesources", "file_source", "bytesources/file_source/file_source.wasm")
	trapDir := filepath.Join(root, "parsers", "trap")
	if err := os.MkdirAll(trapDir, 0o755); err != nil {
		t.Fatal(err)
	}
	trap := filepath.Join(trapDir, "trap.wasm")
	if err := syscall.Mkfifo(trap, 0o600); err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 1)
	go func() {
		w, err := os.OpenFile(trap, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		ch <- struct{}{}
		w.Write([]byte("not wasm"))
		w.Close()
	}()
	t.Cleanup(func() {
		// Release the writer if nobody opened the trap.
		if r, err := os.OpenFile(trap, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			defer r.Close()
			select {
			case <-ch:
			default:
			}
		}
	})
	return root, ch
}

// TestResolveLoadsOnlyTheNamedPlugin resolves plugins by name, by .wasm
// path and by directory in a root that also holds a trap: before Resolve,
// naming one plugin discovered (and compiled) every plugin of every root.
func TestResolveLoadsOnlyTheNamedPlugin(t *testing.T) {
	h := newTestHost(t, nil)
	root, touched := pluginRoot(t)
	ctx := context.Background()
	for _, c := range []struct {
		ref  string
		kind PluginKind
		want PluginKind
	}{
		{"string_parser", Parser, Parser},
		{"string_parser", "", Parser},
		{"file_source", ByteSource, ByteSource},
		{filepath.Join(root, "parsers", "string_parser", "string_parser.wasm"), Parser, Parser},
		{filepath.Join(root, "bytesources", "file_source"), "", ByteSource},
	} {
		e, err := h.Resolve(ctx, c.ref, []string{t.TempDir(), root}, c.kind)
		if err != nil {
			t.Fatalf("Resolve(%s, %q): %v", c.ref, c.kind, err)
		}
		if e.Plugin == nil || e.Plugin.Kind != c.want || e.Kind != c.want {
			t.Fatalf("Resolve(%s): entry %+v, want a %s", c.ref, e, c.want)
		}
	}
	select {
	case <-touched:
		t.Fatal("resolving one plugin opened another plugin's binary")
	default:
	}
}

// TestResolveErrors checks each refusal: its kind and a message that names
// what was asked and what was found, without opening any plugin.
func TestResolveErrors(t *testing.T) {
	h := newTestHost(t, nil)
	root, touched := pluginRoot(t)
	ctx := context.Background()
	notWasm := filepath.Join(t.TempDir(), "README.md")
	os.WriteFile(notWasm, []byte("# a readme\n"), 0o644)
	empty := filepath.Join(t.TempDir(), "empty.wasm")
	os.WriteFile(empty, nil, 0o644)
	for _, c := range []struct {
		ref  string
		kind PluginKind
		want ErrorKind
		msg  []string
	}{
		{"nosuch", Parser, KindNotFound, []string{"plugin nosuch: not-found: not a file, and not one of the parser plugins in " + root + " (string_parser, trap)"}},
		{"nosuch", "", KindNotFound, []string{"not one of the plugins in " + root + " (file_source, string_parser, trap)"}},
		// A name of a plugin of another kind says which kind it is.
		{"file_source", Parser, KindUnsupported, []string{"plugin file_source: unsupported: it is a bytesource, want a parser"}},
		{"string_parser", ByteSource, KindUnsupported, []string{"plugin string_parser: unsupported: it is a parser, want a bytesource"}},
		{filepath.Join(root, "bytesources", "file_source"), Parser, KindUnsupported, []string{"plugin file_source: unsupported: it is a bytesource, want a parser"}},
		{notWasm, "", KindUnsupported, []string{"README.md: unsupported: not a WebAssembly binary", `"# a read`}},
		{empty, "", KindUnsupported, []string{"the file is empty"}},
		{"missing/plugin.wasm", "", KindNotFound, []string{"plugin missing/plugin.wasm: not-found: no such file"}},
		{"", "", KindNotFound, []string{"no plugin named"}},
	} {
		_, err := h.Resolve(ctx, c.ref, []string{root}, c.kind)
		var re *Error
		if !errors.As(err, &re) || re.Kind != c.want {
			t.Errorf("Resolve(%q, %q) = %v, want a %s error", c.ref, c.kind, err, c.want)
			continue
		}
		for _, m := range c.msg {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("Resolve(%q, %q) = %q, want it to contain %q", c.ref, c.kind, err, m)
			}
		}
		var wk *WrongKindError
		if isWrongKind := errors.As(err, &wk); isWrongKind != strings.Contains(err.Error(), "it is a") {
			t.Errorf("Resolve(%q, %q) = %v: a *WrongKindError exactly when the kind is wrong, got %v", c.ref, c.kind, err, isWrongKind)
		} else if isWrongKind && (wk.Got == c.kind || wk.Want != c.kind || !strings.Contains(err.Error(), "it is a "+string(wk.Got)+",")) {
			t.Errorf("Resolve(%q, %q): WrongKindError %+v", c.ref, c.kind, wk)
		}
	}
	select {
	case <-touched:
		t.Fatal("an error path opened a plugin binary")
	default:
	}
}
