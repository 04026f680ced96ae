package interrupt

import (
	"fmt"

	"github.com/chiphost/chiphost/runtime/internal/wasmbin"
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
func rewriteCode(s wasmbin.Section, ci codeInfo) ([]byte, Stats, error) {
	var stats Stats
	r := s.Reader()
	n, err := r.U32()
	if err != nil {
		return nil, stats, fmt.Errorf("interrupt: code section: count: %w", err)
	}
	out := make([]byte, 0, len(s.Payload)+len(s.Payload)/8+64)
	out = wasmbin.AppendU32(out, n+1) // corrected below when no loop needs the yield function
	countLen := len(out)
	br := &bodyRewriter{ci: ci, snippets: ci.snippets(), w: &bodyWriter{}}
	for i := uint32(0); i < n; i++ {
		fn := uint64(ci.m.importFuncs) + uint64(i)
		entry := r.Pos()
		body, at, err := readBody(r)
		if err != nil {
			return nil, stats, fmt.Errorf("interrupt: code section: function %d: %w", fn, err)
		}
		loops, err := br.rewrite(wasmbin.NewReader(body, at))
		if err != nil {
			return nil, stats, fmt.Errorf("interrupt: code section: function %d: %w", fn, err)
		}
		if loops == 0 {
			out = append(out, s.Payload[entry:r.Pos()]...)
			continue
		}
		stats.Functions++
		stats.Loops += loops
		if uint64(len(br.w.out)) > 1<<32-1 {
			return nil, stats, fmt.Errorf("interrupt: code section: function %d: instrumented body exceeds 4 GiB", fn)
		}
		out = wasmbin.AppendU32(out, uint32(len(br.w.out)))
		out = append(out, br.w.out...)
	}
	if !r.Done() {
		return nil, stats, fmt.Errorf("interrupt: code section: %d trailing bytes after %d bodies at offset %#x",
			r.Len(), n, r.Offset())
	}
	if stats.Loops == 0 {
		return append(wasmbin.AppendU32(nil, n), out[countLen:]...), stats, nil
	}
	yield := ci.yieldBody()
	out = wasmbin.AppendU32(out, uint32(len(yield)))
	return append(out, yield...), stats, nil
}

// readBody reads one code section entry: a size, then the body. It returns the body
// and its offset.
func readBody(r *wasmbin.Reader) ([]byte, int, error) {
	size, err := r.U32()
	if err != nil {
		return nil, 0, fmt.Errorf("body size: %w", err)
	}
	at := r.Offset()
	if uint64(size) > uint64(r.Len()) {
		return nil, 0, fmt.Errorf("body size %d at offset %#x exceeds the %d bytes left", size, at, r.Len())
	}
	body, _ := r.Bytes(int(size))
	return body, at, nil
}

// yieldBody is the body of the yield function: it rearms the countdown, makes a trip
// into Go (memory.grow 0 on memory 0, which wazero's compiler runs in Go, where the
// goroutine can be preempted), and traps when the interrupt flag is set.
func (ci codeInfo) yieldBody() []byte {
	b := []byte{0x00, wasmbin.OpI32Const} // no locals
	b = wasmbin.AppendS64(b, yieldInterval)
	b = wasmbin.AppendU32(append(b, wasmbin.OpGlobalSet), ci.counter)
	constOp := byte(wasmbin.OpI32Const)
	if ci.m.memory64 {
		constOp = wasmbin.OpI64Const
	}
	b = append(b, constOp, 0x00, wasmbin.OpMemoryGrow, 0x00, wasmbin.OpDrop) // memory.grow 0 on memory 0
	b = wasmbin.AppendU32(append(b, wasmbin.OpGlobalGet), ci.flag)
	return append(b, wasmbin.OpI32Eqz, wasmbin.OpBrIf, 0x00, wasmbin.OpUnreachable, wasmbin.OpEnd)
}

// snippets are the instruction sequences inserted around loops.
type snippets struct {
	brSlow []byte // the countdown, then br_if $slow
	inline []byte // the countdown, then if  call $yield  end
	tail   []byte // closes the wrapper blocks of a loop
}

// snippets builds the inserted sequences for this module's globals and yield function.
func (ci codeInfo) snippets() snippets {
	countdown := wasmbin.AppendU32([]byte{wasmbin.OpGlobalGet}, ci.counter)
	countdown = append(countdown, wasmbin.OpI32Const, 0x7f, wasmbin.OpI32Add, wasmbin.OpGlobalSet) // -1
	countdown = wasmbin.AppendU32(countdown, ci.counter)
	countdown = wasmbin.AppendU32(append(countdown, wasmbin.OpGlobalGet), ci.counter)
	countdown = append(countdown, wasmbin.OpI32Eqz)

	var s snippets
	s.brSlow = append(append([]byte(nil), countdown...), wasmbin.OpBrIf, 0x01)
	s.inline = append(append([]byte(nil), countdown...), wasmbin.OpIf, wasmbin.BlockEmpty, wasmbin.OpCall)
	s.inline = append(wasmbin.AppendU32(s.inline, ci.yield), wasmbin.OpEnd)
	// br $done  end  call $yield  br $again  end  end
	s.tail = wasmbin.AppendU32([]byte{wasmbin.OpBr, 0x02, wasmbin.OpEnd, wasmbin.OpCall}, ci.yield)
	s.tail = append(s.tail, wasmbin.OpBr, 0x00, wasmbin.OpEnd, wasmbin.OpEnd)
	return s
}

// loopHasParams reports whether the loop block type bt takes operands. An unknown type
// index counts as taking them, which selects the inline check.
func (ci codeInfo) loopHasParams(bt []byte) bool {
	if len(bt) == 1 && (bt[0] == wasmbin.BlockEmpty || wasmbin.IsValType(bt[0])) || bt[0] == wasmbin.ValRefNull || bt[0] == wasmbin.ValRef {
		return false
	}
	idx, err := wasmbin.NewReader(bt, 0).S33()
	if err != nil || idx < 0 || idx >= int64(len(ci.m.types)) {
		return true
	}
	return ci.m.types[idx].params != 0
}

// bodyWriter copies a function body while applying insertions and replacements in
// increasing offset order.
type bodyWriter struct {
	body   []byte
	out    []byte
	copied int // body offset up to which bytes have been copied to out
}

// reset starts copying body, reusing the output buffer.
func (w *bodyWriter) reset(body []byte) {
	w.body, w.out, w.copied = body, w.out[:0], 0
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

// frame is one open control frame of the body being rewritten.
type frame struct {
	wrapped bool // a loop that got the three wrapper blocks
	outer   int  // wrapped loops in this frame and all frames around it
}

// bodyRewriter decodes one function body at a time and writes it instrumented; its
// buffers are reused from body to body.
type bodyRewriter struct {
	ci       codeInfo
	snippets snippets
	r        *wasmbin.Reader
	w        *bodyWriter
	stack    []frame
	loops    int
}

// rewrite decodes one function body (locals and instructions) from r and writes the
// instrumented body to br.w. It returns the number of loops. It fails unless the
// instructions end with the end that closes the body, exactly at the body's end.
func (br *bodyRewriter) rewrite(r *wasmbin.Reader) (int, error) {
	br.r, br.loops, br.stack = r, 0, br.stack[:0]
	br.w.reset(r.Rest())
	if err := skipLocals(r); err != nil {
		return 0, err
	}
	br.stack = append(br.stack, frame{}) // the function's own frame
	for len(br.stack) > 0 {
		if r.Done() {
			return br.loops, fmt.Errorf("body ends at offset %#x inside %d open blocks", r.Offset(), len(br.stack))
		}
		if err := br.instr(); err != nil {
			return br.loops, err
		}
	}
	if !r.Done() {
		return br.loops, fmt.Errorf("%d bytes after the final end at offset %#x", r.Len(), r.Offset())
	}
	br.w.insert(r.Pos())
	return br.loops, nil
}

// skipLocals reads the local declarations of a body.
func skipLocals(r *wasmbin.Reader) error {
	n, err := r.U32()
	if err != nil {
		return fmt.Errorf("local declarations: %w", err)
	}
	for i := uint32(0); i < n; i++ {
		if _, err := r.U32(); err != nil {
			return fmt.Errorf("local declaration %d: count: %w", i, err)
		}
		if err := r.SkipValType(); err != nil {
			return fmt.Errorf("local declaration %d: %w", i, err)
		}
	}
	return nil
}

// instr decodes one instruction: the control instructions here, the rest by skipInstr.
func (br *bodyRewriter) instr() error {
	at, opPos := br.r.Offset(), br.r.Pos()
	op, _ := br.r.Byte()
	switch op {
	case wasmbin.OpBlock, wasmbin.OpIf, wasmbin.OpTry:
		if err := skipBlockType(br.r); err != nil {
			return opErr(op, at, err)
		}
		br.push(false)
	case wasmbin.OpLoop:
		return br.loop(opPos, at)
	case wasmbin.OpEnd:
		br.end()
	case wasmbin.OpDelegate: // closes a try in place of end
		return br.delegate(at)
	case wasmbin.OpBr, wasmbin.OpBrIf, wasmbin.OpRethrow, wasmbin.OpBrOnNull, wasmbin.OpBrOnNonNull:
		return br.label(op, at)
	case wasmbin.OpBrTable:
		return br.brTable(at)
	case wasmbin.OpTryTable:
		return br.tryTable(at)
	default:
		return skipInstr(br.r, op, at)
	}
	return nil
}

// push opens a frame; wrapped tells whether it is a loop with the wrapper blocks.
func (br *bodyRewriter) push(wrapped bool) {
	f := frame{wrapped: wrapped, outer: br.stack[len(br.stack)-1].outer}
	if wrapped {
		f.outer++
	}
	br.stack = append(br.stack, f)
}

// loop instruments the loop whose opcode is at body position opPos.
func (br *bodyRewriter) loop(opPos, at int) error {
	if err := skipBlockType(br.r); err != nil {
		return opErr(wasmbin.OpLoop, at, err)
	}
	bt := br.w.body[opPos+1 : br.r.Pos()]
	br.loops++
	if br.ci.loopHasParams(bt) {
		br.w.insert(br.r.Pos(), br.snippets.inline...)
		br.push(false)
		return nil
	}
	head := append(append([]byte{wasmbin.OpBlock}, bt...), wasmbin.OpLoop)
	head = append(append(head, bt...), wasmbin.OpBlock, wasmbin.BlockEmpty)
	br.w.insert(opPos, head...)
	br.w.insert(br.r.Pos(), br.snippets.brSlow...)
	br.push(true)
	return nil
}

// end closes the innermost frame, and the wrapper blocks of a wrapped loop.
func (br *bodyRewriter) end() {
	f := br.stack[len(br.stack)-1]
	br.stack = br.stack[:len(br.stack)-1]
	if f.wrapped {
		br.w.insert(br.r.Pos(), br.snippets.tail...)
	}
}

// delegate closes a try (legacy exceptions) and reads its label.
func (br *bodyRewriter) delegate(at int) error {
	if len(br.stack) < 2 {
		return fmt.Errorf("delegate outside a try at offset %#x", at)
	}
	br.stack = br.stack[:len(br.stack)-1]
	return br.label(wasmbin.OpDelegate, at)
}

// brTable reads the labels of a br_table: vec(label) default.
func (br *bodyRewriter) brTable(at int) error {
	n, err := br.r.U32()
	if err != nil {
		return opErr(wasmbin.OpBrTable, at, fmt.Errorf("label count: %w", err))
	}
	for i := uint64(0); i <= uint64(n); i++ {
		if err := br.label(wasmbin.OpBrTable, at); err != nil {
			return err
		}
	}
	return nil
}

// tryTable reads a try_table: its catch labels are relative to the frames around it.
func (br *bodyRewriter) tryTable(at int) error {
	const op = wasmbin.OpTryTable
	if err := skipBlockType(br.r); err != nil {
		return opErr(op, at, err)
	}
	n, err := br.r.U32()
	if err != nil {
		return opErr(op, at, fmt.Errorf("catch count: %w", err))
	}
	for i := uint32(0); i < n; i++ {
		if err := skipCatchTag(br.r, i); err != nil {
			return opErr(op, at, err)
		}
		if err := br.label(op, at); err != nil {
			return err
		}
	}
	br.push(false)
	return nil
}

// skipCatchTag reads the kind of catch clause i and its tag, if it has one.
func skipCatchTag(r *wasmbin.Reader, i uint32) error {
	at := r.Offset()
	kind, err := r.Byte()
	if err != nil {
		return fmt.Errorf("catch %d: %w", i, err)
	}
	switch kind {
	case wasmbin.CatchClause, wasmbin.CatchRefClause:
		if _, err := r.U32(); err != nil {
			return fmt.Errorf("catch %d: tag: %w", i, err)
		}
	case wasmbin.CatchAllClause, wasmbin.CatchAllRefClause:
	default:
		return fmt.Errorf("catch %d: unknown catch kind %#x at offset %#x", i, kind, at)
	}
	return nil
}

// label reads a label immediate and raises it by 3 for each wrapped loop it leaves.
func (br *bodyRewriter) label(op byte, at int) error {
	from := br.r.Pos()
	l, err := br.r.U32()
	if err != nil {
		return opErr(op, at, fmt.Errorf("label: %w", err))
	}
	if uint64(l) >= uint64(len(br.stack)) {
		return fmt.Errorf("opcode 0x%02x at offset %#x: label %d out of range at depth %d", op, at, l, len(br.stack))
	}
	crossed := br.stack[len(br.stack)-1].outer - br.stack[len(br.stack)-1-int(l)].outer
	if crossed == 0 {
		return nil
	}
	nl := uint64(l) + 3*uint64(crossed)
	if nl > 1<<32-1 {
		return fmt.Errorf("opcode 0x%02x at offset %#x: label %d overflows once raised by %d", op, at, l, 3*crossed)
	}
	br.w.replace(from, br.r.Pos(), wasmbin.AppendU32(nil, uint32(nl)))
	return nil
}
