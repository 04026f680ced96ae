package interrupt

import (
	"fmt"

	"github.com/chiphost/chiphost/runtime/internal/wasmbin"
)

// immediates describes the immediates of an instruction that is not a control
// instruction (those are decoded by bodyRewriter).
type immediates uint8

const (
	immUnknown    immediates = iota // not a known instruction
	immNone                         // no immediates
	immIdx                          // one u32 index
	immIdx2                         // two u32 indices
	immMemArg                       // memarg
	immMemArgLane                   // memarg, then a lane byte
	immLane                         // a lane byte
	immBytes4                       // f32.const
	immBytes8                       // f64.const
	immBytes16                      // 16 bytes: v128.const, i8x16.shuffle
	immZeroByte                     // one reserved zero byte: atomic.fence
	immS32                          // i32.const
	immS64                          // i64.const
	immHeapType                     // ref.null: an s33 heap type
	immValTypes                     // select t*: a vector of value types
	immPrefixed                     // a u32 sub-opcode, then its immediates
	immGC                           // the GC proposal's prefix: not supported
)

// opcodeImmediates maps every one-byte opcode to its immediates. Control instructions
// stay immUnknown here: bodyRewriter decodes them before looking an opcode up.
var opcodeImmediates = func() (t [256]immediates) {
	set := func(imm immediates, ops ...byte) {
		for _, op := range ops {
			t[op] = imm
		}
	}
	span := func(imm immediates, first, last byte) {
		for op := int(first); op <= int(last); op++ {
			t[op] = imm
		}
	}
	set(immNone, wasmbin.OpUnreachable, wasmbin.OpNop, wasmbin.OpElse, wasmbin.OpThrowRef, wasmbin.OpReturn,
		wasmbin.OpCatchAll, wasmbin.OpDrop, wasmbin.OpSelect, wasmbin.OpRefIsNull, wasmbin.OpRefAsNonNull, wasmbin.OpRefEq)
	span(immNone, wasmbin.OpI32Eqz, wasmbin.OpNumericLast) // numeric, including sign extension
	// catch tag, throw tag, calls, local.* and global.*, table.get/set, ref.func: one index.
	set(immIdx, wasmbin.OpCatch, wasmbin.OpThrow, wasmbin.OpCall, wasmbin.OpReturnCall, wasmbin.OpCallRef,
		wasmbin.OpReturnCallRef, wasmbin.OpRefFunc, wasmbin.OpMemorySize, wasmbin.OpMemoryGrow)
	span(immIdx, wasmbin.OpLocalGet, wasmbin.OpTableSet)
	set(immIdx2, wasmbin.OpCallIndirect, wasmbin.OpReturnCallIndirect) // type, table
	set(immValTypes, wasmbin.OpSelectTyped)
	span(immMemArg, wasmbin.OpLoadFirst, wasmbin.OpStoreLast)
	set(immS32, wasmbin.OpI32Const)
	set(immS64, wasmbin.OpI64Const)
	set(immBytes4, wasmbin.OpF32Const)
	set(immBytes8, wasmbin.OpF64Const)
	set(immHeapType, wasmbin.OpRefNull)
	set(immPrefixed, wasmbin.OpPrefixMisc, wasmbin.OpPrefixSIMD, wasmbin.OpPrefixThreads)
	set(immGC, wasmbin.OpPrefixGC)
	return t
}()

// skipInstr skips the immediates of op, which is not a control instruction.
func skipInstr(r *wasmbin.Reader, op byte, at int) error {
	switch imm := opcodeImmediates[op]; imm {
	case immPrefixed:
		return skipPrefixed(r, op, at)
	case immGC:
		return fmt.Errorf("unsupported opcode 0x%02x (GC proposal) at offset %#x", op, at)
	case immUnknown:
		return fmt.Errorf("unknown opcode 0x%02x at offset %#x", op, at)
	default:
		if err := imm.skip(r); err != nil {
			return opErr(op, at, err)
		}
	}
	return nil
}

// skipPrefixed skips a 0xfc, 0xfd or 0xfe instruction: its sub-opcode and immediates.
func skipPrefixed(r *wasmbin.Reader, op byte, at int) error {
	sub, err := r.U32()
	if err != nil {
		return opErr(op, at, fmt.Errorf("sub-opcode: %w", err))
	}
	var imm immediates
	switch op {
	case wasmbin.OpPrefixMisc:
		imm = miscImmediates(sub)
	case wasmbin.OpPrefixSIMD:
		imm = simdImmediates(sub)
	case wasmbin.OpPrefixThreads:
		imm = threadsImmediates(sub)
	}
	if imm == immUnknown {
		return fmt.Errorf("unknown opcode 0x%02x %#x at offset %#x", op, sub, at)
	}
	if err := imm.skip(r); err != nil {
		return fmt.Errorf("opcode 0x%02x %#x at offset %#x: %w", op, sub, at, err)
	}
	return nil
}

