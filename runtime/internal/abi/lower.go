package abi

import (
	"context"
	"encoding/binary"
	"math"
	"unicode/utf8"
	"unsafe"

	"github.com/chiphost/chiphost/wit"
)

// Realloc is the guest's cabi_realloc: it returns a block of newSize bytes
// aligned to align, moving the old block (old, oldSize) if there is one.
// The Lowerer allocates (old and oldSize are 0), except for utf16 and
// latin1+utf16 strings, whose blocks it also shrinks or grows as the
// canonical ABI prescribes. An error (a trap in the guest) aborts the
// lowering and is kept as the cause of the *Error.
type Realloc func(ctx context.Context, old, oldSize, align, newSize uint32) (uint32, error)

// MaxStringByteLength is the canonical ABI's limit on the byte length of a
// lowered string.
const MaxStringByteLength = 1<<31 - 1

// Lowerer lowers Values into guest memory, allocating with the guest's
// realloc. It checks the values (integers in range, discriminants, UTF-8,
// chars, value shapes) and what realloc returns (alignment and bounds).
//
// # Notes
//
// A Lowerer caches layouts and is not safe for concurrent use. Realloc may
// grow the guest memory, so Mem must stay valid across growth (wazero's
// api.Memory does).
type Lowerer struct {
	Mem     Memory
	Realloc Realloc
	// Handles gives the guest handles for own values; nil when the types
	// lowered hold none.
	Handles Handles

	layouts layoutCache
	enc     Encoding // string encoding of the lowering in progress
}

// LowerParams lowers the arguments of an export call and appends the core
// arguments to out: the flat values, or, when sig.ParamsSpilled, one
// pointer to a tuple of them in a block allocated with realloc. Strings are
// stored in sig.Encoding. Error paths start with the parameter name.
func (w *Lowerer) LowerParams(ctx context.Context, sig *Signature, args []Value, out []uint64) ([]uint64, error) {
	if err := sig.check(); err != nil {
		return out, err
	}
	w.enc = sig.Encoding
	if len(args) != len(sig.Func.Params) {
		return out, errorf("%s takes %d arguments, got %d", sig.Func.Name, len(sig.Func.Params), len(args))
	}
	lay, err := w.layouts.get(sig.params)
	if err != nil {
		return out, err
	}
	if sig.ParamsSpilled {
		ptr, err := w.alloc(ctx, lay.align, uint64(lay.size))
		if err != nil {
			return out, err
		}
		if err := w.lowerTo(ctx, lay, Value{Elems: args}, ptr); err != nil {
			return out, err
		}
		return append(out, uint64(ptr)), nil
	}
	for i, f := range lay.fields {
		if out, err = w.lowerFlat(ctx, f.l, args[i], out); err != nil {
			return out, wrap(err, f.name)
		}
	}
	return out, nil
}

// LowerResult lowers the result v of an import the guest called with the
// core arguments params (those of sig, the retptr last when
// sig.ResultSpilled): stored at the retptr, or as flat values appended to
// out. Strings are stored in sig.Encoding. Error paths start with "result".
func (w *Lowerer) LowerResult(ctx context.Context, sig *Signature, v Value, params, out []uint64) ([]uint64, error) {
	if err := sig.check(); err != nil {
		return out, err
	}
	if sig.Func.Result == nil {
		return out, nil
	}
	lay, err := w.layouts.get(sig.Func.Result)
	if err != nil {
		return out, wrap(err, "result")
	}
	w.enc = sig.Encoding
	if sig.ResultSpilled {
		if len(params) != len(sig.Params) {
			return out, errorf("want %d core parameters, got %d", len(sig.Params), len(params))
		}
		return out, wrap(w.lowerTo(ctx, lay, v, uint32(params[len(params)-1])), "result")
	}
	out, err = w.lowerFlat(ctx, lay, v, out)
	return out, wrap(err, "result")
}

// LowerFlat lowers v of type t into its flat core values, appended to out
// (i32 and f32 zero-extended in the low 32 bits, as wazero takes them).
// Strings are stored as utf8.
func (w *Lowerer) LowerFlat(ctx context.Context, t *wit.Type, v Value, out []uint64) ([]uint64, error) {
	w.enc = UTF8
	lay, err := w.layouts.get(t)
	if err != nil {
		return out, err
	}
	return w.lowerFlat(ctx, lay, v, out)
}

