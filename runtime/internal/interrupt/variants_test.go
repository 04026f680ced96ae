package interrupt

import (
	"testing"

	"github.com/tetratelabs/wazero"
)

// variantModule is sumModule with mutable globals 0 (flag) and 1 (counter), a yield
// function 1 (memory.grow 0, re-arm the counter, trap if the flag is set), and the
// given code before the loop (pro), at its head (check) and after it (epi).
func variantModule(pro, check, epi []byte) []byte {
	sum := body(2,
		lget(0), lget(1), opI32Add, lset(2),
		pro,
		opLoop, opEmpty,
		check,
		lget(3), lget(0), opI32Ld8U, 0x00, 0x00, opI32Add, lset(3),
		lget(0), i32c(1), opI32Add, ltee(0),
		lget(2), opI32LtU, brIf(0),
		opEnd,
		epi,
		lget(3))
	yield := body(0, i32c(0), 0x40, 0x00, opDrop, i32c(1<<16), gset(1), gget(0), 0x04, 0x40, 0x00, opEnd)
	return wasmModule(
		threeTypes,
		sec(secFunction, vec(u32(2), u32(0))),
		sec(secMemory, vec(cat(0x00, u32(benchBytes>>16+1)))),
		sec(secGlobal, vec(globalEntry(i32, true, 0), globalEntry(i32, true, 1<<16))),
		sec(secExport, vec(exportEntry("sum_bytes", kindFunc, 0), exportEntry("memory", kindMemory, 0))),
		sec(secCode, vec(sum, yield)),
	)
}

// decr counts the counter down and leaves counter == 0 on the stack.
func decr() []byte { return cat(gget(1), i32c(-1), opI32Add, gset(1), gget(1), 0x45) }

// BenchmarkCheckVariants compares, on the hand-assembled byte sum, the loop-head checks
// that were considered. Instrument emits counter-restructured, and counter-if-call for
// loops with parameters.
//
//   - if-unreachable: global.get $flag  if unreachable end (the first design).
//   - br_if-outer-trap: global.get $flag  br_if to a block around the loop that ends
//     in unreachable. Fast, but never visits Go, so a garbage collection waits forever.
//   - counter-restructured: the countdown, br_if to the wrapper blocks around the loop,
//     which call the yield function and re-enter the loop.
//   - counter-flag-restructured: the same, also leaving when the flag is set, for an
//     immediate trap.
//   - counter-if-call: the countdown with an inline `if call $yield end`.
func BenchmarkCheckVariants(b *testing.B) {
	variants := []struct {
		name            string
		pro, check, epi []byte
	}{
		{"none", nil, nil, nil},
		{"if-unreachable", nil, cat(gget(0), 0x04, 0x40, 0x00, opEnd), nil},
		{"br_if-outer-trap", cat(opBlock, opEmpty), cat(gget(0), brIf(1)), cat(opEnd)},
		{"counter-flag-restructured", cat(opBlock, opEmpty, opLoop, opEmpty, opBlock, opEmpty), cat(decr(), gget(0), 0x72, brIf(1)),
			cat(br(2), opEnd, 0x10, 0x01, br(0), opEnd, opEnd)},
		{"counter-if-call", nil, cat(decr(), 0x04, 0x40, 0x10, 0x01, opEnd), nil},
		{"counter-restructured", cat(opBlock, opEmpty, opLoop, opEmpty, opBlock, opEmpty), cat(decr(), brIf(1)),
			cat(br(2), opEnd, 0x10, 0x01, br(0), opEnd, opEnd)},
	}
	for _, v := range variants {
		bin := variantModule(v.pro, v.check, v.epi)
		mod := instantiateCfg(b, wazero.NewRuntimeConfigCompiler(), bin)
		g := prepHand(b, mod)
		b.Run(v.name, func(b *testing.B) { benchCall(b, g) })
	}
}
