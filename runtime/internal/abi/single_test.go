package abi

import (
	"github.com/tetratelabs/wazero/api"

	"github.com/chiphost/chiphost/wit"
)

// Single-value lifting, sizes and flattenings, for the tests: the runtime
// lifts and lowers whole signatures (LiftResult, LowerParams), so these live
// in a test file.

// SizeAlign returns the canonical-ABI size (elem_size: the stride of the
// type in a list) and alignment of t, in bytes. A malformed type (a nil
// element, a variant without cases, more than 64 flags) yields (0, 1).
func SizeAlign(t *wit.Type) (size, align uint32) {
	var c layoutCache
	l, err := c.get(t)
	if err != nil {
		return 0, 1
	}
	return l.size, l.align
}

// Flatten returns the canonical flattening of t: the core value types that
// carry it as parameters or results. Variants flatten to an i32
// discriminant followed by the element-wise join of their cases (i32 and f32
// join to i32, anything else that differs to i64). A malformed type yields
// nil. The returned slice is the caller's.
func Flatten(t *wit.Type) []api.ValueType {
	var c layoutCache
	l, err := c.get(t)
	if err != nil {
		return nil
	}
	return append([]api.ValueType(nil), l.flat...)
}

// LiftFlat lifts one value of type t from its flat core values (as wazero
// passes them: i32 and f32 in the low 32 bits). flat must hold exactly
// len(Flatten(t)) values.
func (l *Lifter) LiftFlat(mem Memory, t *wit.Type, flat []uint64) (Value, error) {
	lay, err := l.layouts.get(t)
	if err != nil {
		return Value{}, err
	}
	if len(flat) != len(lay.flat) {
		return Value{}, errorf("%s takes %d core values, got %d", t, len(lay.flat), len(flat))
	}
	return l.liftFlat(mem, lay, flat)
}

// LiftFrom lifts one value of type t stored in guest memory at ptr.
func (l *Lifter) LiftFrom(mem Memory, t *wit.Type, ptr uint32) (Value, error) {
	lay, err := l.layouts.get(t)
	if err != nil {
		return Value{}, err
	}
	return l.liftFrom(mem, lay, ptr)
}