// LowerTo stores v of type t at ptr in guest memory (for example an import
// result at its retptr). ptr must be aligned and the value in bounds.
// Strings are stored as utf8.
func (w *Lowerer) LowerTo(ctx context.Context, t *wit.Type, v Value, ptr uint32) error {
	w.enc = UTF8
	lay, err := w.layouts.get(t)
	if err != nil {
		return err
	}
	return w.lowerTo(ctx, lay, v, ptr)
}

func (w *Lowerer) lowerTo(ctx context.Context, lay *layout, v Value, ptr uint32) error {
	if w.Mem == nil {
		return errorf("no memory")
	}
	if ptr&(lay.align-1) != 0 {
		return errorf("pointer %#x is not aligned to %d", ptr, lay.align)
	}
	if _, err := read(w.Mem, ptr, uint64(lay.size), "value"); err != nil {
		return err
	}
	buf := make([]byte, lay.size)
	if err := w.store(ctx, lay, v, buf); err != nil {
		return err
	}
	if !w.Mem.Write(ptr, buf) {
		return errorf("value at %#x (%d bytes) is out of bounds", ptr, lay.size)
	}
	return nil
}

// alloc calls realloc(0, 0, align, size) and checks the block it returns.
func (w *Lowerer) alloc(ctx context.Context, align uint32, size uint64) (uint32, error) {
	return w.realloc(ctx, 0, 0, align, size)
}

// realloc calls realloc(old, oldSize, align, size) and checks the block it
// returns: aligned and in bounds.
func (w *Lowerer) realloc(ctx context.Context, old, oldSize, align uint32, size uint64) (uint32, error) {
	if w.Mem == nil {
		return 0, errorf("no memory")
	}
	if w.Realloc == nil {
		return 0, errorf("no realloc to allocate %d bytes", size)
	}
	if size > math.MaxUint32 {
		return 0, errorf("%d bytes do not fit in a 32-bit memory", size)
	}
	ptr, err := w.Realloc(ctx, old, oldSize, align, uint32(size))
	if err != nil {
		return 0, causef(err, "realloc(%d, %d, %d, %d)", old, oldSize, align, size)
	}
	if ptr&(align-1) != 0 {
		return 0, errorf("realloc(%d, %d, %d, %d) returned %#x, which is not aligned to %d", old, oldSize, align, size, ptr, align)
	}
	if _, err := read(w.Mem, ptr, size, "block returned by realloc"); err != nil {
		return 0, err
	}
	return ptr, nil
}

// checkInt checks that v.Num is in range for the integer, bool, float or
// char kind k and returns the bits to store.
func checkScalar(k wit.Kind, n uint64) (uint64, error) {
	s := int64(n)
	switch k {
	case wit.Bool:
		if n > 1 {
			return 0, errorf("bool must be 0 or 1, got %d", n)
		}
	case wit.U8:
		if n > math.MaxUint8 {
			return 0, errorf("%d out of range for u8", n)
		}
	case wit.U16:
		if n > math.MaxUint16 {
			return 0, errorf("%d out of range for u16", n)
		}
	case wit.U32:
		if n > math.MaxUint32 {
			return 0, errorf("%d out of range for u32", n)
		}
	case wit.S8:
		if s < math.MinInt8 || s > math.MaxInt8 {
			return 0, errorf("%d out of range for s8", s)
		}
	case wit.S16:
		if s < math.MinInt16 || s > math.MaxInt16 {
			return 0, errorf("%d out of range for s16", s)
		}
	case wit.S32:
		if s < math.MinInt32 || s > math.MaxInt32 {
			return 0, errorf("%d out of range for s32", s)
		}
	case wit.F32:
		if n > math.MaxUint32 {
			return 0, errorf("f32 bits %#x do not fit in 32 bits", n)
		}
		return liftF32(uint32(n)), nil // deterministic profile: canonical NaN
	case wit.F64:
		return liftF64(n), nil
	case wit.Char:
		if n > math.MaxUint32 {
			return 0, errorf("char %#x is not a Unicode scalar value", n)
		}
		return liftChar(uint32(n))
	}
	return n, nil
}