// opErr wraps an immediate decoding error with the opcode and its offset.
func opErr(op byte, at int, err error) error {
	return fmt.Errorf("opcode 0x%02x at offset %#x: %w", op, at, err)
}

// skip reads the immediates.
func (imm immediates) skip(r *wasmbin.Reader) error {
	var err error
	switch imm {
	case immIdx:
		_, err = r.U32()
	case immIdx2:
		if _, err = r.U32(); err == nil {
			_, err = r.U32()
		}
	case immMemArg:
		err = skipMemArg(r)
	case immMemArgLane:
		if err = skipMemArg(r); err == nil {
			err = r.Skip(1)
		}
	case immLane:
		err = r.Skip(1)
	case immBytes4:
		err = r.Skip(4)
	case immBytes8:
		err = r.Skip(8)
	case immBytes16:
		err = r.Skip(16)
	case immZeroByte:
		at := r.Offset()
		var c byte
		if c, err = r.Byte(); err == nil && c != 0 {
			err = fmt.Errorf("reserved byte %#x at offset %#x, want 0", c, at)
		}
	case immS32:
		_, err = r.S32()
	case immS64:
		_, err = r.S64()
	case immHeapType:
		_, err = r.S33()
	case immValTypes:
		_, err = r.SkipValTypes()
	}
	return err
}

// miscImmediates covers the 0xfc prefix: non-trapping float-to-int, bulk memory and
// the table instructions of reference types.
func miscImmediates(sub uint32) immediates {
	switch {
	case sub <= 7: // i32.trunc_sat_f32_s … i64.trunc_sat_f64_u
		return immNone
	case sub == 8: // memory.init data memory
		return immIdx2
	case sub == 9: // data.drop
		return immIdx
	case sub == 10: // memory.copy memory memory
		return immIdx2
	case sub == 11: // memory.fill memory
		return immIdx
	case sub == 12: // table.init elem table
		return immIdx2
	case sub == 13: // elem.drop
		return immIdx
	case sub == 14: // table.copy table table
		return immIdx2
	case sub >= 15 && sub <= 17: // table.grow, table.size, table.fill
		return immIdx
	}
	return immUnknown
}

// simdImmediates covers the 0xfd prefix: fixed-width and relaxed SIMD.
func simdImmediates(sub uint32) immediates {
	switch {
	case sub <= 11, sub == 92, sub == 93: // loads, stores, load*_zero
		return immMemArg
	case sub == 12, sub == 13: // v128.const, i8x16.shuffle
		return immBytes16
	case sub >= 21 && sub <= 34: // extract_lane, replace_lane
		return immLane
	case sub >= 84 && sub <= 91: // load*_lane, store*_lane
		return immMemArgLane
	case sub <= 0xff:
		switch sub {
		case 0x9a, 0xa2, 0xa5, 0xa6, 0xaf, 0xb0, 0xb2, 0xb3, 0xb4, 0xbb, 0xc2, 0xc5, 0xc6,
			0xcf, 0xd0, 0xd2, 0xd3, 0xd4, 0xe2, 0xee:
			return immUnknown // unassigned in the final SIMD opcode table
		}
		return immNone
	case sub >= 0x100 && sub <= 0x113: // relaxed SIMD
		return immNone
	}
	return immUnknown
}

// threadsImmediates covers the 0xfe prefix: atomics.
func threadsImmediates(sub uint32) immediates {
	switch {
	case sub <= 0x02: // memory.atomic.notify, wait32, wait64
		return immMemArg
	case sub == 0x03: // atomic.fence
		return immZeroByte
	case sub >= 0x10 && sub <= 0x4e: // atomic loads, stores, rmw, cmpxchg
		return immMemArg
	}
	return immUnknown
}

// skipMemArg skips a memarg: the alignment, whose bit 6 announces a memory index
// (multi-memory), then the offset (u64, for memory64).
func skipMemArg(r *wasmbin.Reader) error {
	align, err := r.U32()
	if err != nil {
		return fmt.Errorf("memarg alignment: %w", err)
	}
	if align&0x40 != 0 {
		if _, err := r.U32(); err != nil {
			return fmt.Errorf("memarg memory index: %w", err)
		}
	}
	if _, err := r.U64(); err != nil {
		return fmt.Errorf("memarg offset: %w", err)
	}
	return nil
}

// skipBlockType skips a block type: empty, a value type, or a type index encoded as a
// non-negative s33.
func skipBlockType(r *wasmbin.Reader) error {
	c, err := r.Peek()
	if err != nil {
		return fmt.Errorf("block type: %w", err)
	}
	if c == wasmbin.BlockEmpty {
		return r.Skip(1)
	}
	if wasmbin.IsValType(c) {
		return r.SkipValType()
	}
	at := r.Offset()
	v, err := r.S33()
	if err != nil {
		return fmt.Errorf("block type: %w", err)
	}
	if v < 0 {
		return fmt.Errorf("invalid block type %#x at offset %#x", c, at)
	}
	return nil
}
