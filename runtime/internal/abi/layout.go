package abi

import (
	"strconv"

	"github.com/chiphost/chiphost/wit"
	"github.com/tetratelabs/wazero/api"
)

// Limits of the types this package accepts (the types come from the host's
// WIT, so exceeding them is a host bug, reported as an *Error).
const (
	// maxTypeDepth bounds the nesting of a type; it also stops a cyclic
	// *wit.Type built by hand from recursing forever.
	maxTypeDepth = 100
	// maxFlags is the number of flags a Value.Num can hold.
	maxFlags = 64
)

// layout is the precomputed canonical-ABI layout of one type. Layouts are
// immutable once built and cached per *wit.Type by a layoutCache.
type layout struct {
	t     *wit.Type
	kind  wit.Kind
	size  uint32 // elem_size in the canonical ABI
	align uint32
	flat  []api.ValueType

	// List, Option: the element (payload) layout. bytes marks list<u8>.
	elem  *layout
	bytes bool

	// Record, Tuple: fields in order with their offsets; names are the field
	// names (tuple fields are numbered) used in error paths.
	fields []fieldLayout

	// Variant, Enum, Option, Result: the payload layout of each case (nil
	// when the case has none), the case names used in paths and JSON, the
	// discriminant size in bytes and the payload offset.
	cases      []*layout
	names      []string
	discSize   uint32
	payloadOff uint32

	// Flags: the number of flags.
	nflags int
}

type fieldLayout struct {
	name string
	off  uint32
	l    *layout
}

// layoutCache maps types to their layouts. Types are immutable, so an entry
// never goes stale; the cache belongs to one Lifter or Lowerer and is not
// safe for concurrent use.
type layoutCache map[*wit.Type]*layout

func (c *layoutCache) get(t *wit.Type) (*layout, error) {
	if l, ok := (*c)[t]; ok && t != nil {
		return l, nil
	}
	if *c == nil {
		*c = make(layoutCache)
	}
	return c.build(t, 0)
}

func alignTo(n, a uint32) uint32 { return (n + a - 1) &^ (a - 1) }

func (c layoutCache) build(t *wit.Type, depth int) (*layout, error) {
	if t == nil {
		return nil, errorf("missing type")
	}
	if l, ok := c[t]; ok {
		return l, nil
	}
	if depth > maxTypeDepth {
		return nil, errorf("type nested more than %d deep", maxTypeDepth)
	}
	l := &layout{t: t, kind: t.Kind}
	switch t.Kind {
	case wit.Bool, wit.U8, wit.S8:
		l.size, l.align, l.flat = 1, 1, flatI32
	case wit.U16, wit.S16:
		l.size, l.align, l.flat = 2, 2, flatI32
	case wit.U32, wit.S32, wit.Char:
		l.size, l.align, l.flat = 4, 4, flatI32
	case wit.U64, wit.S64:
		l.size, l.align, l.flat = 8, 8, flatI64
	case wit.F32:
		l.size, l.align, l.flat = 4, 4, flatF32
	case wit.F64:
		l.size, l.align, l.flat = 8, 8, flatF64
	case wit.String:
		l.size, l.align, l.flat = 8, 4, flatPtrLen
	case wit.Own, wit.Borrow:
		if t.Elem == nil || t.Elem.Kind != wit.Resource {
			return nil, errorf("%s handle to a %s, not a resource", t.Kind, t.Elem)
		}
		l.size, l.align, l.flat = 4, 4, flatI32
	case wit.List:
		e, err := c.build(t.Elem, depth+1)
		if err != nil {
			return nil, wrap(err, "list element")
		}
		l.elem, l.bytes = e, e.kind == wit.U8
		l.size, l.align, l.flat = 8, 4, flatPtrLen
	case wit.Record, wit.Tuple:
		if err := c.buildRecord(l, depth); err != nil {
			return nil, err
		}
	case wit.Variant, wit.Enum, wit.Option, wit.Result:
		if err := c.buildVariant(l, depth); err != nil {
			return nil, err
		}
	case wit.Flags:
		n := len(t.Flags)
		if n > maxFlags {
			return nil, errorf("flags with %d members (at most %d supported)", n, maxFlags)
		}
		l.nflags = n
		switch {
		case n == 0:
			l.size, l.align = 0, 1
		case n <= 8:
			l.size, l.align = 1, 1
		case n <= 16:
			l.size, l.align = 2, 2
		default:
			l.size, l.align = 4*uint32((n+31)/32), 4
		}
		for i := 0; i < (n+31)/32; i++ {
			l.flat = append(l.flat, api.ValueTypeI32)
		}
	default:
		return nil, errorf("unsupported type kind %s", t.Kind)
	}
	c[t] = l
	return l, nil
}

