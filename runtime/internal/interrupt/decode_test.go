package interrupt

import (
	"bytes"
	"testing"
)

// rep returns n copies of c.
func rep(c byte, n int) []byte { return bytes.Repeat([]byte{c}, n) }

// codeOnly builds a module with just a code section holding one raw body (no size
// prefix): the body's first byte is at offset 12 when the body is shorter than 128 bytes.
func codeOnly(raw []byte) []byte {
	return wasmModule(sec(secCode, vec(cat(u32(uint32(len(raw))), raw))))
}

// oneFunc builds a module with types 0 = [] -> [] and 1 = [i32] -> [], and one
// function of type 0 whose body holds the given instructions (without the final end).
func oneFunc(instrs ...any) []byte {
	return wasmModule(
		sec(secType, vec(fnType(nil, nil), fnType([]byte{i32}, nil))),
		sec(secFunction, vec(u32(0))),
		sec(secCode, vec(body(0, instrs...))))
}

// instrumented is what Instrument must make of oneFunc(before...) when the function
// becomes after: type and function sections gain the yield function, a memory appears
// for its trip into Go, and the two globals and the export follow.
func instrumented(after ...any) []byte {
	yield := cat(u32(0), i32c(yieldInterval), gset(1), i32c(0), 0x40, 0x00, opDrop, gget(0), 0x45, brIf(0), 0x00)
	return wasmModule(
		sec(secType, vec(fnType(nil, nil), fnType([]byte{i32}, nil))),
		sec(secFunction, vec(u32(0), u32(0))),
		sec(secMemory, vec(cat(0x00, u32(0)))),
		sec(secGlobal, vec(globalEntry(i32, true, 0), globalEntry(i32, true, yieldInterval))),
		sec(secExport, vec(exportEntry(ExportName, kindGlobal, 0))),
		sec(secCode, vec(body(0, after...), cat(u32(uint32(len(yield)+1)), yield, opEnd))))
}

// Pieces of an instrumented loop, for the module of instrumented (flag 0, counter 1,
// yield function 1).
var (
	countdown = cat(gget(1), i32c(-1), opI32Add, gset(1), gget(1), 0x45)
	loopTail  = cat(br(2), opEnd, 0x10, 0x01, br(0), opEnd, opEnd)
)

// wrappedLoop returns the instrumented form of `loop bt body end`.
func wrappedLoop(bt []byte, body ...any) []byte {
	return cat(opBlock, bt, opLoop, bt, opBlock, opEmpty, opLoop, bt, countdown, brIf(1), cat(body...), opEnd, loopTail)
}

