package component

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/chiphost/chiphost/runtime/internal/wasmbin"
)

// TestCoreEncodingsFollowTheSpec: the core modules of a component are read
// with the shared toolkit, so limits, global types and import descriptors
// follow the spec's encodings. Before, the component decoder skipped limits
// bounds as any LEB128 of up to 10 bytes and took any global mutability byte.
func TestCoreEncodingsFollowTheSpec(t *testing.T) {
	plain := bareCore(nil, 0, ifaceParser+"#parse")
	for _, tc := range []struct {
		name  string
		extra []byte // a section appended to a valid bare module
		want  string
	}{
		{"32-bit memory bound above 2^32", sec(wasmbin.SecMemory, vec([]byte{0x00, 0x80, 0x80, 0x80, 0x80, 0x10})),
			"core section 5 (memory): minimum: u32 LEB128 overflow"},
		{"overlong 32-bit memory bound", sec(wasmbin.SecMemory, vec([]byte{0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00})),
			"minimum: u32 LEB128 overflow"},
		{"global mutability 2", sec(wasmbin.SecImport, vec(cat(str("env"), str("g"), []byte{0x03, 0x7f, 0x02}))),
			`import "env" "g": invalid global mutability 0x2`},
		{"table import with an overlong bound", sec(wasmbin.SecImport, vec(cat(str("env"), str("t"), []byte{0x01, 0x70, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}))),
			`import "env" "t": table limits: minimum: u32 LEB128 overflow`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(cat(plain, tc.extra))
			if err == nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrMalformed with %q", err, tc.want)
			}
		})
	}
	// The same bound is valid for a 64-bit memory, which is then refused as
	// unsupported, not as malformed.
	_, err := Decode(cat(bareCore(nil, 0xff, ifaceParser+"#parse"), sec(wasmbin.SecMemory, vec([]byte{0x04, 0x80, 0x80, 0x80, 0x80, 0x10}))))
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "64-bit memory") {
		t.Fatalf("memory64 bound above 2^32: %v, want 64-bit memory unsupported", err)
	}
}

// TestIsStub: a shim function forwards its parameters with local.get,
// i32.const and one call_indirect; the i32.const is an s32.
func TestIsStub(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
		want bool
	}{
		{"stub", stubBody, true},
		{"stub with a local", []byte{0x01, 0x01, 0x7f, 0x20, 0x00, 0x41, 0x00, 0x11, 0x00, 0x00, 0x0b}, true},
		{"i32.const -1 in five bytes", []byte{0x00, 0x41, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x11, 0x00, 0x00, 0x0b}, true},
		{"i32.const out of the s32 range", []byte{0x00, 0x41, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x11, 0x00, 0x00, 0x0b}, false},
		{"no call", []byte{0x00, 0x20, 0x00, 0x0b}, false},
		{"two calls", []byte{0x00, 0x11, 0x00, 0x00, 0x11, 0x00, 0x00, 0x0b}, false},
		{"other instruction", []byte{0x00, 0x01, 0x11, 0x00, 0x00, 0x0b}, false},
		{"bytes after end", []byte{0x00, 0x11, 0x00, 0x00, 0x0b, 0x0b}, false},
		{"no end", []byte{0x00, 0x11, 0x00, 0x00}, false},
		{"plain body", plainBody, false},
	} {
		if got := isStub(tc.body); got != tc.want {
			t.Errorf("%s: isStub(% x) = %v", tc.name, tc.body, got)
		}
	}
}

func TestNormalizeWASIImports(t *testing.T) {
	module := func(imports ...[]byte) []byte {
		return cat(corePreamble, sec(wasmbin.SecType, vec([]byte{0x60, 0x00, 0x00})), sec(wasmbin.SecImport, vec(imports...)), sec(wasmbin.SecCustom, str("after")))
	}
	fn := func(mod, name string) []byte { return cat(str(mod), str(name), []byte{0x00, 0x00}) }
	// Import descriptors the renaming must step over: a memory with a custom
	// page size, a global of type (ref null func), a 64-bit table.
	pageSizeMemory := cat(str("env"), str("mem"), []byte{0x02, 0x08, 0x01, 0x10})
	refGlobal := cat(str("env"), str("g"), []byte{0x03, 0x63, 0x70, 0x00})
	table64 := cat(str("env"), str("t"), []byte{0x01, 0x70, 0x05, 0x80, 0x80, 0x80, 0x80, 0x10, 0x01})

	in := module(pageSizeMemory, refGlobal, table64, fn("wasi_snapshot_preview1", "fd_write"), fn("wasi_snapshot_preview1", "fd_write [v1]"), fn("env", "f [v1]"))
	want := module(pageSizeMemory, refGlobal, table64, fn("wasi_snapshot_preview1", "fd_write"), fn("wasi_snapshot_preview1", "fd_write"), fn("env", "f [v1]"))
	got, err := NormalizeWASIImports(in)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("NormalizeWASIImports = % x, %v\nwant % x", got, err, want)
	}

	unchanged := module(pageSizeMemory, fn("wasi_snapshot_preview1", "fd_write"))
	if got, err := NormalizeWASIImports(unchanged); err != nil || &got[0] != &unchanged[0] {
		t.Errorf("nothing to rename: got a copy or %v", err)
	}
	noImports := cat(corePreamble, sec(wasmbin.SecType, vec([]byte{0x60, 0x00, 0x00})))
	if got, err := NormalizeWASIImports(noImports); err != nil || &got[0] != &noImports[0] {
		t.Errorf("no import section: got a copy or %v", err)
	}
	bad := module(cat(str("env"), str("g"), []byte{0x03, 0x7f, 0x07}))
	if _, err := NormalizeWASIImports(bad); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "invalid global mutability 0x7") {
		t.Errorf("bad import: %v, want ErrMalformed", err)
	}
	if _, err := NormalizeWASIImports([]byte("\x00asm")); !errors.Is(err, ErrNotWasm) {
		t.Errorf("short input: %v, want ErrNotWasm", err)
	}
}
