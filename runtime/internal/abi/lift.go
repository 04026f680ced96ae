package abi

import (
	"encoding/binary"
	"math"
	"unicode/utf8"
	"unsafe"

	"github.com/chiphost/chiphost/wit"
)

// Value is a lifted or to-be-lowered component value. Which fields are
// meaningful depends on its wit.Type:
//
//   - Num: bool (0 or 1), integers (two's complement in uint64; signed values
//     sign-extended), char (the rune), f32 and f64 (math.Float32bits and
//     math.Float64bits), the case index of a variant, enum, option (0 none,
//     1 some) or result (0 ok, 1 err), and the bits of flags (flag i is bit i).
//   - Str: string.
//   - Bytes: list<u8> (always Bytes, never Elems, for list<u8>).
//   - Elems: list elements, record and tuple fields in order, and the
//     payload of a variant, option or result case (one element, or none when
//     the case has no payload).
type Value struct {
	Num   uint64
	Str   string
	Bytes []byte
	Elems []Value
}

// Memory is a guest's linear memory. Read returns a view of byteCount bytes
// at offset, or false when the range is out of bounds; Write copies v to
// offset, or returns false when out of bounds. wazero's api.Memory satisfies
// it.
type Memory interface {
	Read(offset, byteCount uint32) ([]byte, bool)
	Write(offset uint32, v []byte) bool
}

const (
	// arenaBlock is the size of the Lifter's byte blocks; strings larger
	// than a quarter of it get their own allocation.
	arenaBlock = 256 << 10
	// slabMin and slabMax bound the size, in Values, of the Lifter's value
	// chunks (they double from slabMin); lists longer than slabMax/2 get
	// their own allocation.
	slabMin = 256
	slabMax = 16 << 10
	bigMax  = 256 << 10 // Values in the reusable block for the longest list of a lift
	// MaxEmptyListLen bounds the length of a lifted list whose element type
	// has size 0 (an empty record or tuple, or flags without members). Such
	// a list takes no guest memory, so only this limit stops a guest from
	// asking for 2^32-1 elements. Empty types are invalid in the current
	// Component Model, so no real component needs more.
	MaxEmptyListLen = 1 << 16
	// valueSize is what one Value counts against Lifter.MaxBytes.
	valueSize = int64(unsafe.Sizeof(Value{}))
)

// Lifter lifts guest values into Values. Strings and byte lists are copied
// into arena blocks owned by the Lifter and exposed without a per-string
// allocation (Str is an unsafe.String over the arena); Elems come from a
// slab of Values. Layouts are computed once per *wit.Type and cached.
//
// Reset makes the Lifter reuse its memory: it invalidates every Value
// returned before it, including strings and byte slices inside them, which
// will be overwritten by later lifts. Copy anything that must outlive the
// next Reset.
//
// # Notes
//
// A Lifter is not safe for concurrent use. Without MaxBytes, lifting one
// value can take up to about 72 bytes of Go memory per byte of guest memory
// (a list<bool> lifts into one Value per byte); set MaxBytes to bound it.
type Lifter struct {
	// Handles resolves own and borrow handles; nil when the types lifted
	// hold none.
	Handles Handles

	// MaxBytes bounds the Go memory the Lifter hands out between Resets:
	// bytes of strings and byte lists plus unsafe.Sizeof(Value{}) per Value
	// of list elements, fields and payloads. 0 means no limit. A lift that
	// would exceed it fails with an *Error.
	MaxBytes int64

	layouts layoutCache
	used    int64 // bytes counted against MaxBytes since Reset

	blocks [][]byte // arena blocks; blocks[:cur] are full, buf is blocks[cur]
	cur    int
	buf    []byte

	chunks [][]Value // slab chunks; chunks[:ccur] are full, slab is chunks[ccur]
	ccur   int
	slab   []Value

	big     []Value // reusable block for one long list per lift (see valuesSlow)
	bigUsed bool

	// own is set when a string or list got its own allocation since Reset;
	// Reset then clears the slab so stale Values do not keep it alive.
	own bool

	// enc is the string encoding of the lift in progress (from its
	// Signature); scratch holds a utf16 or latin1 string being converted.
	enc     Encoding
	scratch []byte
}

// NewLifter returns an empty Lifter. The zero Lifter is ready to use too.
func NewLifter() *Lifter { return &Lifter{} }