// checkShape checks that v has the Elems its layout needs and returns the
// case index for variants.
func checkShape(lay *layout, v *Value) error {
	switch lay.kind {
	case wit.Record, wit.Tuple:
		if len(v.Elems) != len(lay.fields) {
			return errorf("%s has %d fields, value has %d", lay.t, len(lay.fields), len(v.Elems))
		}
	case wit.Variant, wit.Enum, wit.Option, wit.Result:
		if v.Num >= uint64(len(lay.cases)) {
			return errorf("discriminant %d out of range for %s (%d cases)", v.Num, lay.t, len(lay.cases))
		}
		want := 0
		if lay.cases[v.Num] != nil {
			want = 1
		}
		if len(v.Elems) != want {
			return errorf("case %s takes %d payload values, value has %d", lay.names[v.Num], want, len(v.Elems))
		}
	case wit.Flags:
		if v.Num&^flagMask(lay.nflags) != 0 {
			return errorf("flags value %#x sets bits beyond the %d flags", v.Num, lay.nflags)
		}
	case wit.List:
		if lay.bytes && len(v.Elems) != 0 {
			return errorf("list<u8> must be given in Bytes, not Elems")
		}
	}
	return nil
}

func (w *Lowerer) lowerFlat(ctx context.Context, lay *layout, v Value, out []uint64) ([]uint64, error) {
	if err := checkShape(lay, &v); err != nil {
		return out, err
	}
	switch lay.kind {
	case wit.Bool, wit.U8, wit.U16, wit.U32, wit.U64, wit.F32, wit.F64, wit.Char:
		n, err := checkScalar(lay.kind, v.Num)
		if err != nil {
			return out, err
		}
		return append(out, n), nil
	case wit.S8, wit.S16, wit.S32:
		n, err := checkScalar(lay.kind, v.Num)
		if err != nil {
			return out, err
		}
		return append(out, uint64(uint32(n))), nil
	case wit.S64:
		return append(out, v.Num), nil
	case wit.Own, wit.Borrow:
		h, err := w.lowerHandle(lay, v)
		return append(out, uint64(h)), err
	case wit.String:
		ptr, n, err := w.storeString(ctx, v.Str)
		if err != nil {
			return out, err
		}
		return append(out, uint64(ptr), uint64(n)), nil
	case wit.List:
		ptr, n, err := w.storeList(ctx, lay.elem, v)
		if err != nil {
			return out, err
		}
		return append(out, uint64(ptr), uint64(n)), nil
	case wit.Record, wit.Tuple:
		var err error
		for i, f := range lay.fields {
			if out, err = w.lowerFlat(ctx, f.l, v.Elems[i], out); err != nil {
				return out, wrap(err, f.name)
			}
		}
		return out, nil
	case wit.Variant, wit.Enum, wit.Option, wit.Result:
		start := len(out)
		out = append(out, v.Num)
		if pl := lay.cases[v.Num]; pl != nil {
			var err error
			// The payload's flat values fit their joined slots as they
			// are: i32 and f32 bits are zero-extended, f64 bits are i64.
			if out, err = w.lowerFlat(ctx, pl, v.Elems[0], out); err != nil {
				return out, wrap(err, lay.names[v.Num])
			}
		}
		for len(out)-start < len(lay.flat) {
			out = append(out, 0)
		}
		return out, nil
	case wit.Flags:
		for i := range lay.flat {
			out = append(out, uint64(uint32(v.Num>>(32*i))))
		}
		return out, nil
	}
	return out, errorf("unsupported type kind %s", lay.kind)
}