// TestDecoderImmediates puts each instruction in front of a loop. Most immediates hold
// 0x03 (loop) and 0x0b (end) bytes, so a decoder that skips an immediate wrongly finds
// a second loop, loses the real one, or runs off the body. The output must equal the
// input with exactly one check inserted after the loop's block type.
func TestDecoderImmediates(t *testing.T) {
	tests := []struct {
		name  string
		instr []byte
	}{
		{"unreachable nop", cat(0x00, 0x01)},
		{"block type index", cat(opBlock, 0x03, opEnd)},
		{"block type index padded s33", cat(opBlock, 0x83, 0x80, 0x80, 0x80, 0x00, opEnd)},
		{"block value type", cat(opBlock, i64, opEnd)},
		{"block ref type", cat(opBlock, 0x63, 0x03, opEnd)},
		{"if else", cat(0x04, i32, i32c(3), 0x05, i32c(3), opEnd)},
		{"br br_if", cat(opBlock, opEmpty, br(0), brIf(1), opEnd)},
		{"br_table", cat(0x0e, 0x03, 0x00, 0x00, 0x00, 0x00)},
		{"return", cat(0x0f)},
		{"call call_indirect", cat(0x10, 0x03, 0x11, 0x03, 0x0b)},
		{"return_call return_call_indirect", cat(0x12, 0x03, 0x13, 0x03, 0x0b)},
		{"call_ref return_call_ref", cat(0x14, 0x03, 0x15, 0x0b)},
		{"drop select", cat(0x1a, 0x1b)},
		{"select typed", cat(0x1c, 0x02, i32, 0x63, 0x03)},
		{"locals and globals", cat(lget(3), lset(0x0b), ltee(3), gget(3), gset(0x0b))},
		{"table.get table.set", cat(0x25, 0x03, 0x26, 0x0b)},
		{"loads and stores", cat(0x28, 0x03, 0x0b, 0x2d, 0x00, 0x03, 0x3e, 0x03, 0x83, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01)},
		{"memarg with memory index", cat(0x28, 0x43, 0x03, 0x0b)},
		{"memory.size memory.grow", cat(0x3f, 0x00, 0x40, 0x03)},
		{"i32.const", cat(0x41, 0x83, 0x80, 0x80, 0x80, 0x00)},
		{"i32.const negative", cat(0x41, 0x7d)},
		{"i64.const", cat(0x42, 0x83, 0x83, 0x83, 0x83, 0x83, 0x83, 0x83, 0x83, 0x83, 0x00)},
		{"f32.const", cat(0x43, rep(0x03, 4))},
		{"f64.const", cat(0x44, rep(0x0b, 8))},
		{"numeric", cat(0x45, 0x6a, 0xa7, 0xbf)},
		{"sign extension", cat(0xc0, 0xc4)},
		{"reference types", cat(0xd0, 0x70, 0xd0, 0x6f, 0xd1, 0xd2, 0x03)},
		{"typed function references", cat(0xd0, 0x03, 0xd3, 0xd4, 0x00, 0xd6, 0x00)},
		{"trunc_sat", cat(0xfc, 0x00, 0xfc, 0x07)},
		{"sub-opcode padded", cat(0xfc, 0x80, 0x00)},
		{"memory.init data.drop", cat(0xfc, 0x08, 0x03, 0x00, 0xfc, 0x09, 0x03)},
		{"memory.copy memory.fill", cat(0xfc, 0x0a, 0x03, 0x0b, 0xfc, 0x0b, 0x03)},
		{"table.init elem.drop table.copy", cat(0xfc, 0x0c, 0x03, 0x03, 0xfc, 0x0d, 0x03, 0xfc, 0x0e, 0x03, 0x0b)},
		{"table.grow size fill", cat(0xfc, 0x0f, 0x03, 0xfc, 0x10, 0x03, 0xfc, 0x11, 0x0b)},
		{"v128.load v128.store", cat(0xfd, 0x00, 0x03, 0x03, 0xfd, 0x0b, 0x04, 0x0b)},
		{"v128.const", cat(0xfd, 0x0c, rep(0x03, 16))},
		{"i8x16.shuffle", cat(0xfd, 0x0d, rep(0x0b, 16))},
		{"lanes", cat(0xfd, 0x15, 0x03, 0xfd, 0x22, 0x0b)},
		{"load and store lane", cat(0xfd, 0x54, 0x00, 0x03, 0x03, 0xfd, 0x5b, 0x03, 0x0b, 0x01)},
		{"load zero", cat(0xfd, 0x5c, 0x02, 0x03, 0xfd, 0x5d, 0x03, 0x0b)},
		{"simd no immediates", cat(0xfd, 0x0e, 0xfd, 0x53, 0xfd, 0x5e, 0xfd, 0xff, 0x01)},
		{"relaxed simd", cat(0xfd, 0x80, 0x02, 0xfd, 0x93, 0x02)},
		{"atomic notify and wait", cat(0xfe, 0x00, 0x02, 0x03, 0xfe, 0x02, 0x03, 0x0b)},
		{"atomic.fence", cat(0xfe, 0x03, 0x00)},
		{"atomic rmw", cat(0xfe, 0x10, 0x02, 0x03, 0xfe, 0x4e, 0x03, 0x0b)},
		{"throw throw_ref", cat(0x08, 0x03, 0x0a)},
		{"try_table", cat(0x1f, opEmpty, 0x04, 0x00, 0x03, 0x00, 0x01, 0x0b, 0x00, 0x02, 0x00, 0x03, 0x00, opEnd)},
		{"legacy try catch", cat(0x06, opEmpty, 0x07, 0x03, 0x09, 0x00, 0x19, opEnd)},
		{"legacy try delegate", cat(0x06, i32, i32c(3), 0x18, 0x00, opDrop)},
		{"loop type index", cat(opLoop, 0x03, opEnd)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := oneFunc(tc.instr, opLoop, opEmpty, br(0), opEnd)
			out, stats, err := Instrument(in)
			if err != nil {
				t.Fatalf("Instrument: %v", err)
			}
			wantLoops := 1 + bytes.Count([]byte(tc.name), []byte("loop"))
			if stats != (Stats{Functions: 1, Loops: wantLoops}) {
				t.Fatalf("stats = %+v, want 1 function, %d loops", stats, wantLoops)
			}
			if wantLoops > 1 {
				return // the loop in the instruction is covered by TestRewriteLoops
			}
			want := instrumented(tc.instr, wrappedLoop([]byte{opEmpty}, br(0)))
			if !bytes.Equal(out, want) {
				t.Fatalf("output\n% x\nwant\n% x", out, want)
			}
		})
	}
}