// Reset forgets every Value returned so far and makes their memory reusable.
func (l *Lifter) Reset() {
	if l.own {
		for i := 0; i < l.ccur && i < len(l.chunks); i++ {
			clear(l.chunks[i])
		}
		clear(l.slab)
		l.own = false
	}
	for i := range l.chunks {
		l.chunks[i] = l.chunks[i][:0]
	}
	for i := range l.blocks {
		l.blocks[i] = l.blocks[i][:0]
	}
	l.cur, l.ccur, l.used = 0, 0, 0
	l.bigUsed = false
	l.buf, l.slab = nil, nil
	if len(l.blocks) > 0 {
		l.buf = l.blocks[0]
	}
	if len(l.chunks) > 0 {
		l.slab = l.chunks[0]
	}
}

// charge counts n bytes against MaxBytes.
func (l *Lifter) charge(n int64) error {
	l.used += n
	if l.MaxBytes > 0 && l.used > l.MaxBytes {
		return l.overLimit()
	}
	return nil
}

// overLimit is charge's error, out of line so that charge inlines.
//
//go:noinline
func (l *Lifter) overLimit() error {
	return errorf("lifted values exceed the limit of %d bytes", l.MaxBytes)
}

// copyBytes copies src into the arena and returns the copy, with its
// capacity clipped so that appending to it cannot overwrite a neighbour.
func (l *Lifter) copyBytes(src []byte) []byte {
	if off, n := len(l.buf), len(src); n <= cap(l.buf)-off {
		l.buf = append(l.buf, src...)
		return l.buf[off : off+n : off+n]
	}
	return l.copyBytesSlow(src)
}

// copyBytesSlow is copyBytes when the current block is full.
//
//go:noinline
func (l *Lifter) copyBytesSlow(src []byte) []byte {
	n := len(src)
	if n > arenaBlock/4 {
		l.own = true
		return append(make([]byte, 0, n), src...)
	}
	if n > cap(l.buf)-len(l.buf) {
		if l.buf != nil {
			l.blocks[l.cur] = l.buf
			l.cur++
		}
		if l.cur == len(l.blocks) {
			l.blocks = append(l.blocks, make([]byte, 0, arenaBlock))
		}
		l.buf = l.blocks[l.cur][:0]
	}
	off := len(l.buf)
	l.buf = append(l.buf, src...)
	return l.buf[off : off+n : off+n]
}

// values returns n Values, not necessarily zeroed, from the slab (or n Values of their own
// when n is large), with capacity n.
func (l *Lifter) values(n int) []Value {
	if off := len(l.slab); n > 0 && n <= cap(l.slab)-off {
		l.slab = l.slab[:off+n]
		return l.slab[off : off+n : off+n]
	}
	return l.valuesSlow(n)
}

// valuesSlow is values when the current chunk is full.
//
//go:noinline
func (l *Lifter) valuesSlow(n int) []Value {
	if n == 0 {
		return nil
	}
	if n > slabMax/2 {
		// A long list (thousands of parse items): reuse one large block
		// across Resets instead of allocating and zeroing it per call, up
		// to bigMax Values; larger ones get their own allocation.
		if !l.bigUsed && n <= cap(l.big) {
			l.bigUsed = true
			return l.big[:n:n]
		}
		if !l.bigUsed && n <= bigMax {
			l.big = make([]Value, n, n+n/4)
			l.bigUsed = true
			return l.big[:n:n]
		}
		l.own = true
		return make([]Value, n)
	}
	if n > cap(l.slab)-len(l.slab) {
		size := slabMin
		if l.slab != nil {
			l.chunks[l.ccur] = l.slab
			l.ccur++
			size = min(2*cap(l.slab), slabMax)
		}
		if l.ccur == len(l.chunks) {
			l.chunks = append(l.chunks, make([]Value, 0, max(size, n)))
		} else if cap(l.chunks[l.ccur]) < n {
			l.chunks[l.ccur] = make([]Value, 0, max(size, n))
		}
		l.slab = l.chunks[l.ccur][:0]
	}
	off := len(l.slab)
	l.slab = l.slab[:off+n]
	// Reused chunks hold stale Values: callers assign every element.
	return l.slab[off : off+n : off+n]
}

