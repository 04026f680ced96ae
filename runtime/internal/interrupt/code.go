package interrupt

import "fmt"

// Instruction prefixes.
const (
	prefixGC      = 0xfb
	prefixMisc    = 0xfc
	prefixSIMD    = 0xfd
	prefixThreads = 0xfe
)

// loopSite is a loop found by scanBody.
type loopSite struct {
	pos   int // body offset just past the loop's block type
	depth int // open control frames there, counting the function and the loop
}

// rewriteCode returns the content of the code section with an interrupt check at the
// head of every loop; idx is the interrupt global. Bodies without a loop are copied
// with their original size encoding.
//
// A body with loops is wrapped so that the trap sits outside every loop:
//
//	block $trap
//	  block $fn (result …)   ;; takes the place of the function's own label
//	    …                    ;; the original instructions; each loop starts with
//	                         ;; global.get $g  br_if $trap
//	  end
//	  return
//	end
//	unreachable
//
// Keeping the trap out of the loop matters: with wazero's compiler, an inline
// `if unreachable end` at the loop head halves a tight loop's speed, while the br_if
// costs next to nothing. The wrapper needs a block type with the function's results;
// when the module has none (a multi-value function with no matching [] -> results
// type, or GC types), the function gets the inline check instead.
func rewriteCode(bin []byte, s section, m *module, idx uint32) ([]byte, Stats, error) {
	var stats Stats
	r := sectionReader(bin, s)
	n, err := r.u32()
	if err != nil {
		return nil, stats, fmt.Errorf("interrupt: code section: count: %w", err)
	}
	getG := appendU32([]byte{0x23}, idx)
	inline := append(append([]byte(nil), getG...), 0x04, 0x40, 0x00, 0x0b) // global.get; if; unreachable; end
	out := make([]byte, 0, len(r.b)+len(r.b)/16)
	out = appendU32(out, n)
	var loops []loopSite
	for i := uint32(0); i < n; i++ {
		fn := uint64(m.importFuncs) + uint64(i)
		entry := r.pos
		size, err := r.u32()
		if err != nil {
			return nil, stats, fmt.Errorf("interrupt: code section: function %d: body size: %w", fn, err)
		}
		at := r.off()
		body, err := r.bytes(int(size))
		if err != nil {
			return nil, stats, fmt.Errorf("interrupt: code section: function %d: body size %d at offset %#x exceeds the %d bytes left",
				fn, size, at, len(r.b)-(at-r.base))
		}
		var code int // body offset of the first instruction
		code, loops, err = scanBody(&reader{b: body, base: at}, loops[:0])
		if err != nil {
			return nil, stats, fmt.Errorf("interrupt: code section: function %d: %w", fn, err)
		}
		if len(loops) == 0 {
			out = append(out, r.b[entry:r.pos]...)
			continue
		}
		stats.Functions++
		stats.Loops += len(loops)

		bt, wrap := m.resultBlockType(i)
		grown := uint64(size)
		if wrap {
			grown += 3 + uint64(len(bt)) + 4 // block 0x40, block bt … return, end, unreachable
			for _, l := range loops {
				grown += uint64(len(getG)) + 1 + uint64(u32Len(uint32(l.depth)))
			}
		} else {
			grown += uint64(len(loops)) * uint64(len(inline))
		}
		if grown > 1<<32-1 {
			return nil, stats, fmt.Errorf("interrupt: code section: function %d: instrumented body exceeds 4 GiB", fn)
		}
		out = appendU32(out, uint32(grown))
		out = append(out, body[:code]...)
		if wrap {
			out = append(out, 0x02, 0x40, 0x02)
			out = append(out, bt...)
		}
		prev := code
		for _, l := range loops {
			out = append(out, body[prev:l.pos]...)
			if wrap {
				// Inside the loop, labels 0 … depth-1 are the original frames ($fn
				// standing for the function), so depth is $trap.
				out = append(out, getG...)
				out = appendU32(append(out, 0x0d), uint32(l.depth))
			} else {
				out = append(out, inline...)
			}
			prev = l.pos
		}
		out = append(out, body[prev:]...) // ends with the original final end, now $fn's
		if wrap {
			out = append(out, 0x0f, 0x0b, 0x00, 0x0b)
		}
	}
	if !r.done() {
		return nil, stats, fmt.Errorf("interrupt: code section: %d trailing bytes after %d bodies at offset %#x",
			len(r.b)-r.pos, n, r.off())
	}
	return out, stats, nil
}

// u32Len is the length of the minimal LEB128 encoding of v.
func u32Len(v uint32) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// scanBody decodes one function body (locals and instructions). It returns the body
// offset of the first instruction and appends each loop to loops. It fails unless the
// instructions end with the `end` that closes the body, exactly at the body's end.
func scanBody(r *reader, loops []loopSite) (int, []loopSite, error) {
	n, err := r.u32()
	if err != nil {
		return 0, loops, fmt.Errorf("local declarations: %w", err)
	}
	for i := uint32(0); i < n; i++ {
		if _, err := r.u32(); err != nil {
			return 0, loops, fmt.Errorf("local declaration %d: count: %w", i, err)
		}
		if err := skipValType(r); err != nil {
			return 0, loops, fmt.Errorf("local declaration %d: %w", i, err)
		}
	}
	code := r.pos
	loops, err = scanInstrs(r, loops)
	return code, loops, err
}

