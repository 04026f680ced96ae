package interrupt

import (
	"context"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/chiphost/chiphost/runtime/internal/wasmbin"
)

// FuzzInstrument checks that Instrument never panics, and, differentially against
// wazero's decoder and validator: a module wazero compiles must instrument (unless it
// already exports ExportName), and the result must compile too and carry the export.
func FuzzInstrument(f *testing.F) {
	for _, seed := range [][]byte{
		basicModule(), globalsModule(), importsModule(), envModule(), noExportsModule(), sumModule(),
		oneFunc(opBlock, opEmpty, opLoop, opEmpty, br(1), brIf(0), opEnd, opEnd),
		oneFunc(opLoop, opEmpty, opLoop, opEmpty, i32c(0), 0x0e, 0x02, 0x00, 0x01, 0x02, opEnd, opEnd),
		oneFunc(i32c(1), opLoop, 0x01, opDrop, opEnd),
		codeOnly(cat(u32(0), 0xfd, 0x0c, rep(0x03, 16), opDrop, opEnd)),
	} {
		f.Add(seed)
	}
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	f.Cleanup(func() { rt.Close(ctx) })
	f.Fuzz(func(t *testing.T, bin []byte) {
		out, _, err := Instrument(bin)
		valid := false
		if !plausibleCounts(bin) {
			// wazero's decoder sizes slices from vector counts before reading the elements,
			// so a huge count runs it out of memory (testdata/fuzz/FuzzInstrument/aa079f76ecf4f856).
			// Instrument must refuse such a module, since chiphost compiles what it returns.
			if err == nil {
				t.Fatal("Instrument accepted a module with an impossible vector count")
			}
		} else if c, cerr := rt.CompileModule(ctx, bin); cerr == nil {
			valid = true
			c.Close(ctx)
		}
		if err != nil {
			if valid && !strings.Contains(err.Error(), "already exports") {
				t.Fatalf("wazero compiles the module, Instrument fails: %v", err)
			}
			return
		}
		if _, _, err := Instrument(out); err == nil || !strings.Contains(err.Error(), "already exports") {
			t.Fatalf("instrumenting the output: error %v, want already exports", err)
		}
		if !valid {
			return
		}
		c, err := rt.CompileModule(ctx, out)
		if err != nil {
			t.Fatalf("input compiles, output does not: %v", err)
		}
		defer c.Close(ctx)
		if _, ok := c.ExportedFunctions()[ExportName]; ok {
			t.Fatalf("%s exported as a function", ExportName)
		}
	})
}

// plausibleCounts reports whether every vector section's count is at most its size,
// as it must be when each element takes at least one byte.
func plausibleCounts(bin []byte) bool {
	if len(bin) < 8 {
		return true
	}
	r := wasmbin.NewReader(bin[8:], 8)
	for !r.Done() {
		id, _ := r.Byte()
		size, err := r.U32()
		if err != nil {
			return true
		}
		content := r.Rest()
		if int(size) <= len(content) {
			content = content[:size]
		}
		_ = r.Skip(len(content))
		if id == secCustom || id == secStart || id == secDataCount {
			continue
		}
		if n, err := wasmbin.NewReader(content, 0).U32(); err == nil && uint64(n) > uint64(len(content)) {
			return false
		}
	}
	return true
}
