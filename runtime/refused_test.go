package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	. "github.com/chiphost/chiphost/runtime"
)

// TestRefusedImportsFixtures loads the committed component that imports
// WASI 0.2 interfaces chiphost does not serve (componentize-js, default
// features: wasi:http on): the error is one summary line (plugin, kind of
// import, count), the imports by interface with their versions, then the
// componentize-js hint its producers section calls for.
func TestRefusedImportsFixtures(t *testing.T) {
	h := newTestHost(t, nil)
	tests := []struct {
		path    string
		summary string
		groups  []string
	}{
		{"negative/p2_imports.wasm", "plugin p2_imports: load: unsupported: 36 WASI 0.2 imports that chiphost does not provide (2 interfaces)", []string{
			"wasi:http/types@0.2.10: fields{constructor, from-list, get, has, set, delete, append, entries, clone}, incoming-request{method, path-with-query, scheme, authority, headers, consume}, outgoing-request{constructor, body, set-method, set-path-with-query, set-scheme, set-authority, headers}, response-outparam{set}, incoming-response{status, headers, consume}, incoming-body{stream}, outgoing-response{constructor, set-status-code, headers, body}, outgoing-body{write, finish}, future-incoming-response{subscribe, get}",
			"wasi:http/outgoing-handler@0.2.10: handle",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			_, err := h.Load(context.Background(), fixture(t, tc.path))
			var ie *ImportsError
			if KindOf(err) != KindUnsupported || !errors.As(err, &ie) {
				t.Fatalf("got %v, want an unsupported *ImportsError", err)
			}
			lines := strings.Split(err.Error(), "\n")
			if lines[0] != tc.summary || len(lines[0]) > 300 {
				t.Errorf("first line %q, want %q (at most 300 bytes)", lines[0], tc.summary)
			}
			want := append([]string{tc.summary}, prefixed("  ", tc.groups)...)
			want = append(want, "hint: built with componentize-js? disable the http and fetch-event features (-d http fetch-event); -d http alone still imports wasi:http/types")
			if got := strings.Join(lines, "\n"); got != strings.Join(want, "\n") {
				t.Errorf("message:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
			}
			if n := len(ie.Groups()); n != len(tc.groups) {
				t.Errorf("%d groups, want %d", n, len(tc.groups))
			}
		})
	}
}

func prefixed(p string, lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = p + l
	}
	return out
}

// TestImportsErrorFormat pins the summary of mixed kinds, the grouping by
// interface and reason, and which hint each toolchain gets.
func TestImportsErrorFormat(t *testing.T) {
	js := Toolchain{Languages: []string{"JavaScript"}, ProcessedBy: []string{"wit-component 0.259.0", "ComponentizeJS 0.23.0"}}
	rust := Toolchain{Languages: []string{"Rust"}, ProcessedBy: []string{"wit-component 0.227.1"}}
	http := []RefusedImport{{Interface: "wasi:http/types@0.2.3", Name: "[constructor]fields"}, {Interface: "wasi:http/outgoing-handler@0.2.3", Name: "handle"}}
	cli := []RefusedImport{{Interface: "wasi:cli/environment@0.2.0", Name: "get-environment"}}
	tests := []struct {
		name    string
		err     ImportsError
		summary string
		hint    string
	}{
		{"js http only", ImportsError{Imports: http, Toolchain: js},
			"2 WASI 0.2 imports that chiphost does not provide (2 interfaces)", "(-d http fetch-event)"},
		{"js all wasi", ImportsError{Imports: append(cli, http...), Toolchain: js},
			"3 WASI 0.2 imports that chiphost does not provide (3 interfaces)", "not the interfaces above: disable the features that import them"},
		{"rust", ImportsError{Imports: cli, Toolchain: rust},
			"1 WASI 0.2 import that chiphost does not provide (1 interface)", "build for wasm32-wasip1"},
		{"unknown toolchain", ImportsError{Imports: cli},
			"1 WASI 0.2 import that chiphost does not provide (1 interface)", "WASI preview 1 (through the adapter) and WASI 0.2 cli"},
		{"mixed kinds", ImportsError{Imports: []RefusedImport{
			{Interface: "wasi:cli/environment@0.3.0", Name: "get-environment"},
			{Interface: "chipmunk:shared/logging@0.1.0", Name: "log2"},
			{Interface: "acme:kv/store@1.0.0", Name: "[method]bucket.get", Reason: "resources are not supported"},
			{Name: "hello", Reason: "world-level function imports are not supported"},
		}}, "4 imports that chiphost does not provide (1 WASI 0.3, 1 Chipmunk API, 1 other, 1 world-level; 4 interfaces)", "not the interfaces above: build without them"},
		{"no hint without WASI", ImportsError{Imports: []RefusedImport{{Interface: "chipmunk:shared/logging@0.1.0", Name: "log2"}}, Toolchain: js},
			"1 Chipmunk API import that chiphost does not provide (1 interface)", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Summary(); got != tc.summary {
				t.Errorf("summary %q, want %q", got, tc.summary)
			}
			if got := tc.err.Hint(); (tc.hint == "") != (got == "") || !strings.Contains(got, tc.hint) {
				t.Errorf("hint %q, want one with %q", got, tc.hint)
			}
		})
	}
	mixed := tests[4].err.Error()
	for _, line := range []string{
		"\n  acme:kv/store@1.0.0: bucket{get} (resources are not supported)\n",
		"\n  world: hello (world-level function imports are not supported)\n",
	} {
		if !strings.Contains(mixed, line) {
			t.Errorf("%q lacks %q", mixed, line)
		}
	}
}

// TestImportsErrorBounded: a binary with thousands of imports, huge names
// or control characters in them gets a message of bounded size whose lines
// stay lines.
func TestImportsErrorBounded(t *testing.T) {
	var ims []RefusedImport
	for i := 0; i < 5000; i++ {
		ims = append(ims, RefusedImport{Interface: fmt.Sprintf("acme:x/i%d@1.0.0", i%100), Name: strings.Repeat("f", 1<<12) + "\nhint: fake"})
	}
	msg := (&ImportsError{Imports: ims}).Error()
	lines := strings.Split(msg, "\n")
	if len(msg) > 50_000 || len(lines) != 2+40 || lines[41] != "  … 60 more" || strings.Contains(msg, "hint:") {
		t.Errorf("%d bytes, %d lines (want 42, the last \"  … 60 more\", no injected line); first lines %q", len(msg), len(lines), lines[:2])
	}
	if lines[0] != "5000 other imports that chiphost does not provide (100 interfaces)" {
		t.Errorf("summary %q", lines[0])
	}
}