// store writes v into b, which holds lay.size bytes of the value.
func (w *Lowerer) store(ctx context.Context, lay *layout, v Value, b []byte) error {
	if err := checkShape(lay, &v); err != nil {
		return err
	}
	switch lay.kind {
	case wit.Bool, wit.U8, wit.S8, wit.U16, wit.S16, wit.U32, wit.S32, wit.U64, wit.S64, wit.F32, wit.F64, wit.Char:
		n, err := checkScalar(lay.kind, v.Num)
		if err != nil {
			return err
		}
		putN(b, lay.size, n)
	case wit.Own, wit.Borrow:
		h, err := w.lowerHandle(lay, v)
		if err != nil {
			return err
		}
		binary.LittleEndian.PutUint32(b, h)
	case wit.String:
		ptr, n, err := w.storeString(ctx, v.Str)
		if err != nil {
			return err
		}
		binary.LittleEndian.PutUint32(b, ptr)
		binary.LittleEndian.PutUint32(b[4:], n)
	case wit.List:
		ptr, n, err := w.storeList(ctx, lay.elem, v)
		if err != nil {
			return err
		}
		binary.LittleEndian.PutUint32(b, ptr)
		binary.LittleEndian.PutUint32(b[4:], n)
	case wit.Record, wit.Tuple:
		for i := range lay.fields {
			f := &lay.fields[i]
			if err := w.store(ctx, f.l, v.Elems[i], b[f.off:]); err != nil {
				return wrap(err, f.name)
			}
		}
	case wit.Variant, wit.Enum, wit.Option, wit.Result:
		putN(b, lay.discSize, v.Num)
		if pl := lay.cases[v.Num]; pl != nil {
			if err := w.store(ctx, pl, v.Elems[0], b[lay.payloadOff:]); err != nil {
				return wrap(err, lay.names[v.Num])
			}
		}
	case wit.Flags:
		putN(b, lay.size, v.Num)
	default:
		return errorf("unsupported type kind %s", lay.kind)
	}
	return nil
}

// putN stores the low size bytes of n little-endian (size 0, 1, 2, 4 or 8).
func putN(b []byte, size uint32, n uint64) {
	switch size {
	case 1:
		b[0] = byte(n)
	case 2:
		binary.LittleEndian.PutUint16(b, uint16(n))
	case 4:
		binary.LittleEndian.PutUint32(b, uint32(n))
	case 8:
		binary.LittleEndian.PutUint64(b, n)
	}
}

// storeString copies s into a block from realloc(0, 0, 1, len(s)); strings
// in the other encodings go to storeString16.
func (w *Lowerer) storeString(ctx context.Context, s string) (ptr, n uint32, err error) {
	if w.enc != UTF8 {
		return w.storeString16(ctx, s)
	}
	if len(s) > MaxStringByteLength {
		return 0, 0, errorf("string of %d bytes exceeds the limit of %d", len(s), MaxStringByteLength)
	}
	if !utf8.ValidString(s) {
		return 0, 0, errorf("string is not valid UTF-8")
	}
	ptr, err = w.alloc(ctx, 1, uint64(len(s)))
	if err != nil {
		return 0, 0, err
	}
	// Write only reads its argument, so the string's bytes can be lent.
	if !w.Mem.Write(ptr, unsafe.Slice(unsafe.StringData(s), len(s))) {
		return 0, 0, errorf("string at %#x (%d bytes) is out of bounds", ptr, len(s))
	}
	return ptr, uint32(len(s)), nil
}

// storeList stores the list v of element layout el in a block from
// realloc(0, 0, align, n*size).
func (w *Lowerer) storeList(ctx context.Context, el *layout, v Value) (ptr, n uint32, err error) {
	if el.kind == wit.U8 {
		ptr, err = w.alloc(ctx, 1, uint64(len(v.Bytes)))
		if err != nil {
			return 0, 0, err
		}
		if !w.Mem.Write(ptr, v.Bytes) {
			return 0, 0, errorf("list at %#x (%d bytes) is out of bounds", ptr, len(v.Bytes))
		}
		return ptr, uint32(len(v.Bytes)), nil
	}
	total := uint64(len(v.Elems)) * uint64(el.size)
	if total > math.MaxUint32 || uint64(len(v.Elems)) > math.MaxUint32 {
		return 0, 0, errorf("list of %d elements of %d bytes does not fit in a 32-bit memory", len(v.Elems), el.size)
	}
	ptr, err = w.alloc(ctx, el.align, total)
	if err != nil {
		return 0, 0, err
	}
	buf := make([]byte, total)
	for i := range v.Elems {
		if err := w.store(ctx, el, v.Elems[i], buf[uint64(i)*uint64(el.size):]); err != nil {
			return 0, 0, wrapIndex(err, i)
		}
	}
	if !w.Mem.Write(ptr, buf) {
		return 0, 0, errorf("list at %#x (%d bytes) is out of bounds", ptr, total)
	}
	return ptr, uint32(len(v.Elems)), nil
}
