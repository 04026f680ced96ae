package interrupt

import (
	"context"
	"testing"

	"github.com/tetratelabs/wazero"
)

// variantModule is sumModule with a mutable global 0 and the given check at the loop head.
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
		lget(3), epi)
	return wasmModule(
		threeTypes,
		sec(secFunction, vec(u32(2))),
		sec(secMemory, vec(cat(0x00, u32(benchBytes>>16+1)))),
		sec(secGlobal, vec(globalEntry(i32, true, 0))),
		sec(secExport, vec(exportEntry("sum_bytes", kindFunc, 0), exportEntry("memory", kindMemory, 0))),
		sec(secCode, vec(sum)),
	)
}

func BenchmarkCheckVariants(b *testing.B) {
	variants := []struct {
		name            string
		pro, check, epi []byte
	}{
		{"none", nil, nil, nil},
		{"if-unreachable", nil, cat(gget(0), 0x04, 0x40, 0x00, opEnd), nil},
		{"br_if-outer-trap", cat(opBlock, opEmpty), cat(gget(0), brIf(1)), cat(0x0f, opEnd, 0x00)},
		{"block-eqz-br_if", nil, cat(opBlock, opEmpty, gget(0), 0x45, brIf(0), 0x00, opEnd), nil},
		{"load-global-addr", nil, cat(gget(0), opI32Ld8U, 0x00, 0x00, opDrop), nil},
	}
	for _, v := range variants {
		bin := variantModule(v.pro, v.check, v.epi)
		mod := instantiateCfg(b, wazero.NewRuntimeConfigCompiler(), bin)
		g := prepHand(b, mod)
		b.Run(v.name, func(b *testing.B) { benchCall(b, g) })
	}
	_ = context.Background
}
