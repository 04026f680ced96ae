package runtime_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/chiphost/chiphost/runtime"
)

// TestLoadFixtures loads every positive fixture and checks its metadata.
func TestLoadFixtures(t *testing.T) {
	h := newTestHost(t, nil)
	tests := []struct {
		path       string
		kind       PluginKind
		version    string
		schemas    int
		hasColumns bool
	}{
		{"parsers/string_parser/string_parser.wasm", Parser, "0.1.0", 7, true},
		{"parsers/go_records/go_records.wasm", Parser, "0.3.0", 2, false},
		{"bytesources/file_source/file_source.wasm", ByteSource, "0.1.0", 1, false},
		{"core/string_parser.core.wasm", Parser, "0.1.0", 7, true},
		{"composed/nested.wasm", Parser, "0.1.0", 7, true}, // string_parser nested in an outer component
		{"hostile/hostile.wasm", Parser, "6.6.6", 1, false},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			p, err := h.Load(context.Background(), fixture(t, tc.path))
			if err != nil {
				t.Fatal(err)
			}
			if p.Kind != tc.kind || p.APIVersion.String() != "0.1.0" || p.Version.String() != tc.version || len(p.ConfigSchemas) != tc.schemas {
				t.Fatalf("got kind %s api %s version %s, %d schemas; want %s 0.1.0 %s %d", p.Kind, p.APIVersion, p.Version, len(p.ConfigSchemas), tc.kind, tc.version, tc.schemas)
			}
			if (p.RenderOptions != nil) != tc.hasColumns {
				t.Fatalf("render options %+v, want columns: %v", p.RenderOptions, tc.hasColumns)
			}
		})
	}
}

// TestLoadRejects checks that unsupported binaries fail with a precise,
// typed error instead of at instantiation.
func TestLoadRejects(t *testing.T) {
	h := newTestHost(t, nil)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name   string
		path   string
		kind   ErrorKind
		detail string
	}{
		{"p2 imports", fixture(t, "negative/p2_imports.wasm"), KindUnsupported, "wasi:"},
		// A utf8 core module embedded with string-encoding=utf16: its UTF-8
		// strings, read as UTF-16 (alignment 2), fail the first lift.
		{"utf8 strings labelled utf16", fixture(t, "hostile/utf8_as_utf16.wasm"), KindABI,
			"get-render-options: abi: invalid result: abi: result.columns-options.some.columns[0].caption: string pointer 0x6ad is not aligned to 2"},
		// Not a plugin that broke the ABI: a file chiphost cannot run, as
		// Resolve says for a path (spec/protocol.md, error kinds).
		{"not wasm", write("text.wasm", []byte("hello, this is not wasm")), KindUnsupported, "not a WebAssembly component or core module"},
		{"empty core module", write("empty.wasm", []byte("\x00asm\x01\x00\x00\x00")), KindUnsupported, "export"},
		{"missing file", filepath.Join(dir, "nope.wasm"), KindNotFound, "nope.wasm"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.Load(context.Background(), tc.path)
			if KindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.detail) {
				t.Fatalf("got %v (kind %q); want kind %q mentioning %q", err, KindOf(err), tc.kind, tc.detail)
			}
		})
	}
}

// TestDiscover scans the committed plugin root plus a root with broken
// plugins: invalid plugins are listed with their error, never hidden.
func TestDiscover(t *testing.T) {
	h := newTestHost(t, nil)
	bad := t.TempDir()
	mk := func(rel string, data string) {
		p := filepath.Join(bad, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk("parsers/nowasm/README.md", "no binary here")
	mk("parsers/garbage/garbage.wasm", "garbage")
	mk("parsers/garbage/garbage.toml", "title = \"Garbage\"\ndescription = 'not a plugin'\n")
	src, err := os.ReadFile(fixture(t, "bytesources/file_source/file_source.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	mk("parsers/misplaced/misplaced.wasm", string(src)) // a byte source under parsers/
	mk("parsers/.hidden/.hidden.wasm", "x")

	entries := h.Discover(context.Background(), []string{filepath.Join(repoRootExt(t), "testdata", "plugins"), bad, filepath.Join(bad, "missing-root")})
	got := map[string]*Entry{}
	for _, e := range entries {
		got[e.Name] = e
	}
	for _, name := range []string{"string_parser", "go_records", "js_string_parser", "file_source"} {
		if e := got[name]; e == nil || !e.Valid() {
			t.Errorf("%s: want a valid entry, got %+v", name, e)
		}
	}
	if e := got["string_parser"]; e != nil && (e.Title != "String Parser" || e.Description == nil || e.Readme == "") {
		t.Errorf("string_parser metadata: title %q description %v readme %q", e.Title, e.Description, e.Readme)
	}
	for name, detail := range map[string]string{"nowasm": "wasm file not found", "garbage": "not", "misplaced": "bytesource"} {
		e := got[name]
		if e == nil || e.Valid() || !strings.Contains(e.Err.Error(), detail) {
			t.Errorf("%s: want an invalid entry mentioning %q, got %+v", name, detail, e)
		}
	}
	if e := got["garbage"]; e != nil && e.Title != "Garbage" {
		t.Errorf("garbage: metadata title %q, want Garbage", e.Title)
	}
	if got[".hidden"] != nil {
		t.Error("hidden directories must be skipped")
	}
}
