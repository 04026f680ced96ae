package wasmbin

import "fmt"

// External kinds of core imports and exports.
const (
	KindFunc   = 0x00
	KindTable  = 0x01
	KindMemory = 0x02
	KindGlobal = 0x03
	KindTag    = 0x04
)

var kindNames = [...]string{"func", "table", "memory", "global", "tag"}

// KindName names an external kind.
func KindName(k byte) string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind 0x%02x", k)
}

// Value types, and the other type bytes a decoder meets first.
const (
	ValI32     = 0x7f
	ValI64     = 0x7e
	ValF32     = 0x7d
	ValF64     = 0x7c
	ValV128    = 0x7b
	ValFuncRef = 0x70
	ValRefNull = 0x63 // (ref null ht), followed by a heap type
	ValRef     = 0x64 // (ref ht), followed by a heap type
	BlockEmpty = 0x40 // the empty block type
	FuncForm   = 0x60 // starts a function type
)

// IsValType reports whether c starts a value type: a number type, v128, or a
// reference type (the reference-types, typed function references,
// exception-handling and GC shorthands, and the ValRefNull/ValRef forms).
func IsValType(c byte) bool {
	return c >= 0x7b && c <= 0x7f || c >= 0x69 && c <= 0x74 || c == ValRefNull || c == ValRef
}

// SkipValType reads one value type.
func (r *Reader) SkipValType() error {
	at := r.Offset()
	c, err := r.Byte()
	if err != nil {
		return fmt.Errorf("value type: %w", err)
	}
	switch {
	case c == ValRefNull, c == ValRef:
		if _, err := r.S33(); err != nil {
			return fmt.Errorf("heap type: %w", err)
		}
	case IsValType(c):
	default:
		return Errorf(at, "invalid value type %#x", c)
	}
	return nil
}

// SkipValTypes reads a vector of value types and returns its length.
func (r *Reader) SkipValTypes() (uint32, error) {
	n, err := r.U32()
	if err != nil {
		return 0, err
	}
	for i := uint32(0); i < n; i++ {
		if err := r.SkipValType(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// Limits flags.
const (
	limitsHasMax   = 0x01
	limitsShared   = 0x02 // threads
	limitsIs64     = 0x04 // memory64, table64
	limitsPageSize = 0x08 // custom page sizes
)

// Limits is what a decoder needs of table or memory limits.
type Limits struct {
	Is64   bool // 64-bit addresses: the bounds are u64
	Shared bool
}

// Limits reads table or memory limits, including the shared, 64-bit and custom
// page size flags.
func (r *Reader) Limits() (Limits, error) {
	at := r.Offset()
	flags, err := r.Byte()
	if err != nil {
		return Limits{}, err
	}
	if flags > 0x0f {
		return Limits{}, Errorf(at, "invalid limits flags %#x", flags)
	}
	l := Limits{Is64: flags&limitsIs64 != 0, Shared: flags&limitsShared != 0}
	if err := r.bound(l.Is64); err != nil {
		return Limits{}, fmt.Errorf("minimum: %w", err)
	}
	if flags&limitsHasMax != 0 {
		if err := r.bound(l.Is64); err != nil {
			return Limits{}, fmt.Errorf("maximum: %w", err)
		}
	}
	if flags&limitsPageSize != 0 {
		if _, err := r.U32(); err != nil {
			return Limits{}, fmt.Errorf("page size: %w", err)
		}
	}
	return l, nil
}

// bound reads one bound of limits.
func (r *Reader) bound(is64 bool) error {
	if is64 {
		_, err := r.U64()
		return err
	}
	_, err := r.U32()
	return err
}

// ImportDesc is the description of a core import, after its two names.
type ImportDesc struct {
	Kind   byte   // KindFunc, KindTable, ...
	Limits Limits // KindTable and KindMemory
}

// ImportDesc reads the kind and type of a core import.
func (r *Reader) ImportDesc() (ImportDesc, error) {
	at := r.Offset()
	kind, err := r.Byte()
	if err != nil {
		return ImportDesc{}, err
	}
	d := ImportDesc{Kind: kind}
	switch kind {
	case KindFunc:
		err = wrap("function type index", r.skipU32())
	case KindTable:
		if err = wrap("table element type", r.SkipValType()); err == nil {
			d.Limits, err = r.Limits()
			err = wrap("table limits", err)
		}
	case KindMemory:
		d.Limits, err = r.Limits()
		err = wrap("memory limits", err)
	case KindGlobal:
		err = r.skipGlobalType()
	case KindTag:
		if _, err = r.Byte(); err != nil {
			err = wrap("tag attribute", err)
		} else {
			err = wrap("tag type index", r.skipU32())
		}
	default:
		err = Errorf(at, "unknown import kind %#x", kind)
	}
	return d, err
}

// skipGlobalType reads a global type: a value type and a mutability byte.
func (r *Reader) skipGlobalType() error {
	if err := r.SkipValType(); err != nil {
		return fmt.Errorf("global type: %w", err)
	}
	at := r.Offset()
	mut, err := r.Byte()
	if err != nil {
		return err
	}
	if mut > 1 {
		return Errorf(at, "invalid global mutability %#x", mut)
	}
	return nil
}

func (r *Reader) skipU32() error {
	_, err := r.U32()
	return err
}

// wrap prefixes err with what, or returns nil.
func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
