package component

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/chiphost/chiphost/runtime/internal/wasmbin"
	"github.com/chiphost/chiphost/wit"
)

func TestDecodeRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec compSpec
	}{
		{"nested shim component", compSpec{}},
		{"synthetic export instance", compSpec{synthetic: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin := tc.spec.bytes()
			p, err := Decode(bin)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if p.IsCoreModule || p.Main != 0 || p.Initialize != "_initialize" {
				t.Errorf("IsCoreModule=%v Main=%d Initialize=%q", p.IsCoreModule, p.Main, p.Initialize)
			}
			wantRoles := []Role{Main, Adapter, Shim, Fixup}
			if len(p.Modules) != len(wantRoles) {
				t.Fatalf("Modules = %+v", p.Modules)
			}
			for i, r := range wantRoles {
				if p.Modules[i].Role != r || p.Modules[i].Index != i {
					t.Errorf("module %d: %+v, want role %v", i, p.Modules[i], r)
				}
			}
			if p.Modules[1].Name != "wit-component:adapter:wasi_snapshot_preview1" {
				t.Errorf("adapter name %q", p.Modules[1].Name)
			}
			if len(p.Core) != p.Modules[0].Size || string(p.Core[:4]) != "\x00asm" {
				t.Errorf("Core is %d bytes, module 0 is %d", len(p.Core), p.Modules[0].Size)
			}
			if len(p.Exports) != 1 || p.Exports[0].Name != ifaceParser {
				t.Fatalf("Exports = %+v", p.Exports)
			}
			u16 := &wit.Type{Kind: wit.U16}
			bytes := &wit.Type{Kind: wit.List, Elem: &wit.Type{Kind: wit.U8}}
			want := []struct {
				lift Lift
				typ  *wit.Func
			}{
				{Lift{Name: "get-version", Core: ifaceParser + "#get-version", Memory: "memory"},
					&wit.Func{Result: &wit.Type{Kind: wit.Record, Fields: []wit.Field{{Name: "major", Type: u16}, {Name: "minor", Type: u16}, {Name: "patch", Type: u16}}}}},
				{Lift{Name: "parse", Core: ifaceParser + "#parse", Memory: "memory", Realloc: "cabi_realloc", PostReturn: "cabi_post_" + ifaceParser + "#parse"},
					&wit.Func{Params: []wit.Param{{Name: "data", Type: bytes}, {Name: "timestamp", Type: &wit.Type{Kind: wit.Option, Elem: &wit.Type{Kind: wit.U64}}}},
						Result: &wit.Type{Kind: wit.Result, Ok: bytes, Err: &wit.Type{Kind: wit.String}}}},
			}
			funcs := p.Exports[0].Funcs
			if len(funcs) != len(want) {
				t.Fatalf("%d lifts, want %d", len(funcs), len(want))
			}
			for i, w := range want {
				got := *funcs[i]
				if got.Type == nil {
					t.Fatalf("lift %s: nil type", got.Name)
				}
				if d := wit.DiffFunc(w.typ, got.Type); d != "" {
					t.Errorf("lift %s type: %s", got.Name, d)
				}
				if got.Type.Name != w.lift.Name {
					t.Errorf("lift type name %q, want %q", got.Type.Name, w.lift.Name)
				}
				got.Type = nil
				if got != w.lift {
					t.Errorf("lift %d = %+v, want %+v", i, got, w.lift)
				}
			}
			if l := p.Exports[0].Func("parse"); l == nil || l.Name != "parse" {
				t.Errorf("Export.Func(parse) = %v", l)
			}
			if len(p.Imports) != 1 || p.Imports[0].Name != ifaceLogging || len(p.Imports[0].Funcs) != 1 {
				t.Fatalf("Imports = %+v", p.Imports)
			}
			level := p.Imports[0].Types["level"]
			if level == nil || level.Kind != wit.Enum || level.Name != "level" || len(level.Cases) != 3 {
				t.Errorf("Imports[0].Types[level] = %v", level)
			}
			logFn := p.Imports[0].Funcs[0]
			if logFn.Name != "log" || len(logFn.Params) != 2 || logFn.Params[0].Type.Name != "level" || logFn.Result != nil {
				t.Errorf("log = %+v", logFn)
			}
			if len(p.CoreImports) != 2 {
				t.Fatalf("CoreImports = %+v", p.CoreImports)
			}
			if ci := p.CoreImports[0]; ci.Kind != WASI || ci.Module != "wasi_snapshot_preview1" || ci.Name != "fd_write" || ci.Lower != nil {
				t.Errorf("CoreImports[0] = %+v", ci)
			}
			ci := p.CoreImports[1]
			if ci.Kind != Lowered || ci.Lower == nil {
				t.Fatalf("CoreImports[1] = %+v", ci)
			}
			if l := ci.Lower; l.Interface != ifaceLogging || l.Func != "log" || l.Memory != "memory" || l.Realloc != "" || l.Encoding != UTF8 || l.Type != logFn && wit.DiffFunc(logFn, l.Type) != "" {
				t.Errorf("Lower = %+v", *l)
			}
		})
	}
}