func (l *Lifter) liftFrom(mem Memory, lay *layout, ptr uint32) (Value, error) {
	if ptr&(lay.align-1) != 0 {
		return Value{}, errorf("pointer %#x is not aligned to %d", ptr, lay.align)
	}
	b, err := read(mem, ptr, uint64(lay.size), "value")
	if err != nil {
		return Value{}, err
	}
	var v Value
	if err := l.load(&v, mem, lay, b); err != nil {
		return Value{}, err
	}
	return v, nil
}

// LiftResult lifts the result of an export called with the core results
// results: from the return area they point to when sig.ResultSpilled, else
// from the flat value. It returns Value{} when the function has no result.
// Error paths start with "result".
func (l *Lifter) LiftResult(mem Memory, sig *Signature, results []uint64) (Value, error) {
	if err := sig.check(); err != nil {
		return Value{}, err
	}
	if sig.Func.Result == nil {
		return Value{}, nil
	}
	l.enc = sig.Encoding
	lay, err := l.layouts.get(sig.Func.Result)
	if err != nil {
		return Value{}, wrap(err, "result")
	}
	var v Value
	switch {
	case sig.ResultSpilled:
		if len(results) != 1 {
			return Value{}, errorf("want 1 core result (the return area), got %d", len(results))
		}
		v, err = l.liftFrom(mem, lay, uint32(results[0]))
	case len(results) != len(lay.flat):
		return Value{}, errorf("want %d core results, got %d", len(lay.flat), len(results))
	default:
		v, err = l.liftFlat(mem, lay, results)
	}
	if err != nil {
		return Value{}, wrap(err, "result")
	}
	return v, nil
}

// LiftParams lifts the parameters of an import called by the guest with the
// core arguments params (including the trailing retptr when
// sig.ResultSpilled, which it ignores): from the tuple params[0] points to
// when sig.ParamsSpilled, else from the flat values. Error paths start with
// the parameter name. The returned slice comes from the slab.
func (l *Lifter) LiftParams(mem Memory, sig *Signature, params []uint64) ([]Value, error) {
	if err := sig.check(); err != nil {
		return nil, err
	}
	if len(params) != len(sig.Params) {
		return nil, errorf("want %d core parameters, got %d", len(sig.Params), len(params))
	}
	l.enc = sig.Encoding
	lay, err := l.layouts.get(sig.params)
	if err != nil {
		return nil, err
	}
	if sig.ParamsSpilled {
		v, err := l.liftFrom(mem, lay, uint32(params[0]))
		return v.Elems, err
	}
	if err := l.charge(int64(len(lay.fields)) * valueSize); err != nil {
		return nil, err
	}
	vals := l.values(len(lay.fields))
	off := 0
	for i, f := range lay.fields {
		v, err := l.liftFlat(mem, f.l, params[off:off+len(f.l.flat)])
		if err != nil {
			return nil, wrap(err, f.name)
		}
		vals[i] = v
		off += len(f.l.flat)
	}
	return vals, nil
}

// read returns the n bytes at ptr, checking for overflow and bounds.
func read(mem Memory, ptr uint32, n uint64, what string) ([]byte, error) {
	if uint64(ptr)+n > math.MaxUint32+1 {
		return nil, rangeError(what, ptr, n, "overflows the 32-bit address space")
	}
	b, ok := mem.Read(ptr, uint32(n))
	if !ok || uint64(len(b)) != n {
		return nil, rangeError(what, ptr, n, "is out of bounds")
	}
	return b, nil
}

// rangeError is read's error, out of line so that read inlines.
//
//go:noinline
func rangeError(what string, ptr uint32, n uint64, msg string) error {
	return errorf("%s at %#x (%d bytes) %s", what, ptr, n, msg)
}

// Canonical NaNs: lifting replaces every NaN with these (CanonicalABI.md,
// canonicalize_nan32/64).
const (
	canonicalNaN32 = 0x7fc00000
	canonicalNaN64 = 0x7ff8000000000000
)

func liftF32(bits uint32) uint64 {
	if f := math.Float32frombits(bits); f != f {
		return canonicalNaN32
	}
	return uint64(bits)
}

func liftF64(bits uint64) uint64 {
	if f := math.Float64frombits(bits); f != f {
		return canonicalNaN64
	}
	return bits
}

func liftChar(c uint32) (uint64, error) {
	if c >= 0x110000 || (c >= 0xD800 && c <= 0xDFFF) {
		return 0, errorf("char %#x is not a Unicode scalar value", c)
	}
	return uint64(c), nil
}