// scanInstrs decodes instructions up to and including the end that closes the body.
func scanInstrs(r *reader, loops []loopSite) ([]loopSite, error) {
	depth := 1
	for depth > 0 {
		if r.done() {
			return loops, fmt.Errorf("body ends at offset %#x inside %d open blocks", r.off(), depth)
		}
		at := r.off()
		op, _ := r.byte()
		switch op {
		case 0x02, 0x04, 0x06: // block, if, try (legacy exceptions)
			if err := skipBlockType(r); err != nil {
				return loops, opErr(op, at, err)
			}
			depth++
		case 0x03: // loop
			if err := skipBlockType(r); err != nil {
				return loops, opErr(op, at, err)
			}
			depth++
			loops = append(loops, loopSite{pos: r.pos, depth: depth})
		case 0x1f: // try_table
			if err := skipTryTable(r); err != nil {
				return loops, opErr(op, at, err)
			}
			depth++
		case 0x0b: // end
			depth--
		case 0x18: // delegate (legacy exceptions) closes a try in place of end
			if depth < 2 {
				return loops, fmt.Errorf("delegate outside a try at offset %#x", at)
			}
			if _, err := r.u32(); err != nil {
				return loops, opErr(op, at, err)
			}
			depth--
		default:
			if err := skipInstr(r, op, at); err != nil {
				return loops, err
			}
		}
	}
	if !r.done() {
		return loops, fmt.Errorf("%d bytes after the final end at offset %#x", len(r.b)-r.pos, r.off())
	}
	return loops, nil
}

// opErr wraps an immediate decoding error with the opcode and its offset.
func opErr(op byte, at int, err error) error {
	return fmt.Errorf("opcode 0x%02x at offset %#x: %w", op, at, err)
}

// subOpErr wraps an immediate decoding error with a prefixed opcode and its offset.
func subOpErr(op byte, sub uint32, at int, err error) error {
	return fmt.Errorf("opcode 0x%02x %#x at offset %#x: %w", op, sub, at, err)
}

// skipInstr skips the immediates of op, which is neither a block start nor an end.
func skipInstr(r *reader, op byte, at int) error {
	var err error
	switch {
	case op <= 0x01, op == 0x05, op == 0x0a, op == 0x0f, op == 0x19, op == 0x1a, op == 0x1b:
		// unreachable, nop, else, throw_ref, return, catch_all, drop, select: no immediates.
	case op >= 0x45 && op <= 0xc4:
		// Numeric instructions, including sign extension: no immediates.
	case op == 0xd1, op == 0xd3, op == 0xd5:
		// ref.is_null, ref.as_non_null, ref.eq: no immediates.
	case op == 0x07, op == 0x08, op == 0x09, op == 0x0c, op == 0x0d, op == 0x10, op == 0x12,
		op == 0x14, op == 0x15, op >= 0x20 && op <= 0x26, op == 0xd2, op == 0xd4, op == 0xd6:
		// catch tag, throw tag, rethrow label, br, br_if, call, return_call, call_ref,
		// return_call_ref, local.* and global.*, table.get/set, ref.func, br_on_null,
		// br_on_non_null: one index.
		_, err = r.u32()
	case op == 0x11, op == 0x13: // call_indirect, return_call_indirect: type, table
		if _, err = r.u32(); err == nil {
			_, err = r.u32()
		}
	case op == 0x0e: // br_table: vec(label) default
		var n uint32
		if n, err = r.u32(); err == nil {
			for i := uint64(0); i <= uint64(n) && err == nil; i++ {
				_, err = r.u32()
			}
		}
	case op == 0x1c: // select t*
		var n uint32
		if n, err = r.u32(); err == nil {
			for i := uint32(0); i < n && err == nil; i++ {
				err = skipValType(r)
			}
		}
	case op >= 0x28 && op <= 0x3e: // loads and stores
		err = skipMemArg(r)
	case op == 0x3f, op == 0x40: // memory.size, memory.grow: memory index
		_, err = r.u32()
	case op == 0x41:
		_, err = r.sleb(32)
	case op == 0x42:
		_, err = r.sleb(64)
	case op == 0x43:
		err = r.skip(4)
	case op == 0x44:
		err = r.skip(8)
	case op == 0xd0: // ref.null heap type
		_, err = r.sleb(33)
	case op == prefixMisc, op == prefixSIMD, op == prefixThreads:
		return skipPrefixed(r, op, at)
	case op == prefixGC:
		return fmt.Errorf("unsupported opcode 0x%02x (GC proposal) at offset %#x", op, at)
	default:
		return fmt.Errorf("unknown opcode 0x%02x at offset %#x", op, at)
	}
	if err != nil {
		return opErr(op, at, err)
	}
	return nil
}

