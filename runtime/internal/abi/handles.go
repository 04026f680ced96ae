package abi

import "github.com/chiphost/chiphost/wit"

// Handles connects lifting and lowering to the caller's resource handle
// tables (one set per component instance, see [Tables]). A handle value's
// Value.Num is the resource's representation on the host side (rep), and
// the handle index on the guest side.
type Handles interface {
	// LiftHandle resolves handle h, of the guest's table for resource res,
	// that the guest passes to the host. An own handle leaves the guest's
	// table: the host owns the resource from now on. A borrow handle stays;
	// an owning handle lent this way cannot be dropped until EndCall.
	LiftHandle(res *wit.Type, own bool, h uint32) (rep uint32, err error)
	// LowerHandle gives the guest a new own handle for rep. Lowering a
	// borrow (returning one from an import) is an error.
	LowerHandle(res *wit.Type, own bool, rep uint32) (h uint32, err error)
}

// liftHandle lifts the handle value n of layout lay.
func (l *Lifter) liftHandle(lay *layout, n uint32) (uint64, error) {
	if l.Handles == nil {
		return 0, errorf("%s: no handle tables to resolve handle %d", lay.t, n)
	}
	rep, err := l.Handles.LiftHandle(lay.t.Elem, lay.kind == wit.Own, n)
	return uint64(rep), err
}

// lowerHandle lowers the handle value v (a rep) of layout lay.
func (w *Lowerer) lowerHandle(lay *layout, v Value) (uint32, error) {
	if w.Handles == nil {
		return 0, errorf("%s: no handle tables to lower rep %d", lay.t, v.Num)
	}
	if v.Num > 0xffffffff {
		return 0, errorf("%s: rep %d out of range", lay.t, v.Num)
	}
	return w.Handles.LowerHandle(lay.t.Elem, lay.kind == wit.Own, uint32(v.Num))
}