// flagMask keeps the bits of n flags; lifting ignores the others, as
// CanonicalABI.md's unpack_flags_from_int does.
func flagMask(n int) uint64 {
	if n >= 64 {
		return math.MaxUint64
	}
	return 1<<n - 1
}

// liftFlat lifts a value from exactly len(lay.flat) flat values. Values
// narrower than their slot (an i32 payload in an i64 slot of a joined
// variant) are wrapped to their width, which is the canonical ABI's
// coercion (wrap_i64_to_i32 and the i32/f32 bit casts).
func (l *Lifter) liftFlat(mem Memory, lay *layout, flat []uint64) (Value, error) {
	var v Value
	switch lay.kind {
	case wit.Bool:
		// Canonical ABI: any non-zero i32 is true (convert_int_to_bool).
		if uint32(flat[0]) != 0 {
			v.Num = 1
		}
	case wit.U8:
		v.Num = uint64(uint8(flat[0]))
	case wit.S8:
		v.Num = uint64(int64(int8(flat[0])))
	case wit.U16:
		v.Num = uint64(uint16(flat[0]))
	case wit.S16:
		v.Num = uint64(int64(int16(flat[0])))
	case wit.U32:
		v.Num = uint64(uint32(flat[0]))
	case wit.S32:
		v.Num = uint64(int64(int32(flat[0])))
	case wit.U64, wit.S64:
		v.Num = flat[0]
	case wit.F32:
		v.Num = liftF32(uint32(flat[0]))
	case wit.F64:
		v.Num = liftF64(flat[0])
	case wit.Char:
		c, err := liftChar(uint32(flat[0]))
		if err != nil {
			return v, err
		}
		v.Num = c
	case wit.Own, wit.Borrow:
		n, err := l.liftHandle(lay, uint32(flat[0]))
		v.Num = n
		return v, err
	case wit.String:
		return v, l.liftString(&v, mem, uint32(flat[0]), uint32(flat[1]))
	case wit.List:
		return v, l.liftList(&v, mem, lay.elem, uint32(flat[0]), uint32(flat[1]))
	case wit.Record, wit.Tuple:
		if err := l.charge(int64(len(lay.fields)) * valueSize); err != nil {
			return v, err
		}
		v.Elems = l.values(len(lay.fields))
		off := 0
		for i, f := range lay.fields {
			e, err := l.liftFlat(mem, f.l, flat[off:off+len(f.l.flat)])
			if err != nil {
				return Value{}, wrap(err, f.name)
			}
			v.Elems[i] = e
			off += len(f.l.flat)
		}
	case wit.Variant, wit.Enum, wit.Option, wit.Result:
		disc := uint32(flat[0])
		if disc >= uint32(len(lay.cases)) {
			return v, errorf("discriminant %d out of range for %s (%d cases)", disc, lay.t, len(lay.cases))
		}
		v.Num = uint64(disc)
		if pl := lay.cases[disc]; pl != nil {
			if err := l.charge(valueSize); err != nil {
				return v, err
			}
			v.Elems = l.values(1)
			e, err := l.liftFlat(mem, pl, flat[1:1+len(pl.flat)])
			if err != nil {
				return Value{}, wrap(err, lay.names[disc])
			}
			v.Elems[0] = e
		}
	case wit.Flags:
		for i := range lay.flat {
			v.Num |= uint64(uint32(flat[i])) << (32 * i)
		}
		v.Num &= flagMask(lay.nflags)
	}
	return v, nil
}