// skipPrefixed skips a 0xfc, 0xfd or 0xfe instruction: its sub-opcode and immediates.
func skipPrefixed(r *reader, op byte, at int) error {
	sub, err := r.u32()
	if err != nil {
		return opErr(op, at, fmt.Errorf("sub-opcode: %w", err))
	}
	var imm immediates
	switch op {
	case prefixMisc:
		imm = miscImmediates(sub)
	case prefixSIMD:
		imm = simdImmediates(sub)
	case prefixThreads:
		imm = threadsImmediates(sub)
	}
	if imm == immUnknown {
		return fmt.Errorf("unknown opcode 0x%02x %#x at offset %#x", op, sub, at)
	}
	if err := imm.skip(r); err != nil {
		return subOpErr(op, sub, at, err)
	}
	return nil
}

// immediates describes the immediates of a prefixed instruction.
type immediates int

const (
	immUnknown    immediates = iota // not a known instruction
	immNone                         // no immediates
	immIdx                          // one u32 index
	immIdx2                         // two u32 indices
	immMemArg                       // memarg
	immMemArgLane                   // memarg, then a lane byte
	immLane                         // a lane byte
	immBytes16                      // 16 bytes: v128.const, i8x16.shuffle
	immZeroByte                     // one reserved zero byte: atomic.fence
)

func (imm immediates) skip(r *reader) error {
	switch imm {
	case immIdx:
		_, err := r.u32()
		return err
	case immIdx2:
		if _, err := r.u32(); err != nil {
			return err
		}
		_, err := r.u32()
		return err
	case immMemArg:
		return skipMemArg(r)
	case immMemArgLane:
		if err := skipMemArg(r); err != nil {
			return err
		}
		return r.skip(1)
	case immLane:
		return r.skip(1)
	case immBytes16:
		return r.skip(16)
	case immZeroByte:
		at := r.off()
		c, err := r.byte()
		if err == nil && c != 0 {
			err = fmt.Errorf("reserved byte %#x at offset %#x, want 0", c, at)
		}
		return err
	}
	return nil
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
func skipMemArg(r *reader) error {
	align, err := r.u32()
	if err != nil {
		return fmt.Errorf("memarg alignment: %w", err)
	}
	if align&0x40 != 0 {
		if _, err := r.u32(); err != nil {
			return fmt.Errorf("memarg memory index: %w", err)
		}
	}
	if _, err := r.u64(); err != nil {
		return fmt.Errorf("memarg offset: %w", err)
	}
	return nil
}

// skipTryTable skips the block type and catch clauses of try_table.
func skipTryTable(r *reader) error {
	if err := skipBlockType(r); err != nil {
		return err
	}
	n, err := r.u32()
	if err != nil {
		return fmt.Errorf("catch count: %w", err)
	}
	for i := uint32(0); i < n; i++ {
		at := r.off()
		kind, err := r.byte()
		if err != nil {
			return fmt.Errorf("catch %d: %w", i, err)
		}
		switch kind {
		case 0x00, 0x01: // catch, catch_ref: tag, label
			if _, err := r.u32(); err != nil {
				return fmt.Errorf("catch %d: tag: %w", i, err)
			}
		case 0x02, 0x03: // catch_all, catch_all_ref: label
		default:
			return fmt.Errorf("catch %d: unknown catch kind %#x at offset %#x", i, kind, at)
		}
		if _, err := r.u32(); err != nil {
			return fmt.Errorf("catch %d: label: %w", i, err)
		}
	}
	return nil
}

// skipBlockType skips a block type: 0x40 (empty), a value type, or a type index
// encoded as a non-negative s33.
func skipBlockType(r *reader) error {
	if r.done() {
		return fmt.Errorf("block type: %w", r.eof())
	}
	c := r.b[r.pos]
	if c == 0x40 {
		r.pos++
		return nil
	}
	if isValType(c) {
		return skipValType(r)
	}
	at := r.off()
	v, err := r.sleb(33)
	if err != nil {
		return fmt.Errorf("block type: %w", err)
	}
	if v < 0 {
		return fmt.Errorf("invalid block type %#x at offset %#x", c, at)
	}
	return nil
}

// isValType reports whether c starts a value type: a number type, v128, or a reference
// type (the reference-types, typed function references, exception-handling and GC
// shorthands, and the 0x63/0x64 forms followed by a heap type).
func isValType(c byte) bool {
	return c >= 0x7b && c <= 0x7f || c >= 0x69 && c <= 0x74 || c == 0x63 || c == 0x64
}

// skipValType skips one value type.
func skipValType(r *reader) error {
	at := r.off()
	c, err := r.byte()
	if err != nil {
		return fmt.Errorf("value type: %w", err)
	}
	switch {
	case c == 0x63, c == 0x64: // (ref null ht), (ref ht)
		if _, err := r.sleb(33); err != nil {
			return fmt.Errorf("heap type: %w", err)
		}
	case isValType(c):
	default:
		return fmt.Errorf("invalid value type %#x at offset %#x", c, at)
	}
	return nil
}
