package interrupt

import "fmt"

// Instruction prefixes.
const (
	prefixGC      = 0xfb
	prefixMisc    = 0xfc
	prefixSIMD    = 0xfd
	prefixThreads = 0xfe
)

// yieldInterval is the number of loop iterations between two trips into Go.
const yieldInterval = 1 << 14

// codeInfo is what the body rewriter needs to know about the module.
type codeInfo struct {
	m       *module
	flag    uint32 // the interrupt global
	counter uint32 // the yield countdown global
	yield   uint32 // the yield function
}

// frame is one open control frame of the body being rewritten.
type frame struct {
	wrapped bool // a loop that got the three wrapper blocks
	outer   int  // wrapped loops in this frame and all frames around it
}

// bodyWriter copies a function body while applying insertions and replacements in
// increasing offset order.
type bodyWriter struct {
	body   []byte
	out    []byte
	copied int // body offset up to which bytes have been copied to out
}

// insert copies the body up to pos, then appends b.
func (w *bodyWriter) insert(pos int, b ...byte) {
	w.out = append(w.out, w.body[w.copied:pos]...)
	w.copied = pos
	w.out = append(w.out, b...)
}

// replace copies the body up to from, appends b in place of body[from:to].
func (w *bodyWriter) replace(from, to int, b []byte) {
	w.insert(from, b...)
	w.copied = to
}

// rewriteCode returns the content of the code section with every loop instrumented,
// followed by the body of the yield function when there is any loop. Bodies without a
// loop are copied with their original size encoding.
//
// A loop whose block type takes no parameters becomes
//
//	block bt                 ;; $done
//	  loop bt                ;; $again
//	    block                ;; $slow
//	      loop bt            ;; the original loop
//	        global.get $counter  i32.const -1  i32.add  global.set $counter
//	        global.get $counter  i32.eqz  br_if $slow
//	        …                ;; the original body; labels that leave the loop are
//	                         ;; raised by 3 for the wrapper frames in between
//	      end
//	      br $done
//	    end
//	    call $yield          ;; may trap
//	    br $again            ;; re-enter the loop at its head, where it was
//	  end
//	end
//
// Re-entering at the head is exact: the check sits at the head, before the body has
// done anything, and a loop without parameters carries no operand values. Keeping the
// call out of the loop matters: with wazero's compiler, a call or a trap inside a
// tight loop costs about half its speed (values live across it get spilled), while the
// countdown and branch cost next to nothing. A loop with parameters, which would need
// new block types, gets the check inline instead:
//
//	global.get $counter … i32.eqz  if  call $yield  end
func rewriteCode(bin []byte, s section, ci codeInfo) ([]byte, Stats, error) {
	var stats Stats
	r := sectionReader(bin, s)
	n, err := r.u32()
	if err != nil {
		return nil, stats, fmt.Errorf("interrupt: code section: count: %w", err)
	}
	out := make([]byte, 0, len(r.b)+len(r.b)/8+64)
	out = appendU32(out, n+1) // corrected below when no loop needs the yield function
	countLen := len(out)
	var scratch []byte
	var stack []frame
	for i := uint32(0); i < n; i++ {
		fn := uint64(ci.m.importFuncs) + uint64(i)
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
		w := &bodyWriter{body: body, out: scratch[:0]}
		loops, err := ci.rewriteBody(&reader{b: body, base: at}, w, stack[:0])
		if err != nil {
			return nil, stats, fmt.Errorf("interrupt: code section: function %d: %w", fn, err)
		}
		scratch = w.out
		if loops == 0 {
			out = append(out, r.b[entry:r.pos]...)
			continue
		}
		stats.Functions++
		stats.Loops += loops
		if uint64(len(w.out)) > 1<<32-1 {
			return nil, stats, fmt.Errorf("interrupt: code section: function %d: instrumented body exceeds 4 GiB", fn)
		}
		out = appendU32(out, uint32(len(w.out)))
		out = append(out, w.out...)
	}
	if !r.done() {
		return nil, stats, fmt.Errorf("interrupt: code section: %d trailing bytes after %d bodies at offset %#x",
			len(r.b)-r.pos, n, r.off())
	}
	if stats.Loops == 0 {
		return append(appendU32(nil, n), out[countLen:]...), stats, nil
	}
	yield := ci.yieldBody()
	out = appendU32(out, uint32(len(yield)))
	return append(out, yield...), stats, nil
}