// TestRewriteLoops checks the wrapper blocks and the labels that leave a loop: each
// wrapped loop between a branch and its target raises the label by 3.
func TestRewriteLoops(t *testing.T) {
	empty := []byte{opEmpty}
	tests := []struct {
		name   string
		before []any
		after  []any
	}{
		{
			name:   "branch to the loop itself",
			before: []any{opLoop, opEmpty, br(0), brIf(0), opEnd},
			after:  []any{wrappedLoop(empty, br(0), brIf(0))},
		},
		{
			name:   "branch out of the loop",
			before: []any{opBlock, opEmpty, opLoop, opEmpty, br(1), brIf(2), opEnd, br(0), opEnd},
			after:  []any{opBlock, opEmpty, wrappedLoop(empty, br(4), brIf(5)), br(0), opEnd},
		},
		{
			name:   "nested loops",
			before: []any{opLoop, opEmpty, opLoop, opEmpty, br(0), br(1), br(2), opEnd, br(0), br(1), opEnd},
			after:  []any{wrappedLoop(empty, wrappedLoop(empty, br(0), br(4), br(8)), br(0), br(4))},
		},
		{
			name:   "block inside the loop",
			before: []any{opLoop, opEmpty, opBlock, opEmpty, br(0), br(1), br(2), opEnd, opEnd},
			after:  []any{wrappedLoop(empty, opBlock, opEmpty, br(0), br(1), br(5), opEnd)},
		},
		{
			name:   "br_table",
			before: []any{opLoop, opEmpty, i32c(0), 0x0e, 0x02, 0x00, 0x01, 0x00, opEnd},
			after:  []any{wrappedLoop(empty, i32c(0), 0x0e, 0x02, 0x00, 0x04, 0x00)},
		},
		{
			name:   "try_table catch labels",
			before: []any{opLoop, opEmpty, 0x1f, opEmpty, 0x02, 0x02, 0x00, 0x03, 0x01, opEnd, opEnd},
			after:  []any{wrappedLoop(empty, 0x1f, opEmpty, 0x02, 0x02, 0x00, 0x03, 0x04, opEnd)},
		},
		{
			name:   "legacy delegate and rethrow",
			before: []any{opLoop, opEmpty, 0x06, opEmpty, 0x18, 0x01, 0x06, opEmpty, 0x07, 0x00, 0x09, 0x00, 0x09, 0x01, opEnd, opEnd},
			after:  []any{wrappedLoop(empty, 0x06, opEmpty, 0x18, 0x04, 0x06, opEmpty, 0x07, 0x00, 0x09, 0x00, 0x09, 0x01, opEnd)},
		},
		{
			name:   "br_on_null",
			before: []any{opLoop, opEmpty, 0xd0, 0x70, 0xd4, 0x01, 0xd6, 0x00, opEnd},
			after:  []any{wrappedLoop(empty, 0xd0, 0x70, 0xd4, 0x04, 0xd6, 0x00)},
		},
		{
			name:   "loop with a result",
			before: []any{opLoop, i32, i32c(1), opEnd, opDrop},
			after:  []any{wrappedLoop([]byte{i32}, i32c(1)), opDrop},
		},
		{
			name:   "loop with parameters gets the inline check",
			before: []any{i32c(1), opLoop, 0x01, opDrop, opEnd},
			after:  []any{i32c(1), opLoop, 0x01, countdown, 0x04, opEmpty, 0x10, 0x01, opEnd, opDrop, opEnd},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := oneFunc(tc.before...)
			out, _, err := Instrument(in)
			if err != nil {
				t.Fatalf("Instrument: %v", err)
			}
			want := instrumented(tc.after...)
			if !bytes.Equal(out, want) {
				t.Fatalf("output\n% x\nwant\n% x", out, want)
			}
		})
	}
}