// TestDecodeStringEncodings checks that the string-encoding option of each
// canon lift and canon lower reaches the plan (it was refused before
// chiphost lifted and lowered utf16 and latin1+utf16).
func TestDecodeStringEncodings(t *testing.T) {
	for _, tc := range []struct {
		lift, lower []byte
		want        [2]Encoding // parse's lift, log's lower
	}{
		{nil, nil, [2]Encoding{UTF8, UTF8}},
		{[]byte{0x01}, []byte{0x02}, [2]Encoding{UTF16, Latin1UTF16}},
		{[]byte{0x02}, []byte{0x01}, [2]Encoding{Latin1UTF16, UTF16}},
	} {
		p, err := Decode(compSpec{liftOpts: tc.lift, lowerOpts: tc.lower}.bytes())
		if err != nil {
			t.Fatalf("%v: %v", tc.want, err)
		}
		parse := p.Exports[0].Func("parse")
		if parse == nil || parse.Encoding != tc.want[0] {
			t.Errorf("%v: parse lift %+v", tc.want, parse)
		}
		if get := p.Exports[0].Func("get-version"); get == nil || get.Encoding != UTF8 {
			t.Errorf("%v: get-version lift %+v", tc.want, get)
		}
		if l := p.CoreImports[1].Lower; l == nil || l.Encoding != tc.want[1] {
			t.Errorf("%v: log lower %+v", tc.want, l)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	valid := compSpec{}.bytes()
	// unknownCanon: canon opcode 0x0c with no immediates.
	for _, tc := range []struct {
		name string
		bin  []byte
		is   error
		want string
	}{
		{"empty", nil, ErrNotWasm, "not \\0asm"},
		{"not wasm", []byte("hello, world"), ErrNotWasm, "68 65 6c 6c 6f"},
		{"bad version", []byte{0, 'a', 's', 'm', 0x0e, 0, 1, 0}, ErrNotWasm, "layer 1 version 0xe"},
		{"core version 2", []byte{0, 'a', 's', 'm', 2, 0, 0, 0}, ErrNotWasm, "layer 0 version 0x2"},
		{"truncated", valid[:len(valid)/2], ErrMalformed, "exceeds"},
		{"truncated header", append(append([]byte{}, componentPreamble...), 0x07), ErrMalformed, "type section at offset 0x8: size: truncated u32 LEB128 at offset 0x9"},
		{"leb overflow", cat(componentPreamble, []byte{0x07, 0xff, 0xff, 0xff, 0xff, 0x7f}), ErrMalformed, "u32 LEB128 overflow at offset 0x9"},
		{"leb too long", cat(componentPreamble, []byte{0x07, 0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}), ErrMalformed, "section 7 (type): truncated u32 LEB128 at offset 0xa"},
		{"vector too long", cat(componentPreamble, sec(wasmbin.CompSecType, []byte{0xff, 0xff, 0x03})), ErrMalformed, "vector of 65535 elements"},
		{"section overrun", cat(componentPreamble, []byte{0x07, 0x05, 0x00}), ErrMalformed, "exceeds"},
		{"trailing bytes", cat(componentPreamble, sec(wasmbin.CompSecType, []byte{0x00, 0x00})), ErrMalformed, "trailing bytes"},
		{"unknown section", cat(componentPreamble, sec(13, nil)), ErrMalformed, "unknown section id 13"},
		{"type index out of range", cat(componentPreamble, sec(wasmbin.CompSecType, vec([]byte{0x70, 0x05}))), ErrMalformed, "type index 5 out of range"},
		{"no lifts", cat(componentPreamble, sec(wasmbin.CompSecType, vec([]byte{0x70, 0x7d}))), ErrUnsupported, "no canon lift"},
		{"two modules with code", compSpec{secondCode: true}.bytes(), ErrUnsupported, "core module 4 (49 bytes, 1 functions) is a second module with code: composed components are not supported"},
		{"lifts from two modules", compSpec{liftOther: true}.bytes(), ErrUnsupported, "canon lifts point at core instances 9 (module 4) and 3 (module 0)"},
		{"unknown canon opcode", compSpec{extraCanon: []byte{0x0c}}.bytes(), ErrUnsupported, "canon opcode 0x0c is not supported"},
		{"async option", compSpec{liftOpts: []byte{0x06}}.bytes(), ErrUnsupported, "canon lift: option async (0x06) is not supported"},
		{"callback option", compSpec{liftOpts: []byte{0x07, 0x00}}.bytes(), ErrUnsupported, "option callback (0x07)"},
		{"two string encodings", compSpec{liftOpts: []byte{0x01, 0x00}}.bytes(), ErrMalformed, "canon lift: string-encoding given twice"},
		{"one encoding twice", compSpec{lowerOpts: []byte{0x00, 0x00}}.bytes(), ErrMalformed, "canon lower: string-encoding given twice"},
		{"two memories", compSpec{lowerOpts: []byte{0x03, 0x00}}.bytes(), ErrMalformed, "canon lower: option memory given twice"},
		{"direct p2 import", compSpec{p2Import: true, mainExtraImports: [][3]string{{"wasi:random/random@0.2.3", "get-random-bytes", "func"}}}.bytes(),
			ErrUnsupported, `core module 0: unsupported imports: "wasi:random/random@0.2.3" "get-random-bytes" (no canon lower of that function)`},
		{"all unsupported imports listed", compSpec{mainExtraImports: [][3]string{
			{"wasi:io/streams@0.2.0", "[resource-drop]output-stream", "func"},
			{"$root", "f", "func"},
			{"env", "t", "table"},
		}}.bytes(), ErrUnsupported, `unsupported imports: "wasi:io/streams@0.2.0" "[resource-drop]output-stream" (no component import of that interface at version 0.2.x), "$root" "f" (world-level function imports are not supported), "env" "t" (table import)`},
		{"undeclared function", compSpec{mainExtraImports: [][3]string{{ifaceLogging, "trace", "func"}}}.bytes(),
			ErrUnsupported, `"chipmunk:shared/logging@0.1.0" "trace" (the interface declares no such function)`},
		{"code in the outer and in a nested component", compSpec{nestedWithCore: true}.bytes(), ErrUnsupported,
			"composed component: code both in the outer component and in nested component 1 is not supported"},
		{"two nested components with code", cat(componentPreamble, sec(wasmbin.CompSecComponent, innerWithCore()), sec(wasmbin.CompSecComponent, innerWithCore())),
			ErrUnsupported, "composed component: nested components 0 and 1 both hold code (a component plugged into another): calls between the instances of two components are not supported"},
		{"nested code never instantiated", cat(componentPreamble, sec(wasmbin.CompSecComponent, innerWithCore())),
			ErrUnsupported, "composed component: nested component 0 is never instantiated"},
		{"own in export", compSpec{ownInExport: true}.bytes(), ErrUnsupported, "export parse: own<…> of a resource defined by the component is not supported"},
		{"64-bit memory", compSpec{mainMem64: true}.bytes(), ErrUnsupported, "core module 0: 64-bit memory is not supported"},
		{"two memories", compSpec{mainTwoMems: true}.bytes(), ErrUnsupported, "core module 0: 2 memories"},
		{"component start", compSpec{start: true}.bytes(), ErrUnsupported, "component start function"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Decode(tc.bin)
			if err == nil {
				t.Fatalf("Decode succeeded: %+v", p)
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error %q does not match %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant substring %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "component: ") {
				t.Errorf("error %q lacks the component: prefix", err)
			}
		})
	}
}

// TestFlattenComposed decodes a plugin nested in an outer component that
// passes its import on: the plan is the nested plugin's, under the outer
// export name; every other way of composing it is refused, naming why.
func TestFlattenComposed(t *testing.T) {
	inner := compSpec{}.bytes()
	want, err := Decode(inner)
	if err != nil {
		t.Fatal(err)
	}
	ok := composedSpec{inner: inner, outerImport: ifaceLogging, argName: ifaceLogging, exportAs: ifaceParser, instances: 1}
	got, err := Decode(ok.bytes())
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plan of the composed component:\n%+v\nwant the nested one's:\n%+v", got, want)
	}
	renamed := ok
	renamed.exportAs = "chipmunk:parser/parser@0.1.1"
	if p, err := Decode(renamed.bytes()); err != nil || p.Exports[0].Name != "chipmunk:parser/parser@0.1.1" || len(p.Exports[0].Funcs) != len(want.Exports[0].Funcs) {
		t.Errorf("export under another name: %+v, %v", p, err)
	}
	for _, tc := range []struct {
		name string
		spec composedSpec
		is   error
		want string
	}{
		{"import renamed", composedSpec{inner: inner, outerImport: "acme:log/log@1.0.0", argName: ifaceLogging, exportAs: ifaceParser, instances: 1},
			ErrUnsupported, `nested component 0 imports "chipmunk:shared/logging@0.1.0" as the outer import "acme:log/log@1.0.0": renamed imports are not supported`},
		{"import not given", composedSpec{inner: inner, outerImport: ifaceLogging, exportAs: ifaceParser, instances: 1},
			ErrMalformed, `nested component 0 imports "chipmunk:shared/logging@0.1.0", which its instantiation does not give`},
		{"instantiated twice", composedSpec{inner: inner, outerImport: ifaceLogging, argName: ifaceLogging, exportAs: ifaceParser, instances: 2},
			ErrUnsupported, "composed component: nested component 0 is instantiated more than once"},
		{"nested code refused", composedSpec{inner: compSpec{p2Import: true, mainExtraImports: [][3]string{{"wasi:random/random@0.2.3", "get-random-bytes", "func"}}}.bytes(),
			outerImport: ifaceLogging, argName: ifaceLogging, exportAs: ifaceParser, instances: 1},
			ErrUnsupported, `nested component 0: component: core module 0: unsupported imports: "wasi:random/random@0.2.3" "get-random-bytes" (no canon lower of that function)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.spec.bytes())
			if !errors.Is(err, tc.is) || !strings.Contains(fmt.Sprint(err), tc.want) {
				t.Errorf("error %v\nwant %v with %q", err, tc.is, tc.want)
			}
		})
	}
}

// innerWithCore is a nested component holding one core module.
func innerWithCore() []byte {
	return cat(componentPreamble, sec(wasmbin.CompSecCoreModule, coreSpec{start: -1, bodies: [][]byte{plainBody}}.bytes()))
}

// bareCore builds a bare core module exporting the given functions.
func bareCore(imports [][3]string, mem byte, names ...string) []byte {
	c := coreSpec{imports: imports, start: -1}
	if mem != 0xff {
		c.memories = []byte{mem}
		c.exports = append(c.exports, coreExport{"memory", kindMemory, 0})
	}
	nimp := uint32(0)
	for _, im := range imports {
		if im[2] == "func" {
			nimp++
		}
	}
	for i, n := range names {
		c.bodies = append(c.bodies, plainBody)
		c.exports = append(c.exports, coreExport{n, kindFunc, nimp + uint32(i)})
	}
	return c.bytes()
}

func TestDecodeCoreModule(t *testing.T) {
	legacy := bareCore([][3]string{{"wasi_snapshot_preview1", "fd_write", "func"}, {ifaceLogging, "log", "func"}}, 0,
		ifaceParser+"#get-version", ifaceParser+"#parse", "cabi_post_"+ifaceParser+"#parse", "cabi_realloc", "_initialize")
	std := bareCore([][3]string{{"cm32p2|chipmunk:shared/logging@0.1", "log", "func"}}, 0,
		"cm32p2|chipmunk:parser/parser@0.1|get-version", "cm32p2|chipmunk:parser/parser@0.1|parse",
		"cm32p2|chipmunk:parser/parser@0.1|parse_post", "cm32p2_realloc", "cm32p2_initialize")
	for _, tc := range []struct {
		name      string
		bin       []byte
		core, pr  string
		realloc   string
		init      string
		nImports  int
		wasiFirst bool
	}{
		{"legacy", legacy, ifaceParser + "#parse", "cabi_post_" + ifaceParser + "#parse", "cabi_realloc", "_initialize", 2, true},
		{"standard32", std, "cm32p2|chipmunk:parser/parser@0.1|parse", "cm32p2|chipmunk:parser/parser@0.1|parse_post", "cm32p2_realloc", "cm32p2_initialize", 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Decode(tc.bin)
			if err != nil {
				t.Fatal(err)
			}
			if !p.IsCoreModule || &p.Core[0] != &tc.bin[0] || p.Initialize != tc.init {
				t.Errorf("IsCoreModule=%v Initialize=%q", p.IsCoreModule, p.Initialize)
			}
			if len(p.Exports) != 1 || p.Exports[0].Name != ifaceParser || len(p.Exports[0].Funcs) != 2 {
				t.Fatalf("Exports = %+v", p.Exports)
			}
			l := p.Exports[0].Func("parse")
			if l == nil || l.Core != tc.core || l.PostReturn != tc.pr || l.Realloc != tc.realloc || l.Memory != "memory" || l.Type != nil {
				t.Errorf("parse = %+v", l)
			}
			if gv := p.Exports[0].Func("get-version"); gv == nil || gv.PostReturn != "" {
				t.Errorf("get-version = %+v", gv)
			}
			if len(p.CoreImports) != tc.nImports {
				t.Fatalf("CoreImports = %+v", p.CoreImports)
			}
			last := p.CoreImports[len(p.CoreImports)-1]
			if last.Kind != Lowered || last.Lower.Interface != ifaceLogging || last.Lower.Func != "log" || last.Lower.Realloc != tc.realloc {
				t.Errorf("log import = %+v %+v", last, last.Lower)
			}
			if tc.wasiFirst && p.CoreImports[0].Kind != WASI {
				t.Errorf("CoreImports[0] = %+v", p.CoreImports[0])
			}
		})
	}
	for _, tc := range []struct {
		name string
		bin  []byte
		want string
	}{
		{"no memory", bareCore(nil, 0xff, ifaceParser+"#parse"), "exports no memory"},
		{"no functions", bareCore(nil, 0, "foo"), "exports no canonical-ABI functions"},
		{"unsupported import", bareCore([][3]string{{"env", "f", "func"}, {"wasi:io/streams@0.2.0", "[resource-drop]output-stream", "func"}, {"wasi:io/streams@0.3.0", "x", "func"}}, 0, ifaceParser+"#parse"),
			`unsupported imports: "env" "f", "wasi:io/streams@0.3.0" "x"`},
		{"memory64", bareCore(nil, 0x04, ifaceParser+"#parse"), "64-bit memory"},
		{"truncated", legacy[:len(legacy)-3], "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.bin)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