// yieldBody is the body of the yield function: it rearms the countdown, makes a trip
// into Go (memory.grow 0 on memory 0, which wazero's compiler runs in Go, where the
// goroutine can be preempted), and traps when the interrupt flag is set.
func (ci codeInfo) yieldBody() []byte {
	b := []byte{0x00, 0x41} // no locals; i32.const
	b = appendS33(b, yieldInterval)
	b = appendU32(append(b, 0x24), ci.counter)
	if ci.m.memory64 {
		b = append(b, 0x42, 0x00, 0x40, 0x00, 0x1a) // i64.const 0  memory.grow 0  drop
	} else {
		b = append(b, 0x41, 0x00, 0x40, 0x00, 0x1a) // i32.const 0  memory.grow 0  drop
	}
	b = appendU32(append(b, 0x23), ci.flag)
	return append(b, 0x45, 0x0d, 0x00, 0x00, 0x0b) // i32.eqz  br_if 0  unreachable  end
}

// countdown returns the instructions that decrement the counter and leave
// counter == 0 on the stack.
func (ci codeInfo) countdown() []byte {
	b := appendU32([]byte{0x23}, ci.counter)
	b = append(b, 0x41, 0x7f, 0x6a, 0x24) // i32.const -1  i32.add  global.set
	b = appendU32(b, ci.counter)
	b = appendU32(append(b, 0x23), ci.counter)
	return append(b, 0x45) // i32.eqz
}

// loopHasParams reports whether the loop block type bt takes operands. An unknown type
// index counts as taking them, which selects the inline check.
func (ci codeInfo) loopHasParams(bt []byte) bool {
	if len(bt) == 1 && (bt[0] == 0x40 || isValType(bt[0])) || bt[0] == 0x63 || bt[0] == 0x64 {
		return false
	}
	idx, err := (&reader{b: bt}).sleb(33)
	if err != nil || idx < 0 || idx >= int64(len(ci.m.types)) {
		return true
	}
	return ci.m.types[idx].params != 0
}