// TestDecoderErrors pairs hand-assembled bytes with the exact error text. In codeOnly
// modules the body starts at offset 0xc.
func TestDecoderErrors(t *testing.T) {
	tests := []struct {
		name string
		bin  []byte
		want string
	}{
		{
			name: "empty input",
			bin:  nil,
			want: "interrupt: module header: want 8 bytes, have 0",
		},
		{
			name: "bad magic",
			bin:  []byte("\x00wasm\x01\x00\x00"),
			want: "interrupt: module header: bad magic 00 77 61 73, want 00 61 73 6d",
		},
		{
			name: "component",
			bin:  []byte("\x00asm\x0d\x00\x01\x00"),
			want: "interrupt: module header: version 0d 00 01 00 is a component, want a core module",
		},
		{
			name: "section size past the end",
			bin:  cat("\x00asm", []byte{1, 0, 0, 0}, secType, 0x05, 0x00),
			want: "interrupt: type section at offset 0x8: size 5 exceeds the 1 bytes left",
		},
		{
			name: "unknown section",
			bin:  wasmModule(sec(14)),
			want: "interrupt: section at offset 0x8: unknown section id 14",
		},
		{
			name: "sections out of order",
			bin:  wasmModule(sec(secExport, vec()), sec(secGlobal, vec())),
			want: "interrupt: global section at offset 0xb: duplicate or out of order",
		},
		{
			name: "truncated body",
			bin:  wasmModule(sec(secCode, u32(1), u32(9), u32(0), 0x41)),
			want: "interrupt: code section: function 0: body size 9 at offset 0xc exceeds the 2 bytes left",
		},
		{
			name: "body without final end",
			bin:  codeOnly(cat(u32(0), opBlock, opEmpty, opEnd)),
			want: "interrupt: code section: function 0: body ends at offset 0x10 inside 1 open blocks",
		},
		{
			name: "truncated immediate",
			bin:  codeOnly(cat(u32(0), 0x41, 0x80)),
			want: "interrupt: code section: function 0: opcode 0x41 at offset 0xd: truncated s32 LEB128 at offset 0xe",
		},
		{
			name: "truncated memarg",
			bin:  codeOnly(cat(u32(0), 0x28, 0x02)),
			want: "interrupt: code section: function 0: opcode 0x28 at offset 0xd: memarg offset: truncated u64 LEB128 at offset 0xf",
		},
		{
			name: "truncated v128.const",
			bin:  codeOnly(cat(u32(0), 0xfd, 0x0c, rep(0, 15))),
			want: "interrupt: code section: function 0: opcode 0xfd 0xc at offset 0xd: unexpected end of data at offset 0x1e",
		},
		{
			name: "bad opcode",
			bin:  codeOnly(cat(u32(0), 0x01, 0x16, opEnd)),
			want: "interrupt: code section: function 0: unknown opcode 0x16 at offset 0xe",
		},
		{
			name: "bad simd opcode",
			bin:  codeOnly(cat(u32(0), 0xfd, 0xff, 0x03, opEnd)),
			want: "interrupt: code section: function 0: unknown opcode 0xfd 0x1ff at offset 0xd",
		},
		{
			name: "unassigned simd opcode",
			bin:  codeOnly(cat(u32(0), 0xfd, 0x9a, 0x01, opEnd)),
			want: "interrupt: code section: function 0: unknown opcode 0xfd 0x9a at offset 0xd",
		},
		{
			name: "bad misc opcode",
			bin:  codeOnly(cat(u32(0), 0xfc, 0x12, opEnd)),
			want: "interrupt: code section: function 0: unknown opcode 0xfc 0x12 at offset 0xd",
		},
		{
			name: "bad atomic opcode",
			bin:  codeOnly(cat(u32(0), 0xfe, 0x04, opEnd)),
			want: "interrupt: code section: function 0: unknown opcode 0xfe 0x4 at offset 0xd",
		},
		{
			name: "atomic.fence reserved byte",
			bin:  codeOnly(cat(u32(0), 0xfe, 0x03, 0x01, opEnd)),
			want: "interrupt: code section: function 0: opcode 0xfe 0x3 at offset 0xd: reserved byte 0x1 at offset 0xf, want 0",
		},
		{
			name: "gc opcode",
			bin:  codeOnly(cat(u32(0), 0xfb, 0x00, opEnd)),
			want: "interrupt: code section: function 0: unsupported opcode 0xfb (GC proposal) at offset 0xd",
		},
		{
			name: "u32 LEB overflow",
			bin:  codeOnly(cat(u32(0), 0x20, 0x80, 0x80, 0x80, 0x80, 0x10, opEnd)),
			want: "interrupt: code section: function 0: opcode 0x20 at offset 0xd: u32 LEB128 overflow at offset 0xe",
		},
		{
			name: "u32 LEB too long",
			bin:  codeOnly(cat(u32(0), 0x20, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, opEnd)),
			want: "interrupt: code section: function 0: opcode 0x20 at offset 0xd: u32 LEB128 overflow at offset 0xe",
		},
		{
			name: "s32 LEB overflow",
			bin:  codeOnly(cat(u32(0), 0x41, 0xff, 0xff, 0xff, 0xff, 0x4f, opEnd)),
			want: "interrupt: code section: function 0: opcode 0x41 at offset 0xd: s32 LEB128 overflow at offset 0xe",
		},
		{
			name: "s64 LEB overflow",
			bin:  codeOnly(cat(u32(0), 0x42, rep(0x80, 9), 0x02, opEnd)),
			want: "interrupt: code section: function 0: opcode 0x42 at offset 0xd: s64 LEB128 overflow at offset 0xe",
		},
		{
			name: "negative block type",
			bin:  codeOnly(cat(u32(0), opLoop, 0x41, opEnd, opEnd)),
			want: "interrupt: code section: function 0: opcode 0x03 at offset 0xd: invalid block type 0x41 at offset 0xe",
		},
		{
			name: "bad local type",
			bin:  codeOnly(cat(vec(cat(u32(1), 0x40)), opEnd)),
			want: "interrupt: code section: function 0: local declaration 0: invalid value type 0x40 at offset 0xe",
		},
		{
			name: "bad catch kind",
			bin:  codeOnly(cat(u32(0), 0x1f, opEmpty, 0x01, 0x04, 0x00, opEnd, opEnd)),
			want: "interrupt: code section: function 0: opcode 0x1f at offset 0xd: catch 0: unknown catch kind 0x4 at offset 0x10",
		},
		{
			name: "delegate outside try",
			bin:  codeOnly(cat(u32(0), 0x18, 0x00)),
			want: "interrupt: code section: function 0: delegate outside a try at offset 0xd",
		},
		{
			name: "bytes after the final end",
			bin:  codeOnly(cat(u32(0), opEnd, 0x01)),
			want: "interrupt: code section: function 0: 1 bytes after the final end at offset 0xe",
		},
		{
			name: "function index counts imports",
			bin: wasmModule(
				sec(secImport, vec(
					cat(str("a"), str("f"), kindFunc, u32(0)),
					cat(str("a"), str("g"), kindFunc, u32(0)))),
				sec(secCode, vec(body(0), cat(u32(3), u32(0), 0x17, opEnd)))),
			want: "interrupt: code section: function 3: unknown opcode 0x17 at offset 0x1f",
		},
		{
			name: "trailing bytes in code section",
			bin:  wasmModule(sec(secCode, vec(body(0)), 0x00)),
			want: "interrupt: code section: 1 trailing bytes after 1 bodies at offset 0xe",
		},
		{
			name: "bad import kind",
			bin:  wasmModule(sec(secImport, vec(cat(str("a"), str("b"), 0x05)))),
			want: "interrupt: import section: import 0: unknown import kind 0x5 at offset 0xf",
		},
		{
			name: "bad limits",
			bin:  wasmModule(sec(secImport, vec(cat(str("a"), str("b"), kindMemory, 0x10, 0x01)))),
			want: "interrupt: import section: import 0: memory limits: invalid limits flags 0x10 at offset 0x10",
		},
		{
			name: "bad export kind",
			bin:  wasmModule(sec(secExport, vec(cat(str("a"), 0x07, 0x00)))),
			want: "interrupt: export section: export 0: unknown export kind 0x7 at offset 0xd",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := Instrument(tc.bin)
			if err == nil {
				t.Fatalf("Instrument succeeded: % x", out)
			}
			if err.Error() != tc.want {
				t.Fatalf("error\n%s\nwant\n%s", err, tc.want)
			}
		})
	}
}
