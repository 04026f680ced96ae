package interrupt

import "github.com/chiphost/chiphost/runtime/internal/wasmbin"

// A tiny test-only encoder for hand-assembled core modules. It writes exactly what it is
// given: no validation, so tests can also build broken modules.

// Section ids and export kinds used by the tests.
const (
	secCustom    = wasmbin.SecCustom
	secType      = wasmbin.SecType
	secImport    = wasmbin.SecImport
	secFunction  = wasmbin.SecFunction
	secMemory    = wasmbin.SecMemory
	secGlobal    = wasmbin.SecGlobal
	secExport    = wasmbin.SecExport
	secStart     = wasmbin.SecStart
	secCode      = wasmbin.SecCode
	secDataCount = wasmbin.SecDataCount

	kindFunc   = wasmbin.KindFunc
	kindMemory = wasmbin.KindMemory
	kindGlobal = wasmbin.KindGlobal
)

// Value types and opcodes used by the tests.
const (
	i32 = 0x7f
	i64 = 0x7e

	opBlock   = 0x02
	opLoop    = 0x03
	opEnd     = 0x0b
	opBr      = 0x0c
	opBrIf    = 0x0d
	opDrop    = 0x1a
	opI32Add  = 0x6a
	opI32Sub  = 0x6b
	opI32GeU  = 0x4f
	opI32LtU  = 0x49
	opI32Ld8U = 0x2d
	opEmpty   = 0x40
)

// cat concatenates byte strings and single bytes.
func cat(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case []byte:
			b = append(b, p...)
		case byte:
			b = append(b, p)
		case int:
			b = append(b, byte(p))
		case string:
			b = append(b, p...)
		default:
			panic("cat: unsupported part")
		}
	}
	return b
}

func u32(v uint32) []byte { return wasmbin.AppendU32(nil, v) }

func s32(v int32) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// vec encodes a vector of already-encoded items.
func vec(items ...[]byte) []byte {
	return cat(u32(uint32(len(items))), cat(anys(items)...))
}

func anys(items [][]byte) []any {
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = it
	}
	return out
}

func str(s string) []byte { return cat(u32(uint32(len(s))), s) }

// sec encodes a section.
func sec(id byte, content ...any) []byte {
	c := cat(content...)
	return cat(id, u32(uint32(len(c))), c)
}

// wasmModule encodes a module from encoded sections.
func wasmModule(sections ...[]byte) []byte {
	return cat("\x00asm", []byte{1, 0, 0, 0}, cat(anys(sections)...))
}

func fnType(params, results []byte) []byte {
	return cat(0x60, u32(uint32(len(params))), params, u32(uint32(len(results))), results)
}

func exportEntry(name string, kind byte, idx uint32) []byte { return cat(str(name), kind, u32(idx)) }

func importGlobal(mod, name string, vt byte, mutable bool) []byte {
	mut := byte(0)
	if mutable {
		mut = 1
	}
	return cat(str(mod), str(name), kindGlobal, vt, mut)
}

func globalEntry(vt byte, mutable bool, init int32) []byte {
	mut := byte(0)
	if mutable {
		mut = 1
	}
	return cat(vt, mut, 0x41, s32(init), opEnd)
}

// body encodes a size-prefixed function body with n i32 locals; instrs must not
// include the final end.
func body(nLocals uint32, instrs ...any) []byte {
	locals := u32(0)
	if nLocals > 0 {
		locals = vec(cat(u32(nLocals), i32))
	}
	b := cat(locals, cat(instrs...), opEnd)
	return cat(u32(uint32(len(b))), b)
}

// Instruction helpers.
func lget(i uint32) []byte     { return cat(0x20, u32(i)) }
func lset(i uint32) []byte     { return cat(0x21, u32(i)) }
func ltee(i uint32) []byte     { return cat(0x22, u32(i)) }
func gget(i uint32) []byte     { return cat(0x23, u32(i)) }
func gset(i uint32) []byte     { return cat(0x24, u32(i)) }
func i32c(v int32) []byte      { return cat(0x41, s32(v)) }
func br(l uint32) []byte       { return cat(opBr, u32(l)) }
func brIf(l uint32) []byte     { return cat(opBrIf, u32(l)) }
func incr(local uint32) []byte { return cat(lget(local), i32c(1), opI32Add, lset(local)) }