// rewriteBody decodes one function body (locals and instructions) and writes the
// instrumented body to w. It returns the number of loops. It fails unless the
// instructions end with the end that closes the body, exactly at the body's end.
func (ci codeInfo) rewriteBody(r *reader, w *bodyWriter, stack []frame) (int, error) {
	n, err := r.u32()
	if err != nil {
		return 0, fmt.Errorf("local declarations: %w", err)
	}
	for i := uint32(0); i < n; i++ {
		if _, err := r.u32(); err != nil {
			return 0, fmt.Errorf("local declaration %d: count: %w", i, err)
		}
		if err := skipValType(r); err != nil {
			return 0, fmt.Errorf("local declaration %d: %w", i, err)
		}
	}
	var countdown, inline, brSlow, tail []byte
	loops := 0
	stack = append(stack, frame{}) // the function's own frame
	push := func(wrapped bool) {
		f := frame{wrapped: wrapped, outer: stack[len(stack)-1].outer}
		if wrapped {
			f.outer++
		}
		stack = append(stack, f)
	}
	// label reads a label immediate and raises it by 3 for each wrapped loop it leaves.
	label := func(op byte, at int) error {
		from := r.pos
		l, err := r.u32()
		if err != nil {
			return opErr(op, at, fmt.Errorf("label: %w", err))
		}
		if uint64(l) >= uint64(len(stack)) {
			return fmt.Errorf("opcode 0x%02x at offset %#x: label %d out of range at depth %d", op, at, l, len(stack))
		}
		crossed := stack[len(stack)-1].outer - stack[len(stack)-1-int(l)].outer
		if crossed == 0 {
			return nil
		}
		nl := uint64(l) + 3*uint64(crossed)
		if nl > 1<<32-1 {
			return fmt.Errorf("opcode 0x%02x at offset %#x: label %d overflows once raised by %d", op, at, l, 3*crossed)
		}
		w.replace(from, r.pos, appendU32(nil, uint32(nl)))
		return nil
	}
	for len(stack) > 0 {
		if r.done() {
			return loops, fmt.Errorf("body ends at offset %#x inside %d open blocks", r.off(), len(stack))
		}
		at := r.off()
		opPos := r.pos
		op, _ := r.byte()
		switch op {
		case 0x02, 0x04, 0x06: // block, if, try (legacy exceptions)
			if err := skipBlockType(r); err != nil {
				return loops, opErr(op, at, err)
			}
			push(false)
		case 0x03: // loop
			if err := skipBlockType(r); err != nil {
				return loops, opErr(op, at, err)
			}
			if countdown == nil {
				countdown = ci.countdown()
				brSlow = append(append([]byte(nil), countdown...), 0x0d, 0x01) // br_if $slow
				inline = appendU32(append(append([]byte(nil), countdown...), 0x04, 0x40, 0x10), ci.yield)
				inline = append(inline, 0x0b) // if  call $yield  end
				tail = appendU32([]byte{0x0c, 0x02, 0x0b, 0x10}, ci.yield)
				tail = append(tail, 0x0c, 0x00, 0x0b, 0x0b) // br $done  end  call $yield  br $again  end  end
			}
			bt := w.body[opPos+1 : r.pos]
			loops++
			if ci.loopHasParams(bt) {
				w.insert(r.pos, inline...)
				push(false)
				break
			}
			head := append(append([]byte{0x02}, bt...), 0x03)
			head = append(append(head, bt...), 0x02, 0x40)
			w.insert(opPos, head...)
			w.insert(r.pos, brSlow...)
			push(true)
		case 0x0b: // end
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if f.wrapped {
				w.insert(r.pos, tail...)
			}
		case 0x18: // delegate (legacy exceptions) closes a try in place of end
			if len(stack) < 2 {
				return loops, fmt.Errorf("delegate outside a try at offset %#x", at)
			}
			stack = stack[:len(stack)-1]
			if err := label(op, at); err != nil {
				return loops, err
			}
		case 0x0c, 0x0d, 0x09, 0xd4, 0xd6: // br, br_if, rethrow, br_on_null, br_on_non_null
			if err := label(op, at); err != nil {
				return loops, err
			}
		case 0x0e: // br_table: vec(label) default
			n, err := r.u32()
			if err != nil {
				return loops, opErr(op, at, fmt.Errorf("label count: %w", err))
			}
			for i := uint64(0); i <= uint64(n); i++ {
				if err := label(op, at); err != nil {
					return loops, err
				}
			}
		case 0x1f: // try_table: its catch labels are relative to the frames around it
			if err := skipBlockType(r); err != nil {
				return loops, opErr(op, at, err)
			}
			n, err := r.u32()
			if err != nil {
				return loops, opErr(op, at, fmt.Errorf("catch count: %w", err))
			}
			for i := uint32(0); i < n; i++ {
				kat := r.off()
				kind, err := r.byte()
				if err != nil {
					return loops, opErr(op, at, fmt.Errorf("catch %d: %w", i, err))
				}
				switch kind {
				case 0x00, 0x01: // catch, catch_ref: tag, label
					if _, err := r.u32(); err != nil {
						return loops, opErr(op, at, fmt.Errorf("catch %d: tag: %w", i, err))
					}
				case 0x02, 0x03: // catch_all, catch_all_ref: label
				default:
					return loops, opErr(op, at, fmt.Errorf("catch %d: unknown catch kind %#x at offset %#x", i, kind, kat))
				}
				if err := label(op, at); err != nil {
					return loops, err
				}
			}
			push(false)
		default:
			if err := skipInstr(r, op, at); err != nil {
				return loops, err
			}
		}
	}
	if !r.done() {
		return loops, fmt.Errorf("%d bytes after the final end at offset %#x", len(r.b)-r.pos, r.off())
	}
	w.insert(r.pos)
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
	case op == 0x07, op == 0x08, op == 0x10, op == 0x12, op == 0x14, op == 0x15,
		op >= 0x20 && op <= 0x26, op == 0xd2:
		// catch tag, throw tag, call, return_call, call_ref, return_call_ref, local.*
		// and global.*, table.get/set, ref.func: one index. Instructions with labels
		// are decoded by rewriteBody.
		_, err = r.u32()
	case op == 0x11, op == 0x13: // call_indirect, return_call_indirect: type, table
		if _, err = r.u32(); err == nil {
			_, err = r.u32()
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