var (
	flatI32    = []api.ValueType{api.ValueTypeI32}
	flatI64    = []api.ValueType{api.ValueTypeI64}
	flatF32    = []api.ValueType{api.ValueTypeF32}
	flatF64    = []api.ValueType{api.ValueTypeF64}
	flatPtrLen = []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}
)

func (c layoutCache) buildRecord(l *layout, depth int) error {
	t := l.t
	var off uint64
	l.align = 1
	l.fields = make([]fieldLayout, len(t.Fields))
	for i, f := range t.Fields {
		name := f.Name
		if t.Kind == wit.Tuple || name == "" {
			name = strconv.Itoa(i)
		}
		fl, err := c.build(f.Type, depth+1)
		if err != nil {
			return wrap(err, name)
		}
		off = uint64(alignTo(uint32(off), fl.align)) + uint64(fl.size)
		if off >= 1<<31 {
			return errorf("%s is larger than 2 GiB", t)
		}
		l.fields[i] = fieldLayout{name: name, off: uint32(off) - fl.size, l: fl}
		l.align = max(l.align, fl.align)
		l.flat = append(l.flat, fl.flat...)
	}
	l.size = alignTo(uint32(off), l.align)
	return nil
}

func (c layoutCache) buildVariant(l *layout, depth int) error {
	t := l.t
	var payloads []*wit.Type
	switch t.Kind {
	case wit.Option:
		if t.Elem == nil {
			return errorf("option without element type")
		}
		payloads, l.names = []*wit.Type{nil, t.Elem}, []string{"none", "some"}
	case wit.Result:
		payloads, l.names = []*wit.Type{t.Ok, t.Err}, []string{"ok", "err"}
	default:
		if len(t.Cases) == 0 {
			return errorf("%s without cases", t.Kind)
		}
		for _, cs := range t.Cases {
			if t.Kind == wit.Enum && cs.Type != nil {
				return errorf("enum case %s has a payload", cs.Name)
			}
			payloads = append(payloads, cs.Type)
			l.names = append(l.names, cs.Name)
		}
	}
	n := len(payloads)
	switch {
	case n <= 1<<8:
		l.discSize = 1
	case n <= 1<<16:
		l.discSize = 2
	default:
		l.discSize = 4
	}
	maxAlign, maxSize := uint32(1), uint32(0)
	var joined []api.ValueType
	l.cases = make([]*layout, n)
	for i, p := range payloads {
		if p == nil {
			continue
		}
		pl, err := c.build(p, depth+1)
		if err != nil {
			return wrap(err, l.names[i])
		}
		l.cases[i] = pl
		maxAlign, maxSize = max(maxAlign, pl.align), max(maxSize, pl.size)
		for j, ft := range pl.flat {
			if j < len(joined) {
				joined[j] = join(joined[j], ft)
			} else {
				joined = append(joined, ft)
			}
		}
	}
	l.align = max(l.discSize, maxAlign)
	l.payloadOff = alignTo(l.discSize, maxAlign)
	if uint64(l.payloadOff)+uint64(maxSize) >= 1<<31 {
		return errorf("%s is larger than 2 GiB", t)
	}
	l.size = alignTo(l.payloadOff+maxSize, l.align)
	l.flat = append([]api.ValueType{api.ValueTypeI32}, joined...)
	return nil
}

// join is the canonical ABI's join of two flat types in a variant.
func join(a, b api.ValueType) api.ValueType {
	switch {
	case a == b:
		return a
	case (a == api.ValueTypeI32 && b == api.ValueTypeF32) || (a == api.ValueTypeF32 && b == api.ValueTypeI32):
		return api.ValueTypeI32
	}
	return api.ValueTypeI64
}
