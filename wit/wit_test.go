package wit

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/chiphost/chiphost/internal/testutil"
)

func TestLoadV010(t *testing.T) {
	res, err := Load("0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	var pkgs []string
	for _, p := range res.Packages {
		pkgs = append(pkgs, p.Name)
	}
	wantPkgs := []string{"chipmunk:bytesource@0.1.0", "chipmunk:parser@0.1.0", "chipmunk:plugins", "chipmunk:shared@0.1.0"}
	if !slices.Equal(pkgs, wantPkgs) {
		t.Errorf("packages = %v, want %v", pkgs, wantPkgs)
	}

	iface := func(q string) *Interface {
		t.Helper()
		i := res.Interface(q)
		if i == nil {
			t.Fatalf("interface %s not found", q)
		}
		return i
	}
	fn := func(q, name string) *Func {
		t.Helper()
		f := iface(q).Func(name)
		if f == nil {
			t.Fatalf("%s has no func %s", q, name)
		}
		return f
	}
	sig := func(f *Func) string {
		var ps []string
		for _, p := range f.Params {
			ps = append(ps, p.Name+": "+p.Type.String())
		}
		s := f.Name + "(" + strings.Join(ps, ", ") + ")"
		if f.Result != nil {
			s += " -> " + f.Result.String()
		}
		return s
	}
	const parser, source, shared = "chipmunk:parser/parser@0.1.0", "chipmunk:bytesource/byte-source@0.1.0", "chipmunk:shared/shared-types@0.1.0"
	sigs := []struct {
		iface, fn, want string
	}{
		{parser, "parse", "parse(data: list<u8>, timestamp: option<u64>) -> result<list<parse-return>, parse-error>"},
		{parser, "init", "init(general-configs: parser-config, plugin-configs: list<config-item>) -> result<_, init-error>"},
		{parser, "get-version", "get-version() -> version"},
		{parser, "get-config-schemas", "get-config-schemas() -> list<config-schema-item>"},
		{parser, "get-render-options", "get-render-options() -> render-options"},
		{source, "read", "read(len: u64) -> result<list<u8>, source-error>"},
		{source, "init", "init(general-configs: source-config, plugin-configs: list<config-item>) -> result<_, init-error>"},
		{"chipmunk:shared/logging@0.1.0", "log", "log(level: level, msg: string)"},
		{"chipmunk:shared/sandbox@0.1.0", "temp-directory", "temp-directory() -> result<string, string>"},
	}
	for _, c := range sigs {
		if got := sig(fn(c.iface, c.fn)); got != c.want {
			t.Errorf("%s: got %s, want %s", c.iface, got, c.want)
		}
	}

	parse := fn(parser, "parse")
	if k := parse.Params[0].Type.Kind; k != List || parse.Params[0].Type.Elem.Kind != U8 {
		t.Errorf("parse data: got %s, want list<u8>", parse.Params[0].Type)
	}
	if ret := parse.Result.Ok.Elem; ret.Kind != Record || ret.Fields[0].Type.Elem.Name != "parse-yield" {
		t.Errorf("parse-return: got %s", ret.Structure())
	}

	cst := iface(shared).Types["config-schema-type"]
	var cases []string
	for _, c := range cst.Cases {
		cases = append(cases, c.Name)
	}
	if want := []string{"boolean", "integer", "float", "text", "directories", "files", "dropdown"}; !slices.Equal(cases, want) {
		t.Errorf("config-schema-type cases = %v, want %v", cases, want)
	}
	if c := cst.Cases[4]; c.Type != nil {
		t.Errorf("directories payload = %s, want none", c.Type)
	}
	if got := cst.Cases[6].Type.String(); got != "tuple<list<string>, string>" {
		t.Errorf("dropdown payload = %s", got)
	}

	level := iface("chipmunk:shared/logging@0.1.0").Types["level"]
	var levels []string
	for _, c := range level.Cases {
		levels = append(levels, c.Name)
	}
	if level.Kind != Enum || !slices.Equal(levels, []string{"error", "warn", "info", "debug", "trace"}) {
		t.Errorf("level = %s", level.Structure())
	}
	// A used type is the very descriptor of its definition.
	if got := iface("chipmunk:parser/parse-types@0.1.0").Types["level"]; got != level {
		t.Errorf("parse-types level is a copy, want the logging definition")
	}
	if got := iface(parser).Types["version"]; got != iface(shared).Types["version"] {
		t.Errorf("parser version is a copy, want the shared-types definition")
	}

	for _, w := range []struct{ world, export string }{
		{"chipmunk:parser/parse@0.1.0", parser},
		{"chipmunk:bytesource/bytesource@0.1.0", source},
	} {
		wd := res.World(w.world)
		if wd == nil {
			t.Fatalf("world %s not found", w.world)
		}
		if got, want := names(wd.Imports), []string{"chipmunk:shared/logging@0.1.0", "chipmunk:shared/sandbox@0.1.0"}; !slices.Equal(got, want) {
			t.Errorf("%s imports %v, want %v", w.world, got, want)
		}
		if got := names(wd.Exports); !slices.Equal(got, []string{w.export}) {
			t.Errorf("%s exports %v, want %s", w.world, got, w.export)
		}
	}
	if got := names(res.World("chipmunk:plugins/bindings").Imports); len(got) != 3 {
		t.Errorf("chipmunk:plugins/bindings imports %v, want the three shared interfaces (through include)", got)
	}
}

func names(is []*Interface) []string {
	var s []string
	for _, i := range is {
		s = append(s, i.QualifiedName())
	}
	return s
}

func TestVersions(t *testing.T) {
	if got := Versions(); !slices.Contains(got, "0.1.0") {
		t.Errorf("Versions() = %v, want it to contain 0.1.0", got)
	}
	if _, err := Load("9.9.9"); err == nil || !strings.Contains(err.Error(), `"9.9.9"`) {
		t.Errorf("Load(9.9.9) error = %v, want unknown version", err)
	}
}

// referenceDir returns the directory of Chipmunk's own WIT files that the embedded WIT
// is compared with: $CHIPHOST_SHARED/chipmunk-wit/v0.1.0 when set, else
// chipmunk-wit/v0.1.0 in the "shared" directory beside the repository root, which is
// where CI provides it (whatever the name of the checkout or worktree).
func referenceDir(t *testing.T) string {
	const rel = "chipmunk-wit/v0.1.0"
	if s := os.Getenv("CHIPHOST_SHARED"); s != "" {
		return filepath.Join(s, rel)
	}
	return filepath.Join(filepath.Dir(testutil.RepoRoot(t)), "shared", rel)
}

// TestEquivalentToReference is not optional: a missing reference fails the test, so
// that CI cannot pass without comparing.
func TestEquivalentToReference(t *testing.T) {
	ours, err := Load("0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	ourFS, err := fs.Sub(FS(), "v0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	compareWithReference(t, referenceDir(t), ours, ourFS)
}

// TestProducerDraftEquivalentToReference compares the producer draft layout
// with the reference copy of upstream's draft (chipmunk-wit-draft-2306 beside
// chipmunk-wit): the same packages, interfaces, types, functions and worlds.
func TestProducerDraftEquivalentToReference(t *testing.T) {
	ours, err := LoadProducerDraft()
	if err != nil {
		t.Fatal(err)
	}
	ourFS, err := fs.Sub(DraftFS(), ProducerDraftDir)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(filepath.Dir(filepath.Dir(referenceDir(t))), "chipmunk-wit-draft-2306", "v0.1.0")
	compareWithReference(t, dir, ours, ourFS)
	prod := ours.World("chipmunk:producer/produce@0.1.0")
	if prod == nil || len(prod.Exports) != 1 || prod.Exports[0].QualifiedName() != "chipmunk:producer/producer@0.1.0" {
		t.Fatalf("producer world = %+v, want one export chipmunk:producer/producer@0.1.0", prod)
	}
	if ours.Interface("chipmunk:shared/shared-types@0.1.0").Types["column-info"] == nil {
		t.Error("column-info is not in chipmunk:shared/shared-types in the draft layout")
	}
}

// compareWithReference checks that ours (parsed from ourFS) declares what the
// reference WIT directory dir declares, with comments of our own.
func compareWithReference(t *testing.T, dir string, ours *Resolve, ourFS fs.FS) {
	t.Helper()
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Fatalf("reference copy of Chipmunk's WIT not found at %s (%v); set CHIPHOST_SHARED to the directory that holds it", dir, err)
	}
	ref, err := Parse(os.DirFS(dir), ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(ref.Packages) != len(ours.Packages) {
		t.Fatalf("%d packages, reference has %d", len(ours.Packages), len(ref.Packages))
	}
	for i, rp := range ref.Packages {
		op := ours.Packages[i]
		if op.Name != rp.Name {
			t.Fatalf("package %d is %s, reference has %s", i, op.Name, rp.Name)
		}
		if got, want := names(op.Interfaces), names(rp.Interfaces); !slices.Equal(got, want) {
			t.Errorf("%s interfaces %v, reference %v", op.Name, got, want)
		}
		for _, ri := range rp.Interfaces {
			oi := op.Interface(ri.Name)
			if oi == nil {
				continue
			}
			q := ri.QualifiedName()
			if !slices.Equal(oi.TypeNames, ri.TypeNames) {
				t.Errorf("%s types %v, reference %v", q, oi.TypeNames, ri.TypeNames)
			}
			for _, n := range ri.TypeNames {
				if ot := oi.Types[n]; ot == nil {
					t.Errorf("%s: missing type %s", q, n)
				} else if d := Diff(ri.Types[n], ot); d != "" || ot.String() != ri.Types[n].String() {
					t.Errorf("%s type %s: %s (ours %s, reference %s)", q, n, d, ot.Structure(), ri.Types[n].Structure())
				}
			}
			if got, want := funcNames(oi), funcNames(ri); !slices.Equal(got, want) {
				t.Errorf("%s funcs %v, reference %v", q, got, want)
			}
			for _, rf := range ri.Funcs {
				of := oi.Func(rf.Name)
				if of == nil {
					continue
				}
				if d := DiffFunc(rf, of); d != "" {
					t.Errorf("%s.%s: %s", q, rf.Name, d)
				}
				for j := range rf.Params {
					if j < len(of.Params) && of.Params[j].Name != rf.Params[j].Name {
						t.Errorf("%s.%s parameter %d is %s, reference %s", q, rf.Name, j, of.Params[j].Name, rf.Params[j].Name)
					}
				}
			}
		}
		var ow, rw []string
		for _, w := range op.Worlds {
			ow = append(ow, w.QualifiedName()+" import "+strings.Join(names(w.Imports), ",")+" export "+strings.Join(names(w.Exports), ","))
		}
		for _, w := range rp.Worlds {
			rw = append(rw, w.QualifiedName()+" import "+strings.Join(names(w.Imports), ",")+" export "+strings.Join(names(w.Exports), ","))
		}
		if !slices.Equal(ow, rw) {
			t.Errorf("%s worlds\n ours      %q\n reference %q", op.Name, ow, rw)
		}
	}

	// The doc comments are ours: no comment line longer than a few words may
	// be copied from the reference.
	refComments := commentLines(t, os.DirFS(dir))
	ourComments := commentLines(t, ourFS)
	if len(ourComments) == 0 {
		t.Fatal("our WIT files have no comments")
	}
	for c, where := range ourComments {
		if len(strings.Fields(c)) > 3 && refComments[c] != "" {
			t.Errorf("%s: comment %q is copied from the reference (%s)", where, c, refComments[c])
		}
	}
}

func funcNames(i *Interface) []string {
	var s []string
	for _, f := range i.Funcs {
		s = append(s, f.Name)
	}
	return s
}

// commentLines maps each comment text in the .wit files of fsys to one place it occurs.
func commentLines(t *testing.T, fsys fs.FS) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".wit") {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		for n, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if strings.HasPrefix(line, "//") {
				text := strings.TrimSpace(strings.TrimLeft(line, "/"))
				if text != "" {
					m[text] = p + ":" + strconv.Itoa(n+1)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// witFS builds a WIT directory: the root package in world.wit plus deps.
func witFS(files map[string]string) fs.FS {
	m := fstest.MapFS{}
	for name, src := range files {
		m[name] = &fstest.MapFile{Data: []byte(src)}
	}
	return m
}

func TestParseErrors(t *testing.T) {
	const dep = "package a:dep@1.0.0;\ninterface types {\n  record r { x: u8 }\n}\n"
	tests := []struct {
		name  string
		files map[string]string
		want  []string // substrings of the error
	}{
		{
			name:  "missing semicolon",
			files: map[string]string{"x.wit": "package a:b;\ninterface i {\n  f: func()\n}\n"},
			want:  []string{"x.wit:4:1:", `expected ";"`},
		},
		{
			name:  "unexpected character",
			files: map[string]string{"x.wit": "package a:b;\ninterface i {\n  f: func() -> u8 $\n}\n"},
			want:  []string{"x.wit:3:19:", `unexpected character '$'`},
		},
		{
			name:  "keyword as name",
			files: map[string]string{"x.wit": "package a:b;\ninterface i {\n  record type { x: u8 }\n}\n"},
			want:  []string{"x.wit:3:10:", `keyword "type"`},
		},
		{
			name:  "invalid identifier",
			files: map[string]string{"x.wit": "package a:b;\ninterface fooBar {}\n"},
			want:  []string{"x.wit:2:11:", `"fooBar"`},
		},
		{
			name:  "unterminated comment",
			files: map[string]string{"x.wit": "package a:b;\n/* open /* nested */\ninterface i {}\n"},
			want:  []string{"x.wit:2:1:", "unterminated block comment"},
		},
		{
			name:  "unknown type",
			files: map[string]string{"world.wit": "package a:b;\n", "deps/parser/types.wit": "package chipmunk:parser@0.1.0;\n\ninterface t {\n  record r {\n    value: option<parse-yeild>,\n  }\n}\n"},
			want:  []string{"wit: deps/parser/types.wit:5:19:", `unknown type "parse-yeild"`},
		},
		{
			name:  "unknown type in function",
			files: map[string]string{"x.wit": "package a:b;\ninterface i {\n  f: func(x: list<nope>);\n}\n"},
			want:  []string{"x.wit:3:19:", `unknown type "nope"`},
		},
		{
			name:  "unknown use interface",
			files: map[string]string{"x.wit": "package a:b;\ninterface i {\n  use missing.{t};\n}\n"},
			want:  []string{"x.wit:3:7:", `unknown interface "missing"`},
		},
		{
			name:  "unknown use package",
			files: map[string]string{"x.wit": "package a:b;\ninterface i {\n  use a:nope/types@1.0.0.{r};\n}\n"},
			want:  []string{"x.wit:3:7:", `unknown package "a:nope@1.0.0"`},
		},
		{
			name:  "unknown used type",
			files: map[string]string{"x.wit": "package a:b;\ninterface i {\n  use a:dep/types@1.0.0.{r, s};\n}\n", "deps/dep/t.wit": dep},
			want:  []string{"x.wit:3:29:", `unknown type "s"`, "a:dep/types@1.0.0"},
		},
		{
			name:  "unknown world import",
			files: map[string]string{"x.wit": "package a:b;\nworld w {\n  import a:dep/logging@1.0.0;\n}\n", "deps/dep/t.wit": dep},
			want:  []string{"x.wit:3:10:", `"a:dep/logging@1.0.0"`},
		},
		{
			name:  "duplicate type",
			files: map[string]string{"x.wit": "package a:b;\ninterface i {\n  enum e { a }\n  record e { x: u8 }\n}\n"},
			want:  []string{"x.wit:4:10:", `duplicate type "e"`, "x.wit:3"},
		},
		{
			name:  "duplicate used and defined type",
			files: map[string]string{"x.wit": "package a:b;\ninterface i {\n  use a:dep/types@1.0.0.{r};\n  flags r { x }\n}\n", "deps/dep/t.wit": dep},
			want:  []string{"x.wit:4:9:", `duplicate type "r"`},
		},
		{
			name:  "duplicate function",
			files: map[string]string{"x.wit": "package a:b;\ninterface i {\n  f: func();\n  f: func(x: u8);\n}\n"},
			want:  []string{"x.wit:4:3:", `duplicate function "f"`},
		},
		{
			name:  "duplicate field",
			files: map[string]string{"x.wit": "package a:b;\ninterface i {\n  record r {\n    x: u8,\n    x: u16,\n  }\n}\n"},
			want:  []string{"x.wit:5:5:", `duplicate field "x"`},
		},
		{
			name:  "duplicate case",
			files: map[string]string{"x.wit": "package a:b;\ninterface i {\n  variant v { a, b(u8), a }\n}\n"},
			want:  []string{"x.wit:3:25:", `duplicate case "a"`},
		},
		{
			name:  "duplicate parameter",
			files: map[string]string{"x.wit": "package a:b;\ninterface i {\n  f: func(a: u8, a: u8);\n}\n"},
			want:  []string{"x.wit:3:18:", `duplicate parameter "a"`},
		},
		{
			name:  "duplicate interface across files",
			files: map[string]string{"a.wit": "package a:b;\ninterface i {}\n", "b.wit": "package a:b;\n\nworld i {}\n"},
			want:  []string{"b.wit:3:7:", `duplicate name "i"`, "a.wit:2"},
		},
		{
			name:  "package mismatch",
			files: map[string]string{"a.wit": "package a:b;\n", "b.wit": "package a:c;\n"},
			want:  []string{"b.wit:1:1:", `"a:c"`, `"a:b"`},
		},
		{
			name:  "recursive type",
			files: map[string]string{"x.wit": "package a:b;\ninterface i {\n  record node { next: option<node> }\n}\n"},
			want:  []string{"x.wit:3:10:", `type "node" refers to itself`},
		},
		{
			name:  "unknown resource",
			files: map[string]string{"x.wit": "package a:b;\ninterface i {\n  f: func(b: borrow<blob>);\n}\n"},
			want:  []string{"x.wit:3:14:", `unknown resource "blob"`},
		},
		{
			name:  "handle to a record",
			files: map[string]string{"x.wit": "package a:b;\ninterface i {\n  record r { x: u8 }\n  f: func(b: own<r>);\n}\n"},
			want:  []string{"x.wit:4:14:", `"r" is a record, not a resource`},
		},
		{
			name:  "static outside a resource",
			files: map[string]string{"x.wit": "package a:b;\ninterface i {\n  f: static func();\n}\n"},
			want:  []string{"x.wit:3:3:", `static function "f" outside a resource`},
		},
		{
			name:  "stream",
			files: map[string]string{"x.wit": "package a:b;\ninterface i {\n  f: func() -> stream<u8>;\n}\n"},
			want:  []string{"x.wit:3:16:", "stream types are not supported"},
		},
		{
			name:  "async function",
			files: map[string]string{"x.wit": "package a:b;\ninterface i {\n  fetch: async func();\n}\n"},
			want:  []string{"x.wit:3:10:", "async functions are not supported", `"fetch"`},
		},
		{
			name:  "include cycle",
			files: map[string]string{"x.wit": "package a:b;\nworld w {\n  include v;\n}\nworld v {\n  include w;\n}\n"},
			want:  []string{"x.wit:", "includes itself"},
		},
		{
			name:  "no package",
			files: map[string]string{"x.wit": "interface i {}\n"},
			want:  []string{"x.wit:1:1:", "no package declaration"},
		},
		{
			name:  "bad version",
			files: map[string]string{"x.wit": "package a:b@1.0;\n"},
			want:  []string{"x.wit:1:13:", "semantic version", "1.0"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(witFS(tc.files), ".")
			if err == nil {
				t.Fatalf("Parse succeeded, want an error containing %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			var e *Error
			if !strings.HasPrefix(err.Error(), "wit: ") || !errors.As(err, &e) || e.Line == 0 {
				t.Errorf("error %q is not a positioned *Error with prefix \"wit: \"", err)
			}
		})
	}
}

// TestResources checks that a resource's members become functions with the
// component-level names and the implicit self and constructor result, that
// a bare resource name is an owning handle, and that a resource used from
// another interface is the same type.
func TestResources(t *testing.T) {
	const src = `package a:b@0.2.0;
interface poll {
  resource pollable {
    ready: func() -> bool;
    block: func();
  }
  poll: func(in: list<borrow<pollable>>) -> list<u32>;
}
interface streams {
  use poll.{pollable};
  resource input-stream {
    constructor(n: u32);
    subscribe: func() -> pollable;
    merge: static func(a: own<input-stream>, b: input-stream) -> input-stream;
  }
}
`
	res, err := Parse(witFS(map[string]string{"x.wit": src}), ".")
	if err != nil {
		t.Fatal(err)
	}
	poll, streams := res.Interface("a:b/poll@0.2.0"), res.Interface("a:b/streams@0.2.0")
	pollable := poll.Types["pollable"]
	if pollable.Kind != Resource || pollable.Owner != "a:b/poll@0.2.0" || streams.Types["pollable"] != pollable {
		t.Fatalf("pollable = %+v, used as %+v", pollable, streams.Types["pollable"])
	}
	want := map[string]string{
		"[method]pollable.ready":         "(self: borrow<pollable>) -> bool",
		"[method]pollable.block":         "(self: borrow<pollable>) -> _",
		"poll":                           "(in: list<borrow<pollable>>) -> list<u32>",
		"[constructor]input-stream":      "(n: u32) -> own<input-stream>",
		"[method]input-stream.subscribe": "(self: borrow<input-stream>) -> own<pollable>",
		"[static]input-stream.merge":     "(a: own<input-stream>, b: own<input-stream>) -> own<input-stream>",
	}
	got := map[string]string{}
	for _, it := range []*Interface{poll, streams} {
		for _, f := range it.Funcs {
			var ps []string
			for _, p := range f.Params {
				ps = append(ps, p.Name+": "+p.Type.String())
			}
			got[f.Name] = "(" + strings.Join(ps, ", ") + ") -> " + f.Result.String()
		}
	}
	for name, sig := range want {
		if got[name] != sig {
			t.Errorf("%s: got %q, want %q", name, got[name], sig)
		}
	}
	if len(got) != len(want) {
		t.Errorf("functions %v, want %d", got, len(want))
	}
	sub := streams.Func("[method]input-stream.subscribe")
	if sub.Result.Elem != pollable {
		t.Errorf("subscribe returns a handle to %p, want pollable %p", sub.Result.Elem, pollable)
	}
	if d := Diff(sub.Result, &Type{Kind: Borrow, Elem: pollable}); d == "" {
		t.Error("Diff says own and borrow are equal")
	}
}

func TestParseSyntax(t *testing.T) {
	const src = `package test:all@1.2.3-rc.1;

use test:all/base@1.2.3-rc.1 as b;

/** block doc */
interface base {
  /* a /* nested */ comment */
  type bytes = list<u8>;
  flags perms { read, write, %exec }
  record %record { %type: u32 }
}

interface all {
  use b.{bytes, perms as p, %record};
  @since(version = 1.2.3)
  type pair = tuple<s8, s16, s32, s64, f32, f64, char, bool, string>;
  type r0 = result;
  type r1 = result<u8>;
  type r2 = result<_, string>;
  type r3 = result<u8, string>;
  type opt = option<option<bytes>>;
  enum e { A-B, c9 }
  f: func(a: p, b: %record, c: pair,) -> r3;
  g: func();
}

world w {
  import all;
  import inline: interface { h: func(x: u8) -> u8; }
  export test:all/base@1.2.3-rc.1;
}

world w2 {
  include w with { inline as other }
}
`
	res, err := Parse(witFS(map[string]string{"all.wit": src}), ".")
	if err != nil {
		t.Fatal(err)
	}
	all := res.Interface("test:all/all@1.2.3-rc.1")
	if all == nil {
		t.Fatal("interface all not found")
	}
	tests := []struct{ name, want string }{
		{"bytes", "list<u8>"},
		{"p", "flags { read, write, exec }"},
		{"record", "record { type: u32 }"},
		{"pair", "tuple<s8, s16, s32, s64, f32, f64, char, bool, string>"},
		{"r0", "result"},
		{"r1", "result<u8>"},
		{"r2", "result<_, string>"},
		{"r3", "result<u8, string>"},
		{"opt", "option<option<bytes>>"},
		{"e", "enum { A-B, c9 }"},
	}
	for _, tc := range tests {
		typ := all.Types[tc.name]
		if typ == nil {
			t.Errorf("type %s missing", tc.name)
			continue
		}
		if got := typ.Structure(); got != tc.want {
			t.Errorf("type %s = %s, want %s", tc.name, got, tc.want)
		}
	}
	if got := all.Types["p"]; got != res.Interface("test:all/base@1.2.3-rc.1").Types["perms"] {
		t.Errorf("renamed use p is not the perms descriptor")
	}
	if f := all.Func("f"); f == nil || len(f.Params) != 3 || f.Params[1].Name != "b" || f.Result.Name != "r3" {
		t.Errorf("func f = %+v", f)
	}
	if g := all.Func("g"); g == nil || g.Result != nil || len(g.Params) != 0 {
		t.Errorf("func g = %+v", g)
	}
	w2 := res.World("test:all/w2@1.2.3-rc.1")
	if w2 == nil {
		t.Fatal("world w2 not found")
	}
	if got := names(w2.Imports); !slices.Equal(got, []string{"test:all/all@1.2.3-rc.1", "inline"}) {
		t.Errorf("w2 imports %v", got)
	}
	if got := names(w2.Exports); !slices.Equal(got, []string{"test:all/base@1.2.3-rc.1"}) {
		t.Errorf("w2 exports %v", got)
	}
	if h := w2.Imports[1].Func("h"); h == nil || h.Result.Kind != U8 {
		t.Errorf("inline interface func h = %+v", h)
	}
}

func FuzzParse(f *testing.F) {
	err := fs.WalkDir(FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(FS(), p)
		f.Add(string(b))
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("package a:b;\ninterface i { use a:b/j.{t as u}; type x = result<_, tuple<u8, list<option<u>>>>; }\ninterface j { variant t { a(string), b } }\nworld w { import i; export j; include w2; }\nworld w2 { import x: interface { f: func(); } }\n")
	f.Fuzz(func(t *testing.T, src string) {
		res, err := Parse(witFS(map[string]string{"a.wit": src}), ".")
		if err == nil {
			for _, p := range res.Packages {
				for _, i := range p.Interfaces {
					for _, n := range i.TypeNames {
						_ = i.Types[n].String()
					}
				}
			}
			return
		}
		var e *Error
		if errors.As(err, &e) && (e.Line < 1 || e.Col < 1) {
			t.Errorf("error %q has a bad position", err)
		}
	})
}

// TestLoadWASI parses the embedded WASI 0.2 WIT and spot-checks the shapes
// the canonical ABI depends on.
func TestLoadWASI(t *testing.T) {
	res, err := LoadWASI()
	if err != nil {
		t.Fatal(err)
	}
	w := res.World("chiphost:wasip2/host")
	if w == nil || len(w.Imports) != 27 {
		t.Fatalf("world chiphost:wasip2/host: %+v", w)
	}
	checks := map[string]string{
		"wasi:io/poll@0.2.0 poll":                                "list<u32>",
		"wasi:io/streams@0.2.0 [method]output-stream.write":      "result<_, stream-error>",
		"wasi:clocks/monotonic-clock@0.2.0 subscribe-duration":   "own<pollable>",
		"wasi:filesystem/preopens@0.2.0 get-directories":         "list<tuple<own<descriptor>, string>>",
		"wasi:filesystem/types@0.2.0 [method]descriptor.open-at": "result<own<descriptor>, error-code>",
		"wasi:cli/terminal-stdout@0.2.0 get-terminal-stdout":     "option<own<terminal-output>>",
		"wasi:sockets/tcp-create-socket@0.2.0 create-tcp-socket": "result<own<tcp-socket>, error-code>",
		"wasi:sockets/udp@0.2.0 [method]udp-socket.stream":       "result<tuple<own<incoming-datagram-stream>, own<outgoing-datagram-stream>>, error-code>",
	}
	for q, want := range checks {
		iface, fn, _ := strings.Cut(q, " ")
		f := res.Interface(iface).Func(fn)
		if f == nil || f.Result.String() != want {
			t.Errorf("%s: %+v, want result %s", q, f, want)
		}
	}
}