// load lifts a value from b, which holds at least lay.size bytes at a
// suitably aligned guest address, into *dst (which may hold a stale Value).
// It writes through dst instead of returning a Value so that the hot path
// does not copy Values around.
func (l *Lifter) load(dst *Value, mem Memory, lay *layout, b []byte) error {
	*dst = Value{}
	switch lay.kind {
	case wit.Bool:
		// Canonical ABI: any non-zero byte is true (convert_int_to_bool).
		if b[0] != 0 {
			dst.Num = 1
		}
	case wit.U8:
		dst.Num = uint64(b[0])
	case wit.S8:
		dst.Num = uint64(int64(int8(b[0])))
	case wit.U16:
		dst.Num = uint64(binary.LittleEndian.Uint16(b))
	case wit.S16:
		dst.Num = uint64(int64(int16(binary.LittleEndian.Uint16(b))))
	case wit.U32:
		dst.Num = uint64(binary.LittleEndian.Uint32(b))
	case wit.S32:
		dst.Num = uint64(int64(int32(binary.LittleEndian.Uint32(b))))
	case wit.U64, wit.S64:
		dst.Num = binary.LittleEndian.Uint64(b)
	case wit.F32:
		dst.Num = liftF32(binary.LittleEndian.Uint32(b))
	case wit.F64:
		dst.Num = liftF64(binary.LittleEndian.Uint64(b))
	case wit.Char:
		c, err := liftChar(binary.LittleEndian.Uint32(b))
		if err != nil {
			return err
		}
		dst.Num = c
	case wit.Own, wit.Borrow:
		n, err := l.liftHandle(lay, binary.LittleEndian.Uint32(b))
		dst.Num = n
		return err
	case wit.String:
		return l.liftString(dst, mem, binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:]))
	case wit.List:
		return l.liftList(dst, mem, lay.elem, binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:]))
	case wit.Record, wit.Tuple:
		if err := l.charge(int64(len(lay.fields)) * valueSize); err != nil {
			return err
		}
		elems := l.values(len(lay.fields))
		for i := range lay.fields {
			f := &lay.fields[i]
			if err := l.load(&elems[i], mem, f.l, b[f.off:]); err != nil {
				return wrap(err, f.name)
			}
		}
		dst.Elems = elems
	case wit.Variant, wit.Enum, wit.Option, wit.Result:
		var disc uint32
		switch lay.discSize {
		case 1:
			disc = uint32(b[0])
		case 2:
			disc = uint32(binary.LittleEndian.Uint16(b))
		default:
			disc = binary.LittleEndian.Uint32(b)
		}
		if disc >= uint32(len(lay.cases)) {
			return errorf("discriminant %d out of range for %s (%d cases)", disc, lay.t, len(lay.cases))
		}
		dst.Num = uint64(disc)
		if pl := lay.cases[disc]; pl != nil {
			if err := l.charge(valueSize); err != nil {
				return err
			}
			elems := l.values(1)
			if err := l.load(&elems[0], mem, pl, b[lay.payloadOff:]); err != nil {
				return wrap(err, lay.names[disc])
			}
			dst.Elems = elems
		}
	case wit.Flags:
		switch lay.size {
		case 0:
		case 1:
			dst.Num = uint64(b[0])
		case 2:
			dst.Num = uint64(binary.LittleEndian.Uint16(b))
		case 4:
			dst.Num = uint64(binary.LittleEndian.Uint32(b))
		default:
			dst.Num = binary.LittleEndian.Uint64(b)
		}
		dst.Num &= flagMask(lay.nflags)
	}
	return nil
}

// liftString copies the utf8 string of n bytes at ptr into the arena and
// validates the copy; strings in the other encodings go to liftString16.
func (l *Lifter) liftString(dst *Value, mem Memory, ptr, n uint32) error {
	if l.enc != UTF8 {
		return l.liftString16(dst, mem, ptr, n)
	}
	src, err := read(mem, ptr, uint64(n), "string")
	if err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	if err := l.charge(int64(n)); err != nil {
		return err
	}
	b := l.copyBytes(src)
	if !utf8.Valid(b) {
		return errorf("string at %#x (%d bytes) is not valid UTF-8", ptr, n)
	}
	dst.Str = unsafe.String(&b[0], len(b))
	return nil
}

// liftList lifts n elements of layout el stored at ptr.
func (l *Lifter) liftList(dst *Value, mem Memory, el *layout, ptr, n uint32) error {
	if ptr&(el.align-1) != 0 {
		return errorf("list pointer %#x is not aligned to %d", ptr, el.align)
	}
	if el.size == 0 && n > MaxEmptyListLen {
		return errorf("list of %d zero-size elements exceeds the limit of %d", n, MaxEmptyListLen)
	}
	size := uint64(el.size)
	src, err := read(mem, ptr, uint64(n)*size, "list")
	if err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	if el.kind == wit.U8 {
		if err := l.charge(int64(n)); err != nil {
			return err
		}
		dst.Bytes = l.copyBytes(src)
		return nil
	}
	if err := l.charge(int64(n) * valueSize); err != nil {
		return err
	}
	elems := l.values(int(n))
	for i := range elems {
		if err := l.load(&elems[i], mem, el, src[uint64(i)*size:]); err != nil {
			return wrapIndex(err, i)
		}
	}
	dst.Elems = elems
	return nil
}
